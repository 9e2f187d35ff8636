"""`/api/v1/tokens`: API tokens, admin only. A new token is shown once, in the creation's
answer; the store keeps its SHA-256 hash."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from srekit.api.deps import Admin, StateDep
from srekit.api.responses import AUTH_ERRORS, READ_ERRORS, WRITE_ERRORS
from srekit.api.schemas.base import StoredName
from srekit.api.schemas.tokens import TokenCreate, TokenCreatedOut, TokenOut
from srekit.contracts import token_document

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


@router.get("", response_model=list[TokenOut], responses=AUTH_ERRORS)
def list_tokens(
    state: StateDep,
    principal: Admin,
    include_revoked: Annotated[bool, Query(description="list revoked tokens too")] = False,
) -> list[TokenOut]:
    from srekit.store.repo import list_tokens

    with state.session(read_only=True) as session:
        return [
            TokenOut.model_validate(token_document(row))
            for row in list_tokens(session, include_revoked=include_revoked)
        ]


@router.post("", response_model=TokenCreatedOut, status_code=201, responses=WRITE_ERRORS)
def create_token(body: TokenCreate, state: StateDep, principal: Admin) -> TokenCreatedOut:
    """A new token; `token` in the answer is the only time it is shown."""
    from srekit.store.repo import create_token

    with state.session() as session:
        row, token = create_token(session, role=body.role, name=body.name, actor=principal.name)
        document = TokenCreatedOut.model_validate({**token_document(row), "token": token})
    return document


@router.delete("/{name}", status_code=204, responses=READ_ERRORS)
def revoke_token(name: StoredName, state: StateDep, principal: Admin) -> Response:
    """Revoke the token: it stops working at once on this server (within seconds on others,
    whose token caches expire)."""
    from srekit.store.repo import revoke_token

    with state.session() as session:
        revoke_token(session, name=name, actor=principal.name)
    state.forget_tokens()
    return Response(status_code=204)

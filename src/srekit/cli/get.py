"""`srekit get KIND [NAME]`: what the state store (or, with --server, a running srekit) holds,
as `kubectl get` shows it.

KIND is `slo`, `policy` or `routing`, in any case, singular or plural (`alertrouting` too).
The table lists names, versions and a few settings; `--format json|yaml` prints the srekit/v1
documents themselves (YAML as one document after another), which `srekit apply -f` takes back
as they are. While no alert routing named `default` is stored, the built-in one is in force:
it is listed and shown as such.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from srekit.cli.help import examples
from srekit.cli.options import (
    OutputFormat,
    abort,
    choice,
    console,
    errors_to_exit_codes,
    percent,
    plain_table,
    print_json,
)
from srekit.cli.remote import ServerOption, server_object, server_rows
from srekit.cli.store_common import store_session
from srekit.errors import NotFound, SrekitError

if TYPE_CHECKING:
    from srekit.core.routing import AlertRouting

__all__ = ["EXAMPLES", "Kind", "get"]

EXAMPLES = examples(
    "srekit get slos",
    "srekit get slo checkout/availability --format yaml",
    "srekit get policies",
    "srekit get routing default --format yaml",
    "srekit get rotations",
)


class Kind(StrEnum):
    SLO = "slo"
    POLICY = "policy"
    ROUTING = "routing"
    ROTATION = "rotation"


_KINDS = {
    "slo": Kind.SLO,
    "slos": Kind.SLO,
    "policy": Kind.POLICY,
    "policies": Kind.POLICY,
    "routing": Kind.ROUTING,
    "routings": Kind.ROUTING,
    "alertrouting": Kind.ROUTING,
    "alertroutings": Kind.ROUTING,
    "rotation": Kind.ROTATION,
    "rotations": Kind.ROTATION,
}


def _kind(value: str) -> Kind:
    kind = _KINDS.get(value.lower())
    if kind is None:
        raise typer.BadParameter(
            "expected slo(s), policy/policies, routing(s)/alertrouting or rotation(s),"
            f" got {value!r}"
        )
    return kind


@dataclass(frozen=True)
class _Item:
    """One thing of a kind: its row in the table, and its srekit/v1 document."""

    row: dict[str, str]
    document: dict[str, Any]


# `-o` as well, as kubectl spells it
_FormatOption = Annotated[
    OutputFormat,
    choice(OutputFormat, "--format", "-o", metavar="FORMAT", help="output: {choices}"),
]

_COLUMNS = {
    Kind.SLO: ("service", "slo", "team", "objective", "window", "version", "format", "updated"),
    Kind.POLICY: ("name", "version", "levels", "no data", "updated"),
    Kind.ROUTING: ("name", "version", "routes", "service label", "on resolved", "updated"),
    Kind.ROTATION: ("name", "version", "team", "timezone", "layers", "effective from"),
}
_FOLDED = {Kind.SLO: "window", Kind.POLICY: "levels", Kind.ROUTING: None, Kind.ROTATION: "layers"}


def get(
    ctx: typer.Context,
    kind: Annotated[
        Kind,
        typer.Argument(
            metavar="KIND",
            parser=_kind,
            help="slo(s), policy/policies, routing(s)/alertrouting or rotation(s), in any case",
            show_default=False,
        ),
    ],
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="NAME",
            help="only this one (an SLO as SERVICE/NAME); all when left out",
            show_default=False,
        ),
    ] = None,
    output: _FormatOption = OutputFormat.TABLE,
    server: ServerOption = None,
) -> None:
    """Show the SLOs, policies or alert routings in the state store (with --server, those a
    running srekit stores, read with the token in SREKIT_TOKEN). As JSON or YAML, their
    srekit/v1 documents, which `srekit apply -f` takes back."""
    with errors_to_exit_codes():
        items = _SERVED[kind](server, name) if server else _STORED[kind](ctx, name)
    if output is OutputFormat.TABLE:
        table = plain_table(*_COLUMNS[kind], fold=_FOLDED[kind])
        for item in items:
            table.add_row(*(item.row[column] for column in _COLUMNS[kind]))
        console.print(table)
        return
    documents = [item.document for item in items]
    shown: Any = documents[0] if name is not None else documents
    if output is OutputFormat.JSON:
        print_json(shown)
        return
    import yaml

    typer.echo(
        yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True) if documents else "",
        nl=False,
    )


def _segment(name: str) -> str:
    """`name` as one URL path segment, whatever it holds."""
    from urllib.parse import quote

    return quote(name, safe="")


# --- SLOs ---------------------------------------------------------------------------------


def _slo_row(row: dict[str, Any]) -> dict[str, str]:
    return {
        "service": str(row["service"]),
        "slo": str(row["slo"]),
        "team": str(row["team"] or "-"),
        "objective": percent(float(row["objective"])),
        "window": str(row["window"]),
        "version": str(row["version"]),
        "format": str(row["source_format"] or "-"),
        "updated": str(row["updated_at"]),
    }


def _slo_key(name: str | None) -> tuple[str | None, str | None]:
    from srekit.store.repo import split_slo_key

    return (None, None) if name is None else split_slo_key(name)


def _stored_slos(ctx: typer.Context, name: str | None) -> list[_Item]:
    from srekit.cli.slo import summary_row
    from srekit.spec.native import slo_document
    from srekit.store.repo import get_slo, list_slos

    service, slo = _slo_key(name)
    with store_session(ctx, read_only=True) as session:
        if service is not None and slo is not None:
            rows = [get_slo(session, service=service, name=slo)]  # NotFound when absent
        else:
            rows = list_slos(session)
        return [_Item(_slo_row(summary_row(row)), slo_document(row.to_slo())) for row in rows]


def _served_slos(server: str, name: str | None) -> list[_Item]:
    from srekit.cli.slo import STORED_FIELDS, served_slo

    service, slo = _slo_key(name)
    if service is not None and slo is not None:
        served_slo(server, service, slo)  # the server's own 404 when it stores no such SLO
    params = {"service": service} if service else None
    rows = [
        row
        for row in server_rows(server, "/api/v1/slos", params, STORED_FIELDS)
        if slo is None or row["slo"] == slo
    ]
    return [
        _Item(_slo_row(row), served_slo(server, str(row["service"]), str(row["slo"]))["document"])
        for row in rows
    ]


# --- policies -----------------------------------------------------------------------------


def _policy_item(
    name: str, version: object, updated_at: object, spec: dict[str, Any], *, server: str | None
) -> _Item:
    from pydantic import ValidationError

    from srekit.spec.model import NO_INTAKE_BOUNDS, PolicySpec
    from srekit.spec.native import policy_document

    fields = {key: value for key, value in spec.items() if key != "name"}
    try:
        policy = PolicySpec.model_validate(fields, context=NO_INTAKE_BOUNDS).to_policy(name)
    except (ValidationError, SrekitError) as error:
        if server is None:
            raise
        abort(f"srekit at {server} answered a policy srekit cannot read: {error}", 3)
    row = {
        "name": name,
        "version": str(version),
        "levels": ", ".join(level.state for level in policy.levels),
        "no data": policy.no_data.value,
        "updated": str(updated_at),
    }
    return _Item(row, policy_document(policy))


def _stored_policies(ctx: typer.Context, name: str | None) -> list[_Item]:
    from srekit.core.instant import format_instant
    from srekit.store.repo import get_policy, list_policies

    with store_session(ctx, read_only=True) as session:
        rows = [get_policy(session, name=name)] if name is not None else list_policies(session)
        return [
            _policy_item(
                row.name, row.version, format_instant(row.updated_at), row.spec(), server=None
            )
            for row in rows
        ]


_POLICY_FIELDS = frozenset({"name", "version", "updated_at", "spec"})


def _served_policies(server: str, name: str | None) -> list[_Item]:
    if name is not None:
        answers = [server_object(server, f"/api/v1/policies/{_segment(name)}", _POLICY_FIELDS)]
    else:
        answers = server_rows(server, "/api/v1/policies", None, _POLICY_FIELDS)
    return [
        _policy_item(
            str(answer["name"]),
            answer["version"],
            answer["updated_at"],
            dict(answer["spec"]),
            server=server,
        )
        for answer in answers
    ]


# --- alert routings -----------------------------------------------------------------------


def _routing_item(routing: AlertRouting, *, version: object, updated_at: object) -> _Item:
    from srekit.spec.routing import routing_document

    built_in = version is None
    row = {
        "name": routing.name,
        "version": "-" if built_in else str(version),
        "routes": str(len(routing.routes)),
        "service label": routing.service_label,
        "on resolved": routing.on_resolved.value,
        "updated": "built-in" if built_in else str(updated_at),
    }
    return _Item(row, routing_document(routing))


def _stored_routings(ctx: typer.Context, name: str | None) -> list[_Item]:
    from srekit.core.instant import format_instant
    from srekit.core.routing import DEFAULT_ROUTING
    from srekit.store.repo import find_routing, list_routings, routing_of

    with store_session(ctx, read_only=True) as session:
        if name is not None:
            found = find_routing(session, name=name)
            rows = [] if found is None else [found]
        else:
            rows = list_routings(session)
        items = [
            _routing_item(
                routing_of(row), version=row.version, updated_at=format_instant(row.updated_at)
            )
            for row in rows
        ]
    wanted = name is None or name == DEFAULT_ROUTING.name
    if wanted and all(item.row["name"] != DEFAULT_ROUTING.name for item in items):
        items.append(_routing_item(DEFAULT_ROUTING, version=None, updated_at=None))
    if name is not None and not items:
        raise NotFound(f"no alert routing {name!r} in the store")
    return sorted(items, key=lambda item: item.row["name"])


_ROUTING_FIELDS = frozenset({"name", "built_in", "version", "updated_at", "document"})


def _served_routings(server: str, name: str | None) -> list[_Item]:
    from pydantic import ValidationError

    from srekit.spec.model import NO_INTAKE_BOUNDS
    from srekit.spec.routing import AlertRoutingDocument

    if name is not None:
        answers = [server_object(server, f"/api/v1/routings/{_segment(name)}", _ROUTING_FIELDS)]
    else:
        answers = server_rows(server, "/api/v1/routings", None, _ROUTING_FIELDS)
    items = []
    for answer in answers:
        try:
            document = AlertRoutingDocument.model_validate(
                answer["document"], context=NO_INTAKE_BOUNDS
            )
        except ValidationError as error:
            abort(f"srekit at {server} answered a routing srekit cannot read: {error}", 3)
        version = None if answer["built_in"] else answer["version"]
        items.append(
            _routing_item(document.to_routing(), version=version, updated_at=answer["updated_at"])
        )
    return items


# --- on-call rotations --------------------------------------------------------------------


def _rotation_item(document: dict[str, Any], *, version: object) -> _Item:
    spec = document["spec"]
    row = {
        "name": str(document["metadata"]["name"]),
        "version": str(version),
        "team": str(spec.get("team") or "-"),
        "timezone": str(spec["timezone"]),
        "layers": ", ".join(str(layer["name"]) for layer in spec["layers"]),
        "effective from": str(spec.get("effective_from") or "-"),
    }
    return _Item(row, document)


def _stored_rotations(ctx: typer.Context, name: str | None) -> list[_Item]:
    from srekit.spec.rotation import rotation_document
    from srekit.store.repo import get_rotation, list_rotations, rotation_of

    with store_session(ctx, read_only=True) as session:
        rows = [get_rotation(session, name=name)] if name is not None else list_rotations(session)
        return [
            _rotation_item(
                rotation_document(rotation_of(row), effective_from=row.effective_from),
                version=row.version,
            )
            for row in rows
        ]


_ROTATION_FIELDS = frozenset({"name", "version", "document"})


def _served_rotations(server: str, name: str | None) -> list[_Item]:
    from pydantic import ValidationError

    from srekit.spec.rotation import RotationDocument

    path = "/api/v1/oncall/rotations"
    if name is not None:
        answers = [server_object(server, f"{path}/{_segment(name)}", _ROTATION_FIELDS)]
    else:
        answers = server_rows(server, path, None, _ROTATION_FIELDS)
    items = []
    for answer in answers:
        try:
            RotationDocument.model_validate(answer["document"])
        except ValidationError as error:
            abort(f"srekit at {server} answered a rotation srekit cannot read: {error}", 3)
        items.append(_rotation_item(dict(answer["document"]), version=answer["version"]))
    return items


_STORED: dict[Kind, Callable[[typer.Context, str | None], list[_Item]]] = {
    Kind.SLO: _stored_slos,
    Kind.POLICY: _stored_policies,
    Kind.ROUTING: _stored_routings,
    Kind.ROTATION: _stored_rotations,
}
_SERVED: dict[Kind, Callable[[str, str | None], list[_Item]]] = {
    Kind.SLO: _served_slos,
    Kind.POLICY: _served_policies,
    Kind.ROUTING: _served_routings,
    Kind.ROTATION: _served_rotations,
}

"""Which role may do what: the grants table, checked in full."""

from __future__ import annotations

import pytest

from srekit.core.access import ROLE_NAMES, Role, grants

# held -> what it may do, written out by hand from the roles' documentation
_EXPECTED = {
    Role.VIEWER: {Role.VIEWER},
    Role.EDITOR: {Role.VIEWER, Role.EDITOR},
    Role.ADMIN: {Role.VIEWER, Role.EDITOR, Role.ADMIN, Role.DEPLOY, Role.INGEST},
    Role.DEPLOY: {Role.DEPLOY},
    Role.INGEST: {Role.INGEST},
}


@pytest.mark.parametrize("held", list(Role))
@pytest.mark.parametrize("needed", list(Role))
def test_grants_matrix(held: Role, needed: Role) -> None:
    assert grants(held, needed) is (needed in _EXPECTED[held])


def test_role_names_are_the_wire_values() -> None:
    assert ROLE_NAMES == ("viewer", "editor", "admin", "deploy", "ingest")
    assert [Role(name) for name in ROLE_NAMES] == list(Role)

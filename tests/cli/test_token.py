"""`srekit token create|list|revoke` through CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from srekit.cli.main import app

runner = CliRunner()


def test_token_create_list_revoke(tmp_path: Path) -> None:
    env = {"SREKIT_HOME": str(tmp_path), "SREKIT_ACTOR": "ci", "SREKIT_DATABASE_URL": ""}
    created = runner.invoke(
        app, ["token", "create", "--role", "deploy", "--name", "argo", "--format", "json"], env=env
    )
    assert created.exit_code == 0, created.output
    document = json.loads(created.stdout)
    assert document["token"].startswith("srk_")
    assert (document["name"], document["role"], document["created_by"]) == ("argo", "deploy", "ci")
    plain = runner.invoke(app, ["token", "create", "--role", "viewer"], env=env)
    assert plain.exit_code == 0
    assert plain.stdout.strip().splitlines()[-1].startswith("srk_")
    listed = json.loads(runner.invoke(app, ["token", "list", "--format", "json"], env=env).stdout)
    assert sorted(t["role"] for t in listed) == ["deploy", "viewer"]
    assert all("token" not in t for t in listed)
    revoked = runner.invoke(app, ["token", "revoke", "argo"], env=env)
    assert revoked.exit_code == 0
    # a server in another process caches look-ups: say when the revocation reaches it
    assert "a running server stops accepting it within 10 s" in " ".join(revoked.stdout.split())
    again = runner.invoke(app, ["token", "revoke", "argo"], env=env)
    assert again.exit_code == 2
    assert "no active token 'argo'" in again.output
    bad = runner.invoke(app, ["token", "create", "--role", "root"], env=env)
    assert bad.exit_code == 2

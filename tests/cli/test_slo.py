"""`srekit slo validate|list` on spec files, and `slo apply|show|delete|list --stored` against
the state store on both engines (with the audit entries a delete leaves)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import EXAMPLES, Cli, run


def test_validate_examples() -> None:
    code, out, _ = run("slo", "validate", "-f", EXAMPLES / "slos", "-f", EXAMPLES / "prometheus")
    assert code == 0
    assert "6 SLO(s) for 3 service(s) in 3 file(s), 1 policy" in " ".join(out.split())


def test_validate_bad_input_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: srekit/v1\nkind: SLO\nservice: a\nname: b\nobjective: 1.5\n"
        "indicator: {events: {good: 'true'}}\n"
    )
    code, _, err = run("slo", "validate", "-f", bad)
    assert code == 2
    assert f"{bad}: objective: expected a fraction" in err
    assert "Traceback" not in err
    code, _, err = run("slo", "validate")
    assert code == 2
    assert "--file" in err


def test_validate_and_apply_refuse_bad_predicates_naming_the_field(tmp_path: Path) -> None:
    """Checked without an event store: SREKIT_HOME holds nothing."""
    home = tmp_path / "home"
    env = {"SREKIT_HOME": str(home), "SREKIT_ACTOR": "ci"}
    for predicate, message in (
        ("getenv('HOME') = ''", "getenv() is not allowed"),
        ("status; SELECT 1", "single expression"),
        ("status", "expected a boolean"),
    ):
        bad = tmp_path / "bad.yaml"
        bad.write_text(
            "apiVersion: srekit/v1\nkind: SLO\nservice: a\nname: b\nobjective: 99%\n"
            f"indicator: {{events: {{good: 'true', total: {json.dumps(predicate)}}}}}\n"
        )
        for command in ("validate", "apply"):
            code, _, err = run("slo", command, "-f", bad, env=env)
            assert code == 2, err
            flat = " ".join(err.split())
            assert f"{bad}: indicator.total:" in flat
            assert message in flat
            assert "Traceback" not in err
    assert not (home / "events").exists()
    code, out, _ = run("slo", "list", "--stored", "--format", "json", env=env)
    assert (code, json.loads(out)) == (0, [])


def test_list_json() -> None:
    code, out, _ = run("slo", "list", "-f", EXAMPLES / "prometheus", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["service"], r["slo"], r["objective"]) for r in rows] == [
        ("api", "availability", 0.999),
        ("api", "latency", 0.99),
    ]
    # indicators in the words of srekit/v1, not class names
    assert [r["indicator"] for r in rows] == ["ratio", "latency"]


def test_list_table_cuts_no_file_name() -> None:
    code, out, _ = run("slo", "list", "-f", EXAMPLES / "slos")
    assert code == 0
    assert "…" not in out
    assert "EventsRatio" not in out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "".join(out.split()).count("examples/slos/checkout.yaml") == 2


def test_a_server_database_must_be_upgraded_first(cli: Cli, specs: Path) -> None:
    code, _, err = cli("slo", "apply", "-f", specs)
    if cli.env["SREKIT_DATABASE_URL"].startswith("sqlite"):
        assert code == 0  # a local SQLite file is migrated on first use
    else:
        assert code == 2
        assert "run `srekit db upgrade`" in " ".join(err.split())


def test_apply_reports_created_updated_unchanged(cli: Cli, specs: Path) -> None:
    cli("db", "upgrade")
    code, out, _ = cli("slo", "apply", "-f", specs)
    assert code == 0
    lines = out.splitlines()
    assert "created policy payments (version 1)" in lines
    assert "created checkout/availability (version 1)" in lines
    assert len(lines) == 5

    checkout = specs / "checkout.yaml"
    checkout.write_text(checkout.read_text().replace("objective: 99.5%", "objective: 99.9%"))
    document = cli.json("slo", "apply", "-f", specs, "--actor", "alice")
    assert document["actor"] == "alice"
    by_name = {item["slo"]: item for item in document["slos"]}
    assert by_name["checkout/availability"] == {
        "slo": "checkout/availability",
        "result": "updated",
        "version": 2,
        "changes": ["objective: 0.995 → 0.999"],
    }
    assert by_name["catalog/availability"]["result"] == "unchanged"
    assert document["policies"][0]["result"] == "unchanged"


def test_show_gives_the_spec_and_its_history(cli: Cli, specs: Path) -> None:
    cli("db", "upgrade")
    cli("slo", "apply", "-f", specs)
    checkout = specs / "checkout.yaml"
    checkout.write_text(checkout.read_text().replace("objective: 99.5%", "objective: 99.9%"))
    cli("slo", "apply", "-f", specs, "--actor", "alice")

    shown = cli.json("slo", "show", "checkout/availability")
    assert shown["team"] == "team-payments"
    assert shown["version"] == 2
    assert shown["source_format"] == "srekit/v1"
    assert shown["source_file"] == str(checkout)
    assert shown["spec"]["objective"] == 0.999
    assert [(v["version"], v["applied_by"], v["changes"]) for v in shown["versions"]] == [
        (1, "ci", ["created"]),
        (2, "alice", ["objective: 0.995 → 0.999"]),
    ]
    assert shown["versions"][0]["spec"]["objective"] == 0.995

    code, out, _ = cli("slo", "show", "checkout/availability")
    assert code == 0
    assert "checkout/availability version 2 · team team-payments · srekit/v1" in out
    assert "objective: 0.995 → 0.999" in out
    # the spec as srekit/v1 is written: what the user applied, not the stored form
    assert "objective: 99.9%\nwindow: 7d\nindicator:\n  events:\n    good: status < 500" in out
    assert "duration_s" not in out
    assert shown["document"]["objective"] == "99.9%"
    code, normalized, _ = cli("slo", "show", "checkout/availability", "--normalized")
    assert code == 0
    assert "objective: 0.999" in normalized
    assert "duration_s: 604800" in normalized
    code, out, _ = cli("slo", "show", "checkout/availability", "--format", "yaml")
    assert "applied_by: alice" in out

    code, _, err = cli("slo", "show", "checkout/nope")
    assert code == 2
    assert "no SLO checkout/nope in the store" in err
    assert cli("slo", "show", "checkout")[0] == 2


def test_list_stored(cli: Cli, specs: Path) -> None:
    cli("db", "upgrade")
    cli("slo", "apply", "-f", specs)
    rows = cli.json("slo", "list", "--stored")
    assert [(r["service"], r["slo"], r["window"]) for r in rows] == [
        ("catalog", "availability", "week (Europe/Paris)"),
        ("catalog", "good-minutes", "7d"),
        ("checkout", "availability", "7d"),
        ("checkout", "latency", "7d"),
    ]
    assert rows[0]["team"] == "team-catalog"
    assert [r["slo"] for r in cli.json("slo", "list", "--stored", "--service", "checkout")] == [
        "availability",
        "latency",
    ]
    code, out, _ = cli("slo", "list", "--stored")
    assert code == 0
    assert "99.5%" in out


def test_delete_shows_up_in_the_audit_log(cli: Cli, specs: Path) -> None:
    cli("db", "upgrade")
    cli("slo", "apply", "-f", specs)
    code, out, _ = cli("slo", "delete", "checkout/latency", "--actor", "bob")
    assert code == 0
    assert "deleted checkout/latency (was version 1)" in out
    assert cli("slo", "delete", "checkout/latency")[0] == 2

    entries = cli.json("audit", "--limit", "2")
    assert [(e["action"], e["entity_id"], e["actor"]) for e in entries] == [
        ("slo.delete", "checkout/latency", "bob"),
        ("slo.create", "checkout/latency", "ci"),
    ]
    assert entries[0]["after"] is None
    assert entries[0]["before"]["spec"]["objective"] == 0.95
    assert entries[0]["at"].endswith("Z")

    assert [e["action"] for e in cli.json("audit", "--kind", "team")] == [
        "team.create",
        "team.create",
    ]
    code, out, _ = cli("audit")
    assert code == 0
    assert "deleted" in out
    assert "created" in out


def test_bad_specs_store_nothing(cli: Cli, specs: Path) -> None:
    cli("db", "upgrade")
    (specs / "broken.yaml").write_text(
        "apiVersion: srekit/v1\nkind: SLO\nservice: x\nname: y\nobjective: 2\n"
        "window: 7d\nindicator: {events: {good: 'true'}}\n"
    )
    code, _, err = cli("slo", "apply", "-f", specs)
    assert code == 2
    assert "broken.yaml" in err
    assert cli.json("slo", "list", "--stored") == []
    assert cli.json("audit") == []


def test_a_dry_run_shows_the_changes_and_stores_nothing(cli: Cli, specs: Path) -> None:
    cli("db", "upgrade")
    cli("slo", "apply", "-f", specs)
    checkout = specs / "checkout.yaml"
    checkout.write_text(checkout.read_text().replace("objective: 99.5%", "objective: 99.9%"))
    before = cli.json("audit", "--format", "json")

    code, out, _ = cli("slo", "apply", "-f", specs, "--dry-run")
    assert code == 0
    assert "would be updated checkout/availability (version 2): objective: 0.995 → 0.999" in out
    assert "would be unchanged checkout/latency (version 1)" in out
    planned = cli.json("slo", "apply", "-f", specs, "--dry-run", "--format", "json")
    assert planned["dry_run"] is True

    assert cli.json("audit", "--format", "json") == before  # no audit row, no version
    shown = cli.json("slo", "show", "checkout/availability")
    assert (shown["version"], shown["spec"]["objective"]) == (1, 0.995)
    code, out, _ = cli("slo", "apply", "-f", specs)  # the real one does what was shown
    assert "updated checkout/availability (version 2): objective: 0.995 → 0.999" in out

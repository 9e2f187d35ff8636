"""`srekit apply -f` (every document: SLOs of each format, policies, alert routings) and
`srekit get KIND [NAME]` against the state store on both engines and a running server: what
`get` prints as YAML, `apply` takes back unchanged."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine

from srekit.core.routing import DEFAULT_ROUTING
from srekit.spec.routing import routing_document
from srekit.store.database import create_store_engine, upgrade
from tests.api.conftest import FakeEvaluator, make_app, make_tokens
from tests.cli.conftest import EXAMPLES, Cli, run
from tests.served import serving

ROUTING = EXAMPLES / "routing.yaml"


@pytest.fixture
def everything(specs: Path) -> Path:
    """The example SLOs and policy, the example routing and a Sloth spec: one directory of
    every kind `srekit apply` stores."""
    shutil.copy(ROUTING, specs / "routing.yaml")
    shutil.copy(EXAMPLES / "sloth" / "getting-started.yml", specs / "sloth.yml")
    return specs


def test_apply_stores_every_kind_once_and_then_leaves_it(cli: Cli, everything: Path) -> None:
    cli("db", "upgrade")
    code, out, err = cli("apply", "-f", everything)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == [
        "created policy payments (version 1)",
        "created routing default (version 1)",
    ]
    assert "created checkout/availability (version 1)" in lines
    assert "created myservice/requests-availability (version 1)" in lines  # from Sloth
    assert len(lines) == 2 + 4 + 1

    again = cli.json("apply", "-f", everything, "--actor", "alice")
    assert again["actor"] == "alice"
    assert again["routings"] == [
        {"routing": "default", "result": "unchanged", "version": 1, "changes": []}
    ]
    assert {item["result"] for item in again["slos"]} == {"unchanged"}
    shown = cli.json("slo", "show", "myservice/requests-availability")
    assert shown["source_format"] == "prometheus/v1"

    routing = everything / "routing.yaml"
    routing.write_text(routing.read_text().replace("on_resolved: resolve", "on_resolved: keep"))
    changed = cli.json("apply", "-f", routing)
    assert changed == {
        "actor": "ci",
        "dry_run": False,
        "slos": [],
        "policies": [],
        "routings": [
            {
                "routing": "default",
                "result": "updated",
                "version": 2,
                "changes": ['on_resolved: "resolve" → "keep"'],
            }
        ],
        "rotations": [],
        "escalation_policies": [],
    }
    audited = cli.json("audit", "--kind", "routing")
    assert [(e["action"], e["actor"]) for e in audited] == [
        ("routing.update", "ci"),
        ("routing.create", "ci"),
    ]


def test_a_dry_run_shows_the_changes_and_stores_nothing(cli: Cli, everything: Path) -> None:
    cli("db", "upgrade")
    code, out, _ = cli("apply", "-f", everything, "--dry-run")
    assert code == 0
    assert "would be created routing default (version 1)" in out.splitlines()
    assert cli.json("get", "routings") == [routing_document(DEFAULT_ROUTING)]
    assert cli.json("get", "slos") == []
    assert cli.json("audit") == []


def test_a_bad_routing_stores_nothing_and_names_file_and_field(cli: Cli, everything: Path) -> None:
    cli("db", "upgrade")
    routing = everything / "routing.yaml"
    routing.write_text(routing.read_text().replace("severity: P3", "severity: P4"))
    code, out, err = cli("apply", "-f", everything)
    assert (code, out) == (2, "")
    assert f"{routing}: spec.routes[1].severity: expected 'P0', 'P1', 'P2' or 'P3', got 'P4'" in (
        " ".join(err.split())
    )
    assert "Traceback" not in err
    assert cli.json("get", "slos") == []
    assert cli.json("audit") == []


def test_nothing_to_apply_and_no_file_are_exit_2(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = cli("apply", "-f", tmp_path / "empty")
    assert code == 2
    assert "no SLO, policy, alert routing, rotation or escalation policy found" in " ".join(
        err.split()
    )
    assert cli("apply")[0] == 2
    assert cli("apply", "-f", tmp_path / "missing.yaml")[0] == 2


def test_slo_apply_leaves_routings_to_apply_and_says_so(cli: Cli, everything: Path) -> None:
    cli("db", "upgrade")
    code, out, err = cli("slo", "apply", "-f", everything)
    assert code == 0
    assert "routing" not in out
    assert "alert routing(s) default not stored: `srekit apply -f` stores them" in " ".join(
        err.split()
    )
    assert cli.json("get", "routing", "default") == routing_document(DEFAULT_ROUTING)
    code, out, _ = run("slo", "validate", "-f", everything)
    assert code == 0
    assert "1 policy(ies), 1 alert routing(s)" in " ".join(out.split())


@pytest.mark.parametrize(
    ("kind", "first_column"),
    [
        ("slo", "service"),
        ("SLOs", "service"),
        ("policy", "name"),
        ("Policies", "name"),
        ("routing", "name"),
        ("ROUTINGS", "name"),
        ("AlertRouting", "name"),
        ("alertroutings", "name"),
    ],
)
def test_kinds_are_read_in_any_case_singular_or_plural(
    kind: str, first_column: str, tmp_path: Path
) -> None:
    code, out, err = run("get", kind, env={"SREKIT_HOME": str(tmp_path)})
    assert code == 0, err
    assert out.split()[0] == first_column


def test_an_unknown_kind_or_name_is_exit_2(tmp_path: Path) -> None:
    env = {"SREKIT_HOME": str(tmp_path)}
    code, _, err = run("get", "deployments", env=env)
    assert code == 2
    said = " ".join(err.replace("│", " ").split())  # the error box wraps lines
    assert (
        "expected slo(s), policy/policies, routing(s)/alertrouting, rotation(s) or"
        " escalationpolicy/escalationpolicies, got 'deployments'"
    ) in said
    for args, said in (
        (("slo", "checkout"), "expected SERVICE/NAME, got 'checkout'"),
        (("slo", "checkout/nope"), "no SLO checkout/nope in the store"),
        (("policy", "nope"), "no policy 'nope' in the store"),
        (("routing", "staging"), "no alert routing 'staging' in the store"),
    ):
        code, out, err = run("get", *args, env=env)
        assert (code, out) == (2, ""), args
        assert said in err
    assert run("get", "slos", "-o", "xml", env=env)[0] == 2


def test_get_shows_tables_and_the_documents_apply_takes_back(cli: Cli, everything: Path) -> None:
    cli("db", "upgrade")
    cli("apply", "-f", everything)
    code, table, _ = cli("get", "routings")
    assert code == 0
    assert table.splitlines()[1].split()[:5] == ["default", "1", "3", "service", "resolve"]
    code, table, _ = cli("get", "policies")
    assert table.splitlines()[1].split()[:6] == [
        "payments",
        "1",
        "normal,",
        "careful,",
        "frozen",
        "deny",
    ]
    code, table, _ = cli("get", "slo", "checkout/availability")
    assert [line.split()[:5] for line in table.splitlines()] == [
        ["service", "slo", "team", "objective", "window"],
        ["checkout", "availability", "team-payments", "99.5%", "7d"],
    ]

    routing = cli.json("get", "routing", "default")
    assert routing == yaml.safe_load(ROUTING.read_text()) | {"spec": routing["spec"]}
    assert routing["spec"]["routes"][2] == {
        "match_re": {"alertname": "Watchdog|InfoInhibitor"},
        "incident": False,
        "group_by": ["alertname", "service"],
    }
    slo = cli.json("get", "slo", "checkout/availability")
    assert (slo["kind"], slo["objective"], slo["policy"]) == ("SLO", "99.5%", "payments")
    assert [p["name"] for p in cli.json("get", "policies")] == ["payments"]

    exported = everything.parent / "exported"
    exported.mkdir()
    for kind in ("slos", "policies", "routings"):
        code, out, _ = cli("get", kind, "-o", "yaml")
        assert code == 0
        (exported / f"{kind}.yaml").write_text(out)
    assert len(list(yaml.safe_load_all((exported / "slos.yaml").read_text()))) == 5
    back = cli.json("apply", "-f", exported)
    results = [item["result"] for key in ("slos", "policies", "routings") for item in back[key]]
    assert results == ["unchanged"] * 7


def test_the_built_in_routing_is_listed_until_one_named_default_is_stored(
    cli: Cli, tmp_path: Path
) -> None:
    cli("db", "upgrade")
    staging = routing_document(DEFAULT_ROUTING) | {"metadata": {"name": "staging"}}
    (tmp_path / "staging.yaml").write_text(yaml.safe_dump(staging))
    cli("apply", "-f", tmp_path / "staging.yaml")
    code, table, _ = cli("get", "routings")
    assert code == 0
    rows = [line.split() for line in table.splitlines()[1:]]
    assert [(row[0], row[1], row[-1]) for row in rows] == [
        ("default", "-", "built-in"),
        ("staging", "1", rows[1][-1]),
    ]
    assert rows[1][-1].endswith("Z")
    assert cli.json("get", "routings") == [routing_document(DEFAULT_ROUTING), staging]


# --- against a running server -------------------------------------------------------------


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    url = f"sqlite:///{tmp_path / 'state' / 'srekit.db'}"
    engine = create_store_engine(url)
    upgrade(engine)
    yield engine, url
    engine.dispose()


def test_get_from_a_server_prints_what_the_store_holds(
    stored: tuple[Engine, str], everything: Path, tmp_path: Path
) -> None:
    engine, url = stored
    local = {"SREKIT_DATABASE_URL": url, "SREKIT_HOME": str(tmp_path / "home")}
    assert run("apply", "-f", everything, env=local)[0] == 0
    tokens = make_tokens(engine)
    with serving(make_app(engine, FakeEvaluator(), tmp_path)) as address:
        remote = {"SREKIT_TOKEN": tokens["viewer"], "SREKIT_SERVER": f"http://{address}"}
        for args in (
            ("slos",),
            ("slo", "checkout/availability"),
            ("policies",),
            ("policy", "payments"),
            ("routings",),
            ("routing", "default"),
        ):
            for output in ("json", "yaml", "table"):
                here = run("get", *args, "-o", output, env=local)
                there = run("get", *args, "-o", output, env=remote)
                assert here[0] == there[0] == 0, (args, there[2])
                assert there[1] == here[1], (args, output)
        code, _, err = run("get", "routing", "staging", env=remote)
        assert code == 2
        assert "answered 404: no alert routing 'staging' in the store" in " ".join(err.split())
        code, _, err = run("get", "routings", env={**remote, "SREKIT_TOKEN": "srk_nope"})
        assert code == 2
        assert "refused the token" in err


def test_the_server_answers_the_built_in_routing_as_get_shows_it(
    stored: tuple[Engine, str], tmp_path: Path
) -> None:
    engine, url = stored
    tokens = make_tokens(engine)
    with serving(make_app(engine, FakeEvaluator(), tmp_path)) as address:
        env = {"SREKIT_TOKEN": tokens["viewer"]}
        code, out, _ = run("get", "routings", "--server", f"http://{address}", env=env)
        assert code == 0
        assert out.splitlines()[1].split() == [
            "default",
            "-",
            "2",
            "service",
            "resolve",
            "built-in",
        ]
        local = run("get", "routings", env={"SREKIT_DATABASE_URL": url})
        assert local[1] == out


def _documents(text: str) -> list[Any]:
    return list(yaml.safe_load_all(text))


def test_yaml_of_one_thing_is_one_document_and_json_is_an_object(tmp_path: Path) -> None:
    env = {"SREKIT_HOME": str(tmp_path)}
    code, out, _ = run("get", "routing", "default", "-o", "yaml", env=env)
    assert code == 0
    assert _documents(out) == [routing_document(DEFAULT_ROUTING)]
    assert out.endswith("\n")
    code, out, _ = run("get", "routing", "default", "-o", "json", env=env)
    assert json.loads(out) == routing_document(DEFAULT_ROUTING)
    code, out, _ = run("get", "slos", "-o", "yaml", env=env)
    assert (code, out) == (0, "")

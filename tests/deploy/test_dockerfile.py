"""The Dockerfile, read as Docker reads it (no Docker engine here, so it is never built): a
non-root user with a fixed UID, the hash-checked lock, the Python pyproject.toml asks for, pinned
images, and the port, command and health check of `srekit serve`, which a real server answers."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deploy.manifests import HEALTH_PATHS, PYPROJECT, ROOT, SERVE_PORT, base_document
from tests.ports import free_port

Instruction = tuple[str, str]


def parse_dockerfile(text: str) -> list[Instruction]:
    """(INSTRUCTION, arguments) in order: comments dropped, continued lines joined."""
    instructions: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


DOCKERFILE = parse_dockerfile((ROOT / "Dockerfile").read_text())


def _all(keyword: str) -> list[str]:
    return [arguments for k, arguments in DOCKERFILE if k == keyword]


def _final_stage() -> list[Instruction]:
    starts = [i for i, (k, _) in enumerate(DOCKERFILE) if k == "FROM"]
    return DOCKERFILE[starts[-1] :]


def _exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list), f"{arguments} is not in exec form"
    return value


def _env(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, arguments in stage:
        if keyword == "ENV":
            for pair in shlex.split(arguments):
                name, value = pair.split("=", 1)
                env[name] = value
    return env


def _pip_commands() -> list[list[str]]:
    commands = []
    for run in _all("RUN"):
        for command in re.split(r"&&|;", run):
            words = shlex.split(command)
            if "pip" in {Path(w).name for w in words[:1]} or words[:3][1:3] == ["-m", "pip"]:
                commands.append(words)
    return commands


def test_parser_joins_continued_lines_and_skips_comments() -> None:
    text = "# top\nFROM a:1 AS b\nRUN one \\\n  # inside\n  && two\n\nUSER 5\n"
    assert parse_dockerfile(text) == [("FROM", "a:1 AS b"), ("RUN", "one    && two"), ("USER", "5")]


def test_runs_as_a_fixed_non_root_uid() -> None:
    user = [a for k, a in _final_stage() if k == "USER"][-1]
    uid, _, gid = user.partition(":")
    assert uid.isdigit(), f"USER {user}: a numeric UID"
    assert gid.isdigit(), f"USER {user}: a numeric GID"
    assert int(uid) != 0
    assert int(gid) != 0
    created = " ".join(a for k, a in _final_stage() if k == "RUN")
    assert f"--uid {uid}" in created
    assert f"--gid {gid}" in created
    pod = base_document("Deployment")["spec"]["template"]["spec"]["securityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"]) == (int(uid), int(gid))


def test_installs_the_lock_with_hashes_and_nothing_else_from_an_index() -> None:
    copied = " ".join(_all("COPY"))
    assert "requirements.lock" in copied
    pip = _pip_commands()
    downloads = [c for c in pip if "download" in c]
    assert downloads, "the lock's distributions are downloaded"
    for command in downloads:
        assert "--require-hashes" in command
        assert command[command.index("-r") + 1] == "requirements.lock"
    installs = [c for c in pip if "install" in c]
    assert installs
    for command in installs:
        assert "--no-index" in command, f"{shlex.join(command)}: installs from the checked files"


def test_python_is_the_one_pyproject_requires() -> None:
    requires = PYPROJECT["project"]["requires-python"]
    minimum = re.fullmatch(r">=\s*(\d+\.\d+)", requires)
    assert minimum, f"requires-python {requires!r}: this test reads a lower bound"
    assert PYPROJECT["tool"]["mypy"]["python_version"] == minimum[1]
    for source in _all("FROM"):
        image = source.split()[0]
        name, _, tag = image.partition(":")
        assert name == "python"
        version, _, variant = tag.partition("-")
        assert version == minimum[1], f"FROM {image}: Python {minimum[1]} (requires-python)"
        assert variant.startswith("slim-"), f"FROM {image}: a Debian slim image"


def test_no_image_is_unpinned_or_latest() -> None:
    images = [s.split()[0] for s in _all("FROM")]
    images += [c["image"] for c in _deployment_containers()]
    for image in images:
        reference, _, digest = image.partition("@")
        last = reference.rsplit("/", 1)[-1]  # a registry's host:port is not a tag
        tag = last.partition(":")[2]
        assert tag != "latest", f"{image}: pin a version, never latest"
        assert tag or digest, f"{image}: no tag means latest; pin a version"


def _deployment_containers() -> list[dict[str, Any]]:
    pod = base_document("Deployment")["spec"]["template"]["spec"]
    containers: list[dict[str, Any]] = pod["containers"] + pod["initContainers"]
    return containers


def test_home_is_a_volume_and_the_command_serves_on_the_exposed_port() -> None:
    final = _final_stage()
    env = _env(final)
    home = env["SREKIT_HOME"]
    assert home == base_document("ConfigMap")["data"]["SREKIT_HOME"]
    assert _exec_form([a for k, a in final if k == "VOLUME"][-1]) == [home]
    assert [a for k, a in final if k == "EXPOSE"] == [str(SERVE_PORT)]
    command = _exec_form(_all("ENTRYPOINT")[-1]) + _exec_form(_all("CMD")[-1])
    assert command == ["srekit", "serve", "--host", "0.0.0.0", "--port", str(SERVE_PORT)]


def _health_check() -> list[str]:
    (check,) = _all("HEALTHCHECK")
    command = _exec_form(check.split("CMD", 1)[1].strip())
    assert command[:2] == ["python", "-c"], "no curl in the image: Python asks"
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", command[2])
    assert url, command[2]
    assert int(url[1]) == SERVE_PORT
    assert url[2] == "/healthz"
    assert url[2] in HEALTH_PATHS
    return command


@contextmanager
def _image_command(tmp_path: Path, port: int) -> Iterator[None]:
    """The image's command, with the ConfigMap's settings, on a free loopback port."""
    command = _exec_form(_all("ENTRYPOINT")[-1]) + _exec_form(_all("CMD")[-1])
    command = [str(port) if a == str(SERVE_PORT) else a for a in command]
    command = ["127.0.0.1" if a == "0.0.0.0" else a for a in command]
    settings = base_document("ConfigMap")["data"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SREKIT_")}
    env |= settings | {"SREKIT_HOME": str(tmp_path), "SREKIT_PROMETHEUS_URL": ""}
    script = "import sys; from srekit.cli.main import main; sys.argv[0] = 'srekit'; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", script, *command[1:]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.HTTPError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "srekit serve did not start"
                time.sleep(0.1)
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def _run_health_check(port: int) -> int:
    command = _health_check()
    code = command[2].replace(f":{SERVE_PORT}/", f":{port}/")
    run = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, timeout=30)
    return run.returncode


@pytest.mark.integration
def test_health_check_passes_against_the_image_command_and_fails_without_it(
    tmp_path: Path,
) -> None:
    port = free_port()
    assert _run_health_check(port) != 0  # nothing listens yet
    with _image_command(tmp_path, port):
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
        assert _run_health_check(port) == 0


def _ignored(patterns: list[str], path: str) -> bool:
    ignored = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for line in patterns:
        negated = line.startswith("!")
        pattern = line.removeprefix("!").rstrip("/")
        anywhere = f"*/{pattern.removeprefix('**/')}"
        if any(fnmatch(p, pattern) or fnmatch(p, anywhere) for p in prefixes):
            ignored = not negated
    return ignored


def test_dockerignore_keeps_state_caches_and_test_data_out() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for path in (
        ".venv/bin/python",
        ".srekit/srekit.db",
        "tests/integration/data.json",
        "src/srekit/__pycache__/config.cpython-311.pyc",
        ".pytest_cache/v/cache",
        ".mypy_cache/3.11/x.json",
        ".ruff_cache/x",
        ".hypothesis/examples/x",
        ".git/HEAD",
        "examples/logs/checkout.access.log.gz",
    ):
        assert _ignored(patterns, path), f".dockerignore lets {path} into the build"
    for copy in _all("COPY"):
        if "--from" in copy:
            continue
        for source in copy.split()[:-1]:
            assert not _ignored(patterns, source), f"COPY {source} is excluded by .dockerignore"
    assert not _ignored(patterns, "src/srekit/config.py")


def test_the_runtime_stage_has_the_libraries_make_system_deps_installs_for_pdf_and_png() -> None:
    """WeasyPrint and CairoSVG load Pango and cairo at run time: the image needs what
    `make system-deps` checks for with dpkg, or PDF reports and PNG plots fail in it."""
    makefile = (ROOT / "Makefile").read_text()
    checked = re.search(r"dpkg -s ([^>]+)>", makefile)
    assert checked is not None, "make system-deps checks the libraries with dpkg -s"
    libraries = set(checked.group(1).split())
    assert {"libcairo2", "libpango-1.0-0"} <= libraries
    installed: set[str] = set()
    for run in (a for k, a in _final_stage() if k == "RUN"):
        for command in re.split(r"&&|;", run):
            words = shlex.split(command)
            if "apt-get" in words and "install" in words:
                installed.update(w for w in words if not w.startswith("-") and w != "install")
    assert libraries <= installed, f"missing from the image: {sorted(libraries - installed)}"

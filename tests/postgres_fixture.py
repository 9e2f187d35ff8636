"""A throwaway PostgreSQL server for tests: Debian's binaries, a fresh cluster, 127.0.0.1 only.

`PostgresServer.start()` runs `initdb` into a new directory and `postgres` on a free port,
as the `postgres` OS user when the tests run as root (PostgreSQL refuses to run as root).
Durability is switched off (fsync, synchronous commit): the data dies with the test session.
Each test gets its own database from `create_database()`. Reuse it from any conftest:

    from tests.postgres_fixture import PostgresServer, require_postgres
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.ports import free_port

__all__ = ["PostgresServer", "find_bindir", "require_postgres"]

_MAKE_TEST = "run `make test`, which installs Debian's postgresql package (make system-deps)"
_SUPERUSER = "srekit"


def find_bindir() -> Path | None:
    """The newest `/usr/lib/postgresql/<major>/bin` with initdb and postgres (Debian's layout)."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found = [d for d in found if (d / "postgres").exists()]
    return max(found, key=lambda d: int(d.parent.name)) if found else None


def require_postgres() -> Path:
    """The PostgreSQL bin directory, or a RuntimeError saying how to install it."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(
            f"PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): {_MAKE_TEST}"
        )
    return bindir


@dataclass
class PostgresServer:
    """A running cluster: connect as the trusted superuser `srekit` over 127.0.0.1:`port`."""

    bindir: Path
    datadir: Path
    port: int
    process: subprocess.Popen[bytes]
    _databases: int = 0

    @classmethod
    def start(cls, timeout_s: float = 15.0) -> PostgresServer:
        bindir = require_postgres()
        # Not under pytest's tmp dir: it is private to root, and the server runs as `postgres`.
        workdir = Path(tempfile.mkdtemp(prefix="srekit-pg-"))
        datadir = workdir / "data"
        run_as: dict[str, Any] = {}
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(workdir, account.pw_uid, account.pw_gid)
            run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        initdb = subprocess.run(
            [
                str(bindir / "initdb"),
                "--pgdata",
                str(datadir),
                "--username",
                _SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            check=False,
            capture_output=True,
            cwd=workdir,
            **run_as,
        )
        if initdb.returncode != 0:
            shutil.rmtree(workdir, ignore_errors=True)
            raise RuntimeError(f"initdb failed:\n{initdb.stderr.decode(errors='replace')}")
        port = free_port()
        log = (workdir / "postgres.log").open("wb")
        process = subprocess.Popen(
            [
                str(bindir / "postgres"),
                "-D",
                str(datadir),
                "-k",
                str(workdir),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            **run_as,
        )
        log.close()
        server = cls(bindir=bindir, datadir=datadir, port=port, process=process)
        server._wait_ready(timeout_s, workdir / "postgres.log")
        return server

    def _wait_ready(self, timeout_s: float, log: Path) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited at start:\n{log.read_text(errors='replace')}")
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=1):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"postgres not ready after {timeout_s}s:\n{log.read_text(errors='replace')}"
                    ) from None
                time.sleep(0.05)

    def dsn(self, database: str) -> str:
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def url(self, database: str) -> str:
        """A SQLAlchemy URL for `database` (psycopg 3 driver)."""
        return f"postgresql+psycopg://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "test") -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        self._databases += 1
        name = f"{prefix}_{self._databases}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as connection:
            # FILE_COPY (PostgreSQL 15+) copies a tiny template faster than WAL-logging it
            strategy = " STRATEGY FILE_COPY" if connection.info.server_version >= 150000 else ""
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0{strategy}')
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then remove the cluster."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.datadir.parent)

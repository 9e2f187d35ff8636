"""Server secrets: made once, on first use, the same for every server, on SQLite and
PostgreSQL, even when two servers ask for the first time at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine

from srekit.store import repo
from srekit.store.database import create_store_engine, transaction


def test_a_secret_is_made_once_and_kept(engine: Engine) -> None:
    with transaction(engine) as session:
        first = repo.server_secret(session, name=repo.ACK_LINK_SECRET)
    with transaction(engine) as session:
        again = repo.server_secret(session, name=repo.ACK_LINK_SECRET)
        other = repo.server_secret(session, name="another")
    assert len(first) == 32
    assert again == first
    assert other != first
    assert len(other) == 32
    with transaction(engine) as session:  # nothing of it reaches the audit log
        assert all(first.hex() not in str(entry.after) for entry in repo.list_audit(session))


def test_a_rolled_back_first_use_leaves_none(engine: Engine) -> None:
    class AbandonedError(Exception):
        pass

    try:
        with transaction(engine) as session:
            lost = repo.server_secret(session, name="x")
            raise AbandonedError
    except AbandonedError:
        pass
    with transaction(engine) as session:
        kept = repo.server_secret(session, name="x")
    assert kept != lost


def test_two_servers_first_use_at_once_end_with_one_secret(engine: Engine) -> None:
    """Server A makes the secret and holds its transaction open while server B (its own
    engine, as another process would) asks: B must wait, then read A's, not keep its own."""
    url = engine.url.render_as_string(hide_password=False)
    other = create_store_engine(url)
    inserted = threading.Event()
    try:

        def first_server() -> bytes:
            with transaction(engine) as session:
                secret = repo.server_secret(session, name="shared")
                inserted.set()
                time.sleep(0.5)  # B is asking meanwhile
            return secret

        def second_server() -> bytes:
            inserted.wait(10)
            with transaction(other) as session:
                return repo.server_secret(session, name="shared")

        with ThreadPoolExecutor(2) as pool:
            a, b = pool.submit(first_server), pool.submit(second_server)
            first, second = a.result(30), b.result(30)
        assert first == second
        with transaction(other) as session:
            assert repo.server_secret(session, name="shared") == first
    finally:
        other.dispose()


def test_many_servers_at_once_agree(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    engines = [create_store_engine(url) for _ in range(6)]
    start = threading.Barrier(len(engines))
    try:

        def ask(server: Engine) -> bytes:
            start.wait(10)
            with transaction(server) as session:
                return repo.server_secret(session, name="crowd")

        with ThreadPoolExecutor(len(engines)) as pool:
            secrets = list(pool.map(ask, engines))
        assert len(set(secrets)) == 1
    finally:
        for server in engines:
            server.dispose()

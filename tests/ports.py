"""A free TCP port on 127.0.0.1, for the servers tests start (srekit, Prometheus, PostgreSQL,
Alertmanager, local receivers): the kernel picks one no one listens on."""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

"""srekit's exceptions, one tree, translated to exit codes and HTTP statuses only at the edges.

    SrekitError
    ├── SpecError (ValueError)        a spec is wrong: names the file, the field, what was expected
    ├── NotFound (LookupError)        a named SLO, service or file does not exist
    ├── Conflict                      a change clashes with stored state (a constraint refused it)
    ├── SourceUnavailable             an SLI source (Prometheus, event store) could not answer
    │   └── SourceTimeout             ... in the time allowed for one query
    ├── NotifierUnavailable           an alerting or notification system (Alertmanager) failed
    └── StoreUnavailable              the state store is unreachable or its schema is not current

A denied deploy gate is a result, not an error.
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "NotFound",
    "NotifierUnavailable",
    "SourceTimeout",
    "SourceUnavailable",
    "SpecError",
    "SrekitError",
    "StoreUnavailable",
]


class SrekitError(Exception):
    """Base of every error srekit raises on purpose."""


class SpecError(SrekitError, ValueError):
    """A spec (file, field) does not say what srekit expects."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None) -> None:
        self.file = file
        self.field = field
        self.detail = message
        where = ": ".join(part for part in (file, field) if part)
        super().__init__(f"{where}: {message}" if where else message)


class NotFound(SrekitError, LookupError):
    """A named thing does not exist."""


class Conflict(SrekitError):
    """A change the stored state refuses: a duplicate, or a deletion others still depend on."""


class SourceUnavailable(SrekitError):
    """An SLI source failed to answer (down, slow, or refused the query)."""


class SourceTimeout(SourceUnavailable):
    """A source query ran past its time limit and was stopped: asking about fewer SLOs at
    once may succeed where the whole batch did not."""


class NotifierUnavailable(SrekitError):
    """An alerting or notification system (Alertmanager) could not be reached, refused a
    request or answered with something that is not its API; the message names its URL."""


class StoreUnavailable(SrekitError):
    """The state store cannot be used: unreachable, or its schema needs `srekit db upgrade`.

    `public` says the same without what only the operator should read (the database URL, a
    file path): what the API answers, while logs and the CLI keep the full message.
    """

    def __init__(self, message: str, *, public: str | None = None) -> None:
        super().__init__(message)
        self.public = message if public is None else public

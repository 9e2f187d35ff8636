"""srekit's embedded event store: `EventStore` and the pieces it is made of.

`store` (the store and its DuckDB connection), `schema` (tables and event columns), `formats`
(the file formats and their parsers), `ingest` (loading a file, all or nothing), `predicates`
(the sandbox an SLO's SQL predicate must pass), `queries` (the SLI queries), `sql` (what they
share about DuckDB values and errors).
"""

from srekit.sources.events.formats import EVENT_FORMATS, EventFormat
from srekit.sources.events.ingest import IngestProgress, IngestReport
from srekit.sources.events.queries import ServiceStats
from srekit.sources.events.schema import EVENT_COLUMNS
from srekit.sources.events.store import EventStore

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_FORMATS",
    "EventFormat",
    "EventStore",
    "IngestProgress",
    "IngestReport",
    "ServiceStats",
]

"""Orchestration: one module per use case, calling `core` for every number and the adapters
(SLI sources, the store) for every read and write. The surfaces (`cli`, `api`) and the
background `jobs` call these; nothing here parses a request or prints."""

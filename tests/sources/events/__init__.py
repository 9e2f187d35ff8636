"""Tests of the event store, one module per module of srekit.sources.events."""

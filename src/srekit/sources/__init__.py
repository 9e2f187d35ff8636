"""SLI sources: adapters that read good and total events from telemetry (Prometheus, events)."""

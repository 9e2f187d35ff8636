"""Tests of the Prometheus source, one module per module of srekit.sources.prometheus."""

"""Tests that start real servers (Prometheus) on 127.0.0.1."""

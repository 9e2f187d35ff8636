"""Tests of the Alertmanager adapter, against a real Alertmanager on 127.0.0.1."""

"""Tests of the SLI sources."""

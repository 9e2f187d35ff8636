"""Tests of the server: the background evaluator."""

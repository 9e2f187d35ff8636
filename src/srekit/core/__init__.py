"""The domain: pure functions and frozen values, no I/O, no clock, no environment."""

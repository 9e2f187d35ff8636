"""Generated Prometheus rules: srekit's own (recording rollups + burn-rate alerts) and Sloth's."""

"""Generated Prometheus rules: srekit's own recording rollups and burn-rate alerts.

Sloth's byte-exact rules live with Sloth's spec in `srekit.sloth`.
"""

"""Spec files (YAML: srekit native, OpenSLO v1/v1alpha, Sloth prometheus/v1 and CRD) → core SLOs."""

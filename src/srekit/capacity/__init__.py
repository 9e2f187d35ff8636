"""Capacity planning adapters: series files in, HPA manifests and SVG plots out."""

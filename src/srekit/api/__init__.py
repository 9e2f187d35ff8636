"""srekit's JSON API (FastAPI): `create_app(settings)` builds it, `srekit serve` runs it."""

from srekit.api.app import create_app

__all__ = ["create_app"]

"""srekit: service level objectives as code, error budgets, burn-rate alerts and a deploy gate."""

from srekit.errors import NotFound, SourceUnavailable, SpecError, SrekitError

__all__ = ["NotFound", "SourceUnavailable", "SpecError", "SrekitError", "__version__"]

__version__ = "0.1.0"

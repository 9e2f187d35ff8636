"""Sloth, byte for byte: its specs (`prometheus/v1`, the `sloth.slok.dev/v1` CRD, OpenSLO
v1alpha) read as Sloth reads them, and the rules `sloth generate` prints for them.

`spec` parses the documents (to Sloth's own model and to core SLOs), `rules` renders the rule
groups, `windows` holds the alert window catalogs, `gonum` and `goyaml` spell numbers and YAML
exactly as Sloth's Go code does.
"""

from srekit.sloth.rules import generate_sloth_rules
from srekit.sloth.spec import (
    SlothServiceLevel,
    SlothSLO,
    is_sloth_document,
    parse_sloth_documents,
)
from srekit.sloth.windows import (
    DEFAULT_SLO_PERIOD_S,
    GOOGLE_28D,
    GOOGLE_30D,
    AlertWindows,
    BurnWindow,
    load_alert_windows,
    parse_alert_windows,
)

__all__ = [
    "DEFAULT_SLO_PERIOD_S",
    "GOOGLE_28D",
    "GOOGLE_30D",
    "AlertWindows",
    "BurnWindow",
    "SlothSLO",
    "SlothServiceLevel",
    "generate_sloth_rules",
    "is_sloth_document",
    "load_alert_windows",
    "parse_alert_windows",
    "parse_sloth_documents",
]

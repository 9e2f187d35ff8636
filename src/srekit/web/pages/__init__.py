"""The dashboard's pages: one route module per page, each with one `router` (see web/app.py)."""

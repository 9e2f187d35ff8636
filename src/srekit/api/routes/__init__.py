"""One router per noun; `api/app.py` joins them."""

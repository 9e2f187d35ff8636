"""Request and response bodies of the JSON API (pydantic), as the OpenAPI document shows them.

Request bodies refuse unknown fields (a typo is a 422, not a silently ignored setting), except
Flagger's webhook payload, which is Flagger's to extend. Responses follow DESIGN.md's contracts:
snake_case, ratios as fractions, durations in seconds, times as RFC 3339 strings in UTC.

One module per noun, beside `api/routes/<noun>.py`; the status and gate answers are
`srekit.contracts`'s, shared with the CLI.
"""

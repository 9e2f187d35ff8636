"""The `srekit` command line: `srekit <noun> <verb>`, one module per noun."""

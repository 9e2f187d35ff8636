"""Every store test runs twice, on a SQLite file and on a real PostgreSQL server: the `engine`
and `empty_url` fixtures live in tests/conftest.py, shared with the server's tests."""

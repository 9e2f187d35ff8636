# srekit: `make run` brings up the main job on the embedded defaults; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
EXAMPLES := examples
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers for `make test`: each runs whole test files and starts its own servers
TEST_WORKERS ?= 2

.PHONY: setup run test lint system-deps bench lock clean

$(BIN)/srekit: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

setup: $(BIN)/srekit

# The main job: replay the bundled access logs, store the example SLOs in an empty store, then
# serve the API (http://127.0.0.1:8000/docs) and the dashboard (/ui/: the demo prints how to log
# in) with the evaluation loop, on SQLite and DuckDB under .srekit/. The demo first checks the
# port is free, so a second `make run` changes nothing.
run: export SREKIT_HOME ?= $(CURDIR)/.srekit
run: setup
	$(BIN)/srekit demo --examples $(EXAMPLES) --host $(HOST) --port $(PORT)
	$(BIN)/srekit serve --host $(HOST) --port $(PORT)

# Debian's Prometheus gives the tests a real server and promtool, Debian's PostgreSQL a real
# state store (started by tests/postgres_fixture.py), Debian's Alertmanager a real one with
# amtool (tests/alertmanager_fixture.py), and Debian's Chromium a real browser (driven by
# Playwright through executable_path, tests/browser.py: never `playwright install`); install
# them when missing. The tests run their own binaries on 127.0.0.1 with their own flags,
# never the services the packages enable.
system-deps:
	@command -v promtool >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends prometheus; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends postgresql; }
	@{ command -v prometheus-alertmanager || command -v alertmanager; } >/dev/null 2>&1 && \
	  command -v amtool >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	    prometheus-alertmanager; }
	@test -x /usr/bin/chromium || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }
	@# WeasyPrint prints the report's PDF with Pango (the libraries its docs list for Debian);
	@# poppler-utils' pdftoppm reads the PDF back as images in the tests. CairoSVG draws the
	@# capacity plots as PNG with libcairo2.
	@dpkg -s libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libcairo2 >/dev/null 2>&1 && \
	  command -v pdftoppm >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libcairo2 poppler-utils; }

# Lint and type-check: ruff over the code, mypy --strict over srekit, its tests and benchmarks.
lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src tests benchmarks

test: lint system-deps
	$(BIN)/pytest -n auto --maxprocesses $(TEST_WORKERS) --dist loadfile --cov --cov-report=
	$(BIN)/python -m tests.coverage_by_package

bench: setup system-deps
	@command -v wrk >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends wrk; }
	@if command -v npm >/dev/null 2>&1 && [ ! -x benchmarks/node_modules/.bin/autocannon ]; then \
	  npm ci --prefix benchmarks --no-audit --no-fund; fi
	$(BIN)/python -m benchmarks

lock:
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements.lock --generate-hashes

clean:
	rm -rf $(VENV) .srekit .pytest_cache .mypy_cache .ruff_cache .coverage

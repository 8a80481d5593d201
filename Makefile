# The two commands of the README, plus lint. Needs only Python 3.11+ and make: uv is installed with
# pip when it is missing, and it uses this machine's Python (it never downloads an interpreter).
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
export UV_PYTHON_DOWNLOADS := never
# PYTHONDONTWRITEBYTECODE is common on CI machines (it is set on ours): without .pyc files every process compiles
# what it imports from source, about 8 s of a build and more in each dbt child. Compile once at install instead.
export UV_COMPILE_BYTECODE := 1

.PHONY: setup demo test test-fast lint bench bi-check docs

setup:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv \
		|| $(PYTHON) -m pip install --quiet --user uv \
		|| $(PYTHON) -m pip install --quiet --break-system-packages uv
	$(UV) sync --frozen

demo: setup
	$(UV) run --frozen treasury build --sample

# Tests run in parallel, one worker per core (at most four: each worker may be running a whole build, about 1 GB at
# its peak). The workers share one sample build. A worker takes a whole test file at a time (a module that builds a
# warehouse for its tests builds it once), in the order tests/conftest.py sets: the files with slow tests first.
# PYTEST_WORKERS=0 runs the tests in this process, one after another.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --maxprocesses=4 --dist loadfile --no-loadscope-reorder --durations=15

test: setup
	$(UV) run --frozen pytest $(PYTEST_PARALLEL)

# Everything but the tests marked slow (the UI end to end, kill -9, concurrent runs, builds beyond the session's
# sample build): for the edit-test loop.
test-fast: setup
	$(UV) run --frozen pytest $(PYTEST_PARALLEL) -m "not network and not slow"

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	# The dbt templater compiles the project: point it at a scratch warehouse, not data/.
	TREASURY_WAREHOUSE=$$(mktemp -d)/lint.duckdb $(UV) run --frozen sqlfluff lint dbt/models dbt/tests
	# The Dagster definitions load and validate (assets, checks, jobs, schedules); the project's DAGSTER_HOME keeps
	# dg's telemetry off.
	TREASURY_WAREHOUSE=$$(mktemp -d)/defs.duckdb DAGSTER_HOME=$(CURDIR)/.dagster_home $(UV) run --frozen dg check defs

# How fast the pipeline is on this machine: cold and no-change builds, ingest alone, each step, peak memory, imports;
# then how long `make test-fast` and `make test` take (BENCH_ARGS=--no-tests leaves them out).
bench: setup
	$(UV) run --frozen python scripts/bench.py $(BENCH_ARGS)

# A real BI tool end to end: Apache Superset in its own environment (.bi/, pinned in bi/superset/requirements.txt),
# on 127.0.0.1, charts the stress board from the serving file `make demo` writes; screenshots in data/bi-check/,
# with the HTML report's first screen, whole page and PDF print (Chromium) for a person to look at.
# Needs Chromium and chromedriver (Debian: chromium chromium-driver; .ci/run installs them).
bi-check: demo
	TREASURY_UV="$(UV)" $(UV) run --frozen python scripts/bi_check.py

# The dbt docs site (every model, column, test and the lineage graph) on http://127.0.0.1:8080, with the catalog
# read from the warehouse `make demo` built (or $$TREASURY_WAREHOUSE).
docs: setup
	cd dbt && export TREASURY_WAREHOUSE="$${TREASURY_WAREHOUSE:-$(CURDIR)/data/warehouse.duckdb}" \
		&& $(UV) run --frozen dbt docs generate --quiet \
		&& $(UV) run --frozen dbt docs serve --host 127.0.0.1 --port 8080 --no-browser

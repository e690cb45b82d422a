# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Installs take exactly the versions of uv.lock, with this uv (also in pyproject.toml's [tool.uv] and the Dockerfile).
UV_VERSION := 0.13.9
UV := $(BIN)/uv
UV_STAMP := $(VENV)/.uv-$(UV_VERSION)
# uv syncs .venv itself (the project environment) with the venv's own interpreter, and never downloads a Python.
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
SYNC := $(UV) sync --locked --quiet --python $(BIN)/python

.PHONY: run test lint types unit clean compose-tool bench reliability lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv from PyPI into the venv (`uv sync` keeps it there, and pip); again when UV_VERSION changes.
$(UV_STAMP): | $(BIN)/python
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	touch $@

# The project (editable) and its locked dependencies, without the dev group: what `make run` needs.
$(VENV)/.installed: pyproject.toml uv.lock $(UV_STAMP)
	$(SYNC) --no-dev
	touch $@

# The same plus the dev group (pytest, ruff, mypy...).
$(VENV)/.installed-dev: pyproject.toml uv.lock $(UV_STAMP)
	$(SYNC) --group dev
	touch $@ $(VENV)/.installed

# Refresh uv.lock on purpose: every dependency to its newest release within pyproject.toml's ranges.
lock: $(UV_STAMP)
	$(UV) lock --upgrade --python $(BIN)/python

run: $(VENV)/.installed
	$(BIN)/labellisation dev $(ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev compose-tool
	$(BIN)/pytest $(PYTEST_ARGS)

# docker-compose (Debian's package) checks docker-compose.yml; installed where missing and possible.
compose-tool:
	@command -v docker-compose >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) >/dev/null 2>&1; } || \
	  echo "docker-compose unavailable: the compose file is checked by the Python tests only"

test: lint types unit

# Benchmarks (not tests): each part prints its table and rewrites its section of BENCHMARKS.md.
# `make bench` runs them all; `make bench BENCH=path` (decision, path, portfolio) runs one.
bench: $(VENV)/.installed-dev
	LABELLISATION_LOG_LEVEL=WARNING $(BIN)/python -m bench $(BENCH)

# The reliability suite (kills, outages, fuzzing, hostile input) and its figures in one table at the end.
reliability: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests/reliability tests/histories tests/records/test_recorded_path.py \
	  tests/workflows/test_reminders.py tests/workflows/test_limits.py -p tests.reliability.figures $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

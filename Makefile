# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Installs take exactly the versions of requirements/ (pinned, with their hashes), with this uv.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
UV_STAMP := $(VENV)/.uv-$(UV_VERSION)
# uv never downloads a Python: every uv command below works on the venv's own interpreter.
export UV_PYTHON_DOWNLOADS := never
# How requirements/ is compiled from pyproject.toml: one pin per package for every platform and every Python from
# 3.11 on (environment markers where they differ), naming no index nor any other address; the committed files are
# the starting point (uv keeps their pins) unless told to upgrade.
COMPILE := $(UV) pip compile pyproject.toml --quiet --universal --python-version 3.11 --python $(BIN)/python \
  --no-emit-index-url --no-emit-find-links --custom-compile-command "make lock"
# What `make lock` does beyond recording pyproject.toml: every package to its newest release within the ranges.
# `make lock LOCK_ARGS=` records a change of pyproject.toml and keeps every other pin.
LOCK_ARGS ?= --upgrade

.PHONY: run test lint types unit clean compose-tool browser-tool bench reliability lock lock-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv from PyPI into the venv (`uv pip sync` leaves it there, and pip); again when UV_VERSION changes.
$(UV_STAMP): | $(BIN)/python
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	touch $@

# Exactly the pinned dependencies of requirements/main.txt, each checked against its hash, and nothing else (the
# dev group goes), then the project itself, editable: what `make run` needs.
$(VENV)/.installed: pyproject.toml requirements/main.txt $(UV_STAMP)
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes requirements/main.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-dev
	touch $@

# The same with requirements/dev.txt: the project's dependencies plus the dev group (pytest, ruff, mypy...).
$(VENV)/.installed-dev: pyproject.toml requirements/main.txt requirements/dev.txt $(UV_STAMP)
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes requirements/dev.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@ $(VENV)/.installed

# Rewrite requirements/ on purpose: dev.txt (the dependencies and the dev group) first, then main.txt from dev.txt's
# pins, so that the two never disagree on a version.
lock: $(UV_STAMP)
	$(COMPILE) --generate-hashes $(LOCK_ARGS) --group dev -o requirements/dev.txt
	cp requirements/dev.txt $(VENV)/main.txt.new
	$(COMPILE) --generate-hashes -o $(VENV)/main.txt.new
	mv $(VENV)/main.txt.new requirements/main.txt

# Fails when pyproject.toml's dependencies changed without `make lock`: compiled again as `make lock` does, from the
# committed pins and without upgrading, both files must come out as committed (their versions and what pulls each
# in; the hashes are the index's and are checked by every install). uv's cache answers first, without the network;
# the index only when the cache can't.
lock-check: $(UV_STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	check() { \
	  cp requirements/dev.txt "$$tmp/dev.txt" && $(COMPILE) $$1 --group dev -o "$$tmp/dev.txt" && \
	  cp "$$tmp/dev.txt" "$$tmp/main.txt" && $(COMPILE) $$1 -o "$$tmp/main.txt" || return 2; \
	  status=0; for f in main dev; do \
	    sed -e '/^ *--hash=/d' -e 's/ \\$$//' requirements/$$f.txt | \
	      diff -u --label requirements/$$f.txt --label "from pyproject.toml" - "$$tmp/$$f.txt" || status=1; \
	  done > "$$tmp/diff"; return $$status; \
	}; \
	check --offline 2>/dev/null || check "" || { \
	  cat "$$tmp/diff" 2>/dev/null; \
	  echo "requirements/ does not match pyproject.toml's dependencies: \`make lock LOCK_ARGS=\` records the change"; \
	  echo "and keeps every other pin (\`make lock\` also upgrades every package); commit requirements/ with it."; \
	  exit 1; }

run: $(VENV)/.installed
	$(BIN)/labellisation dev $(ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev compose-tool browser-tool
	$(BIN)/pytest $(PYTEST_ARGS)

# docker-compose (Debian's package) checks docker-compose.yml; installed where missing and possible.
compose-tool:
	@command -v docker-compose >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) >/dev/null 2>&1; } || \
	  echo "docker-compose unavailable: the compose file is checked by the Python tests only"

# Debian's Chromium drives the browser suite (Playwright's own download does not work here); installed where missing
# and possible, else the suite skips.
browser-tool:
	@[ -x /usr/bin/chromium ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1; } || \
	  echo "chromium unavailable: the browser suite (tests/web/browser) is skipped"

test: lock-check lint types unit

# Benchmarks (not tests): each part prints its table and rewrites its section of BENCHMARKS.md.
# `make bench` runs them all; `make bench BENCH=path` (decision, path, portfolio, analytics, newprojects, cold,
# monday, sends) runs one.
bench: $(VENV)/.installed-dev
	LABELLISATION_LOG_LEVEL=WARNING $(BIN)/python -m bench $(BENCH)

# The reliability suite (kills, outages, fuzzing, hostile input) and its figures in one table at the end.
reliability: $(VENV)/.installed-dev
	LABELLISATION_FUZZ_REQUESTS=10000 LABELLISATION_FUZZ_FORM_POSTS=3000 \
	  LABELLISATION_BURST_PROJECTS=1000 LABELLISATION_BURST_KILLS=100 \
	  $(BIN)/python -m pytest tests/reliability tests/histories tests/records/test_recorded_path.py \
	  tests/workflows/test_reminders.py tests/workflows/test_limits.py -p tests.reliability.figures $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

# The README's two commands: `make run` and `make test`. Everything else is a chore target.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint format types bench clean windows-agent

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[server,agent,dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the server on the embedded default (SQLite in ./data, in-process bus); migrates first.
run: install
	$(BIN)/gameops serve --host 127.0.0.1 --port 8000

## The whole test suite: SQLite and PostgreSQL, Redis, real uvicorn, real WebSockets.
## On TEST_WORKERS pytest-xdist workers; modules that share an expensive set-up (the Wine
## prefix, the built installer, the nginx cluster) are listed in XDIST_GROUPS in
## tests/conftest.py and run on one worker, the largest group first. TEST_WORKERS=0 runs it
## in this one process. Three on two cores: much of the suite waits on servers, browsers and
## Wine rather than computing (whole suite, CI=true, quiet 2-core machine, 2026-11-30:
## 18 min 54 s on two workers, 16 min 02 s on three). Since then the per-test set-up is
## cheaper (tests/support/databases.py: the admin in the template, PostgreSQL copies made on
## a thread) and the longest tests start first (SLOW_FIRST): the CPU the test processes use
## fell to 0.57 of before for tests/server and 0.79 for agent+web (same machine, ratios);
## the whole run, timed again on the quiet machine the same day: 10 min 34 s and 9 min 48 s
## (1,153 tests). On the slower VM of the afternoon (the bench's bare floor 2.6x slower to
## connect): 18 min 17 s and 18 min 01 s for 1,178 tests, nothing else running.
TEST_WORKERS ?= 3
test: install
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

## Load benchmarks (not part of `make test`); results go to docs/benchmarks.md by hand.
bench: install
	$(BIN)/python bench/agent_latency.py --agents 1000

## build/windows/gameops-agent-setup.exe: the Windows CPython and wheels (prepare.py, cached
## under build/windows/), the agent, and Debian's makensis (apt-get install nsis).
windows-agent: install
	$(BIN)/python scripts/windows/prepare.py
	$(BIN)/python scripts/windows/installer.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

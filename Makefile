# The README's commands. Every target creates .venv if it is missing, then installs.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export WANDB_SILENT := true

.PHONY: setup run test test-all lint bench reproduce docs docs-check clean

$(STAMP): pyproject.toml examples/parity_task/pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@rm -rf rnnsuite.egg-info  # left by the old layout's build: on sys.path in tests, it would hide the installed metadata
	@# hydra-optuna-sweeper (Optuna 2.10) was a dependency before the project's own sweeper: drop it if present
	@$(PY) -m pip uninstall -y -q hydra-optuna-sweeper 2>/dev/null || true
	$(PY) -m pip install -q -e ".[data,dev]"
	$(PY) -m pip install -q --no-deps -e examples/parity_task  # a task from another distribution: the contract test runs it too
	@touch $(STAMP)

setup: $(STAMP)

# Fetch the default dataset, train and test the default task (sentiment), print metrics beside the baseline.
run: setup
	$(VENV)/bin/rnn-data fetch rotten_tomatoes
	$(VENV)/bin/rnn-train

test: setup
	$(PY) -m pytest -q -m "not slow" -n 2 --dist loadgroup --durations=15

test-all: setup
	$(PY) -m pip install -q -e ".[postgres]"  # the slow PostgreSQL sweep test needs the driver
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check src tasks tests scripts

bench: setup
	$(VENV)/bin/rnn-bench --json bench.json --figure bench.png

# A paper-style study: make reproduce STUDY=vanishing (rnn-reproduce --list shows them); writes results/STUDY.md
reproduce: setup
	$(VENV)/bin/rnn-reproduce $(STUDY)

# The docs: regenerate every generated page (docs/, README.md) from results/*.json, results/bench/ and
# results/ledger/, then build the site with no warning allowed (build/site/).
docs: setup
	$(PY) -m rnnsuite.docsgen
	$(PY) -m mkdocs build --strict --quiet

# What CI checks: every generated page is current, and the site builds with no warning.
docs-check: setup
	$(PY) -m rnnsuite.docsgen --check
	$(PY) -m mkdocs build --strict --quiet --site-dir build/site-check

clean:
	rm -rf outputs multirun .pytest_cache

# Vigil: `make setup` installs, `make demo` runs the demo, `make test` runs every test, `make bench` the benchmarks.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo serve test bench bench-alerting clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

demo: setup
	$(BIN)/vigil demo

serve: setup
	$(BIN)/vigil serve

test: setup
	bash scripts/ensure-system-packages.sh
	$(BIN)/python -m pytest

bench: setup
	bash scripts/ensure-system-packages.sh postgres
	$(BIN)/python -m bench.run

bench-alerting: setup
	$(BIN)/python -m bench.alerting

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis

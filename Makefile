# portablekit: the two commands of the README, and the pieces they are made of.
#   make demo   set up a virtual environment and run the walkthrough on the sample images
#   make test   set up everything (venv, system tools) and run every check CI runs
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint typecheck unit tools venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); bash .ci/install-tools.sh python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,raw]'
	touch $(STAMP)

demo: venv
	$(BIN)/portablekit demo

# system tools the raw-image scenarios and tests build images with
tools:
	bash .ci/install-tools.sh

lint: venv
	$(BIN)/ruff check portablekit tests benchmarks
	$(BIN)/ruff format --check portablekit tests benchmarks

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/python -m pytest -q

check: lint typecheck unit

test: tools venv check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# portablekit: the two commands of the README, and the pieces they are made of.
#   make demo   set up a virtual environment and run the walkthrough on the sample images
#   make test   set up everything (venv, system tools, notebook stack, Chromium) and run every
#               check CI runs: linters, mypy, pytest, strict nbval, the real-browser tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NBSTAMP := $(VENV)/.notebooks-installed
R2D     := $(abspath $(VENV))/r2d/bin/jupyter-repo2docker
NBVAL   := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval-sanitize.cfg

.PHONY: demo test check lint typecheck unit quick tools venv clean notebook-deps notebooks nbval browser lab app bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); bash .ci/install-tools.sh python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,raw,fleet]'
	touch $(STAMP)

demo: venv
	$(BIN)/portablekit demo

# system tools the raw-image scenarios and tests build images with
tools:
	bash .ci/install-tools.sh

lint: venv
	$(BIN)/ruff check portablekit tests benchmarks notebooks
	$(BIN)/ruff format --check portablekit tests benchmarks notebooks

typecheck: venv
	$(BIN)/mypy

# the whole suite, slow property tests included, on every core (pytest-xdist); a plain
# `pytest` runs the same tests in one process
unit: venv
	$(BIN)/python -m pytest -q -n auto

# the quick loop while editing: everything but the tests marked slow
quick: venv
	$(BIN)/python -m pytest -q -n auto -m "not slow"

check: lint typecheck unit

$(NBSTAMP): $(STAMP) .ci/notebook-deps.sh
	VENV=$(VENV) bash .ci/notebook-deps.sh
	touch $(NBSTAMP)

notebook-deps: $(NBSTAMP)

# rerun the walkthrough notebooks and store their outputs (then commit them)
notebooks: $(NBSTAMP)
	$(BIN)/python notebooks/regenerate.py

# strict check that the stored outputs still reproduce; a separate pytest run on purpose
nbval: $(NBSTAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(NBVAL) notebooks/

# JupyterLab and Voila in Debian's Chromium, and binder/ through repo2docker --no-build
browser: $(NBSTAMP)
	PORTABLEKIT_REPO2DOCKER=$(R2D) $(BIN)/python -m pytest -q -m "browser or binder" tests/browser

# open the walkthroughs in JupyterLab (as root, as in a container or a classroom VM, with
# --allow-root; more options in LAB_ARGS, e.g. make lab LAB_ARGS="--port 8890 --no-browser")
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_ARGS ?=
lab: $(NBSTAMP)
	$(BIN)/jupyter lab notebooks/ $(ROOT_ARGS) $(LAB_ARGS)

# the classroom app: the Dashboard served by Voila, no code visible (options in APP_ARGS)
APP_ARGS ?=
app: $(NBSTAMP)
	$(BIN)/voila notebooks/classroom.ipynb $(APP_ARGS)

# how fast every widget control reacts (median per control, in-process)
bench: venv
	$(BIN)/python benchmarks/bench_widgets.py

test: tools venv check nbval browser

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

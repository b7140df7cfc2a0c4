#!/bin/bash
# Install what the notebooks, their nbval check, the browser tests and the binder/ check need,
# on top of the virtual environment `make venv` made:
#   apt: the image tools (.ci/install-tools.sh), Chromium and a font for the screenshots;
#   pip: the kit with its `notebooks` and `fleet` extras (JupyterLab, nbval, Voila, Playwright,
#        matplotlib, Dask, ...) into
#        $VENV, and jupyter-repo2docker into its own environment $VENV/r2d (its pins must not
#        move the Jupyter stack).
# Playwright drives Debian's /usr/bin/chromium: no browser is downloaded.
# Usage: VENV=.venv bash .ci/notebook-deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

extra=()
[ -x /usr/bin/chromium ] || extra+=(chromium)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || extra+=(fonts-dejavu-core)
bash .ci/install-tools.sh "${extra[@]}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "notebook-deps: no virtual environment at $VENV (run 'make venv' first)" >&2
    exit 1
fi
"$VENV/bin/python" -m pip install --quiet -e '.[notebooks,fleet]'

if [ ! -x "$VENV/r2d/bin/jupyter-repo2docker" ]; then
    "$VENV/bin/python" -m venv "$VENV/r2d"
    "$VENV/r2d/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/r2d/bin/python" -m pip install --quiet jupyter-repo2docker
fi

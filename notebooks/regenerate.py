"""Run the walkthrough notebooks and store their outputs in place.

    python notebooks/regenerate.py [NOTEBOOK ...]      # default: every notebooks/*.ipynb

Outputs are what strict nbval compares against, so they are made reproducible here: each
notebook runs in a fresh kernel of this interpreter (the same one nbval's
``--nbval-current-env`` uses) with its directory as working directory, execution counts
1..n, no timing metadata and no stored widget state (its model ids are random; the widgets
are rebuilt when the notebook runs). Run it after changing a notebook or what it shows.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def regenerate(path: Path, timeout: int = 300) -> float:
    """Execute one notebook in place; returns the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    client = NotebookClient(
        nb,
        timeout=timeout,
        startup_timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=False,
    )
    start = time.monotonic()
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    nbformat.write(nb, path)
    return time.monotonic() - start


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(HERE.glob("*.ipynb"))
    for p in paths:
        took = regenerate(p.resolve())
        print(f"{p.name}: {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

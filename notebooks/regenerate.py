"""Run the walkthrough notebooks and store their outputs in place.

    python notebooks/regenerate.py [NOTEBOOK ...]      # default: every notebooks/*.ipynb

Outputs are what strict nbval compares against, so they are made reproducible here: each
notebook runs in a fresh kernel of this interpreter (the same one nbval's
``--nbval-current-env`` uses) with its directory as working directory, execution counts
1..n, no timing metadata, no stored widget state (the widgets are rebuilt when the notebook
runs), widget model ids numbered and object addresses zeroed (nbval's sanitize file masks
both), so rerunning an unchanged notebook changes no byte. Run it after changing a notebook
or what it shows.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
_ADDRESS = re.compile(r"at 0x[0-9a-fA-F]+")


def _coalesce(outputs: list[Any]) -> list[Any]:
    """Merge consecutive stream outputs of the same stream (how prints are split into
    messages depends on timing)."""
    merged: list[Any] = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and out.get("output_type") == "stream"
            and prev.get("output_type") == "stream"
            and prev.get("name") == out.get("name")
        ):
            prev["text"] = "".join(prev["text"]) + "".join(out["text"])
        else:
            merged.append(out)
    return merged


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
    widgets = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _coalesce(cell.outputs)
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            view = data.get("application/vnd.jupyter.widget-view+json")
            if view is not None:
                # random per run and not stored anyway: number them, so a rerun is a no-op
                widgets += 1
                view["model_id"] = f"{widgets:032x}"
            text = data.get("text/plain")
            if isinstance(text, str):
                data["text/plain"] = _ADDRESS.sub("at 0x0", text)
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

"""``import portablekit`` and the command line must not load the notebook stack."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "ipywidgets", "traitlets", "IPython", "numpy")


def test_import_is_light() -> None:
    code = (
        "import sys, portablekit, portablekit.cli.main, portablekit.cli.portablectl, "
        "portablekit.oracle.replay, "
        "portablekit.samples, portablekit.portabled.attach, portablekit.sandbox\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

"""``import portablekit`` and the command line must not load the notebook stack."""

from __future__ import annotations

import subprocess
import sys

import pytest

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


def test_top_level_namespace_is_lazy_and_light() -> None:
    # every name of the short namespace resolves, and none of them loads the notebook stack
    code = (
        "import sys, portablekit\n"
        "assert not [n for n in portablekit.__all__ if n in vars(portablekit)]\n"
        "objs = [getattr(portablekit, n) for n in portablekit.__all__]\n"
        "assert all(o is not None for o in objs)\n"
        "assert set(portablekit.__all__) == set(portablekit._LAZY) <= set(dir(portablekit))\n"
        "from portablekit import SandboxRoot, dissect, plan_attach, sample_sandbox\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_top_level_names_are_the_submodules_objects() -> None:
    import portablekit
    from portablekit.portabled.attach import plan_attach
    from portablekit.sandbox import SandboxRoot

    assert portablekit.plan_attach is plan_attach and portablekit.SandboxRoot is SandboxRoot
    with pytest.raises(AttributeError, match="no_such_name"):
        portablekit.no_such_name  # noqa: B018
    # the subpackages are still found as submodules
    from portablekit import tables

    assert tables.plan_frame is not None

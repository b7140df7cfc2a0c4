"""binder/ as repo2docker reads it: ``jupyter-repo2docker --no-build`` writes the Dockerfile
it would build (no Docker engine needed), and the test reads what it would install."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from browser_util import REPO

pytestmark = pytest.mark.binder


def test_repo2docker_reads_binder() -> None:
    tool = os.environ.get("PORTABLEKIT_REPO2DOCKER") or shutil.which("jupyter-repo2docker")
    if not tool:
        pytest.skip("jupyter-repo2docker not installed (.ci/notebook-deps.sh installs it)")
    out = subprocess.run(
        [tool, "--no-build", "--no-run", "--debug", str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    text = out.stdout + out.stderr
    assert "Building conda environment for python=3.11" in text  # binder/runtime.txt
    assert "squashfs-tools" in text and "erofs-utils" in text  # binder/apt.txt
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in text
    assert "./binder/postBuild" in text
    # with a binder/ directory, repo2docker ignores setup files in the root: -e . is needed
    reqs = (REPO / "binder" / "requirements.txt").read_text().split()
    assert "-e" in reqs and "." in reqs

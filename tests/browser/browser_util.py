"""Helpers of the browser tests: ports, waiting for servers, a scratch copy of the notebooks."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "tests" / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_http(url: str, timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(url)


def wait_port(port: int, timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(port)


def copy_notebooks(dest: Path) -> Path:
    """A scratch copy of ``notebooks/`` (Lab writes checkpoints next to what it opens)."""
    shutil.copytree(NOTEBOOKS, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return dest


@contextmanager
def voila_server(base: Path, notebook: str) -> Iterator[tuple[str, str]]:
    """Voila serving ``notebook`` from a scratch copy of the notebooks under ``base``:
    yields ``(url, token)`` once the port answers, and stops the server afterwards. Standalone
    Voila has no ``/api/status`` (403 "File not allowlisted"), so the port is polled."""
    nbdir = copy_notebooks(base / "notebooks")
    port, token = free_port(), secrets.token_hex(16)
    cmd = [
        sys.executable,
        "-m",
        "voila",
        notebook,
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        f"--token={token}",
    ]
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(base / "jupyter"))
    with open(base / "voila.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=nbdir, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_port(port, timeout=180)
            yield f"http://127.0.0.1:{port}", token
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

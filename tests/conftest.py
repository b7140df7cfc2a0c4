"""Shared fixtures: fresh sandbox roots with or without the sample images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from portablekit.samples import install_samples
from portablekit.sandbox import SandboxRoot
from portablekit.versions import Systemd


@pytest.fixture
def make_root(tmp_path: Path) -> Callable[..., SandboxRoot]:
    counter = iter(range(1000))

    def make(version: int = 257, samples: bool = True) -> SandboxRoot:
        root = SandboxRoot.init(tmp_path / f"root{next(counter)}", Systemd(version))
        if samples:
            install_samples(root)
        return root

    return make


@pytest.fixture
def root(make_root: Callable[..., SandboxRoot]) -> SandboxRoot:
    return make_root()

"""Shared fixtures: fresh sandbox roots with or without the sample images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from portablekit.samples import DEFAULT_SAMPLES, sample_sandbox
from portablekit.sandbox import SandboxRoot
from portablekit.versions import Systemd


@pytest.fixture
def make_root(tmp_path: Path) -> Callable[..., SandboxRoot]:
    counter = iter(range(1000))

    def make(version: int = 257, samples: bool = True) -> SandboxRoot:
        names = DEFAULT_SAMPLES if samples else ()
        path = tmp_path / f"root{next(counter)}"
        return sample_sandbox(path, systemd=Systemd(version), names=names).root

    return make


@pytest.fixture
def root(make_root: Callable[..., SandboxRoot]) -> SandboxRoot:
    return make_root()

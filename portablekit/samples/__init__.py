"""Built-in sample images: small, deterministic portable-service images for notebooks, tests
and the demo.

Every sample is defined here as data (file paths and contents), so it is the same on every
machine: :func:`sample_source` gives it as an in-memory
:class:`~portablekit.source.MemorySource` with fixed modes and times, :func:`install_samples`
lays samples into a sandbox root's ``/var/lib/portables`` (through
:meth:`~portablekit.sandbox.SandboxRoot.materialize`), :func:`sample_sandbox` makes a fresh
root with them in one call. Raw disk images of the samples are built by
:func:`build_raw_sample` with the real tools (``mksquashfs``, ``mkfs.erofs``, ``mkfs.ext4``,
``sfdisk``) when they are installed.

>>> [n for n in BASE_SAMPLES if not SAMPLES[n].extension]
['minimal', 'webapp_2.1']
>>> sample_source("minimal").read_file("/usr/lib/os-release").decode().splitlines()[0]
'PRETTY_NAME="Minimal Portable (Debian 12)"'
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import PortableKitError
from ..sandbox import SandboxRoot
from ..source import MemorySource
from ..versions import Systemd
from .data import (
    BROKEN,
    DEBUG_TOOLS,
    MINIMAL,
    SAMPLE_MTIME,
    WEBAPP,
    WEBAPP_OLD,
    WEBAPP_TLS,
    Sample,
)

__all__ = [
    "BASE_SAMPLES",
    "DEFAULT_SAMPLES",
    "EXTENSION_SAMPLES",
    "SAMPLES",
    "SAMPLE_MTIME",
    "Sample",
    "SampleSandbox",
    "build_raw_sample",
    "install_samples",
    "sample_sandbox",
    "sample_source",
]

_ALL = [MINIMAL, WEBAPP, WEBAPP_TLS, DEBUG_TOOLS, WEBAPP_OLD, *BROKEN]

#: Every sample by name.
SAMPLES: dict[str, Sample] = {s.name: s for s in _ALL}
#: Base images that attach cleanly.
BASE_SAMPLES = ("minimal", "webapp_2.1")
#: Extensions for ``webapp_2.1`` (and ``debug-tools`` for any base).
EXTENSION_SAMPLES = ("webapp-tls", "debug-tools", "webapp-legacy")


def _get(name: str) -> Sample:
    try:
        return SAMPLES[name]
    except KeyError:
        raise KeyError(f"no sample image {name!r}; samples: {', '.join(sorted(SAMPLES))}") from None


def sample_source(name: str) -> MemorySource:
    """A sample as an in-memory image tree."""
    s = _get(name)
    return MemorySource(
        dict(s.files), label=f"<sample {s.name}>", modes=dict(s.modes), mtime=SAMPLE_MTIME
    )


#: What :func:`install_samples` and :func:`sample_sandbox` install unless told otherwise.
DEFAULT_SAMPLES = (*BASE_SAMPLES, *EXTENSION_SAMPLES)


def install_samples(
    root: SandboxRoot,
    names: Iterable[str] = DEFAULT_SAMPLES,
    at: str | PurePosixPath = "/var/lib/portables",
) -> list[PurePosixPath]:
    """Lay samples into a sandbox root under ``at`` (each as a directory named like it).

    Returns the host paths of the installed images, in the order given.
    """
    if not isinstance(root, SandboxRoot):
        raise TypeError(f"install_samples() needs a SandboxRoot, not {type(root).__name__}")
    base = PurePosixPath("/", at)
    return [root.materialize(sample_source(n), base / n) for n in names]


@dataclass(frozen=True, slots=True)
class SampleSandbox:
    """A sandbox root with samples installed (what :func:`sample_sandbox` returns).

    ``images`` are the installed images' host paths. A ``with`` block (or
    :meth:`~portablekit.sandbox.SandboxRoot.close`) removes a temporary root at its end;
    otherwise it goes when ``root`` is garbage-collected.
    """

    root: SandboxRoot
    images: tuple[PurePosixPath, ...]

    def __enter__(self) -> SampleSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.root.close()


def sample_sandbox(
    path: str | os.PathLike[str] | None = None,
    *,
    systemd: Systemd = Systemd(),
    names: Iterable[str] = DEFAULT_SAMPLES,
) -> SampleSandbox:
    """A fresh sandbox root with samples installed: a notebook's or a test's set-up in one line.

    Without ``path`` the root lives in a temporary directory
    (:meth:`~portablekit.sandbox.SandboxRoot.temporary`); with one, the root is made there
    (an empty or missing directory) and stays.

    >>> with sample_sandbox(names=["minimal"]) as lab:
    ...     [str(p) for p in lab.images]
    ['/var/lib/portables/minimal']
    """
    root = SandboxRoot.temporary(systemd) if path is None else SandboxRoot.init(path, systemd)
    try:
        images = install_samples(root, names)
    except BaseException:
        root.close()
        raise
    return SampleSandbox(root, tuple(images))


def build_raw_sample(
    name: str,
    dest: str | os.PathLike[str],
    *,
    fstype: str = "squashfs",
    table: str | None = None,
) -> Path:
    """A sample as a raw disk image at ``dest`` (``NAME.raw``), built with the real tools.

    ``fstype`` is ``squashfs``, ``erofs`` or ``ext4``; ``table`` ``None`` (a bare file system),
    ``"gpt"`` (a root partition for x86-64) or ``"dos"``. The bytes are the same on every run
    for squashfs and erofs. A missing tool raises
    :class:`~portablekit.samples.raw.MissingToolError`, which names the Debian package to install.
    """
    from .raw import build_tree_image

    out = Path(dest)
    if os.path.lexists(out):
        raise PortableKitError(f"{out}: already exists; refusing to overwrite a sample")
    return build_tree_image(sample_source(name), out, fstype=fstype, table=table)

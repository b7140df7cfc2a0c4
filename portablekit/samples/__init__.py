"""Built-in sample images: small, deterministic portable-service images for notebooks, tests
and the demo.

Every sample is defined here as data (file paths and contents), so it is the same on every
machine: :func:`sample_source` gives it as an in-memory
:class:`~portablekit.source.MemorySource`, :func:`write_sample` writes it as a directory with
fixed modes and times, :func:`install_samples` lays samples into a sandbox root's
``/var/lib/portables``. Raw disk images of the samples are built by
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
from pathlib import Path, PurePosixPath

from ..errors import PortableKitError
from ..source import MemorySource
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
    "EXTENSION_SAMPLES",
    "SAMPLES",
    "SAMPLE_MTIME",
    "Sample",
    "build_raw_sample",
    "install_samples",
    "sample_source",
    "write_sample",
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


def write_sample(name: str, dest: str | os.PathLike[str]) -> Path:
    """Write a sample as a directory tree at ``dest`` (which must not exist).

    Directories are 0755, files 0644 unless the sample says otherwise, every time is
    :data:`SAMPLE_MTIME`.
    """
    s = _get(name)
    root = Path(dest)
    if os.path.lexists(root):
        raise PortableKitError(f"{root}: already exists; refusing to overwrite a sample")
    src = sample_source(name)
    root.mkdir(parents=True)
    dirs = [root]
    for p, st in src.walk():
        target = root.joinpath(*p.parts[1:])
        if st.kind == "dir":
            target.mkdir()
            os.chmod(target, st.mode)
            dirs.append(target)
        elif st.kind == "symlink":
            os.symlink(src.readlink(p), target)
        else:
            target.write_bytes(src.read_bytes(p))
            os.chmod(target, st.mode)
            os.utime(target, (SAMPLE_MTIME, SAMPLE_MTIME))
    for d in reversed(dirs):
        os.utime(d, (SAMPLE_MTIME, SAMPLE_MTIME))
    del s
    return root


def install_samples(
    root: object,
    names: Iterable[str] = ("minimal", "webapp_2.1", "webapp-tls", "debug-tools", "webapp-legacy"),
    at: str = "/var/lib/portables",
) -> list[PurePosixPath]:
    """Lay samples into a :class:`~portablekit.sandbox.SandboxRoot` under ``at``.

    Returns the host paths of the installed images.
    """
    import tempfile

    from ..sandbox import SandboxRoot

    if not isinstance(root, SandboxRoot):
        raise TypeError("install_samples() needs a SandboxRoot")
    out = []
    with tempfile.TemporaryDirectory(prefix="portablekit-samples-") as tmp:
        for n in names:
            layer = Path(tmp) / n
            write_sample(n, layer / "tree")
            root.lay(layer / "tree", PurePosixPath(at) / n)
            out.append(PurePosixPath(at) / n)
    return out


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
    import tempfile

    from .raw import build_image

    out = Path(dest)
    if os.path.lexists(out):
        raise PortableKitError(f"{out}: already exists; refusing to overwrite a sample")
    with tempfile.TemporaryDirectory(prefix="portablekit-sample-") as tmp:
        tree = write_sample(name, Path(tmp) / "tree")
        return build_image(tree, out, fstype=fstype, table=table)

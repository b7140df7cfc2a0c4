"""Raw disk images, read in pure Python without root, loop devices or mounting.

:func:`open_raw_image` dissects an image the way systemd-portabled does (a plain squashfs, ext4
or EROFS file system, or a GPT/MBR partition table with the Discoverable Partitions rules) and
returns a :class:`RawImage` whose :attr:`~RawImage.source` is a read-only
:class:`~portablekit.source.ImageSource` over the tree portabled would see, plus what was found:
the partitions, the one used as root (or /usr), verity partitions and the image policy
systemd 262 pins in drop-ins. Only the bytes a lookup needs are read.

>>> with open_raw_image("tests/data/raw/tiny-a.squashfs") as img:   # doctest: +SKIP
...     img.fstype, img.image_policy, img.source.read_file("/etc/os-release")[:9]
('squashfs', 'root=squashfs:=absent', b'ID=debian')

Refusals carry portabled's exact message: ``e.portabled_message(path)`` on any
:class:`~portablekit.raw.errors.DissectError`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from types import TracebackType
from typing import BinaryIO

from ..source import ImageSource
from ..versions import Systemd
from ._io import Reader
from .dps import ARCHITECTURES, Designator
from .errors import (
    DissectError,
    MountError,
    MultipleRootsError,
    NoPartitionTableError,
    NoRootError,
    NoRootForRootHashError,
    VeritySignatureError,
)
from .layout import DissectedPartition, PartitionLayout, dissect_partitions
from .mounts import assemble
from .policy import ImagePolicy, PartitionPolicy
from .table import CorruptPartitionTableError, Partition, PartitionTable

__all__ = [
    "ARCHITECTURES",
    "CorruptPartitionTableError",
    "Designator",
    "DissectError",
    "DissectedPartition",
    "ImagePolicy",
    "MountError",
    "MultipleRootsError",
    "NoPartitionTableError",
    "NoRootError",
    "NoRootForRootHashError",
    "Partition",
    "PartitionPolicy",
    "PartitionTable",
    "RawImage",
    "VeritySignatureError",
    "detect",
    "open_raw_image",
]


@dataclass(eq=False)
class RawImage:
    """A dissected raw image and the tree inside it. Close it (or use ``with``) when done."""

    #: the tree portabled sees (root, with /usr and other partitions mounted)
    source: ImageSource
    #: the file system of the root partition (of /usr for a usr-only image), libblkid's name
    fstype: str | None
    #: ``"gpt"``, ``"dos"`` or ``None`` for a plain file system image
    table: str | None
    #: the partition used as root, or as /usr when there is no root
    partition: DissectedPartition
    #: every partition used, by designator (root, usr, home, ..., verity)
    used: dict[Designator, DissectedPartition]
    #: every entry of the partition table (for display)
    partitions: tuple[Partition, ...]
    #: verity and verity signature partitions found (used by 260+ only)
    verity: tuple[Partition, ...]
    #: the ``RootImagePolicy=``/``ExtensionImagePolicy=`` value systemd 262 writes
    image_policy: str
    #: the same as a value, for unions of several extensions
    policy: ImagePolicy
    #: the full dissection result
    dissection: PartitionLayout
    #: the image path or name used in messages
    label: str = ""
    _owned: BinaryIO | None = field(default=None, repr=False)

    @property
    def designator(self) -> Designator:
        """``root``, or ``usr`` for a usr-only image."""
        return self.partition.designator

    def close(self) -> None:
        """Close the image file if :func:`open_raw_image` opened it."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def __enter__(self) -> RawImage:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def detect(fobj: BinaryIO, *, label: str = "") -> str | None:
    """What an image file holds at first sight: a file system type, ``"gpt"``, ``"dos"``, or
    ``None`` (not an image we can dissect). Reads a few sectors."""
    from .probe import probe_fs
    from .table import read_table

    reader = Reader(fobj, label=label)
    fstype = probe_fs(reader)
    if fstype is not None:
        return fstype
    try:
        table = read_table(reader)
    except CorruptPartitionTableError:
        return None
    return table.kind if table else None


def open_raw_image(
    image: str | os.PathLike[str] | BinaryIO,
    *,
    arch: str = "x86-64",
    label: str | None = None,
    systemd: Systemd = Systemd(),
    strict: bool = False,
) -> RawImage:
    """Dissect the raw image ``image`` (a path, or a seekable binary file object).

    ``arch`` is the host architecture that picks root and /usr partitions (systemd's names,
    :data:`ARCHITECTURES`); ``systemd`` the version whose rules apply (see
    :mod:`portablekit.raw.layout`); ``label`` names the image in errors (default: the
    path). With ``strict``, overlapping partitions are refused (portabled accepts them).

    Raises :class:`~portablekit.raw.errors.DissectError` subclasses where portabled refuses,
    :class:`~portablekit.errors.CorruptImageError` for broken structures,
    :class:`~portablekit.errors.UnsupportedImageError` for file systems we cannot read and
    :class:`~portablekit.errors.MissingExtraError` for a missing optional decompressor.
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}")
    owned: BinaryIO | None = None
    fobj: BinaryIO
    if isinstance(image, (str, os.PathLike)):
        name = os.fspath(image)
        owned = fobj = open(name, "rb")  # noqa: SIM115 - closed by RawImage.close()
    else:
        fobj = image
        name = str(getattr(image, "name", "<image>"))
    label = name if label is None else label
    try:
        reader = Reader(fobj, label=label)
        d = dissect_partitions(reader, arch=arch, systemd=systemd)
        if strict and d.table is not None and d.table.overlaps:
            a, b = d.table.overlaps[0]
            raise CorruptPartitionTableError(
                f"partitions {a} and {b} overlap", image=label, structure="partition table"
            )
        source = assemble(reader, d)
    except BaseException:
        if owned is not None:
            owned.close()
        raise
    main = d.used.get(Designator.ROOT) or d.used[Designator.USR]
    policy = d.policy
    return RawImage(
        source=source,
        fstype=main.fstype,
        table=d.table.kind if d.table else None,
        partition=main,
        used=dict(d.used),
        partitions=d.table.partitions if d.table else (),
        verity=d.verity_partitions,
        image_policy=str(policy),
        policy=policy,
        dissection=d,
        label=label,
        _owned=owned,
    )

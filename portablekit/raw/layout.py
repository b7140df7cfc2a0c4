"""Which partitions of a raw image portabled uses: systemd's ``dissect_image()`` rules.

The rules (``src/shared/dissect-image.c``, with the flags portabled passes) and where the three
recorded versions differ (``tests/golden-extra/raw-dissect``; each difference is a predicate of
:class:`~portablekit.versions.Systemd`):

* a file system on the whole image is the root; otherwise a GPT or MBR table is required;
* GPT partitions are classified by type; no-auto (bit 63) partitions are skipped (the ESP's
  bit 1 instead); among partitions of one designator the native architecture beats the
  secondary one beats any other, and for root/usr/verity types with the same architecture the
  highest label (version compare) wins, otherwise the first one;
* verity and verity-signature partitions only count when portabled loads verity settings
  (``uses_verity``; 262 recorded: ``root-verity`` alone is "No root partition for specified root
  hash", and a signature partition must hold systemd's JSON, else ``ENODATA``); 252/257 ignore
  them;
* a root and a /usr of different architectures (``usr_arch_mismatch_errno``): 252 ignores the
  /usr, 257 refuses with ``EADDRNOTAVAIL``, 262 with ``EREMOTE``;
* without root and /usr, exactly one Linux generic data partition (MBR: type 0x83 with boot
  flag 0x80) is the root, more than one is ``ENOTUNIQ``; no root and no /usr is ``ENXIO``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from uuid import UUID

from ..names import version_compare
from ..versions import Systemd
from ._io import Reader
from .dps import Designator, arch_rank
from .errors import (
    MultipleRootsError,
    NoPartitionTableError,
    NoRootError,
    NoRootForRootHashError,
    VeritySignatureError,
)
from .policy import ImagePolicy, PartitionPolicy
from .probe import probe_fs
from .table import FLAG_NO_BLOCK_IO, Partition, PartitionTable, read_table

__all__ = ["DissectedPartition", "PartitionLayout", "dissect_partitions"]

D = Designator
_RO_FS = frozenset({"squashfs", "erofs", "iso9660"})
_VERITY = (D.ROOT_VERITY, D.USR_VERITY, D.ROOT_VERITY_SIG, D.USR_VERITY_SIG)
#: largest verity signature partition content we parse (systemd reads at most 4 MiB)
MAX_SIGNATURE = 4 << 20


@dataclass(frozen=True, slots=True)
class DissectedPartition:
    """A partition systemd uses for ``designator`` (or the whole image, for a plain file
    system: then ``partition`` is ``None``)."""

    designator: Designator
    partition: Partition | None
    fstype: str | None
    rw: bool
    growfs: bool
    arch: str | None
    offset: int
    size: int

    @property
    def number(self) -> int | None:
        """The partition number (``None`` for a plain file system image)."""
        return self.partition.number if self.partition else None

    @property
    def type_uuid(self) -> UUID | None:
        """The GPT partition type (``None`` for MBR and plain file systems)."""
        return self.partition.type_uuid if self.partition else None

    @property
    def label(self) -> str:
        """The GPT partition name."""
        return self.partition.label if self.partition else ""

    @property
    def flags(self) -> int:
        """GPT attribute bits (MBR: the boot indicator)."""
        return self.partition.flags if self.partition else 0


@dataclass(frozen=True, slots=True)
class PartitionLayout:
    """What ``dissect()`` found: the partitions used, by designator, and the pinned policy."""

    table: PartitionTable | None
    used: Mapping[Designator, DissectedPartition] = field(default_factory=dict)
    verity_partitions: tuple[Partition, ...] = ()
    protection: str | None = None  #: "verity" or "signed" when the version uses verity
    #: the version whose rules were applied (mounting follows the same ones)
    systemd: Systemd = Systemd()

    @property
    def policy(self) -> ImagePolicy:
        """The image policy 262 pins for this layout
        (:attr:`~portablekit.versions.Systemd.pins_image_policy`)."""
        out = {}
        for d, p in self.used.items():
            if self.table is None:  # a plain file system: only its type
                prot = "encrypted" if p.fstype == "crypto_LUKS" else None
                out[d] = PartitionPolicy.of(protection=prot, fstype=p.fstype)
                continue
            prot = None
            if d in (D.ROOT, D.USR) and self.protection and self._protected(d):
                prot = self.protection
            elif p.fstype == "crypto_LUKS":
                prot = "encrypted"
            out[d] = PartitionPolicy.of(
                protection=prot, read_only=not p.rw, growfs=p.growfs, fstype=p.fstype
            )
        return ImagePolicy(out)

    def _protected(self, d: Designator) -> bool:
        verity = D.ROOT_VERITY if d is D.ROOT else D.USR_VERITY
        return verity in self.used


def _better(new: Partition, old: DissectedPartition, d: Designator, native: str) -> bool:
    c = arch_rank(new.arch, native) - arch_rank(old.arch, native)
    if c:
        return c > 0
    return d.versioned and version_compare(new.label, old.label) > 0


def _signature(reader: Reader, part: Partition) -> None:
    """A verity signature partition must hold systemd's JSON object (else ``ENODATA``)."""
    size = min(part.size, MAX_SIGNATURE)
    raw = reader.pread(part.offset, size, f"partition {part.number} (verity signature)")
    text = raw.split(b"\0", 1)[0]
    try:
        obj = json.loads(text)
        ok = (
            isinstance(obj, dict)
            and isinstance(obj.get("rootHash"), str)
            and isinstance(obj.get("signature"), str)
        )
    except ValueError:
        ok = False
    if not ok:
        raise VeritySignatureError(
            "the verity signature partition does not hold a JSON object with rootHash and "
            "signature",
            image=reader.label,
            structure=f"partition {part.number}",
        )


def dissect_partitions(
    reader: Reader, *, arch: str = "x86-64", systemd: Systemd = Systemd()
) -> PartitionLayout:
    """Dissect ``reader`` like portabled of ``systemd`` on an ``arch`` host."""
    fstype = probe_fs(reader)
    if fstype is not None:
        whole = DissectedPartition(
            D.ROOT, None, fstype, fstype not in _RO_FS, False, None, 0, reader.size
        )
        return PartitionLayout(None, MappingProxyType({D.ROOT: whole}), systemd=systemd)
    table = read_table(reader)
    if table is None:
        raise NoPartitionTableError(
            "no file system and no GPT or MBR partition table", image=reader.label
        )
    label = reader.label
    used: dict[Designator, DissectedPartition] = {}
    verity_parts: list[Partition] = []
    generic: list[Partition] = []
    for p in table.partitions:
        if table.kind == "dos":
            if p.mbr_type == 0x83 and p.bootable:
                generic.append(p)
            elif p.mbr_type == 0xEA and D.XBOOTLDR not in used:
                used[D.XBOOTLDR] = DissectedPartition(
                    D.XBOOTLDR, p, None, True, False, None, p.offset, p.size
                )
            continue
        d = p.designator
        if d is D.ESP:
            if p.flags & FLAG_NO_BLOCK_IO:
                continue
        elif p.no_auto:
            continue
        if p.generic:
            generic.append(p)
            continue
        if d is None:
            continue
        if d in _VERITY:
            verity_parts.append(p)
            if not systemd.uses_verity:
                continue
        rw = not p.read_only and d not in _VERITY
        growfs = p.growfs and d not in _VERITY and d is not D.SWAP and d is not D.ESP
        fst = "vfat" if d is D.ESP else None
        old = used.get(d)
        if old is not None and not _better(p, old, d, arch):
            continue
        used[d] = DissectedPartition(d, p, fst, rw, growfs, p.arch, p.offset, p.size)

    if systemd.uses_verity:
        for data, ver, sig in (
            (D.ROOT, D.ROOT_VERITY, D.ROOT_VERITY_SIG),
            (D.USR, D.USR_VERITY, D.USR_VERITY_SIG),
        ):
            if data not in used and (ver in used or sig in used):
                raise NoRootForRootHashError(
                    f"a {ver} partition without a {data} partition", image=label
                )
            if sig in used and ver not in used:
                raise NoRootForRootHashError(f"a {sig} partition without {ver}", image=label)
    root, usr = used.get(D.ROOT), used.get(D.USR)
    if root and usr and root.arch and usr.arch and root.arch != usr.arch:
        mismatch = systemd.usr_arch_mismatch_errno
        if mismatch is None:
            del used[D.USR]
        else:
            raise NoRootForRootHashError(
                f"root ({root.arch}) and /usr ({usr.arch}) of different architectures",
                image=label,
                errno=mismatch,
            )
    if D.ROOT not in used and D.USR not in used:
        if len(generic) > 1:
            raise MultipleRootsError(
                f"{len(generic)} generic Linux partitions and no root or /usr partition",
                image=label,
            )
        if generic:
            g = generic[0]
            used[D.ROOT] = DissectedPartition(
                D.ROOT, g, None, not g.read_only, g.growfs, None, g.offset, g.size
            )
    if D.ROOT not in used and D.USR not in used:
        raise NoRootError("no root, /usr or single generic partition", image=label)
    protection = None
    if D.ROOT_VERITY in used:
        if D.USR_VERITY in used:
            raise MultipleRootsError("verity partitions for both root and /usr", image=label)
        if D.USR in used:
            raise NoRootForRootHashError(
                "a verity-protected root with a separate /usr", image=label
            )
    if systemd.uses_verity:
        for data, ver, sig in (
            (D.ROOT, D.ROOT_VERITY, D.ROOT_VERITY_SIG),
            (D.USR, D.USR_VERITY, D.USR_VERITY_SIG),
        ):
            if sig in used:
                s = used[sig].partition
                assert s is not None
                _signature(reader, s)
            if ver in used:
                protection = "signed" if sig in used else "verity"
                used[data] = _replace_rw(used[data], False)
    for des, dp in list(used.items()):
        if dp.fstype is None and des not in _VERITY:
            sub = reader.window(dp.offset, dp.size, f"partition {dp.number} ({des})")
            fst = probe_fs(sub)
            used[des] = DissectedPartition(
                des,
                dp.partition,
                fst,
                dp.rw and fst not in _RO_FS,
                dp.growfs,
                dp.arch,
                dp.offset,
                dp.size,
            )
    ordered = {d: used[d] for d in Designator if d in used}
    return PartitionLayout(
        table, MappingProxyType(ordered), tuple(verity_parts), protection, systemd=systemd
    )


def _replace_rw(p: DissectedPartition, rw: bool) -> DissectedPartition:
    return DissectedPartition(
        p.designator, p.partition, p.fstype, rw, p.growfs, p.arch, p.offset, p.size
    )

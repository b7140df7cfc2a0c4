"""GPT and MBR partition tables, parsed the way libblkid (and so systemd) sees them.

GPT: the header at LBA 1 (sector sizes 512 to 4096 are probed, like systemd's
``probe_sector_size()``), its CRC and the CRC of the entry array are checked; when the primary
header or its entries are damaged the backup header at the last LBA is used, which is what
portabled does (recorded: a damaged primary with a good backup dissects, two damaged copies
are "Couldn't identify a suitable partition table"). Overlapping partitions are reported in
:attr:`PartitionTable.overlaps`; portabled accepts them (recorded), ``strict`` readers refuse.

MBR: four primary entries and the chain of extended boot records (logical partitions, numbered
from 5), each entry's boot indicator must be ``0x00`` or ``0x80``. A protective MBR (type
``0xEE``) is not an MBR table: it belongs to a GPT.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from uuid import UUID

from ..errors import CorruptImageError
from ._io import Reader
from .dps import GENERIC, TYPES, Designator
from .errors import NoPartitionTableError

__all__ = [
    "FLAG_GROWFS",
    "FLAG_NO_AUTO",
    "FLAG_NO_BLOCK_IO",
    "FLAG_READ_ONLY",
    "CorruptPartitionTableError",
    "Partition",
    "PartitionTable",
    "read_table",
]

FLAG_REQUIRED = 1 << 0
FLAG_NO_BLOCK_IO = 1 << 1
FLAG_LEGACY_BOOT = 1 << 2
FLAG_GROWFS = 1 << 59
FLAG_READ_ONLY = 1 << 60
FLAG_NO_AUTO = 1 << 63

GPT_SIGNATURE = b"EFI PART"
MAX_ENTRIES = 4096
_MBR_EXTENDED = (0x05, 0x0F, 0x85)
MAX_LOGICAL = 128


class CorruptPartitionTableError(NoPartitionTableError, CorruptImageError):
    """A GPT whose headers or entries are damaged (both copies), or overlapping partitions in
    a strict read. portabled reports a damaged GPT as "no partition table" (``ENOPKG``)."""


@dataclass(frozen=True, slots=True)
class Partition:
    """One entry of a partition table, as found (classification is done when dissecting)."""

    number: int  #: 1-based entry number, as in ``/dev/loop0p<number>``
    offset: int  #: bytes from the start of the image
    size: int  #: bytes
    type_uuid: UUID | None = None  #: GPT partition type
    uuid: UUID | None = None  #: GPT partition UUID
    label: str = ""  #: GPT partition name
    flags: int = 0  #: GPT attribute bits; for MBR the boot indicator byte
    mbr_type: int | None = None  #: MBR partition type byte

    @property
    def designator(self) -> Designator | None:
        """The DPS designator of a GPT type (``None`` for unknown and MBR types)."""
        t = TYPES.get(self.type_uuid) if self.type_uuid else None
        return t.designator if t else None

    @property
    def arch(self) -> str | None:
        """The architecture of a root/usr/verity type."""
        t = TYPES.get(self.type_uuid) if self.type_uuid else None
        return t.arch if t else None

    @property
    def generic(self) -> bool:
        """A "Linux generic data" GPT partition."""
        return self.type_uuid == GENERIC

    @property
    def type_name(self) -> str:
        """A short name for the type: ``root-x86-64``, ``linux-generic``, ``esp``, ``0x83``..."""
        if self.mbr_type is not None:
            return f"0x{self.mbr_type:02x}"
        t = TYPES.get(self.type_uuid) if self.type_uuid else None
        if t is None:
            return "linux-generic" if self.generic else str(self.type_uuid)
        if t.arch is None:
            return str(t.designator)
        base, _, rest = str(t.designator).partition("-")
        return f"{base}-{t.arch}" + (f"-{rest}" if rest else "")

    @property
    def no_auto(self) -> bool:
        """GPT attribute 63: do not mount automatically."""
        return self.mbr_type is None and bool(self.flags & FLAG_NO_AUTO)

    @property
    def read_only(self) -> bool:
        """GPT attribute 60: mount read-only."""
        return self.mbr_type is None and bool(self.flags & FLAG_READ_ONLY)

    @property
    def growfs(self) -> bool:
        """GPT attribute 59: grow the file system to the partition."""
        return self.mbr_type is None and bool(self.flags & FLAG_GROWFS)

    @property
    def bootable(self) -> bool:
        """MBR boot indicator 0x80."""
        return self.mbr_type is not None and self.flags == 0x80


@dataclass(frozen=True, slots=True)
class PartitionTable:
    """A partition table: ``kind`` is ``"gpt"`` or ``"dos"`` (libblkid's names)."""

    kind: str
    partitions: tuple[Partition, ...]
    sector_size: int = 512
    uuid: str = ""  #: GPT disk GUID, or the MBR disk identifier as 8 hex digits
    used_backup: bool = False  #: the primary GPT was damaged; the backup was used
    overlaps: tuple[tuple[int, int], ...] = ()  #: pairs of overlapping partition numbers


def _overlaps(parts: list[Partition]) -> tuple[tuple[int, int], ...]:
    found = []
    ordered = sorted(parts, key=lambda p: p.offset)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.offset >= a.offset + a.size:
                break
            found.append((min(a.number, b.number), max(a.number, b.number)))
    return tuple(sorted(found))


def _gpt_header(reader: Reader, lba: int, ss: int) -> tuple[bytes, str] | None:
    """The header at ``lba`` if its signature and CRC are right, else None (and why)."""
    if (lba + 1) * ss > reader.size:
        return None
    hdr = reader.pread(lba * ss, ss, "GPT header")
    if hdr[:8] != GPT_SIGNATURE:
        return None
    (size,) = struct.unpack_from("<I", hdr, 12)
    if not 92 <= size <= ss:
        return None
    (crc,) = struct.unpack_from("<I", hdr, 16)
    if zlib.crc32(hdr[:16] + b"\0\0\0\0" + hdr[20:size]) != crc:
        return None
    return hdr, ""


def _gpt_entries(reader: Reader, hdr: bytes, ss: int, label: str) -> list[Partition] | None:
    (entries_lba, count, esize, ecrc) = struct.unpack_from("<QIII", hdr, 72)
    if count > MAX_ENTRIES or esize < 128 or esize > 4096 or esize % 8:
        return None
    total = count * esize
    if entries_lba * ss + total > reader.size:
        return None
    raw = reader.pread(entries_lba * ss, total, "GPT partition entries")
    if zlib.crc32(raw) != ecrc:
        return None
    parts = []
    for i in range(count):
        e = raw[i * esize : i * esize + 128]
        if e[:16] == bytes(16):
            continue
        first, last, attrs = struct.unpack_from("<QQQ", e, 32)
        if last < first:
            raise CorruptPartitionTableError(
                f"entry {i + 1} ends before it starts",
                image=label,
                structure="GPT partition entries",
            )
        name = e[56:128].decode("utf-16-le", "replace").split("\0", 1)[0]
        parts.append(
            Partition(
                number=i + 1,
                offset=first * ss,
                size=(last - first + 1) * ss,  # last_lba is inclusive
                type_uuid=UUID(bytes_le=e[:16]),
                uuid=UUID(bytes_le=e[16:32]),
                label=name,
                flags=attrs,
            )
        )
    return parts


def _read_gpt(reader: Reader) -> PartitionTable | None:
    for ss in (512, 1024, 2048, 4096):
        if reader.size >= 2 * ss and reader.pread(ss, 8, "GPT header") == GPT_SIGNATURE:
            break
    else:
        return None
    last_lba = reader.size // ss - 1
    candidates = []
    primary = _gpt_header(reader, 1, ss)
    if primary is not None:
        candidates.append((primary[0], False))
    backup = _gpt_header(reader, last_lba, ss)
    if backup is None and primary is not None:
        (alt,) = struct.unpack_from("<Q", primary[0], 32)
        if 1 < alt <= last_lba:
            backup = _gpt_header(reader, alt, ss)
    if backup is not None:
        candidates.append((backup[0], True))
    for hdr, used_backup in candidates:
        parts = _gpt_entries(reader, hdr, ss, reader.label)
        if parts is not None:
            return PartitionTable(
                kind="gpt",
                partitions=tuple(parts),
                sector_size=ss,
                uuid=str(UUID(bytes_le=hdr[56:72])),
                used_backup=used_backup,
                overlaps=_overlaps(parts),
            )
    raise CorruptPartitionTableError(
        "both the primary and the backup GPT header (or their entries) fail their checksum",
        image=reader.label,
        structure="GPT header",
    )


def _mbr_entries(sector: bytes) -> list[tuple[int, int, int, int]] | None:
    """(boot indicator, type, first LBA, sectors) of the four entries, None if not an MBR."""
    if sector[510:512] != b"\x55\xaa":
        return None
    out = []
    for i in range(4):
        boot, ptype, start, count = struct.unpack_from("<B3xB3xII", sector, 446 + 16 * i)
        if boot not in (0x00, 0x80):
            return None
        out.append((boot, ptype, start, count))
    return out


def _read_mbr(reader: Reader) -> PartitionTable | None:
    if reader.size < 512:
        return None
    sector = reader.pread(0, 512, "MBR")
    entries = _mbr_entries(sector)
    if entries is None or any(e[1] == 0xEE for e in entries):
        return None
    parts: list[Partition] = []
    for i, (boot, ptype, start, count) in enumerate(entries):
        if ptype == 0 or count == 0:
            continue
        parts.append(Partition(i + 1, start * 512, count * 512, flags=boot, mbr_type=ptype))
        if ptype in _MBR_EXTENDED:
            parts.extend(_logical(reader, start))
    (disk_id,) = struct.unpack_from("<I", sector, 440)
    return PartitionTable(
        kind="dos", partitions=tuple(parts), uuid=f"{disk_id:08x}", overlaps=_overlaps(parts)
    )


def _logical(reader: Reader, ext_start: int) -> list[Partition]:
    """Logical partitions in the chain of extended boot records (bounded, loop-safe)."""
    out: list[Partition] = []
    seen: set[int] = set()
    ebr = ext_start
    number = 5
    while ebr not in seen and len(out) < MAX_LOGICAL and (ebr + 1) * 512 <= reader.size:
        seen.add(ebr)
        entries = _mbr_entries(reader.pread(ebr * 512, 512, "MBR extended boot record"))
        if entries is None:
            break
        boot, ptype, start, count = entries[0]
        if ptype and count:
            out.append(
                Partition(number, (ebr + start) * 512, count * 512, flags=boot, mbr_type=ptype)
            )
            number += 1
        nxt = entries[1]
        if nxt[1] not in _MBR_EXTENDED or nxt[3] == 0:
            break
        ebr = ext_start + nxt[2]
    return out


def read_table(reader: Reader) -> PartitionTable | None:
    """The GPT or MBR partition table of ``reader``, or ``None`` if it has neither.

    A GPT whose two copies are both damaged raises :class:`CorruptPartitionTableError`.
    """
    gpt = _read_gpt(reader)
    if gpt is not None:
        return gpt
    return _read_mbr(reader)

"""Which file system a byte range holds, named as libblkid names it (systemd's ``fstype``).

Only superblock magics and a few sanity checks, like libblkid's probes: enough to tell the
file systems we read (squashfs, ext2/3/4, erofs) from those we only recognise (btrfs, xfs,
f2fs, vfat, swap, LUKS, ISO 9660), so that an unreadable partition gets a clear error and the
right policy flag. ext2/ext3/ext4 are told apart by their feature bits, as libblkid does.
"""

from __future__ import annotations

import struct

from ._io import Reader

__all__ = ["READABLE", "probe_fs"]

#: the types the readers of this package can open
READABLE = frozenset({"squashfs", "ext2", "ext3", "ext4", "erofs"})

# ext features an ext3 (or ext2) driver supports; anything beyond makes libblkid say "ext4"
_EXT3_INCOMPAT = 0x2 | 0x4 | 0x10  # filetype, recover, meta_bg
_EXT2_INCOMPAT = 0x2 | 0x10
_EXT3_RO_COMPAT = 0x1 | 0x2 | 0x4  # sparse_super, large_file, btree_dir
_HAS_JOURNAL = 0x4


def _at(reader: Reader, offset: int, size: int) -> bytes:
    # what there is of the range: a truncated superblock is still recognised (and then
    # reported as truncated by its reader)
    size = min(size, reader.size - offset)
    if size <= 0:
        return b""
    return reader.pread(offset, size, "file system superblock")


def _ext_type(sb: bytes) -> str:
    compat, incompat, ro_compat = struct.unpack_from("<III", sb, 92)
    journal = compat & _HAS_JOURNAL
    if journal and not incompat & ~_EXT3_INCOMPAT and not ro_compat & ~_EXT3_RO_COMPAT:
        return "ext3"
    if not journal and not incompat & ~_EXT2_INCOMPAT and not ro_compat & ~_EXT3_RO_COMPAT:
        return "ext2"
    return "ext4"


def _is_vfat(bs: bytes) -> bool:
    if len(bs) < 512 or bs[510:512] != b"\x55\xaa" or bs[0] not in (0xEB, 0xE9):
        return False
    if bs[54:59] not in (b"FAT12", b"FAT16") and bs[82:87] != b"FAT32" and bs[54:57] != b"FAT":
        return False
    sector, per_cluster, reserved, nfats = struct.unpack_from("<HBHB", bs, 11)
    return (
        sector in (512, 1024, 2048, 4096)
        and per_cluster in (1, 2, 4, 8, 16, 32, 64, 128)
        and reserved > 0
        and nfats in (1, 2)
    )


def probe_fs(reader: Reader) -> str | None:
    """The file system type at the start of ``reader``, or ``None`` if none is recognised."""
    head = _at(reader, 0, 512)
    if head[:4] == b"hsqs":
        if len(head) < 30:  # truncated: the squashfs reader says so
            return "squashfs"
        (major,) = struct.unpack_from("<H", head, 28)
        return "squashfs" if major >= 4 else "squashfs3"
    if head[:6] == b"LUKS\xba\xbe":
        return "crypto_LUKS"
    if head[:4] == b"XFSB":
        return "xfs"
    sb = _at(reader, 1024, 1024)
    if sb[:4] == b"\xe2\xe1\xf5\xe0":
        return "erofs"
    if sb[56:58] == b"\x53\xef":
        return _ext_type(sb) if len(sb) >= 104 else "ext4"
    if sb[:4] == b"\x10\x20\xf5\xf2":
        return "f2fs"
    if _at(reader, 0x10040, 8) == b"_BHRfS_M":
        return "btrfs"
    if _at(reader, 0x8001, 5) == b"CD001":
        return "iso9660"
    for page in (4096, 8192, 16384, 65536):
        if _at(reader, page - 10, 10) in (b"SWAPSPACE2", b"SWAP-SPACE"):
            return "swap"
    if _is_vfat(head):
        return "vfat"
    return None

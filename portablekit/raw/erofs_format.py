"""EROFS as it is stored: the on-disk constants and the inode value.

Shared by the reader of the file system (:mod:`portablekit.raw.erofs`) and the decoder of
compressed files (:mod:`portablekit.raw.erofs_z`), so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..source import FileKind
from .fsbase import Node

__all__ = ["MAGIC", "ErofsInode"]

MAGIC = 0xE0F5E1E2
SUPER_OFFSET = 1024

FLAT_PLAIN, COMPRESSED_FULL, FLAT_INLINE, COMPRESSED_COMPACT, CHUNK_BASED = range(5)
#: names of the data layouts, for messages
LAYOUTS = ("plain", "compressed (full)", "inline", "compressed (compact)", "chunk-based")

INCOMPAT_LZ4_0PADDING = 0x1
INCOMPAT_CHUNKED_FILE = 0x4
INCOMPAT_DEVICE_TABLE = 0x8
INCOMPAT_ZTAILPACKING = 0x10
INCOMPAT_FRAGMENTS = 0x20
INCOMPAT_XATTR_PREFIXES = 0x40
INCOMPAT_48BIT = 0x80
INCOMPAT_METABOX = 0x100
#: incompatible features this reader refuses, by name
UNSUPPORTED = {INCOMPAT_48BIT: "48bit", INCOMPAT_METABOX: "metabox"}
#: every incompatible feature bit defined so far
KNOWN = (INCOMPAT_METABOX << 1) - 1

CHUNK_INDEXES = 0x20
CHUNK_48BIT = 0x40
NULL_ADDR32 = 0xFFFFFFFF

#: file type bits of ``i_mode``
KINDS = {
    0o040000: FileKind.DIR,
    0o100000: FileKind.FILE,
    0o120000: FileKind.SYMLINK,
    0o060000: FileKind.BLOCKDEV,
    0o020000: FileKind.CHARDEV,
    0o010000: FileKind.FIFO,
    0o140000: FileKind.SOCKET,
}


@dataclass(slots=True)
class ErofsInode(Node):
    """An EROFS inode: the common fields plus its position, layout and data address."""

    pos: int = 0  #: byte position of the on-disk inode
    layout: int = 0
    isize: int = 32
    xsize: int = 0
    u: int = 0  #: i_u: start block, compressed block count or chunk format

    @property
    def tail(self) -> int:
        """Byte position right after the inode and its inline xattrs."""
        return self.pos + self.isize + self.xsize

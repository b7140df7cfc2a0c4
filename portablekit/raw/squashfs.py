"""A read-only squashfs 4.0 reader (gzip, xz, lzma, lzo, lz4, zstd).

Layout, in the words of the format: a 96-byte superblock; data blocks and fragment blocks; then
tables of 8 KiB *metadata blocks*, each behind a 2-byte header (bit 15 = stored uncompressed):
inodes, directory listings, fragment entries, ids. An inode reference is
``(metadata block offset << 16) | offset inside the uncompressed block``.

Only what a lookup needs is read: the superblock at open, then for each path component one
directory listing (or, for a large directory with an index, one metadata block of it) and one
inode. Extended inodes, sparse blocks and fragments are handled; xattrs are not read.
"""

from __future__ import annotations

import stat as _stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import UnsupportedImageError
from ..source import FileKind
from ._io import LRU, MAX_METADATA, Reader
from .compress import decompress
from .fsbase import FileSystemSource, Node

__all__ = ["MAGIC", "SquashfsSource"]

MAGIC = b"hsqs"
META_SIZE = 8192
NO_FRAGMENT = 0xFFFFFFFF
COMPRESSORS = {1: "gzip", 2: "lzma", 3: "lzo", 4: "xz", 5: "lz4", 6: "zstd"}
_SUPER = struct.Struct("<IIIIIHHHHHHQQQQQQQQ")

# inode types: basic/extended directory, file, symlink, block, char, fifo, socket
_KINDS = {
    1: FileKind.DIR,
    2: FileKind.FILE,
    3: FileKind.SYMLINK,
    4: FileKind.BLOCKDEV,
    5: FileKind.CHARDEV,
    6: FileKind.FIFO,
    7: FileKind.SOCKET,
}
_FMT = {
    FileKind.DIR: _stat.S_IFDIR,
    FileKind.FILE: _stat.S_IFREG,
    FileKind.SYMLINK: _stat.S_IFLNK,
    FileKind.BLOCKDEV: _stat.S_IFBLK,
    FileKind.CHARDEV: _stat.S_IFCHR,
    FileKind.FIFO: _stat.S_IFIFO,
    FileKind.SOCKET: _stat.S_IFSOCK,
}


@dataclass(slots=True)
class SqInode(Node):
    """A squashfs inode: the common fields plus where its data or listing lives."""

    ref: int = 0
    extended: bool = False
    # directories: listing position and size, and the directory index after the inode
    dir_block: int = 0
    dir_offset: int = 0
    index_count: int = 0
    index_pos: tuple[int, int] = (0, 0)
    # regular files: data blocks, fragment, and where the block size list starts
    blocks_start: int = 0
    fragment: int = NO_FRAGMENT
    frag_offset: int = 0
    sizes_pos: tuple[int, int] = (0, 0)
    # symbolic links
    target: bytes = b""


class SquashfsSource(FileSystemSource[SqInode]):
    """A squashfs file system in ``reader`` (a whole file or a partition)."""

    fstype = "squashfs"

    def __init__(self, reader: Reader, label: str = "") -> None:
        super().__init__(reader, label or reader.label)
        raw = reader.pread(0, 96, "squashfs superblock")
        if raw[:4] != MAGIC:
            raise reader.corrupt("squashfs superblock", "bad magic")
        (
            _magic,
            self.inode_count,
            self.mkfs_time,
            self.block_size,
            self.fragment_count,
            comp_id,
            block_log,
            self.flags,
            self.id_count,
            major,
            minor,
            self.root_ref,
            self.bytes_used,
            self.id_table,
            _xattr_table,
            self.inode_table,
            self.dir_table,
            self.fragment_table,
            _export_table,
        ) = _SUPER.unpack(raw)
        sb = "squashfs superblock"
        if (major, minor) != (4, 0):
            raise UnsupportedImageError(
                f"squashfs version {major}.{minor} (only 4.0 is read)", image=self.label
            )
        if not 4096 <= self.block_size <= 1 << 20 or 1 << block_log != self.block_size:
            raise reader.corrupt(sb, f"invalid block size {self.block_size} (log {block_log})")
        if comp_id not in COMPRESSORS:
            raise reader.corrupt(sb, f"unknown compression id {comp_id}")
        self.codec = COMPRESSORS[comp_id]
        if self.bytes_used > reader.size:
            raise reader.corrupt(
                sb, f"says {self.bytes_used} bytes, the image has {reader.size} (truncated?)"
            )
        end = self.bytes_used
        for name, pos in (
            ("inode table", self.inode_table),
            ("directory table", self.dir_table),
            ("id table", self.id_table),
        ):
            if pos >= end:
                raise reader.corrupt(sb, f"{name} starts beyond the file system ({pos})")
        if self.inode_table > self.dir_table:
            raise reader.corrupt(sb, "inode table after directory table")
        if self.fragment_count and self.fragment_table >= end:
            raise reader.corrupt(sb, "fragment table beyond the file system")
        self._meta: LRU[int, tuple[bytes, int]] = LRU(256)
        self._data: LRU[tuple[int, int], bytes] = LRU(16)
        self._ids: LRU[int, int] = LRU(256)
        self._sizes: LRU[int, tuple[int, ...]] = LRU(64)

    # -- metadata blocks ----------------------------------------------------------------------

    def _meta_block(self, pos: int) -> tuple[bytes, int]:
        """The uncompressed metadata block at ``pos`` and the position of the next one."""
        hit = self._meta.get(pos)
        if hit is not None:
            return hit
        where = f"squashfs metadata block at {pos}"
        if pos + 2 > self.bytes_used:
            raise self.reader.corrupt(where, "beyond the end of the file system")
        (hdr,) = struct.unpack("<H", self.reader.pread(pos, 2, where))
        size = hdr & 0x7FFF
        if size == 0 or size > META_SIZE or pos + 2 + size > self.bytes_used:
            raise self.reader.corrupt(where, f"invalid size {size}")
        data = self.reader.pread(pos + 2, size, where)
        if not hdr & 0x8000:
            data = decompress(
                self.codec,
                data,
                META_SIZE,
                image=self.label,
                structure=where,
                window=self.block_size,
            )
        return self._meta.put(pos, (data, pos + 2 + size))

    def _meta_read(self, block: int, offset: int, size: int, what: str) -> tuple[bytes, int, int]:
        """``size`` bytes of the metadata stream at (block, offset); returns the new position."""
        out = []
        need = size
        while True:
            data, nxt = self._meta_block(block)
            if offset > len(data):
                raise self.reader.corrupt(what, f"offset {offset} beyond its metadata block")
            chunk = data[offset : offset + need]
            out.append(chunk)
            need -= len(chunk)
            offset += len(chunk)
            if need == 0:
                if offset == len(data) and len(data) == META_SIZE:
                    block, offset = nxt, 0
                return b"".join(out), block, offset
            if len(data) < META_SIZE:  # a short block is the last of its table
                raise self.reader.corrupt(what, "runs past the end of its table")
            block, offset = nxt, 0

    def _table_entry(self, table: int, index: int, size: int, count: int, what: str) -> bytes:
        """Entry ``index`` of a table of ``size``-byte entries behind a lookup table."""
        if not 0 <= index < count:
            raise self.reader.corrupt(what, f"index {index} out of range ({count} entries)")
        per_block = META_SIZE // size
        ptr_pos = table + (index // per_block) * 8
        (block,) = struct.unpack("<Q", self.reader.pread(ptr_pos, 8, f"{what} lookup table"))
        if block >= self.bytes_used:
            raise self.reader.corrupt(what, f"lookup table points beyond the file system ({block})")
        data, _, _ = self._meta_read(block, (index % per_block) * size, size, what)
        return data

    def _id(self, index: int) -> int:
        hit = self._ids.get(index)
        if hit is not None:
            return hit
        raw = self._table_entry(self.id_table, index, 4, self.id_count, "squashfs id table")
        return self._ids.put(index, struct.unpack("<I", raw)[0])

    # -- inodes -----------------------------------------------------------------------------------

    def _root(self) -> SqInode:
        return self._node(self.root_ref)

    def _node(self, ref: int) -> SqInode:
        block = self.inode_table + (ref >> 16)
        offset = ref & 0xFFFF
        what = f"squashfs inode {ref:#x}"
        if block >= self.dir_table or offset >= META_SIZE:
            raise self.reader.corrupt(what, "reference outside the inode table")
        hdr, block, offset = self._meta_read(block, offset, 16, what)
        itype, perm, uid_i, gid_i, mtime, number = struct.unpack("<HHHHII", hdr)
        extended = itype > 7
        kind = _KINDS.get(itype - 7 if extended else itype)
        if kind is None or itype > 14:
            raise self.reader.corrupt(what, f"unknown inode type {itype}")
        node = SqInode(
            ident=number,
            kind=kind,
            mode=_FMT[kind] | (perm & 0o7777),
            size=0,
            uid=self._id(uid_i),
            gid=self._id(gid_i),
            mtime=float(mtime),
            ref=ref,
            extended=extended,
        )

        def take(fmt: str) -> tuple[int, ...]:
            nonlocal block, offset
            raw, block, offset = self._meta_read(block, offset, struct.calcsize(fmt), what)
            return struct.unpack(fmt, raw)

        if kind is FileKind.DIR:
            if extended:
                _nlink, size, start, _parent, icount, doff, _xattr = take("<IIIIHHI")
                node.index_count = icount
                node.index_pos = (block, offset)
            else:
                start, _nlink, size, doff, _parent = take("<IIHHI")
            if not 3 <= size <= MAX_METADATA:
                raise self.reader.corrupt(what, f"invalid directory size {size}")
            node.size, node.dir_block, node.dir_offset = size - 3, start, doff
            if doff >= META_SIZE:
                raise self.reader.corrupt(what, "directory offset beyond its metadata block")
        elif kind is FileKind.FILE:
            if extended:
                start, size, _sparse, _nlink, frag, foff, _xattr = take("<QQQIIII")
            else:
                start, frag, foff, size = take("<IIII")
            node.size, node.blocks_start, node.fragment, node.frag_offset = size, start, frag, foff
            node.sizes_pos = (block, offset)
        elif kind is FileKind.SYMLINK:
            _nlink, tsize = take("<II")
            if tsize > 4096:
                raise self.reader.corrupt(what, f"symlink target of {tsize} bytes")
            node.target, block, offset = self._meta_read(block, offset, tsize, what)
            node.size = tsize
        return node

    # -- directories --------------------------------------------------------------------------

    def _scan(self, block: int, offset: int, size: int, what: str) -> Iterator[tuple[bytes, int]]:
        """Entries of a directory listing of ``size`` bytes starting at (block, offset)."""
        pos = 0
        while pos < size:
            if size - pos < 12:
                raise self.reader.corrupt(what, "truncated directory header")
            raw, block, offset = self._meta_read(block, offset, 12, what)
            count, start, _base = struct.unpack("<III", raw)
            pos += 12
            if count >= 256:
                raise self.reader.corrupt(what, f"directory header with {count + 1} entries")
            for _ in range(count + 1):
                if size - pos < 8:
                    raise self.reader.corrupt(what, "truncated directory entry")
                raw, block, offset = self._meta_read(block, offset, 8, what)
                eoff, _ino_delta, _etype, nsize = struct.unpack("<HhHH", raw)
                nsize += 1
                if size - pos - 8 < nsize or nsize > 256:
                    raise self.reader.corrupt(what, "directory entry name runs past the listing")
                name, block, offset = self._meta_read(block, offset, nsize, what)
                pos += 8 + nsize
                if name in (b".", b"..") or b"/" in name or b"\0" in name:
                    raise self.reader.corrupt(what, f"invalid name {name!r}")
                yield name, (start << 16) | eoff

    def _entries(self, node: SqInode) -> Iterator[tuple[bytes, int]]:
        what = f"squashfs directory {node.ref:#x}"
        return self._scan(self.dir_table + node.dir_block, node.dir_offset, node.size, what)

    def _lookup(self, node: SqInode, name: bytes) -> int | None:
        # small (or already listed) directories: the listing; large ones: start at the
        # directory index entry for the metadata block that can hold ``name`` (names are sorted)
        if node.index_count == 0 or self._dirs.get(node.ident) is not None:
            return self._listing(node).get(name)
        what = f"squashfs directory {node.ref:#x}"
        block, offset = node.index_pos
        start_block, skip = node.dir_block, 0
        for _ in range(node.index_count):
            raw, block, offset = self._meta_read(block, offset, 12, what + " index")
            index, start, nsize = struct.unpack("<III", raw)
            if nsize >= 256:
                raise self.reader.corrupt(what + " index", "name longer than 256 bytes")
            iname, block, offset = self._meta_read(block, offset, nsize + 1, what + " index")
            if iname > name:
                break
            if index > node.size:
                raise self.reader.corrupt(what + " index", "points past the listing")
            start_block, skip = start, index
        offset = (node.dir_offset + skip) % META_SIZE
        for ename, ref in self._scan(self.dir_table + start_block, offset, node.size - skip, what):
            if ename == name:
                return ref
            if ename > name:
                break
        return None

    # -- file data ----------------------------------------------------------------------------

    def _block_sizes(self, node: SqInode) -> tuple[int, ...]:
        hit = self._sizes.get(node.ident)
        if hit is not None:
            return hit
        bs = self.block_size
        n = node.size // bs if node.fragment != NO_FRAGMENT else -(-node.size // bs)
        if n * 4 > self.bytes_used:
            raise self.reader.corrupt(f"squashfs inode {node.ref:#x}", "implausible file size")
        raw, _, _ = self._meta_read(*node.sizes_pos, 4 * n, f"squashfs inode {node.ref:#x}")
        return self._sizes.put(node.ident, struct.unpack(f"<{n}I", raw))

    def _data_block(self, pos: int, field: int, expect: int, what: str) -> bytes:
        key = (pos, field)
        hit = self._data.get(key)
        if hit is not None:
            return hit
        size = field & 0xFFFFFF
        if size > self.block_size or pos + size > self.bytes_used:
            raise self.reader.corrupt(what, f"block of {size} bytes at {pos} out of bounds")
        raw = self.reader.pread(pos, size, what)
        if field & (1 << 24):
            data = raw
        else:
            data = decompress(self.codec, raw, self.block_size, image=self.label, structure=what)
        if expect >= 0 and len(data) != expect:
            raise self.reader.corrupt(what, f"holds {len(data)} bytes, expected {expect}")
        return self._data.put(key, data)

    def _fragment(self, index: int, what: str) -> bytes:
        raw = self._table_entry(
            self.fragment_table, index, 16, self.fragment_count, "squashfs fragment table"
        )
        start, field, _ = struct.unpack("<QII", raw)
        return self._data_block(start, field, -1, f"{what} fragment {index}")

    def _read(self, node: SqInode, offset: int, size: int) -> bytes:
        what = f"squashfs file {node.ref:#x}"
        bs = self.block_size
        sizes = self._block_sizes(node)
        out: list[bytes] = []
        end = offset + size
        first = offset // bs
        pos = node.blocks_start + sum(s & 0xFFFFFF for s in sizes[:first])
        for k in range(first, len(sizes)):
            bstart = k * bs
            if bstart >= end:
                break
            expect = min(bs, node.size - bstart)
            field = sizes[k]
            if field & 0xFFFFFF == 0:  # sparse block
                data = bytes(expect)
            else:
                data = self._data_block(pos, field, expect, f"{what} block {k}")
            pos += field & 0xFFFFFF
            out.append(data[max(0, offset - bstart) : end - bstart])
        tail_start = len(sizes) * bs
        if node.fragment != NO_FRAGMENT and end > tail_start:
            frag = self._fragment(node.fragment, what)
            lo = node.frag_offset + max(0, offset - tail_start)
            hi = node.frag_offset + (end - tail_start)
            if hi > len(frag):
                raise self.reader.corrupt(what, "tail runs past its fragment block")
            out.append(frag[lo:hi])
        data = b"".join(out)
        if len(data) != size:
            raise self.reader.corrupt(what, f"data ends after {len(data)} of {size} bytes")
        return data

    def _target(self, node: SqInode) -> bytes:
        return node.target

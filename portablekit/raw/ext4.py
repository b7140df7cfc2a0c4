"""A read-only ext2/ext3/ext4 reader.

Reads what ``mkfs.ext4 -d`` and the kernel write: extent trees of any depth and legacy block
maps (direct, indirect, double and triple indirect), inline data, fast and slow symbolic
links, hash-tree directories (read linearly: their index blocks look like empty entries to a
linear scan), 64-bit block numbers, flex_bg and meta_bg group descriptors. Checksums
(metadata_csum) are not verified and the journal is not replayed (systemd mounts images with
``norecovery`` too); a file system that needs recovery is read as it is on disk.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import UnsupportedImageError
from ..source import FileKind
from ._io import LRU, MAX_METADATA, BlockCache, Reader
from .fsbase import FileSystemSource, Node

__all__ = ["MAGIC_OFFSET", "Ext4Source"]

MAGIC_OFFSET = 1024 + 56  #: where 0xEF53 sits
ROOT_INO = 2

# feature bits
INCOMPAT_FILETYPE = 0x2
INCOMPAT_JOURNAL_DEV = 0x8
INCOMPAT_META_BG = 0x10
INCOMPAT_EXTENTS = 0x40
INCOMPAT_64BIT = 0x80
INCOMPAT_INLINE_DATA = 0x8000
INCOMPAT_ENCRYPT = 0x10000
INCOMPAT_COMPRESSION = 0x1
INCOMPAT_DIRDATA = 0x1000
RO_COMPAT_SPARSE_SUPER = 0x1
COMPAT_SPARSE_SUPER2 = 0x200
_UNREADABLE = {
    INCOMPAT_COMPRESSION: "compression",
    INCOMPAT_JOURNAL_DEV: "journal device",
    INCOMPAT_DIRDATA: "dirdata",
    INCOMPAT_ENCRYPT: "encryption",
}

# inode flags
FL_INDEX = 0x1000
FL_EXTENTS = 0x80000
FL_INLINE_DATA = 0x10000000

_S_IFMT = 0o170000
_KINDS = {
    0o040000: FileKind.DIR,
    0o100000: FileKind.FILE,
    0o120000: FileKind.SYMLINK,
    0o060000: FileKind.BLOCKDEV,
    0o020000: FileKind.CHARDEV,
    0o010000: FileKind.FIFO,
    0o140000: FileKind.SOCKET,
}
EXTENT_MAGIC = 0xF30A
MAX_EXTENT_DEPTH = 5


@dataclass(slots=True)
class ExtInode(Node):
    """An ext4 inode: the common fields plus what locates its data."""

    flags: int = 0
    block: bytes = b""  #: i_block, 60 bytes: extent root, block map or inline data
    blocks: int = 0  #: i_blocks (512-byte units unless huge_file)
    file_acl: int = 0
    extra: bytes = b""  #: the in-inode extended attribute area


def _has_super(group: int, sparse: bool, backups: tuple[int, int] | None) -> bool:
    """Whether block group ``group`` holds a superblock backup (and descriptor copy)."""
    if group == 0:
        return True
    if backups is not None:
        return group in backups
    if not sparse or group == 1:
        return True
    for base in (3, 5, 7):
        n = base
        while n < group:
            n *= base
        if n == group:
            return True
    return False


class Ext4Source(FileSystemSource[ExtInode]):
    """An ext2/3/4 file system in ``reader`` (a whole file or a partition)."""

    fstype = "ext4"

    def __init__(self, reader: Reader, label: str = "") -> None:
        super().__init__(reader, label or reader.label)
        sb = reader.pread(1024, 1024, "ext4 superblock")
        where = "ext4 superblock"
        if sb[56:58] != b"\x53\xef":
            raise reader.corrupt(where, "bad magic")
        (self.inodes_count, blocks_lo) = struct.unpack_from("<II", sb, 0)
        (self.first_data_block, log_bs) = struct.unpack_from("<II", sb, 20)
        (self.blocks_per_group,) = struct.unpack_from("<I", sb, 32)
        (self.inodes_per_group,) = struct.unpack_from("<I", sb, 40)
        (rev,) = struct.unpack_from("<I", sb, 76)
        if rev >= 1:
            (self.inode_size,) = struct.unpack_from("<H", sb, 88)
            compat, incompat, self.ro_compat = struct.unpack_from("<III", sb, 92)
        else:
            self.inode_size, compat, incompat, self.ro_compat = 128, 0, 0, 0
        self.incompat = incompat
        if log_bs > 6:
            raise reader.corrupt(where, f"block size 1024 << {log_bs}")
        self.block_size = bs = 1024 << log_bs
        blocks_hi = struct.unpack_from("<I", sb, 336)[0] if incompat & INCOMPAT_64BIT else 0
        self.blocks_count = blocks_lo | (blocks_hi << 32)
        self.desc_size = 32
        if incompat & INCOMPAT_64BIT:
            (self.desc_size,) = struct.unpack_from("<H", sb, 254)
            if (
                self.desc_size < 64
                or self.desc_size > 1024
                or self.desc_size & (self.desc_size - 1)
            ):
                raise reader.corrupt(where, f"invalid descriptor size {self.desc_size}")
        (self.first_meta_bg,) = struct.unpack_from("<I", sb, 260)
        self.backups = (
            struct.unpack_from("<II", sb, 0x24C) if compat & COMPAT_SPARSE_SUPER2 else None
        )
        for bit, what in _UNREADABLE.items():
            if incompat & bit:
                raise UnsupportedImageError(f"ext4 feature {what!r}", image=self.label)
        if (
            self.inode_size < 128
            or self.inode_size > bs
            or self.inode_size & (self.inode_size - 1)
            or self.inodes_per_group == 0
            or self.blocks_per_group == 0
            or self.inodes_per_group > 8 * bs
            or self.first_data_block >= max(self.blocks_count, 1)
        ):
            raise reader.corrupt(where, "inconsistent geometry")
        self.groups = -(-(self.blocks_count - self.first_data_block) // self.blocks_per_group)
        if self.groups * self.inodes_per_group < self.inodes_count or self.groups <= 0:
            raise reader.corrupt(where, "inode count does not fit the block groups")
        if self.blocks_count * bs > reader.size:
            raise reader.corrupt(
                where,
                f"says {self.blocks_count * bs} bytes, the image has {reader.size} (truncated?)",
            )
        self.meta = BlockCache(reader, bs, max_blocks=max(16, (1 << 20) // bs))
        self._tables: LRU[int, int] = LRU(1024)

    # -- block groups and inodes ----------------------------------------------------------------

    def _inode_table(self, group: int) -> int:
        hit = self._tables.get(group)
        if hit is not None:
            return hit
        bs = self.block_size
        per_block = bs // self.desc_size
        dblock = group // per_block
        if self.incompat & INCOMPAT_META_BG and dblock >= self.first_meta_bg:
            first = dblock * per_block  # the meta group's first block group holds the block
            loc = self.first_data_block + first * self.blocks_per_group
            loc += int(
                _has_super(first, bool(self.ro_compat & RO_COMPAT_SPARSE_SUPER), self.backups)
            )
        else:
            loc = self.first_data_block + 1 + dblock
        where = f"ext4 group descriptor {group}"
        raw = self.meta.pread(
            loc * bs + (group % per_block) * self.desc_size, self.desc_size, where
        )
        table = struct.unpack_from("<I", raw, 8)[0]
        if self.desc_size >= 64:
            table |= struct.unpack_from("<I", raw, 0x28)[0] << 32
        if not 0 < table < self.blocks_count:
            raise self.reader.corrupt(where, f"inode table at block {table} out of range")
        return self._tables.put(group, table)

    def _root(self) -> ExtInode:
        return self._node(ROOT_INO)

    def _node(self, ref: int) -> ExtInode:
        where = f"ext4 inode {ref}"
        if not 1 <= ref <= self.inodes_count:
            raise self.reader.corrupt(where, f"inode number out of range (1..{self.inodes_count})")
        group, index = divmod(ref - 1, self.inodes_per_group)
        pos = self._inode_table(group) * self.block_size + index * self.inode_size
        raw = self.meta.pread(pos, self.inode_size, where)
        mode, uid_lo, size_lo = struct.unpack_from("<HHI", raw, 0)
        (mtime,) = struct.unpack_from("<I", raw, 16)
        gid_lo, _links, blocks_lo, flags = struct.unpack_from("<HHII", raw, 24)
        (acl_lo, size_hi) = struct.unpack_from("<I4xI", raw, 104)
        blocks_hi, acl_hi, uid_hi, gid_hi = struct.unpack_from("<HHHH", raw, 116)
        kind = _KINDS.get(mode & _S_IFMT)
        if kind is None:
            raise self.reader.corrupt(where, f"unknown file type in mode {mode:#o}")
        extra = b""
        if self.inode_size > 128:
            (extra_isize,) = struct.unpack_from("<H", raw, 128)
            if 128 + extra_isize > self.inode_size or extra_isize & 3:
                raise self.reader.corrupt(where, f"invalid extra inode size {extra_isize}")
            extra = raw[128 + extra_isize :]
        return ExtInode(
            ident=ref,
            kind=kind,
            mode=mode,
            size=size_lo | (size_hi << 32),
            uid=uid_lo | (uid_hi << 16),
            gid=gid_lo | (gid_hi << 16),
            mtime=float(mtime),
            flags=flags,
            block=raw[40:100],
            blocks=blocks_lo | (blocks_hi << 32),
            file_acl=acl_lo | (acl_hi << 32),
            extra=extra,
        )

    # -- mapping file blocks ----------------------------------------------------------------------

    def _extents(self, node: ExtInode, first: int, last: int) -> Iterator[tuple[int, int, int]]:
        """(logical block, physical block or 0 for zeros, length) runs overlapping [first, last]."""
        where = f"ext4 inode {node.ident} extent tree"
        stack: list[tuple[bytes, int]] = [(node.block, MAX_EXTENT_DEPTH + 1)]
        visited = 0
        while stack:
            data, parent_depth = stack.pop()
            magic, entries, _max, depth = struct.unpack_from("<HHHH", data, 0)
            if magic != EXTENT_MAGIC:
                raise self.reader.corrupt(where, "bad extent header magic")
            # each level must be exactly one below its parent: no loops, bounded depth
            if depth > MAX_EXTENT_DEPTH or (
                parent_depth <= MAX_EXTENT_DEPTH and depth != parent_depth - 1
            ):
                raise self.reader.corrupt(where, f"invalid depth {depth} (cycle or corruption)")
            if 12 + 12 * entries > len(data):
                raise self.reader.corrupt(where, f"{entries} entries do not fit the node")
            if depth == 0:
                for i in range(entries):
                    lblk, length, start_hi, start_lo = struct.unpack_from(
                        "<IHHI", data, 12 + 12 * i
                    )
                    zeros = length > 32768  # an unwritten extent reads as zeros
                    if zeros:
                        length -= 32768
                    if lblk + length <= first or lblk > last:
                        continue
                    phys = start_lo | (start_hi << 32)
                    if not zeros and (phys == 0 or phys + length > self.blocks_count):
                        raise self.reader.corrupt(where, f"extent at block {phys} out of range")
                    yield lblk, 0 if zeros else phys, length
                continue
            children = []
            for i in range(entries):
                lblk, leaf_lo, leaf_hi = struct.unpack_from("<IIH", data, 12 + 12 * i)
                nxt = (
                    struct.unpack_from("<I", data, 12 + 12 * (i + 1))[0]
                    if i + 1 < entries
                    else None
                )
                if lblk > last or (nxt is not None and nxt <= first):
                    continue
                leaf = leaf_lo | (leaf_hi << 32)
                if not 0 < leaf < self.blocks_count:
                    raise self.reader.corrupt(where, f"index points to block {leaf}")
                visited += 1
                if visited > self.blocks_count:
                    raise self.reader.corrupt(where, "too many index nodes (cycle)")
                children.append(
                    (self.meta.pread(leaf * self.block_size, self.block_size, where), depth)
                )
            stack.extend(reversed(children))

    def _blockmap(self, node: ExtInode, first: int, last: int) -> Iterator[tuple[int, int, int]]:
        """The same runs for a legacy direct/indirect block map."""
        where = f"ext4 inode {node.ident} block map"
        per = self.block_size // 4
        ptrs = struct.unpack("<15I", node.block)

        def table(blk: int) -> tuple[int, ...]:
            if blk >= self.blocks_count:
                raise self.reader.corrupt(where, f"indirect block {blk} out of range")
            raw = self.meta.pread(blk * self.block_size, self.block_size, where)
            return struct.unpack(f"<{per}I", raw)

        def walk(blk: int, level: int, base: int) -> Iterator[tuple[int, int, int]]:
            span = per**level
            if base > last or base + span * per <= first:
                return
            if blk == 0:
                yield base, 0, span * per
                return
            for i, p in enumerate(table(blk)):
                lb = base + i * span
                if lb > last:
                    break
                if lb + span <= first:
                    continue
                if level == 0:
                    if p >= self.blocks_count:
                        raise self.reader.corrupt(where, f"data block {p} out of range")
                    yield lb, p, 1
                else:
                    yield from walk(p, level - 1, lb)

        for i in range(12):
            if first <= i <= last:
                if ptrs[i] >= self.blocks_count:
                    raise self.reader.corrupt(where, f"data block {ptrs[i]} out of range")
                yield i, ptrs[i], 1
        base = 12
        for level, p in enumerate(ptrs[12:15]):
            yield from walk(p, level, base)
            base += per ** (level + 1)

    def _runs(self, node: ExtInode, first: int, last: int) -> Iterator[tuple[int, int, int]]:
        if node.flags & FL_EXTENTS:
            return self._extents(node, first, last)
        return self._blockmap(node, first, last)

    def _inline(self, node: ExtInode) -> bytes:
        """Inline data: i_block, continued in the ``system.data`` extended attribute."""
        data = node.block
        if node.size > 60:
            extra = self._xattr(node, 7, b"data")
            if extra is None:
                raise self.reader.corrupt(f"ext4 inode {node.ident}", "inline data is missing")
            data += extra
        return data

    def _xattr(self, node: ExtInode, index: int, name: bytes) -> bytes | None:
        """An in-inode extended attribute value (used for inline data)."""
        area = node.extra
        where = f"ext4 inode {node.ident} xattrs"
        if len(area) < 4 or struct.unpack_from("<I", area, 0)[0] != 0xEA020000:
            return None
        base, pos = 4, 4
        while pos + 16 <= len(area):
            nlen, nidx, voff, vino, vsize = struct.unpack_from("<BBHII", area, pos)
            if nlen == 0 and nidx == 0 and voff == 0 and vino == 0:
                break
            ename = area[pos + 16 : pos + 16 + nlen]
            if nidx == index and ename == name:
                if vino or base + voff + vsize > len(area):
                    raise self.reader.corrupt(where, "value outside the inode")
                return area[base + voff : base + voff + vsize]
            pos += (16 + nlen + 3) & ~3
        return None

    def _read(self, node: ExtInode, offset: int, size: int) -> bytes:
        if node.flags & FL_INLINE_DATA:
            # past the stored inline bytes a file reads as zeros (e2fsprogs makes such sparse
            # inline files, the kernel zero-fills them)
            chunk = self._inline(node)[offset : offset + size]
            return chunk + bytes(size - len(chunk))
        bs = self.block_size
        first, last = offset // bs, (offset + size - 1) // bs
        out = bytearray(size)  # holes stay zero
        for lblk, phys, length in self._runs(node, first, last):
            lo = max(lblk, first)
            hi = min(lblk + length - 1, last)
            if phys == 0 or lo > hi:
                continue
            start = max(lo * bs, offset)
            end = min((hi + 1) * bs, offset + size)
            pstart = (phys + (lo - lblk)) * bs + (start - lo * bs)
            out[start - offset : end - offset] = self.reader.pread(
                pstart, end - start, f"ext4 inode {node.ident} data"
            )
        return bytes(out)

    # -- directories and links ----------------------------------------------------------------

    def _entries(self, node: ExtInode) -> Iterator[tuple[bytes, int]]:
        where = f"ext4 directory {node.ident}"
        if node.flags & FL_INLINE_DATA:
            data = self._inline(node)
            # the first 4 bytes are the parent's inode number, then entries of two regions
            yield from self._parse_block(data[4:60], where)
            if len(data) > 60:
                yield from self._parse_block(data[60:], where)
            return
        if node.size > MAX_METADATA:
            raise self.reader.corrupt(where, f"implausible directory size {node.size}")
        bs = self.block_size
        nblocks = -(-node.size // bs)
        for lblk, phys, length in self._runs(node, 0, max(nblocks - 1, 0)):
            for i in range(max(lblk, 0), min(lblk + length, nblocks)):
                if phys == 0:
                    continue
                block = self.meta.pread((phys + i - lblk) * bs, bs, where)
                yield from self._parse_block(block, where)

    def _parse_block(self, block: bytes, where: str) -> Iterator[tuple[bytes, int]]:
        pos, n = 0, len(block)
        filetype = self.incompat & INCOMPAT_FILETYPE
        while pos + 8 <= n:
            ino, rec_len, name_len = struct.unpack_from("<IHH", block, pos)
            if rec_len in (0, 65535) and n >= 65536:
                rec_len = n - pos
            if filetype:
                name_len &= 0xFF
            if rec_len < 8 or rec_len & 3 or pos + rec_len > n or 8 + name_len > rec_len:
                raise self.reader.corrupt(where, f"invalid entry at offset {pos}")
            if ino:
                name = block[pos + 8 : pos + 8 + name_len]
                if ino > self.inodes_count:
                    raise self.reader.corrupt(where, f"entry {name!r} has inode {ino}")
                if name not in (b".", b".."):
                    if not name or b"/" in name or b"\0" in name:
                        raise self.reader.corrupt(where, f"invalid name {name!r}")
                    yield name, ino
            pos += rec_len

    def _target(self, node: ExtInode) -> bytes:
        where = f"ext4 inode {node.ident}"
        if node.size > 4096:
            raise self.reader.corrupt(where, f"symlink target of {node.size} bytes")
        if node.flags & FL_INLINE_DATA:
            return self._inline(node)[: node.size]
        ea_blocks = (self.block_size >> 9) if node.file_acl else 0
        if not node.flags & FL_EXTENTS and node.blocks - ea_blocks <= 0:
            if node.size > 60:
                raise self.reader.corrupt(where, "fast symlink longer than 60 bytes")
            return node.block[: node.size]  # a fast symlink: the target is in i_block
        return self._read(node, 0, node.size)

"""A read-only EROFS reader: plain, tail-packed (inline), chunk-based and compressed files.

EROFS (``mkfs.erofs``; mkosi's default for portable images) stores a superblock at byte 1024,
then inodes in a metadata area addressed by *nid* (``meta_blkaddr * block size + nid * 32``):
compact (32 bytes) or extended (64 bytes) inodes, followed by their inline xattrs and, per data
layout, tail data, a chunk index or a compression map. Directory data are blocks of 12-byte
entries followed by the names, sorted, so a lookup in a large directory is a binary search.

Compressed files (lz4, lzma, deflate, zstd; compact and full indexes, big physical clusters,
tail-packing and fragments) are mapped and decoded by :mod:`portablekit.raw.erofs_z`; the on-disk
constants and the inode value are :mod:`portablekit.raw.erofs_format`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from ..errors import UnsupportedImageError
from ..source import FileKind
from ._io import LRU, MAX_METADATA, BlockCache, Reader
from .erofs_format import (
    CHUNK_48BIT,
    CHUNK_BASED,
    CHUNK_INDEXES,
    FLAT_INLINE,
    FLAT_PLAIN,
    INCOMPAT_DEVICE_TABLE,
    KINDS,
    KNOWN,
    MAGIC,
    NULL_ADDR32,
    SUPER_OFFSET,
    UNSUPPORTED,
    ErofsInode,
)
from .erofs_z import read_compressed
from .fsbase import FileSystemSource

__all__ = ["ErofsSource"]

#: directories with more blocks than this are searched (binary search) rather than listed
_LIST_BLOCKS = 8


class ErofsSource(FileSystemSource[ErofsInode]):
    """An EROFS file system in ``reader`` (a whole file or a partition)."""

    fstype = "erofs"

    def __init__(self, reader: Reader, label: str = "") -> None:
        super().__init__(reader, label or reader.label)
        where = "erofs superblock"
        sb = reader.pread(SUPER_OFFSET, 128, where)
        magic, _csum, _compat, blkszbits, _ext, root2 = struct.unpack_from("<IIIBBH", sb, 0)
        if magic != MAGIC:
            raise reader.corrupt(where, "bad magic")
        if not 9 <= blkszbits <= 16:
            raise reader.corrupt(where, f"block size 1 << {blkszbits}")
        self.blkszbits: int = blkszbits
        self.block_size: int = 1 << blkszbits
        bs = self.block_size
        (self.epoch, self.epoch_nsec, blocks, self.meta_blkaddr) = struct.unpack_from(
            "<QIII", sb, 24
        )
        (self.incompat,) = struct.unpack_from("<I", sb, 80)
        (self.u1, self.extra_devices, _slotoff, dirblkbits) = struct.unpack_from("<HHHB", sb, 84)
        (self.packed_nid,) = struct.unpack_from("<Q", sb, 96)
        self.root_nid = root2
        for bit, name in UNSUPPORTED.items():
            if self.incompat & bit:
                raise UnsupportedImageError(f"EROFS feature {name!r}", image=self.label)
        if self.incompat & ~KNOWN:
            raise UnsupportedImageError(
                f"unknown EROFS features {self.incompat & ~KNOWN:#x}", image=self.label
            )
        if self.incompat & INCOMPAT_DEVICE_TABLE and self.extra_devices:
            raise UnsupportedImageError("multi-device EROFS image", image=self.label)
        if dirblkbits:
            raise UnsupportedImageError(
                f"EROFS directory block bits {dirblkbits}", image=self.label
            )
        if blocks * bs > reader.size:
            raise reader.corrupt(
                where, f"says {blocks * bs} bytes, the image has {reader.size} (truncated?)"
            )
        self.blocks = blocks
        self.meta_base = self.meta_blkaddr * bs
        if self.meta_base >= max(reader.size, 1):
            raise reader.corrupt(where, f"metadata area at block {self.meta_blkaddr} out of range")
        self.meta = BlockCache(reader, bs, max_blocks=max(16, (1 << 20) // bs))
        #: caches of the compressed-file decoder: maps by inode, decoded pclusters
        self.zmaps: LRU[int, object] = LRU(64)
        self.zdata: LRU[tuple[int, int], bytes] = LRU(4)

    # -- inodes -----------------------------------------------------------------------------------

    def _root(self) -> ErofsInode:
        return self._node(self.root_nid)

    def _node(self, ref: int) -> ErofsInode:
        where = f"erofs inode {ref}"
        pos = self.meta_base + ref * 32
        if ref >> 60 or pos + 32 > self.reader.size:
            raise self.reader.corrupt(where, "nid outside the image")
        raw = self.meta.pread(pos, 32, where)
        fmt, xcount, mode = struct.unpack_from("<HHH", raw, 0)
        extended = fmt & 1
        layout = (fmt >> 1) & 7
        if layout > CHUNK_BASED:
            raise self.reader.corrupt(where, f"unknown data layout {layout}")
        if extended:
            raw = self.meta.pread(pos, 64, where)
            size, u, _ino, uid, gid, mtime = struct.unpack_from("<QIIIIQ", raw, 8)
            isize = 64
        else:
            size, mtime_rel, u, _ino, uid, gid = struct.unpack_from("<IIIIHH", raw, 8)
            mtime = self.epoch + mtime_rel
            isize = 32
        kind = KINDS.get(mode & 0o170000)
        if kind is None:
            raise self.reader.corrupt(where, f"unknown file type in mode {mode:#o}")
        xsize = 12 + (xcount - 1) * 4 if xcount else 0
        if (
            kind in (FileKind.DIR, FileKind.SYMLINK, FileKind.FILE)
            and size > self.reader.size * 4096
        ):
            raise self.reader.corrupt(where, f"implausible size {size}")
        return ErofsInode(
            ident=ref,
            kind=kind,
            mode=mode,
            size=size,
            uid=uid,
            gid=gid,
            mtime=float(mtime),
            pos=pos,
            layout=layout,
            isize=isize,
            xsize=xsize,
            u=u,
        )

    # -- data -------------------------------------------------------------------------------------

    def data(self, node: ErofsInode, offset: int, size: int) -> bytes:
        """``size`` bytes of ``node``'s data from ``offset``, whatever its layout."""
        if size <= 0:
            return b""
        if offset + size > node.size:
            raise self.reader.corrupt(f"erofs inode {node.ident}", "read beyond the end of file")
        if node.layout in (FLAT_PLAIN, FLAT_INLINE):
            return self._flat(node, offset, size)
        if node.layout == CHUNK_BASED:
            return self._chunked(node, offset, size)
        return read_compressed(self, node, offset, size)

    def _flat(self, node: ErofsInode, offset: int, size: int) -> bytes:
        bs = self.block_size
        where = f"erofs inode {node.ident} data"
        nblocks = -(-node.size // bs)
        inline = node.layout == FLAT_INLINE
        # with tail-packing the last block's bytes live right after the inode
        lastblk = nblocks - 1 if inline else nblocks
        split = lastblk * bs
        out = []
        end = offset + size
        if offset < split:
            start = node.u * bs + offset
            n = min(end, split) - offset
            if node.u + lastblk > self.blocks:
                raise self.reader.corrupt(where, f"blocks at {node.u} beyond the image")
            out.append(self.reader.pread(start, n, where))
        if end > split:
            tail_len = node.size - split
            tpos = node.tail
            if tpos % bs + tail_len > bs:
                raise self.reader.corrupt(where, "inline tail crosses a block boundary")
            lo = max(offset, split) - split
            out.append(self.meta.pread(tpos + lo, end - split - lo, where))
        return b"".join(out)

    def _chunked(self, node: ErofsInode, offset: int, size: int) -> bytes:
        bs = self.block_size
        where = f"erofs inode {node.ident} chunk index"
        fmt = node.u & 0xFFFF
        if fmt & CHUNK_48BIT:
            raise UnsupportedImageError("48-bit EROFS chunk indexes", image=self.label)
        chunkbits = self.blkszbits + (fmt & 0x1F)
        if chunkbits > 40:
            raise self.reader.corrupt(where, f"chunk size 1 << {chunkbits}")
        csize = 1 << chunkbits
        unit = 8 if fmt & CHUNK_INDEXES else 4
        base = -(-node.tail // unit) * unit
        out = bytearray(size)
        end = offset + size
        for k in range(offset >> chunkbits, ((end - 1) >> chunkbits) + 1):
            raw = self.meta.pread(base + k * unit, unit, where)
            if unit == 8:
                _hi, device, blk = struct.unpack("<HHI", raw)
                if device:
                    raise UnsupportedImageError("multi-device EROFS chunks", image=self.label)
            else:
                (blk,) = struct.unpack("<I", raw)
            if blk == NULL_ADDR32:
                continue  # a hole
            cstart = k * csize
            lo, hi = max(offset, cstart), min(end, cstart + csize)
            if blk + ((hi - cstart + bs - 1) >> self.blkszbits) > self.blocks:
                raise self.reader.corrupt(where, f"chunk at block {blk} beyond the image")
            out[lo - offset : hi - offset] = self.reader.pread(
                blk * bs + (lo - cstart), hi - lo, f"erofs inode {node.ident} data"
            )
        return bytes(out)

    def _read(self, node: ErofsInode, offset: int, size: int) -> bytes:
        return self.data(node, offset, size)

    def _target(self, node: ErofsInode) -> bytes:
        if node.size > 4096:
            raise self.reader.corrupt(f"erofs inode {node.ident}", f"symlink of {node.size} bytes")
        return self.data(node, 0, node.size)

    # -- directories ------------------------------------------------------------------------------

    def _dir_block(self, node: ErofsInode, index: int) -> list[tuple[bytes, int]]:
        """Names and nids of directory block ``index`` (``.`` and ``..`` included)."""
        bs = self.block_size
        where = f"erofs directory {node.ident} block {index}"
        n = min(bs, node.size - index * bs)
        blk = self.data(node, index * bs, n)
        if n < 12:
            raise self.reader.corrupt(where, "too short")
        (first,) = struct.unpack_from("<H", blk, 8)
        count = first // 12
        if first % 12 or count == 0 or first > n:
            raise self.reader.corrupt(where, f"invalid first name offset {first}")
        ents = [struct.unpack_from("<QH", blk, 12 * i) for i in range(count)]
        out = []
        for i, (nid, nameoff) in enumerate(ents):
            end = ents[i + 1][1] if i + 1 < count else n
            if not first <= nameoff < end <= n:
                raise self.reader.corrupt(where, f"invalid name offset {nameoff}")
            name = blk[nameoff:end]
            if i + 1 == count:
                name = name.split(b"\0", 1)[0]  # the last name runs to the block's padding
            if not name or b"/" in name or b"\0" in name:
                raise self.reader.corrupt(where, f"invalid name {name!r}")
            out.append((name, nid))
        return out

    def _nblocks(self, node: ErofsInode) -> int:
        if node.size > MAX_METADATA:
            raise self.reader.corrupt(f"erofs directory {node.ident}", "implausible size")
        return -(-node.size // self.block_size)

    def _entries(self, node: ErofsInode) -> Iterator[tuple[bytes, int]]:
        for i in range(self._nblocks(node)):
            for name, nid in self._dir_block(node, i):
                if name not in (b".", b".."):
                    yield name, nid

    def _lookup(self, node: ErofsInode, name: bytes) -> int | None:
        nblocks = self._nblocks(node)
        if nblocks <= _LIST_BLOCKS or self._dirs.get(node.ident) is not None:
            return self._listing(node).get(name)
        lo, hi = 0, nblocks - 1  # names are sorted across blocks: find the block by its names
        while lo <= hi:
            mid = (lo + hi) // 2
            ents = self._dir_block(node, mid)
            if name < ents[0][0]:
                hi = mid - 1
            elif name > ents[-1][0]:
                lo = mid + 1
            else:
                return dict(ents).get(name)
        return None

"""Bounded positional reads from an image file, and the small caches the readers share.

Every reader goes through :class:`Reader`: it never reads outside its window (a partition, or
the whole file), so a corrupt offset or size becomes a
:class:`~portablekit.errors.CorruptImageError` naming the structure instead of an over-long
read, and :class:`LRU` keeps every cache bounded.
"""

from __future__ import annotations

import io
import os
from collections import OrderedDict
from collections.abc import Callable
from typing import BinaryIO, Generic, TypeVar

from ..errors import CorruptImageError

K = TypeVar("K")
V = TypeVar("V")

#: largest single metadata structure a reader agrees to read at once (directories, tables)
MAX_METADATA = 64 << 20


class LRU(Generic[K, V]):
    """A least-recently-used mapping holding at most ``maxsize`` entries."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value for ``key`` (now the most recently used), or ``None``."""
        try:
            self._data.move_to_end(key)
        except KeyError:
            return None
        return self._data[key]

    def put(self, key: K, value: V) -> V:
        """Store ``value`` under ``key``, dropping the least recently used entry if full."""
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self.maxsize:
            self._data.popitem(last=False)
        return value

    def cached(self, key: K, make: Callable[[], V]) -> V:
        """The value for ``key``, computed by ``make()`` and stored when missing."""
        hit = self.get(key)
        return hit if hit is not None else self.put(key, make())

    def __len__(self) -> int:
        return len(self._data)


def file_size(fobj: BinaryIO) -> int:
    """Size of a seekable binary file object (its current position is kept)."""
    try:
        return os.fstat(fobj.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        pos = fobj.tell()
        end = fobj.seek(0, io.SEEK_END)
        fobj.seek(pos)
        return end


class Reader:
    """Reads byte ranges of a window ``[offset, offset + size)`` of a binary file object.

    ``label`` names the image in errors. Reads use ``os.pread`` on a real file (so the file
    position is never shared state) and ``seek``/``read`` on any other file object.
    """

    def __init__(
        self, fobj: BinaryIO, *, offset: int = 0, size: int | None = None, label: str = ""
    ) -> None:
        self.fobj = fobj
        self.offset = offset
        self.label = label
        total = file_size(fobj)
        self.size = max(0, total - offset) if size is None else size
        self._fd: int | None = None
        if type(fobj) in (io.BufferedReader, io.FileIO):
            try:
                self._fd = fobj.fileno()
            except (OSError, io.UnsupportedOperation):
                self._fd = None

    def window(self, offset: int, size: int, structure: str = "partition") -> Reader:
        """A reader over ``[offset, offset + size)`` of this one (a partition, say)."""
        if offset < 0 or size < 0 or offset + size > self.size:
            raise CorruptImageError(
                f"extends beyond the end of the image ({offset}+{size} > {self.size} bytes)",
                image=self.label,
                structure=structure,
            )
        sub = Reader.__new__(Reader)
        sub.fobj, sub.offset, sub.size, sub.label, sub._fd = (
            self.fobj,
            self.offset + offset,
            size,
            self.label,
            self._fd,
        )
        return sub

    def pread(self, offset: int, size: int, structure: str) -> bytes:
        """Exactly ``size`` bytes at ``offset`` of the window; a short read is corruption."""
        if offset < 0 or size < 0 or offset + size > self.size:
            raise CorruptImageError(
                f"points outside the image (bytes {offset}..{offset + size} of {self.size};"
                " truncated image?)",
                image=self.label,
                structure=structure,
            )
        if size == 0:
            return b""
        if self._fd is not None:
            data = os.pread(self._fd, size, self.offset + offset)
        else:
            self.fobj.seek(self.offset + offset)
            data = self.fobj.read(size)
        if len(data) != size:
            raise CorruptImageError(
                f"short read ({len(data)} of {size} bytes at {offset}; truncated image?)",
                image=self.label,
                structure=structure,
            )
        return data

    def corrupt(self, structure: str, message: str) -> CorruptImageError:
        """A :class:`~portablekit.errors.CorruptImageError` about ``structure`` of this image."""
        return CorruptImageError(message, image=self.label, structure=structure)


class BlockCache:
    """Reads through a bounded cache of aligned blocks (for metadata that is read repeatedly)."""

    def __init__(self, reader: Reader, block_size: int = 4096, max_blocks: int = 256) -> None:
        self.reader = reader
        self.block_size = block_size
        self._cache: LRU[int, bytes] = LRU(max_blocks)

    def _block(self, index: int, structure: str) -> bytes:
        hit = self._cache.get(index)
        if hit is not None:
            return hit
        start = index * self.block_size
        n = min(self.block_size, self.reader.size - start)
        if n <= 0:
            raise self.reader.corrupt(structure, f"points outside the image (byte {start})")
        return self._cache.put(index, self.reader.pread(start, n, structure))

    def pread(self, offset: int, size: int, structure: str) -> bytes:
        """``size`` bytes at ``offset``, served from (and filling) the block cache."""
        if offset < 0 or size < 0 or offset + size > self.reader.size:
            raise self.reader.corrupt(
                structure,
                f"points outside the image (bytes {offset}..{offset + size} of "
                f"{self.reader.size}; truncated image?)",
            )
        bs = self.block_size
        first, last = offset // bs, (offset + size - 1) // bs if size else offset // bs
        if first == last:
            blk = self._block(first, structure)
            start = offset - first * bs
            return blk[start : start + size]
        if size > MAX_METADATA:
            raise self.reader.corrupt(structure, f"implausibly large ({size} bytes)")
        parts = [self._block(i, structure) for i in range(first, last + 1)]
        joined = b"".join(parts)
        start = offset - first * bs
        return joined[start : start + size]

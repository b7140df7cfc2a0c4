"""What the file-system readers share: path lookup over inodes, bounded caches, ``Stat``.

A reader subclasses :class:`FileSystemSource` and implements five small methods on its own inode
type (root, inode by reference, directory entries, file bytes, link target); this class turns
them into the four :class:`~portablekit.source.ImageSource` primitives on physical paths, with
the errors the contract asks for (``ENOENT``, ``ENOTDIR``, ``EISDIR``, ``EINVAL``).

Lookups are lazy: opening an image reads its superblock only, and a path costs one directory
read per component, remembered in bounded caches (recently used paths and directories). A
directory reached through a second path (an entry pointing back to an ancestor, or a
hard-linked directory) is a corrupt image, reported when that path is used, so walking a tree
always ends and visits each directory once.
"""

from __future__ import annotations

import errno
import os
import stat as _stat
from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Generic, TypeVar

from ..errors import ImagePathError
from ..source import FileKind, ImageSource, Stat
from ._io import LRU, Reader

__all__ = ["FileSystemSource", "Node"]

#: directory listings kept in memory (each at most one directory's entries)
DIR_CACHE = 32
#: resolved paths kept in memory
PATH_CACHE = 4096
#: entries one directory may hold; more is taken for corruption (bounds memory)
MAX_DIR_ENTRIES = 1 << 20


@dataclass(slots=True)
class Node:
    """The metadata every reader's inodes carry (readers subclass it with their own fields)."""

    ident: int  #: unique per inode (cycle detection, cache keys)
    kind: FileKind
    mode: int  #: full st_mode
    size: int
    uid: int
    gid: int
    mtime: float

    def stat(self) -> Stat:
        """This inode as a :class:`~portablekit.source.Stat`."""
        return Stat(
            kind=self.kind,
            mode=_stat.S_IMODE(self.mode),
            size=self.size,
            uid=self.uid,
            gid=self.gid,
            mtime=self.mtime,
        )


N = TypeVar("N", bound=Node)


class FileSystemSource(ImageSource, Generic[N]):
    """An :class:`~portablekit.source.ImageSource` over a file system read by a subclass."""

    #: "squashfs", "ext4", "erofs"
    fstype: str = ""

    def __init__(self, reader: Reader, label: str) -> None:
        self.reader = reader
        self.label = label
        self._paths: LRU[str, N] = LRU(PATH_CACHE)
        self._dirs: LRU[int, dict[bytes, int]] = LRU(DIR_CACHE)
        self._dir_paths: dict[int, str] = {}

    # -- what a reader implements -----------------------------------------------------------

    @abstractmethod
    def _root(self) -> N:
        """The root directory's inode."""

    @abstractmethod
    def _node(self, ref: int) -> N:
        """The inode a directory entry refers to."""

    @abstractmethod
    def _entries(self, node: N) -> Iterator[tuple[bytes, int]]:
        """Names and inode references in directory ``node``, without ``.`` and ``..``."""

    @abstractmethod
    def _read(self, node: N, offset: int, size: int) -> bytes:
        """``size`` bytes of regular file ``node`` from ``offset`` (both within the file)."""

    @abstractmethod
    def _target(self, node: N) -> bytes:
        """The target of symbolic link ``node``."""

    def _lookup(self, node: N, name: bytes) -> int | None:
        """The reference of ``name`` in directory ``node`` (readers with an index override)."""
        return self._listing(node).get(name)

    # -- shared machinery ---------------------------------------------------------------------

    def _listing(self, node: N) -> dict[bytes, int]:
        cached = self._dirs.get(node.ident)
        if cached is not None:
            return cached
        listing: dict[bytes, int] = {}
        for name, ref in self._entries(node):
            listing.setdefault(name, ref)
            if len(listing) > MAX_DIR_ENTRIES:
                raise self.reader.corrupt(
                    f"directory inode {node.ident}", f"more than {MAX_DIR_ENTRIES} entries"
                )
        return self._dirs.put(node.ident, listing)

    def _walk(self, path: PurePosixPath | str) -> N:
        # string keys: pathlib objects are the slow part of a lookup, and the callers pass
        # physical, normalized paths
        key = str(path)
        hit = self._paths.get(key)
        if hit is not None:
            return hit
        if key in ("/", ""):
            root = self._root()
            self._dir_paths.setdefault(root.ident, "/")
            return self._paths.put(key, root)
        if not key.startswith("/"):
            key = "/" + key
        parent_key, _, name = key.rpartition("/")
        parent_key = parent_key or "/"
        parent = self._walk(parent_key)
        if parent.kind is not FileKind.DIR:
            raise self._err(errno.ENOTDIR, parent_key)
        if name in (".", "..", ""):
            raise self._err(errno.EINVAL, key)
        ref = self._lookup(parent, os.fsencode(name))
        if ref is None:
            raise self._err(errno.ENOENT, key)
        node = self._node(ref)
        if node.kind is FileKind.DIR:
            self._check_dir(key, node)
        return self._paths.put(key, node)

    def _check_dir(self, key: str, node: N) -> None:
        # file systems never hard-link directories: a directory reached by a second path is a
        # cycle (the first path is an ancestor) or a shared subtree; either would make a walk
        # endless or exponential
        first = self._dir_paths.setdefault(node.ident, key)
        if first == key:
            return
        cycle = key.startswith(first.rstrip("/") + "/")
        raise self.reader.corrupt(
            f"directory {key}",
            f"is the same directory as {first} ("
            + ("directory cycle" if cycle else "directory hard link")
            + ")",
        )

    # -- the ImageSource primitives ----------------------------------------------------------

    def lstat(self, path: PurePosixPath) -> Stat:
        return self._walk(path).stat()

    def readlink(self, path: PurePosixPath) -> str:
        node = self._walk(path)
        if node.kind is not FileKind.SYMLINK:
            raise self._err(errno.EINVAL, path)
        return os.fsdecode(self._target(node))

    def listdir(self, path: PurePosixPath) -> list[str]:
        node = self._walk(path)
        if node.kind is not FileKind.DIR:
            raise self._err(errno.ENOTDIR, path)
        return [os.fsdecode(name) for name in self._listing(node)]

    def read_bytes(self, path: PurePosixPath, offset: int = 0, size: int = -1) -> bytes:
        node = self._walk(path)
        if node.kind is FileKind.DIR:
            raise self._err(errno.EISDIR, path)
        if node.kind is not FileKind.FILE:
            raise self._err(errno.EINVAL, path)
        if offset < 0:
            raise ImagePathError(errno.EINVAL, str(path), self.label)
        end = node.size if size < 0 else min(node.size, offset + size)
        if offset >= end:
            return b""
        return self._read(node, offset, end - offset)

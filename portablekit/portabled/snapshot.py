"""A tree read once: each directory listed in one pass and remembered, for one planning pass.

Planning ``attach``, ``detach`` or ``list`` asks about the same few directories again and again
(``/etc/systemd/system.attached`` holds two entries per attached unit): looking each path up on
disk would walk from the root every time. :class:`SnapshotSource` lists a directory once, with
the kinds of its entries (:meth:`~portablekit.source.ImageSource.listdir_kinds`), and answers
every later question about it from that listing. It is only right while the tree does not
change, so :meth:`Host.snapshot() <portablekit.portabled.host.Host.snapshot>` makes one for one
planning pass or one query, never across a write.
"""

from __future__ import annotations

import errno
from pathlib import PurePosixPath

from ..errors import FileTooLargeError, ImagePathError, SymlinkLoopError
from ..source import MAX_SYMLINKS, FileKind, ImageSource, Stat

__all__ = ["SnapshotSource"]

_ROOT = PurePosixPath("/")


class SnapshotSource(ImageSource):
    """``inner`` as it is now: the same answers, each directory listed once.

    >>> from portablekit.source import MemorySource
    >>> src = SnapshotSource(MemorySource({"etc/a": "1", "etc/b": None}))
    >>> src.kind("/etc/a"), src.kind("/etc/b"), src.kind("/etc/c")
    (<FileKind.FILE: 'file'>, <FileKind.DIR: 'dir'>, None)
    """

    def __init__(self, inner: ImageSource) -> None:
        self.inner = inner
        self.label = inner.label
        # paths as strings inside: most of the work is looking names up, not building paths
        self._dirs: dict[str, dict[str, FileKind]] = {}
        self._stats: dict[PurePosixPath, Stat] = {}
        self._links: dict[str, str] = {}
        self._resolved: dict[tuple[str | PurePosixPath, bool], tuple[str, FileKind | None]] = {}

    def __repr__(self) -> str:
        return f"SnapshotSource({self.inner!r})"

    # -- the primitives, remembered ------------------------------------------------------------

    def _entries(self, d: str) -> dict[str, FileKind]:
        found = self._dirs.get(d)
        if found is None:
            found = self._dirs[d] = self.inner.listdir_kinds(PurePosixPath(d))
        return found

    def _kind(self, p: str) -> FileKind | None:
        """``lstat(p).kind`` of a physical path (``None``: missing), from its directory's
        listing."""
        if p == "/":
            return self.lstat(_ROOT).kind
        parent, _, name = p.rpartition("/")
        try:
            entries = self._entries(parent or "/")
        except ImagePathError as e:
            if e.errno != errno.EACCES:
                raise
            try:  # a directory one may look names up in but not list
                return self.lstat(PurePosixPath(p)).kind
            except ImagePathError as e2:
                if e2.errno == errno.ENOENT:
                    return None
                raise
        return entries.get(name)

    def lstat(self, path: PurePosixPath) -> Stat:
        st = self._stats.get(path)
        if st is None:
            st = self._stats[path] = self.inner.lstat(path)
        return st

    def _readlink(self, p: str) -> str:
        target = self._links.get(p)
        if target is None:
            target = self._links[p] = self.inner.readlink(PurePosixPath(p))
        return target

    def readlink(self, path: PurePosixPath) -> str:
        return self._readlink(str(path))

    def listdir(self, path: PurePosixPath) -> list[str]:
        return list(self._entries(str(path)))

    def listdir_kinds(self, path: PurePosixPath) -> dict[str, FileKind]:
        return dict(self._entries(str(path)))

    def read_bytes(self, path: PurePosixPath, offset: int = 0, size: int = -1) -> bytes:
        return self.inner.read_bytes(path, offset, size)

    def getxattr(self, path: PurePosixPath, name: str) -> bytes | None:
        return self.inner.getxattr(path, name)

    # -- the derived operations, on the listings -----------------------------------------------

    def _chase(self, path: str | PurePosixPath, follow: bool) -> tuple[str, FileKind | None]:
        """The physical path of ``path`` and the kind of what is there (``None``: missing)."""
        key = (path, follow)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = self._walk(path, follow)
        return found

    def _walk(self, path: str | PurePosixPath, follow: bool) -> tuple[str, FileKind | None]:
        # ImageSource.resolve, on strings, each component's kind from its directory's listing
        todo = list(PurePosixPath("/", path).parts[1:])
        todo.reverse()
        done: list[str] = []
        kind: FileKind | None = self._kind("/")
        hops = 0
        while todo:
            part = todo.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if done:
                    done.pop()
                kind = FileKind.DIR if done else self._kind("/")
                continue
            cur = "/" + "/".join((*done, part))
            kind = self._kind(cur)
            if kind is None:
                if not todo:
                    return cur, None
                raise self._err(errno.ENOENT, cur)
            if kind is FileKind.SYMLINK and (todo or follow):
                hops += 1
                if hops > MAX_SYMLINKS:
                    raise SymlinkLoopError(str(PurePosixPath("/", path)), self.label)
                target = self._readlink(cur)
                if target.startswith("/"):
                    done = []
                rest = [p for p in PurePosixPath(target).parts if p != "/"]
                todo.extend(reversed(rest))
                kind = FileKind.DIR if done else self._kind("/")  # where the link leads so far
                continue
            if todo and kind is not FileKind.DIR:
                raise self._err(errno.ENOTDIR, cur)
            done.append(part)
        return "/" + "/".join(done), kind

    def resolve(self, path: str | PurePosixPath, *, follow: bool = True) -> PurePosixPath:
        return PurePosixPath(self._chase(path, follow)[0])

    def kind(self, path: str | PurePosixPath, *, follow: bool = True) -> FileKind | None:
        try:
            return self._chase(path, follow)[1]
        except ImagePathError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                return None
            raise

    def exists(self, path: str | PurePosixPath, *, follow: bool = True) -> bool:
        return self.kind(path, follow=follow) is not None

    def read_file(self, path: str | PurePosixPath, *, limit: int | None = None) -> bytes:
        real, kind = self._chase(path, True)
        if kind is None:
            raise self._err(errno.ENOENT, real)
        if kind is FileKind.DIR:
            raise self._err(errno.EISDIR, path)
        if kind is not FileKind.FILE:
            raise self._err(errno.EINVAL, path)
        if limit is None:
            return self.read_bytes(PurePosixPath(real))
        # no lstat for the size: read one byte more than allowed
        data = self.read_bytes(PurePosixPath(real), 0, limit + 1)
        if len(data) > limit:
            raise FileTooLargeError(str(path), self.label, limit)
        return data

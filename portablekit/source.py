"""Read-only image trees: the one interface every image kind implements.

An :class:`ImageSource` is a file system tree seen from inside an image. Subclasses implement four
primitives on *physical* paths (absolute, normalized, no symbolic link in any parent component):
:meth:`~ImageSource.lstat`, :meth:`~ImageSource.readlink`, :meth:`~ImageSource.listdir` and
:meth:`~ImageSource.read_bytes`. Everything else (``exists``, ``is_dir``, ``iterdir``,
``read_file``, ``resolve``) is built on them here, with symbolic links resolved **as if
chrooted** into the image: an absolute target points into the image, ``..`` stops at the image
root, and a loop raises :class:`~portablekit.errors.SymlinkLoopError` after 32 links, like
systemd's ``chase()``.

Backends: :class:`DirectorySource` (a directory on disk, read through file descriptors that never
follow a link out of the tree), :class:`MemorySource` (an in-memory tree for tests, samples and
notebooks) and the raw-image readers of :mod:`portablekit.raw`.

>>> src = MemorySource({"usr/lib/os-release": "ID=debian\\n",
...                     "etc/os-release": Symlink("/usr/lib/os-release")})
>>> src.read_file("/etc/os-release")
b'ID=debian\\n'
"""

from __future__ import annotations

import errno
import os
import stat as _stat
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath

from .errors import FileTooLargeError, ImagePathError, NotRegularFileError, SymlinkLoopError

__all__ = [
    "MAX_SYMLINKS",
    "DirectorySource",
    "FileKind",
    "ImageSource",
    "MemorySource",
    "Stat",
    "Symlink",
    "as_image_path",
    "getxattr_at",
    "read_regular_at",
    "read_regular_file",
]

#: systemd's ``CHASE_MAX``: symbolic links followed while resolving one path.
MAX_SYMLINKS = 32

ROOT = PurePosixPath("/")


class FileKind(StrEnum):
    """File types, spelled as the oracle's dumps spell them."""

    DIR = "dir"
    FILE = "file"
    SYMLINK = "symlink"
    SOCKET = "socket"
    FIFO = "fifo"
    CHARDEV = "chardev"
    BLOCKDEV = "blockdev"

    @classmethod
    def from_mode(cls, mode: int) -> FileKind:
        """The kind of an ``st_mode`` value."""
        for test, kind in (
            (_stat.S_ISDIR, cls.DIR),
            (_stat.S_ISREG, cls.FILE),
            (_stat.S_ISLNK, cls.SYMLINK),
            (_stat.S_ISSOCK, cls.SOCKET),
            (_stat.S_ISFIFO, cls.FIFO),
            (_stat.S_ISCHR, cls.CHARDEV),
            (_stat.S_ISBLK, cls.BLOCKDEV),
        ):
            if test(mode):
                return kind
        raise ValueError(f"unknown file type in mode {mode:#o}")


@dataclass(frozen=True, slots=True)
class Stat:
    """What :meth:`ImageSource.lstat` tells about one entry."""

    kind: FileKind
    mode: int = 0o644
    size: int = 0
    uid: int = 0
    gid: int = 0
    mtime: float = 0.0


_KIND_NAMES = {
    FileKind.DIR: "directory",
    FileKind.SYMLINK: "symbolic link",
    FileKind.SOCKET: "socket",
    FileKind.FIFO: "FIFO",
    FileKind.CHARDEV: "character device",
    FileKind.BLOCKDEV: "block device",
}


def read_regular_file(path: str | os.PathLike[str], *, limit: int | None = None) -> bytes:
    """The content of a regular file of this machine (a unit file or a profile named on a
    command line), links followed as any program opening a path follows them.

    The file is opened without blocking, so a FIFO cannot hang the read, and must be a regular
    file: anything else raises :class:`~portablekit.errors.NotRegularFileError` naming it and
    what it is. More than ``limit`` bytes raise :class:`~portablekit.errors.FileTooLargeError`.
    Other failures are the :class:`OSError` of the system call, naming the file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        if e.errno != errno.ENXIO:  # a socket cannot be opened at all
            raise
        fd = -1
    try:
        mode = os.fstat(fd).st_mode if fd >= 0 else os.stat(path).st_mode
        if not _stat.S_ISREG(mode):
            kind = FileKind.from_mode(mode)
            raise NotRegularFileError(os.fspath(path), _KIND_NAMES.get(kind, str(kind)))
        if fd >= 0:
            os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if limit is not None and total > limit:
                raise FileTooLargeError(os.fspath(path), "", limit)
            chunks.append(chunk)
    finally:
        if fd >= 0:
            os.close(fd)


def as_image_path(path: str | PurePosixPath) -> PurePosixPath:
    """An absolute, lexically normalized path inside an image (``..`` stops at ``/``)."""
    parts: list[str] = []
    for part in PurePosixPath("/", path).parts[1:]:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath("/", *parts)


class ImageSource(ABC):
    """A read-only file system tree seen from inside an image (see the module docstring)."""

    #: shown in error messages: the image's host path, or a short name for in-memory trees
    label: str = ""

    # -- the four primitives ------------------------------------------------------------------

    @abstractmethod
    def lstat(self, path: PurePosixPath) -> Stat:
        """Metadata of ``path`` itself (a final symbolic link is not followed)."""

    @abstractmethod
    def readlink(self, path: PurePosixPath) -> str:
        """The target of the symbolic link ``path``, exactly as stored."""

    @abstractmethod
    def listdir(self, path: PurePosixPath) -> list[str]:
        """Names in directory ``path`` (without ``.`` and ``..``), in the source's own order."""

    @abstractmethod
    def read_bytes(self, path: PurePosixPath, offset: int = 0, size: int = -1) -> bytes:
        """``size`` bytes (all when negative) of the regular file ``path`` from ``offset``."""

    def getxattr(self, path: PurePosixPath, name: str) -> bytes | None:
        """An extended attribute of ``path`` (not following a final link); ``None`` if unset or
        not supported by the source."""
        return None

    def listdir_kinds(self, path: PurePosixPath) -> dict[str, FileKind]:
        """``{name: kind}`` of the entries of directory ``path``, as :meth:`listdir` orders
        them (a backend that knows the kinds while listing says so in one pass)."""
        return {name: self.lstat(path / name).kind for name in self.listdir(path)}

    # -- derived operations ---------------------------------------------------------------------

    def _err(self, err: int, path: PurePosixPath | str) -> ImagePathError:
        return ImagePathError(err, str(path), self.label)

    def resolve(self, path: str | PurePosixPath, *, follow: bool = True) -> PurePosixPath:
        """The physical path of ``path``, links resolved inside the image.

        With ``follow=False`` a final symbolic link is kept. A missing final component is
        allowed (the returned path then does not exist); a missing or non-directory parent
        raises :class:`~portablekit.errors.ImagePathError` (``ENOENT``/``ENOTDIR``).
        """
        todo = list(PurePosixPath("/", path).parts[1:])
        todo.reverse()
        done: list[str] = []
        hops = 0
        while todo:
            part = todo.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            cur = PurePosixPath("/", *done, part)
            try:
                st = self.lstat(cur)
            except ImagePathError as e:
                if e.errno == errno.ENOENT and not todo:
                    return cur
                raise
            if st.kind is FileKind.SYMLINK and (todo or follow):
                hops += 1
                if hops > MAX_SYMLINKS:
                    raise SymlinkLoopError(str(PurePosixPath("/", path)), self.label)
                target = self.readlink(cur)
                if target.startswith("/"):
                    done = []
                rest = [p for p in PurePosixPath(target).parts if p != "/"]
                todo.extend(reversed(rest))
                continue
            if todo and st.kind is not FileKind.DIR:
                raise self._err(errno.ENOTDIR, cur)
            done.append(part)
        return PurePosixPath("/", *done)

    def stat(self, path: str | PurePosixPath) -> Stat:
        """Metadata of what ``path`` points to (links followed inside the image)."""
        return self.lstat(self.resolve(path))

    def exists(self, path: str | PurePosixPath, *, follow: bool = True) -> bool:
        """Whether ``path`` exists (a dangling link does not, unless ``follow=False``)."""
        try:
            self.lstat(self.resolve(path, follow=follow))
        except ImagePathError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                return False
            raise
        return True

    def kind(self, path: str | PurePosixPath, *, follow: bool = True) -> FileKind | None:
        """The kind of ``path``, or ``None`` if it does not exist."""
        try:
            return self.lstat(self.resolve(path, follow=follow)).kind
        except ImagePathError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                return None
            raise

    def is_dir(self, path: str | PurePosixPath) -> bool:
        """Whether ``path`` is a directory (links followed)."""
        return self.kind(path) is FileKind.DIR

    def is_file(self, path: str | PurePosixPath) -> bool:
        """Whether ``path`` is a regular file (links followed)."""
        return self.kind(path) is FileKind.FILE

    def iterdir(self, path: str | PurePosixPath = ROOT) -> Iterator[PurePosixPath]:
        """Entries of directory ``path`` (resolved), sorted bytewise by name."""
        real = self.resolve(path)
        for name in sorted(self.listdir(real), key=os.fsencode):
            yield real / name

    def read_file(self, path: str | PurePosixPath, *, limit: int | None = None) -> bytes:
        """Content of the regular file ``path`` (links followed).

        More than ``limit`` bytes raise :class:`~portablekit.errors.FileTooLargeError` instead
        of being read.
        """
        real = self.resolve(path)
        st = self.lstat(real)
        if st.kind is FileKind.DIR:
            raise self._err(errno.EISDIR, path)
        if st.kind is not FileKind.FILE:
            raise self._err(errno.EINVAL, path)
        if limit is not None and st.size > limit:
            raise FileTooLargeError(str(path), self.label, limit)
        return self.read_bytes(real)

    def walk(self, path: str | PurePosixPath = ROOT) -> Iterator[tuple[PurePosixPath, Stat]]:
        """Every entry below ``path`` (links not followed), pre-order, sorted bytewise by name."""
        stack = [self.resolve(path)]
        while stack:
            cur = stack.pop()
            subdirs = []
            for name in sorted(self.listdir(cur), key=os.fsencode):
                p = cur / name
                st = self.lstat(p)
                yield p, st
                if st.kind is FileKind.DIR:
                    subdirs.append(p)
            stack.extend(reversed(subdirs))


# --------------------------------------------------------------------------------------------
# A directory on disk


_O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_PATH", 0)


class DirectorySource(ImageSource):
    """A directory tree on the host, read without ever following a link out of it.

    Every primitive opens the parent components one by one with ``O_NOFOLLOW``, so a symbolic
    link in a parent component is an error (``ENOTDIR``) rather than a way out of the tree.
    """

    def __init__(self, root: str | os.PathLike[str], label: str | None = None) -> None:
        self.root = Path(root)
        self.label = label if label is not None else str(root)
        try:
            st = os.stat(self.root)
        except OSError as e:
            raise ImagePathError(e.errno or errno.EIO, str(self.root), self.label) from e
        if not _stat.S_ISDIR(st.st_mode):
            raise ImagePathError(errno.ENOTDIR, str(self.root), self.label)

    def _parent_fd(self, path: PurePosixPath) -> tuple[int, str]:
        parts = PurePosixPath("/", path).parts[1:]
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for i, part in enumerate(parts[:-1]):
                if part in (".", ".."):
                    raise self._err(errno.EINVAL, path)
                try:
                    nfd = os.open(part, _O_DIR, dir_fd=fd)
                except OSError as e:
                    err = e.errno or errno.EIO
                    if err == errno.ELOOP:  # a link where a directory was expected
                        err = errno.ENOTDIR
                    raise self._err(err, PurePosixPath("/", *parts[: i + 1])) from None
                os.close(fd)
                fd = nfd
        except BaseException:
            os.close(fd)
            raise
        return fd, (parts[-1] if parts else ".")

    def _host(self, path: PurePosixPath) -> Path:
        return self.root.joinpath(*PurePosixPath("/", path).parts[1:])

    def lstat(self, path: PurePosixPath) -> Stat:
        fd, name = self._parent_fd(path)
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError as e:
            raise self._err(e.errno or errno.EIO, path) from None
        finally:
            os.close(fd)
        return Stat(
            kind=FileKind.from_mode(st.st_mode),
            mode=_stat.S_IMODE(st.st_mode),
            size=st.st_size,
            uid=st.st_uid,
            gid=st.st_gid,
            mtime=st.st_mtime,
        )

    def readlink(self, path: PurePosixPath) -> str:
        fd, name = self._parent_fd(path)
        try:
            return os.readlink(name, dir_fd=fd)
        except OSError as e:
            raise self._err(e.errno or errno.EIO, path) from None
        finally:
            os.close(fd)

    def _open_dir(self, path: PurePosixPath) -> int:
        fd, name = self._parent_fd(path)
        try:
            return os.open(
                name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd
            )
        except OSError as e:
            err = e.errno or errno.EIO
            raise self._err(errno.ENOTDIR if err == errno.ELOOP else err, path) from None
        finally:
            os.close(fd)

    def listdir(self, path: PurePosixPath) -> list[str]:
        dfd = self._open_dir(path)
        try:
            return os.listdir(dfd)
        finally:
            os.close(dfd)

    def listdir_kinds(self, path: PurePosixPath) -> dict[str, FileKind]:
        dfd = self._open_dir(path)
        out: dict[str, FileKind] = {}
        try:
            with os.scandir(dfd) as entries:  # kinds from the directory itself, no stat each
                for e in entries:
                    try:
                        if e.is_symlink():
                            out[e.name] = FileKind.SYMLINK
                        elif e.is_dir(follow_symlinks=False):
                            out[e.name] = FileKind.DIR
                        elif e.is_file(follow_symlinks=False):
                            out[e.name] = FileKind.FILE
                        else:
                            out[e.name] = FileKind.from_mode(e.stat(follow_symlinks=False).st_mode)
                    except FileNotFoundError:
                        continue  # gone while listing
            return out
        except OSError as e:
            raise self._err(e.errno or errno.EIO, path) from None
        finally:
            os.close(dfd)

    def read_bytes(self, path: PurePosixPath, offset: int = 0, size: int = -1) -> bytes:
        fd, name = self._parent_fd(path)
        try:
            return read_regular_at(fd, name, path, self.label, offset, size)
        finally:
            os.close(fd)

    def getxattr(self, path: PurePosixPath, name: str) -> bytes | None:
        fd, base = self._parent_fd(path)
        try:
            return getxattr_at(fd, base, name)
        finally:
            os.close(fd)


def read_regular_at(
    dir_fd: int, name: str, path: PurePosixPath | str, label: str, offset: int = 0, size: int = -1
) -> bytes:
    """Bytes of the regular file ``name`` in directory ``dir_fd`` (``path`` names it in
    errors): from ``offset``, ``size`` bytes or (``-1``) to the end. A final link is not
    followed and is no regular file (``EINVAL``, as :class:`MemorySource` answers); a
    directory is ``EISDIR``."""
    try:
        ffd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as e:
        err = e.errno or errno.EIO
        raise ImagePathError(
            errno.EINVAL if err == errno.ELOOP else err, str(path), label
        ) from None
    try:
        mode = os.fstat(ffd).st_mode
        if _stat.S_ISDIR(mode):
            raise ImagePathError(errno.EISDIR, str(path), label)
        if not _stat.S_ISREG(mode):
            raise ImagePathError(errno.EINVAL, str(path), label)
        chunks = []
        want = size
        while want != 0:
            chunk = os.pread(ffd, 1 << 20 if want < 0 else min(want, 1 << 20), offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
            if want > 0:
                want -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(ffd)


def getxattr_at(dir_fd: int, name: str, attr: str) -> bytes | None:
    """Extended attribute ``attr`` of ``name`` in directory ``dir_fd`` (a final link not
    followed), ``None`` when it or the entry is missing or cannot be read."""
    try:
        ffd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        return os.getxattr(ffd, attr)
    except OSError:
        return None
    finally:
        os.close(ffd)


# --------------------------------------------------------------------------------------------
# An in-memory tree


@dataclass(frozen=True, slots=True)
class Symlink:
    """A symbolic link in a :class:`MemorySource` specification."""

    target: str


@dataclass(slots=True)
class _Node:
    kind: FileKind
    mode: int
    data: bytes = b""
    target: str = ""
    children: dict[str, _Node] = field(default_factory=dict)
    mtime: float = 0.0


Content = str | bytes | Symlink | None


class MemorySource(ImageSource):
    """An image tree held in memory.

    ``files`` maps paths (relative or absolute) to content: ``str`` or ``bytes`` for a regular
    file, :class:`Symlink` for a link, ``None`` for an (empty) directory. Parent directories are
    created as needed. ``modes`` optionally maps paths to permission bits.
    """

    def __init__(
        self,
        files: Mapping[str, Content] | None = None,
        *,
        label: str = "<memory>",
        modes: Mapping[str, int] | None = None,
        mtime: float = 0.0,
    ) -> None:
        self.label = label
        self._mtime = mtime
        self._root = _Node(FileKind.DIR, 0o755, mtime=mtime)
        for name, content in (files or {}).items():
            self.add(name, content)
        for name, mode in (modes or {}).items():
            self._lookup(as_image_path(name)).mode = mode

    def add(self, path: str, content: Content = None, mode: int | None = None) -> None:
        """Add (or replace) one entry."""
        p = as_image_path(path)
        parent = self._root
        for part in p.parts[1:-1]:
            nxt = parent.children.get(part)
            if nxt is None:
                nxt = parent.children[part] = _Node(FileKind.DIR, 0o755, mtime=self._mtime)
            elif nxt.kind is not FileKind.DIR:
                raise ValueError(f"{path}: parent {part!r} is not a directory")
            parent = nxt
        if p == ROOT:
            return
        if content is None:
            node = parent.children.get(p.name)
            if node is None or node.kind is not FileKind.DIR:
                parent.children[p.name] = _Node(
                    FileKind.DIR, 0o755 if mode is None else mode, mtime=self._mtime
                )
            return
        if isinstance(content, Symlink):
            parent.children[p.name] = _Node(FileKind.SYMLINK, 0o777, target=content.target)
        else:
            data = content.encode() if isinstance(content, str) else bytes(content)
            parent.children[p.name] = _Node(
                FileKind.FILE, 0o644 if mode is None else mode, data=data, mtime=self._mtime
            )

    def _lookup(self, path: PurePosixPath) -> _Node:
        node = self._root
        cur = ROOT
        for part in PurePosixPath("/", path).parts[1:]:
            if node.kind is not FileKind.DIR:
                raise self._err(errno.ENOTDIR, cur)
            cur = cur / part
            nxt = node.children.get(part)
            if nxt is None:
                raise self._err(errno.ENOENT, cur)
            node = nxt
        return node

    def lstat(self, path: PurePosixPath) -> Stat:
        node = self._lookup(path)
        return Stat(
            kind=node.kind,
            mode=node.mode,
            size=len(node.data) if node.kind is FileKind.FILE else len(node.target),
            mtime=node.mtime,
        )

    def readlink(self, path: PurePosixPath) -> str:
        node = self._lookup(path)
        if node.kind is not FileKind.SYMLINK:
            raise self._err(errno.EINVAL, path)
        return node.target

    def listdir(self, path: PurePosixPath) -> list[str]:
        node = self._lookup(path)
        if node.kind is not FileKind.DIR:
            raise self._err(errno.ENOTDIR, path)
        return list(node.children)

    def read_bytes(self, path: PurePosixPath, offset: int = 0, size: int = -1) -> bytes:
        node = self._lookup(path)
        if node.kind is FileKind.DIR:
            raise self._err(errno.EISDIR, path)
        if node.kind is not FileKind.FILE:
            raise self._err(errno.EINVAL, path)
        end = len(node.data) if size < 0 else offset + size
        return node.data[offset:end]

    @classmethod
    def from_source(cls, src: ImageSource, label: str | None = None) -> MemorySource:
        """A snapshot of another source (useful to freeze a small directory for a notebook)."""
        out = cls(label=src.label if label is None else label)
        for p, st in src.walk():
            rel = str(p)
            if st.kind is FileKind.DIR:
                out.add(rel, None, st.mode)
            elif st.kind is FileKind.SYMLINK:
                out.add(rel, Symlink(src.readlink(p)))
            elif st.kind is FileKind.FILE:
                out.add(rel, src.read_bytes(p), st.mode)
        return out

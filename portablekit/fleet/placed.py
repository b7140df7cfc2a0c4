"""A fresh host with one image placed on it: what each image of a fleet is judged against.

A fleet scan asks, for every image and every systemd version, what ``portablectl attach
/var/lib/portables/FILE`` would say on a freshly installed host of that version. Copying every
image into a sandbox root would cost a write per file; instead :class:`PlacedHost` is a
:class:`~portablekit.portabled.host.Host` whose file system is the fresh host's (one
:class:`~portablekit.sandbox.SandboxRoot` per version and process, made once by
:class:`Templates`) with the image *shown* at ``/var/lib/portables/FILE``: a directory image's
tree is mounted there, a raw image appears as a regular file whose bytes come from wherever the
image is (a local file, or a remote one through :mod:`portablekit.fleet.remote`). The planners
of :mod:`portablekit.portabled.attach` run on it unchanged, so a verdict is exactly the one of
the portablectl simulation; they read the image only through
:meth:`~portablekit.portabled.host.Host.image_tree` and
:meth:`~portablekit.portabled.host.Host.image_file`, which :class:`PlacedHost` answers.

Speed comes from reading each path once: :class:`CachingSource` memoizes the primitives,
``resolve`` and ``kind`` of a source that does not change while it is read (the fresh host's
tree for the whole run, an image's for the time it is judged under every version and by the
checks), and :class:`DirectoryTree` reads a directory image through cached directory
descriptors, with :class:`~portablekit.source.DirectorySource`'s guarantee that no link in a
parent component leads out of the tree. Both check a deadline on every read: the per-image time
bound (:class:`ImageTimeout`) works in any thread, process or Dask worker.
"""

from __future__ import annotations

import errno
import os
import stat as _stat
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ..errors import ImagePathError, PortableKitError, SymlinkLoopError
from ..portabled.host import Host
from ..portabled.image import ImageKind
from ..sandbox import SandboxRoot
from ..source import MAX_SYMLINKS, FileKind, ImageSource, Stat, getxattr_at, read_regular_at
from ..versions import Systemd

__all__ = [
    "PORTABLES",
    "CachingSource",
    "Deadline",
    "DirectoryTree",
    "ImageTimeout",
    "PlacedHost",
    "Templates",
]

#: Where a fleet scan places each image on the fresh host.
PORTABLES = PurePosixPath("/var/lib/portables")


class ImageTimeout(PortableKitError):
    """An image took longer than the per-image time bound of the scan."""


class Deadline:
    """A point in time after which reading an image stops (``None``: no bound)."""

    __slots__ = ("at", "seconds")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds

    def check(self, what: str = "") -> None:
        """Raise :class:`ImageTimeout` once the deadline has passed."""
        if self.at is not None and time.monotonic() > self.at:
            raise ImageTimeout(
                f"{what + ': ' if what else ''}gave up after {self.seconds:g} s (per-image bound)"
            )


_NO_DEADLINE = Deadline(None)


def _again(e: ImagePathError) -> Callable[[], ImagePathError]:
    """A maker of a fresh copy of ``e`` (re-raising one instance would grow its traceback)."""
    if isinstance(e, SymlinkLoopError):
        return lambda: SymlinkLoopError(e.filename, e.image)
    err, path, image = e.errno or errno.EIO, e.filename, e.image
    return lambda: ImagePathError(err, path, image)


_Memo = dict[object, object]


class _Fallback(Exception):
    """A link target whose spelling only pathlib's rules settle (``//x``)."""


#: ``{directory as asked: (path string of each component resolved, links followed)}``: where
#: the walk of any path under that directory picks up (see :func:`_resolve_str`)
DirMemo = dict[str, tuple[tuple[str, ...], int]]


def _resolve_str(
    path: str,
    follow: bool,
    lstat: Callable[[str], Stat],
    readlink: Callable[[str], str],
    label: str,
    dirs: DirMemo,
) -> str:
    """:meth:`ImageSource.resolve` on strings (the same steps, no path objects on the way).

    ``dirs`` remembers walks: the walk of ``HEAD/NAME`` starts where an earlier one left
    ``HEAD`` resolved to a directory (the steps up to there do not depend on what follows, as
    long as something follows): the entries of one directory cost one lookup each, not one per
    component. Valid while the tree does not change.
    """
    head, _, last = path.rpartition("/")
    usable = last not in ("", ".")
    hit = dirs.get(head) if usable and head else None
    if hit is not None:
        curs = list(hit[0])
        hops = hit[1]
        todo = [last]
    else:
        todo = [p for p in path.split("/") if p and p != "."]
        todo.reverse()
        curs = []  # curs[i]: the path string of the first i + 1 components resolved
        hops = 0
    # input parts still to take (below them on the stack: none; above: link targets' parts)
    rest_in = len(todo)
    while todo:
        if usable and rest_in == 1 and len(todo) == 1 and curs and hit is None:
            dirs[head] = (tuple(curs), hops)
        part = todo.pop()
        if len(todo) < rest_in:
            rest_in = len(todo)
        if part == "..":
            if curs:
                curs.pop()
            continue
        cur = (curs[-1] if curs else "") + "/" + part
        curs.append(cur)
        try:
            st = lstat(cur)
        except ImagePathError as e:
            if e.errno == errno.ENOENT and not todo:
                return cur
            raise
        if st.kind is FileKind.SYMLINK and (todo or follow):
            hops += 1
            if hops > MAX_SYMLINKS:
                raise SymlinkLoopError(str(PurePosixPath("/", path)), label)
            target = readlink(cur)
            if target.startswith("//") and not target.startswith("///"):
                raise _Fallback
            curs.pop()
            if target.startswith("/"):
                curs = []
            todo.extend(reversed([p for p in target.split("/") if p and p != "."]))
            continue
        if todo and st.kind is not FileKind.DIR:
            raise ImagePathError(errno.ENOTDIR, cur, label)
    return curs[-1] if curs else "/"


def _as_path(resolved: str, asked: str | PurePosixPath) -> PurePosixPath:
    """``resolved`` as a path object: the one asked about when it names the same path (most
    paths have no link on the way), so no new object is made."""
    if type(asked) is PurePosixPath and str(asked) == resolved:
        return asked
    return PurePosixPath(resolved)


class CachingSource(ImageSource):
    """A read-only view of ``inner`` that asks it each question once.

    Valid while ``inner`` does not change (the scan's assumption about the images it reads).
    Whole-file reads are cached, partial ones passed through. Errors of the primitives and of
    ``resolve`` are remembered too: a missing path is asked about once. ``deadline`` is checked
    on every primitive the cache cannot answer.
    """

    def __init__(self, inner: ImageSource, deadline: Deadline = _NO_DEADLINE) -> None:
        self.inner = inner
        self.label = inner.label
        self.deadline = deadline
        self._memo: _Memo = {}
        self._lstat: dict[str, Stat | Callable[[], ImagePathError]] = {}
        self._links: dict[str, str | Callable[[], ImagePathError]] = {}
        self._dirs: DirMemo = {}

    def _ask(self, key: object, compute: Callable[[], object]) -> object:
        memo = self._memo
        try:
            hit = memo[key]
        except KeyError:
            self.deadline.check(self.label)
            try:
                hit = compute()
            except ImagePathError as e:
                memo[key] = _again(e)
                raise
            memo[key] = hit
            return hit
        if callable(hit):
            raise hit()
        return hit

    def lstat_s(self, path: str) -> Stat:
        """:meth:`lstat` of a path given as a string."""
        hit = self._lstat.get(path)
        if hit is None:
            self.deadline.check(self.label)
            try:
                fast = getattr(self.inner, "lstat_s", None)
                hit = fast(path) if fast is not None else self.inner.lstat(PurePosixPath(path))
            except ImagePathError as e:
                self._lstat[path] = _again(e)
                raise
            self._lstat[path] = hit
            return hit
        if isinstance(hit, Stat):
            return hit
        raise hit()

    def readlink_s(self, path: str) -> str:
        """:meth:`readlink` of a path given as a string."""
        hit = self._links.get(path)
        if hit is None:
            self.deadline.check(self.label)
            try:
                hit = self.inner.readlink(PurePosixPath(path))
            except ImagePathError as e:
                self._links[path] = _again(e)
                raise
            self._links[path] = hit
            return hit
        if isinstance(hit, str):
            return hit
        raise hit()

    def lstat(self, path: PurePosixPath) -> Stat:
        return self.lstat_s(str(path))

    def readlink(self, path: PurePosixPath) -> str:
        return self.readlink_s(str(path))

    def listdir(self, path: PurePosixPath) -> list[str]:
        found = self._ask(("d", str(path)), lambda: tuple(self.inner.listdir(path)))
        return list(found)  # type: ignore[call-overload, no-any-return]

    def read_bytes(self, path: PurePosixPath, offset: int = 0, size: int = -1) -> bytes:
        if offset or size >= 0:
            self.deadline.check(self.label)
            return self.inner.read_bytes(path, offset, size)
        return self._ask(("b", str(path)), lambda: self.inner.read_bytes(path))  # type: ignore[return-value]

    def getxattr(self, path: PurePosixPath, name: str) -> bytes | None:
        return self._ask(("x", str(path), name), lambda: self.inner.getxattr(path, name))  # type: ignore[return-value]

    def resolve(self, path: str | PurePosixPath, *, follow: bool = True) -> PurePosixPath:
        s = str(path)
        key = ("p", s, follow)
        memo = self._memo
        hit = memo.get(key)
        if hit is None:
            try:
                try:
                    hit = _as_path(
                        _resolve_str(
                            s, follow, self.lstat_s, self.readlink_s, self.label, self._dirs
                        ),
                        path,
                    )
                except _Fallback:
                    hit = super().resolve(path, follow=follow)
            except ImagePathError as e:
                memo[key] = _again(e)
                raise
            memo[key] = hit
            return hit
        if callable(hit):
            raise hit()
        return hit  # type: ignore[return-value]

    def kind(self, path: str | PurePosixPath, *, follow: bool = True) -> FileKind | None:
        key = ("k", str(path), follow)
        memo = self._memo
        if key in memo:
            return memo[key]  # type: ignore[return-value]
        found = super().kind(path, follow=follow)
        memo[key] = found
        return found

    def close(self) -> None:
        """Drop the cache and close ``inner`` if it can be closed."""
        self._memo.clear()
        self._lstat.clear()
        self._links.clear()
        self._dirs.clear()
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


_O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_KINDS = {
    _stat.S_IFDIR: FileKind.DIR,
    _stat.S_IFREG: FileKind.FILE,
    _stat.S_IFLNK: FileKind.SYMLINK,
}


class DirectoryTree(ImageSource):
    """A directory image on this machine, read through cached directory descriptors.

    Like :class:`~portablekit.source.DirectorySource`, every directory on the way is opened
    component by component with ``O_NOFOLLOW`` (a link where a directory is expected is
    ``ENOTDIR``, never a way out of the tree); unlike it, each directory is opened once for the
    time the image is read, so a primitive costs one system call. Close it when done.
    """

    def __init__(self, root: str | os.PathLike[str], label: str) -> None:
        self.label = label
        try:
            fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise ImagePathError(e.errno or errno.EIO, os.fspath(root), label) from None
        self._fds: dict[str, int] = {"/": fd}

    def close(self) -> None:
        """Close every directory descriptor."""
        fds, self._fds = self._fds, {}
        for fd in fds.values():
            os.close(fd)

    def __del__(self) -> None:
        if getattr(self, "_fds", None):
            self.close()

    def _dir_fd(self, parent: str) -> int:
        fd = self._fds.get(parent)
        if fd is not None:
            return fd
        if not self._fds:
            raise ImagePathError(errno.EBADF, parent, self.label)
        up, _, name = parent.rpartition("/")
        pfd = self._dir_fd(up or "/")
        if name in (".", ".."):
            raise self._err(errno.EINVAL, parent)
        try:
            fd = os.open(name, _O_DIR, dir_fd=pfd)
        except OSError as e:
            err = e.errno or errno.EIO
            raise self._err(errno.ENOTDIR if err == errno.ELOOP else err, parent) from None
        self._fds[parent] = fd
        return fd

    def _split(self, path: PurePosixPath) -> tuple[int, str]:
        return self._split_s(str(path))

    def _split_s(self, s: str) -> tuple[int, str]:
        up, _, name = s.rpartition("/")
        if not name:  # "/", or the root as pathlib spells it after a link to "//"
            return self._dir_fd("/"), "."
        return self._dir_fd(up or "/"), name

    def lstat(self, path: PurePosixPath) -> Stat:
        return self.lstat_s(str(path))

    def lstat_s(self, path: str) -> Stat:
        """:meth:`lstat` of a path given as a string."""
        fd, name = self._split_s(path)
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError as e:
            raise ImagePathError(e.errno or errno.EIO, path, self.label) from None
        mode = st.st_mode
        kind = _KINDS.get(_stat.S_IFMT(mode)) or FileKind.from_mode(mode)
        return Stat(kind, mode & 0o7777, st.st_size, st.st_uid, st.st_gid, st.st_mtime)

    def readlink(self, path: PurePosixPath) -> str:
        fd, name = self._split(path)
        try:
            return os.readlink(name, dir_fd=fd)
        except OSError as e:
            raise self._err(e.errno or errno.EIO, path) from None

    def listdir(self, path: PurePosixPath) -> list[str]:
        return os.listdir(self._dir_fd(str(path)))

    def read_bytes(self, path: PurePosixPath, offset: int = 0, size: int = -1) -> bytes:
        fd, name = self._split(path)
        return read_regular_at(fd, name, path, self.label, offset, size)

    def getxattr(self, path: PurePosixPath, name: str) -> bytes | None:
        try:
            fd, base = self._split(path)
        except ImagePathError:
            return None
        return getxattr_at(fd, base, name)


class _FileNode(ImageSource):
    """A tree that is one regular file: how a raw image looks from the host."""

    def __init__(self, size: int, label: str) -> None:
        self.size = size
        self.label = label

    def lstat(self, path: PurePosixPath) -> Stat:
        if str(path) != "/":
            raise self._err(errno.ENOTDIR, path)
        return Stat(FileKind.FILE, mode=0o644, size=self.size)

    def readlink(self, path: PurePosixPath) -> str:
        raise self._err(errno.EINVAL, path)

    def listdir(self, path: PurePosixPath) -> list[str]:
        raise self._err(errno.ENOTDIR, path)

    def read_bytes(self, path: PurePosixPath, offset: int = 0, size: int = -1) -> bytes:
        raise self._err(errno.EINVAL, path)  # portabled never reads a raw image as a file


class _PlacedFS(ImageSource):
    """The fresh host's tree with one image mounted at ``at`` (a directory tree or a file)."""

    def __init__(self, base: CachingSource, at: PurePosixPath, image: CachingSource) -> None:
        self.base = base
        self.image = image
        self.label = base.label
        self._at = str(at)
        self._under = self._at + "/"
        self._parent = str(at.parent)
        self._name = at.name
        self._memo: dict[tuple[str, bool], PurePosixPath] = {}
        self._dirs: DirMemo = {}

    def _route(self, s: str) -> tuple[CachingSource, str]:
        if s == self._at:
            return self.image, "/"
        if s.startswith(self._under):
            return self.image, s[len(self._at) :]
        return self.base, s

    def _rehome(self, e: ImagePathError, src: CachingSource) -> ImagePathError:
        """An error of ``src``; one of the image's tree then names the path as the host does
        (a fresh error object: the caches make a new one for every raise)."""
        if src is self.image:
            e.filename = self._at if e.filename in ("/", None) else self._at + str(e.filename)
            e.image = self.label
        return e

    def lstat_s(self, path: str) -> Stat:
        src, sub = self._route(path)
        try:
            return src.lstat_s(sub)
        except ImagePathError as e:
            raise self._rehome(e, src) from None

    def readlink_s(self, path: str) -> str:
        src, sub = self._route(path)
        try:
            return src.readlink_s(sub)
        except ImagePathError as e:
            raise self._rehome(e, src) from None

    def lstat(self, path: PurePosixPath) -> Stat:
        return self.lstat_s(str(path))

    def readlink(self, path: PurePosixPath) -> str:
        return self.readlink_s(str(path))

    def listdir(self, path: PurePosixPath) -> list[str]:
        src, sub = self._route(str(path))
        try:
            names = src.listdir(PurePosixPath(sub))
        except ImagePathError as e:
            raise self._rehome(e, src) from None
        if src is self.base and str(path) == self._parent and self._name not in names:
            names = [*names, self._name]
        return names

    def read_bytes(self, path: PurePosixPath, offset: int = 0, size: int = -1) -> bytes:
        src, sub = self._route(str(path))
        try:
            return src.read_bytes(PurePosixPath(sub), offset, size)
        except ImagePathError as e:
            raise self._rehome(e, src) from None

    def getxattr(self, path: PurePosixPath, name: str) -> bytes | None:
        src, sub = self._route(str(path))
        return src.getxattr(PurePosixPath(sub), name)

    def _host_only(self, s: str) -> bool:
        return s != self._at and not s.startswith(self._under) and not s.startswith(self._parent)

    def resolve(self, path: str | PurePosixPath, *, follow: bool = True) -> PurePosixPath:
        s = str(path)
        if self._host_only(s):
            # paths away from the image resolve as on the fresh host: asked once per run
            return self.base.resolve(s, follow=follow)
        found = self._memo.get((s, follow))
        if found is None:
            try:
                found = _as_path(
                    _resolve_str(s, follow, self.lstat_s, self.readlink_s, self.label, self._dirs),
                    path,
                )
            except _Fallback:
                found = super().resolve(path, follow=follow)
            self._memo[(s, follow)] = found
        return found

    def kind(self, path: str | PurePosixPath, *, follow: bool = True) -> FileKind | None:
        s = str(path)
        if self._host_only(s):
            return self.base.kind(s, follow=follow)
        return super().kind(path, follow=follow)


class PlacedHost(Host):
    """``template`` (a fresh host) with one image shown at ``at`` (see the module docstring).

    ``tree`` is a directory image's tree; ``file`` (with its ``size``) what a raw image is
    read from. Exactly one of them is given.
    """

    def __init__(
        self,
        template: Host,
        base_fs: CachingSource,
        at: PurePosixPath,
        *,
        tree: ImageSource | None = None,
        file: BinaryIO | None = None,
        size: int = 0,
        answers: dict[str, dict[str, object]] | None = None,
    ) -> None:
        if (tree is None) == (file is None):
            raise ValueError("a placed image is a tree or a file")
        self.root, self.systemd = template.root, template.systemd
        self.placed_at = at
        self.placed_kind = ImageKind.DIRECTORY if tree is not None else ImageKind.RAW
        self._tree = tree
        self._file = file
        node = tree if tree is not None else CachingSource(_FileNode(size, str(at)))
        if not isinstance(node, CachingSource):
            node = CachingSource(node)
        self.fs = _PlacedFS(base_fs, at, node)
        self._answers = answers if answers is not None else {}
        # the image is not in the unit search path: whether a unit file exists on the host is
        # the fresh host's answer, the same for every image placed on it
        self.unit_file_memo = self._answers.setdefault("unit_file_exists", {})  # type: ignore[assignment]
        # the fresh host's vendor unit list is read once per version, not per image
        self.__dict__["vendor_units"] = template.vendor_units

    def __repr__(self) -> str:
        return f"PlacedHost({self.systemd}, {str(self.placed_at)!r})"

    def snapshot(self) -> Host:
        """Itself: its file system is read through caches already (the fresh host's for the
        whole scan, the image's while it is judged), and nothing writes to it. A
        :class:`~portablekit.portabled.snapshot.SnapshotSource` per plan would list the fresh
        host's directories again for every image."""
        return self

    # The fresh host's service manager state does not depend on the image placed under
    # /var/lib/portables: asked once per version and process.

    def active_units(self) -> dict[str, str]:
        memo = self._answers.setdefault("active_units", {})
        found = memo.get("")
        if not isinstance(found, dict):
            found = memo[""] = super().active_units()
        return dict(found)

    def real(self, path: str | PurePosixPath, *, follow: bool = True) -> Path:
        resolved = self.fs.resolve(path, follow=follow)
        if resolved == self.placed_at or self.placed_at in resolved.parents:
            raise ImagePathError(errno.EXDEV, str(path), f"{self.placed_at} is not on this host")
        return self.root.joinpath(*resolved.parts[1:])

    def image_tree(self, path: PurePosixPath) -> ImageSource:
        if path == self.placed_at and self._tree is not None:
            return self._tree
        return super().image_tree(path)

    def image_file(self, path: PurePosixPath) -> str | os.PathLike[str] | BinaryIO:
        if path == self.placed_at and self._file is not None:
            self._file.seek(0)
            return self._file
        return super().image_file(path)


class Templates:
    """One fresh host per systemd version, made on first use and kept for the process.

    Each is a :class:`~portablekit.sandbox.SandboxRoot` in a temporary directory (removed when
    the object goes), read through one :class:`CachingSource` shared by every image placed on
    it: the fresh host's answers are computed once per run, not once per image.
    """

    def __init__(self) -> None:
        self._roots: dict[Systemd, tuple[SandboxRoot, Host, CachingSource]] = {}
        self._answers: dict[Systemd, dict[str, dict[str, object]]] = {}

    def get(self, systemd: Systemd) -> tuple[Host, CachingSource]:
        """The fresh host of ``systemd`` and its cached tree."""
        found = self._roots.get(systemd)
        if found is None:
            root = SandboxRoot.temporary(systemd)
            host = Host(root.path, systemd)
            found = (root, host, CachingSource(host.fs))
            self._roots[systemd] = found
        return found[1], found[2]

    def place(
        self,
        systemd: Systemd,
        file_name: str,
        *,
        tree: ImageSource | None = None,
        file: BinaryIO | None = None,
        size: int = 0,
    ) -> PlacedHost:
        """The fresh host of ``systemd`` with an image at ``/var/lib/portables/FILE_NAME``."""
        host, fs = self.get(systemd)
        answers = self._answers.setdefault(systemd, {})
        return PlacedHost(
            host, fs, PORTABLES / file_name, tree=tree, file=file, size=size, answers=answers
        )

    def close(self) -> None:
        """Remove the temporary roots."""
        for root, _, _ in self._roots.values():
            root.close()
        self._roots.clear()

"""The sandbox's file-system primitives: every call relative to a directory descriptor.

Nothing here takes a path string of this machine below the sandbox root. A host path (a path of
the simulated host, ``/etc/portables/foo``) is opened component by component from a descriptor
of the root with ``O_NOFOLLOW``: a symbolic link met on the way is read and resolved inside the
root (an absolute target starts again at the root, ``..`` never climbs above it), so no link,
and no directory swapped for a link between two steps, can lead a call outside the root. Files
are then created, renamed, linked and removed with ``dir_fd`` (``openat``, ``mkdirat``,
``renameat``, ...), and modes are set on descriptors (``fchmod``).

:data:`SYSCALLS` is the one place where the sandbox changes files: every file-changing system
call goes through one of its methods, which first tell the :attr:`Syscalls.hooks` about it.
Tests count the calls with a hook, stop a process at the N-th (``kill -9`` at every point),
inject errors (``ENOSPC``, ``EROFS``) or widen race windows; the directory openings of a walk
are reported too (not counted as changes), so a hook can swap a directory between two steps.
"""

from __future__ import annotations

import errno
import os
import stat as _stat
from collections.abc import Callable
from contextlib import suppress
from pathlib import PurePosixPath

from ..source import MAX_SYMLINKS

__all__ = [
    "NAME_MAX",
    "O_PATH_DIR",
    "O_READ_DIR",
    "O_READ_FILE",
    "SYSCALLS",
    "Hook",
    "Syscalls",
    "entry_kind",
    "lstat_at",
    "open_dir",
    "open_entry",
    "open_root",
    "read_regular",
    "replace_file",
    "replace_symlink",
    "temp_name",
    "write_new",
]

#: The longest file name (in bytes) Linux file systems take.
NAME_MAX = 255

#: ``hook(call, changes, name)``: ``call`` names the system call, ``changes`` says whether it
#: changes the file system, ``name`` is the entry it is about (a host path where known).
Hook = Callable[[str, bool, str], None]

_O_PATH_DIR = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_READ_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_READ_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
#: Flags of the descriptors the sandbox opens: directories to walk (``O_PATH``) and to read or
#: change the mode of, and files it reads (never blocking on a FIFO)
O_PATH_DIR, O_READ_DIR, O_READ_FILE = _O_PATH_DIR, _O_READ_DIR, _O_READ_FILE
_O_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_O_LOCK = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_O_APPEND = os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CHUNK = 1 << 20


class Syscalls:
    """The file-changing system calls of the sandbox, each announced to :attr:`hooks` first.

    A hook may raise :class:`OSError` to make the call fail as the kernel would (the call is
    then not made), or stop the process.
    """

    def __init__(self) -> None:
        self.hooks: list[Hook] = []

    def note(self, call: str, changes: bool, name: str) -> None:
        """Tell the hooks about a call (used directly for steps that change nothing)."""
        for hook in self.hooks:
            hook(call, changes, name)

    def mkdir(self, name: str, mode: int, dir_fd: int | None) -> None:
        """``mkdirat`` (``dir_fd=None``: ``name`` is this machine's path, outside any root)."""
        self.note("mkdir", True, name)
        os.mkdir(name, mode, dir_fd=dir_fd)

    def symlink(self, target: str, name: str, dir_fd: int) -> None:
        """``symlinkat``."""
        self.note("symlink", True, name)
        os.symlink(target, name, dir_fd=dir_fd)

    def mknod(self, name: str, mode: int, device: int, dir_fd: int) -> None:
        """``mknodat``: a FIFO, socket or device node."""
        self.note("mknod", True, name)
        os.mknod(name, mode, device, dir_fd=dir_fd)

    def unlink(self, name: str, dir_fd: int) -> None:
        """``unlinkat``."""
        self.note("unlink", True, name)
        os.unlink(name, dir_fd=dir_fd)

    def unlink_if_there(self, name: str, dir_fd: int) -> None:
        """``unlinkat``, nothing if ``name`` is missing."""
        if lstat_at(dir_fd, name) is not None:
            with suppress(FileNotFoundError):
                self.unlink(name, dir_fd)

    def rmdir(self, name: str, dir_fd: int) -> None:
        """``unlinkat(AT_REMOVEDIR)``."""
        self.note("rmdir", True, name)
        os.rmdir(name, dir_fd=dir_fd)

    def rename(self, src: str, dst: str, src_dir_fd: int, dst_dir_fd: int) -> None:
        """``renameat``: replaces ``dst`` atomically."""
        self.note("rename", True, dst)
        os.rename(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)

    def link(self, src: str, dst: str, src_dir_fd: int, dst_dir_fd: int) -> None:
        """``linkat`` (never following ``src``): fails if ``dst`` exists."""
        self.note("link", True, dst)
        os.link(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd, follow_symlinks=False)

    def create(self, name: str, dir_fd: int, mode: int = 0o600) -> int:
        """A new regular file opened for writing (``O_CREAT|O_EXCL|O_NOFOLLOW``)."""
        self.note("open", True, name)
        return os.open(name, _O_CREATE, mode, dir_fd=dir_fd)

    def open_lock(self, name: str, dir_fd: int) -> int:
        """A lock file, created if missing (``O_RDWR|O_CREAT|O_NOFOLLOW|O_NONBLOCK``)."""
        self.note("open", True, name)
        return os.open(name, _O_LOCK, 0o644, dir_fd=dir_fd)

    def open_append(self, name: str, dir_fd: int) -> int:
        """An existing file opened for appending (changes nothing by itself)."""
        self.note("open", False, name)
        return os.open(name, _O_APPEND, dir_fd=dir_fd)

    def write(self, fd: int, data: bytes | memoryview, name: str = "") -> None:
        """``write`` until everything is written."""
        view = memoryview(data)
        while view:
            self.note("write", True, name)
            n = os.write(fd, view)
            view = view[n:]

    def pwrite(self, fd: int, data: bytes, offset: int, name: str = "") -> None:
        """``pwrite`` until everything is written."""
        view = memoryview(data)
        while view:
            self.note("write", True, name)
            n = os.pwrite(fd, view, offset)
            view, offset = view[n:], offset + n

    def ftruncate(self, fd: int, size: int, name: str = "") -> None:
        """``ftruncate``."""
        self.note("ftruncate", True, name)
        os.ftruncate(fd, size)

    def fchmod(self, fd: int, mode: int, name: str = "") -> None:
        """``fchmod`` on a descriptor opened for reading or writing."""
        self.note("fchmod", True, name)
        os.fchmod(fd, mode)

    def chmod_path_fd(self, fd: int, mode: int, name: str = "") -> None:
        """``chmod`` of what an ``O_PATH`` descriptor refers to (a FIFO, socket or device node,
        which cannot be opened otherwise), through its ``/proc/self/fd`` entry."""
        self.note("fchmod", True, name)
        os.chmod(f"/proc/self/fd/{fd}", mode)

    def futimes(self, fd: int, ns: tuple[int, int], name: str = "") -> None:
        """``futimens``."""
        self.note("utime", True, name)
        os.utime(fd, ns=ns)

    def lutimes(self, name: str, ns: tuple[int, int], dir_fd: int) -> None:
        """``utimensat(AT_SYMLINK_NOFOLLOW)``: the times of ``name`` itself."""
        self.note("utime", True, name)
        os.utime(name, ns=ns, dir_fd=dir_fd, follow_symlinks=False)

    def setxattr(self, fd: int, attr: str, value: bytes, name: str = "") -> None:
        """``fsetxattr``."""
        self.note("setxattr", True, name)
        os.setxattr(fd, attr, value)

    def fsync(self, fd: int, name: str = "") -> None:
        """``fsync`` (changes no content)."""
        self.note("fsync", False, name)
        os.fsync(fd)


#: The sandbox's system-call layer (see the module docstring).
SYSCALLS = Syscalls()


# -- opening ------------------------------------------------------------------------------------


def open_root(path: str | os.PathLike[str]) -> int:
    """A descriptor of the sandbox root itself (the caller's path, links in it followed)."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def _err(err: int, where: str) -> OSError:
    return OSError(err, os.strerror(err), where)


def open_dir(
    root_fd: int,
    path: str | PurePosixPath,
    *,
    follow: bool = True,
    create: bool = False,
    mode: int = 0o755,
) -> int:
    """A new descriptor of the host directory ``path``, opened from ``root_fd`` one component
    at a time with ``O_NOFOLLOW``.

    With ``follow`` a symbolic link on the way is resolved inside the root (chroot-style);
    without it any link is an error (``ENOTDIR``). With ``create`` missing directories are
    made (``mode``), except where a link points to a missing one. Raises :class:`OSError` whose
    ``filename`` is the host path that failed.
    """
    # (component, the link it comes from: "" for the path itself)
    todo: list[tuple[str, str]] = [(p, "") for p in reversed(PurePosixPath("/", path).parts[1:])]
    stack: list[tuple[int, str]] = [(root_fd, "")]
    hops = 0
    try:
        while todo:
            part, from_link = todo.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if len(stack) > 1:
                    os.close(stack.pop()[0])
                continue
            cur, cur_path = stack[-1]
            here = f"{cur_path}/{part}"
            SYSCALLS.note("open", False, here)
            try:
                fd = os.open(part, _O_PATH_DIR, dir_fd=cur)
            except OSError as e:
                if e.errno == errno.ENOENT and from_link:
                    raise OSError(
                        errno.ENOENT,
                        f"a link into a missing directory ({here} is missing)",
                        from_link,
                    ) from None
                if e.errno == errno.ENOENT and create:
                    fd = _make_dir(cur, part, mode, here)
                elif e.errno in (errno.ENOTDIR, errno.ELOOP) and follow:
                    st = lstat_at(cur, part)
                    if st is None or not _stat.S_ISLNK(st.st_mode):
                        raise _err(errno.ENOTDIR, here) from None
                    hops += 1
                    if hops > MAX_SYMLINKS:
                        raise _err(errno.ELOOP, here) from None
                    target = os.readlink(part, dir_fd=cur)
                    if target.startswith("/"):
                        while len(stack) > 1:
                            os.close(stack.pop()[0])
                    rest = [p for p in PurePosixPath(target).parts if p != "/"]
                    todo.extend((p, from_link or here) for p in reversed(rest))
                    continue
                else:
                    err = errno.ENOTDIR if e.errno == errno.ELOOP else (e.errno or errno.EIO)
                    raise _err(err, here) from None
            stack.append((fd, here))
        if len(stack) == 1:
            return os.dup(root_fd)
        return stack.pop()[0]
    finally:
        for fd, _ in stack[1:]:
            os.close(fd)


def _make_dir(parent: int, name: str, mode: int, where: str) -> int:
    try:
        SYSCALLS.mkdir(name, 0o700, parent)
    except FileExistsError:
        pass  # made meanwhile: open it as it is
    else:
        fd = os.open(name, _O_READ_DIR, dir_fd=parent)
        try:
            SYSCALLS.fchmod(fd, mode, where)
        except BaseException:
            os.close(fd)
            raise
        return fd
    return os.open(name, _O_PATH_DIR, dir_fd=parent)


def open_entry(root_fd: int, path: str | PurePosixPath) -> tuple[int, str, str]:
    """``(parent descriptor, name, host path)`` of ``path``, every link (the last one too)
    resolved inside the root; the entry itself may be missing."""
    p = PurePosixPath("/", path)
    for _ in range(MAX_SYMLINKS + 1):
        if p == PurePosixPath("/"):
            return open_dir(root_fd, "/"), ".", "/"
        parent = open_dir(root_fd, p.parent)
        st = lstat_at(parent, p.name)
        if st is None or not _stat.S_ISLNK(st.st_mode):
            return parent, p.name, str(p)
        try:
            target = os.readlink(p.name, dir_fd=parent)
        finally:
            os.close(parent)
        p = PurePosixPath("/", _normal(p.parent / target))
    raise _err(errno.ELOOP, str(path))


def _normal(p: PurePosixPath) -> PurePosixPath:
    """``p`` without ``.``/``..`` components, lexically (``..`` at the top stays there); links
    in it are resolved by the walk that opens it."""
    out: list[str] = []
    for part in p.parts[1:]:
        if part == "..":
            if out:
                out.pop()
        elif part not in ("", "."):
            out.append(part)
    return PurePosixPath("/", *out)


def lstat_at(dir_fd: int, name: str) -> os.stat_result | None:
    """``fstatat(AT_SYMLINK_NOFOLLOW)``, ``None`` if ``name`` is missing."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def entry_kind(st: os.stat_result | None) -> str:
    """``missing``, ``directory``, ``regular file``, ``symbolic link``, ``FIFO``, ``socket``,
    ``character device`` or ``block device``: for messages."""
    if st is None:
        return "missing"
    for test, name in (
        (_stat.S_ISDIR, "directory"),
        (_stat.S_ISREG, "regular file"),
        (_stat.S_ISLNK, "symbolic link"),
        (_stat.S_ISFIFO, "FIFO"),
        (_stat.S_ISSOCK, "socket"),
        (_stat.S_ISCHR, "character device"),
        (_stat.S_ISBLK, "block device"),
    ):
        if test(st.st_mode):
            return name
    return "special file"


# -- reading --------------------------------------------------------------------------------


def read_regular(dir_fd: int, name: str, limit: int, where: str = "") -> bytes | None:
    """The content of the regular file ``name`` (never a link, FIFO or device: those raise
    ``EINVAL`` without blocking); ``None`` when it is missing. More than ``limit`` bytes raise
    ``EFBIG``."""
    try:
        fd = os.open(name, _O_READ_FILE, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as e:
        err = errno.EINVAL if e.errno == errno.ELOOP else (e.errno or errno.EIO)
        raise _err(err, where or name) from None
    try:
        st = os.fstat(fd)
        if not _stat.S_ISREG(st.st_mode):
            raise _err(errno.EISDIR if _stat.S_ISDIR(st.st_mode) else errno.EINVAL, where or name)
        if st.st_size > limit:
            raise _err(errno.EFBIG, where or name)
        chunks = []
        size = 0
        while True:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _err(errno.EFBIG, where or name)
        return b"".join(chunks)
    finally:
        os.close(fd)


# -- writing --------------------------------------------------------------------------------


def temp_name(name: str, tag: str) -> str:
    """``.#NAME.TAG``, NAME shortened so the whole stays within :data:`NAME_MAX` bytes (as
    systemd's ``tempfn_*()`` do)."""
    suffix = os.fsencode(f".{tag}")
    room = NAME_MAX - 2 - len(suffix)
    return os.fsdecode(b".#" + os.fsencode(name)[:room] + suffix)


def write_new(dir_fd: int, name: str, data: bytes, mode: int, where: str = "") -> None:
    """Create the regular file ``name`` (it must not exist) holding ``data`` with ``mode``."""
    fd = SYSCALLS.create(name, dir_fd)
    try:
        SYSCALLS.write(fd, data, where)
        SYSCALLS.fchmod(fd, mode, where)
        SYSCALLS.fsync(fd, where)
    finally:
        os.close(fd)


def replace_file(dir_fd: int, name: str, data: bytes, mode: int, tmp: str) -> None:
    """Write ``data`` to ``tmp`` and rename it over ``name``: the old content or the new one,
    never a mix. ``tmp`` must not exist."""
    write_new(dir_fd, tmp, data, mode, name)
    SYSCALLS.rename(tmp, name, dir_fd, dir_fd)


def replace_symlink(dir_fd: int, name: str, target: str, tmp: str) -> None:
    """Make ``name`` a link to ``target``, replacing what is there atomically."""
    SYSCALLS.symlink(target, tmp, dir_fd)
    SYSCALLS.rename(tmp, name, dir_fd, dir_fd)

"""``sandbox init``: a fresh simulated host laid out like the oracle's base root, and the marker
that makes a directory a sandbox.

The marker ``/run/portablekit/sandbox.json`` is read through an ``O_NOFOLLOW`` walk: ``run``
and ``run/portablekit`` must be real directories of the root and the marker a regular file
(a FIFO there is refused without blocking). Reached through a link, it decides nothing.

:func:`init_root` refuses this machine's ``/`` (however it is spelled), and lays the base root
only through descriptors opened inside the directory, never following a link: with
``--exist-ok`` an entry that is in the way (a link where a directory goes, a FIFO where a file
goes) is refused before anything is written. If the file system refuses a write (read-only,
full, no permission), what this init made is removed again and the error names the path and
the reason; an init killed half-way leaves ``/run/portablekit/init-incomplete`` behind, and
the next ``sandbox init`` of the directory resumes.
"""

from __future__ import annotations

import errno
import json
import os
import stat as _stat
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from ..errors import SandboxError
from ..portabled.host import STATE_DIR
from ..portabled.profiles import BUILTIN_PROFILES, builtin_profile
from ..versions import Systemd
from .fs import (
    SYSCALLS,
    entry_kind,
    lstat_at,
    open_dir,
    open_root,
    read_regular,
    replace_file,
    temp_name,
)
from .trees import remove_tree

__all__ = ["INCOMPLETE", "MARKER", "init_root", "is_machine_root", "read_sandbox_marker"]

#: The file that makes a directory a portablekit sandbox.
MARKER = STATE_DIR / "sandbox.json"
#: Present while ``sandbox init`` lays a root out (a later init resumes).
INCOMPLETE = STATE_DIR / "init-incomplete"

_O_READ_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_PATH_DIR = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_MARKER_MAX = 1 << 16


def _data(*parts: str) -> str:
    return resources.files("portablekit").joinpath("data", *parts).read_text()


def is_machine_root(fd: int) -> bool:
    """Whether the directory open as ``fd`` is this machine's ``/``."""
    st, top = os.fstat(fd), os.stat("/")
    return (st.st_dev, st.st_ino) == (top.st_dev, top.st_ino)


def read_sandbox_marker(root_fd: int) -> dict[str, object] | None:
    """The marker's content, ``None`` where there is no valid marker (missing, reached through
    a link, not a regular file, not JSON, or its init did not finish)."""
    try:
        state = open_dir(root_fd, STATE_DIR, follow=False)
    except OSError:
        return None
    try:
        raw = read_regular(state, MARKER.name, _MARKER_MAX)
        if raw is None or lstat_at(state, INCOMPLETE.name) is not None:
            return None
        data = json.loads(raw)
    except (OSError, ValueError):
        return None
    finally:
        os.close(state)
    return data if isinstance(data, dict) else None


# -- the base root ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    path: PurePosixPath
    kind: str  # dir, symlink, file
    mode: int = 0o755
    target: str = ""
    data: bytes | None = None


def _entries(systemd: Systemd) -> list[_Entry]:
    """The oracle's base-root listing (``data/host/*/base-root.txt``), what init lays."""
    out = []
    for line in _data("host", str(systemd.version), "base-root.txt").splitlines():
        if not line or line.startswith("#"):
            continue
        words = line.split(" ")
        path, kind = PurePosixPath(words[0]), words[1]
        if kind == "absent" or path == PurePosixPath("/"):
            continue
        if kind == "dir":
            out.append(_Entry(path, kind, int(words[2], 8)))
        elif kind == "symlink":
            out.append(_Entry(path, kind, target=line.split(" -> ", 1)[1]))
        elif kind == "file":
            data = _base_file_content(path, systemd)
            if data is not None:  # contents we do not need (shell profiles of /root)
                out.append(_Entry(path, kind, int(words[2], 8), data=data))
    return out


def _base_file_content(p: PurePosixPath, systemd: Systemd) -> bytes | None:
    if p == PurePosixPath("/usr/lib/os-release"):
        return _data("host", str(systemd.version), "os-release").encode()
    if (
        p.parent.parent == PurePosixPath("/usr/lib/systemd/portable/profile")
        and p.name == "service.conf"
    ):
        name = p.parent.name
        if name in BUILTIN_PROFILES:
            return builtin_profile(name, systemd).encode()
    return None


class _Layer:
    """Lays entries under a root descriptor, never following a link, noting what it made."""

    def __init__(self, root_fd: int) -> None:
        self.root_fd = root_fd
        self.made: list[PurePosixPath] = []

    def dir(self, path: PurePosixPath, mode: int | None = None) -> int:
        """A descriptor of directory ``path`` (made 0755 where missing, ``mode`` set)."""
        fd = os.dup(self.root_fd)
        here = PurePosixPath("/")
        try:
            for part in path.parts[1:]:
                here = here / part
                SYSCALLS.note("open", False, str(here))
                try:
                    nfd = os.open(part, _O_PATH_DIR, dir_fd=fd)
                except FileNotFoundError:
                    SYSCALLS.mkdir(part, 0o700, fd)
                    self.made.append(here)
                    nfd = os.open(part, _O_READ_DIR, dir_fd=fd)
                    want = mode if here == path and mode is not None else 0o755
                    try:
                        SYSCALLS.fchmod(nfd, want, str(here))
                    except BaseException:
                        os.close(nfd)
                        raise
                except OSError as e:
                    err = errno.ENOTDIR if e.errno == errno.ELOOP else (e.errno or errno.EIO)
                    raise OSError(err, os.strerror(err), str(here)) from None
                os.close(fd)
                fd = nfd
            if mode is not None and path not in self.made:
                rfd = os.open(".", _O_READ_DIR, dir_fd=fd)
                try:
                    SYSCALLS.fchmod(rfd, mode, str(path))
                finally:
                    os.close(rfd)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def lay(self, e: _Entry) -> None:
        if e.kind == "dir":
            os.close(self.dir(e.path, e.mode))
            return
        parent = self.dir(e.path.parent)
        try:
            there = lstat_at(parent, e.path.name)
            if e.kind == "symlink":
                if there is None:
                    SYSCALLS.symlink(e.target, e.path.name, parent)
                    self.made.append(e.path)
            else:
                assert e.data is not None
                tmp = temp_name(e.path.name, "init")
                remove_tree(parent, tmp)
                replace_file(parent, e.path.name, e.data, e.mode, tmp)
                if there is None:
                    self.made.append(e.path)
        finally:
            os.close(parent)


def _conflict(root_fd: int, e: _Entry) -> str | None:
    """What is in the way of laying ``e`` (``None``: nothing)."""
    fd = os.dup(root_fd)
    here = PurePosixPath("/")
    try:
        for i, part in enumerate(e.path.parts[1:], start=1):
            here = here / part
            st = lstat_at(fd, part)
            last = i == len(e.path.parts) - 1
            if st is None:
                return None
            if last:
                if e.kind == "dir" and not _stat.S_ISDIR(st.st_mode):
                    return f"{here} is a {entry_kind(st)}, not a directory"
                if e.kind == "file" and not _stat.S_ISREG(st.st_mode):
                    return f"{here} is a {entry_kind(st)}, not a regular file"
                return None
            if not _stat.S_ISDIR(st.st_mode):
                return f"{here} is a {entry_kind(st)}, not a directory"
            nfd = os.open(part, _O_PATH_DIR, dir_fd=fd)
            os.close(fd)
            fd = nfd
        return None
    finally:
        os.close(fd)


def _state_entries() -> list[_Entry]:
    return [
        _Entry(STATE_DIR.parent, "dir", 0o755),
        _Entry(STATE_DIR, "dir", 0o755),
        _Entry(MARKER, "file", 0o644, data=b""),
    ]


def _only_a_start(root_fd: int) -> bool:
    """Whether the directory holds nothing but what the first steps of an init make (an init
    killed before it wrote ``init-incomplete``)."""
    if os.listdir(root_fd) != ["run"]:
        return False
    try:
        run = open_dir(root_fd, STATE_DIR.parent, follow=False)
    except OSError:
        return False
    try:
        rfd = os.open(".", _O_READ_DIR, dir_fd=run)
        try:
            names = os.listdir(rfd)
        finally:
            os.close(rfd)
        if names == []:
            return True
        if names != [STATE_DIR.name]:
            return False
        sfd = os.open(STATE_DIR.name, _O_READ_DIR, dir_fd=run)
        try:
            inner = os.listdir(sfd)
        finally:
            os.close(sfd)
        tmp = temp_name(INCOMPLETE.name, "init")
        return all(n == tmp for n in inner)
    except OSError:
        return False
    finally:
        os.close(run)


def _resumable(root_fd: int) -> bool:
    try:
        state = open_dir(root_fd, STATE_DIR, follow=False)
    except OSError:
        return _only_a_start(root_fd)
    try:
        st = lstat_at(state, INCOMPLETE.name)
    finally:
        os.close(state)
    return (st is not None and _stat.S_ISREG(st.st_mode)) or _only_a_start(root_fd)


def init_root(path: Path, systemd: Systemd, *, exist_ok: bool) -> None:
    """Lay a fresh sandbox root for ``systemd`` at ``path`` (see the module docstring)."""
    made_top = _make_missing(path)
    try:
        root_fd = open_root(path)
    except OSError as e:
        _undo_top(made_top)
        if e.errno == errno.ENOTDIR:
            raise SandboxError(f"{path}: exists and is not a directory") from None
        raise SandboxError(f"{path}: cannot make a sandbox root there: {e.strerror}") from None
    try:
        if is_machine_root(root_fd):
            raise SandboxError(
                f"{path}: is this machine's root directory; refusing to make it a sandbox"
            )
        _init_at(root_fd, path, systemd, exist_ok=exist_ok, fresh=made_top is not None)
    except BaseException:
        _undo_top(made_top)
        raise
    finally:
        os.close(root_fd)


def _make_missing(path: Path) -> Path | None:
    """Make ``path`` and its missing parents (this machine's, outside any root); returns the
    highest directory made (``None``: ``path`` was there)."""
    missing = []
    p = path
    while True:
        try:
            os.lstat(p)
            break
        except FileNotFoundError:
            missing.append(p)
            if p.parent == p:
                break
            p = p.parent
        except OSError as e:
            raise SandboxError(
                f"{path}: cannot make a sandbox root there: {p}: {e.strerror}"
            ) from None
    top = None
    for d in reversed(missing):
        try:
            SYSCALLS.mkdir(str(d), 0o755, None)
        except OSError as e:
            _undo_top(top)
            raise SandboxError(
                f"{path}: cannot make a sandbox root there: {d}: {e.strerror}"
            ) from None
        top = top or d
    return top


def _undo_top(top: Path | None) -> None:
    if top is None:
        return
    try:
        parent = open_root(top.parent)
    except OSError:
        return
    try:
        remove_tree(parent, top.name)
    except OSError:
        pass
    finally:
        os.close(parent)


def _init_at(root_fd: int, path: Path, systemd: Systemd, *, exist_ok: bool, fresh: bool) -> None:
    names = os.listdir(root_fd)
    resuming = bool(names) and _resumable(root_fd)
    if names and not (exist_ok or resuming):
        raise SandboxError(f"{path}: directory is not empty; refusing to make it a sandbox")
    entries = _entries(systemd)
    if names:
        for e in [*_state_entries(), *entries]:
            why = _conflict(root_fd, e)
            if why is not None:
                raise SandboxError(f"{path}: refusing to make it a sandbox: {path}{why}")
    layer = _Layer(root_fd)
    try:
        SYSCALLS.fchmod(root_fd, 0o755, "/")
        state = layer.dir(STATE_DIR, 0o755)
        try:
            tmp = temp_name(INCOMPLETE.name, "init")
            remove_tree(state, tmp)
            if lstat_at(state, INCOMPLETE.name) is None:
                replace_file(state, INCOMPLETE.name, b"", 0o644, tmp)
                layer.made.append(INCOMPLETE)
            for e in entries:
                try:
                    layer.lay(e)
                except OSError as err:
                    if err.filename and str(err.filename).startswith("/"):
                        raise
                    raise OSError(err.errno, err.strerror, str(e.path)) from None
            marker = json.dumps({"systemd": systemd.version, "portablekit": 1}) + "\n"
            mtmp = temp_name(MARKER.name, "init")
            remove_tree(state, mtmp)
            replace_file(state, MARKER.name, marker.encode(), 0o644, mtmp)
            SYSCALLS.unlink(INCOMPLETE.name, state)
        finally:
            os.close(state)
    except OSError as e:
        _undo(root_fd, layer.made, everything=fresh or not names)
        where = f"{path}{e.filename}" if str(e.filename or "").startswith("/") else str(path)
        where = where.rstrip("/") if where != "/" else where
        raise SandboxError(
            f"{path}: cannot make a sandbox root there: {where}: {e.strerror}"
        ) from None


def _undo(root_fd: int, made: list[PurePosixPath], *, everything: bool) -> None:
    """Remove what a failed init made: everything in a directory that was empty, else the
    entries it made (newest first)."""
    try:
        if everything:
            for n in os.listdir(root_fd):
                remove_tree(root_fd, n)
            return
        for p in reversed(made):
            try:
                parent = open_dir(root_fd, p.parent, follow=False)
            except OSError:
                continue
            try:
                remove_tree(parent, p.name)
            finally:
                os.close(parent)
    except OSError:
        pass  # the file system refuses removals too: the error raised says why

"""The sandbox root: the only place portablekit creates, changes or removes files.

A sandbox root is a directory that plays the host's ``/``. :meth:`SandboxRoot.init` lays out
what Debian's base system has where portabled and the scenarios write (the built-in profiles,
``/etc/os-release``, ``/var/lib/portables`` with mode 0700, ...), mirroring the oracle's base
root for the chosen systemd version. :meth:`SandboxRoot.apply` carries out a
:class:`~portablekit.portabled.plan.Plan`, including what ``--enable`` and ``--now`` do (links,
and the simulated service manager's ``/run/portablekit/active-units``);
:meth:`SandboxRoot.materialize` lays an in-memory image tree into the root.

Safety rules, enforced here:

* every change is made relative to directory descriptors opened inside the root with
  ``O_NOFOLLOW``, one component at a time; links on the way are resolved inside the root, so
  no link, and no directory swapped for one meanwhile, leads a write outside (:mod:`.fs`, the
  one module that calls the file-changing system calls);
* files are written to a temporary name in the same directory and renamed into place; a tree
  is renamed to a temporary name before it is removed;
* operations on a root are serialised by a lock file, and a plan is written ahead to a
  journal, so a process killed half-way is rolled forward by the next operation
  (:mod:`.journal`, :mod:`.ops`);
* a directory is only used as a sandbox if ``sandbox init`` made it (a marker file in
  ``/run/portablekit``, read without following links), and never this machine's ``/``, so
  ``--root /`` can never change the real system (:mod:`.base`).
"""

from __future__ import annotations

import errno
import os
import stat as _stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from types import TracebackType

from ..errors import ImagePathError, SandboxError
from ..portabled.host import ACTIVE_UNITS, Host, format_active_units
from ..portabled.plan import Op, OpKind, Plan, note_pending
from ..source import ROOT, FileKind, ImageSource, Stat
from ..versions import Systemd
from . import fs, trees
from .base import MARKER, init_root, is_machine_root, read_sandbox_marker
from .journal import Journal, Session, acquire, release
from .ops import apply_ops, recover

__all__ = ["MARKER", "SandboxRoot"]

_O_READ_DIR, _O_READ_FILE = fs.O_READ_DIR, fs.O_READ_FILE


class SandboxRoot:
    """A directory playing the host's ``/`` for one systemd version.

    A root made by :meth:`temporary` lives in a temporary directory that goes when the object
    is garbage-collected, on :meth:`close`, or at the end of a ``with`` block; any other root
    stays where it is.
    """

    def __init__(self, path: str | os.PathLike[str], systemd: Systemd | None = None) -> None:
        self._host: Host | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        #: what rolling forward an interrupted operation found wrong (read and cleared by the
        #: command line, which prints it)
        self.notes: list[str] = []
        #: plans carried out here, by identity (kept alive so an id is never reused)
        self._applied: dict[int, Plan] = {}
        self.path = Path(path).absolute()
        try:
            st = os.stat(self.path)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                raise SandboxError(
                    f"{self.path}: sandbox root does not exist or is not a directory"
                ) from None
            raise SandboxError(
                f"{self.path}: cannot be used as a sandbox root: {e.strerror}"
            ) from None
        if not _stat.S_ISDIR(st.st_mode):
            raise SandboxError(f"{self.path}: sandbox root does not exist or is not a directory")
        if not os.access(self.path, os.R_OK | os.X_OK):
            raise SandboxError(f"{self.path}: sandbox root is not readable")
        meta = self._read_marker()
        if systemd is None:
            recorded = meta.get("systemd") if meta else None
            systemd = Systemd(recorded) if isinstance(recorded, int) else Systemd()
        self.systemd = systemd

    def __repr__(self) -> str:
        return f"SandboxRoot({str(self.path)!r}, {self.systemd})"

    # -- creation ------------------------------------------------------------------------------

    @classmethod
    def init(
        cls, path: str | os.PathLike[str], systemd: Systemd = Systemd(), *, exist_ok: bool = False
    ) -> SandboxRoot:
        """Create a fresh sandbox root for ``systemd`` at ``path`` (an empty or missing
        directory; with ``exist_ok`` one that is not empty).

        Refuses this machine's ``/`` and a directory where a link, FIFO or other entry is in the
        way of the base layout; when the file system refuses a write, what this call made is
        removed again (see :mod:`portablekit.sandbox.base`).
        """
        root = Path(path).absolute()
        init_root(root, systemd, exist_ok=exist_ok)
        return cls(root, systemd)

    @classmethod
    def temporary(cls, systemd: Systemd = Systemd()) -> SandboxRoot:
        """A fresh sandbox root for ``systemd`` in a new temporary directory (see the class
        docstring)."""
        tmp = tempfile.TemporaryDirectory(prefix="portablekit-")
        try:
            root = cls.init(Path(tmp.name) / "host", systemd)
        except BaseException:
            tmp.cleanup()
            raise
        root._tmp = tmp
        return root

    def close(self) -> None:
        """Remove a :meth:`temporary` root and its directory; any other root is left alone."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SandboxRoot:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _read_marker(self) -> dict[str, object] | None:
        try:
            fd = fs.open_root(self.path)
        except OSError:
            return None
        try:
            return None if is_machine_root(fd) else read_sandbox_marker(fd)
        finally:
            os.close(fd)

    @property
    def is_sandbox(self) -> bool:
        """Whether ``sandbox init`` created this root (writing is allowed only then)."""
        return self._read_marker() is not None

    def _require_sandbox(self) -> None:
        if not self.is_sandbox:
            raise SandboxError(
                f"{self.path}: not a portablekit sandbox (no {MARKER}); refusing to write. "
                "Create one with 'portablekit sandbox init DIR'."
            )

    @property
    def host(self) -> Host:
        """The read-only view planning works on (built once per systemd version)."""
        if self._host is None or self._host.systemd != self.systemd:
            self._host = Host(self.path, self.systemd)
        return self._host

    # -- one operation at a time ----------------------------------------------------------------

    @contextmanager
    def operation(self, *, required: bool = False) -> Iterator[Session | None]:
        """One operation on this root, for a ``with`` block: serialised with every other
        operation on it (threads and processes; ``/run/portablekit/lock``), after an
        operation a killed process left half-done was rolled forward.

        Plan inside the block, then :meth:`apply`: what was planned is what is carried out.
        Blocks nest. Yields ``None`` without locking a directory that is no sandbox, or when
        the lock cannot be taken (a read-only root) unless ``required``, which raises
        :class:`~portablekit.errors.SandboxError` then.
        """
        if not self.is_sandbox:
            if required:
                self._require_sandbox()
            yield None
            return
        try:
            s = acquire(self.path)
        except OSError as e:
            if required:
                where = f"{self.path}{e.filename}" if e.filename else str(self.path)
                raise SandboxError(f"{where}: cannot lock the sandbox root: {e.strerror}") from e
            yield None
            return
        try:
            if s.depth == 1:
                recover(s)
                self.notes.extend(s.notes)
                s.notes.clear()
            yield s
        finally:
            release(s)

    # -- confinement ---------------------------------------------------------------------------

    def machine_path(self, path: str | PurePosixPath) -> Path:
        """Where host path ``path`` lives on this machine (links in its parents resolved
        inside the root, the final component not followed); for reading and showing, never
        for writing."""
        p = PurePosixPath("/", path)
        if p == PurePosixPath("/"):
            raise SandboxError("refusing to operate on the sandbox root itself")
        try:
            parent = self.host.fs.resolve(p.parent)
        except ImagePathError as e:
            raise SandboxError(
                f"{p.parent}: cannot be resolved inside the sandbox: {e.strerror}"
            ) from e
        return self.path.joinpath(*parent.parts[1:], p.name)

    # -- applying plans --------------------------------------------------------------------------

    def apply(self, plan: Plan) -> None:
        """Carry out every operation of ``plan``, in order.

        A plan refused outright (error and no operations) raises its
        :class:`~portablekit.errors.PortabledError` and changes nothing; a plan where portabled
        does part of the work before failing (``error`` and operations) is carried out, its
        error stays in ``plan.error``. A plan the root has moved past (applied already, or made
        before another change) raises :class:`~portablekit.errors.SandboxError` saying so,
        before anything is written. Raises :class:`~portablekit.errors.SandboxError` if the
        file system does not let an operation happen (the operations before it stay done, as
        with portabled). Killed half-way, the plan is finished by the next operation on the
        root.
        """
        self._require_sandbox()
        if plan.error is not None and not plan.ops:
            raise plan.error
        if not plan.ops:
            return
        with self.operation(required=True) as s:
            assert s is not None
            self._require_current(plan)  # under the lock: no other operation moves the root
            apply_ops(s, plan.ops, plan.verb)
        self._applied[id(plan)] = plan

    def _require_current(self, plan: Plan) -> None:
        """The first operation of ``plan`` that needs something (a path free, or a path
        there) still finds the root as the plan was made against, seen through the
        operations before it."""
        pending: dict[PurePosixPath, FileKind | None] = {}
        view = self.host.overlay(pending)
        for op in plan.ops:
            free = op.kind in (OpKind.MKDIR, OpKind.COPY_FILE, OpKind.COPY_TREE) or (
                op.kind in (OpKind.WRITE, OpKind.SYMLINK) and not op.replace
            )
            needed = op.kind in (OpKind.UNLINK, OpKind.RMDIR, OpKind.REMOVE_TREE, OpKind.CHMOD)
            if free or needed:
                there = view.kind(op.path, follow=False) is not None
                if there == free:
                    self._refuse_stale(plan, f"{op.path} {'exists' if there else 'is gone'}")
                return
            note_pending(pending, op)

    def _refuse_stale(self, plan: Plan, what: str) -> None:
        if id(plan) in self._applied:
            raise SandboxError(
                f"this {plan.verb} plan of {plan.image} was already applied to the root "
                f"({what} already); plan again to act on the root as it is now"
            )
        raise SandboxError(
            f"the root has changed since this {plan.verb} plan of {plan.image} was made "
            f"({what} already): was it applied already? Plan again to act on the root as it "
            "is now"
        )

    # -- laying trees (scenario roots, image trees) -------------------------------------------

    def lay(self, tree: str | os.PathLike[str], at: str | PurePosixPath = "/") -> None:
        """Copy a directory tree onto the root at host path ``at`` (merging directories).

        Entries keep their type (FIFOs and sockets too) and link targets; modes keep their
        permission bits plus the owner's write bit (copies of scenario trees often lost it),
        and ``/var/lib/portables`` stays 0700 as Debian creates it. Links already in the root
        are followed inside it, as for every write. Setting a scene (scenario roots), it is not
        journaled: a process killed while laying leaves the part it laid.
        """
        self._require_sandbox()
        src_root = Path(tree)
        if not src_root.is_dir():
            raise SandboxError(f"{src_root}: not a directory")
        base = PurePosixPath("/", at)
        with self.operation(required=True) as s:
            assert s is not None
            try:
                os.close(fs.open_dir(s.root_fd, base, create=True))
                src = os.open(src_root, _O_READ_DIR)
                try:
                    _merge(s.root_fd, src, base)
                finally:
                    os.close(src)
            except OSError as e:
                raise SandboxError(
                    f"{e.filename or base}: cannot lay {src_root} there: {e.strerror}"
                ) from e

    def materialize(self, source: ImageSource, at: str | PurePosixPath) -> PurePosixPath:
        """Lay an image tree into the root at host path ``at`` (which must not exist yet).

        Every entry of ``source`` keeps its kind and mode, links their target, files and
        directories their modification time. The tree is built under a temporary name next to
        ``at`` and renamed into place, so it appears whole or not at all (a killed process's
        temporary tree is removed by the next operation); missing parents of ``at`` are created
        (0755), resolved inside the root like every other write, and nothing is written through
        a link. Returns ``at`` as a host path.
        """
        self._require_sandbox()
        dest = PurePosixPath("/", at)
        if dest == PurePosixPath("/"):
            raise SandboxError("refusing to lay an image over the sandbox root itself")
        with self.operation(required=True) as s:
            assert s is not None
            parent = self._makedirs(s, dest.parent, dest)
            try:
                if fs.lstat_at(parent, dest.name) is not None:
                    raise SandboxError(f"{dest}: exists already; refusing to lay an image over it")
                jid = Journal.new_id()
                tmp = fs.temp_name(dest.name, jid)
                journal = Journal(jid, "materialize", (), (dest.parent / tmp,))
                s.write_journal(journal)
                try:
                    _build(source, parent, tmp)
                    if fs.lstat_at(parent, dest.name) is not None:
                        raise OSError(errno.EEXIST, os.strerror(errno.EEXIST), str(dest))
                    fs.SYSCALLS.rename(tmp, dest.name, parent, parent)
                except Exception as e:
                    trees.remove_tree(parent, tmp)
                    s.end(journal)
                    if isinstance(e, OSError):
                        raise SandboxError(
                            f"{dest}: cannot lay {source.label} there: {e.strerror}"
                        ) from e
                    raise
                s.end(journal)
            finally:
                os.close(parent)
        return dest

    def _makedirs(self, s: Session, p: PurePosixPath, for_: PurePosixPath) -> int:
        """A descriptor of directory ``p``, made (0755) where missing, links followed inside
        the root."""
        try:
            return fs.open_dir(s.root_fd, p, create=True)
        except OSError as e:
            raise SandboxError(f"{for_}: cannot create it: {e.filename}: {e.strerror}") from e

    def write_file(self, path: str | PurePosixPath, data: bytes | str, mode: int = 0o644) -> None:
        """Write one file (creating parent directories 0755), atomically."""
        self._require_sandbox()
        p = PurePosixPath("/", path)
        payload = data.encode() if isinstance(data, str) else data
        with self.operation(required=True) as s:
            assert s is not None
            os.close(self._makedirs(s, p.parent, p))
            apply_ops(s, (Op(OpKind.WRITE, p, data=payload, mode=mode, replace=True),), "write")

    def make_dir(self, path: str | PurePosixPath, mode: int = 0o755) -> None:
        """Create a directory (its missing parents 0755, itself ``mode``) unless it exists."""
        self._require_sandbox()
        p = PurePosixPath("/", path)
        with self.operation(required=True) as s:
            assert s is not None
            if self.host.kind(p) is not None:
                return
            os.close(self._makedirs(s, p.parent, p))
            apply_ops(s, (Op(OpKind.MKDIR, p, mode=mode),), "mkdir")

    def remove(self, path: str | PurePosixPath) -> None:
        """Remove one entry (a whole tree for a directory) inside the root."""
        self._require_sandbox()
        p = PurePosixPath("/", path)
        with self.operation(required=True) as s:
            assert s is not None
            if self.host.kind(p, follow=False) is not None:
                apply_ops(s, (Op(OpKind.REMOVE_TREE, p),), "remove")

    # -- the simulated service manager ---------------------------------------------------------

    def set_active_units(self, units: dict[str, str]) -> None:
        """Set the scene: what the service manager reports as running (``{unit: ActiveState}``).

        The verbs change it through ``START``/``STOP`` operations of a plan instead.
        """
        self.write_file(ACTIVE_UNITS, format_active_units(units))


# -- building trees through descriptors ----------------------------------------------------------


def _build(source: ImageSource, parent: int, tmp: str) -> None:
    """Build ``source``'s tree as the new directory ``tmp`` of ``parent``."""
    sc = fs.SYSCALLS
    top = source.lstat(ROOT)
    sc.mkdir(tmp, 0o700, parent)
    top_fd = os.open(tmp, _O_READ_DIR, dir_fd=parent)
    dirs: list[tuple[PurePosixPath, Stat]] = [(ROOT, top)]
    known = {ROOT}
    cur_path, cur_fd = ROOT, os.dup(top_fd)
    try:
        for p, st in source.walk():
            if p.parent not in known or p.name in ("", ".", ".."):
                raise SandboxError(f"{source.label}: {p}: not inside a directory of the image")
            if p.parent != cur_path:
                os.close(cur_fd)
                cur_fd, cur_path = -1, p.parent
                cur_fd = fs.open_dir(top_fd, p.parent, follow=False)
            if st.kind is FileKind.DIR:
                sc.mkdir(p.name, 0o700, cur_fd)
                known.add(p)
                dirs.append((p, st))
            elif st.kind is FileKind.SYMLINK:
                sc.symlink(source.readlink(p), p.name, cur_fd)
            elif st.kind is FileKind.FILE:
                fd = sc.create(p.name, cur_fd)
                try:
                    sc.write(fd, source.read_bytes(p), str(p))
                    sc.fchmod(fd, _stat.S_IMODE(st.mode), str(p))
                    ns = int(st.mtime * 1e9)
                    sc.futimes(fd, (ns, ns), str(p))
                finally:
                    os.close(fd)
            else:
                raise SandboxError(
                    f"{source.label}: {p}: a {st.kind} cannot be laid into a sandbox root"
                )
        for d, st in reversed(dirs):  # children first: their creation changes the times
            ns = int(st.mtime * 1e9)
            if d == ROOT:
                fd = os.dup(top_fd)
            else:
                pfd = fs.open_dir(top_fd, d.parent, follow=False)
                try:
                    fd = os.open(d.name, _O_READ_DIR, dir_fd=pfd)
                finally:
                    os.close(pfd)
            try:
                sc.fchmod(fd, _stat.S_IMODE(st.mode), str(d))
                sc.futimes(fd, (ns, ns), str(d))
            finally:
                os.close(fd)
    finally:
        if cur_fd >= 0:
            os.close(cur_fd)
        os.close(top_fd)


def _merge(root_fd: int, src_top: int, base: PurePosixPath) -> None:
    """Copy the directory open as ``src_top`` onto host directory ``base`` of the root."""
    sc = fs.SYSCALLS
    todo: list[tuple[int, PurePosixPath]] = [(os.dup(src_top), base)]
    try:
        while todo:
            src, here = todo.pop()
            try:
                dst = fs.open_dir(root_fd, here)
                try:
                    for name in sorted(os.listdir(src), key=os.fsencode):
                        sub = _merge_entry(root_fd, src, dst, here, name, sc)
                        if sub is not None:
                            todo.append(sub)
                finally:
                    os.close(dst)
            finally:
                os.close(src)
    finally:
        for src, _ in todo:
            os.close(src)


def _merge_entry(
    root_fd: int, src: int, dst: int, here: PurePosixPath, name: str, sc: fs.Syscalls
) -> tuple[int, PurePosixPath] | None:
    st = os.stat(name, dir_fd=src, follow_symlinks=False)
    host = here / name
    there = fs.lstat_at(dst, name)
    if _stat.S_ISDIR(st.st_mode):
        mode = _stat.S_IMODE(st.st_mode) | 0o200
        if host == PurePosixPath("/var/lib/portables"):
            mode = 0o700
        kept_link = there is not None and _stat.S_ISLNK(there.st_mode)
        if kept_link and not _is_dir_inside(root_fd, host):
            kept_link = False  # a link to a directory inside the root is merged into
        if there is not None and not _stat.S_ISDIR(there.st_mode) and not kept_link:
            trees.remove_tree(dst, name, str(host))
            there = None
        if there is None:
            sc.mkdir(name, 0o700, dst)
        pfd = fs.open_dir(root_fd, host)
        try:
            fd = os.open(".", _O_READ_DIR, dir_fd=pfd)
        finally:
            os.close(pfd)
        try:
            sc.fchmod(fd, mode, str(host))
        finally:
            os.close(fd)
        return os.open(name, _O_READ_DIR, dir_fd=src), host
    if there is not None:
        trees.remove_tree(dst, name, str(host))
    if _stat.S_ISLNK(st.st_mode):
        sc.symlink(os.readlink(name, dir_fd=src), name, dst)
    elif _stat.S_ISREG(st.st_mode):
        f = os.open(name, _O_READ_FILE, dir_fd=src)
        try:
            trees.copy_file(f, dst, name, str(host), mode=_stat.S_IMODE(st.st_mode) | 0o200)
        finally:
            os.close(f)
    else:
        trees.make_node(dst, name, st, str(host))
    return None


def _is_dir_inside(root_fd: int, host: PurePosixPath) -> bool:
    try:
        os.close(fs.open_dir(root_fd, host))
    except OSError:
        return False
    return True

"""The sandbox root: the only place portablekit creates, changes or removes files.

A sandbox root is a directory that plays the host's ``/``. :meth:`SandboxRoot.init` lays out
what Debian's base system has where portabled and the scenarios write (the built-in profiles,
``/etc/os-release``, ``/var/lib/portables`` with mode 0700, ...), mirroring the oracle's base
root for the chosen systemd version. :meth:`SandboxRoot.apply` carries out a
:class:`~portablekit.portabled.plan.Plan`, including what ``--enable`` and ``--now`` do (links,
and the simulated service manager's ``/run/portablekit/active-units``);
:meth:`SandboxRoot.materialize` lays an in-memory image tree into the root.

Safety rules, enforced here:

* every operation is confined to the root: parent directories are resolved inside the root,
  the final component is never followed, so no link can lead a write outside;
* files are written to a temporary name in the same directory and renamed into place;
* a directory is only used as a sandbox if ``sandbox init`` made it (a marker file in
  ``/run/portablekit``), so ``--root /`` can never change the real system.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat as _stat
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path, PurePosixPath
from types import TracebackType

from .errors import ImagePathError, SandboxError
from .portabled.host import ACTIVE_UNITS, STATE_DIR, Host
from .portabled.plan import Op, OpKind, Plan, note_pending
from .portabled.profiles import BUILTIN_PROFILES, builtin_profile
from .source import ROOT, FileKind, ImageSource
from .versions import Systemd

__all__ = ["MARKER", "SandboxRoot"]

#: The file that makes a directory a portablekit sandbox.
MARKER = STATE_DIR / "sandbox.json"

_MANAGER_OPS = (OpKind.START, OpKind.STOP)


def _data(*parts: str) -> str:
    ref = resources.files("portablekit").joinpath("data", *parts)
    return ref.read_text()


class SandboxRoot:
    """A directory playing the host's ``/`` for one systemd version.

    A root made by :meth:`temporary` lives in a temporary directory that goes when the object
    is garbage-collected, on :meth:`close`, or at the end of a ``with`` block; any other root
    stays where it is.
    """

    def __init__(self, path: str | os.PathLike[str], systemd: Systemd | None = None) -> None:
        self._host: Host | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        #: plans carried out here, by identity (kept alive so an id is never reused)
        self._applied: dict[int, Plan] = {}
        self.path = Path(path).absolute()
        if not self.path.is_dir():
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
        directory)."""
        root = Path(path).absolute()
        if root.exists():
            if not root.is_dir():
                raise SandboxError(f"{root}: exists and is not a directory")
            if any(root.iterdir()) and not exist_ok:
                raise SandboxError(f"{root}: directory is not empty; refusing to make it a sandbox")
        else:
            root.mkdir(parents=True)
        os.chmod(root, 0o755)
        for line in _data("host", str(systemd.version), "base-root.txt").splitlines():
            if not line or line.startswith("#"):
                continue
            _lay_base_entry(root, line, systemd)
        (root / "run" / "portablekit").mkdir(parents=True, exist_ok=True)
        marker = root / "run" / "portablekit" / "sandbox.json"
        marker.write_text(json.dumps({"systemd": systemd.version, "portablekit": 1}) + "\n")
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
        p = self.path / "run" / "portablekit" / "sandbox.json"
        try:
            data = json.loads(p.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

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

    # -- confinement ---------------------------------------------------------------------------

    def _parent(self, path: PurePosixPath) -> Path:
        """The machine path of ``path``'s parent, resolved inside the root."""
        p = PurePosixPath("/", path)
        if p == PurePosixPath("/"):
            raise SandboxError("refusing to operate on the sandbox root itself")
        try:
            parent = self.host.fs.resolve(p.parent)
        except ImagePathError as e:
            raise SandboxError(
                f"{p.parent}: cannot be resolved inside the sandbox: {e.strerror}"
            ) from e
        machine = self.path.joinpath(*parent.parts[1:])
        # resolve() only returns link-free paths inside the root; double-check anyway
        if os.path.commonpath([machine, self.path]) != str(self.path):
            raise SandboxError(f"{path}: would leave the sandbox root")
        return machine

    def machine_path(self, path: str | PurePosixPath) -> Path:
        """Where host path ``path`` lives on this machine (final component not followed)."""
        p = PurePosixPath("/", path)
        return self._parent(p) / p.name

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
        with portabled).
        """
        self._require_sandbox()
        if plan.error is not None and not plan.ops:
            raise plan.error
        self._require_current(plan)
        ops = plan.ops
        i = 0
        while i < len(ops):
            if ops[i].kind in _MANAGER_OPS:
                # a run of starts and stops rewrites the manager's state file once, not once
                # per unit (--now of thousands of units)
                j = i
                while j < len(ops) and ops[j].kind in _MANAGER_OPS:
                    j += 1
                self._apply_manager_ops(ops[i:j])
                i = j
            else:
                self._apply_op(ops[i])
                i += 1
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

    def _apply_manager_ops(self, ops: Sequence[Op]) -> None:
        """``START``/``STOP`` operations, in order, in one rewrite of the state file."""
        active = self.host.active_units()
        try:
            for op in ops:
                assert op.target is not None
                if op.path != ACTIVE_UNITS:
                    raise SandboxError(f"{op.path}: not the service manager's state file")
                if op.kind is OpKind.START:
                    active[op.target] = "active"
                else:
                    active.pop(op.target, None)
        finally:
            target = self.machine_path(ACTIVE_UNITS)
            try:
                self._atomic_write(
                    target.parent, target.name, _active_units_text(active), 0o644, True
                )
            except OSError as e:
                raise SandboxError(f"{ACTIVE_UNITS}: {ops[0].kind} failed: {e.strerror}") from e

    def _apply_op(self, op: Op) -> None:
        target = self.machine_path(op.path)
        parent = target.parent
        try:
            if op.kind is OpKind.MKDIR:
                os.mkdir(target, op.mode)
                os.chmod(target, op.mode)
            elif op.kind is OpKind.WRITE:
                assert op.data is not None
                self._atomic_write(parent, target.name, op.data, op.mode, op.replace)
            elif op.kind is OpKind.SYMLINK:
                assert op.target is not None
                if op.replace:
                    tmp = parent / f".#{target.name}.{os.getpid()}.tmp"
                    os.symlink(op.target, tmp)
                    os.replace(tmp, target)
                else:
                    os.symlink(op.target, target)
            elif op.kind is OpKind.COPY_FILE:
                assert op.source is not None
                src = self.host.real(op.source)
                self._atomic_copy(src, parent, target.name)
            elif op.kind is OpKind.COPY_TREE:
                assert op.source is not None
                src = self.host.real(op.source)
                tmp = Path(tempfile.mkdtemp(prefix=f".#{target.name}.", dir=parent))
                os.rmdir(tmp)
                shutil.copytree(src, tmp, symlinks=True, copy_function=shutil.copy2)
                os.rename(tmp, target)
            elif op.kind is OpKind.UNLINK:
                os.unlink(target)
            elif op.kind is OpKind.RMDIR:
                os.rmdir(target)
            elif op.kind is OpKind.REMOVE_TREE:
                if target.is_symlink() or not target.is_dir():
                    os.unlink(target)
                else:
                    shutil.rmtree(target)
            elif op.kind is OpKind.CHMOD:
                # the final component is never followed: a link is an error, not a way out
                fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                try:
                    os.fchmod(fd, op.mode)
                finally:
                    os.close(fd)
            elif op.kind in _MANAGER_OPS:
                self._apply_manager_ops([op])
        except OSError as e:
            raise SandboxError(f"{op.path}: {op.kind} failed: {e.strerror}") from e

    @staticmethod
    def _atomic_write(parent: Path, name: str, data: bytes, mode: int, replace: bool) -> None:
        if not replace and os.path.lexists(parent / name):
            raise OSError(errno.EEXIST, os.strerror(errno.EEXIST))
        fd, tmp = tempfile.mkstemp(prefix=f".#{name}.", dir=parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fchmod(f.fileno(), mode)
                os.fsync(f.fileno())
            os.replace(tmp, parent / name)
        except BaseException:
            if os.path.lexists(tmp):
                os.unlink(tmp)
            raise

    @staticmethod
    def _atomic_copy(src: Path, parent: Path, name: str) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".#{name}.", dir=parent)
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
                shutil.copyfileobj(inp, out, 1 << 20)
                out.flush()
                os.fchmod(out.fileno(), _stat.S_IMODE(os.stat(src).st_mode))
                os.fsync(out.fileno())
            os.replace(tmp, parent / name)
        except BaseException:
            if os.path.lexists(tmp):
                os.unlink(tmp)
            raise

    # -- laying trees (scenario roots, image trees) -------------------------------------------

    def lay(self, tree: str | os.PathLike[str], at: str | PurePosixPath = "/") -> None:
        """Copy a directory tree onto the root at host path ``at`` (merging directories).

        Entries keep their type and link targets; modes keep their permission bits plus the
        owner's write bit (copies of scenario trees often lost it), and ``/var/lib/portables``
        stays 0700 as Debian creates it.
        """
        self._require_sandbox()
        src_root = Path(tree)
        if not src_root.is_dir():
            raise SandboxError(f"{src_root}: not a directory")
        base = PurePosixPath("/", at)
        self._makedirs(base)
        for dirpath, dirnames, filenames in os.walk(src_root):
            rel = os.path.relpath(dirpath, src_root)
            here = base if rel == "." else base / rel
            keep = []
            for name in sorted(dirnames) + sorted(filenames):
                src = Path(dirpath) / name
                dst_host = here / name
                st = os.lstat(src)
                dst = self.machine_path(dst_host)
                if _stat.S_ISDIR(st.st_mode):
                    mode = _stat.S_IMODE(st.st_mode) | 0o200
                    if dst_host == PurePosixPath("/var/lib/portables"):
                        mode = 0o700
                    if os.path.lexists(dst) and not dst.is_dir():
                        _remove(dst)
                    if not os.path.lexists(dst):
                        os.mkdir(dst)
                    os.chmod(dst, mode)
                    if name in dirnames:
                        keep.append(name)
                elif _stat.S_ISLNK(st.st_mode):
                    if os.path.lexists(dst):
                        _remove(dst)
                    os.symlink(os.readlink(src), dst)
                elif _stat.S_ISREG(st.st_mode):
                    if os.path.lexists(dst):
                        _remove(dst)
                    _copy_sparse(src, dst)
                    os.chmod(dst, _stat.S_IMODE(st.st_mode) | 0o200)
            dirnames[:] = [d for d in dirnames if d in keep]

    def materialize(self, source: ImageSource, at: str | PurePosixPath) -> PurePosixPath:
        """Lay an image tree into the root at host path ``at`` (which must not exist yet).

        Every entry of ``source`` keeps its kind and mode, links their target, files and
        directories their modification time. The tree is built under a temporary name next to
        ``at`` and renamed into place, so it appears whole or not at all; missing parents of
        ``at`` are created (0755), resolved inside the root like every other write, and nothing
        is written through a link. Returns ``at`` as a host path.
        """
        self._require_sandbox()
        dest = PurePosixPath("/", at)
        if dest == PurePosixPath("/"):
            raise SandboxError("refusing to lay an image over the sandbox root itself")
        self._makedirs(dest.parent)
        if self.host.kind(dest, follow=False) is not None:
            raise SandboxError(f"{dest}: exists already; refusing to lay an image over it")
        parent = self._parent(dest)
        tmp = Path(tempfile.mkdtemp(prefix=f".#{dest.name}.", dir=parent))
        try:
            top = source.lstat(ROOT)
            made = {ROOT: tmp}  # image directories -> where they were made, nothing else
            dirs = [(tmp, top)]
            for p, st in source.walk():
                where = made.get(p.parent)
                if where is None or p.name in ("", ".", ".."):
                    raise SandboxError(f"{source.label}: {p}: not inside a directory of the image")
                machine = where / p.name
                if st.kind is FileKind.DIR:
                    os.mkdir(machine, 0o700)
                    made[p] = machine
                    dirs.append((machine, st))
                elif st.kind is FileKind.SYMLINK:
                    os.symlink(source.readlink(p), machine)
                elif st.kind is FileKind.FILE:
                    fd = os.open(machine, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW)
                    with os.fdopen(fd, "wb") as f:
                        f.write(source.read_bytes(p))
                        os.fchmod(f.fileno(), _stat.S_IMODE(st.mode))
                    os.utime(machine, (st.mtime, st.mtime))
                else:
                    raise SandboxError(
                        f"{source.label}: {p}: a {st.kind} cannot be laid into a sandbox root"
                    )
            for d, st in reversed(dirs):  # children first: their creation changes the times
                os.chmod(d, _stat.S_IMODE(st.mode))
                os.utime(d, (st.mtime, st.mtime))
            final = parent / dest.name
            os.rename(tmp, final)
            os.utime(final, (top.mtime, top.mtime))
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise SandboxError(f"{dest}: cannot lay {source.label} there: {e.strerror}") from e
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return dest

    def write_file(self, path: str | PurePosixPath, data: bytes | str, mode: int = 0o644) -> None:
        """Write one file (creating parent directories 0755), atomically."""
        self._require_sandbox()
        p = PurePosixPath("/", path)
        self._makedirs(p.parent)
        payload = data.encode() if isinstance(data, str) else data
        self._atomic_write(self._parent(p), p.name, payload, mode, True)

    def _makedirs(self, p: PurePosixPath) -> None:
        """Create missing directories of ``p`` (0755), following links inside the root."""
        cur = PurePosixPath("/")
        for part in PurePosixPath("/", p).parts[1:]:
            try:
                nxt = self.host.resolve(cur / part)
            except ImagePathError as e:
                raise SandboxError(
                    f"{p}: cannot create it: {cur / part} is a link into a missing directory"
                ) from e
            kind = self.host.kind(nxt, follow=False)
            if kind is None:
                machine = self.path.joinpath(*nxt.parts[1:])
                os.mkdir(machine, 0o755)
                os.chmod(machine, 0o755)
            elif kind is not FileKind.DIR:
                raise SandboxError(f"{p}: cannot create it: {nxt} is not a directory")
            cur = nxt

    def make_dir(self, path: str | PurePosixPath, mode: int = 0o755) -> None:
        """Create a directory (its missing parents 0755, itself ``mode``) unless it exists."""
        self._require_sandbox()
        p = PurePosixPath("/", path)
        if self.host.kind(p) is not None:
            return
        self._makedirs(p.parent)
        os.mkdir(self.machine_path(p), mode)
        os.chmod(self.machine_path(p), mode)

    def remove(self, path: str | PurePosixPath) -> None:
        """Remove one entry (a whole tree for a directory) inside the root."""
        self._require_sandbox()
        target = self.machine_path(path)
        if os.path.lexists(target):
            _remove(target)

    # -- the simulated service manager ---------------------------------------------------------

    def set_active_units(self, units: dict[str, str]) -> None:
        """Set the scene: what the service manager reports as running (``{unit: ActiveState}``).

        The verbs change it through ``START``/``STOP`` operations of a plan instead.
        """
        self.write_file(ACTIVE_UNITS, _active_units_text(units))


def _active_units_text(units: dict[str, str]) -> bytes:
    """``/run/portablekit/active-units``: one ``UNIT STATE`` line per unit, sorted."""
    return "".join(f"{u} {s}\n" for u, s in sorted(units.items())).encode()


def _copy_sparse(src: Path, dst: Path) -> None:
    """Copy a file keeping its holes: disk images are mostly holes, and ``list`` reports the
    space a raw image really takes."""
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        size = os.fstat(fin.fileno()).st_size
        pos = 0
        while pos < size:
            try:
                data_at = os.lseek(fin.fileno(), pos, os.SEEK_DATA)
            except OSError:  # only holes left (ENXIO), or no SEEK_DATA support
                break
            try:
                hole_at = os.lseek(fin.fileno(), data_at, os.SEEK_HOLE)
            except OSError:
                hole_at = size
            fin.seek(data_at)
            fout.seek(data_at)
            left = hole_at - data_at
            while left > 0:
                chunk = fin.read(min(left, 1 << 20))
                if not chunk:
                    break
                fout.write(chunk)
                left -= len(chunk)
            pos = hole_at
        fout.truncate(size)


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p)
    else:
        os.unlink(p)


def _lay_base_entry(root: Path, line: str, systemd: Systemd) -> None:
    """Create one entry of the oracle's base-root listing (see ``data/host/*/base-root.txt``)."""
    words = line.split(" ")
    path = words[0]
    kind = words[1]
    if kind == "absent" or path == "/":
        return
    dst = root.joinpath(*PurePosixPath(path).parts[1:])
    if kind == "dir":
        mode = int(words[2], 8)
        dst.mkdir(parents=True, exist_ok=True)
        os.chmod(dst, mode)
    elif kind == "symlink":
        target = line.split(" -> ", 1)[1]
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not os.path.lexists(dst):
            os.symlink(target, dst)
    elif kind == "file":
        mode = int(words[2], 8)
        data = _base_file_content(path, systemd)
        if data is None:
            return  # contents we do not need (shell profiles of /root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(data)
        os.chmod(dst, mode)


def _base_file_content(path: str, systemd: Systemd) -> bytes | None:
    p = PurePosixPath(path)
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

"""The lock and the write-ahead journal of a sandbox root, both in ``/run/portablekit``.

**The lock.** Operations on one root are serialised, as portabled serialises them on a host:
:func:`session` takes ``/run/portablekit/lock`` (``flock``, exclusive) and holds it until the
operation ends, across planning and carrying out, so an operation that waited plans against
what the one before it left. Sessions nest within a thread (the command line holds one around
a verb, each plan it applies takes it again); threads and processes each wait for their turn.

**The journal.** Before the first change of a plan, its operations are written to
``/run/portablekit/journal`` (a new file renamed into place, so it is there whole or not at
all); before each operation its number is appended (``begun``). A process killed half-way
leaves the journal behind, and the next session rolls it forward first: the operations before
the last one begun are done, the last one begun is finished (each operation can be finished
from any point it was stopped at), the rest are carried out, then the journal goes. Temporary
entries have names derived from the journal's id and the operation's number
(:func:`portablekit.sandbox.fs.temp_name`), so the roll-forward knows exactly which to remove.
"""

from __future__ import annotations

import base64
import errno
import fcntl
import json
import os
import secrets
import stat as _stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..portabled.host import STATE_DIR
from ..portabled.plan import Op, OpKind
from .fs import SYSCALLS, open_dir, open_root, read_regular, write_new

__all__ = ["JOURNAL", "LOCK", "Journal", "Session", "acquire", "release", "session"]

#: The lock file every operation on a root holds.
LOCK = STATE_DIR / "lock"
#: The write-ahead journal of the plan being carried out.
JOURNAL = STATE_DIR / "journal"
_NEW = "journal.new"
_JOURNAL_MAX = 1 << 30


@dataclass
class Journal:
    """A plan's operations as written ahead: ``id`` names its temporary entries, ``begun`` is
    the number of the last operation begun (-1: none), ``temps`` host paths of temporary
    trees to remove when rolling forward (an image being laid)."""

    id: str
    verb: str
    ops: tuple[Op, ...]
    temps: tuple[PurePosixPath, ...] = ()
    begun: int = -1
    fd: int = field(default=-1, repr=False)

    @staticmethod
    def new_id() -> str:
        """A fresh journal id (part of every temporary name the plan uses)."""
        return secrets.token_hex(5)

    def header(self) -> bytes:
        """The journal's first line."""
        d = {
            "id": self.id,
            "verb": self.verb,
            "temps": [str(t) for t in self.temps],
            "ops": [_op_to_json(op) for op in self.ops],
        }
        return json.dumps(d, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"


def _op_to_json(op: Op) -> dict[str, object]:
    d: dict[str, object] = {"kind": str(op.kind), "path": str(op.path)}
    if op.data is not None:
        d["data"] = base64.b64encode(op.data).decode()
    if op.target is not None:
        d["target"] = op.target
    if op.source is not None:
        d["source"] = str(op.source)
    d["mode"] = op.mode
    d["replace"] = op.replace
    return d


def _op_from_json(d: dict[str, object]) -> Op:
    data = d.get("data")
    target = d.get("target")
    source = d.get("source")
    mode = d.get("mode", 0o644)
    return Op(
        OpKind(str(d["kind"])),
        PurePosixPath(str(d["path"])),
        data=base64.b64decode(str(data)) if data is not None else None,
        target=str(target) if target is not None else None,
        source=PurePosixPath(str(source)) if source is not None else None,
        mode=mode if isinstance(mode, int) else 0o644,
        replace=bool(d.get("replace", False)),
    )


# -- the session: root open, lock held ----------------------------------------------------------


@dataclass
class Session:
    """One operation on a root: the root and ``/run/portablekit`` open, the lock held."""

    root_fd: int
    state_fd: int
    lock_fd: int
    key: tuple[int, int, int] = (0, 0, 0)
    depth: int = 1
    #: what rolling an interrupted plan forward found wrong (empty when all went well)
    notes: list[str] = field(default_factory=list)
    #: whether this session rolled an interrupted plan forward
    recovered: bool = False

    def write_journal(self, journal: Journal) -> None:
        """Write ``journal`` ahead of its plan and keep it open for :meth:`begin`."""
        SYSCALLS.unlink_if_there(_NEW, self.state_fd)  # left by a process killed writing one
        write_new(self.state_fd, _NEW, journal.header(), 0o644, str(JOURNAL))
        SYSCALLS.rename(_NEW, JOURNAL.name, self.state_fd, self.state_fd)
        journal.fd = SYSCALLS.open_append(JOURNAL.name, self.state_fd)

    def begin(self, journal: Journal, k: int) -> None:
        """Record that operation ``k`` begins (its checks passed)."""
        SYSCALLS.write(journal.fd, b"%d\n" % k, str(JOURNAL))
        journal.begun = k

    def end(self, journal: Journal) -> None:
        """The plan is carried out (or failed cleanly): the journal goes."""
        if journal.fd >= 0:
            os.close(journal.fd)
            journal.fd = -1
        SYSCALLS.unlink(JOURNAL.name, self.state_fd)

    def read_journal(self) -> Journal | None:
        """The journal an interrupted plan left, ``None`` if there is none."""
        SYSCALLS.unlink_if_there(_NEW, self.state_fd)  # never renamed: its plan never began
        raw = read_regular(self.state_fd, JOURNAL.name, _JOURNAL_MAX, str(JOURNAL))
        if raw is None:
            return None
        head, _, rest = raw.partition(b"\n")
        try:
            d = json.loads(head)
            ops = tuple(_op_from_json(o) for o in d["ops"])
            temps = tuple(PurePosixPath(str(t)) for t in d.get("temps", ()))
            begun = max((int(x) for x in rest.split()), default=-1)
            return Journal(str(d["id"]), str(d.get("verb", "")), ops, temps, begun)
        except (ValueError, KeyError, TypeError) as e:
            raise OSError(
                errno.EBADMSG, f"not a journal portablekit wrote ({e})", str(JOURNAL)
            ) from None


_HELD: dict[tuple[int, int, int], Session] = {}
_HELD_LOCK = threading.Lock()


def acquire(root: str | os.PathLike[str]) -> Session:
    """Take the lock of the sandbox root at ``root`` (this machine's path); give it back with
    :func:`release`.

    A thread that holds the lock of a root already gets its session again (``depth`` counts the
    nesting). Raises :class:`OSError` naming the host path that failed: the state directory
    must be a real directory inside the root, the lock a regular file.
    """
    root_fd = open_root(root)
    try:
        st = os.fstat(root_fd)
        key = (threading.get_ident(), st.st_dev, st.st_ino)
        with _HELD_LOCK:
            held = _HELD.get(key)
            if held is not None:
                held.depth += 1
                return held
        state_fd = open_dir(root_fd, STATE_DIR, follow=False)
    except BaseException:
        os.close(root_fd)
        raise
    try:
        lock_fd = _open_lock(state_fd)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(lock_fd)
            raise
    except BaseException:
        os.close(state_fd)
        os.close(root_fd)
        raise
    s = Session(root_fd, state_fd, lock_fd, key=key)
    with _HELD_LOCK:
        _HELD[key] = s
    return s


def release(s: Session) -> None:
    """Give back a session :func:`acquire` returned (the lock goes with the outermost one)."""
    with _HELD_LOCK:
        s.depth -= 1
        if s.depth > 0:
            return
        _HELD.pop(s.key, None)
    os.close(s.lock_fd)  # releases the lock
    os.close(s.state_fd)
    os.close(s.root_fd)


@contextmanager
def session(root: str | os.PathLike[str]) -> Iterator[Session]:
    """:func:`acquire` and :func:`release` around a ``with`` block."""
    s = acquire(root)
    try:
        yield s
    finally:
        release(s)


def _open_lock(state_fd: int) -> int:
    try:
        fd = SYSCALLS.open_lock(LOCK.name, state_fd)
    except OSError as e:
        if e.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise OSError(e.errno, e.strerror, str(LOCK)) from None
        try:  # a lock file already there can be locked through a read-only descriptor
            fd = os.open(LOCK.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=state_fd)
        except OSError:
            raise OSError(e.errno, e.strerror, str(LOCK)) from None
    if not _stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(LOCK))
    return fd

"""Carrying out a plan's operations under the journal, and finishing a plan a killed process
began.

Each :class:`~portablekit.portabled.plan.OpKind` has a :class:`Handler`: ``check`` looks at the
host before the operation begins (it changes nothing), ``do`` carries the operation out and
must be able to *finish* it from any point a killed process stopped at (``finishing=True``:
the journal says it began). Every change is made through :mod:`.fs`, relative to the
descriptor of the operation's parent directory, opened inside the root. New operation kinds
register a handler with :func:`register`.

Entries made in ``/etc/portables`` and ``/run/portables`` are recorded (with their inode) in
``/run/portablekit/made-by-attach``, and forgotten when an operation removes them: with
``--fixed`` detach removes only what an attach made there
(:meth:`portablekit.portabled.host.Host.made_by_attach`).
"""

from __future__ import annotations

import errno
import json
import os
import stat as _stat
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..errors import SandboxError
from ..portabled.host import (
    ACTIVE_UNITS,
    MADE_BY_ATTACH,
    entry_fingerprint,
    format_active_units,
    parse_active_units,
    portables_dir,
)
from ..portabled.plan import Op, OpKind
from .fs import (
    SYSCALLS,
    lstat_at,
    open_dir,
    open_entry,
    read_regular,
    replace_file,
    replace_symlink,
    temp_name,
    write_new,
)
from .journal import JOURNAL, Journal, Session
from .trees import copy_file, copy_tree, remove_tree

__all__ = ["Handler", "OpStep", "apply_ops", "recover", "register"]

_O_READ_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_READ_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_RECORDED_DIRS = frozenset({portables_dir(False), portables_dir(True)})


@dataclass
class OpStep:
    """One operation being carried out: ``parent`` is a descriptor of its path's parent
    directory (opened inside the root), ``name`` the entry, ``tag`` what its temporary names
    carry (journal id and operation number). ``batch``: the run of operations carried out
    together with ``op`` (itself first; see :attr:`Handler.batches`)."""

    session: Session
    op: Op
    parent: int
    name: str
    tag: str
    batch: Sequence[Op] = ()

    @property
    def tmp(self) -> str:
        """The operation's temporary name, in its parent directory."""
        return temp_name(self.name, self.tag)

    @property
    def where(self) -> str:
        """The host path, for messages."""
        return str(self.op.path)

    def lstat(self) -> os.stat_result | None:
        """The entry as it is now (never following it)."""
        return lstat_at(self.parent, self.name)

    def drop_tmp(self) -> None:
        """Remove what a killed process left under the temporary name."""
        remove_tree(self.parent, self.tmp, self.where)

    def drop_record_tmp(self) -> None:
        """Remove a temporary ``made-by-attach`` a killed process left."""
        SYSCALLS.unlink_if_there(_record_tmp(self.tag), self.session.state_fd)


@dataclass(frozen=True)
class Handler:
    """How one kind of operation is checked (``check``, no change) and carried out (``do``).

    ``batches``: a run of consecutive operations on the same path whose handlers all batch is
    carried out as one step (``OpStep.batch``), so ``do`` must give the run's result from
    any point a killed process stopped at, also when the run is done again whole.
    """

    do: Callable[[OpStep, bool], None]
    check: Callable[[OpStep], None] = lambda step: None
    batches: bool = False


HANDLERS: dict[OpKind, Handler] = {}


def register(kind: OpKind, handler: Handler) -> None:
    """Make ``handler`` carry out operations of ``kind``."""
    HANDLERS[kind] = handler


def _fail(err: int, where: str) -> OSError:
    return OSError(err, os.strerror(err), where)


def _must_be_missing(step: OpStep) -> None:
    if step.lstat() is not None:
        raise _fail(errno.EEXIST, step.where)


def _must_exist(step: OpStep) -> None:
    if step.lstat() is None:
        raise _fail(errno.ENOENT, step.where)


# -- the handlers -----------------------------------------------------------------------------


def _mkdir(step: OpStep, finishing: bool) -> None:
    st = step.lstat()
    if not (finishing and st is not None and _stat.S_ISDIR(st.st_mode)):
        SYSCALLS.mkdir(step.name, 0o700, step.parent)
    fd = os.open(step.name, _O_READ_DIR, dir_fd=step.parent)
    try:
        SYSCALLS.fchmod(fd, step.op.mode, step.where)
    finally:
        os.close(fd)


def _write(step: OpStep, finishing: bool) -> None:
    op = step.op
    data = op.data if op.data is not None else b""
    if finishing:
        if not op.replace and step.lstat() is not None:
            step.drop_tmp()  # linked into place before the kill
            return
        step.drop_tmp()
    if op.replace:
        replace_file(step.parent, step.name, data, op.mode, step.tmp)
    else:  # a hard link fails if the name was taken meanwhile
        write_new(step.parent, step.tmp, data, op.mode, step.where)
        SYSCALLS.link(step.tmp, step.name, step.parent, step.parent)
        SYSCALLS.unlink(step.tmp, step.parent)


def _check_write(step: OpStep) -> None:
    if not step.op.replace:
        _must_be_missing(step)


def _symlink(step: OpStep, finishing: bool) -> None:
    op = step.op
    assert op.target is not None
    if finishing:
        step.drop_tmp()
        if not op.replace and step.lstat() is not None:
            return
    if op.replace:
        replace_symlink(step.parent, step.name, op.target, step.tmp)
    else:
        SYSCALLS.symlink(op.target, step.name, step.parent)


def _open_source(step: OpStep, directory: bool) -> int:
    """The operation's source (links resolved inside the root), opened for reading: a regular
    file, or a directory."""
    assert step.op.source is not None
    parent, name, where = open_entry(step.session.root_fd, step.op.source)
    try:
        fd = os.open(name, _O_READ_DIR if directory else _O_READ_FILE, dir_fd=parent)
    except OSError as e:
        err = e.errno or errno.EIO
        if err == errno.ELOOP:
            err = errno.ENOTDIR if directory else errno.EINVAL
        raise _fail(err, where) from None
    finally:
        os.close(parent)
    if not directory and not _stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", where)
    return fd


def _copy_file(step: OpStep, finishing: bool) -> None:
    if finishing:
        step.drop_tmp()
    src = _open_source(step, directory=False)
    try:
        copy_file(src, step.parent, step.tmp, str(step.op.source))
    finally:
        os.close(src)
    SYSCALLS.rename(step.tmp, step.name, step.parent, step.parent)


def _copy_tree(step: OpStep, finishing: bool) -> None:
    if finishing:
        step.drop_tmp()
        if step.lstat() is not None:
            return  # renamed into place before the kill
    src = _open_source(step, directory=True)
    try:
        copy_tree(src, step.parent, step.tmp, str(step.op.source))
    finally:
        os.close(src)
    SYSCALLS.rename(step.tmp, step.name, step.parent, step.parent)


def _unlink(step: OpStep, finishing: bool) -> None:
    if finishing and step.lstat() is None:
        return
    SYSCALLS.unlink(step.name, step.parent)


def _rmdir(step: OpStep, finishing: bool) -> None:
    if finishing and step.lstat() is None:
        return
    SYSCALLS.rmdir(step.name, step.parent)


def _remove_tree(step: OpStep, finishing: bool) -> None:
    if finishing:
        step.drop_tmp()  # renamed away before the kill, partly removed
    st = step.lstat()
    if st is None and finishing:
        return
    if st is None or not _stat.S_ISDIR(st.st_mode):
        SYSCALLS.unlink(step.name, step.parent)
        return
    # out of the way first, so a kill never leaves a half-removed tree under the name
    SYSCALLS.rename(step.name, step.tmp, step.parent, step.parent)
    remove_tree(step.parent, step.tmp, step.where)


def _chmod(step: OpStep, finishing: bool) -> None:
    """The permission bits of the entry there; the entry is never followed (a link is an
    error, not a way out), and a FIFO never blocks the open."""
    fd = os.open(step.name, _O_READ_FILE, dir_fd=step.parent)
    try:
        SYSCALLS.fchmod(fd, step.op.mode, step.where)
    finally:
        os.close(fd)


def _service_manager(step: OpStep, finishing: bool) -> None:
    """A run of starts and stops: one rewrite of the state file (``--now`` of thousands of
    units rewrites it once, not once per unit). Done again whole, the run ends the same."""
    if finishing:
        step.drop_tmp()
    raw = read_regular(step.parent, step.name, 1 << 24, step.where)
    active = parse_active_units((raw or b"").decode("utf-8", "replace"))
    for op in step.batch or (step.op,):
        assert op.target is not None
        if op.kind is OpKind.START:
            active[op.target] = "active"
        else:
            active.pop(op.target, None)
    text = format_active_units(active).encode()
    replace_file(step.parent, step.name, text, 0o644, step.tmp)


def _check_service_manager(step: OpStep) -> None:
    for op in step.batch or (step.op,):
        if op.path != ACTIVE_UNITS:
            raise SandboxError(f"{op.path}: not the service manager's state file")


register(OpKind.MKDIR, Handler(_mkdir, _must_be_missing))
register(OpKind.WRITE, Handler(_write, _check_write))
register(OpKind.SYMLINK, Handler(_symlink, _check_write))
register(OpKind.COPY_FILE, Handler(_copy_file))
register(OpKind.COPY_TREE, Handler(_copy_tree, _must_be_missing))
register(OpKind.UNLINK, Handler(_unlink, _must_exist))
register(OpKind.RMDIR, Handler(_rmdir, _must_exist))
register(OpKind.REMOVE_TREE, Handler(_remove_tree, _must_exist))
register(OpKind.CHMOD, Handler(_chmod, _must_exist))
register(OpKind.START, Handler(_service_manager, _check_service_manager, batches=True))
register(OpKind.STOP, Handler(_service_manager, _check_service_manager, batches=True))


# -- what attach made in the image link directories ---------------------------------------------


def _record_tmp(tag: str) -> str:
    return temp_name(MADE_BY_ATTACH.name, tag)


def _record(step: OpStep) -> None:
    """Keep ``made-by-attach`` in step with an operation in a link directory."""
    op = step.op
    if op.path.parent not in _RECORDED_DIRS:
        return
    state = step.session.state_fd
    raw = read_regular(state, MADE_BY_ATTACH.name, 1 << 24, str(MADE_BY_ATTACH)) or b""
    records: dict[str, str] = {}
    for line in raw.splitlines():
        try:
            rec = json.loads(line)
            records[str(rec["path"])] = str(rec["entry"])
        except (ValueError, KeyError, TypeError):
            continue  # not a line the sandbox wrote
    key = str(op.path)
    st = step.lstat()
    if op.leaves is None or st is None:
        if records.pop(key, None) is None:
            return
    else:
        target = os.readlink(step.name, dir_fd=step.parent) if _stat.S_ISLNK(st.st_mode) else None
        records[key] = entry_fingerprint(st, target)
    text = "".join(
        json.dumps({"path": p, "entry": e}, ensure_ascii=True) + "\n"
        for p, e in sorted(records.items())
    )
    SYSCALLS.unlink_if_there(_record_tmp(step.tag), state)
    replace_file(
        state,
        MADE_BY_ATTACH.name,
        text.encode(),
        0o644,
        _record_tmp(step.tag),
    )


# -- carrying out -----------------------------------------------------------------------------


def _open_step(session: Session, journal: Journal, k: int) -> OpStep:
    op = journal.ops[k]
    p = PurePosixPath("/", op.path)
    if p == PurePosixPath("/") or p.name in ("", ".", ".."):
        raise SandboxError(f"{op.path}: refusing to operate on the sandbox root itself")
    parent = open_dir(session.root_fd, p.parent)
    return OpStep(session, op, parent, p.name, f"{journal.id}.{k}")


def _message(op: Op, e: OSError) -> str:
    what = e.strerror or str(e)
    if e.filename and str(e.filename) not in (str(op.path), PurePosixPath(op.path).name):
        what = f"{e.filename}: {what}"
    return f"{op.path}: {op.kind} failed: {what}"


def _run(session: Session, journal: Journal, start: int, finishing: int) -> None:
    """Carry out ``journal``'s operations from ``start`` (``finishing``: the one to finish)."""
    k = start
    while k < len(journal.ops):
        op = journal.ops[k]
        handler = HANDLERS.get(op.kind)
        step: OpStep | None = None
        end = k + 1
        try:
            if handler is None:
                raise SandboxError(f"{op.path}: no way to carry out a {op.kind} operation")
            step = _open_step(session, journal, k)
            if handler.batches:
                end = _batch_end(journal.ops, k)
                step.batch = journal.ops[k:end]
            if k != finishing:
                handler.check(step)
                session.begin(journal, k)
            handler.do(step, k == finishing)
            _record(step)
        except (OSError, SandboxError) as e:
            # a clean failure: the operations before stay done (as with portabled), the
            # temporary names of this one go, and so does the journal
            if step is not None:
                _quietly(step.drop_tmp)
                _quietly(step.drop_record_tmp)
            _quietly(lambda: session.end(journal))
            if isinstance(e, SandboxError):
                raise
            raise SandboxError(_message(op, e)) from e
        finally:
            if step is not None:
                os.close(step.parent)
        k = end


def _batch_end(ops: Sequence[Op], k: int) -> int:
    """Where the run of operations carried out together with ``ops[k]`` ends."""
    end = k + 1
    while end < len(ops) and ops[end].path == ops[k].path:
        h = HANDLERS.get(ops[end].kind)
        if h is None or not h.batches:
            break
        end += 1
    return end


def _quietly(fn: Callable[[], None]) -> None:
    with suppress(OSError):
        fn()


def apply_ops(
    session: Session, ops: Sequence[Op], verb: str, temps: Sequence[PurePosixPath] = ()
) -> Journal:
    """Write the journal of ``ops`` and carry them out; returns the journal (ended)."""
    journal = Journal(Journal.new_id(), verb, tuple(ops), tuple(temps))
    try:
        session.write_journal(journal)
    except OSError as e:
        raise SandboxError(
            f"{JOURNAL}: cannot write the journal of this {verb or 'operation'}, nothing was "
            f"changed: {e.strerror}"
        ) from e
    _run(session, journal, 0, -1)
    session.end(journal)
    return journal


def recover(session: Session) -> None:
    """Roll forward a plan a killed process left in the journal, and remove its temporary
    entries; what goes wrong is noted in ``session.notes`` (the journal goes either way)."""
    try:
        journal = session.read_journal()
    except OSError as e:
        session.notes.append(f"{e.filename}: cannot read the journal: {e.strerror}")
        return
    if journal is None:
        return
    session.recovered = True
    for t in journal.temps:
        try:
            parent = open_dir(session.root_fd, t.parent)
            try:
                remove_tree(parent, t.name, str(t))
            finally:
                os.close(parent)
        except OSError as e:
            session.notes.append(f"{t}: cannot remove it: {e.strerror}")
    try:
        journal.fd = SYSCALLS.open_append(JOURNAL.name, session.state_fd)
        _run(session, journal, max(journal.begun, 0), journal.begun)
        session.end(journal)
    except SandboxError as e:
        session.notes.append(f"an interrupted {journal.verb or 'operation'} was not finished: {e}")
    except OSError as e:
        session.notes.append(f"{e.filename}: cannot finish an interrupted operation: {e.strerror}")

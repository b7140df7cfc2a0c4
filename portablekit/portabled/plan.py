"""Plans as values: the frozen file operations and change records of a verb, computed first.

A :class:`Plan` says exactly what a verb would do to the host: the operations (:class:`Op`) in
order, the change records portablectl prints (:class:`Change`), and, where portabled fails
half-way, the error it ends with. The planners that compute plans are in
:mod:`portablekit.portabled.attach`; :mod:`portablekit.sandbox` carries a plan out, and a dry
run is just the plan. Nothing here reads or writes the host.

>>> op = Op(OpKind.MKDIR, PurePosixPath("/etc/portables"), mode=0o755)
>>> Plan("attach", "/var/lib/portables/foo", ops=(op,)).to_dict()["ops"]
[{'op': 'mkdir', 'path': '/etc/portables', 'mode': '0755'}]
>>> str(Change(ChangeType.UNLINK, "/etc/portables/foo"))
'Removed /etc/portables/foo.'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ..display import NotebookDisplay
from ..errors import PortabledError
from ..source import FileKind
from .pending import PendingChanges

if TYPE_CHECKING:
    from .dissect import Dissection

__all__ = [
    "Change",
    "ChangeType",
    "CopyMode",
    "Op",
    "OpKind",
    "Plan",
    "note_pending",
]


class CopyMode(StrEnum):
    """``--copy=``: how unit files, profiles and images get onto the host."""

    AUTO = "auto"
    COPY = "copy"
    SYMLINK = "symlink"
    MIXED = "mixed"


class ChangeType(StrEnum):
    """The change records portabled returns (``PortableChangeType``)."""

    COPY = "copy"
    SYMLINK = "symlink"
    UNLINK = "unlink"
    WRITE = "write"
    MKDIR = "mkdir"


@dataclass(frozen=True, slots=True)
class Change:
    """One change record; ``str()`` is the line portablectl prints for it."""

    type: ChangeType
    path: str
    source: str = ""

    def __str__(self) -> str:
        if self.type is ChangeType.SYMLINK:
            return f"Created symlink {self.path} \u2192 {self.source}."
        if self.type is ChangeType.COPY:
            return (
                f"Copied {self.source} \u2192 {self.path}."
                if self.source
                else f"Copied {self.path}."
            )
        if self.type is ChangeType.UNLINK:
            return f"Removed {self.path}."
        if self.type is ChangeType.WRITE:
            return f"Written {self.path}."
        return f"Created directory {self.path}."

    def to_dict(self) -> dict[str, str]:
        """JSON-friendly form."""
        return {"type": str(self.type), "path": self.path, "source": self.source}


class OpKind(StrEnum):
    """The operations a plan may contain: file operations, and the service manager's two."""

    MKDIR = "mkdir"
    WRITE = "write"
    SYMLINK = "symlink"
    COPY_FILE = "copy-file"
    COPY_TREE = "copy-tree"
    UNLINK = "unlink"
    RMDIR = "rmdir"
    REMOVE_TREE = "remove-tree"
    CHMOD = "chmod"
    START = "start"
    STOP = "stop"

    @property
    def removes(self) -> bool:
        """Whether the operation takes ``path`` (and everything below it) away."""
        return self in (OpKind.UNLINK, OpKind.RMDIR, OpKind.REMOVE_TREE)


@dataclass(frozen=True, slots=True)
class Op:
    """One operation on the host.

    ``path`` is the host path changed; ``data`` the bytes written (``WRITE``); ``target`` the
    link target (``SYMLINK``); ``source`` the host path copied from (``COPY_*``); ``replace``
    whether an existing entry is replaced atomically.

    ``START`` and ``STOP`` are what ``--now`` asks of the simulated service manager: ``target``
    names the unit, ``path`` is the manager's state file ``/run/portablekit/active-units`` (one
    ``UNIT [STATE]`` per line). Applying ``START`` rewrites that file with the unit ``active``,
    ``STOP`` rewrites it without the unit; the rest of the file is kept as it is then.
    ``--enable`` needs no kind of its own: its install links are ``SYMLINK`` operations in
    ``/etc/systemd/system/<target>.wants/`` (or ``.requires/``, below ``/run`` for a runtime
    attachment), with ``MKDIR`` for the directory, and disabling is ``UNLINK`` and ``RMDIR``.

    ``CHMOD`` sets the permission bits of the existing file ``path`` (never through a link) to
    ``mode``: ``read-only`` of a raw image. ``remove`` deletes with ``REMOVE_TREE`` and
    ``UNLINK``.
    """

    kind: OpKind
    path: PurePosixPath
    data: bytes | None = None
    target: str | None = None
    source: PurePosixPath | None = None
    mode: int = 0o644
    replace: bool = False

    @property
    def leaves(self) -> FileKind | None:
        """What is at ``path`` afterwards: its kind, or ``None`` where the operation removes."""
        if self.kind.removes:
            return None
        if self.kind in (OpKind.MKDIR, OpKind.COPY_TREE):
            return FileKind.DIR
        if self.kind is OpKind.SYMLINK:
            return FileKind.SYMLINK
        return FileKind.FILE

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly form (data as text where it is text)."""
        d: dict[str, object] = {"op": str(self.kind), "path": str(self.path)}
        if self.data is not None:
            d["size"] = len(self.data)
        if self.target is not None:
            d["target"] = self.target
        if self.source is not None:
            d["source"] = str(self.source)
        if self.kind in (OpKind.MKDIR, OpKind.WRITE, OpKind.CHMOD):
            d["mode"] = f"{self.mode:04o}"
        if self.replace:
            d["replace"] = True
        return d


def note_pending(pending: MutableMapping[PurePosixPath, FileKind | None], op: Op) -> None:
    """Record in ``pending`` what ``op`` leaves behind (see :meth:`Plan.pending`).

    With a :class:`~portablekit.portabled.pending.PendingChanges` a removal looks only at the
    entries below the path removed; any other mapping is scanned whole.
    """
    leaves = op.leaves
    pending[op.path] = leaves
    if leaves is None:
        if isinstance(pending, PendingChanges):
            below: list[PurePosixPath] = pending.below(op.path)
        else:
            below = [q for q in pending if op.path in q.parents]
        for q in below:
            pending[q] = None


@dataclass(frozen=True, slots=True)
class Plan(NotebookDisplay):
    """What a verb would do: operations, printed changes, and an error it would end with.

    ``error`` set and ``ops`` empty: the verb is refused and changes nothing. ``error`` set and
    ``ops`` not empty: portabled does part of the work and then fails (both are real).
    ``units`` names the units the verb is about; ``image`` the image as portabled resolved it.
    ``removed`` holds records printed before ``changes``: reattach's detach half, or what
    ``--enable`` disables before a detach.
    """

    verb: str
    image: str
    ops: tuple[Op, ...] = ()
    changes: tuple[Change, ...] = ()
    removed: tuple[Change, ...] = ()
    units: tuple[str, ...] = ()
    error: PortabledError | None = None
    runtime: bool = False
    dissection: Dissection | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the verb succeeds."""
        return self.error is None

    def printed_changes(self) -> tuple[Change, ...]:
        """The records portablectl prints, in order."""
        return self.removed + self.changes

    def pending(
        self, base: Mapping[PurePosixPath, FileKind | None] | None = None
    ) -> PendingChanges:
        """What the operations leave at each path they touch, after ``base``.

        ``{path: kind}``, with ``None`` where something is removed (and everything below it):
        what :meth:`~portablekit.portabled.host.Host.overlay` takes to show a host as the plan
        leaves it.
        """
        out = PendingChanges(base or {})
        for op in self.ops:
            note_pending(out, op)
        return out

    def with_steps(self, before: Sequence[Plan] = (), after: Sequence[Plan] = ()) -> Plan:
        """This plan with other plans' operations carried out before and after its own.

        Their records are printed before and after this plan's (``--enable``/``--now`` around
        an attach or a detach, shown as one plan by ``--dry-run``); verb, image, units and
        error stay this plan's.
        """
        first: tuple[Change, ...] = tuple(c for p in before for c in p.printed_changes())
        last: tuple[Change, ...] = tuple(c for p in after for c in p.printed_changes())
        return Plan(
            self.verb,
            self.image,
            _ops(before) + self.ops + _ops(after),
            self.changes + last,
            first + self.removed,
            self.units,
            self.error,
            self.runtime,
            self.dissection,
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly form."""
        return {
            "verb": self.verb,
            "image": self.image,
            "runtime": self.runtime,
            "units": list(self.units),
            "ok": self.ok,
            "error": None if self.error is None else self.error.message,
            "ops": [o.to_dict() for o in self.ops],
            "changes": [c.to_dict() for c in self.printed_changes()],
        }


def _ops(plans: Iterable[Plan]) -> tuple[Op, ...]:
    return tuple(op for p in plans for op in p.ops)

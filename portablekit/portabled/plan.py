"""Attach, detach and reattach as *plans*: frozen lists of file operations, computed first.

A :class:`Plan` says exactly what portabled would do to the host: the operations
(:class:`Op`) in order, the change records portablectl prints (:class:`Change`), and, where
portabled fails half-way, the error it ends with. Nothing here writes; :mod:`portablekit.sandbox`
applies a plan, and a dry run is just the plan.

>>> # plan = plan_attach(Host(root), "foo", profile="strict")
>>> # [str(c) for c in plan.changes]
"""

from __future__ import annotations

import errno
import os
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath

from ..errors import PortabledError
from ..names import is_hidden_or_backup, unit_name_is_valid
from ..source import FileKind
from .dissect import Dissection, dissect, extensions_clause
from .dropin import (
    PORTABLE_DROPIN,
    PROFILE_DROPIN,
    AttachedUnit,
    marker_matches,
    read_marker,
    render_portable_dropin,
)
from .host import Host, attached_dir, portables_dir
from .image import Image, lookup_image
from .profiles import find_profile

__all__ = [
    "Change",
    "ChangeType",
    "CopyMode",
    "Op",
    "OpKind",
    "Plan",
    "attached_units",
    "plan_attach",
    "plan_detach",
    "plan_reattach",
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
    """File operations a plan may contain."""

    MKDIR = "mkdir"
    WRITE = "write"
    SYMLINK = "symlink"
    COPY_FILE = "copy-file"
    COPY_TREE = "copy-tree"
    UNLINK = "unlink"
    RMDIR = "rmdir"
    REMOVE_TREE = "remove-tree"


@dataclass(frozen=True, slots=True)
class Op:
    """One file operation on the host.

    ``path`` is the host path changed; ``data`` the bytes written (``WRITE``); ``target`` the
    link target (``SYMLINK``); ``source`` the host path copied from (``COPY_*``); ``replace``
    whether an existing entry is replaced atomically.
    """

    kind: OpKind
    path: PurePosixPath
    data: bytes | None = None
    target: str | None = None
    source: PurePosixPath | None = None
    mode: int = 0o644
    replace: bool = False

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly form (data as text where it is text)."""
        d: dict[str, object] = {"op": str(self.kind), "path": str(self.path)}
        if self.data is not None:
            d["size"] = len(self.data)
        if self.target is not None:
            d["target"] = self.target
        if self.source is not None:
            d["source"] = str(self.source)
        if self.kind in (OpKind.MKDIR, OpKind.WRITE):
            d["mode"] = f"{self.mode:04o}"
        if self.replace:
            d["replace"] = True
        return d


@dataclass(frozen=True, slots=True)
class Plan:
    """What a verb would do: operations, printed changes, and an error it would end with.

    ``error`` set and ``ops`` empty: the verb is refused and changes nothing. ``error`` set and
    ``ops`` not empty: portabled does part of the work and then fails (both are real).
    ``units`` names the units the verb is about; ``image`` the image as portabled resolved it.
    For reattach, ``removed`` holds the detach records printed before ``changes``.
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


# -- a view of the host with the plan's pending operations applied -------------------------------


class _View:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.pending: dict[PurePosixPath, FileKind | None] = {}
        self.ops: list[Op] = []
        self.changes: list[Change] = []

    def kind(self, p: PurePosixPath) -> FileKind | None:
        for anc in (p, *p.parents):
            if anc in self.pending:
                k = self.pending[anc]
                if anc == p:
                    return k
                if k is None:
                    return None
        return self.host.kind(p, follow=False)

    def exists(self, p: PurePosixPath) -> bool:
        return self.kind(p) is not None

    def removed(self, p: PurePosixPath) -> bool:
        """Whether the plan removes ``p`` or a directory above it."""
        return any(self.pending.get(anc, FileKind.DIR) is None for anc in (p, *p.parents))

    def listdir(self, p: PurePosixPath) -> list[str]:
        names = set(self.host.listdir(p)) if self.host.kind(p) is FileKind.DIR else set()
        if p in self.pending and self.pending[p] is None:
            names = set()
        for q, k in self.pending.items():
            if q.parent == p:
                if k is None:
                    names.discard(q.name)
                else:
                    names.add(q.name)
        return sorted(names, key=os.fsencode)

    def op(self, op: Op, change: Change | None = None) -> None:
        self.ops.append(op)
        if op.kind in (OpKind.UNLINK, OpKind.RMDIR, OpKind.REMOVE_TREE):
            self.pending[op.path] = None
            for q in list(self.pending):
                if op.path in q.parents:
                    self.pending[q] = None
        elif op.kind in (OpKind.MKDIR, OpKind.COPY_TREE):
            self.pending[op.path] = FileKind.DIR
        elif op.kind is OpKind.SYMLINK:
            self.pending[op.path] = FileKind.SYMLINK
        else:
            self.pending[op.path] = FileKind.FILE
        if change is not None:
            self.changes.append(change)

    def mkdir_p(self, p: PurePosixPath, record: bool) -> None:
        missing = []
        for anc in (p, *p.parents):
            if self.exists(anc):
                break
            missing.append(anc)
        for i, d in enumerate(reversed(missing)):
            last = i == len(missing) - 1
            self.op(
                Op(OpKind.MKDIR, d, mode=0o755),
                Change(ChangeType.MKDIR, str(d)) if (record and last) else None,
            )


# -- attach ------------------------------------------------------------------------------------


def _read_host_file(host: Host, p: PurePosixPath) -> bytes:
    return host.fs.read_file(p, limit=16 * 1024 * 1024)


def plan_attach(
    host: Host,
    image: str,
    *,
    matches: Sequence[str] = (),
    extensions: Sequence[str] = (),
    profile: str = "default",
    runtime: bool = False,
    copy: CopyMode | str = CopyMode.AUTO,
    force: bool = False,
    reattach: bool = False,
    view: _View | None = None,
) -> Plan:
    """Plan ``portablectl attach``: dissect, check, then create drop-ins, units and links.

    ``image``/``extensions`` are names or absolute host paths as portablectl sends them,
    ``matches`` the prefixes (empty: derived by the caller). Refusals come back as a plan with
    ``error`` set and no operations.
    """
    copy = CopyMode(copy)
    systemd = host.systemd
    v = view or _View(host)
    try:
        d = dissect(host, image, matches=matches, extensions=extensions, attach=True, force=force)
    except PortabledError as e:
        return Plan("attach", image, error=e, runtime=runtime)
    units = d.units
    if not (force or reattach):
        for u in units:
            if host.unit_file_exists(u.name):
                return Plan(
                    "attach",
                    str(d.base.image.path),
                    error=PortabledError(
                        f"Unit file '{u.name}' exists on the host already, refusing.",
                        dbus_error="org.freedesktop.systemd1.UnitExists",
                    ),
                    runtime=runtime,
                    dissection=d,
                )
            if host.unit_is_active(u.name):
                return Plan(
                    "attach",
                    str(d.base.image.path),
                    error=PortabledError(
                        f"Unit file '{u.name}' is active already, refusing.",
                        dbus_error="org.freedesktop.systemd1.UnitExists",
                    ),
                    runtime=runtime,
                    dissection=d,
                )

    a = attached_dir(runtime)
    host_etc_osr = host.kind("/etc/os-release") is not None
    error: PortabledError | None = None
    for u in units:
        v.mkdir_p(a.parent, record=False)
        if not v.exists(a):
            v.op(Op(OpKind.MKDIR, a, mode=0o755), Change(ChangeType.MKDIR, str(a)))
        dropin_dir = a / (u.name + ".d")
        created_dir = not v.exists(dropin_dir)
        if created_dir:
            v.op(
                Op(OpKind.MKDIR, dropin_dir, mode=0o755), Change(ChangeType.MKDIR, str(dropin_dir))
            )
        text = render_portable_dropin(
            systemd, d, u, force=force, host_has_etc_os_release=host_etc_osr
        )
        portable = dropin_dir / PORTABLE_DROPIN
        v.op(
            Op(OpKind.WRITE, portable, data=text.encode(), mode=0o644, replace=True),
            Change(ChangeType.WRITE, str(portable)),
        )
        prof = find_profile(host, profile, u.type)
        if prof is not None:
            target = dropin_dir / PROFILE_DROPIN
            if v.exists(target) and not force:
                error = PortabledError.errno_message(
                    errno.EEXIST, f"Failed to attach unit '{u.name}': {os.strerror(errno.EEXIST)}"
                )
            elif copy is CopyMode.COPY:
                v.op(
                    Op(OpKind.WRITE, target, data=_read_host_file(host, prof), replace=True),
                    Change(ChangeType.COPY, str(target), str(prof)),
                )
            else:
                v.op(
                    Op(OpKind.SYMLINK, target, target=str(prof), replace=True),
                    Change(ChangeType.SYMLINK, str(target), str(prof)),
                )
        if error is None:
            layer = d.layers[u.layer]
            dest = a / u.name
            in_image = layer.image.path / u.path.relative_to("/")
            if v.exists(dest) and not (force or reattach):
                error = PortabledError.errno_message(
                    errno.EEXIST, f"Failed to attach unit '{u.name}': {os.strerror(errno.EEXIST)}"
                )
            elif copy is CopyMode.SYMLINK and layer.image.is_tree:
                v.op(
                    Op(OpKind.SYMLINK, dest, target=str(in_image), replace=True),
                    Change(ChangeType.SYMLINK, str(dest), str(in_image)),
                )
            else:
                v.op(
                    Op(OpKind.WRITE, dest, data=u.data, mode=0o644, replace=True),
                    Change(
                        ChangeType.COPY, str(dest), str(in_image) if layer.image.is_tree else ""
                    ),
                )
        if error is not None:
            # portabled removes what it wrote for the failing unit and stops
            v.op(Op(OpKind.UNLINK, portable))
            if created_dir:
                v.op(Op(OpKind.RMDIR, dropin_dir))
            return Plan(
                "attach",
                str(d.base.image.path),
                tuple(v.ops),
                tuple(v.changes),
                units=tuple(x.name for x in units),
                error=error,
                runtime=runtime,
                dissection=d,
            )

    # image links (extensions first, base last); the first existing one ends them silently
    links_dir = portables_dir(runtime)
    for layer in (*d.extensions, d.base):
        img = layer.image
        target = links_dir / img.file_name
        if v.exists(target):
            break
        v.mkdir_p(links_dir, record=False)
        if copy is CopyMode.MIXED:
            kind = OpKind.COPY_TREE if img.is_tree else OpKind.COPY_FILE
            v.op(
                Op(kind, target, source=img.path),
                Change(ChangeType.COPY, str(target), str(img.path)),
            )
        else:
            v.op(
                Op(OpKind.SYMLINK, target, target=str(img.path)),
                Change(ChangeType.SYMLINK, str(target), str(img.path)),
            )
    return Plan(
        "attach",
        str(d.base.image.path),
        tuple(v.ops),
        tuple(v.changes),
        units=tuple(u.name for u in units),
        runtime=runtime,
        dissection=d,
    )


# -- detach ------------------------------------------------------------------------------------


def attached_units(host: Host, runtime: bool, *, for_detach: bool = True) -> list[AttachedUnit]:
    """Portable units in one attached directory, with their markers.

    ``for_detach`` also takes drop-in directories whose unit file is gone (detach does, the
    state queries do not).
    """
    a = attached_dir(runtime)
    names: list[str] = []
    seen: set[str] = set()
    for entry in host.listdir(a):
        if is_hidden_or_backup(entry):
            continue
        k = host.kind(a / entry, follow=False)
        if entry.endswith(".d") and k in (FileKind.DIR, FileKind.SYMLINK):
            if not for_detach:
                continue
            name = entry[: -len(".d")]
        elif k in (FileKind.FILE, FileKind.SYMLINK):
            name = entry
        else:
            continue
        if not unit_name_is_valid(name) or name in seen:
            continue
        seen.add(name)
        names.append(name)
    out = []
    for name in sorted(names, key=os.fsencode):
        tokens = read_marker(host, a / (name + ".d"))
        if tokens is None:
            continue
        out.append(AttachedUnit(name, a, tokens, host.kind(a / name, follow=False) is not None))
    return out


def plan_detach(
    host: Host,
    image: str,
    *,
    extensions: Sequence[str] = (),
    runtime: bool = False,
    force: bool = False,
    reattach: bool = False,
    view: _View | None = None,
    stopped: Collection[str] = (),
) -> Plan:
    """Plan ``portablectl detach``: remove every unit whose marker matches, then the links.

    ``image``/``extensions`` are matched as sent (names stay names). Prefixes play no role
    here: portabled removes all matching units. ``stopped`` names units that ``--now`` stops
    before the detach (they no longer count as active).
    """
    systemd = host.systemd
    v = view or _View(host)
    query = [image, *extensions]
    a = attached_dir(runtime)
    matched = [
        u
        for u in attached_units(host, runtime)
        if marker_matches(host, u.tokens, query, match_all=True)
    ]
    not_found = PortabledError(
        f"No unit files associated with '{image}{extensions_clause(extensions)}' found attached "
        "to the system. Image not attached?",
        dbus_error="org.freedesktop.systemd1.NoSuchUnit",
    )
    if not matched:
        return Plan("detach", image, error=not_found, runtime=runtime)
    if not (force or reattach):
        for u in matched:
            if u.name not in stopped and host.unit_is_active(u.name):
                return Plan(
                    "detach",
                    image,
                    error=PortabledError(
                        f"Unit file '{u.name}' is active, can't detach.",
                        dbus_error="org.freedesktop.systemd1.UnitExists",
                    ),
                    runtime=runtime,
                )
    error: PortabledError | None = None
    for u in matched:
        for p in (a / u.name, u.dropin_dir / PROFILE_DROPIN, u.dropin_dir / PORTABLE_DROPIN):
            if v.kind(p) is not None:
                v.op(Op(OpKind.UNLINK, p), Change(ChangeType.UNLINK, str(p)))
        if v.kind(u.dropin_dir) is FileKind.DIR:
            if v.listdir(u.dropin_dir):
                error = error or PortabledError.from_errno(errno.ENOTEMPTY)
            else:
                v.op(Op(OpKind.RMDIR, u.dropin_dir), Change(ChangeType.UNLINK, str(u.dropin_dir)))
        elif v.kind(u.dropin_dir) is FileKind.SYMLINK:
            error = error or PortabledError.from_errno(errno.ENOTDIR)
    links_dir = portables_dir(runtime)
    done: set[str] = set()
    for u in matched:
        for tok in u.tokens:
            if not tok.startswith("/"):
                continue
            name = PurePosixPath(tok).name
            if name in done:
                continue
            done.add(name)
            target = links_dir / name
            k = v.kind(target)
            if systemd.detach_removes_whatever_link:
                if k is FileKind.DIR:
                    v.op(Op(OpKind.REMOVE_TREE, target), Change(ChangeType.UNLINK, str(target)))
                elif k is not None:
                    v.op(Op(OpKind.UNLINK, target), Change(ChangeType.UNLINK, str(target)))
                else:
                    v.changes.append(Change(ChangeType.UNLINK, str(target)))
            elif k is FileKind.SYMLINK:
                v.op(Op(OpKind.UNLINK, target), Change(ChangeType.UNLINK, str(target)))
    if v.kind(a) is FileKind.DIR and not v.listdir(a):
        v.op(Op(OpKind.RMDIR, a), Change(ChangeType.UNLINK, str(a)))
    return Plan(
        "detach",
        image,
        tuple(v.ops),
        tuple(v.changes),
        units=tuple(u.name for u in matched),
        error=error,
        runtime=runtime,
    )


# -- reattach ----------------------------------------------------------------------------------


def plan_reattach(
    host: Host,
    image: str,
    *,
    matches: Sequence[str] = (),
    extensions: Sequence[str] = (),
    profile: str = "default",
    runtime: bool = False,
    copy: CopyMode | str = CopyMode.AUTO,
    force: bool = False,
) -> Plan:
    """Plan ``portablectl reattach``: detach what the (new) image's path matches, attach anew.

    If the attach half fails, the detach half still happened (as in portabled): the plan
    then carries both the detach operations and the error.
    """
    try:
        img: Image = lookup_image(host, image)
        ext_paths = [str(lookup_image(host, e).path) for e in extensions]
    except PortabledError as e:
        return Plan("reattach", image, error=e, runtime=runtime)
    v = _View(host)
    det = plan_detach(
        host, str(img.path), extensions=ext_paths, runtime=runtime, reattach=True, view=v
    )
    if det.error is not None and not det.ops:
        return Plan("reattach", str(img.path), error=det.error, runtime=runtime)
    detach_changes = list(v.changes)
    v.changes.clear()
    view_host = _ViewHost(host, v)
    # 252/257 attach from the path the name resolved to, which may be the image link the
    # detach half just removed; 262 (and --fixed) use the image's real location
    attach_from = img.path
    if host.systemd.reattach_by_name_works:
        attach_from = host.resolve(img.path)
    att = plan_attach(
        view_host,
        str(attach_from),
        matches=matches,
        extensions=extensions,
        profile=profile,
        runtime=runtime,
        copy=copy,
        force=force,
        reattach=True,
        view=v,
    )
    if att.error is not None:
        return Plan(
            "reattach",
            str(img.path),
            tuple(v.ops),
            (),
            units=det.units,
            error=att.error,
            runtime=runtime,
            dissection=att.dissection,
        )
    attach_names = {PurePosixPath(c.path).name for c in att.changes}
    removed = tuple(c for c in detach_changes if PurePosixPath(c.path).name not in attach_names)
    return Plan(
        "reattach",
        str(img.path),
        tuple(v.ops),
        att.changes,
        removed=removed,
        units=att.units,
        runtime=runtime,
        dissection=att.dissection,
    )


class _ViewHost(Host):
    """A host whose reads see a plan's pending removals (used by reattach's attach half)."""

    def __init__(self, host: Host, view: _View) -> None:
        self.__dict__.update(host.__dict__)
        self._view = view

    def kind(self, path: str | PurePosixPath, *, follow: bool = True) -> FileKind | None:
        if self._view.removed(PurePosixPath("/", path)):
            return None
        return super().kind(path, follow=follow)

    def exists(self, path: str | PurePosixPath, *, follow: bool = True) -> bool:
        return self.kind(path, follow=follow) is not None

    def resolve(self, path: str | PurePosixPath, *, follow: bool = True) -> PurePosixPath:
        p = PurePosixPath("/", path)
        if self._view.removed(p):
            return p  # removed by the plan: resolves to nothing
        return super().resolve(path, follow=follow)

    def listdir(self, path: str | PurePosixPath) -> list[str]:
        return self._view.listdir(PurePosixPath("/", path))


def units_in(changes: Iterable[Change]) -> list[str]:
    """Unit names of the unit-file records (what ``--enable``/``--now`` act on)."""
    out = []
    for c in changes:
        if c.type in (ChangeType.SYMLINK, ChangeType.COPY) and c.path.endswith(
            (".service", ".target", ".socket", ".path", ".timer")
        ):
            out.append(PurePosixPath(c.path).name)
    return out

"""The planners: ``portablectl attach``, ``detach`` and ``reattach``, and what ``--enable`` and
``--now`` do around them, computed as :class:`~portablekit.portabled.plan.Plan` values.

Each planner reads the host and returns the operations portabled would carry out, in order,
with the change records portablectl prints; nothing here writes. A plan is planned against the
host as the operations so far leave it (:meth:`~portablekit.portabled.host.Host.overlay`), so
reattach's attach half sees what its detach half removes, and ``--dry-run --enable`` sees the
units its attach creates. :meth:`portablekit.sandbox.SandboxRoot.apply` carries a plan out.

>>> # plan = plan_attach(Host(root), "foo", profile="strict")
>>> # [str(c) for c in plan.changes]
"""

from __future__ import annotations

import errno
import os
from collections.abc import Collection, Iterable, Sequence
from itertools import chain
from pathlib import PurePosixPath

from ..errors import ImagePathError, PortabledError
from ..names import resolve_matches
from ..source import FileKind
from .dissect import dissect, extensions_clause
from .dropin import (
    PORTABLE_DROPIN,
    PROFILE_DROPIN,
    marker_matches,
    render_portable_dropin,
)
from .host import ACTIVE_UNITS, Host, attached_dir, portables_dir
from .image import Image, lookup_image
from .install import UnitLookupError, unit_file_exists
from .pending import PendingChanges
from .plan import Change, ChangeType, CopyMode, Op, OpKind, Plan, note_pending
from .profiles import find_profile
from .state import attached_units

__all__ = [
    "config_dir",
    "install_targets",
    "plan_attach",
    "plan_detach",
    "plan_disable",
    "plan_enable",
    "plan_reattach",
    "plan_start",
    "plan_stop",
    "units_in",
]


# -- a plan being built ------------------------------------------------------------------------


class _View:
    """The operations and records planned so far, and the host as they leave it."""

    def __init__(self, host: Host) -> None:
        self.pending = PendingChanges()
        #: the host seen through the operations so far (the same mapping, read live)
        self.host = host.overlay(self.pending)
        self.ops: list[Op] = []
        self.changes: list[Change] = []

    def kind(self, p: PurePosixPath) -> FileKind | None:
        return self.host.kind(p, follow=False)

    def exists(self, p: PurePosixPath) -> bool:
        return self.kind(p) is not None

    def listdir(self, p: PurePosixPath) -> list[str]:
        return self.host.listdir(p)

    def op(self, op: Op, change: Change | None = None) -> None:
        self.ops.append(op)
        note_pending(self.pending, op)
        if change is not None:
            self.changes.append(change)

    def mkdir_p(self, p: PurePosixPath, record: bool) -> None:
        missing = []
        for anc in chain((p,), p.parents):  # lazily: most of the time p exists already
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
    matches: Sequence[str] | None = None,
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
    ``matches`` the unit prefixes (default: the one portablectl derives from ``image``; see
    :func:`~portablekit.names.resolve_matches`). Refusals come back as a plan with
    ``error`` set and no operations.
    """
    copy = CopyMode(copy)
    systemd = host.systemd
    host = host.snapshot()  # planning reads, never writes: each directory is listed once
    v = view or _View(host)
    try:
        d = dissect(host, image, matches=matches, extensions=extensions, attach=True, force=force)
    except PortabledError as e:
        return Plan("attach", image, error=e, runtime=runtime)
    units = d.units
    if not (force or reattach):
        is_active = host.active_test()
        for u in units:
            try:
                exists = unit_file_exists(host, u.name)
            except UnitLookupError as e:
                return Plan(
                    "attach",
                    str(d.base.image.path),
                    error=PortabledError.errno_message(
                        e.errno,
                        f"Failed to determine whether unit '{u.name}' exists on the host: "
                        f"{os.strerror(e.errno)}",
                    ),
                    runtime=runtime,
                    dissection=d,
                )
            if exists:
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
            if is_active(u.name):
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
        if not v.exists(dropin_dir):
            v.op(
                Op(OpKind.MKDIR, dropin_dir, mode=0o755), Change(ChangeType.MKDIR, str(dropin_dir))
            )
        text = render_portable_dropin(
            systemd, d, u, force=force, host_has_etc_os_release=host_etc_osr
        )
        portable = dropin_dir / PORTABLE_DROPIN
        v.op(
            Op(
                OpKind.WRITE,
                portable,
                data=text.encode("utf-8", "surrogateescape"),
                mode=0o644,
                replace=True,
            ),
            Change(ChangeType.WRITE, str(portable)),
        )
        prof = find_profile(host, profile, u.type)
        written = [portable]
        if prof is not None:
            target = dropin_dir / PROFILE_DROPIN
            written.append(target)
            if v.exists(target) and not force:
                written.pop()
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
            symlinked = copy is CopyMode.SYMLINK and layer.image.is_tree
            if v.exists(dest) and not (force or reattach):
                error = PortabledError.errno_message(
                    errno.EEXIST, f"Failed to attach unit '{u.name}': {os.strerror(errno.EEXIST)}"
                )
            elif u.error is not None and not symlinked:  # 252/257: a link to a directory
                error = PortabledError.errno_message(
                    u.error, f"Failed to attach unit '{u.name}': {os.strerror(u.error)}"
                )
            elif symlinked:
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
            # portabled removes the drop-ins it wrote for the failing unit and stops; the
            # drop-in directory (and the attached directory made for it) stay
            for p in reversed(written):
                v.op(Op(OpKind.UNLINK, p))
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

    # image links (extensions first, base last), "just a convenience": the first one that
    # cannot be made (it exists, or the links directory is not a directory) ends them silently
    links_dir = portables_dir(runtime)
    for layer in (*d.extensions, d.base):
        img = layer.image
        target = links_dir / img.file_name
        if not _can_hold_links(v, links_dir) or v.exists(target):
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


def _can_hold_links(v: _View, links_dir: PurePosixPath) -> bool:
    """Whether image links can be made in ``links_dir``: it is a directory (also through a
    link), or it is missing and can be created."""
    try:
        if v.host.kind(links_dir) is FileKind.DIR:
            return True
        if v.kind(links_dir) is not None:
            return False  # a file, or a dangling link
        return all(v.host.kind(p) in (FileKind.DIR, None) for p in links_dir.parents)
    except ImagePathError:
        return False


# -- detach ------------------------------------------------------------------------------------


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
    host = host.snapshot()
    v = view or _View(host)
    query = [image, *extensions]
    a = attached_dir(runtime)
    resolved: dict[str, str | None] = {}  # each query path resolved once for every marker
    matched = [
        u
        for u in attached_units(host, runtime)
        if marker_matches(host, u.tokens, query, match_all=True, resolved=resolved)
    ]
    not_found = PortabledError(
        f"No unit files associated with '{image}{extensions_clause(extensions)}' found attached "
        "to the system. Image not attached?",
        dbus_error="org.freedesktop.systemd1.NoSuchUnit",
    )
    if not matched:
        return Plan("detach", image, error=not_found, runtime=runtime)
    if not (force or reattach):
        is_active = host.active_test()
        for u in matched:
            if u.name not in stopped and is_active(u.name):
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
            left = v.listdir(u.dropin_dir)
            if left:
                error = error or PortabledError.from_errno(
                    errno.ENOTEMPTY, detail=f"{u.dropin_dir}: holds {', '.join(left)}"
                )
            else:
                v.op(Op(OpKind.RMDIR, u.dropin_dir), Change(ChangeType.UNLINK, str(u.dropin_dir)))
        elif v.kind(u.dropin_dir) is FileKind.SYMLINK:
            error = error or PortabledError.from_errno(
                errno.ENOTDIR, detail=f"{u.dropin_dir}: a link, not a directory"
            )
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
            if not (systemd.detach_removes_admin_links or k is None or host.made_by_attach(target)):
                continue  # --fixed: an admin's own link or directory there stays
            if systemd.detach_removes_whatever_link:
                parent = v.host.kind(links_dir)
                if parent is not None and parent is not FileKind.DIR:
                    # remembered, and the detach carries on: it fails at the end
                    error = error or PortabledError.from_errno(errno.ENOTDIR)
                elif k is FileKind.DIR:
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
    matches: Sequence[str] | None = None,
    extensions: Sequence[str] = (),
    profile: str = "default",
    runtime: bool = False,
    copy: CopyMode | str = CopyMode.AUTO,
    force: bool = False,
) -> Plan:
    """Plan ``portablectl reattach``: detach what the (new) image's path matches, attach anew.

    If the attach half fails, the detach half still happened (as in portabled): the plan
    then carries both the detach operations and the error. ``matches`` as for
    :func:`plan_attach` (the default prefix is derived from ``image`` as given).
    """
    host = host.snapshot()
    prefixes = resolve_matches(matches, image, host.systemd)
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
    view_host = v.host  # the host as the detach half leaves it
    # 252/257 attach from the path the name resolved to, which may be the image link the
    # detach half just removed; 262 (and --fixed) use the image's real location
    attach_from = img.path
    if host.systemd.reattach_by_name_works:
        attach_from = host.resolve(img.path)
    att = plan_attach(
        view_host,
        str(attach_from),
        matches=prefixes,
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


# -- --enable and --now: the simulated service manager -------------------------------------------

#: unit types portablectl enables and starts after an attach
_STARTABLE = (".service", ".target", ".socket", ".path", ".timer")


def units_in(changes: Iterable[Change]) -> list[str]:
    """Unit names of the unit-file records (what ``--enable``/``--now`` act on)."""
    out = []
    for c in changes:
        if c.type in (ChangeType.SYMLINK, ChangeType.COPY) and c.path.endswith(_STARTABLE):
            out.append(PurePosixPath(c.path).name)
    return out


def install_targets(data: bytes) -> list[tuple[str, str]]:
    """``(target, "wants"|"requires")`` for the ``WantedBy=``/``RequiredBy=`` of a unit's
    ``[Install]`` section, in order (an empty assignment resets the list read so far)."""
    from ..errors import UnitFileError
    from ..unitfile import UnitFile  # only --enable needs the unit-file parser

    try:
        unit = UnitFile.parse(data)
    except UnitFileError:
        return []  # systemd would not load it, so it enables nothing
    out: list[tuple[str, str]] = []
    for _, a in unit.items("Install"):
        if a.key in ("WantedBy", "RequiredBy"):
            if not a.value.strip():
                out.clear()
            kind = "wants" if a.key == "WantedBy" else "requires"
            out.extend((t, kind) for t in a.value.split())
    return out


def config_dir(runtime: bool) -> PurePosixPath:
    """Where ``systemctl enable`` puts install links: ``/etc/systemd/system`` or, for a runtime
    attachment, ``/run/systemd/system``."""
    return PurePosixPath("/run/systemd/system" if runtime else "/etc/systemd/system")


def plan_enable(host: Host, attached: Plan) -> Plan:
    """``attach --enable``: install links for the units ``attached`` attached.

    A unit ``WantedBy=T`` (``RequiredBy=T``) gets the link ``T.wants/UNIT`` (``T.requires/UNIT``)
    in the host's configuration directory (:func:`config_dir`), pointing to the attached unit
    file, as ``systemctl enable`` makes it; links already there are left alone. Links there
    are what makes ``is-attached`` say ``enabled`` (links inside the attached directory do not
    count). Plan it against the host as ``attached`` leaves it.
    """
    host = host.snapshot()
    v = _View(host)
    a = attached_dir(attached.runtime)
    conf = config_dir(attached.runtime)
    units = attached.dissection.units if attached.dissection is not None else ()
    data = {u.name: u.data for u in units}
    for name in units_in(attached.changes):
        unit = a / name
        for target, kind in install_targets(data.get(name, b"")):
            link = conf / f"{target}.{kind}" / name
            if v.kind(link) is not None:
                continue
            v.mkdir_p(link.parent, record=False)
            v.op(
                Op(OpKind.SYMLINK, link, target=str(unit)),
                Change(ChangeType.SYMLINK, str(link), str(unit)),
            )
    return Plan("enable", attached.image, tuple(v.ops), tuple(v.changes), runtime=attached.runtime)


def plan_disable(host: Host, image: str, units: Collection[str], *, runtime: bool = False) -> Plan:
    """``detach --enable``: remove the install links of ``units`` from the host's configuration
    directory (:func:`config_dir`), and each ``.wants``/``.requires`` directory left empty."""
    host = host.snapshot()
    v = _View(host)
    conf = config_dir(runtime)
    for sub in host.listdir(conf):
        d = conf / sub
        if not sub.endswith((".wants", ".requires")) or v.kind(d) is not FileKind.DIR:
            continue
        for entry in host.listdir(d):
            if entry in units:
                kind = OpKind.REMOVE_TREE if v.kind(d / entry) is FileKind.DIR else OpKind.UNLINK
                v.op(Op(kind, d / entry), Change(ChangeType.UNLINK, str(d / entry)))
        if not v.listdir(d):
            v.op(Op(OpKind.RMDIR, d))
    return Plan("disable", image, tuple(v.ops), tuple(v.changes), runtime=runtime)


def plan_start(image: str, units: Iterable[str]) -> Plan:
    """``attach --now``: the service manager starts ``units`` (they become ``active``).

    It reads nothing: whatever the state file holds when the plan is carried out is kept.
    """
    names = tuple(units)
    ops = tuple(Op(OpKind.START, ACTIVE_UNITS, target=u) for u in names)
    return Plan("start", image, ops, units=names)


def plan_stop(image: str, units: Iterable[str]) -> Plan:
    """``detach --now``: the service manager stops ``units`` (they no longer count as active)."""
    names = tuple(units)
    ops = tuple(Op(OpKind.STOP, ACTIVE_UNITS, target=u) for u in names)
    return Plan("stop", image, ops, units=names)

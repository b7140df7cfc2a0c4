"""Image states: what ``is-attached`` and ``list`` report.

The state of an image starts from the attached directories: units whose marker matches the
image are *attached*; if one of them is enabled the image is *enabled*, if one is running it is
*running*. Whether a unit is enabled is the host's install logic's answer
(:mod:`.install`): install links in ``/etc/systemd/system`` or below ``/run`` count, links
inside ``/etc/systemd/system.attached`` do not, and a unit the install logic cannot look up
makes the query fail. The persistent directory is looked at first; only if it yields
``detached`` the runtime directory is, and its answers get the ``-runtime`` suffix.
:func:`attached_units` lists the portable units of one attached directory with their markers
(detach starts from it too).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ..errors import PortabledError
from ..names import is_hidden_or_backup, unit_name_is_valid
from ..source import FileKind
from .dropin import AttachedUnit, MarkerIndex, read_marker
from .host import Host, attached_dir
from .install import UnitLookupError, unit_file_states

__all__ = [
    "ImageState",
    "UnitState",
    "attached_units",
    "image_state",
    "image_states",
    "unit_states",
]

#: unit-file states that do not make an attached unit enabled; "bad": the install logic found
#: no unit file of that name (or could not follow a link to it)
_NOT_ENABLED = frozenset({"static", "disabled", "linked", "linked-runtime", "bad"})


class ImageState(StrEnum):
    """The seven states portabled reports for an image."""

    DETACHED = "detached"
    ATTACHED = "attached"
    ATTACHED_RUNTIME = "attached-runtime"
    ENABLED = "enabled"
    ENABLED_RUNTIME = "enabled-runtime"
    RUNNING = "running"
    RUNNING_RUNTIME = "running-runtime"

    @property
    def is_attached(self) -> bool:
        """Anything but ``detached``."""
        return self is not ImageState.DETACHED

    @property
    def runtime(self) -> bool:
        """Whether the attachment is in ``/run`` (until the next reboot)."""
        return self.value.endswith("-runtime")


@dataclass(frozen=True, slots=True)
class UnitState:
    """One attached unit, the marker tokens that own it, and what the service manager says."""

    unit: str
    image: str
    extensions: tuple[str, ...]
    runtime: bool
    unit_file_state: str
    active_state: str
    #: active as attach/detach judge it (for a template: any instance is active)
    running: bool
    #: the errno with which the install logic failed to look the unit up on the host (a link
    #: it cannot follow, a directory of the unit's name); the image's state query then fails
    lookup_errno: int = 0

    @property
    def tokens(self) -> tuple[str, ...]:
        """The marker's image paths: base first, then the extensions."""
        return (self.image, *self.extensions)

    @property
    def enabled(self) -> bool:
        """Enabled in portabled's sense (any unit-file state but static/disabled/linked; a
        unit the install logic cannot find is not enabled)."""
        return self.unit_file_state not in _NOT_ENABLED


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


def unit_states(host: Host) -> list[UnitState]:
    """Every portable unit on the host (persistent directory first) with its states.

    One scan of both attached directories and of the service manager's state; pass the result
    to :func:`image_state` to answer for several images without scanning again.
    """
    host = host.snapshot()  # every directory read once, however many units
    active = host.active_units()
    is_active = host.active_test(active)
    lookup = unit_file_states(host)  # the install links read once for every unit
    out = []
    for runtime in (False, True):
        for u in attached_units(host, runtime, for_detach=host.systemd.state_counts_dropin_dirs):
            state, err = "bad", 0
            if u.has_unit_file:  # a drop-in directory alone (262) is not looked up
                try:
                    state = str(lookup(u.name) or "bad")
                except UnitLookupError as e:
                    err = e.errno
            out.append(
                UnitState(
                    u.name,
                    u.base,
                    u.extensions,
                    runtime,
                    state,
                    active.get(u.name, "inactive"),
                    is_active(u.name),
                    err,
                )
            )
    return out


def image_state(
    host: Host,
    image: str,
    extensions: Sequence[str] = (),
    *,
    units: Sequence[UnitState] | None = None,
) -> ImageState:
    """``portable_get_state()`` for an image (name or path, as sent) and its extensions.

    ``units`` is a :func:`unit_states` scan to reuse; to ask about many images, use
    :func:`image_states`. A unit of the image the install logic fails to look up fails the
    query (:class:`~portablekit.errors.PortabledError` with that errno).
    """
    return _state_query(host, units)([image, *extensions])


def image_states(
    host: Host,
    queries: Iterable[Sequence[str]],
    *,
    units: Sequence[UnitState] | None = None,
) -> list[ImageState | None]:
    """:func:`image_state` of several images (each ``(image, *extensions)``), in order, from one
    scan (``units``, else made now); ``None`` for an image whose query fails (``list`` shows an
    empty cell there).

    Units are grouped by marker first, and the markers indexed by the images they can name
    (:class:`~portablekit.portabled.dropin.MarkerIndex`): an image is matched against the
    markers that may name it, not against every unit (``list`` asks for every image).
    """
    state = _state_query(host, units)
    out: list[ImageState | None] = []
    for query in queries:
        try:
            out.append(state(list(query)))
        except PortabledError:
            out.append(None)
    return out


@dataclass
class _Group:
    """The units of one marker in one attached directory."""

    running: bool = False
    enabled: bool = False
    #: the first unit (in scan order, with its position) the install logic failed to look up
    failed: tuple[int, UnitState] | None = None


def _state_query(
    host: Host, units: Sequence[UnitState] | None
) -> Callable[[Sequence[str]], ImageState]:
    """The state of an image (and extensions) from one scan, units grouped by marker."""
    host = host.snapshot()
    scan = unit_states(host) if units is None else units
    groups: dict[tuple[bool, tuple[str, ...]], _Group] = {}
    for i, u in enumerate(scan):
        g = groups.setdefault((u.runtime, u.tokens), _Group())
        g.running = g.running or u.running
        g.enabled = g.enabled or u.enabled
        if u.lookup_errno and g.failed is None:
            g.failed = (i, u)
    indexes = {
        runtime: MarkerIndex(host, (tokens for rt, tokens in groups if rt is runtime))
        for runtime in (False, True)
    }
    resolved: dict[str, str | None] = {}

    def state(query: Sequence[str]) -> ImageState:
        for runtime in (False, True):
            mine = [groups[(runtime, t)] for t in indexes[runtime].matching(query, resolved)]
            failures = [g.failed for g in mine if g.failed is not None]
            if failures:
                _, unit = min(failures, key=lambda f: f[0])
                raise PortabledError.from_errno(
                    unit.lookup_errno, detail=f"{unit.unit}: its unit file cannot be looked up"
                )
            if any(g.running for g in mine):
                return ImageState.RUNNING_RUNTIME if runtime else ImageState.RUNNING
            if any(g.enabled for g in mine):
                return ImageState.ENABLED_RUNTIME if runtime else ImageState.ENABLED
            if mine:
                return ImageState.ATTACHED_RUNTIME if runtime else ImageState.ATTACHED
        return ImageState.DETACHED

    return state

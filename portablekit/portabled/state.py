"""Image states: what ``is-attached`` and ``list`` report.

The state of an image is computed from the attached directories alone: units whose marker
matches the image are *attached*; if one of them is enabled the image is *enabled*, if one is
running it is *running*. The persistent directory is looked at first; only if it yields
``detached`` the runtime directory is, and its answers get the ``-runtime`` suffix.
:func:`attached_units` lists the portable units of one attached directory with their markers
(detach starts from it too).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ..names import is_hidden_or_backup, unit_name_is_valid
from ..source import FileKind
from .dropin import AttachedUnit, MarkerIndex, read_marker
from .host import Host, attached_dir

__all__ = [
    "ImageState",
    "UnitState",
    "attached_units",
    "image_state",
    "image_states",
    "unit_states",
]

_NOT_ENABLED = frozenset({"static", "disabled", "linked", "linked-runtime"})


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

    @property
    def tokens(self) -> tuple[str, ...]:
        """The marker's image paths: base first, then the extensions."""
        return (self.image, *self.extensions)

    @property
    def enabled(self) -> bool:
        """Enabled in systemd's sense (any unit-file state but static/disabled/linked)."""
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
    links = host.install_links()
    out = []
    for runtime in (False, True):
        for u in attached_units(host, runtime, for_detach=host.systemd.state_counts_dropin_dirs):
            out.append(
                UnitState(
                    u.name,
                    u.base,
                    u.extensions,
                    runtime,
                    host.unit_file_state(u.name, links),
                    active.get(u.name, "inactive"),
                    is_active(u.name),
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
    :func:`image_states`.
    """
    return image_states(host, [(image, *extensions)], units=units)[0]


def image_states(
    host: Host,
    queries: Iterable[Sequence[str]],
    *,
    units: Sequence[UnitState] | None = None,
) -> list[ImageState]:
    """:func:`image_state` of several images (each ``(image, *extensions)``), in order, from one
    scan (``units``, else made now).

    Units are grouped by marker first, and the markers indexed by the images they can name
    (:class:`~portablekit.portabled.dropin.MarkerIndex`): an image is matched against the
    markers that may name it, not against every unit (``list`` asks for every image).
    """
    host = host.snapshot()
    scan = unit_states(host) if units is None else units
    # (runtime, marker) -> (any of its units running, any enabled)
    groups: dict[tuple[bool, tuple[str, ...]], tuple[bool, bool]] = {}
    for u in scan:
        running, enabled = groups.get((u.runtime, u.tokens), (False, False))
        groups[(u.runtime, u.tokens)] = (running or u.running, enabled or u.enabled)
    indexes = {
        runtime: MarkerIndex(host, (tokens for rt, tokens in groups if rt is runtime))
        for runtime in (False, True)
    }
    resolved: dict[str, str | None] = {}
    return [_state(list(query), groups, indexes, resolved) for query in queries]


def _state(
    query: list[str],
    groups: dict[tuple[bool, tuple[str, ...]], tuple[bool, bool]],
    indexes: dict[bool, MarkerIndex],
    resolved: dict[str, str | None],
) -> ImageState:
    for runtime in (False, True):
        mine = [groups[(runtime, tokens)] for tokens in indexes[runtime].matching(query, resolved)]
        if any(running for running, _ in mine):
            return ImageState.RUNNING_RUNTIME if runtime else ImageState.RUNNING
        if any(enabled for _, enabled in mine):
            return ImageState.ENABLED_RUNTIME if runtime else ImageState.ENABLED
        if mine:
            return ImageState.ATTACHED_RUNTIME if runtime else ImageState.ATTACHED
    return ImageState.DETACHED

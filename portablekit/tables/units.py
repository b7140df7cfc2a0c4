"""Frames of units: every unit-file entry portabled looks at, where each attached unit comes from,
and the drop-ins of attached units.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

import pandas as pd

from ..errors import ImagePathError
from ..portabled.dissect import Dissection
from ..portabled.dropin import PORTABLE_DROPIN, PROFILE_DROPIN
from ..portabled.host import Host, attached_dir
from ..portabled.layers import unit_origins
from ..portabled.state import unit_states
from ..source import FileKind
from ._common import BOOL, DROPIN_SOURCE, INT, STR, UNIT_STATUS, UNIT_TYPE, _frame, _unit_type

__all__ = [
    "dropins_frame",
    "unit_origins_frame",
    "units_frame",
]


UNITS_SCHEMA: dict[str, object] = {
    "unit": STR,
    "type": UNIT_TYPE,
    "layer": INT,
    "image": STR,
    "path": STR,
    "matched": BOOL,
    "status": UNIT_STATUS,
}


def units_frame(dissection: Dissection) -> pd.DataFrame:
    """Every entry portabled looked at in the unit directories of every layer, and what it made
    of it: ``matched`` (attached from here) or the reason it was skipped (``status``).

    ``path`` is the entry's path inside its image. Sorted by unit name, then layer.
    """
    layers = dissection.layers
    rows = [
        {
            "unit": c.name,
            "type": _unit_type(c.name),
            "layer": c.layer,
            "image": layers[c.layer].image.name,
            "path": str(c.directory / c.name),
            "matched": c.reason is None,
            "status": "matched" if c.reason is None else c.reason.value,
        }
        for c in dissection.candidates
    ]
    return _frame(rows, UNITS_SCHEMA, ["unit", "layer", "path"])


UNIT_ORIGINS_SCHEMA: dict[str, object] = {
    "unit": STR,
    "type": UNIT_TYPE,
    "layer": INT,
    "image": STR,
    "skipped_in": STR,
}


def unit_origins_frame(dissection: Dissection) -> pd.DataFrame:
    """Which layer each attached unit is read from; ``skipped_in`` names the later layers whose
    copy portabled ignored (the first layer that has a unit wins)."""
    layers = dissection.layers
    rows = [
        {
            "unit": o.unit,
            "type": _unit_type(o.unit),
            "layer": o.layer,
            "image": o.image,
            "skipped_in": ", ".join(layers[i].image.name for i in o.also_in) or None,
        }
        for o in unit_origins(dissection)
    ]
    return _frame(rows, UNIT_ORIGINS_SCHEMA, ["unit"])


DROPINS_SCHEMA: dict[str, object] = {
    "unit": STR,
    "file": STR,
    "source": DROPIN_SOURCE,
    "path": STR,
    "link": STR,
    "content": STR,
}

#: Where local drop-ins of a system unit may live on the host (besides the attached directory).
LOCAL_DROPIN_DIRS = (
    PurePosixPath("/etc/systemd/system"),
    PurePosixPath("/run/systemd/system"),
)


def _dropin_source(name: str) -> str:
    if name == PROFILE_DROPIN:
        return "profile"
    if name == PORTABLE_DROPIN:
        return "portable"
    return "local"


def dropins_frame(host: Host, units: Iterable[str] | None = None) -> pd.DataFrame:
    """The drop-ins of attached units: ``10-profile.conf`` (source ``profile``), portabled's
    ``20-portable.conf`` (``portable``) and any other ``.conf`` (``local``), from the attached
    directories and ``/etc``/``/run/systemd/system/<unit>.d``.

    ``link`` is the target when the drop-in is a symbolic link (a linked profile); ``content``
    the text systemd reads. ``units`` limits the rows (default: every attached unit). Sorted by
    unit, then file name (the order systemd applies them in).
    """
    wanted = set(units) if units is not None else {s.unit for s in unit_states(host)}
    rows = []
    for name in sorted(wanted):
        dirs = [attached_dir(False), attached_dir(True), *LOCAL_DROPIN_DIRS]
        for d in dirs:
            ddir = d / f"{name}.d"
            for entry in host.listdir(ddir):
                if not entry.endswith(".conf"):
                    continue
                p = ddir / entry
                link = None
                if host.kind(p, follow=False) is FileKind.SYMLINK:
                    try:
                        link = host.fs.readlink(host.resolve(p, follow=False))
                    except ImagePathError:
                        link = None
                rows.append(
                    {
                        "unit": name,
                        "file": entry,
                        "source": _dropin_source(entry),
                        "path": str(p),
                        "link": link,
                        "content": host.read_text(p),
                    }
                )
    return _frame(rows, DROPINS_SCHEMA, ["unit", "file", "path"])

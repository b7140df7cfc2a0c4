"""What every frame shares: the column dtypes and the rows-to-frame builder.

``STR``, ``BOOL`` and ``INT`` are the pandas dtypes of text, flags and counts; the categoricals
(:data:`IMAGE_KIND`, :data:`UNIT_STATUS`, :data:`SEVERITY`, ...) spell the core's closed
vocabularies, so a frame's column lists every value it can take, even when no row has it.
``_frame`` turns rows into a frame with exactly a schema's columns and dtypes, sorted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from ..names import PORTABLE_UNIT_TYPES, unit_type
from ..portabled.dissect import ReleaseClass, SkipReason
from ..portabled.image import ImageKind
from ..portabled.plan import ChangeType, OpKind
from ..portabled.profiles import BUILTIN_PROFILES
from ..portabled.state import ImageState
from ..source import FileKind

__all__ = [
    "BOOL",
    "CHANGE_TYPE",
    "DROPIN_SOURCE",
    "FILE_KIND",
    "IMAGE_KIND",
    "IMAGE_STATE",
    "INT",
    "OP_KIND",
    "PROFILE",
    "RELEASE_CLASS",
    "SEVERITY",
    "STR",
    "UNIT_STATUS",
    "UNIT_TYPE",
]


STR = "string"
BOOL = "boolean"
INT = "Int64"


def _cat(values: Iterable[str], ordered: bool = False) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(categories=list(dict.fromkeys(values)), ordered=ordered)


IMAGE_KIND = _cat(k.value for k in ImageKind)
IMAGE_STATE = _cat((s.value for s in ImageState), ordered=True)
RELEASE_CLASS = _cat(c.value for c in ReleaseClass)
UNIT_TYPE = _cat(sorted({*PORTABLE_UNIT_TYPES, "mount", "slice", "scope", "device", "swap"}))
#: ``matched`` for a unit portabled takes, else the reason it skips the entry.
UNIT_STATUS = _cat(["matched", *(r.value for r in SkipReason)])
DROPIN_SOURCE = _cat(["profile", "portable", "local"])
OP_KIND = _cat(k.value for k in OpKind)
CHANGE_TYPE = _cat(t.value for t in ChangeType)
FILE_KIND = _cat(k.value for k in FileKind)
SEVERITY = _cat(["error", "warning", "info"], ordered=True)
PROFILE = _cat(BUILTIN_PROFILES)


def _frame(
    rows: Sequence[Mapping[str, object]],
    schema: Mapping[str, object],
    sort: Sequence[str] = (),
) -> pd.DataFrame:
    """Rows → a frame with exactly ``schema``'s columns and dtypes, sorted, index 0..n-1."""
    cols = list(schema)
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols, dtype=object)
    for c, dtype in schema.items():
        df[c] = df[c].astype(dtype)  # type: ignore[call-overload]
    if sort and len(df):
        df = df.sort_values(list(sort), kind="stable")
    return df.reset_index(drop=True)


def _unit_type(name: str) -> str | None:
    t = unit_type(name)
    return t if t in UNIT_TYPE.categories else None

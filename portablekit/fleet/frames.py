"""The tables of a fleet scan: :class:`Fleet`, its DataFrames, their schemas and exports.

Every table has the columns of :data:`~portablekit.fleet.analyze.COLUMNS` with the dtypes of
:data:`SCHEMAS` (categoricals for closed vocabularies, ``string``, ``boolean``, ``Int64``,
``Float64``), rows sorted by their key columns, index 0..n-1. ``image`` is the image's path
relative to its source (prefixed by the source's label when several sources were scanned): the
key that joins the tables. ``systemd`` is an ordered categorical of the versions scanned.

``images``
    one row per image: ``name`` (portabled's image name), ``kind`` (``directory``, ``raw``,
    ``unknown`` for what could not be read), ``role`` (``base`` with os-release,
    ``extension`` with only extension-release, ``unknown``), ``source`` (as given), ``path``
    (relative to it), ``picked_from`` (the ``NAME.v`` directory it was picked from), ``size``
    (bytes, raw images), ``table`` and ``fstype`` (raw images: ``gpt``/``dos`` and the file
    system), the os-release fields ``os_id``, ``os_version_id``, ``os_pretty_name``,
    ``image_id``, ``image_version``, ``portable_prefixes``; ``error_type`` and ``error`` when
    the image could not be analysed (unreadable, unreachable, corrupt beyond dissection, out of
    its time or memory bound), ``seconds`` spent on it, and for remote images the
    ``bytes_fetched`` and ``requests`` made.
``verdicts``
    one row per image × version: what ``portablectl attach /var/lib/portables/FILE`` says on a
    fresh host of that version. ``attachable``; ``refused_by`` (``portabled``, or
    ``portablectl`` when no unit prefix can be derived from the name); ``cause`` (the image
    check's rule whose portabled message is the refusal, e.g. ``os-release-no-id``;
    ``raw-dissection`` for a raw image portabled cannot dissect, such as a truncated one or a
    file that is no image; else ``other``); ``message`` (portabled's exact message);
    ``matches`` (the prefixes asked); ``units`` (how many are attached).
``units``
    one row per image × version × unit-file entry portabled considered: ``unit``, ``type``,
    ``layer``, ``directory`` (inside the image), ``status`` (``matched`` or why portabled
    skipped it) and ``attached``.
``findings``
    the image checks (:mod:`portablekit.check`) per image × version: ``severity``, ``rule``,
    ``path``, ``message``, ``fix``, ``portabled_message``. Unit-entry notes of severity info
    are left out (the units table has them).
``scores``
    per image × version × profile × attached service: ``exposure`` (0.0-10.0) and ``level``
    as ``systemd-analyze security`` gives them for the unit as attached, or ``error`` when the
    unit does not load.
``upgrades``
    per image and consecutive pair of versions (``from_systemd`` → ``to_systemd``), what
    differs: ``aspect`` ``verdict`` (attached/refused), ``message``, ``units`` (the attached
    set) or ``dropin`` (one unit's ``20-portable.conf``), with ``before`` and ``after``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..check.findings import Rule
from ..security.score import Level
from ..tables import BOOL, INT, SEVERITY, STR, UNIT_STATUS, UNIT_TYPE, _cat
from .analyze import COLUMNS, Rows, ScanConfig
from .export import FORMATS
from .sources import ImageRef

__all__ = ["FORMATS", "SCHEMAS", "TABLES", "Fleet", "empty_frame", "frames_from_rows"]

#: The tables, in the order they are listed and exported.
TABLES = tuple(COLUMNS)

FLOAT = "Float64"
_KIND = _cat(["directory", "raw", "unknown"])
_ROLE = _cat(["base", "extension", "unknown"])
_TABLE = _cat(["gpt", "dos"])
_FSTYPE = _cat(["squashfs", "ext2", "ext3", "ext4", "erofs"])
_REFUSED_BY = _cat(["portabled", "portablectl"])
_CAUSE = _cat(["prefix-underivable", *(r.value for r in Rule), "raw-dissection", "other"])
_RULE = _cat(r.value for r in Rule)
_LEVEL = _cat((lv.value for lv in Level), ordered=True)
_ASPECT = _cat(["verdict", "message", "units", "dropin"])

#: Sort keys of every table.
SORT: dict[str, tuple[str, ...]] = {
    "images": ("image",),
    "verdicts": ("image", "systemd"),
    "units": ("image", "systemd", "layer", "directory", "unit"),
    "findings": ("image", "systemd", "severity", "rule", "path", "message"),
    "scores": ("image", "systemd", "profile", "unit"),
    "upgrades": ("image", "from_systemd", "aspect", "unit"),
}


def _versions(config: ScanConfig) -> pd.CategoricalDtype:
    return pd.CategoricalDtype([v.version for v in config.versions], ordered=True)


def schemas(config: ScanConfig) -> dict[str, dict[str, Any]]:
    """Column → dtype of every table, for the versions and profiles of ``config``."""
    versions = _versions(config)
    profiles = _cat(config.profiles)
    return {
        "images": {
            "image": STR, "name": STR, "kind": _KIND, "role": _ROLE, "source": STR, "path": STR,
            "picked_from": STR, "size": INT, "table": _TABLE, "fstype": _FSTYPE, "os_id": STR,
            "os_version_id": STR, "os_pretty_name": STR, "image_id": STR,
            "image_version": STR, "portable_prefixes": STR, "error_type": STR, "error": STR,
            "seconds": FLOAT, "bytes_fetched": INT, "requests": INT,
        },
        "verdicts": {
            "image": STR, "systemd": versions, "attachable": BOOL, "refused_by": _REFUSED_BY,
            "cause": _CAUSE, "message": STR, "matches": STR, "units": INT,
        },
        "units": {
            "image": STR, "systemd": versions, "unit": STR, "type": UNIT_TYPE, "layer": INT,
            "directory": STR, "status": UNIT_STATUS, "attached": BOOL,
        },
        "findings": {
            "image": STR, "systemd": versions, "severity": SEVERITY, "rule": _RULE, "path": STR,
            "message": STR, "fix": STR, "portabled_message": STR,
        },
        "scores": {
            "image": STR, "systemd": versions, "profile": profiles, "unit": STR,
            "exposure": FLOAT, "level": _LEVEL, "error": STR,
        },
        "upgrades": {
            "image": STR, "from_systemd": versions, "to_systemd": versions, "aspect": _ASPECT,
            "unit": STR, "before": STR, "after": STR,
        },
    }  # fmt: skip


#: The schemas for the default configuration (one version, the ``default`` profile).
SCHEMAS = schemas(ScanConfig())


def _frame(rows: Sequence[tuple[Any, ...]], table: str, schema: Mapping[str, Any]) -> pd.DataFrame:
    cols = COLUMNS[table]
    values = list(zip(*rows, strict=True)) if rows else [()] * len(cols)
    data: dict[str, Any] = {}
    for c, column in zip(cols, values, strict=True):
        dtype = schema[c]
        if isinstance(dtype, pd.CategoricalDtype):
            # outside the vocabulary (a unit "type" of a misspelt suffix): missing, as in tables/
            known = set(dtype.categories)
            data[c] = pd.Categorical([v if v in known else None for v in column], dtype=dtype)
        else:
            data[c] = pd.array(list(column), dtype=dtype)
    df = pd.DataFrame(data, columns=list(cols))
    keys = [k for k in SORT[table] if k in df.columns]
    if len(df):
        df = df.sort_values(keys, kind="stable", na_position="first")
    return df.reset_index(drop=True)


def empty_frame(table: str, config: ScanConfig) -> pd.DataFrame:
    """A table with no rows and every column typed (the ``meta`` of a dask DataFrame)."""
    return _frame([], table, schemas(config)[table])


def frames_from_rows(rows: Rows, config: ScanConfig) -> dict[str, pd.DataFrame]:
    """Every table of ``rows``, typed and sorted."""
    s = schemas(config)
    return {t: _frame(rows.tables[t], t, s[t]) for t in TABLES}


@dataclass
class Fleet:
    """The result of :func:`portablekit.fleet.scan`: one DataFrame per table (see the module
    docstring), pandas, or dask DataFrames when the scan ran on a Dask client without
    ``compute=True``.

    ``partial`` is true when the scan was interrupted (Ctrl-C): the tables hold the images
    finished by then. ``refs`` are the images found (by key), ``seconds`` the wall time,
    ``workers`` the processes (or Dask workers) used.
    """

    tables: dict[str, Any]
    config: ScanConfig
    refs: dict[str, ImageRef] = field(default_factory=dict)
    partial: bool = False
    seconds: float = 0.0
    workers: int = 1
    futures: list[Any] = field(default_factory=list, repr=False)

    @property
    def images(self) -> Any:
        """One row per image."""
        return self.tables["images"]

    @property
    def verdicts(self) -> Any:
        """One row per image × systemd version."""
        return self.tables["verdicts"]

    @property
    def units(self) -> Any:
        """One row per image × version × unit-file entry."""
        return self.tables["units"]

    @property
    def findings(self) -> Any:
        """The image checks' findings per image × version."""
        return self.tables["findings"]

    @property
    def scores(self) -> Any:
        """Exposure per image × version × profile × attached service."""
        return self.tables["scores"]

    @property
    def upgrades(self) -> Any:
        """What differs per image between consecutive versions."""
        return self.tables["upgrades"]

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return iter(self.tables.items())

    @property
    def is_lazy(self) -> bool:
        """Whether the tables are dask DataFrames."""
        return not isinstance(self.tables["images"], pd.DataFrame)

    def compute(self) -> Fleet:
        """This fleet with pandas tables (computing dask ones, sorted like a local scan's)."""
        if not self.is_lazy:
            return self
        s = schemas(self.config)
        tables = {}
        for t in TABLES:
            df = self.tables[t].compute()
            df = df.astype(dict(s[t]))
            if len(df):
                df = df.sort_values(list(SORT[t]), kind="stable", na_position="first")
            tables[t] = df.reset_index(drop=True)
        return Fleet(tables, self.config, self.refs, self.partial, self.seconds, self.workers)

    def export(self, directory: str | os.PathLike[str], format: str = "parquet") -> list[Path]:
        """Write every table to ``DIRECTORY/TABLE.{csv,json,parquet}``; returns the files.

        JSON is one object per line (``orient="records"``); Parquet needs pyarrow (the
        ``fleet`` extra) and keeps the dtypes, categoricals included.
        """
        from .export import write_tables

        return write_tables(self.compute().tables, directory, format)

    def summary(self) -> str:
        """A few lines: images, errors, and per version how many attach."""
        fleet = self.compute()
        images, verdicts = fleet.images, fleet.verdicts
        errors = int(images["error_type"].notna().sum())
        lines = [
            f"{len(images)} images ({errors} unreadable) in {self.seconds:.1f} s"
            + (" - interrupted, partial" if self.partial else "")
        ]
        for v, group in verdicts.groupby("systemd", observed=True):
            ok = int(group["attachable"].sum())
            lines.append(f"systemd {v}: {ok} attach, {len(group) - ok} refused")
        return "\n".join(lines)

    def host(self, image: str, systemd: int | None = None) -> Any:
        """The fresh host of ``systemd`` (default: the newest scanned) with ``image`` placed at
        ``/var/lib/portables``: what the scan judged, to drill into (an
        :class:`~portablekit.widgets.ImageExplorer` takes it). Local images only."""
        from .drill import placed_host

        versions = {v.version: v for v in self.config.versions}
        chosen = versions[systemd] if systemd is not None else self.config.versions[-1]
        return placed_host(self.refs[image], chosen)

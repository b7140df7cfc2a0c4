"""Writing a fleet's tables to files: CSV, JSON lines or Parquet, one file per table."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

__all__ = ["FORMATS", "write_tables"]

#: Export formats and their file suffixes.
FORMATS = {"csv": ".csv", "json": ".json", "parquet": ".parquet"}


def write_tables(
    tables: Mapping[str, pd.DataFrame], directory: str | os.PathLike[str], format: str
) -> list[Path]:
    """Write every table to ``DIRECTORY/TABLE.{csv,json,parquet}`` (the directory is made if
    missing, existing files of those names are replaced); returns the files written.

    JSON is one object per line (``orient="records"``); Parquet needs pyarrow (the ``fleet``
    extra) and keeps the dtypes, text categoricals included (the ``systemd`` columns come back
    as integers).
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}: one of {', '.join(FORMATS)}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in tables.items():
        path = out / f"{name}{FORMATS[format]}"
        if format == "csv":
            df.to_csv(path, index=False)
        elif format == "json":
            df.to_json(path, orient="records", lines=True)
        else:
            df.to_parquet(path, index=False)
        written.append(path)
    return written

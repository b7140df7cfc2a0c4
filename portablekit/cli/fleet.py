"""``portablekit fleet scan``: many images, local or remote, into tables.

::

    portablekit [--systemd 252,257,262] fleet scan SOURCE... [--profiles default,strict]
                [--format csv|json|parquet] [-o DIR] [--workers N] [--dask ADDRESS]
                [--no-findings] [--no-scores] [--time-limit S] [--allow-download] [--quiet]

SOURCEs are directories, image paths and URLs (:mod:`portablekit.fleet.sources`);
``--systemd`` takes one version or several, comma-separated (default: the default version).
It prints a summary per version (how many images attach, refusals by cause) and, with ``-o``,
writes every table to ``DIR/TABLE.FORMAT``. A progress bar goes to standard error unless
``--quiet``. It answers no (exit status 1) when an image could not be read at all; refusals are
results, not failures. Ctrl-C writes what was scanned so far, then exits 130. The fleet module
(and pandas with it) is imported only when the command runs.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..errors import UsageError
from ..versions import Systemd
from .command import Command, CommandParser, usage_error
from .invocation import Invocation
from .texttable import format_table

__all__ = ["FLEET"]


def _arguments(p: CommandParser) -> None:
    p.add_argument(
        "action", choices=("scan",), metavar="ACTION", help="what to do: scan (the only action)"
    )
    p.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="directories of images (walked), image paths, URLs (http(s):// directory or "
        ".raw, s3://...)",
    )
    p.add_argument(
        "--profiles",
        default="default",
        metavar="P[,P...]",
        help="profiles to score services with, comma-separated (default: default); the first "
        "is the one attach is planned with",
    )
    p.add_argument(
        "--format",
        choices=("csv", "json", "parquet"),
        default="csv",
        help="file format of the tables written with -o (default: csv)",
    )
    p.add_argument("-o", dest="output", metavar="DIR", help="write every table into DIR")
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes to use (default: one per core; 0: this process)",
    )
    p.add_argument(
        "--dask", metavar="ADDRESS", help="run on the Dask scheduler at ADDRESS (tcp://host:8786)"
    )
    p.add_argument("--no-findings", action="store_true", help="skip the image checks")
    p.add_argument("--no-scores", action="store_true", help="skip the security scores")
    p.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds one image may take (default: 60)",
    )
    p.add_argument(
        "--allow-download",
        action="store_true",
        help="download whole images from servers that do not support Range requests",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _versions(inv: Invocation) -> tuple[Systemd, ...]:
    if inv.versions:
        return inv.versions
    return (inv.systemd_for(),)


def _run(inv: Invocation, args: argparse.Namespace, out: TextIO, err: TextIO) -> bool:
    from ..fleet import scan

    profiles = tuple(p for p in args.profiles.split(",") if p)
    if not profiles:
        raise usage_error("portablekit fleet", "--profiles needs at least one profile")
    client = None
    if args.dask:
        try:
            from distributed import Client
        except ImportError as e:
            raise UsageError(
                f"portablekit fleet: --dask needs dask.distributed (the 'fleet' extra): {e}"
            ) from None
        client = Client(args.dask)  # type: ignore[no-untyped-call]
    sources = [s if "://" in s else str(inv.path(s)) for s in args.sources]
    try:
        fleet = scan(
            sources,
            systemd=_versions(inv),
            profiles=profiles,
            client=client,
            compute=True,
            workers=args.workers,
            progress=not args.quiet,
            findings=not args.no_findings,
            scores=not args.no_scores,
            time_limit=args.time_limit,
            allow_download=args.allow_download,
        )
    finally:
        if client is not None:
            client.close()  # type: ignore[no-untyped-call]
    out.write(_summary(fleet))
    if args.output:
        written = fleet.export(inv.path(args.output), args.format)
        if not args.quiet:
            err.write(f"wrote {len(written)} tables to {args.output}\n")
    if fleet.partial:
        err.write("portablekit fleet: interrupted; the tables hold the images scanned so far\n")
        raise KeyboardInterrupt
    unreadable = fleet.images[fleet.images["error_type"].notna()]
    for row in unreadable.itertuples():
        err.write(f"portablekit fleet: {row.error_type}: {row.error}\n")
    return bool(unreadable.empty)


def _summary(fleet: Any) -> str:
    images, verdicts = fleet.images, fleet.verdicts
    errors = int(images["error_type"].notna().sum())
    text = f"{len(images)} images, {errors} unreadable, {fleet.seconds:.1f} s\n"
    rows = [["SYSTEMD", "ATTACH", "REFUSED", "REFUSALS BY CAUSE"]]
    for v, group in verdicts.groupby("systemd", observed=True):
        ok = int(group["attachable"].sum())
        causes = group.loc[~group["attachable"].astype(bool), "cause"].value_counts()
        top = ", ".join(f"{c} {n}" for c, n in causes.items() if n)
        rows.append([str(v), str(ok), str(len(group) - ok), top or "-"])
    if len(rows) > 1:
        text += "\n".join(format_table(rows)) + "\n"
    return text


FLEET = Command(
    "fleet",
    "fleet scan SOURCE...",
    "Scan many images (directories, URLs) into tables",
    _arguments,
    _run,
    description=(
        "Every image of the SOURCEs is judged as 'portablectl attach' would judge it on a "
        "fresh host of each --systemd version (several allowed: --systemd 252,257,262), "
        "checked, and its services scored under each profile; the tables (images, verdicts, "
        "units, findings, scores, upgrades) are written with -o DIR in --format. Exit status 1 "
        "when an image could not be read at all."
    ),
)

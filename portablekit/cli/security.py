"""``portablekit security`` and ``portablekit compare-profiles``.

::

    portablekit security UNIT_FILE|IMAGE [UNIT...] [--profile NAME|PATH | --no-profile]
                         [--image none|directory|raw] [--image-path PATH] [--json[=short]]
                         [--threshold N] [--no-emoji]
    portablekit compare-profiles [PROFILE...] [--unit UNIT_FILE] [--image none|directory|raw]
                         [--base PROFILE] [--json]

``security`` prints what ``systemd-analyze security --offline=true --profile=PROFILE`` prints for
the unit as it runs after attach: parse warnings on stderr, the table and the closing line on
stdout (``--json``: the ``--json=short`` list). A UNIT_FILE is scored with the ``20-portable.conf``
of an image of kind ``--image`` (default ``directory``) at ``/var/lib/portables/PREFIX``; an IMAGE
(a name or path; inside the sandbox root when one is given) is dissected as portabled does and
each of its service units (or the UNITs named) is scored with the exact drop-in portabled would
write. As systemd-analyze, it answers no (exit status 1) when a unit does not load or the worst
exposure is above ``--threshold``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TextIO

from ..errors import PortabledError, PortableKitError
from ..names import derive_prefix
from ..portabled.dissect import MAX_UNIT_FILE, dissect
from ..portabled.dropin import render_portable_dropin
from ..portabled.host import Host
from ..portabled.profiles import load_profile
from ..security.attached import RootKind, attached_unit, unit_file_dropin
from ..security.effective import EffectiveUnit
from ..security.profilediff import ProfileComparison, compare_profiles
from ..security.score import SecurityReport, assess
from ..source import read_regular_file
from ..unitfile import UnitFile
from ..versions import Systemd
from .command import Command, CommandParser
from .invocation import ROOT_ENV, Invocation
from .texttable import format_table

__all__ = ["COMPARE_PROFILES", "SECURITY", "comparison_json", "comparison_text"]

_UNIT_SUFFIXES = (".service", ".socket", ".timer", ".path", ".target")
_IMAGE_KINDS = [k.value for k in RootKind]


def _security_arguments(p: CommandParser) -> None:
    p.add_argument(
        "target",
        metavar="UNIT_FILE|IMAGE",
        help="a unit file of this machine, or an image (a name or path; of the sandbox root "
        f"when one is given with --root or ${ROOT_ENV})",
    )
    p.add_argument(
        "units",
        nargs="*",
        metavar="UNIT",
        help="the image's service units to score (default: every one)",
    )
    p.add_argument(
        "--profile",
        default="default",
        metavar="NAME|PATH",
        help="the portable profile attached with: a built-in name or a profile's path "
        "(default: default)",
    )
    p.add_argument("--no-profile", action="store_true", help="attach with no profile")
    p.add_argument(
        "--image",
        choices=_IMAGE_KINDS,
        default=RootKind.DIRECTORY.value,
        help="for a UNIT_FILE: the kind of image it is attached from (default: directory)",
    )
    p.add_argument(
        "--image-path",
        metavar="PATH",
        help="for a UNIT_FILE: the image's path on the host (default: "
        "/var/lib/portables/PREFIX, .raw for a raw image)",
    )
    p.add_argument(
        "--json",
        "--json=short",
        action="store_true",
        help="print systemd-analyze's --json=short list instead of the table",
    )
    p.add_argument("--json=off", dest="json", action="store_false", help="print the table")
    p.add_argument(
        "--threshold",
        type=int,
        default=100,
        metavar="N",
        help="answer no (exit status 1) when an exposure is above N tenths (default: 100)",
    )
    p.add_argument(
        "--no-emoji", action="store_true", help="close with a smiley in ASCII, not an emoji"
    )


def _security(inv: Invocation, args: argparse.Namespace, out: TextIO, err: TextIO) -> bool:
    host = inv.sandbox("portablekit security").host if inv.root is not None else None
    systemd = host.systemd if host is not None else inv.systemd_for()
    target = inv.path(args.target)
    if target.name.endswith(_UNIT_SUFFIXES) and (host is None or target.is_file()):
        reports = [_score_unit_file(args, target, systemd, err)]
    else:
        reports = _score_image(args, inv, host, systemd, err)
    if None in reports:
        return False  # a unit that does not load; systemd-analyze has said so
    worst = 0
    for i, report in enumerate(r for r in reports if r is not None):
        if args.json:
            out.write(report.to_json())
        else:
            if i:
                out.write("\n")
            out.write(report.table(emoji=not args.no_emoji))
        worst = max(worst, report.exposure)
    return bool(worst <= args.threshold)


SECURITY = Command(
    "security",
    "security UNIT_FILE|IMAGE [UNIT...]",
    "Score a unit as systemd-analyze security does",
    _security_arguments,
    _security,
    description=(
        "The table and closing line of 'systemd-analyze security --offline=true "
        "--profile=PROFILE' for the unit with the drop-ins portabled adds "
        "(20-portable.conf, 10-profile.conf). Exit status 1 when a unit does not load or "
        "an exposure is above --threshold."
    ),
)


def _profile(args: argparse.Namespace, systemd: Systemd) -> UnitFile | None:
    if args.no_profile or not args.profile:
        return None
    try:
        return load_profile(args.profile, systemd)[1]
    except KeyError:
        raise PortableKitError(f"Failed to find portable profile {args.profile}: "
                               "No such file or directory") from None  # fmt: skip


def _assess(eff: EffectiveUnit, name: str, err: TextIO) -> SecurityReport | None:
    """The report, or ``None`` for a unit that does not load, after writing what
    systemd-analyze writes then."""
    for w in eff.warnings:
        err.write(f"{w}\n")
    if eff.fatal is not None:
        err.write(
            f"{name}: Unit configuration has fatal error, unit will not be started.\n"
            f"Unit {name} has a bad unit file setting.\n"
        )
        return None
    return assess(eff)


def _score_unit_file(
    args: argparse.Namespace, path: Path, systemd: Systemd, err: TextIO
) -> SecurityReport | None:
    name = path.name
    unit = UnitFile.parse(read_regular_file(path, limit=MAX_UNIT_FILE), origin=str(path.absolute()))
    local: dict[str, UnitFile] = {}
    dropin_dir = path.parent / f"{name}.d"
    if dropin_dir.is_dir():
        for f in sorted(dropin_dir.glob("*.conf")):
            data = read_regular_file(f, limit=MAX_UNIT_FILE)
            local[f.name] = UnitFile.parse(data, origin=str(f.absolute()))
    portable = None
    if "20-portable.conf" not in local:
        portable = unit_file_dropin(systemd, name, args.image, args.image_path)
    eff = attached_unit(
        unit, name, systemd=systemd, profile=_profile(args, systemd), portable=portable, local=local
    )
    return _assess(eff, name, err)


def _score_image(
    args: argparse.Namespace, inv: Invocation, host: Host | None, systemd: Systemd, err: TextIO
) -> list[SecurityReport | None]:
    """Dissect the image as portabled does and score its service units with the exact drop-in.

    Without a sandbox root the image is a path of this machine, read with ``/`` as the host.
    """
    image = args.target
    if host is None:
        host = Host("/", systemd)
        image = str(inv.path(image))
    prefix = derive_prefix(args.target, systemd)
    try:
        dissection = dissect(host, image, matches=[prefix], attach=True)
    except PortabledError as e:
        # a bare strerror about the image itself: say which image it is
        if e.errno and (not e.detail or e.detail.startswith(f"{image}:")):
            raise PortableKitError(f"{image}: {e.message}") from e
        raise
    wanted = set(args.units)
    reports: list[SecurityReport | None] = []
    scored: set[str] = set()
    for u in dissection.units:
        if u.type != "service" or (wanted and u.name not in wanted):
            continue
        unit = UnitFile.parse(u.data, origin=str(u.path))
        portable = UnitFile.parse(
            render_portable_dropin(systemd, dissection, u), origin="20-portable.conf"
        )
        eff = attached_unit(
            unit, u.name, systemd=systemd, profile=_profile(args, systemd), portable=portable
        )
        report = _assess(eff, u.name, err)
        if report is None:
            return [None]
        reports.append(report)
        scored.add(u.name)
    missing = wanted - scored - {u.name for u in dissection.units}
    if missing or not reports:
        what = ", ".join(sorted(missing)) if missing else "service units"
        raise PortableKitError(f"No {what} found in image '{args.target}'.")
    return reports


# -- compare-profiles ------------------------------------------------------------------------------


def _compare_arguments(p: CommandParser) -> None:
    p.add_argument(
        "profiles",
        nargs="*",
        metavar="PROFILE",
        help="built-in names or profile paths (default: the four built-in profiles)",
    )
    p.add_argument(
        "--unit",
        metavar="UNIT_FILE",
        help="also score this unit file as attached with each profile",
    )
    p.add_argument(
        "--image",
        choices=_IMAGE_KINDS,
        default=RootKind.DIRECTORY.value,
        help="with --unit: the kind of image it is attached from (default: directory)",
    )
    p.add_argument(
        "--base",
        metavar="PROFILE",
        help="the profile the others are compared with (default: the first)",
    )
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")


def _compare(inv: Invocation, args: argparse.Namespace, out: TextIO, err: TextIO) -> bool:
    root: Path | None = None
    systemd = inv.systemd_for()
    if inv.root is not None:
        sandbox = inv.sandbox("portablekit compare-profiles")
        root, systemd = sandbox.path, sandbox.systemd
    unit = inv.path(args.unit) if args.unit else None
    cmp = compare_profiles(args.profiles, systemd=systemd, root=root, unit=unit, image=args.image)
    base = args.base or cmp.names[0]
    if base not in cmp.names:
        raise PortableKitError(f"--base {base} is not one of the compared profiles")
    if args.json:
        out.write(json.dumps(comparison_json(cmp, base), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(comparison_text(cmp, base))
    return True


COMPARE_PROFILES = Command(
    "compare-profiles",
    "compare-profiles [PROFILE...]",
    "Set portable profiles side by side",
    _compare_arguments,
    _compare,
    description=(
        "Profiles are read as portabled reads them: built-in names from the version's "
        "profile directories, and the sandbox root's /etc/portables/profile when one is "
        "given."
    ),
)


def comparison_json(cmp: ProfileComparison, base: str) -> dict[str, object]:
    """The comparison as JSON-ready data."""
    out: dict[str, object] = {
        "systemd": cmp.systemd.version,
        "profiles": [{"name": p.name, "source": p.source} for p in cmp.profiles],
        "directives": [
            {"section": s, "name": n, "values": dict(zip(cmp.names, v, strict=True))}
            for s, n, v in cmp.rows()
        ],
        "differences": [
            {
                "base": d.base,
                "profile": d.other,
                "added": [{"name": x.name, "value": x.value} for x in d.added],
                "removed": [{"name": x.name, "value": x.value} for x in d.removed],
                "changed": [
                    {
                        "name": c.name,
                        "before": c.before,
                        "after": c.after,
                        "added": list(c.added),
                        "removed": list(c.removed),
                    }
                    for c in d.changed
                ],
            }
            for d in (cmp.diff(base, n) for n in cmp.names if n != base)
        ],
    }
    if cmp.reports:
        out["unit"] = cmp.unit
        out["scores"] = {
            n: {"exposure": cmp.score(n).score, "level": str(cmp.score(n).level)} for n in cmp.names
        }
        out["checks"] = [
            {"name": name, "json_field": field, "badness": dict(zip(cmp.names, b, strict=True))}
            for name, field, b in cmp.check_rows()
        ]
    return out


def _cell(value: str | None, width: int = 40) -> str:
    if value is None:
        return "-"
    if value == "":
        return "(empty)"
    return value if len(value) <= width else value[: width - 1] + "…"


def comparison_text(cmp: ProfileComparison, base: str) -> str:
    """The comparison for a terminal: matrix, differences to ``base``, scores."""
    rows = [["DIRECTIVE", *(n.upper() for n in cmp.names)]]
    rows += [[f"{n}=", *(_cell(v) for v in values)] for _, n, values in cmp.rows()]
    out = format_table(rows)
    for name in cmp.names:
        if name == base:
            continue
        out += ["", f"{name} relative to {base}:"]
        out += ["  " + line for line in cmp.diff(base, name).lines()] or ["  (no differences)"]
    if cmp.reports:
        out += ["", f"Exposure of {cmp.unit} (systemd {cmp.systemd.version}):"]
        score_rows = [["", *(n.upper() for n in cmp.names)]]
        score_rows.append(
            ["overall", *(f"{cmp.score(n).score:.1f} {cmp.score(n).level}" for n in cmp.names)]
        )
        for name, _, badness in cmp.check_rows(only_differences=True):
            score_rows.append([name, *("n/a" if b is None else str(b) for b in badness)])
        out += ["  " + line for line in format_table(score_rows)]
    return "\n".join(out) + "\n"

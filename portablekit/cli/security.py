"""``portablekit security`` and ``portablekit compare-profiles``: functions over an argv list.

::

    portablekit security UNIT_FILE|IMAGE [UNIT...] [--profile NAME|PATH | --no-profile]
                         [--systemd 252|257|262] [--root DIR] [--image none|directory|raw]
                         [--image-path PATH] [--json[=short]] [--threshold N] [--no-emoji]
    portablekit compare-profiles [PROFILE...] [--systemd V] [--root DIR] [--unit UNIT_FILE]
                         [--image none|directory|raw] [--base PROFILE] [--json]

``security`` prints what ``systemd-analyze security --offline=true --profile=PROFILE`` prints for
the unit as it runs after attach: parse warnings on stderr, the table and the closing line on
stdout (``--json``: the ``--json=short`` list). A UNIT_FILE is scored with the ``20-portable.conf``
of an image of kind ``--image`` (default ``directory``) at ``/var/lib/portables/PREFIX``; an IMAGE
(a name or path; inside ``--root`` when given) is dissected as portabled does and each of its
service units (or the UNITs named) is scored with the exact drop-in portabled would write.

Each function takes ``argv`` (without the command name) and the two text streams, and returns the
exit code; nothing here calls ``sys.exit`` or prints elsewhere.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ..errors import PortableKitError
from ..portabled.profiles import load_profile
from ..security.attached import RootKind, attached_unit, unit_file_dropin
from ..security.profilediff import ProfileComparison, compare_profiles
from ..security.score import SecurityReport, assess
from ..unitfile import ParseWarning, UnitFile
from ..versions import Systemd
from ._argparse import CliParser as _Parser
from ._argparse import CliUsageError as _UsageError
from ._argparse import wants_help

__all__ = ["compare_profiles_main", "security_main"]

_UNIT_SUFFIXES = (".service", ".socket", ".timer", ".path", ".target")


def _version(value: str | int | None) -> int:
    from ..versions import DEFAULT_VERSION, SUPPORTED_VERSIONS

    if value is None:
        return DEFAULT_VERSION
    try:
        version = int(value)
    except ValueError:
        version = -1
    if version not in SUPPORTED_VERSIONS:
        choices = "|".join(map(str, SUPPORTED_VERSIONS))
        raise _UsageError(f"--systemd must be one of {choices}, not '{value}'")
    return version


def _security_parser() -> _Parser:
    p = _Parser(
        "portablekit security",
        "Score a unit as systemd-analyze security does, after attach with a profile.",
    )
    p.add_argument("target")
    p.add_argument("units", nargs="*")
    p.add_argument("--profile", default="default")
    p.add_argument("--no-profile", action="store_true")
    p.add_argument("--systemd")
    p.add_argument("--root")
    p.add_argument("--image", choices=[k.value for k in RootKind], default=RootKind.DIRECTORY.value)
    p.add_argument("--image-path")
    p.add_argument("--json", action="store_true")
    p.add_argument("--threshold", type=int, default=100)
    p.add_argument("--no-emoji", action="store_true")
    return p


def _json_option(argv: Sequence[str]) -> list[str]:
    """``--json``, ``--json=short`` (as systemd-analyze spells it) and ``--json=off``."""
    out = []
    for a in argv:
        if a.startswith("--json="):
            mode = a.split("=", 1)[1]
            if mode not in ("short", "off"):
                raise _UsageError(f"portablekit security: --json={mode}: use short or off")
            if mode == "off":
                continue
            a = "--json"
        out.append(a)
    return out


def _print_warnings(warnings: Sequence[ParseWarning], stderr: TextIO) -> None:
    for w in warnings:
        print(w, file=stderr)


def security_main(
    argv: Sequence[str],
    stdout: TextIO,
    stderr: TextIO,
    *,
    systemd: int | None = None,
    root: str | None = None,
) -> int:
    """``portablekit security ...``; ``systemd``/``root`` are defaults for the options."""
    if wants_help(_security_parser(), argv, stdout):
        return 0
    try:
        args = _security_parser().parse_args(_json_option(argv))
        version = _version(args.systemd if args.systemd is not None else systemd)
    except _UsageError as e:
        print(e, file=stderr)
        return 2
    root = args.root or root
    target = Path(args.target)
    try:
        if target.name.endswith(_UNIT_SUFFIXES) and (root is None or target.is_file()):
            reports = [_score_unit_file(args, target, Systemd(version), stderr)]
        else:
            reports = _score_image(args, Systemd(version), root, stderr)
    except FileNotFoundError as e:
        print(f"portablekit security: {e.filename or args.target}: No such file or directory",
              file=stderr)  # fmt: skip
        return 1
    except _Failed as e:
        for line in e.lines:
            print(line, file=stderr)
        return 1
    except PortableKitError as e:
        print(f"portablekit security: {e}", file=stderr)
        return 1
    worst = 0
    for i, report in enumerate(reports):
        if args.json:
            stdout.write(report.to_json())
        else:
            if i:
                stdout.write("\n")
            stdout.write(report.table(emoji=not args.no_emoji))
        worst = max(worst, report.exposure)
    return 1 if worst > args.threshold else 0


class _Failed(Exception):
    """A unit that does not load: the lines systemd-analyze prints on stderr."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


def _profile(args: argparse.Namespace, systemd: Systemd) -> UnitFile | None:
    if args.no_profile or not args.profile:
        return None
    try:
        return load_profile(args.profile, systemd)[1]
    except KeyError:
        raise PortableKitError(f"Failed to find portable profile {args.profile}: "
                               "No such file or directory") from None  # fmt: skip


def _assess_or_fail(eff_args: dict[str, object], name: str, stderr: TextIO) -> SecurityReport:
    eff = attached_unit(**eff_args)  # type: ignore[arg-type]
    _print_warnings(eff.warnings, stderr)
    if eff.fatal is not None:
        raise _Failed([
            f"{name}: Unit configuration has fatal error, unit will not be started.",
            f"Unit {name} has a bad unit file setting.",
        ])  # fmt: skip
    return assess(eff)


def _score_unit_file(
    args: argparse.Namespace, path: Path, systemd: Systemd, stderr: TextIO
) -> SecurityReport:
    name = path.name
    unit = UnitFile.parse(path.read_bytes(), origin=str(path.absolute()))
    local: dict[str, UnitFile] = {}
    dropin_dir = path.parent / f"{name}.d"
    if dropin_dir.is_dir():
        for f in sorted(dropin_dir.glob("*.conf")):
            local[f.name] = UnitFile.parse(f.read_bytes(), origin=str(f.absolute()))
    portable = None
    if "20-portable.conf" not in local:
        portable = unit_file_dropin(systemd, name, args.image, args.image_path)
    return _assess_or_fail(
        {"unit": unit, "name": name, "systemd": systemd, "profile": _profile(args, systemd),
         "portable": portable, "local": local},
        name,
        stderr,
    )  # fmt: skip


def _score_image(
    args: argparse.Namespace, systemd: Systemd, root: str | None, stderr: TextIO
) -> list[SecurityReport]:
    """Dissect the image as portabled does and score its service units with the exact drop-in.

    The seam to the core: :func:`portablekit.portabled.dissect.dissect` and
    :func:`portablekit.portabled.dropin.render_portable_dropin`.
    """
    from ..names import derive_prefix
    from ..portabled.dissect import dissect
    from ..portabled.dropin import render_portable_dropin
    from ..portabled.host import Host

    host = Host(root or "/", systemd)
    image = args.target
    if root is None and not image.startswith("/"):
        image = str(Path(image).absolute())
    prefix = derive_prefix(args.target, systemd)
    dissection = dissect(host, image, matches=[prefix], attach=True)
    wanted = set(args.units)
    reports = []
    for u in dissection.units:
        if u.type != "service" or (wanted and u.name not in wanted):
            continue
        unit = UnitFile.parse(u.data, origin=str(u.path))
        portable = UnitFile.parse(
            render_portable_dropin(systemd, dissection, u), origin="20-portable.conf"
        )
        reports.append(
            _assess_or_fail(
                {
                    "unit": unit,
                    "name": u.name,
                    "systemd": systemd,
                    "profile": _profile(args, systemd),
                    "portable": portable,
                },
                u.name,
                stderr,
            )
        )
    missing = wanted - {r.unit for r in reports} - {u.name for u in dissection.units}
    if missing or not reports:
        what = ", ".join(sorted(missing)) if missing else "service units"
        raise PortableKitError(f"No {what} found in image '{args.target}'.")
    return reports


# -- compare-profiles ------------------------------------------------------------------------------


def _compare_parser() -> _Parser:
    p = _Parser(
        "portablekit compare-profiles",
        "Profiles side by side: directive matrix, differences, scores.",
    )
    p.add_argument("profiles", nargs="*")
    p.add_argument("--systemd")
    p.add_argument("--root")
    p.add_argument("--unit")
    p.add_argument("--image", choices=[k.value for k in RootKind], default=RootKind.DIRECTORY.value)
    p.add_argument("--base")
    p.add_argument("--json", action="store_true")
    return p


def compare_profiles_main(
    argv: Sequence[str],
    stdout: TextIO,
    stderr: TextIO,
    *,
    systemd: int | None = None,
    root: str | None = None,
) -> int:
    """``portablekit compare-profiles ...``: directive matrix, differences, and scores."""
    if wants_help(_compare_parser(), argv, stdout):
        return 0
    try:
        args = _compare_parser().parse_args(list(argv))
        version = _version(args.systemd if args.systemd is not None else systemd)
    except _UsageError as e:
        print(e, file=stderr)
        return 2
    try:
        unit = Path(args.unit) if args.unit else None
        cmp = compare_profiles(
            args.profiles,
            systemd=Systemd(version),
            root=args.root or root,
            unit=unit,
            image=args.image,
        )
        base = args.base or cmp.names[0]
        if base not in cmp.names:
            raise PortableKitError(f"--base {base} is not one of the compared profiles")
    except FileNotFoundError as e:
        print(f"portablekit compare-profiles: {e.filename}: No such file or directory",
              file=stderr)  # fmt: skip
        return 1
    except PortableKitError as e:
        print(f"portablekit compare-profiles: {e}", file=stderr)
        return 1
    if args.json:
        stdout.write(json.dumps(comparison_json(cmp, base), ensure_ascii=False, indent=2) + "\n")
    else:
        stdout.write(comparison_text(cmp, base))
    return 0


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


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [" ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def comparison_text(cmp: ProfileComparison, base: str) -> str:
    """The comparison for a terminal: matrix, differences to ``base``, scores."""
    rows = [["DIRECTIVE", *(n.upper() for n in cmp.names)]]
    rows += [[f"{n}=", *(_cell(v) for v in values)] for _, n, values in cmp.rows()]
    out = _table(rows)
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
        out += ["  " + line for line in _table(score_rows)]
    return "\n".join(out) + "\n"

"""``portablekit check IMAGE``: everything wrong with a portable image, as findings.

::

    portablekit [--root DIR] [--systemd V] check IMAGE [--extension EXT]... [--prefix P]...
                [--json] [--severity error|warning|info] [--arch ARCH] [--max-elf-files N]

``check`` runs the image checks (:mod:`portablekit.check.image`) on IMAGE: with a sandbox root
(``--root`` or ``$PORTABLEKIT_ROOT``) an image of that root, by name or by path as
``portablectl attach`` takes it; without, a directory (or ``.raw`` file) on this machine. It
prints one line per finding (worst first) with what to fix and, where portabled would refuse,
its message; ``--json`` prints the findings as a list of objects. It answers no (exit status 1)
when portabled would refuse the image.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import PurePosixPath
from typing import TextIO

from ..check.findings import Finding, Severity
from ..check.image import check_host_image, check_image
from ..errors import PortableKitError
from ..source import DirectorySource, ImageSource
from ..versions import Systemd
from .command import Command, CommandParser
from .invocation import ROOT_ENV, Invocation

__all__ = ["CHECK", "format_findings"]


def _arguments(p: CommandParser) -> None:
    p.add_argument(
        "image",
        metavar="IMAGE",
        help=f"with a sandbox root (--root, ${ROOT_ENV}) an image of it, by name or path; "
        "without, a directory or .raw file of this machine",
    )
    p.add_argument(
        "--extension",
        action="append",
        default=[],
        metavar="EXT",
        help="an extension image to layer on IMAGE, as portablectl --extension (repeatable)",
    )
    p.add_argument(
        "--prefix",
        action="append",
        default=None,
        metavar="P",
        help="a unit name prefix to match, as portablectl's PREFIX (repeatable; default: "
        "the image's own)",
    )
    p.add_argument("--json", action="store_true", help="print the findings as a JSON list")
    p.add_argument(
        "--severity",
        choices=("error", "warning", "info"),
        default="info",
        help="show findings of this severity and worse (default: info, all)",
    )
    p.add_argument(
        "--arch", metavar="ARCH", help="the host's architecture for the ELF checks (e.g. x86-64)"
    )
    p.add_argument(
        "--max-elf-files",
        type=int,
        default=400,
        metavar="N",
        help="read at most N executables for the ELF checks (default: 400)",
    )


def _run(inv: Invocation, args: argparse.Namespace, out: TextIO, err: TextIO) -> bool:
    findings, heading = _run_checks(inv, args)
    shown = [f for f in findings if f.severity.rank <= Severity(args.severity).rank]
    if args.json:
        out.write(json.dumps([f.to_dict() for f in shown], ensure_ascii=False, indent=2) + "\n")
    else:
        text = format_findings(shown, findings, layers=bool(args.extension))
        out.write(heading + "\n" + text)
    return not any(f.severity is Severity.ERROR for f in findings)


CHECK = Command(
    "check",
    "check IMAGE",
    "List everything wrong with a portable image",
    _arguments,
    _run,
    description=(
        "One line per finding, worst first, with what to fix and, where portabled would "
        "refuse the image, its message. Exit status 1 when portabled refuses the image."
    ),
)


def _run_checks(inv: Invocation, args: argparse.Namespace) -> tuple[list[Finding], str]:
    """The findings, and the line naming what was checked."""
    matches = args.prefix
    if inv.root is not None:
        host = inv.sandbox("portablekit check").host
        sd = host.systemd
        findings = check_host_image(
            host,
            args.image,
            extensions=args.extension,
            matches=matches,
            host_arch=args.arch,
            max_elf_files=args.max_elf_files,
        )
    else:
        sd = inv.systemd_for()
        with ExitStack() as stack:
            base = _local_image(inv, args.image, sd, stack)
            findings = check_image(
                base[0],
                base[1],
                matches=matches,
                extensions=[_local_image(inv, e, sd, stack) for e in args.extension],
                systemd=sd,
                host_arch=args.arch,
                max_elf_files=args.max_elf_files,
            )
    what = f"prefixes {', '.join(repr(m) for m in matches)}" if matches else "its default prefix"
    heading = f"Checked {args.image} with {what} for {sd}"
    if args.extension:
        heading += f", extensions {', '.join(args.extension)}"
    return findings, heading + "."


def _local_image(
    inv: Invocation, arg: str, sd: Systemd, stack: ExitStack
) -> tuple[ImageSource, str]:
    """A directory or ``.raw`` file of this machine, and its absolute path (as portablectl
    canonicalizes it)."""
    path = inv.path(arg).resolve()
    if path.is_file() and path.name.endswith(".raw"):
        from ..raw import DissectError, open_raw_image  # the raw readers load only when needed

        try:
            raw = stack.enter_context(open_raw_image(path, label=str(path), systemd=sd))
        except DissectError as e:
            raise e.to_portabled_error(str(path)) from e
        return raw.source, str(path)
    if not path.is_dir():
        raise PortableKitError(
            f"{arg}: not a directory or .raw image (use --root DIR for images of a sandbox root)"
        )
    return DirectorySource(path, label=str(path)), str(path)


def format_findings(
    shown: Sequence[Finding], every: Sequence[Finding] | None = None, *, layers: bool = False
) -> str:
    """Findings as a readable table: one line per finding (severity, rule, path, what is
    wrong), then indented lines for the offending text, portabled's message and the fix;
    a closing count over ``every`` (default ``shown``). With ``layers`` each location starts
    with the name of the image it is in (for a base image with extensions)."""
    items = list(shown)
    all_items = list(every if every is not None else shown)
    lines: list[str] = []
    if items:
        rule_w = max(len(f.rule) for f in items)
        for f in items:
            where = f.location or "(image)"
            if layers:
                where = f"{PurePosixPath(f.image).name}:{where}"
            lines.append(f"{f.severity.value:<7} {f.rule.value:<{rule_w}} {where}")
            lines.append(f"        {f.message}")
            for text_line in f.caret().splitlines():
                lines.append(f"            {text_line}")
            if f.portabled_message is not None:
                lines.append(f"        portabled: {f.portabled_message}")
            lines.append(f"        fix: {f.fix}")
    counts = {s: sum(1 for f in all_items if f.severity is s) for s in Severity}
    summary = ", ".join(
        f"{n} {s.value}{'' if n == 1 or s is Severity.INFO else 's'}" for s, n in counts.items()
    )
    hidden = len(all_items) - len(items)
    if hidden:
        summary += f" ({hidden} not shown)"
    if counts[Severity.ERROR]:
        verdict = "portabled refuses this image"
    elif counts[Severity.WARNING]:
        verdict = "portabled attaches it, but the service may not run"
    else:
        verdict = "nothing keeps it from attaching and running"
    body = "".join(line + "\n" for line in lines) + ("\n" if lines else "")
    return body + f"{summary}: {verdict}.\n"

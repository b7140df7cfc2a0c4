"""The kit's analysis commands: ``security``, ``compare-profiles`` and ``check``.

::

    portablekit security ...            see portablekit.cli.security
    portablekit compare-profiles ...    see portablekit.cli.security
    portablekit [--root DIR] [--systemd V] check IMAGE [--extension EXT]... [--prefix P]...
                [--json] [--severity error|warning|info] [--arch ARCH] [--max-elf-files N]

``check`` runs the image checks (:mod:`portablekit.check.image`) on IMAGE: with ``--root`` an image
of that sandbox root, by name or by path as ``portablectl attach`` takes it; without, a directory
(or ``.raw`` file) on this machine. It prints one line per finding (worst first) with what to
fix and, where portabled would refuse, its message; ``--json`` prints the findings as a list of
objects. Exit status: 0 without errors, 1 when portabled would refuse the image (or it cannot
be read), 2 for a usage error.

:func:`dispatch` is called by :func:`portablekit.cli.main.main`; nothing here exits the process.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path, PurePosixPath
from typing import TextIO

from ..check.findings import Finding, Severity
from ..check.image import check_host_image, check_image
from ..errors import PortableKitError
from ..source import DirectorySource, ImageSource
from ..versions import DEFAULT_VERSION, SUPPORTED_VERSIONS, Systemd
from ._argparse import CliParser as _Parser
from ._argparse import CliUsageError as _UsageError
from ._argparse import wants_help

__all__ = ["check_main", "dispatch", "format_findings"]


def dispatch(cmd: str, args: list[str], systemd: Systemd | None, root: str | bool | None) -> int:
    """Run ``portablekit <cmd> ARGS``; ``systemd`` and ``root`` are the global ``--systemd`` and
    ``--root`` (``None`` when not given: a sandbox root then brings its own version)."""
    root_dir = root if isinstance(root, str) and root else None
    version = systemd.version if systemd is not None else None
    if cmd in ("security", "compare-profiles"):
        from .security import compare_profiles_main, security_main

        if version is None and root_dir is not None:
            version = _sandbox_version(root_dir)
        main = security_main if cmd == "security" else compare_profiles_main
        return main(args, sys.stdout, sys.stderr, systemd=version, root=root_dir)
    if cmd == "check":
        return check_main(args, sys.stdout, sys.stderr, systemd=version, root=root_dir)
    print(f"portablekit: unknown command '{cmd}'", file=sys.stderr)
    return 2


def _sandbox_version(root: str) -> int | None:
    from ..sandbox import SandboxRoot

    try:
        return SandboxRoot(root).systemd.version
    except PortableKitError:
        return None  # the command reports the unusable root itself


# -- check ---------------------------------------------------------------------------------------


def _check_parser() -> _Parser:
    p = _Parser("portablekit check", "Everything wrong with a portable image, as findings.")
    p.add_argument("image")
    p.add_argument("--extension", action="append", default=[])
    p.add_argument("--prefix", action="append", default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--severity", choices=("error", "warning", "info"), default="info")
    p.add_argument("--arch")
    p.add_argument("--max-elf-files", type=int, default=400)
    p.add_argument("--systemd")
    p.add_argument("--root")
    return p


def _version(value: str | int | None) -> int | None:
    if value is None:
        return None
    if str(value) not in map(str, SUPPORTED_VERSIONS):
        choices = "|".join(map(str, SUPPORTED_VERSIONS))
        raise _UsageError(f"portablekit check: --systemd must be one of {choices}, not '{value}'")
    return int(value)


def check_main(
    argv: Sequence[str],
    stdout: TextIO,
    stderr: TextIO,
    *,
    systemd: int | None = None,
    root: str | None = None,
) -> int:
    """``portablekit check ...``; ``systemd``/``root`` are defaults for the options."""
    if wants_help(_check_parser(), argv, stdout):
        return 0
    try:
        args = _check_parser().parse_args(list(argv))
        version = _version(args.systemd if args.systemd is not None else systemd)
    except _UsageError as e:
        print(e, file=stderr)
        return 2
    root = args.root or root
    try:
        findings, heading = _run_checks(args, version, root)
    except (PortableKitError, OSError) as e:
        print(f"portablekit check: {getattr(e, 'message', None) or e}", file=stderr)
        return 1
    shown = [f for f in findings if f.severity.rank <= Severity(args.severity).rank]
    if args.json:
        stdout.write(json.dumps([f.to_dict() for f in shown], ensure_ascii=False, indent=2) + "\n")
    else:
        text = format_findings(shown, findings, layers=bool(args.extension))
        stdout.write(heading + "\n" + text)
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0


def _run_checks(
    args: argparse.Namespace, version: int | None, root: str | None
) -> tuple[list[Finding], str]:
    """The findings, and the line naming what was checked."""
    matches = args.prefix
    if root is not None:
        from ..sandbox import SandboxRoot

        host = SandboxRoot(root, Systemd(version) if version is not None else None).host
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
        sd = Systemd(version if version is not None else DEFAULT_VERSION)
        with ExitStack() as stack:
            base = _local_image(args.image, sd, stack)
            findings = check_image(
                base[0],
                base[1],
                matches=matches,
                extensions=[_local_image(e, sd, stack) for e in args.extension],
                systemd=sd,
                host_arch=args.arch,
                max_elf_files=args.max_elf_files,
            )
    what = f"prefixes {', '.join(repr(m) for m in matches)}" if matches else "its default prefix"
    heading = f"Checked {args.image} with {what} for systemd {sd.version}"
    if args.extension:
        heading += f", extensions {', '.join(args.extension)}"
    return findings, heading + "."


def _local_image(arg: str, sd: Systemd, stack: ExitStack) -> tuple[ImageSource, str]:
    """A directory or ``.raw`` file of this machine, and its absolute path (as portablectl
    canonicalizes it)."""
    path = Path(arg).resolve()
    if path.is_file() and path.name.endswith(".raw"):
        from ..raw import DissectError, open_raw_image

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

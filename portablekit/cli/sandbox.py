"""``portablekit sandbox init DIR``: a fresh simulated host for the chosen systemd version."""

from __future__ import annotations

import argparse
from typing import TextIO

from ..sandbox import SandboxRoot
from .command import Command, CommandParser
from .invocation import Invocation

__all__ = ["SANDBOX"]


def _arguments(p: CommandParser) -> None:
    sub = p.add_subparsers(
        dest="action", required=True, metavar="ACTION", help="what to do with a sandbox root"
    )
    init = sub.add_parser(
        "init",
        help="create a sandbox root: what Debian's base system has where portabled looks",
        description="Create a sandbox root for the chosen systemd version (--systemd).",
    )
    init.add_argument("dir", metavar="DIR", help="the directory to create (empty or missing)")
    init.add_argument(
        "--exist-ok", action="store_true", help="make a sandbox of a directory that is not empty"
    )


def _run(inv: Invocation, args: argparse.Namespace, out: TextIO, err: TextIO) -> bool:
    systemd = inv.systemd_for()
    root = SandboxRoot.init(inv.path(args.dir), systemd, exist_ok=args.exist_ok)
    err.write(f"Sandbox root for systemd {systemd.version} created at {root.path}.\n")
    return True


SANDBOX = Command(
    "sandbox",
    "sandbox init DIR",
    "Create a sandbox root (a simulated host)",
    _arguments,
    _run,
    description=(
        "A sandbox root is a directory playing the host's /: portablectl's verbs change "
        "it, never this machine. 'portablekit sandbox init --help' shows the options of init."
    ),
)

"""``portablekit replay`` and ``portablekit dump``: the portabled oracle's formats.

``replay`` runs a scenario (a ``cmd`` file of portablectl lines and ``!`` shell lines, a
``root/`` tree, an optional ``build`` script) in a fresh sandbox root and writes the oracle's
output layout (see :mod:`portablekit.oracle.replay`). ``dump`` prints a root's ``tree.txt``: every
entry of the directories portabled writes, in the format the recordings are compared in.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from ..oracle.dump import WATCHED, Snapshot, render_tree
from ..oracle.replay import replay
from ..sandbox import SandboxRoot
from .command import Command, CommandParser, usage_error
from .invocation import ROOT_ENV, Invocation

__all__ = ["DUMP", "REPLAY"]


def _replay_arguments(p: CommandParser) -> None:
    p.add_argument(
        "scenario",
        metavar="SCENARIO_DIR",
        help="the scenario: a cmd file, and optionally root/, image, build, active-units",
    )
    p.add_argument(
        "out",
        metavar="OUT_DIR",
        help="where the output layout goes (replaced if it holds an earlier replay)",
    )
    p.add_argument(
        "--keep-root",
        action="store_true",
        help="keep the sandbox root the scenario ran in and print its path",
    )


def _replay(inv: Invocation, args: argparse.Namespace, out: TextIO, err: TextIO) -> bool:
    kept = replay(
        inv.path(args.scenario), inv.path(args.out), inv.systemd_for(), keep=args.keep_root
    )
    if args.keep_root:
        out.write(f"{kept}\n")
    return True


REPLAY = Command(
    "replay",
    "replay SCENARIO_DIR OUT_DIR",
    "Replay an oracle scenario into OUT_DIR",
    _replay_arguments,
    _replay,
    description=(
        "OUT_DIR gets initial/, steps/NN-*/ (cmd, argv, rc, stdout, stderr, changes.txt, "
        "tree.txt) and final-*.txt, as the oracle records the real portabled: a replay "
        "can be compared with a recording, shared, and read."
    ),
)


def _dump_arguments(p: CommandParser) -> None:
    p.add_argument(
        "dir", nargs="?", metavar="DIR", help=f"the root to dump (default: --root or ${ROOT_ENV})"
    )


def _dump(inv: Invocation, args: argparse.Namespace, out: TextIO, err: TextIO) -> bool:
    if args.dir:
        root = inv.path(args.dir)
    elif inv.root is not None:
        root = inv.root
    else:
        raise usage_error("portablekit dump", f"no root given; use DIR, --root DIR or {ROOT_ENV}")
    checked = SandboxRoot(root)  # names the directory when it is missing; reading needs no marker
    out.write(render_tree(Snapshot.take(checked.path)))
    return True


DUMP = Command(
    "dump",
    "dump [DIR]",
    "Print a root's tree.txt, as the oracle dumps it",
    _dump_arguments,
    _dump,
    description=(
        "Lists " + ", ".join(WATCHED) + " "
        "in full (type, mode, owner, link target, content), as each step of a recording's "
        "tree.txt does, so a sandbox root can be compared with a recording."
    ),
)

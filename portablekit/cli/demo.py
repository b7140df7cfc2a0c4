"""``portablekit demo``: a short walkthrough on the built-in samples, printed to the terminal.

It creates a sandbox root (a temporary directory unless one is given), installs the sample
images, and runs the portablectl verbs a user would: list, inspect, attach with a profile,
is-attached, a dry-run detach, detach, each with a line that says what portabled did and why.
The closing line says whether every step behaved as that systemd version does (the one attach
that must be refused included), and names the steps that did not.
"""

from __future__ import annotations

import argparse
import io
import shlex
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..samples import install_samples
from ..sandbox import SandboxRoot
from ..versions import Systemd
from .command import Command, CommandParser
from .invocation import Invocation
from .portablectl import run

__all__ = ["DEMO", "DEMO_STEPS", "DemoStep", "run_demo"]


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One portablectl command of the walkthrough, why it is shown, and whether portabled
    refuses it (exit status 1) on purpose."""

    command: str
    why: str
    refused: bool = False


DEMO_STEPS: tuple[DemoStep, ...] = (
    DemoStep(
        "list", "The images portabled finds in its search path (/var/lib/portables and friends):"
    ),
    DemoStep(
        "inspect minimal",
        "Dissect an image: its os-release and the unit files whose names match "
        "the image's prefix 'minimal' (minimalist.service and other.service do not):",
    ),
    DemoStep(
        "inspect --cat minimal minimal.socket",
        "The same with an explicit prefix and --cat, which prints the files themselves:",
    ),
    DemoStep(
        "--dry-run attach --profile=strict minimal",
        "Beyond portablectl: the attach plan, as file operations, without writing anything:",
    ),
    DemoStep(
        "--no-reload attach --profile=strict minimal",
        "Attach: copy the units into /etc/systemd/system.attached, add the 20-portable.conf "
        "drop-in and link the 'strict' profile as 10-profile.conf:",
    ),
    DemoStep("is-attached minimal", "The image is now attached (its units are not running):"),
    DemoStep(
        "--no-reload attach webapp_2.1 webapp-admin",
        'webapp declares PORTABLE_PREFIXES="webapp webapp-admin"; asking for another prefix '
        "would be refused, this one is accepted:",
    ),
    DemoStep(
        "--no-reload attach --extension=/var/lib/portables/webapp-legacy webapp_2.1",
        "An extension built for Debian 11 does not match the Debian 12 base: refused.",
        refused=True,
    ),
    DemoStep("list", "Both images are attached now:"),
    DemoStep(
        "--no-reload detach /var/lib/portables/minimal",
        "Detach removes exactly what attach created. By path: given a bare name, systemd 257 "
        "matches every attached image (systemd#39058) and would detach webapp too:",
    ),
    DemoStep("--no-reload detach /var/lib/portables/webapp_2.1", "And the second image:"),
    DemoStep("is-attached minimal", "Back to the start:"),
)


def run_demo(
    root_dir: Path, systemd: Systemd, out: TextIO, steps: Sequence[DemoStep] = DEMO_STEPS
) -> bool:
    """Make a sandbox root at ``root_dir``, install the samples and run ``steps`` on it,
    printing each to ``out``; whether every step behaved as expected."""
    root = SandboxRoot.init(root_dir, systemd)
    install_samples(root)
    out.write(f"# portablekit demo: systemd {systemd.version} simulated in {root_dir}\n\n")
    unexpected: list[str] = []
    for number, step in enumerate(steps, 1):
        so, se = io.StringIO(), io.StringIO()
        # the kit's own --dry-run is a step: run as portablekit, not as plain portablectl
        rc = run(shlex.split(step.command), root=root, stdout=so, stderr=se, prog="portablekit")
        out.write(f"## {step.why}\n$ portablectl {step.command}\n")
        out.write(so.getvalue() + se.getvalue())
        out.write(f"[exit {rc}]\n\n")
        if (rc != 0) != step.refused:
            expected = "a refusal" if step.refused else "success"
            unexpected.append(f"step {number} ({step.command}) exited {rc}, expected {expected}")
    if unexpected:
        out.write("# demo finished with unexpected results: " + "; ".join(unexpected) + "\n")
        return False
    out.write(f"# demo finished: every step behaved as systemd {systemd.version} does\n")
    return True


def _arguments(p: CommandParser) -> None:
    p.add_argument(
        "dir",
        nargs="?",
        metavar="DIR",
        help="the sandbox root to create, an empty or missing directory "
        "(default: a temporary one, removed afterwards)",
    )


def _run(inv: Invocation, args: argparse.Namespace, out: TextIO, err: TextIO) -> bool:
    if args.dir:
        return run_demo(inv.path(args.dir), inv.systemd_for(), out)
    tmp = tempfile.mkdtemp(prefix="portablekit-demo-")
    try:
        return run_demo(Path(tmp) / "root", inv.systemd_for(), out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


DEMO = Command(
    "demo",
    "demo [DIR]",
    "Walk through the verbs on the sample images",
    _arguments,
    _run,
    description=(
        "Creates a sandbox root for the chosen systemd version, installs the sample images "
        "and runs portablectl's verbs on them, each with a line on what portabled does and "
        "why. Exit status 0 when every step behaved as that systemd version does."
    ),
)

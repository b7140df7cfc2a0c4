"""``portablekit demo``: a short walkthrough on the built-in samples, printed to the terminal.

It creates a sandbox root (a temporary directory unless one is given), installs the sample
images, and runs the portablectl verbs a user would: list, inspect, attach with a profile,
is-attached, a dry-run detach, detach, each with a line that says what portabled did and why.
"""

from __future__ import annotations

import argparse
import io
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from ..samples import install_samples
from ..sandbox import SandboxRoot
from ..versions import Systemd
from .portablectl import run

__all__ = ["main"]

_STEPS: list[tuple[str, str]] = [
    ("list", "The images portabled finds in its search path (/var/lib/portables and friends):"),
    (
        "inspect minimal",
        "Dissect an image: its os-release and the unit files whose names match "
        "the image's prefix 'minimal' (minimalist.service and other.service do not):",
    ),
    (
        "inspect --cat minimal minimal.socket",
        "The same with an explicit prefix and --cat, which prints the files themselves:",
    ),
    (
        "--dry-run attach --profile=strict minimal",
        "Beyond portablectl: the attach plan, as file operations, without writing anything:",
    ),
    (
        "--no-reload attach --profile=strict minimal",
        "Attach: copy the units into /etc/systemd/system.attached, add the 20-portable.conf "
        "drop-in and link the 'strict' profile as 10-profile.conf:",
    ),
    ("is-attached minimal", "The image is now attached (its units are not running):"),
    (
        "--no-reload attach webapp_2.1 webapp-admin",
        'webapp declares PORTABLE_PREFIXES="webapp webapp-admin"; asking for another prefix '
        "would be refused, this one is accepted:",
    ),
    (
        "--no-reload attach --extension=/var/lib/portables/webapp-legacy webapp_2.1",
        "An extension built for Debian 11 does not match the Debian 12 base: refused.",
    ),
    ("list", "Both images are attached now:"),
    (
        "--no-reload detach /var/lib/portables/minimal",
        "Detach removes exactly what attach created. By path: given a bare name, systemd 257 "
        "matches every attached image (systemd#39058) and would detach webapp too:",
    ),
    ("--no-reload detach /var/lib/portables/webapp_2.1", "And the second image:"),
    ("is-attached minimal", "Back to the start:"),
]


def main(argv: list[str], systemd: Systemd) -> int:
    """Run the walkthrough; returns 0 when every step behaved as expected."""
    p = argparse.ArgumentParser(prog="portablekit demo")
    p.add_argument("root", nargs="?", help="sandbox root to create (default: a temporary one)")
    ns = p.parse_args(argv)
    tmp = None
    if ns.root:
        root_dir = Path(ns.root)
    else:
        tmp = tempfile.mkdtemp(prefix="portablekit-demo-")
        root_dir = Path(tmp) / "root"
    try:
        root = SandboxRoot.init(root_dir, systemd)
        install_samples(root)
        print(f"# portablekit demo: systemd {systemd.version} simulated in {root_dir}\n")
        expected_failures = {7}
        ok = True
        for i, (cmd, why) in enumerate(_STEPS):
            out, err = io.StringIO(), io.StringIO()
            rc = run(shlex.split(cmd), root=root, stdout=out, stderr=err)
            print(f"## {why}")
            print(f"$ portablectl {cmd}")
            sys.stdout.write(out.getvalue())
            sys.stdout.write(err.getvalue())
            print(f"[exit {rc}]\n")
            if (rc != 0) != (i in expected_failures):
                ok = False
        print(
            "# demo finished: every step behaved as systemd",
            systemd.version,
            "does" if ok else "# demo finished with unexpected results",
        )
        return 0 if ok else 1
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

"""Attach and detach of the sample images through the sandbox, in-process (a script, not a test).

Makes a sandbox root with the sample images, then attaches and detaches ``minimal`` and
``webapp_2.1`` (with its ``webapp-tls`` extension) in every copy mode, ``--runtime`` and with
``--enable --now``, N times each, through portablectl's verbs as the command line runs them.
Prints the median per verb and configuration, as wall time and as CPU time of this process
(user and system: what the writer costs, read well on a busy machine; a disk's ``fsync`` shows
in wall time only), and the number of file-changing system calls one attach and one detach
make (what the sandbox's system-call layer counts), so a change of the writer can be read as
a cost per file.

    python benchmarks/bench_sandbox.py [--runs 20] [--systemd 257] [--dir /dev/shm]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath

CONFIGS: list[tuple[str, list[str]]] = [
    ("minimal auto", ["minimal"]),
    ("minimal copy", ["--copy=copy", "minimal"]),
    ("minimal mixed", ["--copy=mixed", "minimal"]),
    ("minimal --runtime", ["--runtime", "minimal"]),
    ("minimal --enable --now", ["--enable", "--now", "minimal"]),
    ("webapp +ext symlink", ["--copy=symlink", "--extension=webapp-tls", "webapp_2.1"]),
    ("webapp +ext mixed", ["--copy=mixed", "--extension=webapp-tls", "webapp_2.1"]),
]


def _run(root: object, argv: list[str]) -> None:
    from portablekit.cli.portablectl import run
    from portablekit.sandbox import SandboxRoot

    assert isinstance(root, SandboxRoot)
    out, err = io.StringIO(), io.StringIO()
    rc = run(argv, root=root, stdout=out, stderr=err, cwd=PurePosixPath("/"))
    if rc:
        raise SystemExit(f"{' '.join(argv)}: exit {rc}: {err.getvalue()}")


def _detach_args(args: list[str]) -> list[str]:
    keep = [a for a in args if not a.startswith("--copy=")]
    return ["--no-reload", "detach", *keep]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--systemd", type=int, default=257)
    ap.add_argument("--dir", default=None, help="where the root is made (e.g. a tmpfs)")
    ns = ap.parse_args()
    from portablekit.samples import sample_sandbox
    from portablekit.sandbox import SandboxRoot
    from portablekit.versions import Systemd

    counter = _call_counter()
    with tempfile.TemporaryDirectory(dir=ns.dir) as tmp:
        root = sample_sandbox(Path(tmp) / "root", systemd=Systemd(ns.systemd)).root
        assert isinstance(root, SandboxRoot)
        print(
            f"{'configuration':<26} {'attach ms':>10} {'cpu ms':>7} {'detach ms':>10} "
            f"{'cpu ms':>7} {'calls':>6} {'calls':>6}  (runs={ns.runs}, systemd {ns.systemd})"
        )
        for label, args in CONFIGS:
            attach = ["--no-reload", "attach", *args]
            detach = _detach_args(args)
            times: list[tuple[float, float, float, float]] = []
            calls = (0, 0)
            for i in range(ns.runs):
                c0 = counter()
                w0, p0 = time.perf_counter(), time.process_time()
                _run(root, attach)
                w1, p1 = time.perf_counter(), time.process_time()
                c1 = counter()
                _run(root, detach)
                w2, p2 = time.perf_counter(), time.process_time()
                c2 = counter()
                times.append(((w1 - w0), (p1 - p0), (w2 - w1), (p2 - p1)))
                if i == 0:
                    calls = (c1 - c0, c2 - c1) if c0 >= 0 else (-1, -1)
            med = [statistics.median(t[k] for t in times) * 1000 for k in range(4)]
            shown = [str(c) if c >= 0 else "-" for c in calls]
            print(
                f"{label:<26} {med[0]:>10.2f} {med[1]:>7.2f} {med[2]:>10.2f} {med[3]:>7.2f} "
                f"{shown[0]:>6} {shown[1]:>6}"
            )


def _call_counter() -> Callable[[], int]:
    """A function returning how many file-changing calls the sandbox made so far (-1 when the
    sandbox has no counting system-call layer, as before it had one)."""
    try:
        from portablekit.sandbox import fs  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return lambda: -1
    counts = [0]

    def hook(call: str, changes: bool, where: str) -> None:
        if changes:
            counts[0] += 1

    fs.SYSCALLS.hooks.append(hook)
    return lambda: counts[0]


if __name__ == "__main__":
    main()

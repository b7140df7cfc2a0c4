"""CLI cold-start time of ``portablekit inspect`` on a directory image (a script, not a test).

Creates a sandbox with the sample images, then runs ``portablekit --root R inspect minimal`` in a
fresh process N times and prints the median, next to ``python -c pass`` (interpreter start-up)
and ``python -c 'import portablekit.cli.main'`` measured in the same run, so the figure can be read
against the machine's noise.

    python benchmarks/bench_cli.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _time(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ns = ap.parse_args()
    from portablekit.samples import install_samples
    from portablekit.sandbox import SandboxRoot
    from portablekit.versions import Systemd

    with tempfile.TemporaryDirectory() as tmp:
        root = SandboxRoot.init(Path(tmp) / "root", Systemd(257))
        install_samples(root)
        py = sys.executable
        rows = [
            ("python -c pass", [py, "-c", "pass"]),
            ("python -c 'import portablekit.cli.main'", [py, "-c", "import portablekit.cli.main"]),
            (
                "portablekit inspect minimal",
                [py, "-m", "portablekit", "--root", str(root.path), "inspect", "minimal"],
            ),
            ("portablekit list", [py, "-m", "portablekit", "--root", str(root.path), "list"]),
        ]
        print(f"{'command':<40} {'median ms':>10} {'min ms':>8} {'max ms':>8}  (runs={ns.runs})")
        base = None
        for label, cmd in rows:
            t = _time(cmd, ns.runs)
            med = statistics.median(t)
            base = base or med
            print(f"{label:<40} {med:>10.1f} {min(t):>8.1f} {max(t):>8.1f}  x{med / base:.2f}")


if __name__ == "__main__":
    main()

"""Benchmark of the raw-image readers: "inspect" on 64 MiB and 1 GiB images (not a test).

For each image kind it builds a 64 MiB and a 1 GiB image holding about 3,000 and 50,000 files
(random payload, 100 unit files, os-release) with the real tools, then measures in-process:

* ``inspect``: open the image, read os-release, list ``/usr/lib/systemd/system`` and read every
  unit file in it (median of ``--runs`` fresh opens, warm page cache);
* the bytes read from the image file (an unbuffered file object wrapped to count);
* the peak Python memory of one inspect (tracemalloc);
* the same inspect in a fresh interpreter (start-up and import included);
* ``systemd-dissect --copy-from`` of os-release: the real dissection (root, loop devices);
* the same work done with the real tools (``unsquashfs``, ``debugfs``, ``dump.erofs`` and
  ``fsck.erofs --extract``; with ``PORTABLEKIT_DUMP_EROFS`` pointing at an erofs-utils 1.8+
  ``dump.erofs``, its ``--cat`` per file instead of extracting everything), for comparison.

    python benchmarks/bench_raw.py [--workdir /tmp/portablekit-bench] [--runs 7] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portablekit.raw import open_raw_image  # noqa: E402
from portablekit.samples.raw import (  # noqa: E402
    GptPartition,
    build_erofs,
    build_ext4,
    build_gpt,
    build_squashfs,
    find_tool,
    gpt_type,
    set_tree_times,
)

UNIT_DIR = PurePosixPath("/usr/lib/systemd/system")
UNITS = 100
SIZES = {"64M": (64 << 20, 3_000), "1G": (1 << 30, 50_000)}


class Counting:
    """A file object that counts what is read through it (no fileno: no pread shortcut)."""

    def __init__(self, path: Path) -> None:
        self.f = open(path, "rb", buffering=0)  # noqa: SIM115
        self.bytes = 0
        self.reads = 0

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.bytes += len(data)
        self.reads += 1
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.f.seek(offset, whence)

    def tell(self) -> int:
        return self.f.tell()

    def close(self) -> None:
        self.f.close()


def make_tree(root: Path, total: int, files: int) -> None:
    rnd = random.Random(42)
    units = root / "usr/lib/systemd/system"
    units.mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "usr/lib/os-release").write_text('ID=debian\nVERSION_ID=12\nPRETTY_NAME="Bench"\n')
    os.symlink("../usr/lib/os-release", root / "etc/os-release")
    for i in range(UNITS):
        (units / f"bench{i:03d}.service").write_text(
            f"[Unit]\nDescription=bench {i}\n\n[Service]\nExecStart=/usr/bin/bench --id {i}\n"
            "DynamicUser=yes\nProtectSystem=strict\n\n[Install]\nWantedBy=multi-user.target\n"
        )
    payload = files - UNITS - 2
    weights = [rnd.paretovariate(1.5) for _ in range(payload)]
    scale = total * 0.93 / sum(weights)
    block = os.urandom(4 << 20)
    for i, w in enumerate(weights):
        d = root / "usr/share/payload" / f"d{i % 200:03d}"
        d.mkdir(parents=True, exist_ok=True)
        n = min(int(w * scale), len(block))
        start = rnd.randrange(len(block) - n + 1)
        (d / f"f{i:05d}.bin").write_bytes(block[start : start + n])
    set_tree_times(root)


def build(kind: str, tree: Path, out: Path) -> None:
    if kind == "squashfs":
        build_squashfs(tree, out)
    elif kind == "ext4":
        build_ext4(tree, out)
    elif kind == "erofs":
        build_erofs(tree, out)
    elif kind == "erofs-lz4":
        build_erofs(tree, out, compression="lz4")
    elif kind == "gpt-squashfs":
        fs = out.with_suffix(".fs")
        build_squashfs(tree, fs)
        build_gpt(out, [GptPartition(fs, gpt_type("root"), "root-x86-64")])
        fs.unlink()
    else:
        raise ValueError(kind)


def inspect(fobj: object) -> int:
    """The workload; returns the number of unit bytes read (to keep the work observable)."""
    with open_raw_image(fobj, label="bench") as img:  # type: ignore[arg-type]
        src = img.source
        src.read_file("/etc/os-release", limit=1 << 16)
        total = 0
        for path in src.iterdir(UNIT_DIR):
            if src.is_file(path):
                total += len(src.read_file(path, limit=1 << 16))
        return total


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def in_process(img: Path, runs: int) -> dict[str, float]:
    def once() -> None:
        f = Counting(img)
        try:
            inspect(f)
        finally:
            f.close()

    once()  # warm the page cache and the import
    ms = median_ms(once, runs)
    f = Counting(img)
    inspect(f)
    f.close()
    tracemalloc.start()
    g = Counting(img)
    inspect(g)
    g.close()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"ms": ms, "bytes": f.bytes, "reads": f.reads, "peak": peak}


def fresh_process(img: Path, runs: int) -> float:
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
        f"from bench_raw import inspect; inspect(open({str(img)!r}, 'rb'))"
    )
    return median_ms(lambda: subprocess.run([sys.executable, "-c", code], check=True), runs)


def tool_time(kind: str, img: Path, work: Path, runs: int) -> tuple[str, float]:
    """The same inspect with the real tools (what one would script without portablekit)."""
    units = [f"usr/lib/systemd/system/bench{i:03d}.service" for i in range(UNITS)]

    def run(*argv: str) -> None:
        subprocess.run([find_tool(argv[0]), *argv[1:]], check=True, capture_output=True)

    if kind in ("squashfs", "gpt-squashfs"):
        if kind == "gpt-squashfs":
            return "n/a (unsquashfs reads no partition table)", float("nan")

        def sq() -> None:
            run("unsquashfs", "-lc", str(img), "usr/lib/systemd/system")
            run("unsquashfs", "-cat", str(img), "usr/lib/os-release", *units)

        return "unsquashfs -lc + -cat", median_ms(sq, runs)
    if kind == "ext4":
        cmds = work / "debugfs.cmd"
        cmds.write_text(
            "cat /usr/lib/os-release\nls -p /usr/lib/systemd/system\n"
            + "".join(f"cat /{u}\n" for u in units)
        )
        return "debugfs -f (ls + cat)", median_ms(
            lambda: run("debugfs", "-f", str(cmds), str(img)), runs
        )
    newer = os.environ.get("PORTABLEKIT_DUMP_EROFS")
    if newer:  # erofs-utils 1.8+ can cat a single file
        paths = ["/usr/lib/os-release", *(f"/{u}" for u in units)]

        def cat() -> None:
            subprocess.run(
                [newer, "--ls", "--path=/usr/lib/systemd/system", str(img)],
                check=True,
                capture_output=True,
            )
            for p in paths:
                subprocess.run(
                    [newer, "--cat", f"--path={p}", str(img)], check=True, capture_output=True
                )

        return "dump.erofs 1.8 --ls + --cat per file", median_ms(cat, runs)
    out = work / "extract"

    def er() -> None:
        run("dump.erofs", "--ls", "--path=/usr/lib/systemd/system", str(img))
        shutil.rmtree(out, ignore_errors=True)
        run("fsck.erofs", f"--extract={out}", str(img))

    return "dump.erofs --ls + fsck.erofs --extract", median_ms(er, max(1, runs // 3))


def dissect_time(img: Path, runs: int) -> tuple[str, float]:
    """``systemd-dissect --copy-from IMAGE /usr/lib/os-release -``: the real dissection (root,
    loop devices), reading one file only."""
    tool = shutil.which("systemd-dissect")
    if tool is None:
        return "n/a (systemd-dissect: apt install systemd-container)", float("nan")
    if os.geteuid() != 0:
        return "n/a (systemd-dissect needs root)", float("nan")

    def run() -> None:
        subprocess.run(
            [tool, "--copy-from", str(img), "/usr/lib/os-release", "-"],
            check=True,
            capture_output=True,
        )

    return "systemd-dissect --copy-from os-release", median_ms(run, runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/portablekit-bench"))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--kinds", default="squashfs,ext4,erofs,erofs-lz4,gpt-squashfs")
    ap.add_argument("--sizes", default=",".join(SIZES))
    ap.add_argument("--keep", action="store_true", help="reuse images already built")
    args = ap.parse_args()
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes.split(","):
        total, files = SIZES[size]
        tree = work / f"tree-{size}"
        if not (args.keep and tree.exists()):
            shutil.rmtree(tree, ignore_errors=True)
            t = time.perf_counter()
            make_tree(tree, total, files)
            print(f"tree {size}: {files} files in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        for kind in args.kinds.split(","):
            img = work / f"{kind}-{size}.raw"
            if not (args.keep and img.exists()):
                t = time.perf_counter()
                build(kind, tree, img)
                print(f"built {img.name} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
            r = in_process(img, args.runs)
            fresh = fresh_process(img, max(3, args.runs // 2))
            try:
                tool, tool_ms = tool_time(kind, img, work, max(3, args.runs // 2))
            except (subprocess.CalledProcessError, OSError) as e:
                tool, tool_ms = f"failed: {str(e)[:60]}", float("nan")
            try:
                dis, dis_ms = dissect_time(img, max(3, args.runs // 2))
            except (subprocess.CalledProcessError, OSError) as e:
                dis, dis_ms = f"failed: {str(e)[:60]}", float("nan")
            rows.append(
                (kind, size, img.stat().st_size, files, r, fresh, tool, tool_ms, dis, dis_ms)
            )
    print()
    head = (
        "| image | size | files | inspect, in-process (median) | bytes read (reads) "
        "| peak memory | fresh process | real tools, same work | systemd-dissect |"
    )
    print(head)
    print("|" + "---|" * 9)
    for kind, _size, nbytes, files, r, fresh, tool, tool_ms, dis, dis_ms in rows:
        tool_cell = f"{tool_ms:.0f} ms ({tool})" if tool_ms == tool_ms else tool
        dis_cell = f"{dis_ms:.0f} ms" if dis_ms == dis_ms else dis
        print(
            f"| {kind} | {nbytes / (1 << 20):.0f} MiB | {files:,} | {r['ms']:.1f} ms "
            f"| {r['bytes'] / 1024:.0f} KiB ({r['reads']:.0f}) | {r['peak'] / 1024:.0f} KiB "
            f"| {fresh:.0f} ms | {tool_cell} | {dis_cell} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

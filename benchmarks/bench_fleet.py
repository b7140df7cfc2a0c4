"""Benchmark of fleet scans (not a test): how long, how much memory, how many bytes.

It generates synthetic fleets once into ``--workdir`` (kept between runs), then prints:

* directory images: 1k, 5k and 10k images (the first 10, 50, 100 ``site-NN`` folders of one
  10k fleet), every table, one systemd version, one profile, on every core: wall time, images
  per second, milliseconds per 1,000 images (linear cost shows as a flat column) and the peak
  resident memory of the scanning process and of its workers;
* 1,000 raw images of mixed formats (squashfs, ext4, EROFS, GPT): the same figures;
* the same raw images served by a local HTTP server with Range support: bytes and requests per
  image (mean and max) and the wall time against the local scan of the same files;
* the 10k directory images on a Dask ``LocalCluster`` (process workers, one per core) against
  the process pool, and whether the tables are identical.

The machine's load (``os.getloadavg()``) is printed with every run: on a shared machine, read
the ratios measured within one run.

    python benchmarks/bench_fleet.py [--workdir /tmp/portablekit-bench-fleet] [--skip-dask]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fleet_http import serve  # noqa: E402

from portablekit.fleet import TABLES, Fleet, generate_fleet, scan  # noqa: E402


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f} on {os.cpu_count()} cores"


def fleet(workdir: Path, name: str, n: int, raw: int) -> Path:
    d = workdir / name
    manifest = d / ".fleet.json"
    if manifest.exists() and json.loads(manifest.read_text())["n"] == n:
        return d
    if d.exists():
        import shutil

        shutil.rmtree(d)
    t = time.perf_counter()
    generate_fleet(d, n, seed=11, raw=raw)
    print(f"  (generated {name}: {n} images in {time.perf_counter() - t:.0f} s)", flush=True)
    return d


def peak_mib() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, children


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (pool workers are joined when
    a scan ends), user and system."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


#: CPU seconds of the last timed() run (Dask workers are not children: not counted there)
CPU = [0.0]


def timed(sources: list[str] | str, **kw: object) -> tuple[Fleet, float]:
    t, c = time.perf_counter(), cpu_seconds()
    result = scan(sources, progress=False, **kw)  # type: ignore[arg-type]
    CPU[0] = cpu_seconds() - c
    return result, time.perf_counter() - t


def row(label: str, fleet: Fleet, seconds: float, cpu: float | None = None) -> str:
    n = len(fleet.images)
    me, children = peak_mib()
    cpu = CPU[0] if cpu is None else cpu
    idle = f"{cpu:>7.1f} {cpu / (os.cpu_count() or 1):>8.2f}" if cpu else f"{'-':>7} {'-':>8}"
    return (
        f"{label:<28} {n:>6} {seconds:>8.2f} {n / seconds:>9.0f} {seconds / n * 1e6:>10.0f}"
        f" {idle} {me:>8.0f} {children:>8.0f}   {load()}"
    )


# "cpu s": CPU seconds the scan used (all processes); "cpu/core": that over the cores, the wall
# time the scan would take on an idle machine if it kept every core busy (a shared machine's
# wall time says more about the other users than about the scan)
HEADER = (
    f"{'run':<28} {'images':>6} {'wall s':>8} {'images/s':>9} {'ms/1000':>10}"
    f" {'cpu s':>7} {'cpu/core':>8} {'peak MiB':>8} {'workers':>8}"
)


def same_tables(a: Fleet, b: Fleet) -> bool:
    for t in TABLES:
        x, y = a.tables[t], b.tables[t]
        if t == "images":
            x, y = x.drop(columns=["seconds"]), y.drop(columns=["seconds"])
        try:
            pd.testing.assert_frame_equal(x, y)
        except AssertionError:
            return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default="/tmp/portablekit-bench-fleet", type=Path)
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--sizes", default="1000,5000,10000")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    one = {"systemd": (257,), "profiles": ("default",)}

    dirs = fleet(args.workdir, "dir10k", max(sizes), 0)
    raws = fleet(args.workdir, "raw1k", 1000, 1000)
    sites = sorted(p for p in dirs.iterdir() if p.name.startswith("site-"))

    print("\n== directory images: all tables, systemd 257, profile default, every core ==")
    print(HEADER)
    pool10k = None
    for n in sizes:
        sources = [str(p) for p in sites[: n // 100]]
        result, seconds = timed(sources, **one)
        print(row(f"directories {n // 1000}k", result, seconds), flush=True)
        if n == max(sizes):
            pool10k, pool_seconds, pool_cpu = result, seconds, CPU[0]

    print("\n== raw images (squashfs, ext4, EROFS, GPT): all tables, 257, default ==")
    print(HEADER)
    local_raw, local_seconds = timed(str(raws), **one)
    print(row("raw 1k, local files", local_raw, local_seconds), flush=True)
    kinds = (
        local_raw.images.assign(table=local_raw.images["table"].astype("string").fillna("-"))
        .groupby(["table", "fstype"], observed=True)
        .size()
        .to_dict()
    )
    print(f"  partition table, file system: {kinds}; unreadable rows: "
          f"{int(local_raw.images['error_type'].notna().sum())}")  # fmt: skip

    print("\n== the same raw images over HTTP (local server, Range requests) ==")
    print(HEADER)
    with serve(raws) as server:
        remote, remote_seconds = timed(server.url, **one)
        sent, requests = server.bytes_sent, server.requests
    print(row("raw 1k, HTTP", remote, remote_seconds), flush=True)
    read = remote.images.dropna(subset=["bytes_fetched"])
    print(
        f"  per image: {read['bytes_fetched'].mean() / 1024:.0f} KiB fetched on average, "
        f"{read['bytes_fetched'].max() / 1024:.0f} KiB at most (limit 512); "
        f"{read['requests'].mean():.1f} requests on average, {int(read['requests'].max())} at "
        "most, plus one HEAD each"
    )
    print(
        f"  server: {requests} requests, {sent / 2**20:.1f} MiB sent for "
        f"{read['size'].sum() / 2**20:.0f} MiB of images; wall time {remote_seconds:.2f} s vs "
        f"{local_seconds:.2f} s local ({remote_seconds / local_seconds:.2f}x)"
    )

    if not args.skip_dask and pool10k is not None:
        from distributed import Client, LocalCluster

        print("\n== Dask LocalCluster (process workers) vs the process pool, same images ==")
        print(HEADER)
        sources = [str(p) for p in sites[: max(sizes) // 100]]
        workers = os.cpu_count() or 1
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        with cluster, Client(cluster) as client:
            # workers up, and the kit imported in them, before the clock starts (the process
            # pool's workers are forked from this process, which has imported it)
            client.run(__import__, "portablekit.fleet.analyze")
            dask_result, dask_seconds = timed(sources, client=client, compute=True, **one)
        print(row("dask LocalCluster", dask_result, dask_seconds, cpu=0.0))
        print(row("process pool (above)", pool10k, pool_seconds, cpu=pool_cpu))
        print(
            f"  dask / pool: {dask_seconds / pool_seconds:.2f}x (target <= 1.5); identical tables:"
            f" {same_tables(dask_result, pool10k)}"
        )


if __name__ == "__main__":
    main()

"""Long fuzz run of the raw-image readers (outside the normal test run).

Mutates the seed images of ``tests/test_raw_fuzz.py`` (byte flips biased to metadata, runs of
random bytes, truncations, GPT/MBR mutations with fixed-up checksums) and reads each result
with the same harness, under a per-input time limit and an address-space limit: anything but a
portablekit error, a timeout or a memory blow-up is a bug. Prints how many inputs ran.

    python benchmarks/fuzz_raw.py [--seconds 600] [--seed 1] [--only squashfs,ext4,...]
"""

from __future__ import annotations

import argparse
import collections
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_raw_fuzz import SEEDS  # noqa: E402
from test_raw_support import DATA, exercise, make_tree  # noqa: E402


def rich_seeds() -> dict[str, bytes]:
    """Larger seeds with deeper structures: the committed EROFS fixtures (lzma, zstd,
    deflate, fragments) and, when the tools are installed, images of the full test tree
    (hash-tree directory, deep extent tree, fragments, directory index, big pclusters)."""
    from portablekit.samples.raw import MissingToolError, build_erofs, build_ext4, build_squashfs

    seeds = {f"fixture-{p.stem}": p.read_bytes() for p in sorted(DATA.glob("*.erofs"))}
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-raw-"))
    tree = make_tree(tmp / "tree", big=False)
    try:
        seeds["rich-squashfs-xz"] = build_squashfs(tree, tmp / "s", compression="xz").read_bytes()
        seeds["rich-ext4-1k"] = build_ext4(tree, tmp / "e", block_size=1024).read_bytes()
        seeds["rich-ext4-blockmap"] = build_ext4(
            tree, tmp / "b", features=["^extents", "^64bit"]
        ).read_bytes()
        seeds["rich-erofs-lz4hc"] = build_erofs(
            tree, tmp / "r", compression="lz4hc", extra_args=["-C16384"]
        ).read_bytes()
    except MissingToolError as e:
        print(f"(some rich seeds skipped: {e})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return seeds


PER_INPUT_SECONDS = 5
MEMORY_LIMIT = 2 << 30  # the fuzzer itself needs ~100 MiB; a runaway allocation hits this


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Timeout


def fix_gpt(data: bytearray) -> None:
    """Recompute the primary GPT header and entry CRCs so mutations reach the partitions."""
    if data[512:520] != b"EFI PART" or len(data) < 2048:
        return
    import struct

    lba, n, size = struct.unpack_from("<QII", data, 512 + 72)
    if n * size > 1 << 20 or lba * 512 + n * size > len(data):
        return
    crc = zlib.crc32(bytes(data[lba * 512 : lba * 512 + n * size]))
    struct.pack_into("<I", data, 512 + 88, crc)
    hsize = struct.unpack_from("<I", data, 512 + 12)[0]
    if not 92 <= hsize <= 512:
        return
    struct.pack_into("<I", data, 512 + 16, 0)
    struct.pack_into("<I", data, 512 + 16, zlib.crc32(bytes(data[512 : 512 + hsize])))


def mutate(rnd: random.Random, seed: bytes, name: str) -> bytes:
    data = bytearray(seed)
    n = len(data)
    for _ in range(rnd.choice((1, 1, 2, 3, 5, 10, 30))):
        op = rnd.random()
        r = rnd.random()  # metadata sits near the start: superblocks, tables, inodes
        pos = rnd.randrange(min(n, 8192 if r < 0.5 else 65536 if r < 0.8 else n))
        if op < 0.6:
            data[pos] = rnd.randrange(256)
        elif op < 0.8:
            data[pos] ^= 1 << rnd.randrange(8)
        elif op < 0.9:
            for i in range(pos, min(n, pos + rnd.randrange(1, 64))):
                data[i] = rnd.randrange(256)
        else:  # an interesting value in a little-endian field
            val = rnd.choice((0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0xFFFFFFFF, n, n * 8)).to_bytes(
                8, "little"
            )
            data[pos : pos + 4] = val[:4]
    if name == "gpt" and rnd.random() < 0.7:
        fix_gpt(data)
    if rnd.random() < 0.1:
        del data[rnd.randrange(n) :]
    elif rnd.random() < 0.01:
        del data[rnd.randrange(64) :]  # almost nothing left
    return bytes(data[:n]) if len(data) > n else bytes(data)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="")
    ap.add_argument("--no-rich", action="store_true", help="only the small seeds")
    args = ap.parse_args()
    seeds = dict(SEEDS)
    if not args.no_rich:
        seeds.update(rich_seeds())
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    signal.signal(signal.SIGALRM, _alarm)
    rnd = random.Random(args.seed)
    names = args.only.split(",") if args.only else list(seeds)
    counts: dict[str, collections.Counter[str]] = {n: collections.Counter() for n in names}
    failures = []
    slowest = 0.0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        name = rnd.choice(names)
        data = mutate(rnd, seeds[name], name)
        signal.alarm(PER_INPUT_SECONDS)
        t0 = time.perf_counter()
        try:
            outcome = exercise(data)
        except Timeout:
            outcome = "TIMEOUT"
        except MemoryError:
            outcome = "MEMORY"
        except Exception:
            outcome = "CRASH"
            failures.append((name, traceback.format_exc(), data))
        finally:
            signal.alarm(0)
        slowest = max(slowest, time.perf_counter() - t0)
        counts[name][outcome] += 1
        if outcome in ("TIMEOUT", "MEMORY"):
            failures.append((name, outcome, data))
    total = sum(sum(c.values()) for c in counts.values())
    print(f"{total} inputs in {args.seconds:.0f} s (slowest input {slowest * 1000:.0f} ms)")
    for name, c in counts.items():
        print(
            f"  {name:28} {sum(c.values()):7}  "
            + "  ".join(f"{k} {v}" for k, v in sorted(c.items()))
        )
    keep = Path(tempfile.mkdtemp(prefix="fuzz-raw-failures-")) if failures else None
    for name, what, data in failures[:5]:
        assert keep is not None
        out = keep / f"{name}-{zlib.crc32(data):08x}.raw"
        out.write_bytes(data)
        print(f"FAILURE ({name}, saved as {out}):\n{what}")
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

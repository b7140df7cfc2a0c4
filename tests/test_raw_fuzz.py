"""Property tests: mutated and truncated images never crash a reader, hang or run away.

Each reader gets a few seconds of hypothesis examples in the normal run (byte flips biased
towards the metadata at the start of the image, and truncations); ``benchmarks/fuzz_raw.py``
runs the same harness for much longer. Only :class:`~portablekit.errors.PortableKitError`
subclasses may escape; a per-example deadline catches hangs.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_raw_support import DATA, craft_gpt, craft_mbr, exercise, tiny

from portablekit.samples.raw import gpt_type

pytestmark = pytest.mark.slow

SEEDS = {
    "squashfs": tiny("a"),
    "ext4": tiny("a", "ext4"),
    "erofs": tiny("a", "erofs"),
    "erofs-lz4": tiny("a", "lz4.erofs"),
    "erofs-lzma": (DATA / "lzma-frag.erofs").read_bytes(),
    "gpt": bytes(
        craft_gpt(
            [
                (str(gpt_type("root")), "root", 0, tiny("a")),
                (str(gpt_type("usr")), "usr", 0, tiny("usr")),
            ]
        )
    ),
    "mbr": bytes(craft_mbr([(0x83, 0x80, tiny("b"))])),
}
FUZZ = settings(
    max_examples=800,
    deadline=timedelta(seconds=3),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    n = len(data)
    for _ in range(draw(st.integers(1, 12))):
        # mostly the first 8 KiB: superblocks, inode tables, directory blocks, GPT
        pos = draw(
            st.one_of(
                st.integers(0, min(n, 8192) - 1),
                st.integers(0, min(n, 65536) - 1),
                st.integers(0, n - 1),
            )
        )
        data[pos] = draw(st.integers(0, 255))
    if draw(st.booleans()) and draw(st.integers(0, 3)) == 0:
        del data[draw(st.integers(0, n - 1)) :]
    return bytes(data)


def _fuzz(name: str) -> None:
    @FUZZ
    @given(mutated(SEEDS[name]))
    def run(data: bytes) -> None:
        exercise(data)

    run()


def test_seeds_are_read_whole() -> None:
    for name, data in SEEDS.items():
        assert exercise(data) == "ok", name


def test_fuzz_squashfs() -> None:
    _fuzz("squashfs")


def test_fuzz_ext4() -> None:
    _fuzz("ext4")


def test_fuzz_erofs() -> None:
    _fuzz("erofs")


def test_fuzz_erofs_compressed() -> None:
    _fuzz("erofs-lz4")


def test_fuzz_erofs_lzma_fragments() -> None:
    _fuzz("erofs-lzma")


def test_fuzz_partition_tables() -> None:
    _fuzz("gpt")
    _fuzz("mbr")


@FUZZ
@given(st.binary(max_size=4096))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    assert exercise(data) == "refused"

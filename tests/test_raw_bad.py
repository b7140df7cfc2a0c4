"""Bad input: each broken structure gives a typed error naming the image and the structure."""

from __future__ import annotations

import contextlib
import io
import struct
import zlib
from pathlib import Path, PurePosixPath

import pytest
from test_raw_support import craft_gpt, need, tiny

from portablekit.errors import CorruptImageError, PortableKitError, UnsupportedImageError
from portablekit.raw import NoPartitionTableError, open_raw_image
from portablekit.raw._io import Reader
from portablekit.raw.compress import decompress, lz4_block, microlzma
from portablekit.raw.erofs import ErofsSource
from portablekit.raw.ext4 import Ext4Source
from portablekit.raw.squashfs import SquashfsSource
from portablekit.samples.raw import build_ext4, gpt_type


def reader(data: bytes | bytearray) -> Reader:
    return Reader(io.BytesIO(bytes(data)), label="bad.raw")


def read_all(data: bytes | bytearray) -> None:
    with open_raw_image(io.BytesIO(bytes(data)), label="bad.raw") as img:
        for path, st in img.source.walk():
            if st.kind.value == "file":
                img.source.read_bytes(path)


@pytest.mark.parametrize("kind", ["squashfs", "ext4", "erofs", "lz4.erofs"])
def test_truncated_images(kind: str) -> None:
    data = tiny("a", kind)
    # squashfs pads its image to 4 KiB: only cuts into the bytes it uses matter
    used = struct.unpack_from("<Q", data, 40)[0] if kind == "squashfs" else len(data)
    # and into the superblock itself (squashfs' is at 0, ext4's and EROFS's at 1024)
    for cut in (used // 2, used - 1, 60 if kind == "squashfs" else 1500):
        with pytest.raises(CorruptImageError) as e:
            read_all(data[:cut])
        assert e.value.image == "bad.raw"
        assert "superblock" in e.value.structure and "truncated" in str(e.value)
    with pytest.raises(NoPartitionTableError):  # not even a magic number left
        read_all(data[:3])


def test_truncated_partition() -> None:
    disk = craft_gpt([(str(gpt_type("root")), "r", 0, tiny("a"))])
    with pytest.raises(CorruptImageError) as e:  # the backup GPT is gone with the tail
        read_all(disk[: 64 << 10 | 100])
    assert e.value.image == "bad.raw" and e.value.structure


@pytest.mark.parametrize(
    ("cls", "kind", "offset"),
    [(SquashfsSource, "squashfs", 0), (Ext4Source, "ext4", 1080), (ErofsSource, "erofs", 1024)],
)
def test_wrong_magic(cls: type, kind: str, offset: int) -> None:
    data = bytearray(tiny("a", kind))
    data[offset] ^= 0xFF
    with pytest.raises(CorruptImageError) as e:
        cls(reader(data))
    assert "bad magic" in str(e.value) and e.value.structure.endswith("superblock")
    with pytest.raises(NoPartitionTableError):  # not recognised as a file system at all
        read_all(data)


def test_corrupt_superblocks() -> None:
    sq = bytearray(tiny("a"))
    struct.pack_into("<I", sq, 12, 12345)  # block size
    with pytest.raises(CorruptImageError, match="block size"):
        SquashfsSource(reader(sq))
    e4 = bytearray(tiny("a", "ext4"))
    struct.pack_into("<I", e4, 1024 + 40, 0)  # inodes per group
    with pytest.raises(CorruptImageError, match="geometry"):
        Ext4Source(reader(e4))
    er = bytearray(tiny("a", "erofs"))
    er[1024 + 12] = 40  # block size bits
    with pytest.raises(CorruptImageError, match="block size"):
        ErofsSource(reader(er))
    er = bytearray(tiny("a", "erofs"))
    struct.pack_into("<I", er, 1024 + 80, 1 << 20)  # an unknown incompatible feature
    with pytest.raises(UnsupportedImageError, match="unknown EROFS features"):
        ErofsSource(reader(er))


def test_corrupt_inodes() -> None:
    data = bytearray(tiny("a", "ext4"))
    src = Ext4Source(reader(data))
    ino = src._walk(PurePosixPath("/usr/lib/os-release")).ident
    group, index = divmod(ino - 1, src.inodes_per_group)
    pos = src._inode_table(group) * src.block_size + index * src.inode_size
    struct.pack_into("<H", data, pos, 0o070644)  # no such file type
    with pytest.raises(CorruptImageError) as e:
        Ext4Source(reader(data)).read_file("/usr/lib/os-release")
    assert e.value.structure == f"ext4 inode {ino}" and "file type" in str(e.value)

    data = bytearray(tiny("a", "erofs"))
    src2 = ErofsSource(reader(data))
    node = src2._walk(PurePosixPath("/usr/lib/os-release"))
    data[node.pos] = (data[node.pos] & 1) | (7 << 1)  # data layout 7
    with pytest.raises(CorruptImageError, match="data layout"):
        ErofsSource(reader(data)).read_file("/usr/lib/os-release")


def test_corrupt_directory_blocks() -> None:
    data = bytearray(tiny("a", "ext4"))
    src = Ext4Source(reader(data))
    node = src._walk(PurePosixPath("/usr/lib/systemd/system"))
    (_, phys, _), *_ = src._runs(node, 0, 0)
    at = data.index(b"tiny.service", phys * src.block_size)
    struct.pack_into("<H", data, at - 4, 3)  # rec_len 3
    with pytest.raises(CorruptImageError) as e:
        Ext4Source(reader(data)).listdir(PurePosixPath("/usr/lib/systemd/system"))
    assert e.value.structure == f"ext4 directory {node.ident}" and "invalid entry" in str(e.value)

    data = bytearray(tiny("a", "erofs"))
    dnode = ErofsSource(reader(data))._walk(PurePosixPath("/usr/lib/systemd/system"))
    assert dnode.layout == 2 and dnode.size < 4096  # one block, tail-packed after the inode
    struct.pack_into("<H", data, dnode.tail + 8, 7)  # first name offset not a multiple of 12
    with pytest.raises(CorruptImageError, match="name offset"):
        ErofsSource(reader(data)).listdir(PurePosixPath("/usr/lib/systemd/system"))


def test_directory_cycle() -> None:
    data = bytearray(tiny("a", "ext4"))
    src = Ext4Source(reader(data))
    usr = src._walk(PurePosixPath("/usr")).ident
    lib = src._walk(PurePosixPath("/usr/lib"))
    (_, phys, _), *_ = src._runs(lib, 0, 0)
    at = data.index(b"systemd", phys * src.block_size)
    struct.pack_into("<I", data, at - 8, usr)  # /usr/lib/systemd is /usr again
    with pytest.raises(CorruptImageError, match="directory cycle"):
        read_all(data)


def test_extent_tree_cycle(tmp_path: Path) -> None:
    need("mkfs.ext4")
    t = tmp_path / "t"
    t.mkdir()
    with open(t / "holes", "wb") as f:
        for i in range(0, 400, 2):
            f.seek(i * 4096)
            f.write(b"x" * 4096)
    img = build_ext4(t, tmp_path / "e.raw", size=8 << 20)
    data = bytearray(img.read_bytes())
    src = Ext4Source(reader(data))
    node = src._walk(PurePosixPath("/holes"))
    assert struct.unpack_from("<H", node.block, 6)[0] == 1  # depth 1: an index in the inode
    (leaf_lo,) = struct.unpack_from("<I", node.block, 12 + 4)
    leaf = leaf_lo * src.block_size
    # the leaf becomes an index node whose only child is itself
    struct.pack_into("<HHHH", data, leaf, 0xF30A, 1, 340, 1)
    struct.pack_into("<IIH", data, leaf + 12, 0, leaf_lo, 0)
    with pytest.raises(CorruptImageError) as e:
        Ext4Source(reader(data)).read_file("/holes")
    assert "cycle" in str(e.value) and "extent tree" in e.value.structure


def test_decompression_bombs() -> None:
    bomb = zlib.compress(bytes(1 << 20))
    with pytest.raises(CorruptImageError) as e:
        decompress("gzip", bomb, 8192, image="bad.raw", structure="squashfs metadata block at 96")
    assert "more than the 8192 bytes" in str(e.value) and e.value.image == "bad.raw"
    # 1 literal "A", then a match repeating it 4 + 15 + 255 + 255 + 255 bytes
    lz4_bomb = bytes([0x1F, 0x41, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x40])
    with pytest.raises(CorruptImageError):
        decompress("lz4", lz4_bomb, 64, image="bad.raw", structure="block")
    from portablekit.raw.compress import _lz4_pure

    with pytest.raises(OverflowError):
        _lz4_pure(lz4_bomb, 64, False)
    assert _lz4_pure(lz4_bomb, 64, True) == b"A" * 64
    with pytest.raises(CorruptImageError, match="expected 10"):
        decompress("gzip", zlib.compress(b"x" * 9), 100, image="i", structure="s", exact=10)


def test_compressors_against_the_reference_libraries() -> None:
    import lzma

    import lz4.block

    text = b"portable service images " * 500 + bytes(range(256)) * 4
    packed = lz4.block.compress(text, store_size=False)
    assert lz4_block(packed, len(text)) == text
    assert lz4_block(packed, 100, partial=True) == text[:100]
    from portablekit.raw.compress import _lz4_pure

    assert _lz4_pure(packed, len(text), False) == text
    raw = lzma.compress(text, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1}])
    props = 3 + 9 * (0 + 5 * 2)  # lc=3, lp=0, pb=2: liblzma's defaults
    micro = bytes([~props & 0xFF]) + raw[1:]
    assert microlzma(micro, len(text)) == text


def test_unexpected_exceptions_never_escape() -> None:
    # a sample of structural damage across all seeds; only portablekit errors may come out
    for kind in ("squashfs", "ext4", "erofs", "lz4.erofs"):
        seed = tiny("a", kind)
        for pos in range(0, min(len(seed), 12288), 97):
            data = bytearray(seed)
            data[pos] ^= 0x5A
            with contextlib.suppress(PortableKitError):
                read_all(data)


def _xz_asking_for_4gib(text: bytes) -> bytes:
    """An xz stream of ``text`` whose block header declares a 4 GiB LZMA2 dictionary."""
    import lzma

    data = bytearray(
        lzma.compress(
            text,
            format=lzma.FORMAT_XZ,
            check=lzma.CHECK_CRC32,
            filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 20}],
        )
    )
    start = 12  # after the stream header
    size = (data[start] + 1) * 4
    header = data[start : start + size - 4]
    # the filter flags end the header, before the padding: ID 0x21, one byte of properties
    at = bytes(header).index(b"\x21\x01", 2) + 2
    header[at] = 40  # dictionary 4 GiB - 1
    data[start : start + size - 4] = header
    data[start + size - 4 : start + size] = struct.pack("<I", zlib.crc32(header))
    return bytes(data)


def test_lzma_header_asking_for_a_huge_dictionary_is_refused() -> None:
    # The decoder allocates the dictionary its header declares before reading a byte: under an
    # address-space limit 4 GiB was a MemoryError. Run where the memory is limited, as a user
    # may run it; the block is refused by name instead.
    import lzma
    import subprocess
    import sys

    text = b"[Service]\nExecStart=/bin/true\n" * 20
    alone = bytearray(lzma.compress(text, format=lzma.FORMAT_ALONE))
    alone[1:5] = struct.pack("<I", 0xFFFFFFFF)
    program = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from portablekit.errors import CorruptImageError\n"
        "from portablekit.raw.compress import decompress\n"
        "for codec, hexdata in zip(sys.argv[1::2], sys.argv[2::2]):\n"
        "    try:\n"
        "        decompress(codec, bytes.fromhex(hexdata), 8192, image='bad.raw',\n"
        "                   structure='squashfs metadata block at 96')\n"
        "    except CorruptImageError as e:\n"
        "        print(e)\n"
    )
    args = ["lzma", bytes(alone).hex(), "xz", _xz_asking_for_4gib(text).hex()]
    run = subprocess.run(
        [sys.executable, "-c", program, *args], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 2, run.stdout
    for codec, line in zip(("lzma", "xz"), lines, strict=True):
        assert line.startswith(f"bad.raw: squashfs metadata block at 96: {codec} data")
        assert "more memory than a block of this image can need" in line


def test_lzma_dictionary_up_to_the_block_size_decodes() -> None:
    # mksquashfs gives xz and lzma a dictionary as large as the block size, metadata included
    import lzma

    text = b"portable " * 900
    for fmt, codec, filt in (
        (lzma.FORMAT_XZ, "xz", lzma.FILTER_LZMA2),
        (lzma.FORMAT_ALONE, "lzma", lzma.FILTER_LZMA1),
    ):
        packed = lzma.compress(text, format=fmt, filters=[{"id": filt, "dict_size": 1 << 20}])
        out = decompress(codec, packed, 8192, image="i", structure="s", window=1 << 20)
        assert out == text
        with pytest.raises(CorruptImageError, match="more memory than a block"):
            decompress(codec, packed, 8192, image="i", structure="s", window=128 << 10)

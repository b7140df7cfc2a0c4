"""GPT/MBR parsing and portabled's partition choice, on hand-made tables (no tools needed)."""

from __future__ import annotations

import io
import json
import struct
from pathlib import PurePosixPath

import pytest
from test_raw_support import craft_gpt, craft_mbr, tiny

from portablekit.errors import CorruptImageError, PortabledError
from portablekit.raw import (
    CorruptPartitionTableError,
    Designator,
    MountError,
    MultipleRootsError,
    NoPartitionTableError,
    NoRootError,
    NoRootForRootHashError,
    RawImage,
    VeritySignatureError,
    detect,
    open_raw_image,
)
from portablekit.raw.table import FLAG_GROWFS, FLAG_NO_AUTO, FLAG_READ_ONLY
from portablekit.samples.raw import gpt_type
from portablekit.versions import Systemd

PATH = "/var/lib/portables/x.raw"


def root(arch: str = "x86-64") -> str:
    return str(gpt_type("root", arch))


def usr(arch: str = "x86-64") -> str:
    return str(gpt_type("usr", arch))


def pretty(img: RawImage) -> str:
    src = img.source
    path = "/etc/os-release" if src.exists("/etc/os-release") else "/usr/lib/os-release"
    text = src.read_file(path).decode()
    return next(line for line in text.splitlines() if line.startswith("PRETTY_NAME=")).split('"')[1]


def open_bytes(data: bytes | bytearray, **kw: object) -> RawImage:
    return open_raw_image(io.BytesIO(bytes(data)), label="x.raw", **kw)  # type: ignore[arg-type]


def test_single_root_partition() -> None:
    img = open_bytes(craft_gpt([(root(), "root-x86-64", 0, tiny("a"))]))
    assert pretty(img) == "Tiny A"
    assert (img.table, img.fstype, img.designator) == ("gpt", "squashfs", Designator.ROOT)
    p = img.partition
    assert (p.number, p.label, p.flags, p.arch, p.rw) == (1, "root-x86-64", 0, "x86-64", False)
    assert p.partition is not None and str(p.partition.type_uuid) == root()
    assert p.offset == 64 << 10 and p.size == 64 << 10
    assert img.partitions[0].type_name == "root-x86-64"
    assert img.image_policy == "root=read-only-on+growfs-off+squashfs:=absent"


@pytest.mark.parametrize(
    ("arch", "expected"),
    [
        ("x86-64", "Tiny C"),
        ("x86", "Tiny B"),
        ("arm64", "Tiny A"),
        ("arm", "Tiny C"),
        ("riscv64", "Tiny C"),
    ],
)
def test_architecture_preference(arch: str, expected: str) -> None:
    # native, then secondary (x86 on x86-64, arm on arm64), then any other: among "other"
    # architectures the highest label wins (here "c")
    disk = craft_gpt(
        [
            (root("arm64"), "a", 0, tiny("a")),
            (root("x86"), "b", 0, tiny("b")),
            (root(), "c", 0, tiny("c")),
        ]
    )
    assert pretty(open_bytes(disk, arch=arch)) == expected


def test_secondary_beats_other_on_x86_64() -> None:
    disk = craft_gpt([(root("arm64"), "z", 0, tiny("a")), (root("x86"), "a", 0, tiny("b"))])
    img = open_bytes(disk)
    assert pretty(img) == "Tiny B" and img.partition.arch == "x86"


def test_highest_label_by_version_and_first_on_a_tie() -> None:
    disk = craft_gpt([(root(), "root-1.2", 0, tiny("a")), (root(), "root-1.10", 0, tiny("b"))])
    assert pretty(open_bytes(disk)) == "Tiny B"
    disk = craft_gpt([(root(), "same", 0, tiny("a")), (root(), "same", 0, tiny("b"))])
    assert pretty(open_bytes(disk)) == "Tiny A"


def test_no_auto_root_is_ignored_and_a_single_generic_partition_is_root() -> None:
    disk = craft_gpt(
        [(root(), "r", 1 << 63, tiny("a")), (str(gpt_type("generic")), "data", 0, tiny("b"))]
    )
    img = open_bytes(disk)
    assert pretty(img) == "Tiny B" and img.partition.number == 2 and img.partition.arch is None


def test_refusals_with_portabled_messages() -> None:
    generic = str(gpt_type("generic"))
    nopt = (
        "Couldn't identify a suitable partition table or file system in '/var/lib/portables/x.raw'."
    )
    cases = [
        (craft_gpt([(generic, "1", 0, tiny("a")), (generic, "2", 0, tiny("b"))]),
         MultipleRootsError,
         "Multiple suitable root partitions found in image '/var/lib/portables/x.raw'."),
        (craft_gpt([(str(gpt_type("esp", None)), "esp", 0, b"")]), NoRootError,
         "No suitable root partition found in image '/var/lib/portables/x.raw'."),
        (craft_gpt([(root(), "r", FLAG_NO_AUTO, tiny("a"))]), NoRootError,
         "No suitable root partition found in image '/var/lib/portables/x.raw'."),
        (bytes(range(256)) * 64, NoPartitionTableError, nopt),
        (b"", NoPartitionTableError, nopt),
    ]  # fmt: skip
    for data, cls, message in cases:
        with pytest.raises(cls) as e:
            open_bytes(data)
        assert e.value.portabled_message(PATH) == message
        err = e.value.to_portabled_error(PATH)
        assert isinstance(err, PortabledError) and err.message == message
        assert err.dbus_error == "org.freedesktop.DBus.Error.InvalidArgs"


def test_usr_only_image() -> None:
    disk = craft_gpt([(usr(), "usr-x86-64", 0, tiny("usr"))])
    img = open_bytes(disk)
    assert img.designator is Designator.USR and img.source.listdir(PurePosixPath("/")) == ["usr"]
    assert img.source.read_file("/usr/lib/os-release").endswith(b'"Tiny Usr"\n')
    assert img.image_policy == "usr=read-only-on+growfs-off+squashfs:=absent"
    with pytest.raises(MountError) as e:  # 252 finds it but mounts nothing
        open_bytes(disk, systemd=Systemd(252))
    assert e.value.portabled_message(PATH) == f"Image '{PATH}' lacks os-release data, refusing."


def test_root_with_usr_mounted() -> None:
    img = open_bytes(craft_gpt([(root(), "r", 0, tiny("a")), (usr(), "u", 0, tiny("usr"))]))
    assert pretty(img) == "Tiny Usr"  # /etc/os-release -> ../usr/lib/os-release on the usr fs
    assert img.source.is_file("/usr/lib/systemd/system/tiny.service")
    assert set(img.used) == {Designator.ROOT, Designator.USR}


def test_root_and_usr_of_different_architectures() -> None:
    disk = craft_gpt([(root(), "r", 0, tiny("a")), (usr("arm64"), "u", 0, tiny("usr"))])
    assert pretty(open_bytes(disk, systemd=Systemd(252))) == "Tiny A"  # the /usr is ignored
    with pytest.raises(NoRootForRootHashError) as e:
        open_bytes(disk, systemd=Systemd(257))
    assert e.value.portabled_message(PATH).startswith("No root partition for specified root hash")
    with pytest.raises(NoRootForRootHashError) as e:
        open_bytes(disk, systemd=Systemd(262))
    assert e.value.portabled_message(PATH) == "Object is remote"
    assert e.value.dbus_error == "System.Error.EREMOTE"


def test_verity_partitions() -> None:
    verity, sig = str(gpt_type("root-verity")), str(gpt_type("root-verity-sig"))
    disk = craft_gpt([(verity, "v", 0, b"")])
    with pytest.raises(NoRootError):  # 257 does not load verity settings
        open_bytes(disk, systemd=Systemd(257))
    with pytest.raises(NoRootForRootHashError):
        open_bytes(disk, systemd=Systemd(262))
    disk = craft_gpt([(root(), "r", 0, tiny("a")), (verity, "v", 0, b"")])
    img = open_bytes(disk, systemd=Systemd(262))
    assert [p.type_name for p in img.verity] == ["root-x86-64-verity"]
    assert img.image_policy == (
        "root=verity+read-only-on+growfs-off+squashfs:root-verity=read-only-on+growfs-off:=absent"
    )
    assert [p.type_name for p in open_bytes(disk).verity] == ["root-x86-64-verity"]  # 257 too
    zeros = craft_gpt([(root(), "r", 0, tiny("a")), (verity, "v", 0, b""), (sig, "s", 0, b"")])
    with pytest.raises(VeritySignatureError) as e:
        open_bytes(zeros, systemd=Systemd(262))
    assert e.value.portabled_message(PATH) == "No data available"
    assert pretty(open_bytes(zeros, systemd=Systemd(257))) == "Tiny A"
    blob = json.dumps({"rootHash": "00" * 32, "signature": "MIIB"}).encode()
    signed = craft_gpt([(root(), "r", 0, tiny("a")), (verity, "v", 0, b""), (sig, "s", 0, blob)])
    assert open_bytes(signed, systemd=Systemd(262)).image_policy.startswith(
        "root=signed+read-only-on+growfs-off+squashfs:"
    )


def test_gpt_flags_in_the_policy() -> None:
    img = open_bytes(craft_gpt([(root(), "r", FLAG_READ_ONLY | FLAG_GROWFS, tiny("a"))]))
    assert img.image_policy == "root=read-only-on+growfs-on+squashfs:=absent"


def test_mbr_rules() -> None:
    img = open_bytes(craft_mbr([(0x83, 0x80, tiny("a"))]))
    assert (img.table, pretty(img), img.partition.number) == ("dos", "Tiny A", 1)
    assert img.image_policy == "root=read-only-on+growfs-off+squashfs:=absent"
    assert img.partitions[0].type_name == "0x83" and img.partitions[0].bootable
    with pytest.raises(MultipleRootsError):
        open_bytes(craft_mbr([(0x83, 0x80, tiny("a")), (0x83, 0x80, tiny("b"))]))
    with pytest.raises(NoRootError):
        open_bytes(craft_mbr([(0x83, 0x00, tiny("a"))]))
    with pytest.raises(NoRootError):
        open_bytes(craft_mbr([(0x0C, 0x80, tiny("a"))]))
    # a boot indicator other than 0x00/0x80 is not an MBR at all (libblkid)
    with pytest.raises(NoPartitionTableError):
        open_bytes(craft_mbr([(0x83, 0x81, tiny("a"))]))


def test_mbr_logical_partitions_and_a_looping_chain() -> None:
    disk = craft_mbr([(0x05, 0, b""), (0x83, 0x80, tiny("b"))])
    ext_start = 128  # an EBR pointing at itself as the next EBR
    disk[ext_start * 512 + 446 : ext_start * 512 + 462] = struct.pack(
        "<B3xB3xII", 0x80, 0x83, 8, 16
    )
    disk[ext_start * 512 + 462 : ext_start * 512 + 478] = struct.pack("<B3xB3xII", 0, 0x05, 0, 64)
    disk[ext_start * 512 + 510 : ext_start * 512 + 512] = b"\x55\xaa"
    with pytest.raises(MultipleRootsError):  # partitions 2 and 5 are both bootable Linux
        open_bytes(disk)
    img_table = __import__("portablekit.raw.table", fromlist=["read_table"])
    reader = __import__("portablekit.raw._io", fromlist=["Reader"]).Reader(io.BytesIO(bytes(disk)))
    numbers = [p.number for p in img_table.read_table(reader).partitions]
    assert numbers == [1, 5, 2]


def test_damaged_gpt() -> None:
    good = craft_gpt([(root(), "r", 0, tiny("a"))])
    primary = bytearray(good)
    primary[512 + 16] ^= 0xFF  # header CRC
    img = open_bytes(primary)
    assert pretty(img) == "Tiny A" and img.dissection.table is not None
    assert img.dissection.table.used_backup
    both = bytearray(primary)
    both[len(both) - 512 + 16] ^= 0xFF
    with pytest.raises(CorruptPartitionTableError) as e:
        open_bytes(both)
    assert isinstance(e.value, CorruptImageError) and isinstance(e.value, NoPartitionTableError)
    assert e.value.image == "x.raw" and e.value.structure == "GPT header"
    assert e.value.portabled_message(PATH).startswith(
        "Couldn't identify a suitable partition table"
    )
    entries = bytearray(good)
    entries[2 * 512 + 56] ^= 1  # a name byte: entries CRC (both copies share the array bytes)
    entries[len(entries) - 33 * 512 + 56] ^= 1
    with pytest.raises(CorruptPartitionTableError):
        open_bytes(entries)


def test_overlapping_partitions() -> None:
    disk = craft_gpt(
        [(root(), "r", 0, tiny("a")), (str(gpt_type("generic")), "g", 0, b"")], starts=[128, 160]
    )
    img = open_bytes(disk)  # portabled accepts overlaps (recorded)
    assert img.dissection.table is not None and img.dissection.table.overlaps == ((1, 2),)
    with pytest.raises(CorruptPartitionTableError) as e:
        open_bytes(disk, strict=True)
    assert "overlap" in str(e.value) and e.value.structure == "partition table"


def test_4k_sectors() -> None:
    img = open_bytes(craft_gpt([(root(), "r", 0, tiny("c"))], sector=4096))
    assert pretty(img) == "Tiny C"
    assert img.dissection.table is not None and img.dissection.table.sector_size == 4096


def test_other_partitions_are_mounted_where_the_tree_has_their_directory() -> None:
    home, srv = str(gpt_type("home", None)), str(gpt_type("srv", None))
    img = open_bytes(craft_gpt([(root(), "r", 0, tiny("a")), (home, "h", 0, tiny("b"))]))
    assert img.source.read_file("/home/usr/lib/os-release").endswith(b'"Tiny B"\n')
    assert img.image_policy.startswith("root=read-only-on+growfs-off+squashfs:home=read-only-on")
    disk = craft_gpt([(root(), "r", 0, tiny("a")), (srv, "s", 0, tiny("b"))])  # no /srv
    with pytest.raises(MountError) as e:
        open_bytes(disk, systemd=Systemd(262))
    assert e.value.portabled_message(PATH) == "No such file or directory"
    with pytest.raises(MountError) as e:
        open_bytes(disk, systemd=Systemd(257))
    assert e.value.portabled_message(PATH) == f"Image '{PATH}' lacks os-release data, refusing."


def test_partition_without_file_system() -> None:
    disk = craft_gpt([(root(), "r", 0, b"")])
    with pytest.raises(MountError) as e:
        open_bytes(disk, systemd=Systemd(262))
    assert e.value.portabled_message(PATH) == "Address family not supported by protocol"


def test_detect() -> None:
    assert detect(io.BytesIO(tiny("a"))) == "squashfs"
    assert detect(io.BytesIO(bytes(craft_gpt([(root(), "r", 0, b"")])))) == "gpt"
    assert detect(io.BytesIO(bytes(craft_mbr([(0x83, 0x80, b"")])))) == "dos"
    assert detect(io.BytesIO(bytes(8192))) is None


def test_unknown_architecture_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown architecture"):
        open_bytes(tiny("a"), arch="vax")

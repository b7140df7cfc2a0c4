"""The ELF header reader (portablekit.check.elf) and the loader/architecture checks built on it."""

from __future__ import annotations

import struct
from pathlib import PurePosixPath

from check_support import ARCH, one, serious

from portablekit.check.findings import Rule
from portablekit.check.image import check_image
from portablekit.samples import SAMPLES
from portablekit.source import MemorySource, Symlink

# -- ELF -----------------------------------------------------------------------------------------


def _elf32_be(interp: str, machine: int = 22) -> bytes:
    """A 32-bit big-endian ELF header (s390 by default) with one PT_INTERP."""
    raw = interp.encode() + b"\0"
    header = struct.pack(
        ">4sBBBBB7xHHIIIIIHHHHHH", b"\x7fELF", 1, 2, 1, 0, 0, 2, machine, 1, 0, 52, 0, 0, 52,
        32, 1, 0, 0, 0,
    )  # fmt: skip
    phdr = struct.pack(">IIIIIIII", 3, 84, 0, 0, len(raw), len(raw), 4, 1)
    return header + phdr + raw


def test_loader_found_through_links_inside_the_image() -> None:
    from portablekit.samples.data import _elf

    tree = dict(SAMPLES["minimal"].files)
    tree["usr/bin/app"] = _elf("/lib64/ld-linux-x86-64.so.2")
    tree["lib64"] = Symlink("usr/lib64")  # merged /usr
    tree["usr/lib64/ld-linux-x86-64.so.2"] = Symlink("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
    tree["lib"] = Symlink("usr/lib")
    tree["usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"] = b"\x7fELF..."
    modes = {"usr/bin/app": 0o755}
    src = MemorySource(tree, modes=modes)
    assert serious(check_image(src, "minimal", host_arch=ARCH)) == set()
    # the last link dangles: the finding says where it leads
    del tree["usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"]
    f = one(check_image(MemorySource(tree, modes=modes), "minimal", host_arch=ARCH),
            Rule.DYNAMIC_LOADER)  # fmt: skip
    assert f.message.endswith(
        "but /lib64/ld-linux-x86-64.so.2 is a symlink to "
        "'/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', which does not exist in the image; it "
        "cannot start"
    )


def test_elf_headers_of_other_kinds() -> None:
    tree = dict(SAMPLES["minimal"].files)
    tree["usr/bin/s390-tool"] = _elf32_be("/lib/ld.so.1")
    tree["usr/bin/not-elf"] = b"\x7fELF" + b"\xff" * 60  # bad class: ignored
    tree["usr/bin/truncated"] = b"\x7fELF\x02\x01" + b"\0" * 50
    tree["usr/bin/data.bin"] = b"\x7fELF" * 20  # not executable: not read
    tree["usr/libexec/helper/deep/tool"] = _elf32_be("/lib/ld.so.1")
    modes = {p: 0o755 for p in tree if p.startswith(("usr/bin/", "usr/libexec/")) and
             p != "usr/bin/data.bin"}  # fmt: skip
    findings = check_image(MemorySource(tree, modes=modes), "minimal", host_arch=ARCH)
    loader = one(findings, Rule.DYNAMIC_LOADER)
    assert loader.message.startswith(
        "/usr/bin/s390-tool, /usr/libexec/helper/deep/tool need the dynamic loader /lib/ld.so.1"
    )
    arch = one(findings, Rule.ELF_ARCHITECTURE)
    assert "are built for s390; a x86-64 host cannot run them" in arch.message
    # s390 binaries run on an s390x host
    s390x = check_image(MemorySource(tree, modes=modes), "minimal", host_arch="s390x")
    assert Rule.ELF_ARCHITECTURE not in {f.rule for f in s390x}


def test_elf_reading_is_bounded() -> None:
    from portablekit.samples.data import _elf

    tree = dict(SAMPLES["minimal"].files)
    for i in range(50):
        tree[f"usr/bin/tool{i:02}"] = _elf("/lib64/ld-linux-x86-64.so.2")
    modes = {p: 0o755 for p in tree if p.startswith("usr/bin/tool")}
    reads: list[PurePosixPath] = []

    class Counting(MemorySource):
        def read_bytes(self, path: PurePosixPath, offset: int = 0, size: int = -1) -> bytes:
            if str(path).startswith("/usr/bin/tool") and offset == 0:
                reads.append(path)
            return super().read_bytes(path, offset, size)

    findings = check_image(Counting(tree, modes=modes), "minimal", host_arch=ARCH, max_elf_files=7)
    assert len(reads) == 7
    assert "and 4 more need the dynamic loader" in one(findings, Rule.DYNAMIC_LOADER).message

"""ELF headers: the dynamic loader and the architecture of an executable, read from an image.

The image checks (:mod:`portablekit.check.image`) need two facts about the executables of an image:
which dynamic loader each asks for (its ``PT_INTERP`` program header) and which architecture it
is built for, in systemd's spelling (``x86-64``, ``arm64``, ...). :func:`read_elf` reads only the
ELF header, the program header table and the interpreter string, from any
:class:`~portablekit.source.ImageSource`; :func:`elf_candidates` lists the executables worth
reading, looking at a bounded number of directory entries; :data:`ELF_ARCHES` and
:data:`ALSO_RUNS` say which architecture a header names and what else a host runs.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import PurePosixPath

from ..errors import ImagePathError
from ..source import FileKind, ImageSource

__all__ = ["ALSO_RUNS", "ELF_ARCHES", "elf_candidates", "read_elf"]

_ELF_DIRS = tuple(PurePosixPath(d) for d in ("/usr/bin", "/usr/sbin", "/bin", "/sbin"))
#: (e_machine, EI_CLASS, EI_DATA) -> systemd's architecture name
ELF_ARCHES = {
    (62, 2, 1): "x86-64", (62, 1, 1): "x32", (3, 1, 1): "x86",
    (183, 2, 1): "arm64", (183, 2, 2): "arm64-be", (40, 1, 1): "arm", (40, 1, 2): "arm-be",
    (243, 2, 1): "riscv64", (243, 1, 1): "riscv32", (258, 2, 1): "loongarch64",
    (22, 2, 2): "s390x", (22, 1, 2): "s390", (21, 2, 1): "ppc64-le", (21, 2, 2): "ppc64",
    (20, 1, 2): "ppc", (20, 1, 1): "ppc-le",
}  # fmt: skip
#: what a host of each architecture runs besides its own binaries
ALSO_RUNS = {
    "x86-64": ("x86", "x32"),
    "arm64": ("arm",),
    "s390x": ("s390",),
    "ppc64": ("ppc",),
}
_MAX_INTERP = 4096


def elf_candidates(src: ImageSource, max_entries: int) -> Iterator[PurePosixPath]:
    """Executable regular files in the binary directories (top level) and below ``/usr/lib*``
    (recursively, links not followed), each directory once; at most ``max_entries`` entries
    looked at."""
    dirs = list(_ELF_DIRS)
    try:
        usr = src.resolve("/usr")
        if src.is_dir(usr):
            dirs += [PurePosixPath("/usr", n) for n in sorted(src.listdir(usr)) if n[:3] == "lib"]
    except ImagePathError:
        pass
    seen: set[PurePosixPath] = set()
    looked = 0
    for d in dirs:
        try:
            real = src.resolve(d)
            if not src.is_dir(real) or real in seen:
                continue
        except ImagePathError:
            continue
        seen.add(real)
        stack = [real]
        while stack:
            cur = stack.pop()
            try:
                names = sorted(src.listdir(cur), reverse=True)
            except ImagePathError:
                continue
            for name in names:
                looked += 1
                if looked > max_entries:
                    return
                p = cur / name
                try:
                    st = src.lstat(p)
                except ImagePathError:
                    continue
                if st.kind is FileKind.DIR and d.name.startswith("lib") and p not in seen:
                    seen.add(p)
                    stack.append(p)
                elif st.kind is FileKind.FILE and st.mode & 0o111 and st.size >= 52:
                    yield p


def read_elf(src: ImageSource, path: PurePosixPath) -> tuple[str | None, str | None] | None:
    """``(interpreter, architecture)`` from an ELF file's headers; ``None`` if not ELF."""
    head = src.read_bytes(path, 0, 64)
    if len(head) < 52 or head[:4] != b"\x7fELF" or head[4] not in (1, 2) or head[5] not in (1, 2):
        return None
    cls, data = head[4], head[5]
    e = "<" if data == 1 else ">"
    (machine,) = struct.unpack_from(e + "H", head, 18)
    arch = ELF_ARCHES.get((machine, cls, data))
    if cls == 2:
        if len(head) < 64:
            return None
        (phoff,) = struct.unpack_from(e + "Q", head, 32)
        phentsize, phnum = struct.unpack_from(e + "HH", head, 54)
        entry = 56
    else:
        (phoff,) = struct.unpack_from(e + "I", head, 28)
        phentsize, phnum = struct.unpack_from(e + "HH", head, 42)
        entry = 32
    if phentsize < entry or not 0 < phnum <= 512:
        return None, arch
    table = src.read_bytes(path, phoff, phentsize * phnum)
    for i in range(len(table) // phentsize):
        at = i * phentsize
        (p_type,) = struct.unpack_from(e + "I", table, at)
        if p_type != 3:  # PT_INTERP
            continue
        if cls == 2:
            (offset,) = struct.unpack_from(e + "Q", table, at + 8)
            (size,) = struct.unpack_from(e + "Q", table, at + 32)
        else:
            offset, size = (
                struct.unpack_from(e + "I", table, at + 4)[0],
                struct.unpack_from(e + "I", table, at + 16)[0],
            )
        if not 0 < size <= _MAX_INTERP:
            return None, arch
        interp = src.read_bytes(path, offset, size).split(b"\0", 1)[0]
        return interp.decode("utf-8", "surrogateescape") or None, arch
    return None, arch

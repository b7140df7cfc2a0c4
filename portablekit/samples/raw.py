"""Build raw sample images with the real tools, deterministically.

The tools read a directory tree, so :func:`write_tree` writes an image
tree out as one first; this module and :mod:`portablekit.sandbox` are the package's only
writers besides the scenario replays and the demo.

``mksquashfs`` (squashfs-tools), ``mkfs.ext4`` (e2fsprogs), ``mkfs.erofs`` (erofs-utils) and
``sfdisk`` (fdisk) make the file systems and partition tables; none of them needs root. Fixed
timestamps and UUIDs make the bytes reproducible: squashfs and EROFS images are byte-identical
for identical trees; ext4 takes file times and owners from the tree (use :func:`set_tree_times`
first), the rest is fixed. A missing tool raises :class:`MissingToolError` naming the Debian
package to install.

>>> build_squashfs("tree", "img.raw")             # doctest: +SKIP
PosixPath('img.raw')
>>> build_gpt("disk.raw", [GptPartition("root.ext4", gpt_type("root"))])   # doctest: +SKIP
PosixPath('disk.raw')
"""

from __future__ import annotations

import os
import shutil
import stat as _stat
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PortableKitError
from ..raw.dps import ARCHITECTURES, GENERIC, TYPES, Designator
from ..source import ROOT, FileKind, ImageSource

__all__ = [
    "FIXED_TIME",
    "FIXED_UUID",
    "TOOLS",
    "GptPartition",
    "MbrPartition",
    "MissingToolError",
    "ToolError",
    "build_erofs",
    "build_ext4",
    "build_gpt",
    "build_image",
    "build_mbr",
    "build_squashfs",
    "build_tree_image",
    "find_tool",
    "gpt_type",
    "set_tree_times",
    "write_tree",
]

#: the timestamp every built image carries (2023-11-14)
FIXED_TIME = 1700000000
#: file system UUID (and GPT disk GUID) of built images
FIXED_UUID = "11111111-2222-3333-4444-555555555555"
#: tool -> the Debian package that ships it
TOOLS = {
    "mksquashfs": "squashfs-tools",
    "unsquashfs": "squashfs-tools",
    "mkfs.ext4": "e2fsprogs",
    "debugfs": "e2fsprogs",
    "e2fsck": "e2fsprogs",
    "mkfs.erofs": "erofs-utils",
    "dump.erofs": "erofs-utils",
    "fsck.erofs": "erofs-utils",
    "sfdisk": "fdisk",
}
_SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")
MIB = 1 << 20


class MissingToolError(PortableKitError, FileNotFoundError):
    """A build tool is not installed; ``tool`` names it and ``package`` the Debian package."""

    def __init__(self, tool: str) -> None:
        self.tool = tool
        self.package = TOOLS.get(tool, tool)
        super().__init__(f"{tool} is not installed (Debian/Ubuntu: apt-get install {self.package})")


class ToolError(PortableKitError):
    """A build tool failed; ``stderr`` holds what it said."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        self.argv, self.returncode, self.stderr = list(argv), returncode, stderr
        super().__init__(f"{argv[0]} failed with exit status {returncode}: {stderr.strip()}")


def find_tool(name: str) -> str:
    """The path of ``name``, also looking in the sbin directories (Debian puts mkfs there)."""
    path = os.environ.get("PATH", os.defpath) + os.pathsep + os.pathsep.join(_SBIN)
    found = shutil.which(name, path=path)
    if found is None:
        raise MissingToolError(name)
    return found


def _run(argv: list[str], *, env: dict[str, str] | None = None, stdin: str | None = None) -> None:
    full = dict(os.environ)
    full.pop("SOURCE_DATE_EPOCH", None)  # mksquashfs refuses it together with -mkfs-time
    full.update(env or {})
    proc = subprocess.run(
        [find_tool(argv[0]), *argv[1:]],
        input=stdin,
        capture_output=True,
        text=True,
        env=full,
        check=False,
    )
    if proc.returncode:
        raise ToolError(argv, proc.returncode, proc.stderr or proc.stdout)


def set_tree_times(tree: str | os.PathLike[str], mtime: int = FIXED_TIME) -> None:
    """Set access and modification times of everything in ``tree`` (links not followed)."""
    for dirpath, dirnames, filenames in os.walk(tree):
        for name in dirnames + filenames:
            os.utime(os.path.join(dirpath, name), (mtime, mtime), follow_symlinks=False)
    os.utime(tree, (mtime, mtime))


def build_squashfs(
    tree: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    compression: str = "gzip",
    block_size: int | None = None,
    mtime: int = FIXED_TIME,
    extra_args: Sequence[str] = (),
) -> Path:
    """A squashfs image of ``tree`` (owned by root, no xattrs, all times ``mtime``)."""
    argv = ["mksquashfs", os.fspath(tree), os.fspath(out), "-noappend", "-quiet", "-no-progress"]
    argv += ["-all-root", "-no-xattrs", "-comp", compression]
    argv += ["-mkfs-time", str(mtime), "-all-time", str(mtime)]
    if block_size:
        argv += ["-b", str(block_size)]
    _run([*argv, *extra_args])
    return Path(out)


def _tree_bytes(tree: str | os.PathLike[str]) -> tuple[int, int]:
    total, count = 0, 0
    for dirpath, dirnames, filenames in os.walk(tree):
        count += len(dirnames) + len(filenames)
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            total += st.st_size
    return total, count


def build_ext4(
    tree: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    size: int | None = None,
    block_size: int | None = None,
    features: Sequence[str] = (),
    fs_uuid: str = FIXED_UUID,
    mtime: int = FIXED_TIME,
    extra_args: Sequence[str] = (),
) -> Path:
    """An ext4 image of ``tree`` (``mkfs.ext4 -d``); ``size`` defaults to what the tree needs.

    Owners and file times come from the tree; the root directory is owned by root.
    """
    if size is None:
        data, count = _tree_bytes(tree)
        bs = block_size or 4096
        size = max(4 * MIB, int((data + count * bs) * 1.3) + count * 256 + 4 * MIB)
        size = -(-size // MIB) * MIB
    with open(out, "wb") as f:
        f.truncate(size)
    argv = ["mkfs.ext4", "-q", "-F", "-U", fs_uuid]
    argv += ["-E", f"root_owner=0:0,hash_seed={fs_uuid}"]
    if block_size:
        argv += ["-b", str(block_size)]
    if features:
        argv += ["-O", ",".join(features)]
    argv += [*extra_args, "-d", os.fspath(tree), os.fspath(out)]
    _run(argv, env={"E2FSPROGS_FAKE_TIME": str(mtime)})
    return Path(out)


def build_erofs(
    tree: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    compression: str | None = None,
    fs_uuid: str = FIXED_UUID,
    mtime: int = FIXED_TIME,
    extra_args: Sequence[str] = (),
) -> Path:
    """An EROFS image of ``tree`` (owned by root, all times ``mtime``); ``compression`` is
    ``mkfs.erofs -z`` (``lz4``, ``lz4hc``, and with erofs-utils 1.8+ ``lzma``, ``deflate``,
    ``zstd``)."""
    argv = ["mkfs.erofs", "--quiet", "--all-root", f"-T{mtime}", f"-U{fs_uuid}"]
    if compression:
        argv.append(f"-z{compression}")
    argv += [*extra_args, os.fspath(out), os.fspath(tree)]
    _run(argv)
    return Path(out)


def gpt_type(designator: str | Designator, arch: str | None = "x86-64") -> uuid.UUID:
    """The GPT type UUID of a designator (``root``, ``usr``, ``root-verity``, ``esp``...) for
    ``arch``; ``"generic"`` is the Linux generic data type."""
    if designator == "generic":
        return GENERIC
    d = Designator(designator)
    if arch is not None and arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}")
    for u, t in TYPES.items():
        if t.designator is d and (t.arch is None or t.arch == arch):
            return u
    raise ValueError(f"no GPT type for {designator} on {arch}")


@dataclass(frozen=True)
class GptPartition:
    """One partition of :func:`build_gpt`: content (a file, or ``None`` for zeros) and type."""

    image: str | os.PathLike[str] | None
    type: uuid.UUID | str
    label: str = ""
    uuid: str | None = None  #: default: derived from the disk GUID and the partition number
    attrs: Sequence[int] = field(default_factory=tuple)  #: GPT attribute bits (59, 60, 63...)
    size: int | None = None  #: bytes; default: the content rounded up to 1 MiB


@dataclass(frozen=True)
class MbrPartition:
    """One primary partition of :func:`build_mbr`."""

    image: str | os.PathLike[str] | None
    type: int = 0x83
    bootable: bool = True
    size: int | None = None


def _sizes(parts: Sequence[GptPartition | MbrPartition]) -> list[int]:
    out = []
    for p in parts:
        n = p.size if p.size is not None else (os.path.getsize(p.image) if p.image else MIB)
        out.append(max(MIB, -(-n // MIB) * MIB))
    return out


def _fill(out: str | os.PathLike[str], parts: Sequence[GptPartition | MbrPartition]) -> None:
    """Copy each partition's content to its place, leaving zero runs as holes."""
    start = MIB
    with open(out, "r+b") as dst:
        for p, size in zip(parts, _sizes(parts), strict=True):
            if p.image is not None:
                with open(p.image, "rb") as src:
                    pos = start
                    while chunk := src.read(MIB):
                        if chunk.count(0) != len(chunk):
                            dst.seek(pos)
                            dst.write(chunk)
                        pos += len(chunk)
            start += size


def build_gpt(
    out: str | os.PathLike[str],
    partitions: Sequence[GptPartition],
    *,
    disk_uuid: str = FIXED_UUID,
) -> Path:
    """A GPT disk image (512-byte sectors, partitions from 1 MiB, 1 MiB aligned)."""
    sizes = _sizes(partitions)
    lines = ["label: gpt", f"label-id: {disk_uuid}", "first-lba: 2048", "unit: sectors"]
    start = MIB
    for i, (p, size) in enumerate(zip(partitions, sizes, strict=True), 1):
        puuid = p.uuid or str(uuid.uuid5(uuid.UUID(disk_uuid), f"partition-{i}"))
        line = f"start={start // 512}, size={size // 512}, type={p.type}, uuid={puuid}"
        if p.label:
            line += f', name="{p.label}"'
        if p.attrs:
            line += ', attrs="' + " ".join(f"GUID:{b}" for b in p.attrs) + '"'
        lines.append(line)
        start += size
    with open(out, "wb") as f:
        f.truncate(start + MIB)  # room for the backup GPT
    _run(
        ["sfdisk", "-q", "--no-reread", "--no-tell-kernel", os.fspath(out)],
        stdin="\n".join(lines) + "\n",
    )
    _fill(out, partitions)
    return Path(out)


def build_mbr(
    out: str | os.PathLike[str], partitions: Sequence[MbrPartition], *, disk_id: int = 0x12345678
) -> Path:
    """An MBR ("dos") disk image with up to four primary partitions."""
    if len(partitions) > 4:
        raise ValueError("at most four primary partitions")
    sizes = _sizes(partitions)
    lines = ["label: dos", f"label-id: {disk_id:#010x}", "unit: sectors"]
    start = MIB
    for p, size in zip(partitions, sizes, strict=True):
        line = f"start={start // 512}, size={size // 512}, type={p.type:x}"
        if p.bootable:
            line += ", bootable"
        lines.append(line)
        start += size
    with open(out, "wb") as f:
        f.truncate(start + MIB)
    _run(
        ["sfdisk", "-q", "--no-reread", "--no-tell-kernel", os.fspath(out)],
        stdin="\n".join(lines) + "\n",
    )
    _fill(out, partitions)
    return Path(out)


def build_image(
    tree: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    fstype: str = "squashfs",
    table: str | None = None,
    designator: str = "root",
    arch: str = "x86-64",
    compression: str | None = None,
) -> Path:
    """A portable-service image of ``tree`` in one call: a ``squashfs``, ``ext4`` or ``erofs``
    file system, bare (``table=None``), in a GPT partition typed ``designator``/``arch``
    (``designator="generic"`` for Linux generic data) or as the bootable partition of an MBR
    (``table="dos"``). For ``designator="usr"`` pass the tree of the usr partition itself."""
    out = Path(out)
    target = out if table is None else out.with_name(out.name + f".{fstype}.tmp")
    try:
        if fstype == "squashfs":
            build_squashfs(tree, target, compression=compression or "gzip")
        elif fstype == "ext4":
            build_ext4(tree, target)
        elif fstype == "erofs":
            build_erofs(tree, target, compression=compression)
        else:
            raise ValueError(f"unknown file system type {fstype!r}")
        if table == "gpt":
            label = f"{designator}-{arch}" if designator != "generic" else "data"
            build_gpt(out, [GptPartition(target, gpt_type(designator, arch), label)])
        elif table == "dos":
            build_mbr(out, [MbrPartition(target)])
        elif table is not None:
            raise ValueError(f"unknown partition table {table!r}")
    finally:
        if target != out:
            Path(target).unlink(missing_ok=True)
    return out


def write_tree(source: ImageSource, dest: str | os.PathLike[str]) -> Path:
    """Write an image tree as a directory at ``dest`` (which must not exist), for the tools.

    Directories and files keep the source's modes and modification times, links their
    targets. Into a sandbox root, use :meth:`portablekit.sandbox.SandboxRoot.materialize`.
    """
    root = Path(dest)
    if os.path.lexists(root):
        raise PortableKitError(f"{root}: already exists; refusing to overwrite it")
    top = source.lstat(ROOT)
    root.mkdir(parents=True)
    dirs = [(root, top)]
    for p, st in source.walk():
        target = root.joinpath(*p.parts[1:])
        if st.kind is FileKind.DIR:
            target.mkdir()
            dirs.append((target, st))
        elif st.kind is FileKind.SYMLINK:
            os.symlink(source.readlink(p), target)
        elif st.kind is FileKind.FILE:
            target.write_bytes(source.read_bytes(p))
            os.chmod(target, _stat.S_IMODE(st.mode))
            os.utime(target, (st.mtime, st.mtime))
        else:
            raise PortableKitError(f"{source.label}: {p}: a {st.kind} cannot be written out")
    for d, st in reversed(dirs):
        os.chmod(d, _stat.S_IMODE(st.mode))
        os.utime(d, (st.mtime, st.mtime))
    return root


def build_tree_image(
    source: ImageSource,
    out: str | os.PathLike[str],
    *,
    fstype: str = "squashfs",
    table: str | None = None,
) -> Path:
    """:func:`build_image` of an image tree, written out to a temporary directory first."""
    with tempfile.TemporaryDirectory(prefix="portablekit-sample-") as tmp:
        tree = write_tree(source, Path(tmp) / "tree")
        return build_image(tree, out, fstype=fstype, table=table)

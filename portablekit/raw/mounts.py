"""The tree portabled sees: the root file system with the other partitions mounted into it.

``dissected_image_mount()`` mounts root at ``/``, ``/usr`` on it (or, for a usr-only image, on
an empty directory), then home, srv, var, var/tmp and the boot partitions, each on a directory
that must already exist (portabled mounts read-only and creates nothing): a missing mount point
fails the whole mount, which 260+ reports as ``ENOENT`` and older versions as an image without
os-release (recorded). Swap is not mounted. We cannot read FAT, so an ESP or XBOOTLDR
partition shows as an empty directory.
"""

from __future__ import annotations

import errno
from pathlib import PurePosixPath

from ..errors import ImagePathError, UnsupportedImageError
from ..source import ImageSource, MemorySource, Stat
from ._io import Reader
from .dps import Designator
from .erofs import ErofsSource
from .errors import MountError
from .ext4 import Ext4Source
from .fsbase import FileSystemSource
from .layout import DissectedPartition, PartitionLayout
from .squashfs import SquashfsSource

__all__ = ["MountedSource", "assemble", "open_fs"]

D = Designator
_OPENERS: dict[str, type[FileSystemSource]] = {  # type: ignore[type-arg]
    "squashfs": SquashfsSource,
    "ext2": Ext4Source,
    "ext3": Ext4Source,
    "ext4": Ext4Source,
    "erofs": ErofsSource,
}
_MOUNTPOINTS = (
    (D.HOME, "/home"),
    (D.SRV, "/srv"),
    (D.VAR, "/var"),
    (D.TMP, "/var/tmp"),
    (D.XBOOTLDR, "/boot"),
)


class MountedSource(ImageSource):
    """A source made of a root source and other sources mounted on its directories."""

    def __init__(
        self, root: ImageSource, mounts: dict[PurePosixPath, ImageSource], label: str
    ) -> None:
        self.root = root
        # deepest mount point first; plain strings, as routing runs for every primitive
        ordered = sorted(mounts.items(), key=lambda m: len(m[0].parts), reverse=True)
        self.mounts = [(str(point), src) for point, src in ordered]
        self.label = label

    def _route(self, path: PurePosixPath) -> tuple[ImageSource, PurePosixPath]:
        s = str(path)
        for point, src in self.mounts:
            if s == point:
                return src, PurePosixPath("/")
            if s.startswith(point) and s[len(point)] == "/":
                return src, PurePosixPath(s[len(point) :])
        return self.root, path

    def _wrap(self, e: ImagePathError, path: PurePosixPath) -> ImagePathError:
        return ImagePathError(e.errno or errno.EIO, str(path), self.label)

    def lstat(self, path: PurePosixPath) -> Stat:
        src, sub = self._route(path)
        try:
            return src.lstat(sub)
        except ImagePathError as e:
            raise self._wrap(e, path) from None

    def readlink(self, path: PurePosixPath) -> str:
        src, sub = self._route(path)
        try:
            return src.readlink(sub)
        except ImagePathError as e:
            raise self._wrap(e, path) from None

    def listdir(self, path: PurePosixPath) -> list[str]:
        src, sub = self._route(path)
        try:
            return src.listdir(sub)
        except ImagePathError as e:
            raise self._wrap(e, path) from None

    def read_bytes(self, path: PurePosixPath, offset: int = 0, size: int = -1) -> bytes:
        src, sub = self._route(path)
        try:
            return src.read_bytes(sub, offset, size)
        except ImagePathError as e:
            raise self._wrap(e, path) from None

    def getxattr(self, path: PurePosixPath, name: str) -> bytes | None:
        src, sub = self._route(path)
        return src.getxattr(sub, name)


def open_fs(reader: Reader, fstype: str | None, what: str) -> FileSystemSource:  # type: ignore[type-arg]
    """A reader for a file system of type ``fstype`` in ``reader``."""
    opener = _OPENERS.get(fstype or "")
    if opener is None:
        raise UnsupportedImageError(
            f"{what}: {fstype or 'no recognisable'} file system (portablekit reads squashfs, "
            "ext2/3/4 and EROFS)",
            image=reader.label,
        )
    return opener(reader, reader.label)


def _mount_failed(d: PartitionLayout, err: int, message: str, label: str) -> MountError:
    e = MountError(message, image=label, errno=err)
    e.lacks_metadata = not d.systemd.reports_raw_mount_errno
    return e


def _fs(reader: Reader, d: PartitionLayout, p: DissectedPartition) -> ImageSource:
    what = f"the {p.designator} partition" + (f" ({p.number})" if p.number else "")
    if p.fstype is None:
        # the kernel refuses to mount an unrecognisable file system
        raise _mount_failed(d, errno.EAFNOSUPPORT, f"{what} holds no file system", reader.label)
    if p.partition is None:
        return open_fs(reader, p.fstype, what)
    return open_fs(reader.window(p.offset, p.size, f"partition {p.number}"), p.fstype, what)


def assemble(reader: Reader, d: PartitionLayout) -> ImageSource:
    """The tree portabled extracts metadata from, for dissection ``d`` of ``reader``."""
    label = reader.label
    root_p, usr_p = d.used.get(D.ROOT), d.used.get(D.USR)
    if root_p is None:
        assert usr_p is not None
        if not d.systemd.mounts_usr_only_images:
            raise _mount_failed(d, errno.ENXIO, "usr-only images are not mounted", label)
        return MountedSource(
            MemorySource({"usr": None}, label=label),
            {PurePosixPath("/usr"): _fs(reader, d, usr_p)},
            label,
        )
    root = _fs(reader, d, root_p)
    mounts: dict[PurePosixPath, ImageSource] = {}
    tree: ImageSource = MountedSource(root, mounts, label)
    todo: list[tuple[DissectedPartition, str]] = []
    if usr_p is not None:
        todo.append((usr_p, "/usr"))
    todo += [(d.used[des], point) for des, point in _MOUNTPOINTS if des in d.used]
    esp = d.used.get(D.ESP)
    if esp is not None:
        boot_free = (
            D.XBOOTLDR not in d.used
            and tree.is_dir("/boot")
            and not tree.listdir(PurePosixPath("/boot"))
        )
        todo.append((esp, "/boot" if boot_free else "/efi"))
    for part, point in todo:
        where = PurePosixPath(point)
        if not tree.is_dir(where):
            raise _mount_failed(
                d,
                errno.ENOENT,
                f"mount point {point} of the {part.designator} partition is missing",
                label,
            )
        if part.fstype == "vfat":
            src: ImageSource = MemorySource(label=label)
        else:
            src = _fs(reader, d, part)
        mounts[where] = src
        tree = MountedSource(root, mounts, label)
    return tree if mounts else root  # a lone file system needs no routing

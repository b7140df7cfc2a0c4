"""Images on the simulated host: kinds, names, search paths, lookup and discovery.

portabled knows an image by *name* (searched in ``/etc/portables``, ``/run/portables``,
``/var/lib/portables``, ``/usr/local/lib/portables``, ``/usr/lib/portables``) or by absolute
*path*. A directory is a ``directory`` image, a regular file ending in ``.raw`` a ``raw`` image,
a block device a ``block`` image; anything else is not an image. systemd 256+ also picks the
newest entry of a ``NAME.v/`` directory (systemd.v(7)).

>>> Image.from_path(PurePosixPath("/var/lib/portables/foo_1.2.raw"), ImageKind.RAW).name
'foo_1.2'
"""

from __future__ import annotations

import errno
import functools
import os
import stat as _stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ..display import NotebookDisplay
from ..errors import ImagePathError, PortabledError, UsageError
from ..names import image_name_is_valid, version_compare
from ..source import FileKind, ImageSource
from .host import Host

if TYPE_CHECKING:
    from ..raw.policy import ImagePolicy

__all__ = [
    "SEARCH_PATHS",
    "Image",
    "ImageKind",
    "discover_images",
    "find_image",
    "image_at_path",
    "lookup_image",
    "normalize_client_path",
    "open_image",
    "pick_version",
    "search_directories",
    "vpick",
]

#: portabled's image search path (system scope), in priority order.
SEARCH_PATHS = (
    PurePosixPath("/etc/portables"),
    PurePosixPath("/run/portables"),
    PurePosixPath("/var/lib/portables"),
    PurePosixPath("/usr/local/lib/portables"),
    PurePosixPath("/usr/lib/portables"),
)


class ImageKind(StrEnum):
    """Image types as portabled spells them (``list``'s TYPE column)."""

    DIRECTORY = "directory"
    SUBVOLUME = "subvolume"
    RAW = "raw"
    BLOCK = "block"

    @property
    def is_tree(self) -> bool:
        """Directory-like images: ``RootDirectory=``/``ExtensionDirectories=``."""
        return self in (ImageKind.DIRECTORY, ImageKind.SUBVOLUME)


@dataclass(frozen=True, slots=True)
class Image(NotebookDisplay):
    """An image portabled found: ``name``, host ``path`` as portabled records it, ``kind``."""

    name: str
    path: PurePosixPath
    kind: ImageKind

    @classmethod
    def from_path(cls, path: PurePosixPath, kind: ImageKind) -> Image:
        """The image at ``path``; its name is the last component (without ``.raw``)."""
        last = path.name
        name = last[: -len(".raw")] if kind is ImageKind.RAW and last.endswith(".raw") else last
        return cls(name, path, kind)

    @property
    def file_name(self) -> str:
        """Last component of the path (``foo.raw``), as used by ``PORTABLE=`` and image links."""
        return self.path.name

    @property
    def is_tree(self) -> bool:
        """Whether the image is a directory tree (not a disk image)."""
        return self.kind.is_tree


def _kind_of(host: Host, path: PurePosixPath) -> ImageKind | None:
    """The image kind of what ``path`` points to, ``None`` if it is not an image."""
    k = host.kind(path)
    if k is FileKind.DIR:
        return ImageKind.DIRECTORY
    if k is FileKind.FILE and path.name.endswith(".raw"):
        return ImageKind.RAW
    if k is FileKind.BLOCKDEV:
        return ImageKind.BLOCK
    return None


# -- systemd.v(7) ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PickFilter:
    """What a ``.v`` directory's entries must be: ``<base>_<version><suffix>`` and, once links
    are followed, one of ``kinds`` (systemd's ``pick_filter_image_dir``/``_raw``/``_any``)."""

    suffix: str
    kinds: frozenset[FileKind]


#: a directory image, a raw image file, and (257's lookup by path) either
PICK_DIR = PickFilter("", frozenset({FileKind.DIR}))
PICK_RAW = PickFilter(".raw", frozenset({FileKind.FILE}))
PICK_ANY = PickFilter("", frozenset({FileKind.DIR, FileKind.FILE}))


def _versions(host: Host, vdir: PurePosixPath, f: PickFilter) -> list[str]:
    """The entries of ``vdir`` the filter's name pattern accepts, newest version first."""
    stem = vdir.name[: -len(".v")]
    suffix = f.suffix
    if f is PICK_ANY and stem.endswith(".raw"):
        suffix = ".raw"  # a NAME.raw.v directory picks NAME_VERSION.raw entries
    base = stem[: -len(suffix)] if suffix and stem.endswith(suffix) else stem
    found: list[tuple[str, str]] = []
    for entry in host.listdir(vdir):
        if not entry.startswith(base + "_") or not entry.endswith(suffix):
            continue
        version = entry[len(base) + 1 : len(entry) - len(suffix)]
        if version and "/" not in version:
            found.append((version, entry))

    def newer(x: tuple[str, str], y: tuple[str, str]) -> int:
        return version_compare(y[0], x[0])

    return [entry for _, entry in sorted(found, key=functools.cmp_to_key(newer))]


def pick_version(host: Host, vdir: PurePosixPath, filters: Sequence[PickFilter]) -> PurePosixPath:
    """``path_pick()``: the entry of the ``.v`` directory ``vdir`` systemd chooses.

    Each filter is tried in turn. 257 takes the newest entry of the filter's name pattern
    first and checks its kind afterwards (``EMEDIUMTYPE``, "Wrong medium type"); 262 skips
    entries of another kind. A dangling newest entry fails with ``ENOENT`` in both, and so does
    a directory with no entry at all. Raises :class:`~portablekit.errors.PortabledError`.
    """
    skip = host.systemd.vpick_skips_wrong_types
    for f in filters:
        for entry in _versions(host, vdir, f):
            kind = host.kind(vdir / entry)
            if kind is None:
                raise PortabledError.from_errno(errno.ENOENT, detail=f"{vdir / entry}: dangling")
            if kind in f.kinds:
                return vdir / entry
            if not skip:
                raise PortabledError.from_errno(
                    errno.EMEDIUMTYPE, detail=f"{vdir / entry}: the newest entry is a {kind}"
                )
    raise PortabledError.from_errno(errno.ENOENT, detail=f"{vdir}: no entry to pick")


def _name_filters(vdir: PurePosixPath) -> tuple[PickFilter, ...]:
    """The filter of a lookup by name and of ``list``: ``NAME.raw.v`` holds raw images,
    ``NAME.v`` directories."""
    return (PICK_RAW,) if vdir.name.endswith(".raw.v") else (PICK_DIR,)


def _path_filters(host: Host) -> tuple[PickFilter, ...]:
    """The filters of a lookup by path: 257 picks from any kind and lets the image type check
    refuse what is neither a directory nor a ``.raw`` file; 262 tries directories, then raw
    images."""
    return (PICK_DIR, PICK_RAW) if host.systemd.vpick_skips_wrong_types else (PICK_ANY,)


def vpick(host: Host, path: PurePosixPath) -> PurePosixPath | None:
    """The entry a lookup by path picks from the ``.v`` directory ``path``, ``None`` where
    it fails (see :func:`pick_version`)."""
    if not path.name.endswith(".v"):
        return None
    try:
        return pick_version(host, path, _path_filters(host))
    except PortabledError:
        return None


# -- lookup --------------------------------------------------------------------------------------


def search_directories(host: Host) -> Iterator[PurePosixPath]:
    """``chase_and_opendir()`` of each search directory, as ``image_find()`` and
    ``image_discover()`` open them: missing ones (also a dangling link) are skipped, a link to
    a directory is resolved (images are then named below the resolved directory), anything
    else that is not a directory fails the lookup with ``ENOTDIR``."""
    for d in SEARCH_PATHS:
        try:
            kind = host.kind(d)
            real = host.resolve(d)
        except ImagePathError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                continue
            raise PortabledError.from_errno(e.errno or errno.EIO, detail=str(e)) from e
        if kind is None:
            continue
        if kind is not FileKind.DIR:
            raise PortabledError.from_errno(
                errno.ENOTDIR, detail=f"{d}: a search directory that is a {kind}"
            )
        yield real


def find_image(host: Host, name: str) -> Image | None:
    """``image_find()``: the image called ``name`` in the search path, or ``None``.

    A search directory that exists but is not one fails the lookup (``ENOTDIR``, see
    :func:`search_directories`) unless the image was found before it.
    """
    systemd = host.systemd
    for d in search_directories(host):
        if systemd.vpick:
            candidates = [name, name + ".raw", name + ".v", name + ".raw.v"]
        else:
            candidates = [name, name + ".raw"]
        for cand in candidates:
            p = d / cand
            k = host.kind(p)
            if k is None:
                continue
            if cand.endswith(".v"):
                if k is not FileKind.DIR:
                    continue
                try:
                    picked = pick_version(host, p, _name_filters(p))
                except PortabledError:
                    continue
                kind = _kind_of(host, picked)
                if kind is None:
                    continue
                return Image(
                    name, host.resolve(picked) if systemd.resolves_image_symlinks else picked, kind
                )
            if cand == name:
                if systemd.raw_names_are_files and name.endswith(".raw"):
                    if k is not FileKind.FILE:
                        continue  # a name ending in .raw is a raw image file or nothing
                    path = host.resolve(p) if systemd.resolves_image_symlinks else p
                    return Image.from_path(path, ImageKind.RAW)
                if k is FileKind.DIR:
                    kind = ImageKind.DIRECTORY
                elif k is FileKind.BLOCKDEV:
                    kind = ImageKind.BLOCK
                elif systemd.vpick:
                    continue
                else:
                    break  # 252: anything else ends the search in this directory
            else:
                if k is not FileKind.FILE:
                    if systemd.vpick:
                        continue
                    break
                kind = ImageKind.RAW
            path = host.resolve(p) if systemd.resolves_image_symlinks else p
            return Image(name, path, kind)
    return None


def image_at_path(host: Host, path: str, *, pick: bool = True) -> Image:
    """The image at an absolute host path (daemon side).

    With ``pick`` (systemd 256+) a ``NAME.v`` directory is resolved to its newest entry and
    the path to its real location. Errors carry portabled's messages.
    """
    if not path.startswith("/"):
        raise PortabledError(f"Image name '{path}' is not valid or not a valid path.")
    norm = os.path.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    p = PurePosixPath(norm)
    if ".." in p.parts:
        raise PortabledError(f"Image path '{path}' is not normalized.")
    systemd = host.systemd
    if pick and systemd.vpick:
        real = host.resolve(p)
        if real.name.endswith(".v") and host.kind(real) is FileKind.DIR:
            p = pick_version(host, real, _path_filters(host))
            if host.kind(p) is FileKind.FILE and not p.name.endswith(".raw"):
                # image_make(): a regular file must be a .raw image
                raise PortabledError.from_errno(errno.EMEDIUMTYPE, detail=f"{p}: not a .raw file")
        else:
            p = real
    kind = _kind_of(host, p)
    if kind is None:
        k = host.kind(p)
        if k is None:
            raise PortabledError.from_errno(errno.ENOENT, detail=f"{p}: no such image")
        raise PortabledError(
            f"Type of image '{p}' not recognized; supported image types are directories/btrfs "
            "subvolumes, block devices, and raw disk image files with suffix '.raw'.",
            dbus_error="org.freedesktop.portable1.BadImageType",
        )
    img = Image.from_path(p, kind)
    if not image_name_is_valid(img.name):
        raise PortabledError.from_errno(
            errno.EINVAL, detail=f"{p}: '{img.name}' is not a valid image name"
        )
    return img


def lookup_image(host: Host, name_or_path: str, *, pick: bool = True) -> Image:
    """An image by name (searched) or by absolute path, as portabled resolves it."""
    if image_name_is_valid(name_or_path):
        img = find_image(host, name_or_path)
        if img is None:
            raise PortabledError(
                f"No image '{name_or_path}' found.",
                dbus_error="org.freedesktop.portable1.NoSuchImage",
            )
        return img
    return image_at_path(host, name_or_path, pick=pick)


def discover_images(host: Host) -> list[Image]:
    """Every image in the search path (``list``), first occurrence of a name winning, by name."""
    systemd = host.systemd
    found: dict[str, Image] = {}
    for d in search_directories(host):
        for entry in host.listdir(d):
            if entry in (".", ".."):
                continue
            p = d / entry
            k = host.kind(p)
            if k is None:
                continue
            if k is FileKind.DIR:
                if systemd.vpick and entry.endswith(".v"):
                    try:
                        picked = pick_version(host, p, _name_filters(p))
                    except PortabledError:
                        continue
                    kind = _kind_of(host, picked)
                    if kind is None:
                        continue
                    name = entry[: -len(".v")]
                    if kind is ImageKind.RAW and name.endswith(".raw"):
                        name = name[: -len(".raw")]
                    path = host.resolve(picked) if systemd.resolves_image_symlinks else picked
                    img = Image(name, path, kind)
                else:
                    path = host.resolve(p) if systemd.resolves_image_symlinks else p
                    img = Image(entry, path, ImageKind.DIRECTORY)
            elif k is FileKind.FILE:
                if not entry.endswith(".raw"):
                    continue
                path = host.resolve(p) if systemd.resolves_image_symlinks else p
                img = Image(entry[: -len(".raw")], path, ImageKind.RAW)
            elif k is FileKind.BLOCKDEV:
                img = Image(entry, p, ImageKind.BLOCK)
            else:
                continue
            if not image_name_is_valid(img.name) or img.name in found:
                continue
            found[img.name] = img
    return [found[n] for n in sorted(found, key=os.fsencode)]


# -- portablectl's side --------------------------------------------------------------------------


def normalize_client_path(
    host: Host, arg: str, *, cwd: PurePosixPath = PurePosixPath("/"), must_exist: bool = True
) -> str:
    """portablectl's ``determine_image()`` for an argument that is not an image name.

    Made absolute against ``cwd``, all links resolved inside the root; a trailing slash is kept.
    A missing path fails with portablectl's message when ``must_exist``.
    """
    if not arg:
        raise UsageError(
            f"Cannot normalize specified image path '{arg}': {os.strerror(errno.EINVAL)}"
        )
    if any(len(os.fsencode(part)) > 255 for part in arg.split("/")):  # longer than NAME_MAX
        err = host.systemd.long_image_name_errno
        raise UsageError(f"Cannot normalize specified image path '{arg}': {os.strerror(err)}")
    trailing = arg.endswith("/") and arg.strip("/") != ""
    joined = PurePosixPath(cwd, arg) if not arg.startswith("/") else PurePosixPath(arg)
    try:
        real = host.resolve(joined)
        missing = host.kind(real, follow=False) is None
    except ImagePathError as e:
        if must_exist:
            raise UsageError(f"Cannot normalize specified image path '{arg}': {e.strerror}") from e
        return str(joined) + ("/" if trailing else "")
    if missing and must_exist:
        raise UsageError(
            f"Cannot normalize specified image path '{arg}': {os.strerror(errno.ENOENT)}"
        )
    out = str(real)
    if trailing and out != "/":
        out += "/"
    return out


# -- reading -----------------------------------------------------------------------------------


def open_image(host: Host, image: Image, *, arch: str = "x86-64") -> ImageSource:
    """A read-only source over the image's tree (a directory, or a raw disk image's file system)."""
    return open_image_with_policy(host, image, arch=arch)[0]


def open_image_with_policy(
    host: Host, image: Image, *, arch: str = "x86-64"
) -> tuple[ImageSource, ImagePolicy | None]:
    """The image's tree and, for raw images, the image policy systemd 262 pins for it
    (a :class:`portablekit.raw.ImagePolicy`). Dissection refusals of raw images come back as
    :class:`~portablekit.errors.PortabledError` with portabled's message."""
    if image.kind.is_tree:
        return host.image_tree(image.path), None
    from ..raw import DissectError, open_raw_image  # raw readers load only for raw images

    try:
        raw = open_raw_image(
            host.image_file(image.path), arch=arch, label=str(image.path), systemd=host.systemd
        )
    except DissectError as e:
        raise e.to_portabled_error(str(image.path)) from e
    return raw.source, raw.policy


@dataclass(frozen=True, slots=True)
class ImageStat:
    """What ``list`` shows of an image besides its name and state."""

    read_only: bool
    crtime: float | None
    mtime: float | None
    usage: int | None


def image_stat(host: Host, image: Image) -> ImageStat:
    """Read-only flag, times and disk usage as ``discover-image.c`` reports them."""
    try:
        st = os.stat(host.real(image.path))
    except (OSError, ImagePathError):
        return ImageStat(False, None, None, None)
    hidden = image.name.startswith(".") and host.systemd.hidden_images_read_only
    if image.kind.is_tree:
        ro = str(image.path).startswith("/usr/") or str(image.path) == "/usr" or hidden
        return ImageStat(ro, st.st_mtime, None, None)
    ro = not (_stat.S_IMODE(st.st_mode) & 0o222) or hidden
    return ImageStat(ro, st.st_mtime, st.st_mtime, st.st_blocks * 512)

"""Dissection: what portabled reads from an image and its extensions.

:func:`read_os_release`, :func:`scan_units` and :func:`find_extension_release` work on any
:class:`~portablekit.source.ImageSource`, so they serve notebooks and tests as well as the
simulated host. :func:`dissect` puts them together the way ``portable_extract()`` and
``portable_attach()`` do, with portabled's refusals as
:class:`~portablekit.errors.PortabledError`. Extensions' release files are :mod:`.extrelease`'s.

Every directory entry that is considered for a unit is kept as a :class:`UnitCandidate` with the
reason it was taken or skipped: portabled only logs those reasons at debug level.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ..display import NotebookDisplay
from ..errors import EnvFileError, FileTooLargeError, ImagePathError, PortabledError
from ..names import (
    PORTABLE_UNIT_TYPES,
    extension_name,
    is_hidden_or_backup,
    prefix_match,
    resolve_matches,
    unit_name_is_valid,
    unit_type,
)
from ..osrelease import MAX_ENV_FILE, EnvFile
from ..source import FileKind, ImageSource
from ..versions import Systemd
from .extrelease import ReleaseClass, find_extension_release, host_architecture, validate_extension
from .host import Host, unit_path
from .image import Image, image_at_path, lookup_image, open_image_with_policy

if TYPE_CHECKING:
    from ..raw.policy import ImagePolicy

__all__ = [
    "UNIT_DIRECTORIES",
    "Dissection",
    "ImageUnit",
    "Layer",
    "ReleaseClass",
    "SkipReason",
    "UnitCandidate",
    "dissect",
    "extensions_clause",
    "find_extension_release",
    "host_architecture",
    "image_os_release",
    "lacks_metadata",
    "no_units_message",
    "prefixes_message",
    "read_os_release",
    "scan_units",
    "validate_extension",
]


@cache
def _image_unit_dirs(systemd: Systemd) -> tuple[PurePosixPath, ...]:
    """:func:`~portablekit.portabled.host.unit_path` inside an image, as path objects (made
    once per version: every layer of every image is scanned along it)."""
    return tuple(PurePosixPath(p) for p in unit_path(systemd, image=True))


#: Unit directories inside an image, in portabled's priority order (system scope, 257+; see
#: :func:`~portablekit.portabled.host.unit_path` for 252's order).
UNIT_DIRECTORIES = _image_unit_dirs(Systemd())

#: The largest unit file portablekit reads (systemd refuses lines over 1 MiB anyway).
MAX_UNIT_FILE = 64 * 1024 * 1024


class SkipReason(StrEnum):
    """Why an entry of a unit directory was not attached (``None`` reason = taken)."""

    HIDDEN = "hidden or backup file name"
    INVALID_NAME = "not a valid unit name"
    UNIT_TYPE = "unit type is never attached"
    NO_MATCH = "name does not match the prefixes"
    DUPLICATE = "a unit of this name was already taken from a higher-priority place"
    NOT_A_FILE = "not a regular file or symlink"
    UNREADABLE = "cannot be opened (dangling symlink?)"
    EMPTY = "empty file (or masked with /dev/null)"


@dataclass(frozen=True, slots=True)
class UnitCandidate:
    """One entry of a unit directory of one layer, and what portabled made of it."""

    name: str
    directory: PurePosixPath
    layer: int
    reason: SkipReason | None = None

    @property
    def accepted(self) -> bool:
        """Whether the unit is attached from here."""
        return self.reason is None


@dataclass(frozen=True, slots=True)
class ImageUnit:
    """A unit file portabled takes from an image."""

    name: str
    data: bytes
    layer: int
    directory: PurePosixPath
    is_symlink: bool = False
    #: 252/257: a symbolic link to a directory is taken like a unit file and fails with this
    #: errno (``EISDIR``) when portabled reads it
    error: int | None = None

    @property
    def path(self) -> PurePosixPath:
        """Path of the entry inside its image (not resolved)."""
        return self.directory / self.name

    @property
    def type(self) -> str:
        """``service``, ``socket``, ``timer``, ``path`` or ``target``."""
        return unit_type(self.name)

    @property
    def text(self) -> str:
        """The unit file as text (UTF-8, as systemd reads it; an invalid byte reads as
        U+FFFD). :attr:`data` holds the bytes."""
        return self.data.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Layer:
    """The base image (layer 0) or one extension (layers 1..n)."""

    image: Image
    source: ImageSource
    release: EnvFile | None
    release_class: ReleaseClass | None
    release_path: str = ""
    extension_name: str = ""
    #: raw images: the image policy systemd 262 pins for this layer (``portablekit.raw``)
    policy: ImagePolicy | None = None


@dataclass(frozen=True, slots=True)
class Dissection(NotebookDisplay):
    """Everything portabled reads for ``inspect``/``attach``: layers and matching units."""

    base: Layer
    extensions: tuple[Layer, ...]
    units: tuple[ImageUnit, ...]
    candidates: tuple[UnitCandidate, ...]
    matches: tuple[str, ...]

    @property
    def layers(self) -> tuple[Layer, ...]:
        """Base first, then the extensions in ``--extension`` order."""
        return (self.base, *self.extensions)

    def unit(self, name: str) -> ImageUnit:
        """The unit called ``name``."""
        for u in self.units:
            if u.name == name:
                return u
        raise KeyError(name)


# -- os-release ---------------------------------------------------------------------------------

OS_RELEASE_PATHS = (PurePosixPath("/etc/os-release"), PurePosixPath("/usr/lib/os-release"))


def read_os_release(
    src: ImageSource, systemd: Systemd = Systemd(), *, check_utf8: bool = True
) -> tuple[EnvFile, str] | None:
    """The image's os-release and the path it came from, or ``None`` if there is none.

    ``/etc/os-release`` first, then ``/usr/lib/os-release``; only "not found" (also a dangling
    link) falls back. Links resolve inside the image. ``check_utf8`` off: invalid UTF-8 is
    kept (``inspect`` hands the bytes on, its client parses them).
    """
    for p in OS_RELEASE_PATHS:
        try:
            data = src.read_file(p, limit=MAX_ENV_FILE)
        except FileTooLargeError:
            raise
        except ImagePathError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                continue
            raise
        env = EnvFile.parse(data, origin=f"{src.label}{p}", systemd=systemd, check_utf8=check_utf8)
        return env, str(p)
    return None


def image_os_release(host: Host, image: str) -> EnvFile | None:
    """``GetImageOSRelease``: the os-release of an image by name or path, ``None`` if it has
    none or cannot be read."""
    try:
        src, _ = open_image_with_policy(host, lookup_image(host, image))
        found = read_os_release(src, host.systemd, check_utf8=False)
    except (PortabledError, ImagePathError, EnvFileError):
        return None
    return None if found is None else found[0]


# -- units --------------------------------------------------------------------------------------

UnitReader = Callable[[PurePosixPath, str], bytes]


def scan_units(
    src: ImageSource,
    matches: Sequence[str],
    *,
    layer: int = 0,
    taken: frozenset[str] = frozenset(),
    reader: UnitReader | None = None,
    directories: Sequence[PurePosixPath] = UNIT_DIRECTORIES,
    links_to_directories: bool = False,
) -> tuple[list[ImageUnit], list[UnitCandidate]]:
    """Unit files of one image that match ``matches`` (empty = all), as ``extract_now()``.

    ``directories`` in order (duplicates by real path removed; default :data:`UNIT_DIRECTORIES`,
    :func:`~portablekit.portabled.host.unit_path` gives each version's); per entry the filters
    hidden → valid name → attachable type → prefix → not taken yet → file or link → readable →
    not empty. ``reader(directory_real_path, name)`` reads an entry (default: through ``src``,
    links resolved inside the image); it lets the host resolve a unit's symlinks the way the
    kernel does for portabled. With ``links_to_directories`` (252/257) a symbolic link to a
    directory is taken like a unit file, with :attr:`ImageUnit.error` set.
    """
    units: list[ImageUnit] = []
    candidates: list[UnitCandidate] = []
    names = set(taken)
    seen_dirs: set[PurePosixPath] = set()
    for d in directories:
        try:
            real = src.resolve(d)
            if src.lstat(real).kind is not FileKind.DIR:
                continue
        except ImagePathError:
            continue
        if real in seen_dirs:
            continue
        seen_dirs.add(real)
        for entry in sorted(src.listdir(real)):

            def skip(reason: SkipReason, entry: str = entry, d: PurePosixPath = d) -> None:
                candidates.append(UnitCandidate(entry, d, layer, reason))

            if is_hidden_or_backup(entry):
                skip(SkipReason.HIDDEN)
                continue
            if not unit_name_is_valid(entry):
                skip(SkipReason.INVALID_NAME)
                continue
            if unit_type(entry) not in PORTABLE_UNIT_TYPES:
                skip(SkipReason.UNIT_TYPE)
                continue
            if matches and not any(prefix_match(entry, m) for m in matches):
                skip(SkipReason.NO_MATCH)
                continue
            if entry in names:
                skip(SkipReason.DUPLICATE)
                continue
            st = src.lstat(real / entry)
            if st.kind not in (FileKind.FILE, FileKind.SYMLINK):
                skip(SkipReason.NOT_A_FILE)
                continue
            try:
                if reader is not None:
                    data = reader(real, entry)
                else:
                    data = src.read_file(real / entry, limit=MAX_UNIT_FILE)
            except FileTooLargeError:
                raise
            except ImagePathError as e:
                if st.kind is FileKind.SYMLINK and e.errno == errno.EISDIR and links_to_directories:
                    # opened like a unit file (a directory opens), fails when it is read
                    names.add(entry)
                    candidates.append(UnitCandidate(entry, d, layer))
                    units.append(ImageUnit(entry, b"", layer, real, True, error=errno.EISDIR))
                elif st.kind is FileKind.SYMLINK and _points_to_dev_null(src, real / entry):
                    skip(SkipReason.EMPTY)
                else:
                    skip(SkipReason.UNREADABLE)
                continue
            if not data:
                skip(SkipReason.EMPTY)
                continue
            names.add(entry)
            candidates.append(UnitCandidate(entry, d, layer))
            # portabled names the directory it opened, links resolved (a merged-usr image's
            # lib/systemd/system is usr/lib/systemd/system)
            units.append(ImageUnit(entry, data, layer, real, st.kind is FileKind.SYMLINK))
    return units, candidates


def _points_to_dev_null(src: ImageSource, path: PurePosixPath) -> bool:
    """Whether a unit is masked (a link to ``/dev/null``, which images rarely contain)."""
    try:
        if src.readlink(path) == "/dev/null":
            return True
        return src.resolve(path) == PurePosixPath("/dev/null")
    except ImagePathError:
        return False


# -- putting it together ------------------------------------------------------------------------


def _host_reader(host: Host, image: Image) -> UnitReader | None:
    """Read unit entries through the host's file system, as the kernel resolves links for
    portabled (an absolute link in an image points to the *host*)."""
    if not image.is_tree or host.systemd.units_resolve_in_image:
        return None
    base = host.resolve(image.path)

    def read(real_dir: PurePosixPath, name: str) -> bytes:
        return host.fs.read_file(base / real_dir.relative_to("/") / name, limit=MAX_UNIT_FILE)

    return read


def _layer_units(
    host: Host,
    image: Image,
    src: ImageSource,
    matches: Sequence[str],
    layer: int,
    taken: frozenset[str],
) -> tuple[list[ImageUnit], list[UnitCandidate]]:
    """The units of one layer as portabled extracts them from that image."""
    systemd = host.systemd
    dirs = _image_unit_dirs(systemd)
    links = not systemd.skips_unit_links_to_directories
    units, candidates = scan_units(
        src,
        matches,
        layer=layer,
        taken=taken,
        reader=_host_reader(host, image),
        directories=dirs,
        links_to_directories=links,
    )
    bad = next((i for i, u in enumerate(units) if u.error is not None), None)
    if not image.is_tree and bad is not None:
        # a raw image is dissected in a child process, which sends the units as it finds
        # them and fails at such a unit: the parent keeps the units sent before it
        return units[:bad], candidates
    return units, candidates


def _resolved(host: Host, img: Image) -> Image:
    real = image_at_path(host, str(img.path), pick=True)
    return Image(img.name if real.path == img.path else real.name, real.path, real.kind)


def lacks_metadata(systemd: Systemd, image: Image, what: str) -> PortabledError:
    """The refusal of an image without the release file a call needs (``what``: ``os-release``
    for the base, ``extension-release`` for an extension, also a raw extension that carries
    ``/usr/lib/os-release`` from 257 on). 262 dissects a raw image in a child process that
    fails with ``ENOMEDIUM``, whose bare text portabled sends on."""
    if not image.is_tree and systemd.raw_missing_metadata_is_enomedium:
        return PortabledError.from_errno(errno.ENOMEDIUM, detail=f"{image.path}: no {what} data")
    return PortabledError(f"Image '{image.path}' lacks {what} data, refusing.")


def extensions_clause(extensions: Sequence[str]) -> str:
    """What portabled inserts after an image path when extensions were given."""
    return f"' or any of its extensions '{', '.join(extensions)}" if extensions else ""


def no_units_message(image: str, extensions: Sequence[str] = ()) -> str:
    """portabled's refusal when no unit file matches (attach, reattach, inspect)."""
    return (
        f"Couldn't find any matching unit files in image '{image}{extensions_clause(extensions)}'"
        ", refusing."
    )


def prefixes_message(
    matches: Sequence[str], image: str, extensions: Sequence[str], valid: Iterable[str]
) -> str:
    """portabled's refusal when the matches are not among ``PORTABLE_PREFIXES``."""
    return (
        "Selected matches '" + "', '".join(matches) + "' are not compatible with portable "
        f"service image '{image}{extensions_clause(extensions)}', refusing. (Acceptable prefix "
        "matches are: " + ", ".join(sorted(valid)) + ")"
    )


def dissect(
    host: Host,
    image: str | Image,
    *,
    matches: Sequence[str] | None = None,
    extensions: Sequence[str] = (),
    attach: bool = True,
    force: bool = False,
    host_arch: str | None = None,
) -> Dissection:
    """Extract an image and its extensions as portabled does for ``attach`` or ``inspect``.

    ``image`` and ``extensions`` are names or absolute host paths as portablectl sends them;
    ``matches`` the unit prefixes (default: derived from ``image`` as portablectl does, see
    :func:`~portablekit.names.resolve_matches`; ``[]``: every unit file). ``attach=True``
    adds the checks only attach and reattach make (os-release ``ID``, extension
    compatibility, ``PORTABLE_PREFIXES``, ``PORTABLE_SCOPE``). Raises
    :class:`~portablekit.errors.PortabledError` with portabled's message; a file of the image
    that cannot be read becomes the bare errno portabled reports, with the file named in
    ``detail``.
    """
    arg = image if isinstance(image, str) else str(image.path)
    prefixes = resolve_matches(matches, arg, host.systemd)
    try:
        return _dissect(
            host,
            image,
            matches=prefixes,
            extensions=extensions,
            attach=attach,
            force=force,
            host_arch=host_arch,
        )
    except ImagePathError as e:
        raise PortabledError.from_errno(e.errno or errno.EIO, detail=str(e)) from e
    except EnvFileError as e:  # portabled's env-file parser fails with EINVAL
        raise PortabledError.from_errno(errno.EINVAL, detail=str(e)) from e


def _dissect(
    host: Host,
    image: str | Image,
    *,
    matches: Sequence[str],
    extensions: Sequence[str],
    attach: bool,
    force: bool,
    host_arch: str | None,
) -> Dissection:
    systemd = host.systemd
    img = image if isinstance(image, Image) else lookup_image(host, image)
    ext_images = [lookup_image(host, e) for e in extensions]
    if attach and systemd.vpick:
        # 256+ resolve the image's path (links, NAME.v) before attaching from it
        img = _resolved(host, img)
        ext_images = [_resolved(host, e) for e in ext_images]
    names = [e.name for e in ext_images]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise PortabledError.from_errno(
            errno.EEXIST, detail=f"extension named twice: {', '.join(twice)}"
        )

    src, policy = open_image_with_policy(host, img)
    # inspect sends the os-release on as bytes (portablectl parses it); attach parses it
    osr = read_os_release(src, systemd, check_utf8=attach)
    if osr is None:
        raise lacks_metadata(systemd, img, "os-release")
    os_release, os_path = osr
    units, candidates = _layer_units(host, img, src, matches, 0, frozenset())
    base = Layer(img, src, os_release, ReleaseClass.OS, os_path, policy=policy)

    if attach:
        if not os_release.get("ID"):
            raise PortabledError.errno_message(
                errno.ESTALE, f"Image {img.path} os-release metadata lacks the ID field"
            )
        if systemd.portable_scope:
            scope = os_release.get("PORTABLE_SCOPE")
            if scope is not None and scope not in ("system", "user", "any"):
                raise PortabledError(f"Invalid PORTABLE_SCOPE value '{scope}' in image {img.path}.")
            if scope == "user":
                raise PortabledError(
                    f"Image {img.path} portable scope 'user' incompatible with portabled "
                    "runtime scope 'system'."
                )

    layers: list[Layer] = []
    taken = frozenset(u.name for u in units)
    for i, ext in enumerate(ext_images, start=1):
        esrc, epolicy = open_image_with_policy(host, ext)
        raw = not ext.is_tree
        ename = extension_name(ext.file_name, raw, systemd)
        relaxed = force and (raw or systemd.force_accepts_any_extension_name)
        found: tuple[EnvFile, ReleaseClass, str] | None
        if raw and systemd.raw_extension_refuses_os_release and esrc.exists("/usr/lib/os-release"):
            found = None
        else:
            found = find_extension_release(esrc, ename, systemd, relaxed=relaxed)
        if found is None:
            if raw or not systemd.missing_extension_release_is_enoent:
                raise lacks_metadata(systemd, ext, "extension-release")
            raise PortabledError.from_errno(
                errno.ENOENT, detail=f"{ext.path}: no extension-release data"
            )
        release, cls, rpath = found
        eunits, ecands = _layer_units(host, ext, esrc, matches, i, taken)
        units.extend(eunits)
        candidates.extend(ecands)
        taken = taken | {u.name for u in eunits}
        if attach and not validate_extension(os_release, release, systemd, host_arch=host_arch):
            raise PortabledError.errno_message(
                errno.ESTALE,
                f"Image {ext.path} extension-release metadata does not match the root's",
            )
        layers.append(Layer(ext, esrc, release, cls, rpath, ename, policy=epolicy))

    if attach:
        valid: set[str] = set(os_release.words("PORTABLE_PREFIXES"))
        declared = os_release.get("PORTABLE_PREFIXES") is not None
        for layer in layers:
            assert layer.release is not None
            valid.update(layer.release.words("PORTABLE_PREFIXES"))
        if (declared or valid) and not all(m in valid for m in matches):
            ext_paths = [str(e.path) for e in ext_images]
            raise PortabledError(prefixes_message(matches, str(img.path), ext_paths, valid))

    if not units:
        raise PortabledError(no_units_message(str(img.path), [str(e.path) for e in ext_images]))
    if not attach:
        for u in units:
            if u.error is not None:  # inspect reads every unit file
                raise PortabledError.from_errno(u.error, detail=f"{u.path}: cannot be read")
    units.sort(key=lambda u: u.name.encode("utf-8", "surrogateescape"))
    return Dissection(base, tuple(layers), tuple(units), tuple(candidates), tuple(matches))

"""What a sandbox root offers the widgets' choice lists: images by role, attachable bases,
profiles. Scanned anew on every refresh, so images and profiles added later show up.

An image is a *base* when it has an os-release (or no release file of any kind: a broken base,
kept so portabled's refusal can be seen), an *extension* when it has an extension-release (or
an ``extension-release.d`` directory whose file portabled cannot use: a broken extension). A
base is *attachable* when ``portablectl attach NAME`` would succeed on the root as it is: the
widgets open on the first one, not on the first name in alphabetical order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from ..errors import PortableKitError
from ..names import derive_prefix, extension_name
from ..portabled.attach import plan_attach
from ..portabled.dissect import ReleaseClass, find_extension_release, read_os_release
from ..portabled.host import Host
from ..portabled.image import Image, discover_images, open_image
from ..portabled.profiles import list_profiles

__all__ = ["Catalog", "Role", "keep_choice"]

_RELEASE_DIRS = (
    PurePosixPath("/usr/lib/extension-release.d"),
    PurePosixPath("/etc/extension-release.d"),
)


class Role(StrEnum):
    """What an image is for."""

    BASE = "base"
    EXTENSION = "extension"


@dataclass(frozen=True)
class Catalog:
    """The images and profiles of a root, as the choice lists show them."""

    #: every image ``portablectl list`` shows, by name
    images: tuple[str, ...]
    #: name -> role, and the release class when the release file was read
    roles: dict[str, Role]
    release_class: dict[str, str]
    #: name -> the image's own path (an image link in /etc/portables resolved)
    paths: dict[str, str]
    #: bases ``portablectl attach NAME`` attaches on the root as it is, in list order
    attachable: tuple[str, ...]
    profiles: tuple[str, ...]

    @classmethod
    def scan(cls, host: Host) -> Catalog:
        """Look at every image and profile of ``host``."""
        roles: dict[str, Role] = {}
        release: dict[str, str] = {}
        paths: dict[str, str] = {}
        images = discover_images(host)
        for img in images:
            role, rel = _role(host, img)
            roles[img.name] = role
            if rel:
                release[img.name] = rel
            paths[img.name] = str(host.resolve(img.path))
        attachable = tuple(
            img.name
            for img in images
            if roles[img.name] is Role.BASE and release.get(img.name) and _attaches(host, img)
        )
        return cls(
            tuple(i.name for i in images),
            roles,
            release,
            paths,
            attachable,
            tuple(list_profiles(host)),
        )

    @property
    def bases(self) -> tuple[str, ...]:
        """Images a base-image list offers."""
        return tuple(n for n in self.images if self.roles[n] is Role.BASE)

    @property
    def extensions(self) -> tuple[str, ...]:
        """Images an extension list offers."""
        return tuple(n for n in self.images if self.roles[n] is Role.EXTENSION)

    def default_base(self) -> str | None:
        """The first attachable base, else the first base, else ``None``."""
        return next(iter(self.attachable), next(iter(self.bases), None))

    def is_extension(self, name: str) -> bool:
        """Whether ``name`` is an extension image of the root."""
        return self.roles.get(name) is Role.EXTENSION


def _role(host: Host, img: Image) -> tuple[Role, str]:
    try:
        src = open_image(host, img)
        if read_os_release(src, host.systemd) is not None:
            return Role.BASE, ReleaseClass.OS.value
        name = extension_name(img.file_name, not img.is_tree, host.systemd)
        try:
            found = find_extension_release(src, name, host.systemd)
        except PortableKitError:
            found = None
        if found is not None:
            return Role.EXTENSION, found[1].value
        if any(src.is_dir(d) for d in _RELEASE_DIRS):
            return Role.EXTENSION, ""
    except (PortableKitError, OSError):
        pass
    return Role.BASE, ""


def _attaches(host: Host, img: Image) -> bool:
    try:
        return plan_attach(host, img.name, matches=[derive_prefix(img.name, host.systemd)]).ok
    except PortableKitError:
        return False


def keep_choice(options: Sequence[str], current: str | None, default: str | None) -> str | None:
    """The value a list keeps after its options change: the current one while it is still
    offered, else ``default`` (if offered), else the first option."""
    if current in options:
        return current
    if default in options:
        return default
    return options[0] if options else None

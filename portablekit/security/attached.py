"""A portable unit as attached: the unit file with the drop-ins portabled and the host give it.

portabled attaches a service with its profile as ``10-profile.conf`` and its
``20-portable.conf`` (the image it runs from); local drop-ins such as ``50-override.conf`` add to
them. :func:`attached_unit` merges that stack (:mod:`portablekit.security.effective`).
:func:`unit_file_dropin` gives the ``20-portable.conf`` of a unit file that comes without its
image: the text is :func:`portablekit.portabled.dropin.render_portable_dropin`'s for a
:class:`~portablekit.portabled.dropin.BareImage` of the chosen :class:`RootKind`.

>>> from portablekit.versions import Systemd
>>> print(unit_file_dropin(Systemd(257), "app.service", RootKind.RAW), end="")
[Service]
RootImage=/var/lib/portables/app.raw
Environment=PORTABLE=app.raw
LogExtraFields=PORTABLE=app.raw
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import PurePosixPath

from ..portabled.dropin import PORTABLE_DROPIN, BareImage, render_portable_dropin
from ..portabled.image import Image, ImageKind
from ..unitfile import UnitFile
from ..versions import Systemd
from .effective import Dropin, EffectiveUnit, effective_unit

__all__ = ["RootKind", "attached_unit", "default_image_path", "unit_file_dropin"]


class RootKind(StrEnum):
    """What the portable drop-in points the unit at: nothing, a directory tree or a raw image."""

    NONE = "none"
    DIRECTORY = "directory"
    RAW = "raw"


def default_image_path(unit_name: str, kind: RootKind | str) -> str:
    """Where the image of a unit file is assumed to be: ``/var/lib/portables/PREFIX`` (``.raw``
    for a raw image), ``PREFIX`` being the unit name up to its ``@`` or type suffix."""
    prefix = unit_name.split("@")[0].rsplit(".", 1)[0]
    suffix = ".raw" if RootKind(kind) is RootKind.RAW else ""
    return f"/var/lib/portables/{prefix}{suffix}"


def unit_file_dropin(
    systemd: Systemd,
    unit_name: str,
    kind: RootKind | str,
    image_path: str | None = None,
    *,
    name_and_version: str | None = None,
) -> UnitFile | None:
    """The ``20-portable.conf`` of the unit file ``unit_name`` attached from an image of
    ``kind`` at ``image_path`` (default: :func:`default_image_path`), parsed; ``None`` for
    :attr:`RootKind.NONE`. ``name_and_version`` stands for the image's ``ID_VERSION_ID``."""
    kind = RootKind(kind)
    if kind is RootKind.NONE:
        return None
    path = PurePosixPath(image_path or default_image_path(unit_name, kind))
    image = Image.from_path(path, ImageKind.RAW if kind is RootKind.RAW else ImageKind.DIRECTORY)
    text = render_portable_dropin(systemd, BareImage(image, name_and_version))
    return UnitFile.parse(text, origin=PORTABLE_DROPIN)


def attached_unit(
    unit: UnitFile,
    name: str,
    *,
    systemd: Systemd = Systemd(),
    profile: UnitFile | None = None,
    portable: UnitFile | None = None,
    local: Mapping[str, UnitFile] | Iterable[Dropin] = (),
    profile_dropin: str = "10-profile.conf",
) -> EffectiveUnit:
    """The unit ``name`` as portabled of ``systemd`` attaches it: the unit file, the profile as
    ``10-profile.conf``, ``portable`` as ``20-portable.conf`` and the ``local`` drop-ins.

    ``profile_dropin="profile.conf"`` places the profile as ``systemd-analyze --profile`` does
    (after local drop-ins such as ``50-override.conf``).
    """
    layers = (
        list(local.items()) if isinstance(local, Mapping) else [(x.name, x.unit) for x in local]
    )
    stack: list[Dropin] = [Dropin(n, u) for n, u in layers]
    if portable is not None:
        stack.insert(0, Dropin(PORTABLE_DROPIN, portable))
    if profile is not None:
        # a local drop-in of the same name wins, as the higher-priority directory does
        stack.append(Dropin(profile_dropin, profile))
    return effective_unit(name, unit, stack, systemd=systemd)

"""Why a raw disk image cannot be dissected, spelled as systemd-portabled spells it.

systemd's ``dissect_image()`` fails with an errno; ``portable_extract_by_path()`` turns five of
them into messages of its own and passes the others on as a bare errno (``strerror``). Each
:class:`DissectError` keeps that errno, so :meth:`DissectError.portabled_message` and
:meth:`DissectError.to_portabled_error` give the exact text and D-Bus error name for an image
path, on every systemd version (which errno a given layout produces is decided in
:mod:`portablekit.raw.layout`, per version).

>>> NoRootError(image="x.raw").portabled_message("/var/lib/portables/x.raw")
"No suitable root partition found in image '/var/lib/portables/x.raw'."
"""

from __future__ import annotations

import errno as _errno
import os

from ..errors import PortabledError, RawImageError

__all__ = [
    "DissectError",
    "MountError",
    "MultipleRootsError",
    "NoPartitionTableError",
    "NoRootError",
    "NoRootForRootHashError",
    "VeritySignatureError",
]

_INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"

#: errnos that portable.c reports with a sentence of its own (``%s`` is the image path)
_MESSAGES: dict[int, str] = {
    _errno.ENOPKG: "Couldn't identify a suitable partition table or file system in '{}'.",
    _errno.EADDRNOTAVAIL: "No root partition for specified root hash found in '{}'.",
    _errno.ENOTUNIQ: "Multiple suitable root partitions found in image '{}'.",
    _errno.ENXIO: "No suitable root partition found in image '{}'.",
    _errno.EPROTONOSUPPORT: (
        "Device '{}' is loopback block device with partition scanning turned off, please turn "
        "it on."
    ),
}


class DissectError(RawImageError):
    """systemd-portabled refuses to dissect this image; ``errno`` is the reason it returns.

    ``message`` (and ``str()``) explain the cause for people; :meth:`portabled_message` is the
    text portabled sends back, which only depends on ``errno`` and the image path.
    """

    #: the errno systemd's dissection returns for this condition
    default_errno: int = _errno.EINVAL

    def __init__(
        self, message: str = "", *, image: str = "", structure: str = "", errno: int | None = None
    ) -> None:
        self.errno = self.default_errno if errno is None else errno
        super().__init__(message or os.strerror(self.errno), image=image, structure=structure)

    def portabled_message(self, image_path: str) -> str:
        """The error message systemd-portabled sends for ``image_path``."""
        template = _MESSAGES.get(self.errno)
        return template.format(image_path) if template else os.strerror(self.errno)

    @property
    def dbus_error(self) -> str:
        """The D-Bus error name the message travels as."""
        if self.errno in _MESSAGES:
            return _INVALID_ARGS
        return f"System.Error.{_errno.errorcode.get(self.errno, str(self.errno))}"

    def to_portabled_error(self, image_path: str) -> PortabledError:
        """This refusal as a :class:`~portablekit.errors.PortabledError` for ``image_path``."""
        if self.errno in _MESSAGES:
            return PortabledError(
                self.portabled_message(image_path), dbus_error=_INVALID_ARGS, detail=str(self)
            )
        return PortabledError.from_errno(self.errno, detail=str(self))


class NoPartitionTableError(DissectError):
    """Neither a file system nor a GPT/MBR partition table was found (``ENOPKG``)."""

    default_errno = _errno.ENOPKG


class NoRootForRootHashError(DissectError):
    """Verity data without the partition it protects, or root and /usr that do not match
    (``EADDRNOTAVAIL``; 262 reports mismatched architectures as ``EREMOTE``)."""

    default_errno = _errno.EADDRNOTAVAIL


class MultipleRootsError(DissectError):
    """Several generic Linux partitions and no marked root or /usr (``ENOTUNIQ``)."""

    default_errno = _errno.ENOTUNIQ


class NoRootError(DissectError):
    """No partition can serve as root (or /usr) (``ENXIO``)."""

    default_errno = _errno.ENXIO


class VeritySignatureError(DissectError):
    """A verity signature partition that does not hold systemd's JSON (``ENODATA``, 262)."""

    default_errno = _errno.ENODATA


class MountError(DissectError):
    """The partitions were found, but mounting them fails: a partition without a file system
    the kernel knows (``EAFNOSUPPORT``), a missing mount point (``ENOENT``).

    portabled 260+ reports the errno; older versions find no os-release in the (unmounted) tree
    and refuse with their "lacks os-release data" message, which :attr:`lacks_metadata` flags
    and :meth:`portabled_message` then returns (for an extension, the caller words it as
    "lacks extension-release data").
    """

    default_errno = _errno.ENOENT
    lacks_metadata: bool = False

    def portabled_message(self, image_path: str) -> str:
        if self.lacks_metadata:
            return f"Image '{image_path}' lacks os-release data, refusing."
        return super().portabled_message(image_path)

    def to_portabled_error(self, image_path: str) -> PortabledError:
        if self.lacks_metadata:
            return PortabledError(self.portabled_message(image_path), detail=str(self))
        return super().to_portabled_error(image_path)

"""The exceptions portablekit raises, one tree with one root.

::

    PortableKitError
    ├── ParseError (ValueError)            a file that does not parse; origin, line, column, caret
    │   ├── EnvFileError                    os-release / extension-release
    │   └── UnitFileError                   unit files and drop-ins
    ├── ImageError                          reading an image went wrong
    │   ├── ImageNameError (ValueError)     not a valid image name / path
    │   ├── ImagePathError (OSError)        a path inside an image: missing, not a directory, ...
    │   ├── SymlinkLoopError (OSError)      too many levels of symbolic links inside an image
    │   ├── FileTooLargeError (OSError)     a metadata file larger than we agree to read
    │   └── RawImageError                   a raw disk image could not be read
    │       ├── CorruptImageError           a structure of the image is broken
    │       ├── UnsupportedImageError       valid, but a feature we do not read
    │       └── MissingExtraError (ImportError)  an optional compressor is not installed
    ├── NotRegularFileError (OSError)       a file named on a command line is a FIFO, a device...
    ├── PortabledError                      a refusal systemd-portabled makes (exact message)
    ├── UsageError                          a command line refused: portablectl's own (exit 1),
    │                                       the kit's commands and global options (exit 2)
    ├── SandboxError                        the sandbox root is missing, unsafe or inconsistent
    └── ScenarioError                       an oracle scenario cannot be replayed

Where systemd prints a message, :attr:`PortabledError.message` and :attr:`UsageError.message` hold
its exact text; richer explanations live in other attributes, never in the message.
"""

from __future__ import annotations

import errno as _errno
import os

__all__ = [
    "CorruptImageError",
    "EnvFileError",
    "FileTooLargeError",
    "ImageError",
    "ImageNameError",
    "ImagePathError",
    "MissingExtraError",
    "NotRegularFileError",
    "ParseError",
    "PortableKitError",
    "PortabledError",
    "RawImageError",
    "SandboxError",
    "ScenarioError",
    "SymlinkLoopError",
    "UnitFileError",
    "UnsupportedImageError",
    "UsageError",
]


class PortableKitError(Exception):
    """Root of every exception portablekit raises on purpose."""


class ParseError(PortableKitError, ValueError):
    """A file does not parse.

    ``origin`` names the file (a host path, or a path inside an image), ``line`` and ``column`` are
    1-based (0 when unknown) and ``text`` is the offending line, shown with a caret under
    ``column`` by ``str()``.
    """

    def __init__(
        self,
        reason: str,
        *,
        origin: str = "<string>",
        line: int = 0,
        column: int = 0,
        text: str = "",
    ) -> None:
        self.reason = reason
        self.origin = origin
        self.line = line
        self.column = column
        self.text = text
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.origin
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        out = f"{where}: {self.reason}"
        if self.text:
            out += "\n    " + self.text
            if self.column:
                out += "\n    " + " " * (self.column - 1) + "^"
        return out

    def __reduce__(self) -> tuple[object, ...]:  # keep keyword-only arguments picklable
        return (_rebuild, (type(self), self.reason, self.origin, self.line, self.column, self.text))


def _rebuild(
    cls: type[ParseError], reason: str, origin: str, line: int, column: int, text: str
) -> ParseError:
    return cls(reason, origin=origin, line=line, column=column, text=text)


class EnvFileError(ParseError):
    """An os-release or extension-release file that systemd's env-file parser rejects."""


class UnitFileError(ParseError):
    """A unit file or drop-in that systemd's unit-file parser rejects."""


class ImageError(PortableKitError):
    """Reading an image failed."""


class ImageNameError(ImageError, ValueError):
    """A string is neither a valid image name nor a usable image path."""


class ImagePathError(ImageError, OSError):
    """A path inside an image cannot be used (missing, not a directory, not a regular file...).

    Behaves like the matching :class:`OSError` (``errno``, ``strerror``, ``filename``), so code
    that tests ``errno.ENOENT`` works; ``image`` names the image.
    """

    def __init__(self, err: int, path: str, image: str = "") -> None:
        self.image = image
        super().__init__(err, os.strerror(err), path)

    def __str__(self) -> str:
        where = f"{self.image}: " if self.image else ""
        return f"{where}{self.filename}: {self.strerror}"


class SymlinkLoopError(ImagePathError):
    """Too many levels of symbolic links while resolving a path inside an image (``ELOOP``)."""

    def __init__(self, path: str, image: str = "") -> None:
        super().__init__(_errno.ELOOP, path, image)


class FileTooLargeError(ImagePathError):
    """A metadata file (os-release, a unit file) is larger than the limit we read (``EFBIG``)."""

    def __init__(self, path: str, image: str = "", limit: int = 0) -> None:
        self.limit = limit
        super().__init__(_errno.EFBIG, path, image)

    def __str__(self) -> str:
        return f"{super().__str__()} (larger than {self.limit} bytes)"


class RawImageError(ImageError):
    """A raw disk image could not be read. ``image`` names the file, ``structure`` the part."""

    def __init__(self, message: str, *, image: str = "", structure: str = "") -> None:
        self.message = message
        self.image = image
        self.structure = structure
        parts = [p for p in (image, structure) if p]
        super().__init__(": ".join([*parts, message]))


class CorruptImageError(RawImageError):
    """A structure of a raw image is broken (bad magic, bad checksum, out of bounds, cycle)."""


class UnsupportedImageError(RawImageError):
    """A raw image uses a feature portablekit does not read."""


class MissingExtraError(RawImageError, ImportError):
    """An optional dependency (a compressor) is missing; ``extra`` names what to install."""

    def __init__(self, message: str, *, extra: str, image: str = "", structure: str = "") -> None:
        self.extra = extra
        super().__init__(message, image=image, structure=structure)


class NotRegularFileError(PortableKitError, OSError):
    """A file of this machine named on a command line (a unit file, a profile) is not a regular
    file: a FIFO, a socket, a device or a directory. ``kind`` says which."""

    def __init__(self, path: str, kind: str) -> None:
        self.kind = kind
        err = _errno.EISDIR if kind == "directory" else _errno.EINVAL
        super().__init__(err, os.strerror(err), path)

    def __str__(self) -> str:
        return f"{self.filename}: not a regular file but a {self.kind}"


class PortabledError(PortableKitError):
    """A refusal of systemd-portabled.

    ``message`` is the daemon's error message, byte for byte as portablectl prints it after
    ``"<Method> failed: "``; ``dbus_error`` the D-Bus error name it travels as; ``errno`` is set
    for errors that are a bare errno in systemd (their message is then ``strerror``).
    ``detail`` may hold a longer explanation that systemd only writes to its debug log.
    """

    def __init__(
        self,
        message: str,
        *,
        dbus_error: str = "org.freedesktop.DBus.Error.InvalidArgs",
        errno: int = 0,
        detail: str = "",
    ) -> None:
        self.message = message
        self.dbus_error = dbus_error
        self.errno = errno
        self.detail = detail
        super().__init__(message)

    @classmethod
    def from_errno(cls, err: int, detail: str = "") -> PortabledError:
        """An error that systemd reports as a bare errno (``System.Error.E...``)."""
        name = _errno.errorcode.get(err, str(err))
        return cls(os.strerror(err), dbus_error=f"System.Error.{name}", errno=err, detail=detail)

    @classmethod
    def errno_message(cls, err: int, message: str) -> PortabledError:
        """An errno error that systemd sends with a message of its own."""
        name = _errno.errorcode.get(err, str(err))
        return cls(message, dbus_error=f"System.Error.{name}", errno=err)


class UsageError(PortableKitError):
    """A command line refused: ``message`` as printed, ``exit_code`` the status to exit with.

    portablectl's own refusals (bad option, bad prefix, ...) keep its exact text and its exit
    status 1; the ``portablekit`` command's own options and commands use 2, as argparse does.
    """

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        self.message = message
        self.exit_code = exit_code
        super().__init__(message)


class SandboxError(PortableKitError):
    """The sandbox root is missing, unreadable, or an operation would leave it."""


class ScenarioError(PortableKitError):
    """An oracle scenario directory is malformed or cannot be replayed."""

"""Release files of extensions, and the architecture they name.

:func:`find_extension_release` finds an extension's ``extension-release.NAME`` the way
``open_extension_release()`` does, :func:`validate_extension` decides whether it may go on a
base image (``extension_release_validate()``); :class:`ReleaseClass` says which release file a
layer was recognised by. :mod:`.dissect` puts them to work.

>>> ReleaseClass.SYSEXT.value
'sysext'
"""

from __future__ import annotations

import errno
import platform
from enum import StrEnum
from pathlib import PurePosixPath

from ..errors import FileTooLargeError, ImagePathError, PortabledError
from ..names import image_base_name, image_name_is_valid, is_hidden_or_backup
from ..osrelease import MAX_ENV_FILE, EnvFile
from ..source import FileKind, ImageSource
from ..versions import Systemd

__all__ = [
    "ReleaseClass",
    "find_extension_release",
    "host_architecture",
    "validate_extension",
]

_ARCHITECTURES = {
    "x86_64": "x86-64",
    "amd64": "x86-64",
    "i386": "x86",
    "i686": "x86",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "ppc64le": "ppc64-le",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
}


def host_architecture() -> str:
    """The machine's architecture in systemd's spelling (``x86-64``, ``arm64``, ...)."""
    m = platform.machine()
    return _ARCHITECTURES.get(m, m)


class ReleaseClass(StrEnum):
    """Which release file a layer was recognised by."""

    OS = "os-release"
    SYSEXT = "sysext"
    CONFEXT = "confext"


_RELEASE_DIRS = {
    ReleaseClass.SYSEXT: PurePosixPath("/usr/lib/extension-release.d"),
    ReleaseClass.CONFEXT: PurePosixPath("/etc/extension-release.d"),
}
_FALSE = frozenset({"0", "no", "n", "false", "f", "off"})


def find_extension_release(
    src: ImageSource, name: str, systemd: Systemd, *, relaxed: bool = False
) -> tuple[EnvFile, ReleaseClass, str] | None:
    """The extension-release file of an extension called ``name`` (``open_extension_release``).

    Returns the parsed file, its class and the path portabled reports
    (``/usr/lib/extension-release.d/extension-release.<name>`` even when another file was
    accepted), ``None`` when there is none. Several acceptable files raise ``ENOTUNIQ``.
    """
    classes = [ReleaseClass.SYSEXT]
    if systemd.confext:
        classes.append(ReleaseClass.CONFEXT)
    base = image_base_name(name) if systemd.extension_name_strips_version else None
    for cls in classes:
        d = _RELEASE_DIRS[cls]
        reported = str(d / f"extension-release.{name}")
        exact = d / f"extension-release.{name}"
        try:
            data = src.read_file(exact, limit=MAX_ENV_FILE)
            return (
                EnvFile.parse(data, origin=f"{src.label}{exact}", systemd=systemd),
                cls,
                reported,
            )
        except FileTooLargeError:
            raise
        except ImagePathError as e:
            if e.errno not in (errno.ENOENT, errno.ENOTDIR):
                raise
        try:
            real_dir = src.resolve(d)
            entries = src.listdir(real_dir) if src.lstat(real_dir).kind is FileKind.DIR else []
        except ImagePathError:
            entries = []
        accepted: list[PurePosixPath] = []
        for entry in sorted(entries):
            if is_hidden_or_backup(entry) or not entry.startswith("extension-release."):
                continue
            rest = entry[len("extension-release.") :]
            if not image_name_is_valid(rest):
                continue
            p = real_dir / entry
            if src.lstat(p).kind is not FileKind.FILE:
                continue  # symbolic links are not candidates
            ok = relaxed or (base is not None and rest == base)
            if not ok:
                xattr = src.getxattr(p, "user.extension-release.strict")
                ok = (
                    xattr is not None and xattr.decode("utf-8", "replace").strip().lower() in _FALSE
                )
            if ok:
                accepted.append(p)
        if len(accepted) > 1:
            raise PortabledError.from_errno(
                errno.ENOTUNIQ,
                detail=f"{src.label}: more than one extension-release file fits: "
                + ", ".join(map(str, accepted)),
            )
        if accepted:
            data = src.read_file(accepted[0], limit=MAX_ENV_FILE)
            env = EnvFile.parse(data, origin=f"{src.label}{accepted[0]}", systemd=systemd)
            return env, cls, reported
    return None


def validate_extension(
    base: EnvFile, ext: EnvFile, systemd: Systemd, *, host_arch: str | None = None
) -> bool:
    """``extension_release_validate()``: may this extension go on this base image?"""
    if not ext.assignments:
        return False
    scope = ext.pair("SYSEXT_SCOPE")
    words = scope.split() if scope is not None else ["system", "portable"]
    if "portable" not in words:
        return False
    arch = ext.pair("ARCHITECTURE")
    if arch and arch != "_any" and arch != (host_arch or host_architecture()):
        return False
    ext_id = ext.pair("ID")
    if not ext_id:
        return False
    if ext_id == "_any":
        return True
    base_id = base.get("ID")
    if ext_id != base_id:
        like = base.words("ID_LIKE") if systemd.extension_id_like else ()
        if ext_id not in like:
            return False
    base_version = base.get("VERSION_ID") or ""
    base_level = base.get("SYSEXT_LEVEL") or ""
    ext_level = ext.pair("SYSEXT_LEVEL") or ""
    if not base_version and not base_level:
        return True
    if base_level and ext_level:
        return base_level == ext_level
    if base_version:
        return (ext.pair("VERSION_ID") or "") == base_version
    return True

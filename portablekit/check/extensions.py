"""The checks of an extension image: its extension-release file, and whether it fits the base.

portabled finds an extension's release file by the image's name
(``/usr/lib/extension-release.d/extension-release.NAME``, or ``/etc/extension-release.d/`` for a
configuration extension) and refuses the extension when there is none, or more than one that
could be it, or when its fields do not match the base image's os-release: ``SYSEXT_SCOPE=``,
``ARCHITECTURE=``, ``ID=``, ``VERSION_ID=``/``SYSEXT_LEVEL=``. :func:`extension_verdict` says why
it refuses one release file on one base; :func:`check_extension` finds the file first and checks
a whole extension for :func:`portablekit.check.image.check_image`.

>>> from portablekit.osrelease import EnvFile
>>> from portablekit.versions import Systemd
>>> base = EnvFile.parse("ID=debian\\nVERSION_ID=12\\n")
>>> ext = EnvFile.parse("ID=debian\\nVERSION_ID=11\\n")
>>> rule, what, fix = extension_verdict(base, ext, Systemd(257), host_arch="x86-64")
>>> rule.value, what
('extension-version', 'VERSION_ID=11, but the base image has VERSION_ID=12')
"""

from __future__ import annotations

import errno
import os
from pathlib import PurePosixPath

from ..errors import EnvFileError, ImagePathError, PortabledError
from ..names import extension_name
from ..osrelease import EnvFile
from ..portabled.dissect import find_extension_release, host_architecture, lacks_metadata
from ..portabled.image import Image
from ..source import ImageSource
from ..versions import Systemd
from .findings import CheckRun, Rule

__all__ = ["check_extension", "extension_verdict"]

#: what portabled 255+ says for a directory extension without a release file (a bare errno)
_ENOENT = os.strerror(errno.ENOENT)
_RELEASE_DIRS = {
    "sysext": PurePosixPath("/usr/lib/extension-release.d"),
    "confext": PurePosixPath("/etc/extension-release.d"),
}


def check_extension(
    run: CheckRun, src: ImageSource, img: Image, base: EnvFile | None
) -> EnvFile | None:
    """Find the extension's release file as portabled does and validate it against the base."""
    sd = run.systemd
    raw = not img.is_tree
    name = extension_name(img.file_name, raw, sd)
    expected = _RELEASE_DIRS["sysext"] / f"extension-release.{name}"
    lacks = lacks_metadata(sd, img, "extension-release").message
    fix_name = (
        f"name the file {expected} after the image (extension-release.{name}), or give the "
        "image the name of the file"
    )
    if raw and sd.raw_extension_refuses_os_release and src.exists("/usr/lib/os-release"):
        run.add(
            Rule.EXTENSION_RELEASE_MISSING,
            img,
            "/usr/lib/os-release",
            f"the raw extension contains /usr/lib/os-release, so systemd {sd.version} takes it "
            "for an OS image, not an extension",
            f"remove /usr/lib/os-release from the extension (extensions carry only {expected})",
            lacks,
        )
        return None
    try:
        found = find_extension_release(src, name, sd)
    except EnvFileError as e:
        run.add_unparsable(src, img, e, "extension-release", "Invalid argument")
        return None
    except ImagePathError as e:
        run.add(
            Rule.EXTENSION_RELEASE_MISSING,
            img,
            e.filename or expected,
            f"the extension-release file cannot be read: {e.strerror}",
            fix_name,
            os.strerror(e.errno or errno.EIO),
        )
        return None
    except PortabledError as e:
        run.add(
            Rule.EXTENSION_RELEASE_AMBIGUOUS,
            img,
            expected.parent,
            f"there is no {expected.name}, and more than one other extension-release file is "
            "acceptable (user.extension-release.strict=0 or the image's base name)",
            f"keep one extension-release file; best {expected.name}",
            e.message,
        )
        return None
    if found is None:
        others = _release_files(src)
        run.add(
            Rule.EXTENSION_RELEASE_MISSING,
            img,
            expected,
            f"the extension has no {expected}"
            + (f" (it has {', '.join(others)})" if others else "")
            + "; portabled finds an extension's release file by the image's name",
            fix_name,
            lacks if raw or not sd.missing_extension_release_is_enoent else _ENOENT,
        )
        return None
    release, cls, reported = found
    exact = _RELEASE_DIRS[cls.value] / f"extension-release.{name}"
    if not src.exists(exact):
        run.add(
            Rule.EXTENSION_RELEASE_RENAMED,
            img,
            exact.parent,
            f"there is no {exact.name}; systemd {sd.version} accepts "
            + ", ".join(_release_files(src))
            + " instead (the image name without its version, 256+, or the "
            "user.extension-release.strict=0 attribute), systemd 252 to 255 do not",
            fix_name,
        )
    verdict = extension_verdict(base, release, sd, host_arch=run.host_arch)
    if verdict is not None:
        rule, message, fix = verdict
        run.add(
            rule,
            img,
            reported,
            message,
            fix,
            f"Image {img.path} extension-release metadata does not match the root's",
        )
    return release


def _release_files(src: ImageSource) -> list[str]:
    """The ``extension-release.*`` files an extension has (for messages)."""
    out = []
    for d in _RELEASE_DIRS.values():
        try:
            names = src.listdir(src.resolve(d)) if src.is_dir(d) else []
        except ImagePathError:
            names = []
        out += [str(d / n) for n in sorted(names) if n.startswith("extension-release.")]
    return out


def extension_verdict(
    base: EnvFile | None, ext: EnvFile, systemd: Systemd, *, host_arch: str | None = None
) -> tuple[Rule, str, str] | None:
    """Why ``extension_release_validate()`` rejects ``ext`` on ``base``: ``(rule, what is
    wrong, how to fix it)``, or ``None`` when it accepts it (the same answer as
    :func:`portablekit.portabled.dissect.validate_extension`; with no base os-release only the
    extension's own fields are judged)."""
    if not ext.assignments:
        return (
            Rule.EXTENSION_ID_MISSING,
            "the extension-release file assigns nothing",
            "add ID= (the base image's ID, or _any) and VERSION_ID= or SYSEXT_LEVEL=",
        )
    scope = ext.pair("SYSEXT_SCOPE")
    if scope is not None and "portable" not in scope.split():
        return (
            Rule.EXTENSION_SCOPE,
            f"SYSEXT_SCOPE={scope} does not include portable"
            if scope.strip()
            else "SYSEXT_SCOPE= is set but empty, so the extension is for no scope at all",
            "add portable to SYSEXT_SCOPE= (SYSEXT_SCOPE=system portable), or remove the line "
            "(the default is 'system portable')",
        )
    host = host_arch or host_architecture()
    arch = ext.pair("ARCHITECTURE")
    if arch and arch != "_any" and arch != host:
        return (
            Rule.EXTENSION_ARCHITECTURE,
            f"ARCHITECTURE={arch}, but the host is {host}",
            f"build the extension for {host}, or set ARCHITECTURE=_any if it has no binaries",
        )
    ext_id = ext.pair("ID")
    base_id = base.get("ID") if base is not None else None
    if not ext_id:
        return (
            Rule.EXTENSION_ID_MISSING,
            "ID= is missing or empty",
            f"set ID={base_id or 'the base image ID'} (or ID=_any for any OS)",
        )
    if ext_id == "_any" or base is None:
        return None
    like = base.words("ID_LIKE") if systemd.extension_id_like else ()
    if ext_id != base_id and ext_id not in like:
        also = f" or one of its ID_LIKE={' '.join(like)}" if like else ""
        return (
            Rule.EXTENSION_ID_MISMATCH,
            f"ID={ext_id}, but the base image has ID={base_id}{also}",
            f"build the extension for the base's OS and set ID={base_id}, or ID=_any if it "
            "fits any OS",
        )
    base_version = base.get("VERSION_ID") or ""
    base_level = base.get("SYSEXT_LEVEL") or ""
    ext_level = ext.pair("SYSEXT_LEVEL") or ""
    ext_version = ext.pair("VERSION_ID") or ""
    if not base_version and not base_level:
        return None
    if base_level and ext_level:
        if base_level == ext_level:
            return None
        return (
            Rule.EXTENSION_VERSION,
            f"SYSEXT_LEVEL={ext_level}, but the base image has SYSEXT_LEVEL={base_level}",
            f"build the extension for level {base_level} and set SYSEXT_LEVEL={base_level}",
        )
    if base_version and ext_version != base_version:
        why = (
            f" (SYSEXT_LEVEL={ext_level} does not count: the base has no SYSEXT_LEVEL=)"
            if ext_level
            else ""
        )
        return (
            Rule.EXTENSION_VERSION,
            f"VERSION_ID={ext_version or '(unset)'}, but the base image has "
            f"VERSION_ID={base_version}{why}",
            f"build the extension for that release and set VERSION_ID={base_version}",
        )
    return None

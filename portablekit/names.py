"""Names as systemd judges them: image names, unit names, prefixes, versions, escaping.

Everything here is a pure function of strings, spelled after the systemd function it mirrors.

>>> image_name_is_valid("foo_1.2"), image_name_is_valid("../x")
(True, False)
>>> prefix_match("foo-worker.service", "foo"), prefix_match("foobar.service", "foo")
(True, False)
>>> derive_prefix("/var/lib/portables/foobar_0.7.23.raw")
'foobar'
>>> version_compare("1.10", "1.9") > 0
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

from .errors import UsageError
from .versions import Systemd

__all__ = [
    "UNIT_TYPES",
    "UnitNameKind",
    "derive_prefix",
    "escape_marker_path",
    "extension_name",
    "filename_is_valid",
    "image_base_name",
    "image_name_is_valid",
    "is_hidden_or_backup",
    "prefix_match",
    "resolve_matches",
    "strip_raw_suffix",
    "unit_name_is_valid",
    "unit_name_kind",
    "unit_type",
    "version_compare",
]

#: The unit types ``unit_name_is_valid()`` knows (systemd 252..262).
UNIT_TYPES = (
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
)

#: Unit types portabled attaches (``extract_now``): the others are never copied.
PORTABLE_UNIT_TYPES = ("service", "socket", "target", "timer", "path")

_BACKUP_SUFFIXES = frozenset(
    {
        "rpmnew", "rpmsave", "rpmorig", "dpkg-old", "dpkg-new", "dpkg-tmp", "dpkg-dist",
        "dpkg-bak", "dpkg-backup", "dpkg-remove", "ucf-new", "ucf-old", "ucf-dist", "swp",
        "bak", "old", "new",
    }
)  # fmt: skip
_UNIT_CHARS = re.compile(r"[A-Za-z0-9:_.\-\\@]*\Z")


def filename_is_valid(s: str) -> bool:
    """``filename_is_valid()``: non-empty, not ``.``/``..``, no ``/``, at most 255 bytes."""
    return (
        bool(s)
        and s not in (".", "..")
        and "/" not in s
        and len(s.encode("utf-8", "surrogateescape")) <= 255
    )


def image_name_is_valid(s: str) -> bool:
    """``image_name_is_valid()``: a valid file name without control characters, not ``.#*``."""
    if not filename_is_valid(s) or s.startswith(".#"):
        return False
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in s):
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from undecodable file names
        return False
    return True


def is_hidden_or_backup(name: str) -> bool:
    """``hidden_or_backup_file()``: dot files, ``lost+found``, editor and packager leftovers."""
    if name.startswith(".") or name in ("lost+found", "aquota.user", "aquota.group"):
        return True
    if name.endswith("~"):
        return True
    _, dot, suffix = name.rpartition(".")
    return bool(dot) and suffix in _BACKUP_SUFFIXES


class UnitNameKind(StrEnum):
    """Plain unit, template (``foo@.service``) or instance (``foo@bar.service``)."""

    PLAIN = "plain"
    TEMPLATE = "template"
    INSTANCE = "instance"


def unit_name_kind(name: str) -> UnitNameKind | None:
    """The kind of a valid unit name, ``None`` if the name is not valid (``unit_name_is_valid``)."""
    if not name or len(name) >= 256:
        return None
    dot = name.rfind(".")
    if dot <= 0:
        return None
    if name[dot + 1 :] not in UNIT_TYPES:
        return None
    stem = name[:dot]
    if not _UNIT_CHARS.match(stem):
        return None
    at = stem.find("@")
    if at == 0:
        return None
    if at < 0:
        return UnitNameKind.PLAIN
    if at == len(stem) - 1:
        return UnitNameKind.TEMPLATE
    return UnitNameKind.INSTANCE


def unit_name_is_valid(name: str) -> bool:
    """``unit_name_is_valid(name, UNIT_NAME_ANY)``."""
    return unit_name_kind(name) is not None


def unit_type(name: str) -> str:
    """The suffix after the last dot (``service``, ``socket``, ...)."""
    return name.rpartition(".")[2]


def template_of(name: str) -> str | None:
    """``foo@.service`` for an instance ``foo@bar.service``, else ``None``."""
    if unit_name_kind(name) is not UnitNameKind.INSTANCE:
        return None
    stem, _, suffix = name.rpartition(".")
    return stem[: stem.index("@") + 1] + "." + suffix


def prefix_match(unit: str, prefix: str) -> bool:
    """``prefix_match()``: ``unit`` starts with ``prefix``, then ``-``, ``.``, ``@`` or the end."""
    if not unit.startswith(prefix):
        return False
    rest = unit[len(prefix) :]
    return rest == "" or rest[0] in "-.@"


def derive_prefix(arg: str, systemd: Systemd = Systemd()) -> str:
    """The unit-name prefix portablectl derives from the image argument *as typed*.

    Last path component (252: ``basename()``, so a trailing slash gives the empty string;
    :attr:`~portablekit.versions.Systemd.trailing_slash_prefix`: trailing slashes ignored;
    :attr:`~portablekit.versions.Systemd.vpick`: without a ``.v`` suffix), cut at the first
    ``_``, else without ``.raw``. Raises
    :class:`~portablekit.errors.UsageError` with portablectl's message when the result is not
    made of ``[A-Za-z0-9.-]`` or is not a valid file name.
    """
    if systemd.trailing_slash_prefix:
        last = arg.rstrip("/").rpartition("/")[2] if arg.strip("/") else ""
    else:
        last = arg.rpartition("/")[2]
    if systemd.vpick and last.endswith(".v"):
        last = last[: -len(".v")]  # systemd.v(7) directories: NAME.v / NAME.raw.v
    if "_" in last:
        prefix = last[: last.index("_")]
    elif last.endswith(".raw"):
        prefix = last[: -len(".raw")]
    else:
        prefix = last
    if not filename_is_valid(prefix) or not re.fullmatch(r"[0-9A-Za-z.\-]+", prefix):
        raise UsageError(f"Failed to extract prefix of image name '{arg}': Invalid argument")
    return prefix


def resolve_matches(
    matches: Sequence[str] | None, image: str, systemd: Systemd = Systemd()
) -> tuple[str, ...]:
    """The unit prefixes in force, as ``portablectl`` determines them for the image argument
    ``image`` (a name or a path, as typed).

    ``None``: the prefix portablectl derives from it (:func:`derive_prefix`). A sequence is
    taken as given; empty means every unit file (portablectl's ``-``). A single string is
    refused: it would be read character by character.

    >>> resolve_matches(None, "webapp_2.1"), resolve_matches(["a", "b"], "x")
    (('webapp',), ('a', 'b'))
    """
    if matches is None:
        return (derive_prefix(image, systemd),)
    if isinstance(matches, str | bytes):
        raise TypeError(
            f"matches must be a list of unit prefixes such as [{matches!r}], "
            f"not the string {matches!r}"
        )
    return tuple(matches)


def strip_raw_suffix(name: str) -> str:
    """``foo.raw`` → ``foo`` (image names of raw images)."""
    return name[: -len(".raw")] if name.endswith(".raw") else name


_EXT_SUFFIXES = (".xz", ".gz", ".bz2", ".raw", ".qcow2", ".img", ".bin")
_SYSEXT_SUFFIXES = (*_EXT_SUFFIXES, ".zst", ".sysext.raw", ".confext.raw")


def extension_name(last_component: str, raw: bool, systemd: Systemd = Systemd()) -> str:
    """The name an extension-release file must carry (``extension-release.<NAME>``).

    Directories use their last path component as is; raw images lose their suffixes
    (``.raw``, ``.xz``, ...; :attr:`~portablekit.versions.Systemd.strips_sysext_suffixes`: also
    ``.sysext.raw`` & co.), stripped repeatedly.
    """
    if not raw:
        return last_component
    suffixes = _SYSEXT_SUFFIXES if systemd.strips_sysext_suffixes else _EXT_SUFFIXES
    name = last_component
    changed = True
    while changed:
        changed = False
        for suf in sorted(suffixes, key=len, reverse=True):
            if name.endswith(suf) and len(name) > len(suf):
                name = name[: -len(suf)]
                changed = True
                break
    return name


def image_base_name(path: str) -> str | None:
    """systemd 256+'s ``path_extract_image_name()``: last component, ``.raw`` & co. stripped
    (unless the path ended in ``/``), cut at the first ``_`` or ``+``; ``None`` if invalid."""
    trailing = path.endswith("/")
    last = path.rstrip("/").rpartition("/")[2]
    if not last:
        return None
    if not trailing:
        for suf in (".sysext.raw", ".confext.raw", ".raw"):
            if last.endswith(suf):
                last = last[: -len(suf)]
                break
    cut = min((i for i in (last.find("_"), last.find("+")) if i >= 0), default=-1)
    if cut >= 0:
        last = last[:cut]
    return last if image_name_is_valid(last) else None


def escape_marker_path(path: str) -> str:
    """Escape a path for the drop-in marker: bytes < 0x20 or >= 0x7f, ``\\`` and ``:`` as
    ``\\xNN``."""
    out = []
    for b in path.encode("utf-8", "surrogateescape"):
        if b < 0x20 or b >= 0x7F or b in (0x5C, 0x3A):
            out.append(f"\\x{b:02x}")
        else:
            out.append(chr(b))
    return "".join(out)


# -- version comparison (systemd's strverscmp_improved) -------------------------------------------

_VERSION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~-^.")


def _cmp(a: int | str, b: int | str) -> int:
    if isinstance(a, str) and isinstance(b, str):
        return (a > b) - (a < b)
    ia, ib = int(a), int(b)
    return (ia > ib) - (ia < ib)


def version_compare(a: str, b: str) -> int:
    """Compare two version strings like systemd's ``strverscmp_improved()`` (<0, 0, >0).

    ``~`` sorts before everything (pre-releases), ``-`` separates version and release, ``^``
    marks a patched release, numeric segments compare by value and are newer than alphabetic
    ones; characters outside ``[A-Za-z0-9~^.-]`` are separators.
    """
    sa, sb = a + "\0", b + "\0"  # a NUL terminator, as the C code walks until it
    i = j = 0

    def digit(c: str) -> bool:
        return "0" <= c <= "9"

    def alpha(c: str) -> bool:
        return ("a" <= c <= "z") or ("A" <= c <= "Z")

    while True:
        while sa[i] != "\0" and sa[i] not in _VERSION_CHARS:
            i += 1
        while sb[j] != "\0" and sb[j] not in _VERSION_CHARS:
            j += 1
        if sa[i] == "~" or sb[j] == "~":
            r = _cmp(sa[i] != "~", sb[j] != "~")
            if r:
                return r
            i += 1
            j += 1
        if sa[i] == "\0" or sb[j] == "\0":
            return _cmp(sa[i:-1], sb[j:-1])
        for sep in "-^.":
            if sa[i] == sep or sb[j] == sep:
                r = _cmp(sa[i] != sep, sb[j] != sep)
                if r:
                    return r
                i += 1
                j += 1
        if digit(sa[i]) or digit(sb[j]):
            ie, je = i, j
            while digit(sa[ie]):
                ie += 1
            while digit(sb[je]):
                je += 1
            r = _cmp(ie != i, je != j)
            if r:
                return r
            while sa[i] == "0":
                i += 1
            while sb[j] == "0":
                j += 1
            r = _cmp(ie - i, je - j) or _cmp(sa[i:ie], sb[j:je])
            if r:
                return r
        else:
            ie, je = i, j
            while alpha(sa[ie]):
                ie += 1
            while alpha(sb[je]):
                je += 1
            n = min(ie - i, je - j)
            r = _cmp(sa[i : i + n], sb[j : j + n]) or _cmp(ie - i, je - j)
            if r:
                return r
        i, j = ie, je

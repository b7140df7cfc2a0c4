"""os-release and extension-release files, parsed with systemd's env-file rules.

systemd reads both with the state machine of ``src/basic/env-file.c``: ``KEY=value`` lines,
single and double quotes (also concatenated: ``A="x"'y'``), backslash escapes, line continuation,
comments starting with ``#`` or ``;`` at the start of a logical line, no variable expansion.
One difference between versions: up to systemd 253 a comment ending in a backslash swallows the
next line (:attr:`~portablekit.versions.Systemd.comment_swallows_next_line`).

Two views of the same file, as systemd has them:

* keyed lookup (``parse_env_file``, used for os-release): an assignment without a value *unsets*
  the key; :meth:`EnvFile.get` answers it.
* pair list (``load_env_file_pairs``, used for extension-release): an empty value stays ``""``;
  :meth:`EnvFile.pairs` and :meth:`EnvFile.pair` answer it.

>>> f = EnvFile.parse('NAME="Debian GNU/Linux"\\nID=debian\\nVERSION_ID=\\n')
>>> f.get("ID"), f.get("VERSION_ID"), f.pair("VERSION_ID")
('debian', None, '')
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from .display import NotebookDisplay
from .errors import EnvFileError
from .versions import Systemd

__all__ = ["EnvFile", "name_and_version", "parse_env", "utf8_warning"]

_WS = " \t\n\r"
_NL = "\n\r"
_DQ_ESCAPABLE = '"\\`$'

#: The largest os-release / extension-release file portablekit agrees to read (bytes).
MAX_ENV_FILE = 1024 * 1024


def parse_env(
    data: bytes | str,
    *,
    origin: str = "<string>",
    systemd: Systemd = Systemd(),
    check_utf8: bool = True,
) -> tuple[tuple[str, str | None], ...]:
    """Run systemd's env-file state machine over ``data``.

    Returns ``(key, value)`` in file order; ``value`` is ``None`` when nothing was assigned
    (``A=``, ``A=""``). Processing stops at the first NUL byte, as in C. Invalid UTF-8 in an
    emitted key or value fails the whole parse with :class:`~portablekit.errors.EnvFileError`
    naming the line (unless ``check_utf8`` is off: the bytes are kept as surrogate escapes).
    """
    out, bad = _run(data, systemd)
    if bad is not None and check_utf8:
        text = _line_text(_decoded(data), bad.line)
        raise EnvFileError("invalid UTF-8 in key or value", origin=origin, line=bad.line, text=text)
    return out


@dataclass(frozen=True, slots=True)
class _BadUtf8:
    """The first assignment with invalid UTF-8: its line, and the line number systemd's
    parser has counted by then (see :func:`utf8_warning`)."""

    line: int
    counted: int
    key: str
    value: str | None
    in_key: bool


def _decoded(data: bytes | str) -> str:
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else bytes(data)
    nul = raw.find(b"\0")
    return (raw[:nul] if nul >= 0 else raw).decode("utf-8", "surrogateescape")


def _valid(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: files up to this size have their parse remembered (:func:`_run`)
_MEMO_MAX = 16 * 1024


def _run(
    data: bytes | str, systemd: Systemd
) -> tuple[tuple[tuple[str, str | None], ...], _BadUtf8 | None]:
    """The state machine's ``(assignments, first invalid UTF-8)``: remembered for small files
    (a fleet's images share a handful of os-release files; the result is immutable)."""
    if len(data) <= _MEMO_MAX:
        return _run_memo(data, systemd)
    return _run_machine(data, systemd)


@lru_cache(maxsize=512)
def _run_memo(
    data: bytes | str, systemd: Systemd
) -> tuple[tuple[tuple[str, str | None], ...], _BadUtf8 | None]:
    return _run_machine(data, systemd)


def _run_machine(
    data: bytes | str, systemd: Systemd
) -> tuple[tuple[tuple[str, str | None], ...], _BadUtf8 | None]:
    text = _decoded(data)
    comment_swallows_next_line = systemd.comment_swallows_next_line

    out: list[tuple[str, str | None]] = []
    state = "PRE_KEY"
    key: list[str] = []
    value: list[str] = []
    value_set = False
    last_ws = -1  # index in value after which only unescaped whitespace was appended
    line = 1
    key_line = 1
    # systemd's own count: 1 + the newlines that ended a key, an assignment or a comment,
    # counted before the assignment is handed on (empty lines and quoted or continued
    # newlines are not counted)
    counted = 1
    bad: list[_BadUtf8] = []

    def emit() -> None:
        k = "".join(key).rstrip(_WS)
        v: str | None = "".join(value) if value_set else None
        if not bad and not (_valid(k) and _valid(v or "")):
            bad.append(_BadUtf8(key_line, counted, k, v, not _valid(k)))
        out.append((k, v))

    for c in text:
        if state == "PRE_KEY":
            if c in "#;":
                state = "COMMENT"
            elif c in _WS:
                pass
            else:
                key = [c]
                key_line = line
                state = "KEY"
        elif state == "KEY":
            if c in _NL:
                counted += 1
                state = "PRE_KEY"  # a line without "=" is dropped
            elif c == "=":
                state = "PRE_VALUE"
                value = []
                value_set = False
                last_ws = -1
            else:
                key.append(c)
        elif state == "PRE_VALUE":
            if c in _NL:
                counted += 1
                emit()
                state = "PRE_KEY"
            elif c == "'":
                state = "SQUOTE"
            elif c == '"':
                state = "DQUOTE"
            elif c == "\\":
                state = "VALUE_ESC"
            elif c in " \t":
                pass
            else:
                value.append(c)
                value_set = True
                last_ws = -1
                state = "VALUE"
        elif state == "VALUE":
            if c in _NL:
                if last_ws >= 0:
                    del value[last_ws:]
                counted += 1
                emit()
                state = "PRE_KEY"
            elif c == "\\":
                state = "VALUE_ESC"
                last_ws = -1
            else:
                value.append(c)
                value_set = True
                if c in _WS:
                    if last_ws < 0:
                        last_ws = len(value) - 1
                else:
                    last_ws = -1
        elif state == "VALUE_ESC":
            state = "VALUE"
            if c in _NL:
                pass  # line continuation
            else:
                value.append(c)
                value_set = True
                last_ws = -1
        elif state == "SQUOTE":
            if c == "'":
                state = "PRE_VALUE"
            else:
                value.append(c)
                value_set = True
        elif state == "DQUOTE":
            if c == '"':
                state = "PRE_VALUE"
            elif c == "\\":
                state = "DQUOTE_ESC"
            else:
                value.append(c)
                value_set = True
        elif state == "DQUOTE_ESC":
            state = "DQUOTE"
            if c in _DQ_ESCAPABLE:
                value.append(c)
                value_set = True
            elif c == "\n":
                pass
            else:
                value.append("\\")
                value.append(c)
                value_set = True
        elif state == "COMMENT":
            if c == "\\":
                state = "COMMENT_ESC"
            elif c in _NL:
                counted += 1
                state = "PRE_KEY"
        elif state == "COMMENT_ESC":
            state = "COMMENT" if comment_swallows_next_line or c not in _NL else "PRE_KEY"
            if state == "PRE_KEY":
                counted += 1
        if c == "\n":
            line += 1

    if state in ("PRE_VALUE", "VALUE", "VALUE_ESC", "SQUOTE", "DQUOTE", "DQUOTE_ESC"):
        if state == "VALUE" and last_ws >= 0:
            del value[last_ws:]
        emit()
    return tuple(out), (bad[0] if bad else None)


def utf8_warning(data: bytes | str, name: str, systemd: Systemd = Systemd()) -> str | None:
    """What ``parse_env_file()`` logs when an assignment is not valid UTF-8 (the parse then
    fails with ``EINVAL``), ``None`` if every key and value is valid.

    The line is systemd's own count, one past the line of the assignment in a plain file;
    each invalid byte shows as U+FFFD.

    >>> utf8_warning(b'A=1\\nPRETTY_NAME="Deb\\xffian"\\n', "/etc/os-release")
    "/etc/os-release:3: invalid UTF-8 value for key PRETTY_NAME: 'Deb\ufffdian', ignoring."
    """
    bad = _run(data, systemd)[1]
    if bad is None:
        return None
    if bad.in_key:
        return f"{name}:{bad.counted}: invalid UTF-8 in key '{_escape(bad.key)}', ignoring."
    value = _escape(bad.value or "")
    return f"{name}:{bad.counted}: invalid UTF-8 value for key {bad.key}: '{value}', ignoring."


def _escape(s: str) -> str:
    """``utf8_escape_invalid()``: every byte that is not valid UTF-8 becomes U+FFFD."""
    return "".join("\ufffd" if "\udc80" <= c <= "\udcff" else c for c in s)


def _line_text(text: str, line: int) -> str:
    lines = text.split("\n")
    if 0 < line <= len(lines):
        return lines[line - 1].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return ""


@dataclass(frozen=True, slots=True)
class EnvFile(NotebookDisplay):
    """A parsed os-release / extension-release file.

    ``assignments`` keeps every assignment in file order (``None`` = nothing assigned);
    ``raw`` the bytes it was parsed from (portablectl ``inspect --cat`` prints them).
    """

    assignments: tuple[tuple[str, str | None], ...] = ()
    raw: bytes = b""
    origin: str = "<string>"

    @classmethod
    def parse(
        cls,
        data: bytes | str,
        *,
        origin: str = "<string>",
        systemd: Systemd = Systemd(),
        check_utf8: bool = True,
    ) -> EnvFile:
        """Parse ``data`` as ``systemd`` does (see :func:`parse_env`)."""
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else bytes(data)
        pairs = parse_env(raw, origin=origin, systemd=systemd, check_utf8=check_utf8)
        return cls(pairs, raw, origin)

    def get(self, key: str) -> str | None:
        """Keyed lookup: the last assignment wins, and one without a value unsets the key."""
        result: str | None = None
        for k, v in self.assignments:
            if k == key:
                result = v
        return result

    def has(self, key: str) -> bool:
        """Whether ``key`` is present in the pair list (even with an empty value)."""
        return any(k == key for k, _ in self.assignments)

    def pair(self, key: str) -> str | None:
        """Pair-list lookup: the last assignment wins and an empty value is ``""``."""
        result: str | None = None
        for k, v in self.assignments:
            if k == key:
                result = "" if v is None else v
        return result

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """``load_env_file_pairs()``: (key, value) with empty values as ``""``, last one wins."""
        seen: dict[str, str] = {}
        for k, v in self.assignments:
            seen.pop(k, None)
            seen[k] = "" if v is None else v
        return tuple(seen.items())

    def as_dict(self) -> dict[str, str]:
        """Keyed view: keys that are set, last assignment winning."""
        out: dict[str, str] = {}
        for k, v in self.assignments:
            if v is None:
                out.pop(k, None)
            else:
                out[k] = v
        return out

    def words(self, key: str) -> tuple[str, ...]:
        """A multi-value field (``PORTABLE_PREFIXES``, ``SYSEXT_SCOPE``) split on whitespace."""
        v = self.get(key)
        return tuple(v.split()) if v else ()

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.as_dict().items())

    def __str__(self) -> str:
        """Canonical text: one ``KEY="value"`` line per set key, escapes as systemd writes them."""
        lines = []
        for k, v in self.as_dict().items():
            esc = "".join("\\" + c if c in _DQ_ESCAPABLE else c for c in v)
            lines.append(f'{k}="{esc}"')
        return "".join(line + "\n" for line in lines)


_ID_KEYS = {
    "portable": ("IMAGE_ID", "ID"),
    "sysext": ("SYSEXT_IMAGE_ID", "SYSEXT_ID"),
    "confext": ("CONFEXT_IMAGE_ID", "CONFEXT_ID"),
}
_VERSION_KEYS = {
    "portable": ("IMAGE_VERSION", "VERSION_ID", "BUILD_ID"),
    "sysext": ("SYSEXT_IMAGE_VERSION", "SYSEXT_VERSION_ID", "SYSEXT_BUILD_ID"),
    "confext": ("CONFEXT_IMAGE_VERSION", "CONFEXT_VERSION_ID", "CONFEXT_BUILD_ID"),
}


def name_and_version(release: EnvFile, cls: str, *, drop_control: bool = False) -> str | None:
    """The ``*_NAME_AND_VERSION=`` log field of a release file (systemd 254+).

    ``cls`` is ``portable`` (base os-release), ``sysext`` or ``confext``. The first *present* key
    of each list counts, even with an empty value; ``None`` when neither list has one.
    """
    ident = next((release.pair(k) for k in _ID_KEYS[cls] if release.has(k)), None)
    ver = next((release.pair(k) for k in _VERSION_KEYS[cls] if release.has(k)), None)
    if drop_control:
        if ident is not None and any(ord(c) < 0x20 or ord(c) == 0x7F for c in ident):
            ident = None
        if ver is not None and any(ord(c) < 0x20 or ord(c) == 0x7F for c in ver):
            ver = None
    if ident is None and ver is None:
        return None
    if ident is not None and ver is not None:
        return f"{ident}_{ver}"
    return ident if ident is not None else ver

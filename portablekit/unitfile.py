"""Unit files and drop-ins, parsed by systemd's configuration-file rules.

This module knows the *syntax* only (systemd.syntax(7) and systemd's ``conf-parser``): lines,
continuations, comments, sections and ``key=value`` assignments. What a key means, which sections
a unit type has and how values merge across drop-ins is :mod:`portablekit.security.directives` and
:mod:`portablekit.security.effective`.

Physical lines end at ``\\n``, ``\\r\\n``, ``\\r`` or a NUL byte. A line whose first non-blank
character is ``#`` or ``;`` is a comment, also in the middle of a continuation; there are no
trailing comments. A line ending in an odd number of backslashes continues: the backslash becomes a
space and the next line is appended as it is (an empty line ends the continuation; one pending at
the end of the file is still used). A UTF-8 byte order mark at the start is skipped. Logical lines
are stripped; ``[Name]`` starts a section (a line starting with ``[`` but not ending in ``]`` is
fatal for the whole file, as in systemd); other lines split at the first ``=``; both sides are
stripped. Repeated keys and repeated sections are kept in order, empty values too (an empty value
resets a list setting, see :mod:`portablekit.security.effective`).

Problems systemd only warns about are collected in :attr:`UnitFile.warnings`, with systemd's
wording; nothing is printed.

>>> text = "[Service]\\nExecStart=/usr/bin/app \\\\\\n  --verbose\\n"
>>> unit = UnitFile.parse(text, origin="app.service")
>>> unit.get("Service", "ExecStart")
'/usr/bin/app    --verbose'
>>> print(unit, end="")
[Service]
ExecStart=/usr/bin/app    --verbose
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from .errors import UnitFileError

__all__ = [
    "LONG_LINE_MAX",
    "Assignment",
    "ParseWarning",
    "Section",
    "UnitFile",
    "parse_boolean",
]

#: systemd's ``LONG_LINE_MAX``: the longest physical line (and continued line) it reads.
LONG_LINE_MAX = 1024 * 1024

_BOM = b"\xef\xbb\xbf"
_WHITESPACE = " \t\n\r"
_COMMENTS = "#;"


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """A line systemd warns about and ignores (or a value it rejects), as data.

    ``line`` is the number of the last physical line of the logical line, as systemd reports it.
    ``str()`` gives systemd's log line: ``origin:line: message``.
    """

    origin: str
    line: int
    message: str
    text: str = ""

    def __str__(self) -> str:
        where = f"{self.origin}:{self.line}" if self.line else self.origin
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Assignment:
    """One ``Key=value`` line. ``line`` (not compared) locates it in the file it came from."""

    key: str
    value: str
    line: int = field(default=0, compare=False)

    def __str__(self) -> str:
        trailing = len(self.value) - len(self.value.rstrip("\\"))
        # an odd run of backslashes at the end of a line continues it; a space after it is
        # stripped from the value again, so the line reads back as written
        return f"{self.key}={self.value}" + (" " if trailing % 2 else "")

    @property
    def is_reset(self) -> bool:
        """True for an empty assignment (``Key=``), which resets list settings."""
        return self.value == ""


@dataclass(frozen=True, slots=True)
class Section:
    """A ``[Name]`` header and the assignments below it, in file order."""

    name: str
    assignments: tuple[Assignment, ...] = ()
    line: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return "".join([f"[{self.name}]\n", *(f"{a}\n" for a in self.assignments)])

    def values(self, key: str) -> tuple[str, ...]:
        """Every value assigned to ``key`` in this section, in order."""
        return tuple(a.value for a in self.assignments if a.key == key)


@dataclass(frozen=True, slots=True)
class UnitFile:
    """A parsed unit file or drop-in: its sections in file order.

    Equality compares sections and assignments only (not ``origin``, line numbers or warnings),
    so ``UnitFile.parse(str(u)) == u`` for every parsed ``u``.
    """

    sections: tuple[Section, ...] = ()
    origin: str = field(default="<string>", compare=False)
    warnings: tuple[ParseWarning, ...] = field(default=(), compare=False)

    # -- constructors -----------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str | bytes, *, origin: str = "<string>") -> UnitFile:
        """Parse ``text`` (``str``, or ``bytes`` as read from disk) like systemd does.

        Raises :class:`~portablekit.errors.UnitFileError` for what makes systemd reject the whole
        file: an invalid section header or a line longer than :data:`LONG_LINE_MAX`.
        """
        data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else bytes(text)
        if len(data) <= _MEMO_MAX:
            return _parse_memo(data, origin)
        return _Parser(origin).run(data)

    @classmethod
    def from_dict(
        cls,
        sections: Mapping[str, Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]],
        *,
        origin: str = "<string>",
    ) -> UnitFile:
        """Build a unit from ``{"Service": {"ExecStart": "/bin/true"}}`` (a list value gives
        repeated keys) or ``{"Service": [("Key", "value"), ...]}``.

        >>> print(UnitFile.from_dict({"Service": {"DynamicUser": "yes"}}), end="")
        [Service]
        DynamicUser=yes
        """
        out = []
        for name, body in sections.items():
            pairs: list[tuple[str, str]] = []
            if isinstance(body, Mapping):
                for key, value in body.items():
                    if isinstance(value, str):
                        pairs.append((key, value))
                    else:
                        pairs.extend((key, v) for v in value)
            else:
                pairs = list(body)
            out.append(Section(name, tuple(Assignment(k, v) for k, v in pairs)))
        return cls(tuple(out), origin=origin)

    # -- reading ----------------------------------------------------------------------------------

    def __str__(self) -> str:
        """Canonical text: one ``[Section]`` block per section, a blank line between them."""
        return "\n".join(str(s) for s in self.sections)

    @property
    def section_names(self) -> tuple[str, ...]:
        """Names of the sections, in order, each once."""
        return tuple(dict.fromkeys(s.name for s in self.sections))

    def items(self, section: str | None = None) -> Iterator[tuple[str, Assignment]]:
        """``(section name, assignment)`` pairs in file order, optionally of one section name."""
        for s in self.sections:
            if section is None or s.name == section:
                for a in s.assignments:
                    yield s.name, a

    def get_all(self, section: str, key: str) -> tuple[str, ...]:
        """Every value of ``key`` in every ``[section]`` block, in file order (resets included)."""
        return tuple(a.value for _, a in self.items(section) if a.key == key)

    def get(self, section: str, key: str, default: str | None = None) -> str | None:
        """The last value of ``key`` in ``[section]`` (what a single-valued setting ends up as)."""
        values = self.get_all(section, key)
        return values[-1] if values else default

    def __contains__(self, section: object) -> bool:
        return any(s.name == section for s in self.sections)


class _Parser:
    """One run of the line reader and the logical-line parser over one file."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.sections: list[Section] = []
        self.current: list[Assignment] | None = None
        self.current_name = ""
        self.current_line = 0
        self.warnings: list[ParseWarning] = []

    def warn(self, line: int, message: str, text: str = "") -> None:
        self.warnings.append(ParseWarning(self.origin, line, message, text))

    def run(self, data: bytes) -> UnitFile:
        if data.startswith(_BOM):
            data = data[len(_BOM) :]
        continuation: bytes | None = None
        number = 0
        for raw in _physical_lines(data):
            number += 1
            if len(raw) > LONG_LINE_MAX:
                raise UnitFileError("Line too long", origin=self.origin, line=number)
            stripped = raw.lstrip(b" \t\n\r")
            if stripped[:1] in (b"#", b";"):
                continue
            if continuation is not None:
                if len(continuation) + len(raw) > LONG_LINE_MAX:
                    raise UnitFileError(
                        "Continuation line too long", origin=self.origin, line=number
                    )
                logical = continuation + raw
            else:
                logical = raw
            if _ends_escaped(logical):
                continuation = logical[:-1] + b" "
                continue
            continuation = None
            self.logical_line(number, logical)
        if continuation is not None:
            self.logical_line(number, continuation)
        self.close_section()
        return UnitFile(tuple(self.sections), origin=self.origin, warnings=tuple(self.warnings))

    def close_section(self) -> None:
        if self.current is not None:
            section = Section(self.current_name, tuple(self.current), self.current_line)
            self.sections.append(section)
        self.current = None

    def logical_line(self, number: int, raw: bytes) -> None:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            shown = raw.decode("utf-8", "replace").strip(_WHITESPACE)
            self.warn(number, f"String is not UTF-8 clean, ignoring assignment: {shown}", shown)
            return
        line = line.strip(_WHITESPACE)
        if not line:
            return
        if line.startswith("["):
            if not line.endswith("]"):
                raise UnitFileError(
                    f"Invalid section header '{line}'",
                    origin=self.origin,
                    line=number,
                    column=len(line),
                    text=line,
                )
            self.close_section()
            self.current = []
            self.current_name = line[1:-1]
            self.current_line = number
            return
        if self.current is None:
            self.warn(number, "Assignment outside of section. Ignoring.", line)
            return
        key, sep, value = line.partition("=")
        if not sep:
            self.warn(number, "Missing '=', ignoring line.", line)
            return
        if not key:
            self.warn(number, "Missing key name before '=', ignoring line.", line)
            return
        self.current.append(Assignment(key.strip(_WHITESPACE), value.strip(_WHITESPACE), number))


def _physical_lines(data: bytes) -> Iterator[bytes]:
    """Split at ``\\n``, ``\\r\\n``, ``\\r`` and NUL, like systemd's ``read_line()``."""
    start = 0
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c in (0x0A, 0x0D, 0x00):
            yield data[start:i]
            if c == 0x0D and i + 1 < n and data[i + 1] == 0x0A:
                i += 1
            start = i + 1
        i += 1
    if start < n:
        yield data[start:]


def _ends_escaped(line: bytes) -> bool:
    """True when ``line`` ends in an odd number of backslashes (a continuation)."""
    count = len(line) - len(line.rstrip(b"\\"))
    return count % 2 == 1


_TRUE = frozenset({"1", "yes", "y", "true", "t", "on"})
_FALSE = frozenset({"0", "no", "n", "false", "f", "off"})


def parse_boolean(value: str) -> bool | None:
    """systemd's ``parse_boolean()`` (unit-file values, portablectl's ``read-only`` argument):
    ``True``/``False``, ``None`` when not a boolean.

    >>> parse_boolean("On"), parse_boolean("n"), parse_boolean("bogus")
    (True, False, None)
    """
    v = value.lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return None


#: unit files up to this size have their parse remembered (:meth:`UnitFile.parse`)
_MEMO_MAX = 16 * 1024


@lru_cache(maxsize=1024)
def _parse_memo(data: bytes, origin: str) -> UnitFile:
    """A parse remembered by content and origin: a fleet's images carry the same units again
    and again, and a parsed unit is immutable (a file systemd rejects is parsed each time)."""
    return _Parser(origin).run(data)

"""What the image checks report: severities, rules and findings.

:class:`Severity` says how bad a problem is, :class:`Rule` names each check and :data:`RULES`
gives its usual severity and what it looks at; a :class:`Finding` is one problem of one image,
as plain frozen data (:meth:`Finding.to_dict` gives a JSON-ready row). The checks themselves
live in :mod:`portablekit.check.image` and :mod:`portablekit.check.extensions`; both fill the
:class:`CheckRun` of one run of the checks, kept here so that neither needs the other's
internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath

from ..display import NotebookDisplay
from ..errors import EnvFileError
from ..portabled.image import Image
from ..source import ImageSource
from ..versions import Systemd

__all__ = ["RULES", "CheckRun", "Finding", "Findings", "Rule", "Severity"]


class Severity(StrEnum):
    """How bad a finding is: portabled refuses, the service runs badly, or something is
    silently skipped."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for errors, 1 for warnings, 2 for info (sort key, worst first)."""
        return ("error", "warning", "info").index(self.value)


class Rule(StrEnum):
    """The image checks, one identifier each (see :data:`RULES`)."""

    OS_RELEASE_MISSING = "os-release-missing"
    OS_RELEASE_LINK = "os-release-link"
    RELEASE_UNPARSABLE = "release-unparsable"
    OS_RELEASE_NO_ID = "os-release-no-id"
    PORTABLE_SCOPE = "portable-scope"
    PREFIX_UNDERIVABLE = "prefix-underivable"
    PREFIX_NOT_ALLOWED = "prefix-not-allowed"
    NO_MATCHING_UNITS = "no-matching-units"
    UNIT_NO_MATCH = "unit-no-match"
    UNIT_HIDDEN = "unit-hidden"
    UNIT_INVALID_NAME = "unit-invalid-name"
    UNIT_TYPE = "unit-type"
    UNIT_SHADOWED = "unit-shadowed"
    UNIT_NOT_A_FILE = "unit-not-a-file"
    UNIT_DANGLING = "unit-dangling"
    UNIT_EMPTY = "unit-empty"
    UNIT_MASKED = "unit-masked"
    UNIT_ABSOLUTE_LINK = "unit-absolute-link"
    UNIT_UNPARSABLE = "unit-unparsable"
    RESOLV_CONF = "resolv-conf-missing"
    MACHINE_ID = "machine-id-missing"
    MOUNT_POINT = "mount-point-missing"
    DYNAMIC_LOADER = "dynamic-loader-missing"
    ELF_ARCHITECTURE = "elf-architecture"
    EXTENSION_RELEASE_MISSING = "extension-release-missing"
    EXTENSION_RELEASE_AMBIGUOUS = "extension-release-ambiguous"
    EXTENSION_RELEASE_RENAMED = "extension-release-renamed"
    EXTENSION_SCOPE = "extension-scope"
    EXTENSION_ARCHITECTURE = "extension-architecture"
    EXTENSION_ID_MISSING = "extension-id-missing"
    EXTENSION_ID_MISMATCH = "extension-id-mismatch"
    EXTENSION_VERSION = "extension-version"


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

#: Each rule's usual severity and what it checks (some findings of a rule differ by version).
RULES: dict[Rule, tuple[Severity, str]] = {
    Rule.OS_RELEASE_MISSING: (_E, "/etc/os-release or /usr/lib/os-release exists"),
    Rule.OS_RELEASE_LINK: (_W, "/etc/os-release, when a symlink, resolves inside the image"),
    Rule.RELEASE_UNPARSABLE: (_E, "os-release / extension-release parse (valid UTF-8)"),
    Rule.OS_RELEASE_NO_ID: (_E, "os-release sets ID="),
    Rule.PORTABLE_SCOPE: (_E, "PORTABLE_SCOPE= fits the system portabled (262)"),
    Rule.PREFIX_UNDERIVABLE: (_E, "portablectl can derive a unit prefix from the image name"),
    Rule.PREFIX_NOT_ALLOWED: (_E, "PORTABLE_PREFIXES= allows every match"),
    Rule.NO_MATCHING_UNITS: (_E, "at least one unit matches, across all layers"),
    Rule.UNIT_NO_MATCH: (_I, "a unit that does not match the prefixes"),
    Rule.UNIT_HIDDEN: (_I, "a hidden or backup file name in a unit directory"),
    Rule.UNIT_INVALID_NAME: (_I, "a file in a unit directory that is not a valid unit name"),
    Rule.UNIT_TYPE: (_I, "a unit type portabled never attaches (.mount, .slice, ...)"),
    Rule.UNIT_SHADOWED: (_I, "a unit hidden by one of the same name in a higher-priority place"),
    Rule.UNIT_NOT_A_FILE: (_I, "a directory (or device, ...) named like a unit"),
    Rule.UNIT_DANGLING: (_I, "a unit symlink that does not resolve"),
    Rule.UNIT_EMPTY: (_I, "an empty unit file"),
    Rule.UNIT_MASKED: (_I, "a unit masked with a symlink to /dev/null"),
    Rule.UNIT_ABSOLUTE_LINK: (_W, "a unit symlink that 252/257 resolve on the host"),
    Rule.UNIT_UNPARSABLE: (_W, "a unit file systemd cannot load"),
    Rule.RESOLV_CONF: (_W, "/etc/resolv.conf exists (may be empty)"),
    Rule.MACHINE_ID: (_W, "/etc/machine-id exists (may be empty)"),
    Rule.MOUNT_POINT: (_W, "/proc /sys /dev /run /tmp /var/tmp are directories"),
    Rule.DYNAMIC_LOADER: (_W, "the ELF interpreter (dynamic loader) exists in the image"),
    Rule.ELF_ARCHITECTURE: (_W, "ELF executables are built for an architecture the host runs"),
    Rule.EXTENSION_RELEASE_MISSING: (_E, "an extension has its extension-release file"),
    Rule.EXTENSION_RELEASE_AMBIGUOUS: (_E, "exactly one extension-release file is acceptable"),
    Rule.EXTENSION_RELEASE_RENAMED: (_I, "extension-release.NAME carries the image's full name"),
    Rule.EXTENSION_SCOPE: (_E, "SYSEXT_SCOPE= includes portable"),
    Rule.EXTENSION_ARCHITECTURE: (_E, "ARCHITECTURE= is the host's or _any"),
    Rule.EXTENSION_ID_MISSING: (_E, "the extension-release file sets ID="),
    Rule.EXTENSION_ID_MISMATCH: (_E, "the extension's ID= is the base's (or _any)"),
    Rule.EXTENSION_VERSION: (_E, "SYSEXT_LEVEL= or VERSION_ID= match the base's"),
}


@dataclass(frozen=True, slots=True)
class Finding(NotebookDisplay):
    """One problem of an image.

    ``image`` names the layer (its host path), ``path`` is inside that image (empty when the
    finding is about the image as a whole). ``message`` says what is wrong, ``fix`` how to fix
    it, ``portabled_message`` is what portabled (or portablectl) says, byte for byte, when it
    refuses (``None`` when it does not). Parse errors carry ``line``, ``column`` (1-based, 0 when
    unknown) and the offending ``text``.
    """

    severity: Severity
    rule: Rule
    image: str
    path: str
    message: str
    fix: str
    portabled_message: str | None = None
    line: int = 0
    column: int = 0
    text: str = ""

    @property
    def location(self) -> str:
        """``path``, ``path:line`` or ``path:line:column``."""
        out = self.path
        if self.line:
            out += f":{self.line}"
            if self.column:
                out += f":{self.column}"
        return out

    def caret(self) -> str:
        """The offending line with a caret under the column (empty when there is no line)."""
        if not self.text:
            return ""
        out = self.text
        if self.column:
            out += "\n" + " " * (self.column - 1) + "^"
        return out

    def to_dict(self) -> dict[str, str | int | None]:
        """The finding as a flat JSON-ready mapping (severity and rule as strings)."""
        return {
            "severity": self.severity.value,
            "rule": self.rule.value,
            "image": self.image,
            "path": self.path,
            "message": self.message,
            "fix": self.fix,
            "portabled_message": self.portabled_message,
            "line": self.line or None,
            "column": self.column or None,
            "text": self.text or None,
        }

    def __str__(self) -> str:
        return f"{self.severity}: {self.rule}: {self.location or self.image}: {self.message}"


class Findings(NotebookDisplay, list[Finding]):
    """The findings of one run of the checks: a list, shown in Jupyter as one table."""

    __slots__ = ()


@dataclass(slots=True)
class CheckRun:
    """One run of the checks: the inputs and the findings collected so far."""

    systemd: Systemd
    host_arch: str
    max_elf_files: int
    findings: list[Finding] = field(default_factory=list)

    def add(
        self,
        rule: Rule,
        image: Image,
        path: str | PurePosixPath,
        message: str,
        fix: str,
        portabled: str | None = None,
        *,
        severity: Severity | None = None,
        line: int = 0,
        column: int = 0,
        text: str = "",
    ) -> None:
        """Record a finding of ``rule`` (at its usual severity unless ``severity`` is given)."""
        self.findings.append(
            Finding(
                severity or RULES[rule][0],
                rule,
                str(image.path),
                str(path),
                message,
                fix,
                portabled,
                line,
                column,
                text,
            )
        )

    def add_unparsable(
        self, src: ImageSource, img: Image, e: EnvFileError, what: str, portabled: str
    ) -> None:
        """Record a release file (os-release or extension-release) that does not parse."""
        self.add(
            Rule.RELEASE_UNPARSABLE,
            img,
            e.origin.removeprefix(src.label),
            f"the {what} file does not parse: {e.reason}",
            "write the file in UTF-8 (KEY=value lines; quote values with spaces)",
            portabled,
            line=e.line,
            column=e.column,
            text=e.text,
        )

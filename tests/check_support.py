"""Shared data of the image-check tests: which broken sample shows which rule, what each gives."""

from __future__ import annotations

from portablekit.check.findings import Finding, Rule, Severity
from portablekit.check.image import check_image
from portablekit.samples import SAMPLES, sample_source
from portablekit.versions import Systemd

#: The base image the broken extensions are checked on (their units are named webapp-*).
EXT_BASE = "webapp_2.1"
ARCH = "x86-64"
E, W = Severity.ERROR, Severity.WARNING

#: rule -> (broken sample that exercises it, systemd version it needs)
RULE_SAMPLES: dict[Rule, tuple[str, int]] = {
    Rule.OS_RELEASE_MISSING: ("broken-no-os-release", 257),
    Rule.OS_RELEASE_LINK: ("broken-dangling", 257),
    Rule.RELEASE_UNPARSABLE: ("broken-ext-utf8", 257),
    Rule.OS_RELEASE_NO_ID: ("broken-no-id", 257),
    Rule.PORTABLE_SCOPE: ("broken-portable-scope", 262),
    Rule.PREFIX_NOT_ALLOWED: ("broken-bad-prefixes", 257),
    Rule.NO_MATCHING_UNITS: ("broken-no-units", 257),
    Rule.UNIT_NO_MATCH: ("broken-no-units", 257),
    Rule.UNIT_HIDDEN: ("broken-hidden", 257),
    Rule.UNIT_INVALID_NAME: ("broken-typo", 257),
    Rule.UNIT_TYPE: ("broken-unit-types", 257),
    Rule.UNIT_SHADOWED: ("broken-shadowed", 257),
    Rule.UNIT_NOT_A_FILE: ("broken-not-a-file", 257),
    Rule.UNIT_DANGLING: ("broken-dangling", 257),
    Rule.UNIT_EMPTY: ("broken-empty-unit", 257),
    Rule.UNIT_MASKED: ("broken-masked", 257),
    Rule.UNIT_ABSOLUTE_LINK: ("broken-absolute-link", 257),
    Rule.UNIT_UNPARSABLE: ("broken-unit-syntax", 257),
    Rule.RESOLV_CONF: ("broken-no-mountpoints", 257),
    Rule.MACHINE_ID: ("broken-no-mountpoints", 257),
    Rule.MOUNT_POINT: ("broken-no-mountpoints", 257),
    Rule.DYNAMIC_LOADER: ("broken-no-loader", 257),
    Rule.ELF_ARCHITECTURE: ("broken-foreign-arch", 257),
    Rule.EXTENSION_RELEASE_MISSING: ("broken-ext-misnamed", 257),
    Rule.EXTENSION_RELEASE_RENAMED: ("broken-ext-renamed_1.0", 257),
    Rule.EXTENSION_SCOPE: ("broken-ext-scope", 257),
    Rule.EXTENSION_ARCHITECTURE: ("broken-ext-arch", 257),
    Rule.EXTENSION_ID_MISSING: ("broken-ext-no-id", 257),
    Rule.EXTENSION_ID_MISMATCH: ("broken-ext-id", 257),
    Rule.EXTENSION_VERSION: ("broken-ext-version", 257),
}
#: rules no sample can show: an image name portablectl cannot derive a prefix from would break
#: every tool that derives one for each sample, and samples carry no extended attributes
WITHOUT_SAMPLE = {Rule.PREFIX_UNDERIVABLE, Rule.EXTENSION_RELEASE_AMBIGUOUS}

#: everything (errors and warnings) each broken sample gives on systemd 257, and the info rules
#: it must give at least
EXPECTED: dict[str, tuple[set[tuple[Severity, Rule]], set[Rule]]] = {
    "broken-no-os-release": ({(E, Rule.OS_RELEASE_MISSING), (W, Rule.MOUNT_POINT)}, set()),
    "broken-no-id": ({(E, Rule.OS_RELEASE_NO_ID)}, set()),
    "broken-no-units": ({(E, Rule.NO_MATCHING_UNITS)}, {Rule.UNIT_NO_MATCH}),
    "broken-empty-unit": ({(E, Rule.NO_MATCHING_UNITS)}, {Rule.UNIT_EMPTY}),
    "broken-dangling": ({(W, Rule.OS_RELEASE_LINK)}, {Rule.UNIT_DANGLING}),
    "broken-no-mountpoints": (
        {(W, Rule.RESOLV_CONF), (W, Rule.MACHINE_ID), (W, Rule.MOUNT_POINT)},
        set(),
    ),
    "broken-bad-prefixes": ({(E, Rule.PREFIX_NOT_ALLOWED)}, set()),
    "broken-ext-misnamed": ({(E, Rule.EXTENSION_RELEASE_MISSING)}, set()),
    "broken-ext-scope": ({(E, Rule.EXTENSION_SCOPE)}, set()),
    "broken-masked": (set(), {Rule.UNIT_MASKED}),
    "broken-unit-types": (set(), {Rule.UNIT_TYPE}),
    "broken-hidden": (set(), {Rule.UNIT_HIDDEN}),
    "broken-typo": (set(), {Rule.UNIT_INVALID_NAME}),
    "broken-not-a-file": (set(), {Rule.UNIT_NOT_A_FILE}),
    "broken-shadowed": (set(), {Rule.UNIT_SHADOWED}),
    "broken-absolute-link": ({(W, Rule.UNIT_ABSOLUTE_LINK)}, set()),
    "broken-unit-syntax": ({(W, Rule.UNIT_UNPARSABLE)}, set()),
    "broken-no-loader": ({(W, Rule.DYNAMIC_LOADER)}, set()),
    "broken-foreign-arch": ({(W, Rule.ELF_ARCHITECTURE)}, set()),
    "broken-portable-scope": (set(), set()),
    "broken-ext-utf8": ({(E, Rule.RELEASE_UNPARSABLE)}, set()),
    "broken-ext-renamed_1.0": (set(), {Rule.EXTENSION_RELEASE_RENAMED}),
    "broken-ext-arch": ({(E, Rule.EXTENSION_ARCHITECTURE)}, set()),
    "broken-ext-no-id": ({(E, Rule.EXTENSION_ID_MISSING)}, set()),
    "broken-ext-id": ({(E, Rule.EXTENSION_ID_MISMATCH)}, set()),
    "broken-ext-version": ({(E, Rule.EXTENSION_VERSION)}, set()),
}
#: where 252 and 262 differ from 257
EXPECTED_BY_VERSION: dict[int, dict[str, set[tuple[Severity, Rule]]]] = {
    252: {"broken-ext-renamed_1.0": {(E, Rule.EXTENSION_RELEASE_MISSING)}},
    262: {
        "broken-absolute-link": set(),
        "broken-portable-scope": {(E, Rule.PORTABLE_SCOPE)},
    },
}
#: the good samples, alone and stacked
GOOD = [
    ("minimal", ()),
    ("webapp_2.1", ()),
    ("webapp_2.1", ("webapp-tls",)),
    ("webapp_2.1", ("debug-tools",)),
    ("webapp_2.1", ("webapp-tls", "debug-tools")),
    ("minimal", ("debug-tools",)),
]
BROKEN = sorted(n for n in SAMPLES if n.startswith("broken-"))


def check_sample(name: str, version: int = 257, **kw: object) -> list[Finding]:
    """Check a sample as an in-memory tree; extensions on :data:`EXT_BASE`."""
    if SAMPLES[name].extension:
        return check_image(
            sample_source(EXT_BASE),
            EXT_BASE,
            extensions=[(sample_source(name), name)],
            systemd=Systemd(version),
            host_arch=ARCH,
            **kw,  # type: ignore[arg-type]
        )
    return check_image(sample_source(name), name, systemd=Systemd(version), host_arch=ARCH, **kw)  # type: ignore[arg-type]


def serious(findings: list[Finding]) -> set[tuple[Severity, Rule]]:
    return {(f.severity, f.rule) for f in findings if f.severity is not Severity.INFO}


__all__ = [
    "ARCH",
    "BROKEN",
    "EXPECTED",
    "EXPECTED_BY_VERSION",
    "EXT_BASE",
    "GOOD",
    "RULE_SAMPLES",
    "WITHOUT_SAMPLE",
    "E",
    "W",
    "check_sample",
    "serious",
]


def one(findings: list[Finding], rule: Rule) -> Finding:
    """The one finding of ``rule``."""
    (found,) = [f for f in findings if f.rule is rule]
    return found

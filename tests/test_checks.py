"""The image checks: every rule has a broken sample it finds, the good samples give no errors or
warnings, portabled's refusals are the simulated portabled's (dissect) messages byte for byte,
and directories, in-memory trees and raw images give the same findings."""

from __future__ import annotations

import contextlib
import doctest
import errno
import json
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import portablekit.check.image
from portablekit.check.image import (
    MOUNT_POINTS,
    RULES,
    Finding,
    Rule,
    Severity,
    check_host_image,
    check_image,
    extension_verdict,
)
from portablekit.errors import EnvFileError, PortabledError
from portablekit.names import derive_prefix
from portablekit.osrelease import EnvFile
from portablekit.portabled.dissect import dissect, validate_extension
from portablekit.samples import SAMPLES, install_samples, sample_source, write_sample
from portablekit.sandbox import SandboxRoot
from portablekit.source import DirectorySource, MemorySource, Symlink
from portablekit.versions import SUPPORTED_VERSIONS, Systemd

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
            systemd=version,
            host_arch=ARCH,
            **kw,  # type: ignore[arg-type]
        )
    return check_image(sample_source(name), name, systemd=version, host_arch=ARCH, **kw)  # type: ignore[arg-type]


def serious(findings: list[Finding]) -> set[tuple[Severity, Rule]]:
    return {(f.severity, f.rule) for f in findings if f.severity is not Severity.INFO}


# -- the broken set ------------------------------------------------------------------------------


def test_every_rule_has_a_sample_or_a_reason() -> None:
    assert set(RULE_SAMPLES) | WITHOUT_SAMPLE == set(Rule)
    assert not set(RULE_SAMPLES) & WITHOUT_SAMPLE
    assert set(RULES) == set(Rule)
    assert set(EXPECTED) == set(BROKEN)


@pytest.mark.parametrize("rule", sorted(RULE_SAMPLES))
def test_each_rule_is_found_in_its_sample(rule: Rule) -> None:
    sample, version = RULE_SAMPLES[rule]
    found = [f for f in check_sample(sample, version) if f.rule is rule]
    assert found, f"{rule} not found in {sample}"
    assert {f.severity for f in found} == {RULES[rule][0]}


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
@pytest.mark.parametrize("name", BROKEN)
def test_broken_samples(name: str, version: int) -> None:
    findings = check_sample(name, version)
    want, infos = EXPECTED[name]
    want = EXPECTED_BY_VERSION.get(version, {}).get(name, want)
    assert serious(findings) == want
    if version == 257:
        assert infos <= {f.rule for f in findings if f.severity is Severity.INFO}
    # worst first, and nothing in the findings but data
    assert [f.severity.rank for f in findings] == sorted(f.severity.rank for f in findings)
    for f in findings:
        assert f.message and f.fix and f.image.startswith("/var/lib/portables/")
        json.dumps(f.to_dict())


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
@pytest.mark.parametrize(("base", "extensions"), GOOD)
def test_good_samples_have_no_errors_or_warnings(
    base: str, extensions: tuple[str, ...], version: int
) -> None:
    findings = check_image(
        sample_source(base),
        base,
        extensions=[(sample_source(e), e) for e in extensions],
        systemd=version,
        host_arch=ARCH,
    )
    assert serious(findings) == set()


# -- exact texts ---------------------------------------------------------------------------------


def one(findings: list[Finding], rule: Rule) -> Finding:
    (found,) = [f for f in findings if f.rule is rule]
    return found


def test_refusal_messages() -> None:
    def msg(name: str, rule: Rule, version: int = 257) -> str | None:
        return one(check_sample(name, version), rule).portabled_message

    assert msg("broken-no-os-release", Rule.OS_RELEASE_MISSING) == (
        "Image '/var/lib/portables/broken-no-os-release' lacks os-release data, refusing."
    )
    assert msg("broken-no-id", Rule.OS_RELEASE_NO_ID) == (
        "Image /var/lib/portables/broken-no-id os-release metadata lacks the ID field"
    )
    assert msg("broken-no-units", Rule.NO_MATCHING_UNITS) == (
        "Couldn't find any matching unit files in image '/var/lib/portables/broken-no-units', "
        "refusing."
    )
    assert msg("broken-bad-prefixes", Rule.PREFIX_NOT_ALLOWED) == (
        "Selected matches 'broken-bad-prefixes' are not compatible with portable service image "
        "'/var/lib/portables/broken-bad-prefixes', refusing. (Acceptable prefix matches are: "
        "other)"
    )
    assert msg("broken-portable-scope", Rule.PORTABLE_SCOPE, 262) == (
        "Image /var/lib/portables/broken-portable-scope portable scope 'user' incompatible with "
        "portabled runtime scope 'system'."
    )
    mismatch = "Image /var/lib/portables/{} extension-release metadata does not match the root's"
    for name, rule in [
        ("broken-ext-scope", Rule.EXTENSION_SCOPE),
        ("broken-ext-arch", Rule.EXTENSION_ARCHITECTURE),
        ("broken-ext-no-id", Rule.EXTENSION_ID_MISSING),
        ("broken-ext-id", Rule.EXTENSION_ID_MISMATCH),
        ("broken-ext-version", Rule.EXTENSION_VERSION),
    ]:
        assert msg(name, rule) == mismatch.format(name)
    # a directory extension without release file: 252 says so, 257+ send the bare errno
    assert msg("broken-ext-misnamed", Rule.EXTENSION_RELEASE_MISSING, 252) == (
        "Image '/var/lib/portables/broken-ext-misnamed' lacks extension-release data, refusing."
    )
    assert msg("broken-ext-misnamed", Rule.EXTENSION_RELEASE_MISSING) == "No such file or directory"
    assert msg("broken-ext-utf8", Rule.RELEASE_UNPARSABLE) == "Invalid argument"
    # what runs badly or is skipped has no refusal
    assert msg("broken-no-loader", Rule.DYNAMIC_LOADER) is None


def test_extension_refusal_names_every_extension() -> None:
    findings = check_image(
        sample_source(EXT_BASE),
        "/var/lib/portables/webapp_2.1",
        matches=["webapp-nothing"],
        extensions=[
            (sample_source("webapp-tls"), "/tmp/webapp-tls"),
            (sample_source("debug-tools"), "debug-tools"),
        ],
        host_arch=ARCH,
    )
    assert one(findings, Rule.PREFIX_NOT_ALLOWED).portabled_message == (
        "Selected matches 'webapp-nothing' are not compatible with portable service image "
        "'/var/lib/portables/webapp_2.1' or any of its extensions '/tmp/webapp-tls, "
        "/var/lib/portables/debug-tools', refusing. (Acceptable prefix matches are: webapp, "
        "webapp-admin, webapp-tls)"
    )
    assert one(findings, Rule.NO_MATCHING_UNITS).portabled_message == (
        "Couldn't find any matching unit files in image '/var/lib/portables/webapp_2.1' or any "
        "of its extensions '/tmp/webapp-tls, /var/lib/portables/debug-tools', refusing."
    )


def test_what_is_wrong_texts() -> None:
    f = one(check_sample("broken-ext-version"), Rule.EXTENSION_VERSION)
    assert f.message == (
        "VERSION_ID=(unset), but the base image has VERSION_ID=12 (SYSEXT_LEVEL=1.0 does not "
        "count: the base has no SYSEXT_LEVEL=)"
    )
    assert f.path == "/usr/lib/extension-release.d/extension-release.broken-ext-version"
    assert f.image == "/var/lib/portables/broken-ext-version"
    f = one(check_sample("broken-ext-arch"), Rule.EXTENSION_ARCHITECTURE)
    assert f.message == "ARCHITECTURE=s390x, but the host is x86-64"
    f = one(check_sample("broken-masked"), Rule.UNIT_MASKED)
    assert f.path == "/usr/lib/systemd/system/broken-masked.service"
    assert f.message == "masked: a symlink to '/dev/null'; portabled skips it"
    f = one(check_sample("broken-shadowed"), Rule.UNIT_SHADOWED)
    assert f.message == (
        "a unit of the same name was taken from /etc/systemd/system/broken-shadowed.service; "
        "this one is never attached"
    )
    f = one(check_sample("broken-no-loader"), Rule.DYNAMIC_LOADER)
    assert f.path == "/lib64/ld-linux-x86-64.so.2"
    assert f.message == (
        "/usr/bin/broken-no-loader needs the dynamic loader /lib64/ld-linux-x86-64.so.2 (ELF "
        "PT_INTERP), but /lib64/ld-linux-x86-64.so.2 does not exist; it cannot start"
    )
    f = one(check_sample("broken-foreign-arch"), Rule.ELF_ARCHITECTURE)
    assert f.message == (
        "/usr/bin/broken-foreign-arch is built for arm64; a x86-64 host cannot run it"
    )
    f = one(check_sample("broken-dangling"), Rule.UNIT_DANGLING)
    assert f.message == (
        "cannot be opened: a symlink to '/usr/share/nowhere.service', which does not resolve "
        "inside the image; portabled skips it"
    )
    mounts = [f for f in check_sample("broken-no-mountpoints") if f.rule is Rule.MOUNT_POINT]
    assert [f.path for f in mounts] == [str(p) for p in MOUNT_POINTS]
    assert mounts[0].message.startswith("/proc does not exist: it is a mount point")
    assert mounts[0].fix == "add an empty directory /proc to the image"


def test_unit_parse_error_has_line_and_caret() -> None:
    f = one(check_sample("broken-unit-syntax"), Rule.UNIT_UNPARSABLE)
    assert (f.line, f.column, f.text) == (4, 8, "[Service")
    assert f.location == "/usr/lib/systemd/system/broken-unit-syntax.service:4:8"
    assert f.caret() == "[Service\n       ^"
    assert f.message.startswith("systemd cannot load this unit: Invalid section header '[Service'")
    assert str(f) == (
        "warning: unit-unparsable: /usr/lib/systemd/system/broken-unit-syntax.service:4:8: "
        + f.message
    )


def test_os_release_parse_error_has_a_location() -> None:
    tree = dict(SAMPLES["minimal"].files)
    tree["usr/lib/os-release"] = b'NAME="Caf\xe9"\nID=debian\n'
    findings = check_image(MemorySource(tree, label="<t>"), "minimal", host_arch=ARCH)
    f = one(findings, Rule.RELEASE_UNPARSABLE)
    assert (f.severity, f.path, f.line, f.portabled_message) == (
        E,
        "/etc/os-release",
        1,
        "Invalid argument",
    )
    assert f.message == "the os-release file does not parse: invalid UTF-8 in key or value"
    # the rest is still checked
    assert Rule.UNIT_TYPE in {g.rule for g in findings}


def test_unreadable_os_release() -> None:
    tree = dict(SAMPLES["minimal"].files)
    tree["usr/lib/os-release"] = None  # a directory
    f = one(check_image(MemorySource(tree), "minimal", host_arch=ARCH), Rule.OS_RELEASE_MISSING)
    assert (f.path, f.portabled_message) == ("/etc/os-release", "Is a directory")
    assert f.message == "the os-release file cannot be read: Is a directory"


def test_relative_unit_link_that_leaves_the_image() -> None:
    tree = dict(SAMPLES["minimal"].files)
    # inside the image ".." stops at the root; through the host's root it climbs out of it
    tree["usr/lib/systemd/system/minimal-out.service"] = Symlink("../../../../../etc/out.service")
    tree["etc/out.service"] = "[Service]\nExecStart=/usr/bin/minimald\n"
    tree["usr/lib/systemd/system/minimal-in.service"] = Symlink("../../../../etc/out.service")
    findings = check_image(MemorySource(tree), "minimal", host_arch=ARCH)
    (f,) = [g for g in findings if g.rule is Rule.UNIT_ABSOLUTE_LINK]
    assert f.path == "/usr/lib/systemd/system/minimal-out.service"
    assert f.message.startswith("a symlink to '../../../../../etc/out.service': portabled of ")
    assert not [g for g in check_image(MemorySource(tree), "minimal", systemd=262, host_arch=ARCH)
                if g.rule is Rule.UNIT_ABSOLUTE_LINK]  # fmt: skip


def test_to_dict() -> None:
    f = one(check_sample("broken-unit-syntax"), Rule.UNIT_UNPARSABLE)
    assert f.to_dict() == {
        "severity": "warning",
        "rule": "unit-unparsable",
        "image": "/var/lib/portables/broken-unit-syntax",
        "path": "/usr/lib/systemd/system/broken-unit-syntax.service",
        "message": f.message,
        "fix": f.fix,
        "portabled_message": None,
        "line": 4,
        "column": 8,
        "text": "[Service",
    }
    g = one(check_sample("broken-no-id"), Rule.OS_RELEASE_NO_ID)
    assert g.to_dict()["line"] is None and g.to_dict()["portabled_message"] is not None


# -- prefixes and names --------------------------------------------------------------------------


def test_prefix_from_the_image_name() -> None:
    src = sample_source("webapp_2.1")
    # the prefix is the name up to the first '_': webapp
    assert serious(check_image(src, "/srv/webapp_2.1", host_arch=ARCH)) == set()
    # explicit prefixes replace it
    f = check_image(src, "webapp_2.1", matches=["webapp-admin"], host_arch=ARCH)
    assert serious(f) == set()
    assert sum(1 for g in f if g.rule is Rule.UNIT_NO_MATCH) == 4
    bad = one(check_image(src, "web@pp", host_arch=ARCH), Rule.PREFIX_UNDERIVABLE)
    assert bad.portabled_message == (
        "Failed to extract prefix of image name 'web@pp': Invalid argument"
    )
    assert bad.severity is E and bad.path == "" and bad.image == "/var/lib/portables/web@pp"
    # no prefix, no prefix checks; the rest is still checked
    assert serious(check_image(src, "/srv/web@pp", host_arch=ARCH)) == {
        (E, Rule.PREFIX_UNDERIVABLE)
    }
    # without a name nothing can be said about prefixes, and that is an error of the caller
    with pytest.raises(ValueError, match="pass its path or file name"):
        check_image(src)


def test_raw_image_names() -> None:
    f = check_image(sample_source("minimal"), "minimal_1.raw", host_arch=ARCH)
    assert serious(f) == set()  # prefix minimal, image /var/lib/portables/minimal_1.raw
    assert {g.image for g in f} == {"/var/lib/portables/minimal_1.raw"}


# -- extensions ----------------------------------------------------------------------------------


def _env(text: str) -> EnvFile:
    return EnvFile.parse(text)


BASES = [
    "ID=debian\nVERSION_ID=12\n",
    "ID=debian\nSYSEXT_LEVEL=2\n",
    "ID=debian\nVERSION_ID=12\nSYSEXT_LEVEL=2\n",
    "ID=arch\n",
    "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=24.04\n",
]
EXTS = [
    "",
    "ID=_any\n",
    "ID=debian\nVERSION_ID=12\n",
    "ID=debian\nVERSION_ID=11\n",
    "ID=debian\nSYSEXT_LEVEL=2\n",
    "ID=debian\nSYSEXT_LEVEL=3\nVERSION_ID=12\n",
    "ID=debian\n",
    "ID=debian\nSYSEXT_SCOPE=\n",
    "ID=debian\nSYSEXT_SCOPE=system initrd\n",
    "ID=debian\nSYSEXT_SCOPE=portable\nARCHITECTURE=arm64\n",
    "ID=debian\nARCHITECTURE=_any\nVERSION_ID=24.04\n",
    "ID=\nVERSION_ID=12\n",
    "ID=arch\n",
    "SYSEXT_ID=x\n",
]


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_extension_verdict_agrees_with_validate_extension(version: int) -> None:
    sd = Systemd(version)
    for base in BASES:
        for ext in EXTS:
            b, e = _env(base), _env(ext)
            verdict = extension_verdict(b, e, sd, host_arch=ARCH)
            assert (verdict is None) == validate_extension(b, e, sd, host_arch=ARCH), (base, ext)


def test_extension_id_like() -> None:
    base = _env("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=24.04\n")
    ext = _env("ID=debian\nVERSION_ID=24.04\n")
    assert extension_verdict(base, ext, Systemd(257), host_arch=ARCH) is None
    verdict = extension_verdict(base, ext, Systemd(252), host_arch=ARCH)
    assert verdict is not None and verdict[1] == "ID=debian, but the base image has ID=ubuntu"


def test_extension_release_found_by_the_version_less_name() -> None:
    f = one(check_sample("broken-ext-renamed_1.0"), Rule.EXTENSION_RELEASE_RENAMED)
    assert f.path == "/usr/lib/extension-release.d"
    assert "/usr/lib/extension-release.d/extension-release.broken-ext-renamed instead" in f.message
    g = one(check_sample("broken-ext-renamed_1.0", 252), Rule.EXTENSION_RELEASE_MISSING)
    assert g.portabled_message == (
        "Image '/var/lib/portables/broken-ext-renamed_1.0' lacks extension-release data, refusing."
    )


class _XattrSource(MemorySource):
    """An in-memory tree whose files all carry user.extension-release.strict=0."""

    def getxattr(self, path: PurePosixPath, name: str) -> bytes | None:
        return b"0" if name == "user.extension-release.strict" else None


def test_two_acceptable_release_files() -> None:
    ext = _XattrSource(
        {
            "usr/lib/extension-release.d/extension-release.one": "ID=_any\n",
            "usr/lib/extension-release.d/extension-release.two": "ID=_any\n",
        }
    )
    findings = check_image(
        sample_source(EXT_BASE), EXT_BASE, extensions=[(ext, "x")], host_arch=ARCH
    )
    f = one(findings, Rule.EXTENSION_RELEASE_AMBIGUOUS)
    assert f.portabled_message == "Name not unique on network"
    assert f.path == "/usr/lib/extension-release.d"


def test_raw_extension_with_os_release() -> None:
    tree = dict(SAMPLES["webapp-tls"].files)
    tree["usr/lib/os-release"] = "ID=debian\n"
    ext = MemorySource(tree)
    findings = check_image(
        sample_source(EXT_BASE),
        EXT_BASE,
        extensions=[(ext, "/var/lib/portables/webapp-tls.raw")],
        host_arch=ARCH,
    )
    f = one(findings, Rule.EXTENSION_RELEASE_MISSING)
    assert f.path == "/usr/lib/os-release"
    assert f.portabled_message == (
        "Image '/var/lib/portables/webapp-tls.raw' lacks extension-release data, refusing."
    )
    # a directory extension may have one
    ok = check_image(
        sample_source(EXT_BASE), EXT_BASE, extensions=[(ext, "webapp-tls")], host_arch=ARCH
    )
    assert serious(ok) == set()


# -- ELF -----------------------------------------------------------------------------------------


def _elf32_be(interp: str, machine: int = 22) -> bytes:
    """A 32-bit big-endian ELF header (s390 by default) with one PT_INTERP."""
    raw = interp.encode() + b"\0"
    header = struct.pack(
        ">4sBBBBB7xHHIIIIIHHHHHH", b"\x7fELF", 1, 2, 1, 0, 0, 2, machine, 1, 0, 52, 0, 0, 52,
        32, 1, 0, 0, 0,
    )  # fmt: skip
    phdr = struct.pack(">IIIIIIII", 3, 84, 0, 0, len(raw), len(raw), 4, 1)
    return header + phdr + raw


def test_loader_found_through_links_inside_the_image() -> None:
    from portablekit.samples.data import _elf

    tree = dict(SAMPLES["minimal"].files)
    tree["usr/bin/app"] = _elf("/lib64/ld-linux-x86-64.so.2")
    tree["lib64"] = Symlink("usr/lib64")  # merged /usr
    tree["usr/lib64/ld-linux-x86-64.so.2"] = Symlink("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
    tree["lib"] = Symlink("usr/lib")
    tree["usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"] = b"\x7fELF..."
    modes = {"usr/bin/app": 0o755}
    src = MemorySource(tree, modes=modes)
    assert serious(check_image(src, "minimal", host_arch=ARCH)) == set()
    # the last link dangles: the finding says where it leads
    del tree["usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"]
    f = one(check_image(MemorySource(tree, modes=modes), "minimal", host_arch=ARCH),
            Rule.DYNAMIC_LOADER)  # fmt: skip
    assert f.message.endswith(
        "but /lib64/ld-linux-x86-64.so.2 is a symlink to "
        "'/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', which does not exist in the image; it "
        "cannot start"
    )


def test_elf_headers_of_other_kinds() -> None:
    tree = dict(SAMPLES["minimal"].files)
    tree["usr/bin/s390-tool"] = _elf32_be("/lib/ld.so.1")
    tree["usr/bin/not-elf"] = b"\x7fELF" + b"\xff" * 60  # bad class: ignored
    tree["usr/bin/truncated"] = b"\x7fELF\x02\x01" + b"\0" * 50
    tree["usr/bin/data.bin"] = b"\x7fELF" * 20  # not executable: not read
    tree["usr/libexec/helper/deep/tool"] = _elf32_be("/lib/ld.so.1")
    modes = {p: 0o755 for p in tree if p.startswith(("usr/bin/", "usr/libexec/")) and
             p != "usr/bin/data.bin"}  # fmt: skip
    findings = check_image(MemorySource(tree, modes=modes), "minimal", host_arch=ARCH)
    loader = one(findings, Rule.DYNAMIC_LOADER)
    assert loader.message.startswith(
        "/usr/bin/s390-tool, /usr/libexec/helper/deep/tool need the dynamic loader /lib/ld.so.1"
    )
    arch = one(findings, Rule.ELF_ARCHITECTURE)
    assert "are built for s390; a x86-64 host cannot run them" in arch.message
    # s390 binaries run on an s390x host
    s390x = check_image(MemorySource(tree, modes=modes), "minimal", host_arch="s390x")
    assert Rule.ELF_ARCHITECTURE not in {f.rule for f in s390x}


def test_elf_reading_is_bounded() -> None:
    from portablekit.samples.data import _elf

    tree = dict(SAMPLES["minimal"].files)
    for i in range(50):
        tree[f"usr/bin/tool{i:02}"] = _elf("/lib64/ld-linux-x86-64.so.2")
    modes = {p: 0o755 for p in tree if p.startswith("usr/bin/tool")}
    reads: list[PurePosixPath] = []

    class Counting(MemorySource):
        def read_bytes(self, path: PurePosixPath, offset: int = 0, size: int = -1) -> bytes:
            if str(path).startswith("/usr/bin/tool") and offset == 0:
                reads.append(path)
            return super().read_bytes(path, offset, size)

    findings = check_image(Counting(tree, modes=modes), "minimal", host_arch=ARCH, max_elf_files=7)
    assert len(reads) == 7
    assert "and 4 more need the dynamic loader" in one(findings, Rule.DYNAMIC_LOADER).message


# -- every kind of source ------------------------------------------------------------------------


def _comparable(findings: list[Finding]) -> list[tuple[object, ...]]:
    return [(f.severity, f.rule, f.path, f.message, f.line) for f in findings]


@pytest.mark.parametrize("name", ["broken-no-loader", "broken-dangling", "broken-absolute-link",
                                  "broken-not-a-file", "broken-masked", "minimal"])  # fmt: skip
def test_directory_source_gives_the_same_findings(name: str, tmp_path: Path) -> None:
    path = write_sample(name, tmp_path / name)
    on_disk = check_image(DirectorySource(path), str(path), host_arch=ARCH)
    assert {f.image for f in on_disk} <= {str(path)}
    memory = check_image(sample_source(name), str(path), host_arch=ARCH)
    assert _comparable(on_disk) == _comparable(memory)


needs_mksquashfs = pytest.mark.skipif(
    shutil.which("mksquashfs") is None, reason="needs mksquashfs (squashfs-tools)"
)


@needs_mksquashfs
def test_raw_images(tmp_path: Path) -> None:
    from portablekit.raw import open_raw_image
    from portablekit.samples.raw import build_image

    def raw(name: str) -> Path:
        out = tmp_path / f"{name}.raw"
        build_image(write_sample(name, tmp_path / "trees" / name), out)
        return out

    base, ext = raw("broken-no-loader"), raw("broken-ext-misnamed")
    with open_raw_image(base) as b, open_raw_image(ext) as e:
        findings = check_image(
            b.source, str(base), extensions=[(e.source, str(ext))], host_arch=ARCH
        )
        memory = check_image(sample_source("broken-no-loader"), str(base), host_arch=ARCH)
    assert serious(findings) == {(W, Rule.DYNAMIC_LOADER), (E, Rule.EXTENSION_RELEASE_MISSING)}
    assert one(findings, Rule.EXTENSION_RELEASE_MISSING).portabled_message == (
        f"Image '{ext}' lacks extension-release data, refusing."  # raw: also on 257
    )
    assert _comparable([f for f in findings if f.image == str(base)]) == _comparable(memory)


# -- the same refusals as the simulated portabled ------------------------------------------------


@pytest.fixture(scope="module", params=SUPPORTED_VERSIONS)
def sandbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxRoot]:
    root = SandboxRoot.init(tmp_path_factory.mktemp("root") / "host", request.param)
    install_samples(root, sorted(SAMPLES))
    yield root


def _portabled_says(root: SandboxRoot, base: str, extensions: list[str]) -> str | None:
    try:
        dissect(root.host, base, matches=[derive_prefix(base)], extensions=extensions,
                host_arch=ARCH)  # fmt: skip
    except PortabledError as e:
        return e.message
    except EnvFileError:
        return "Invalid argument"  # portabled's errno for a release file that does not parse
    return None


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_refusals_match_the_simulated_portabled(sandbox: SandboxRoot, name: str) -> None:
    if SAMPLES[name].extension:
        base, exts = EXT_BASE, [name]
    else:
        base, exts = name, []
    says = _portabled_says(sandbox, base, exts)
    findings = check_host_image(sandbox.host, base, extensions=exts, host_arch=ARCH)
    errors = [f.portabled_message for f in findings if f.severity is Severity.ERROR]
    if says is None:
        assert errors == []
    else:
        assert says in errors
    assert all(f.image.startswith("/var/lib/portables/") for f in findings)


def test_host_image_by_path_and_missing(sandbox: SandboxRoot) -> None:
    f = check_host_image(sandbox.host, "/var/lib/portables/broken-no-id", host_arch=ARCH)
    assert serious(f) == {(E, Rule.OS_RELEASE_NO_ID)}
    with pytest.raises(PortabledError, match=r"No image 'nope' found\."):
        check_host_image(sandbox.host, "nope")


def test_host_image_prefix_from_the_argument(sandbox: SandboxRoot, tmp_path: Path) -> None:
    sandbox.lay(write_sample("minimal", tmp_path / "tree"), "/srv/mini@mal")
    (f,) = serious_findings = [
        f for f in check_host_image(sandbox.host, "/srv/mini@mal/", host_arch=ARCH)
        if f.severity is not Severity.INFO
    ]  # fmt: skip
    assert len(serious_findings) == 1 and f.rule is Rule.PREFIX_UNDERIVABLE
    assert f.portabled_message == (
        "Failed to extract prefix of image name '/srv/mini@mal/': Invalid argument"
    )
    assert f.image == "/srv/mini@mal"


# -- the module ----------------------------------------------------------------------------------


def test_docstring_examples() -> None:
    result = doctest.testmod(portablekit.check.image)
    assert result.failed == 0 and result.attempted > 0


def test_checks_do_not_load_pandas() -> None:
    code = (
        "import sys, portablekit.check.image, portablekit.cli.check\n"
        "print([m for m in ('pandas', 'numpy', 'ipywidgets') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_findings_make_a_frame() -> None:
    pd = pytest.importorskip("pandas")
    from portablekit.tables import findings_frame

    findings = check_sample("broken-no-mountpoints") + check_sample("broken-no-os-release")
    df = findings_frame(findings)
    assert len(df) == len(findings)
    assert set(df["code"]) == {f.rule.value for f in findings}
    assert df["severity"].iloc[0] == "error"
    direct = pd.DataFrame([f.to_dict() for f in findings])
    assert list(direct.columns)[:3] == ["severity", "rule", "image"]


def test_severity_and_rule_vocabulary() -> None:
    assert [s.rank for s in Severity] == [0, 1, 2]
    assert all(r.value == r.value.lower() and " " not in r.value for r in Rule)
    assert errno.ENOTUNIQ  # the ambiguous-release refusal is that errno's text


# -- never an exception --------------------------------------------------------------------------

_PARTS = [
    "etc",
    "usr",
    "lib",
    "lib64",
    "bin",
    "systemd",
    "system",
    "os-release",
    "x.service",
    "x-a.service",
    "x.mount",
    ".x.service",
    "x.service~",
    "x.socket",
    "ld.so",
    "run",
    "extension-release.d",
    "extension-release.x",
    "extension-release.ext",
    "..",
    ".",
]
_BYTES = [b"", b"ID=debian\n", b"ID=debian\nPORTABLE_PREFIXES=x\n", b"ID=\xff\n",
          b"[Service\n", b"[Service]\nExecStart=/bin/true\n", b"SYSEXT_SCOPE=system\n"]  # fmt: skip


@st.composite
def _trees(draw: st.DrawFn) -> MemorySource:
    from portablekit.samples.data import _elf

    src = MemorySource()
    for _ in range(draw(st.integers(0, 25))):
        path = "/".join(draw(st.lists(st.sampled_from(_PARTS), min_size=1, max_size=5)))
        content: bytes | Symlink | None = draw(
            st.one_of(
                st.sampled_from(_BYTES),
                st.builds(lambda t: _elf(t), st.sampled_from(["/lib64/ld.so", "ld", "/usr"])),
                st.builds(Symlink, st.sampled_from(["/", "..", "x.service", "/dev/null", "../..",
                                                    "/usr/lib/os-release", "loop", "/etc"])),
                st.none(),
            )
        )  # fmt: skip
        with contextlib.suppress(ValueError):  # a parent is a file
            src.add(path, content, mode=0o755)
    return src


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=_trees(), ext=_trees(), version=st.sampled_from(SUPPORTED_VERSIONS))
def test_any_tree_gives_findings_not_exceptions(
    base: MemorySource, ext: MemorySource, version: int
) -> None:
    findings = check_image(
        base, "x_1", extensions=[(ext, "ext.raw")], systemd=version, host_arch=ARCH
    )
    for f in findings:
        assert f.rule in RULES and f.message and f.fix
        json.dumps(f.to_dict())

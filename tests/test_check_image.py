"""The image checks (portablekit.check.image): every rule has a broken sample it finds, the
good samples give no errors or warnings, portabled's refusals are the simulated portabled's
(dissect) messages byte for byte, and directories, in-memory trees and raw images give the same
findings."""

from __future__ import annotations

import contextlib
import doctest
import errno
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from check_support import (
    ARCH,
    BROKEN,
    EXPECTED,
    EXPECTED_BY_VERSION,
    EXT_BASE,
    GOOD,
    RULE_SAMPLES,
    WITHOUT_SAMPLE,
    E,
    W,
    check_sample,
    one,
    serious,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import portablekit.check.image
from portablekit.check.findings import RULES, Finding, Rule, Severity
from portablekit.check.image import MOUNT_POINTS, check_host_image, check_image
from portablekit.errors import EnvFileError, PortabledError
from portablekit.names import derive_prefix
from portablekit.portabled.dissect import dissect
from portablekit.samples import SAMPLES, install_samples, sample_source
from portablekit.samples.raw import write_tree
from portablekit.sandbox import SandboxRoot
from portablekit.source import DirectorySource, MemorySource, Symlink
from portablekit.versions import SUPPORTED_VERSIONS, Systemd

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
        systemd=Systemd(version),
        host_arch=ARCH,
    )
    assert serious(findings) == set()


# -- exact texts ---------------------------------------------------------------------------------


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
    on_262 = check_image(MemorySource(tree), "minimal", systemd=Systemd(262), host_arch=ARCH)
    assert not [g for g in on_262 if g.rule is Rule.UNIT_ABSOLUTE_LINK]


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


# -- every kind of source ------------------------------------------------------------------------


def _comparable(findings: list[Finding]) -> list[tuple[object, ...]]:
    return [(f.severity, f.rule, f.path, f.message, f.line) for f in findings]


@pytest.mark.parametrize("name", ["broken-no-loader", "broken-dangling", "broken-absolute-link",
                                  "broken-not-a-file", "broken-masked", "minimal"])  # fmt: skip
def test_directory_source_gives_the_same_findings(name: str, tmp_path: Path) -> None:
    path = write_tree(sample_source(name), tmp_path / name)
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
        build_image(write_tree(sample_source(name), tmp_path / "trees" / name), out)
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
    root = SandboxRoot.init(tmp_path_factory.mktemp("root") / "host", Systemd(request.param))
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
    sandbox.lay(write_tree(sample_source("minimal"), tmp_path / "tree"), "/srv/mini@mal")
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
    # the frame's column is named as the finding's attribute (and as to_dict() names it)
    assert set(df["rule"]) == {f.rule.value for f in findings}
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
        base, "x_1", extensions=[(ext, "ext.raw")], systemd=Systemd(version), host_arch=ARCH
    )
    for f in findings:
        assert f.rule in RULES and f.message and f.fix
        json.dumps(f.to_dict())

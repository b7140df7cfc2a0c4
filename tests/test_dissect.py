from __future__ import annotations

import errno

import pytest

from portablekit.errors import PortabledError
from portablekit.osrelease import EnvFile
from portablekit.portabled.dissect import (
    SkipReason,
    dissect,
    find_extension_release,
    read_os_release,
    scan_units,
    validate_extension,
)
from portablekit.samples import sample_source
from portablekit.sandbox import SandboxRoot
from portablekit.source import MemorySource, Symlink
from portablekit.versions import Systemd


def test_scan_units_with_reasons() -> None:
    src = sample_source("minimal")
    units, cands = scan_units(src, ["minimal"])
    assert [u.name for u in units] == [
        "minimal-worker.service",
        "minimal.service",
        "minimal.socket",
    ]
    reasons = {c.name: c.reason for c in cands}
    assert reasons["minimalist.service"] is SkipReason.NO_MATCH
    assert reasons["other.service"] is SkipReason.NO_MATCH
    assert reasons["minimal.mount"] is SkipReason.UNIT_TYPE
    assert reasons["minimal.service"] is None


def test_scan_units_priority_empty_and_dangling() -> None:
    src = MemorySource(
        {
            "etc/systemd/system/a.service": "[Service]\nExecStart=/etc\n",
            "usr/lib/systemd/system/a.service": "[Service]\nExecStart=/usr\n",
            "usr/lib/systemd/system/a-empty.service": "",
            "usr/lib/systemd/system/a-masked.service": Symlink("/dev/null"),
            "usr/lib/systemd/system/a-dangling.service": Symlink("/nowhere"),
            "usr/lib/systemd/system/a.service.d/x.conf": "[Service]\n",
            "usr/lib/systemd/system/.a-hidden.service": "x\n",
            "lib": Symlink("usr/lib"),
        }
    )
    units, cands = scan_units(src, ["a"])
    assert [(u.name, u.data) for u in units] == [("a.service", b"[Service]\nExecStart=/etc\n")]
    reasons = {(c.name, str(c.directory)): c.reason for c in cands}
    assert reasons[("a.service", "/usr/lib/systemd/system")] is SkipReason.DUPLICATE
    assert reasons[("a-empty.service", "/usr/lib/systemd/system")] is SkipReason.EMPTY
    assert reasons[("a-masked.service", "/usr/lib/systemd/system")] is SkipReason.EMPTY
    assert reasons[("a-dangling.service", "/usr/lib/systemd/system")] is SkipReason.UNREADABLE
    assert reasons[(".a-hidden.service", "/usr/lib/systemd/system")] is SkipReason.HIDDEN
    # /lib/systemd/system is the same directory as /usr/lib/systemd/system here: scanned once
    assert not any(str(c.directory) == "/lib/systemd/system" for c in cands)


def test_os_release_fallback() -> None:
    src = MemorySource({"etc/os-release": Symlink("/nowhere"), "usr/lib/os-release": "ID=x\n"})
    found = read_os_release(src)
    assert found is not None and found[0].get("ID") == "x" and found[1] == "/usr/lib/os-release"
    assert read_os_release(MemorySource({"etc": None})) is None


def _ext(files: dict[str, str], name: str, version: int, relaxed: bool = False):  # type: ignore[no-untyped-def]
    src = MemorySource({f"usr/lib/extension-release.d/{k}": v for k, v in files.items()})
    return find_extension_release(src, name, Systemd(version), relaxed=relaxed)


def test_extension_release_naming_rules() -> None:
    assert _ext({"extension-release.app_1": "ID=x\n"}, "app_1", 252) is not None
    assert _ext({"extension-release.app": "ID=x\n"}, "app_1", 252) is None
    assert _ext({"extension-release.app": "ID=x\n"}, "app_1", 257) is not None
    assert _ext({"extension-release.other": "ID=x\n"}, "app", 257) is None
    assert _ext({"extension-release.other": "ID=x\n"}, "app", 257, relaxed=True) is not None
    with pytest.raises(PortabledError) as e:
        _ext(
            {"extension-release.a": "ID=x\n", "extension-release.b": "ID=x\n"},
            "c",
            257,
            relaxed=True,
        )
    assert e.value.errno == errno.ENOTUNIQ
    confext = MemorySource({"etc/extension-release.d/extension-release.cfg": "ID=x\n"})
    found = find_extension_release(confext, "cfg", Systemd(257))
    assert found is not None and found[1] == "confext"
    assert find_extension_release(confext, "cfg", Systemd(252)) is None


@pytest.mark.parametrize(
    ("base", "ext", "ok"),
    [
        ("ID=debian\nVERSION_ID=12\n", "ID=debian\nVERSION_ID=12\n", True),
        ("ID=debian\nVERSION_ID=12\n", "ID=debian\nVERSION_ID=11\n", False),
        ("ID=debian\nVERSION_ID=12\n", "ID=fedora\nVERSION_ID=12\n", False),
        ("ID=debian\nVERSION_ID=12\n", "ID=_any\n", True),
        ("ID=debian\nVERSION_ID=12\n", "VERSION_ID=12\n", False),
        ("ID=debian\nVERSION_ID=12\n", "ID=debian\nVERSION_ID=12\nSYSEXT_SCOPE=system\n", False),
        ("ID=debian\nVERSION_ID=12\n", "ID=debian\nVERSION_ID=12\nARCHITECTURE=_any\n", True),
        ("ID=debian\nVERSION_ID=12\n", "ID=debian\nVERSION_ID=12\nARCHITECTURE=s390\n", False),
        ("ID=debian\nSYSEXT_LEVEL=2\n", "ID=debian\nSYSEXT_LEVEL=2\nVERSION_ID=9\n", True),
        ("ID=debian\nVERSION_ID=12\nSYSEXT_LEVEL=2\n", "ID=debian\nSYSEXT_LEVEL=3\n", False),
        ("ID=debian\n", "ID=debian\n", True),
        ("ID=debian\nVERSION_ID=12\n", "", False),
    ],
)
def test_validate_extension(base: str, ext: str, ok: bool) -> None:
    assert (
        validate_extension(
            EnvFile.parse(base), EnvFile.parse(ext), Systemd(257), host_arch="x86-64"
        )
        is ok
    )


def test_id_like_counts_from_257_on() -> None:
    # recorded: tests/golden-extra/*/x-extension-edge
    base = EnvFile.parse("ID=ubuntu\nID_LIKE=debian\n")
    ext = EnvFile.parse("ID=debian\n")
    assert not validate_extension(base, ext, Systemd(252), host_arch="x86-64")
    assert validate_extension(base, ext, Systemd(257), host_arch="x86-64")


def test_dissect_with_extensions(root: SandboxRoot) -> None:
    d = dissect(
        root.host, "webapp_2.1", matches=["webapp", "webapp-tls"], extensions=["webapp-tls"]
    )
    assert [(u.name, u.layer) for u in d.units] == [
        ("webapp-admin.service", 0),
        ("webapp-cleanup.service", 0),
        ("webapp-cleanup.timer", 0),
        ("webapp-tls.service", 1),
        ("webapp.service", 0),
        ("webapp.socket", 0),
    ]
    shadowed = [c for c in d.candidates if c.name == "webapp.service" and c.layer == 1]
    assert shadowed and shadowed[0].reason is SkipReason.DUPLICATE


def test_dissect_refusals(root: SandboxRoot) -> None:
    host = root.host
    with pytest.raises(PortabledError) as e:
        dissect(host, "webapp_2.1", matches=["other"])
    assert e.value.message.startswith("Selected matches 'other' are not compatible")
    assert e.value.message.endswith("(Acceptable prefix matches are: webapp, webapp-admin)")
    with pytest.raises(PortabledError) as e:
        dissect(host, "webapp_2.1", matches=["webapp"], extensions=["webapp-legacy"])
    assert e.value.message == (
        "Image /var/lib/portables/webapp-legacy extension-release metadata does not match the "
        "root's"
    )
    # inspect makes neither check
    d = dissect(host, "webapp_2.1", matches=["webapp"], extensions=["webapp-legacy"], attach=False)
    assert d.extensions[0].release is not None

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from portablekit.portabled.host import Host
from portablekit.portabled.profiles import (
    BUILTIN_PROFILES,
    builtin_profile,
    builtin_profiles,
    find_profile,
    list_profiles,
    read_profile,
)
from portablekit.portabled.state import ImageState, image_state, unit_states
from portablekit.samples import SAMPLE_MTIME, SAMPLES, sample_source, write_sample
from portablekit.sandbox import SandboxRoot
from portablekit.versions import Systemd


@pytest.mark.parametrize(
    ("version", "sizes"),
    [(252, (1039, 975, 712, 224)), (257, (960, 896, 633, 224)), (262, (1045, 960, 655, 224))],
)
def test_builtin_profile_bytes_match_the_base_roots(version: int, sizes: tuple[int, ...]) -> None:
    # sizes from the oracle's base-root listings (Debian's systemd-container packages)
    systemd = Systemd(version)
    assert tuple(len(builtin_profile(n, systemd).encode()) for n in BUILTIN_PROFILES) == sizes
    assert builtin_profiles(systemd)["strict"].builtin


def test_profile_history() -> None:
    assert "PrivateTmp=yes" in builtin_profile("default", Systemd(252))
    assert "PrivateTmp=yes" not in builtin_profile("default", Systemd(257))
    assert "BindLogSockets=yes" in builtin_profile("strict", Systemd(257))
    assert "DelegateNamespaces=no" in builtin_profile("nonetwork", Systemd(262))
    assert builtin_profile("trusted", Systemd(252)) == builtin_profile("trusted", Systemd(262))
    with pytest.raises(KeyError):
        builtin_profile("nope", Systemd(257))


def test_profile_lookup_on_a_host(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r", Systemd(257))
    host = root.host
    assert find_profile(host, "strict", "service") == PurePosixPath(
        "/usr/lib/systemd/portable/profile/strict/service.conf"
    )
    assert find_profile(host, "strict", "socket") is None
    assert find_profile(host, "nope", "service") is None
    root.write_file("/etc/systemd/portable/profile/strict/service.conf", "[Service]\n")
    assert str(find_profile(host, "strict", "service")).startswith("/etc/")
    root.write_file("/run/systemd/portable/profile/mine/socket.conf", "[Socket]\n")
    assert list_profiles(host) == ["default", "mine", "nonetwork", "strict", "trusted"]
    prof = read_profile(host, "mine", "socket")
    assert prof is not None and prof.text == "[Socket]\n" and not prof.builtin


def test_unit_file_exists_counts_vendor_units_and_templates(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r", Systemd(257))
    host = root.host
    assert host.unit_file_exists("systemd-journald.service")  # shipped by Debian's base
    assert not host.unit_file_exists("portablekit-nothing.service")
    root.write_file("/etc/systemd/system/tpl@.service", "[Service]\n")
    assert host.unit_file_exists("tpl@x.service")
    assert not Host(root.path, Systemd(262)).unit_file_exists("tpl@x.service")


def test_active_units_file(tmp_path: Path) -> None:
    root = SandboxRoot.init(tmp_path / "r", Systemd(257))
    root.write_file(
        "/run/portablekit/active-units", "a.service\nb@x.service reloading\n\nc.service inactive\n"
    )
    host = root.host
    assert host.active_units() == {
        "a.service": "active",
        "b@x.service": "reloading",
        "c.service": "inactive",
    }
    assert host.unit_is_active("a.service") and not host.unit_is_active("c.service")
    assert host.unit_is_active("b@.service")  # a running instance makes the template active


def test_states(root: SandboxRoot) -> None:
    from portablekit.portabled.plan import plan_attach

    assert image_state(root.host, "minimal") is ImageState.DETACHED
    root.apply(plan_attach(root.host, "minimal", matches=["minimal"], runtime=True))
    assert image_state(root.host, "minimal") is ImageState.ATTACHED_RUNTIME
    os.makedirs(root.machine_path("/run/systemd/system/multi-user.target.wants"))
    os.symlink(
        "/run/systemd/system.attached/minimal.service",
        root.machine_path("/run/systemd/system/multi-user.target.wants/minimal.service"),
    )
    assert image_state(root.host, "minimal") is ImageState.ENABLED_RUNTIME
    root.start_units(["minimal.socket"])
    assert image_state(root.host, "minimal") is ImageState.RUNNING_RUNTIME
    states = {u.unit: u for u in unit_states(root.host)}
    assert states["minimal.socket"].running and states["minimal.service"].enabled
    assert states["minimal.service"].runtime and states["minimal.service"].image == (
        "/var/lib/portables/minimal"
    )


def test_samples_are_deterministic(tmp_path: Path) -> None:
    a = write_sample("webapp_2.1", tmp_path / "a")
    b = write_sample("webapp_2.1", tmp_path / "b")
    listing = sorted(str(p.relative_to(a)) for p in a.rglob("*"))
    assert listing == sorted(str(p.relative_to(b)) for p in b.rglob("*"))
    for rel in listing:
        pa, pb = a / rel, b / rel
        assert os.lstat(pa).st_mode == os.lstat(pb).st_mode
        if pa.is_file() and not pa.is_symlink():
            assert pa.read_bytes() == pb.read_bytes()
            assert os.stat(pa).st_mtime == SAMPLE_MTIME
    assert os.access(a / "usr/bin/webappd", os.X_OK)
    for name in SAMPLES:
        assert sample_source(name).exists("/usr/lib/systemd/system") or name.startswith("broken")


def test_versions() -> None:
    with pytest.raises(ValueError, match="unsupported systemd version 250"):
        Systemd(250)
    assert str(Systemd(257, fixed=True)) == "systemd 257 (fixed)"
    assert (
        Systemd(257).bare_name_matches_everything and not Systemd(262).bare_name_matches_everything
    )
    assert Systemd(252).copy_modes == ("auto", "copy", "symlink")


@pytest.mark.parametrize(
    ("fstype", "table"), [("squashfs", None), ("erofs", None), ("ext4", "gpt")]
)
def test_raw_samples_attach_like_the_directories(
    tmp_path: Path, fstype: str, table: str | None
) -> None:
    import shutil

    from portablekit.portabled.dissect import dissect
    from portablekit.samples import build_raw_sample

    tool = {"squashfs": "mksquashfs", "erofs": "mkfs.erofs", "ext4": "mkfs.ext4"}[fstype]
    if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
        pytest.skip(f"{tool} is not installed (make tools installs it)")
    root = SandboxRoot.init(tmp_path / "r", Systemd(262))
    img = build_raw_sample(
        "minimal", root.machine_path("/var/lib/portables/minimal.raw"), fstype=fstype, table=table
    )
    assert img.is_file()
    raw = dissect(root.host, "minimal", matches=["minimal"])
    assert [u.name for u in raw.units] == [
        "minimal-worker.service",
        "minimal.service",
        "minimal.socket",
    ]
    assert raw.base.policy is not None

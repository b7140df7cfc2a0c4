from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from portablekit.portabled.profiles import (
    BUILTIN_PROFILES,
    builtin_profile,
    builtin_profiles,
    find_profile,
    list_profiles,
    read_profile,
)
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

"""Merging a unit with its drop-ins: order, resets, the special merges, warnings, canonical text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portablekit.portabled.profiles import builtin_profile_unit
from portablekit.security.effective import (
    ALL_CAPABILITIES,
    Contribution,
    Dropin,
    EffectiveUnit,
    effective_unit,
    format_capabilities,
)
from portablekit.unitfile import UnitFile
from portablekit.versions import Systemd

DATA = Path(__file__).parent / "data" / "units"
GOLDEN = Path(__file__).parent / "golden" / "security"


def merge(*texts: str, systemd: Systemd = Systemd(), name: str = "foo.service") -> EffectiveUnit:
    unit = UnitFile.parse(texts[0], origin=name)
    dropins = {f"{i:02d}-d.conf": UnitFile.parse(t, origin=f"{i:02d}-d.conf")
               for i, t in enumerate(texts[1:], 1)}  # fmt: skip
    return effective_unit(name, unit, dropins, systemd=systemd)


def value(text: str, key: str, systemd: Systemd = Systemd()) -> str | None:
    return merge(text, systemd=systemd).value(key)


def test_single_values_last_valid_wins_and_empty_resets() -> None:
    eff = merge(
        "[Service]\nUser=a\nPrivateNetwork=yes\nProtectSystem=full\n",
        "[Service]\nUser=b\nPrivateNetwork=maybe\nProtectSystem=\n",
    )
    user = eff.get("User")
    assert (user.value, user.file, user.contributions) == (
        "b", "01-d.conf", (Contribution("b", "01-d.conf", 2),)
    )  # fmt: skip
    assert eff.value("PrivateNetwork") == "yes"
    assert eff.get("ProtectSystem") is None
    assert [str(w) for w in eff.warnings] == [
        "01-d.conf:3: Failed to parse PrivateNetwork=maybe, ignoring: Invalid argument"
    ]


def test_values_are_normalized() -> None:
    assert value("[Service]\nPrivateTmp=true\n", "PrivateTmp") == "yes"
    assert value("[Service]\nUMask=77\n", "UMask") == "0077"
    assert value("[Service]\nProtectHome=off\n", "ProtectHome") == "no"


def test_lists_accumulate_and_reset() -> None:
    eff = merge(
        "[Service]\nBindPaths=/a\nEnvironment=A=1\n[Unit]\nAfter=x.service\n",
        "[Service]\nBindPaths=/b\nEnvironment=\nEnvironment=B=2\n[Unit]\nAfter=\nAfter=y.service\n",
    )
    assert eff.values("BindPaths") == ("/a", "/b")
    assert eff.value("BindPaths") == "/a /b"
    assert eff.values("Environment") == ("B=2",)
    # dependencies cannot be reset: the empty assignment is ignored
    assert eff.values("After", "Unit") == ("x.service", "y.service")
    assert eff.get("BindPaths").files == ("foo.service", "01-d.conf")


def test_dropins_apply_in_file_name_order_first_of_a_name_wins() -> None:
    unit = UnitFile.parse("[Service]\nUser=unit\n")
    layers = [
        Dropin("50-local.conf", UnitFile.parse("[Service]\nUser=local\n")),
        Dropin("10-profile.conf", UnitFile.parse("[Service]\nUser=profile\n")),
        Dropin("50-local.conf", UnitFile.parse("[Service]\nUser=shadowed\n")),
        Dropin("20-portable.conf", UnitFile.parse("[Service]\nUser=portable\n")),
    ]
    eff = effective_unit("foo.service", unit, layers)
    assert [x.name for x in eff.layers] == [
        "foo.service", "10-profile.conf", "20-portable.conf", "50-local.conf"
    ]  # fmt: skip
    assert eff.value("User") == "local"


def test_capability_sets() -> None:
    cap = "CapabilityBoundingSet"
    assert value(f"[Service]\n{cap}=CAP_KILL\n{cap}=CAP_CHOWN\n", cap) == "CAP_CHOWN CAP_KILL"
    assert value(f"[Service]\n{cap}=~CAP_SYS_ADMIN\n", cap) == "~CAP_SYS_ADMIN"
    # ~ after a list removes; an empty assignment means no capabilities at all
    assert value(f"[Service]\n{cap}=CAP_KILL CAP_CHOWN\n{cap}=~CAP_KILL\n", cap) == "CAP_CHOWN"
    eff = merge(f"[Service]\n{cap}=CAP_KILL\n", f"[Service]\n{cap}=\n")
    assert (eff.value(cap), eff.get(cap).file) == ("", "01-d.conf")
    # only unknown names: an empty set replaces everything (systemd's rule for sum == 0)
    assert value(f"[Service]\n{cap}=CAP_KILL\n{cap}=CAP_NOSUCH\n", cap) == ""
    assert format_capabilities(ALL_CAPABILITIES) == "~"
    assert value("[Service]\nAmbientCapabilities=CAP_NET_RAW\nAmbientCapabilities=\n",
                 "AmbientCapabilities") == ""  # fmt: skip


def test_address_families() -> None:
    raf = "RestrictAddressFamilies"
    assert value(f"[Service]\n{raf}=AF_UNIX\n{raf}=AF_INET AF_UNIX\n", raf) == "AF_UNIX AF_INET"
    assert value(f"[Service]\n{raf}=AF_UNIX AF_INET\n{raf}=~AF_INET\n", raf) == "AF_UNIX"
    assert value(f"[Service]\n{raf}=~AF_PACKET\n{raf}=AF_UNIX\n", raf) == "~AF_PACKET"
    assert value(f"[Service]\n{raf}=none\n", raf) == "none"
    assert value(f"[Service]\n{raf}=none\n{raf}=~AF_INET\n", raf) == "~AF_INET"
    assert merge(f"[Service]\n{raf}=AF_UNIX\n{raf}=\n").get(raf) is None


def test_namespaces() -> None:
    rns = "RestrictNamespaces"
    assert value(f"[Service]\n{rns}=cgroup ipc\n{rns}=uts\n", rns) == "cgroup ipc uts"
    assert value(f"[Service]\n{rns}=net\n{rns}=yes\n", rns) == "yes"
    assert value(f"[Service]\n{rns}=~user net\n", rns) == "~net user"
    assert value(f"[Service]\n{rns}=~user\n{rns}=~mnt\n", rns) == "~mnt user"
    eff = merge(f"[Service]\n{rns}=~bogus\n")
    assert [w.message for w in eff.warnings] == [
        "Failed to parse namespace type string, ignoring: bogus"
    ]


def test_syscall_filter_is_kept_symbolic_after_the_last_reset() -> None:
    eff = merge(
        "[Service]\nSystemCallFilter=@mount\nSystemCallFilter=\n",
        "[Service]\nSystemCallFilter=@system-service\nSystemCallFilter=~@privileged\n",
    )
    assert eff.values("SystemCallFilter") == ("@system-service", "~@privileged")


def test_architectures_devices_ip_delegate() -> None:
    eff = merge(
        "[Service]\nSystemCallArchitectures=native native pdp11\n"
        "DeviceAllow=/dev/null rw\nDeviceAllow=/dev/zero xyz\n"
        "IPAddressDeny=any 10.0.0.256 ::1\nDelegate=cpu nonsense\n",
        systemd=Systemd(252),
    )
    assert eff.value("SystemCallArchitectures") == "native"
    assert eff.values("DeviceAllow") == ("/dev/null rw",)
    assert eff.values("IPAddressDeny") == ("any",)
    assert eff.value("Delegate") == "cpu nonsense"
    assert [w.message for w in eff.warnings] == [
        'Failed to parse system call architecture "pdp11", ignoring: Invalid argument',
        "Invalid device rights 'xyz', ignoring.",
        "Address prefix is invalid, ignoring assignment: 10.0.0.256",
        "Invalid controller name 'nonsense', ignoring",
    ]


def test_version_knowledge_sections_and_fatal_settings() -> None:
    eff = merge("[Service]\nBindLogSockets=yes\n[Foo]\nA=1\n[X-Bar]\nB=2\n", systemd=Systemd(252))
    assert eff.get("BindLogSockets") is None
    assert [str(w) for w in eff.warnings] == [
        "foo.service:2: Unknown key 'BindLogSockets' in section [Service], ignoring.",
        "foo.service:3: Unknown section 'Foo'. Ignoring.",
    ]
    assert merge("[Service]\nBindLogSockets=yes\n").value("BindLogSockets") == "yes"
    fatal = merge("[Service]\nDynamicUser=maybe\n").fatal
    assert str(fatal) == "foo.service:2: Failed to parse DynamicUser=maybe: Invalid argument"


def test_rows_and_canonical_text() -> None:
    eff = merge(
        "[Service]\nUser=a\nBindPaths=/a\n", "[Service]\nBindPaths=/b\n[Install]\nWantedBy=x\n"
    )
    assert list(eff.rows()) == [
        ("Service", "User", "a", "foo.service"),
        ("Service", "BindPaths", "/a", "foo.service"),
        ("Service", "BindPaths", "/b", "01-d.conf"),
        ("Install", "WantedBy", "x", "01-d.conf"),
    ]
    assert str(eff) == "[Service]\nUser=a\nBindPaths=/a\nBindPaths=/b\n\n[Install]\nWantedBy=x\n"


def _samples() -> list[Path]:
    return sorted(DATA.glob("*.service")) + sorted((DATA / "probes").glob("*.service"))


@pytest.mark.parametrize("version", [252, 257, 262])
@pytest.mark.parametrize("profile", ["default", "nonetwork", "strict", "trusted"])
def test_canonical_text_merges_back_to_the_same_settings(version: int, profile: str) -> None:
    prof = builtin_profile_unit(profile, Systemd(version))
    for path in _samples():
        unit = UnitFile.parse(path.read_bytes(), origin=path.name)
        eff = effective_unit(path.name, unit, {"10-profile.conf": prof}, systemd=Systemd(version))
        again = effective_unit(path.name, UnitFile.parse(str(eff)), systemd=Systemd(version))
        assert [(s.section, s.name, s.value) for s in again.settings] == [
            (s.section, s.name, s.value) for s in eff.settings
        ], path.name


@pytest.mark.parametrize("version", [252, 257, 262])
def test_warnings_match_systemd(version: int) -> None:
    """Every warning systemd printed for the sample units, except what is not modelled: unknown
    keys (only the modelled settings are known) and unknown system call names."""
    not_modelled = ("Unknown key 'NoSuchDirective'", "nosuchcall")
    checked = 0
    for case in sorted((GOLDEN / str(version)).glob("*--none--none")):
        info = json.loads((case / "case.json").read_text())
        name = info["unit"]
        origin = f"/tmp/w/cases/{case.name}/input/{name}"
        unit = UnitFile.parse((case / "input" / name).read_bytes(), origin=origin)
        eff = effective_unit(name, unit, systemd=Systemd(version))
        stderr = case / "stderr.txt"
        lines = stderr.read_text().splitlines() if stderr.exists() else []
        expected = [
            line
            for line in lines
            if line.startswith(origin + ":") and not any(x in line for x in not_modelled)
        ]
        assert [str(w) for w in eff.warnings] == expected, case.name
        checked += len(expected)
    assert checked >= 20

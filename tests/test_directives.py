"""The directive table: integrity, agreement with what each systemd version knows, values."""

from __future__ import annotations

from pathlib import Path

import pytest

from portablekit.security.checks import CHECKS
from portablekit.security.directives import (
    DIRECTIVES,
    Category,
    InvalidValue,
    Kind,
    by_check,
    lookup,
    parse_boolean,
)
from portablekit.security.vocabulary import (
    ADDRESS_FAMILIES,
    CAPABILITIES,
    capability_mask,
    syscall_groups,
    syscall_not_native,
)
from portablekit.versions import SUPPORTED_VERSIONS, Systemd

GOLDEN = Path(__file__).parent / "golden" / "security"


def known_items(version: int) -> set[tuple[str, str]]:
    """(section, name) of every setting ``systemd --dump-configuration-items`` lists."""
    items = set()
    section = ""
    for line in (GOLDEN / str(version) / "configuration-items.txt").read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line:
            items.add((section, line.split("=", 1)[0]))
    return items


def test_table_is_unique_and_complete() -> None:
    keys = [(d.section, d.name) for d in DIRECTIVES]
    assert len(keys) == len(set(keys))
    assert all(isinstance(d.kind, Kind) and isinstance(d.category, Category) for d in DIRECTIVES)
    assert all(d.doc and d.doc.endswith(".") for d in DIRECTIVES)
    assert lookup("Service", "NoSuchThing") is None
    assert lookup("Service", "DynamicUser") is not None


def test_every_check_is_fed_and_every_fed_check_exists() -> None:
    fields = {c.json_field for c in CHECKS}
    fed = {f for d in DIRECTIVES for f in d.checks}
    assert fed == fields
    assert [d.name for d in by_check("UserOrDynamicUser")] == ["User", "DynamicUser"]
    assert len(lookup("Service", "CapabilityBoundingSet").checks) == 26  # type: ignore[union-attr]


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_since_agrees_with_the_settings_systemd_knows(version: int) -> None:
    known = known_items(version)
    for d in DIRECTIVES:
        assert d.known_in(Systemd(version)) == ((d.section, d.name) in known), (d.name, version)


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_syscall_groups_agree_with_the_recorded_listing(version: int) -> None:
    text = (GOLDEN / str(version) / "syscall-filter.txt").read_text()
    recorded: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@"):
            current = recorded.setdefault(line, []) if line != "@known" else None
        elif line.startswith("#"):
            current = None
        elif line.startswith("    ") and not line.startswith("    #") and current is not None:
            current.append(line.strip())
    assert {k: list(v) for k, v in syscall_groups(Systemd(version)).items()} == recorded
    resolve = dict(
        (name, int(num))
        for name, num in (
            line.split("\t")
            for line in (GOLDEN / str(version) / "syscall-resolve.tsv").read_text().splitlines()
        )
    )
    members = {m for ms in recorded.values() for m in ms if not m.startswith("@")}
    assert syscall_not_native(Systemd(version)) & members == {m for m in members if resolve[m] < 0}


def test_parse_booleans_and_enums() -> None:
    assert [parse_boolean(v) for v in ("Yes", "on", "1", "T", "off", "0", "maybe")] == [
        True, True, True, True, False, False, None
    ]  # fmt: skip
    private_tmp = lookup("Service", "PrivateTmp")
    assert private_tmp is not None
    assert private_tmp.parse("true", Systemd(252)) == "yes"
    assert private_tmp.parse("disconnected", Systemd(257)) == "disconnected"
    with pytest.raises(InvalidValue) as info:
        private_tmp.parse("disconnected", Systemd(252))
    assert info.value.message == "Failed to parse boolean value, ignoring: disconnected"
    assert private_tmp.values_for(Systemd(252)) == ("no", "yes")
    hostname = lookup("Service", "ProtectHostname")
    assert hostname is not None
    with pytest.raises(InvalidValue, match=r"^Failed to parse ProtectHostname=private, ignoring: "):
        hostname.parse("private", Systemd(257))
    assert hostname.parse("private", Systemd(262)) == "private"
    restart = lookup("Service", "Restart")
    assert restart is not None and restart.parse("no", Systemd(252)) == "no"


def test_invalid_value_messages_per_version() -> None:
    system = lookup("Service", "ProtectSystem")
    umask = lookup("Service", "UMask")
    dynamic = lookup("Service", "DynamicUser")
    assert system is not None and umask is not None and dynamic is not None
    cases = [
        (system, "bogus", 252, "Failed to parse protect system value, ignoring: bogus", False),
        (system, "bogus", 262,
         "Failed to parse ProtectSystem=bogus, ignoring: Invalid argument", False),
        (umask, "999", 252, "Failed to parse mode value, ignoring: 999", False),
        (umask, "0o77", 257, "Failed to parse UMask=0o77, ignoring: Invalid argument", False),
        (dynamic, "maybe", 252, "Failed to parse boolean value: maybe", True),
        (dynamic, "maybe", 257, "Failed to parse DynamicUser=maybe: Invalid argument", True),
    ]  # fmt: skip
    for d, value, version, message, fatal in cases:
        with pytest.raises(InvalidValue) as info:
            d.parse(value, Systemd(version))
        assert (info.value.message, info.value.fatal) == (message, fatal)
    assert umask.parse("77", Systemd(252)) == "0077"


def test_vocabularies() -> None:
    assert len(CAPABILITIES) == 41 and CAPABILITIES["CAP_CHECKPOINT_RESTORE"] == 40
    assert capability_mask("CAP_CHOWN cap_kill CAP_NOSUCH 21") == (1 << 0) | (1 << 5) | (1 << 21)
    assert ADDRESS_FAMILIES["AF_LOCAL"] == ADDRESS_FAMILIES["AF_UNIX"] == 1
    assert ADDRESS_FAMILIES["AF_INET6"] == 10 and ADDRESS_FAMILIES["AF_PACKET"] == 17
    old, debian13, new = Systemd(252), Systemd(257), Systemd(262)
    assert syscall_groups(new)["@clock"] == syscall_groups(old)["@clock"]
    assert "@sandbox" in syscall_groups(debian13) and "@sandbox" not in syscall_groups(old)
    assert "uretprobe" in syscall_not_native(old) and "uretprobe" not in syscall_not_native(new)

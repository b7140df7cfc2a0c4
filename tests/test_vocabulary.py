"""The vocabularies of unit-file settings (portablekit.security.vocabulary), split off the
directive table, which uses them without exporting them again."""

from __future__ import annotations

import doctest

import pytest

import portablekit.security.directives
import portablekit.security.vocabulary as vocabulary
from portablekit.versions import SUPPORTED_VERSIONS, Systemd


def test_the_vocabularies_have_one_home() -> None:
    assert not set(vocabulary.__all__) & set(portablekit.security.directives.__all__)


def test_docstring_examples() -> None:
    result = doctest.testmod(vocabulary)
    assert result.failed == 0 and result.attempted > 0


def test_capability_mask() -> None:
    caps = vocabulary.CAPABILITIES
    assert caps["CAP_CHOWN"] == 0 and caps["CAP_CHECKPOINT_RESTORE"] == 40
    assert vocabulary.capability_mask("cap_kill CAP_NOPE 3") == (1 << 5) | (1 << 3)
    assert vocabulary.capability_mask("") == 0


def test_address_family_aliases() -> None:
    fam = vocabulary.ADDRESS_FAMILIES
    assert fam["AF_UNIX"] == fam["AF_LOCAL"] == fam["AF_FILE"] == 1
    assert fam["AF_NETLINK"] == fam["AF_ROUTE"] == 16
    assert "-" not in fam


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_syscall_groups_per_version(version: int) -> None:
    groups = vocabulary.syscall_groups(Systemd(version))
    assert groups is vocabulary.syscall_groups(Systemd(version))  # built once per version
    assert ("@sandbox" in groups) == Systemd(version).reaches(257)
    # every @reference inside a group names a group of the same version
    for members in groups.values():
        assert all(m in groups for m in members if m.startswith("@"))
    foreign = vocabulary.syscall_not_native(Systemd(version))
    assert "socketcall" in foreign and "read" not in foreign
    assert ("uretprobe" in foreign) == Systemd(version).up_to(252)

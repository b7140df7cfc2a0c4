"""The check table and the rules of each check (portablekit.security.checks), split off
portablekit.security.score, which uses them without exporting them again. The scores themselves
are tested against the recordings in test_security.py."""

from __future__ import annotations

import doctest

import portablekit.security.checks as sc
import portablekit.security.score
from portablekit.security.checks import CHECKS, SecurityInfo, assess_check
from portablekit.versions import Systemd


def test_the_checks_have_one_home() -> None:
    assert not set(sc.__all__) & set(portablekit.security.score.__all__)


def test_docstring_examples() -> None:
    result = doctest.testmod(sc)
    assert result.failed == 0 and result.attempted > 0


def test_table_shape() -> None:
    assert len(CHECKS) == 81
    fields = [c.json_field for c in CHECKS]
    assert len(set(fields)) == len(fields)
    assert all(c.range in (1, 3, 10) and c.weight > 0 for c in CHECKS)
    # every check a directive names exists, and directive_weights() adds up their weights
    weights = sc.directive_weights()
    assert weights[("Service", "PrivateNetwork")] == 2500
    assert weights[("Unit", "Description")] == 0


def _check(field: str) -> sc.Check:
    return next(c for c in CHECKS if c.json_field == field)


def test_rules_on_a_root_service() -> None:
    root = SecurityInfo("app.service", Systemd(257))
    assert assess_check(_check("UserOrDynamicUser"), root) == (10, None)
    assert assess_check(_check("SupplementaryGroups"), root) == (None, None)
    assert assess_check(_check("ProtectSystem"), root) == (
        10,
        "Service has full access to the OS file hierarchy",
    )
    assert assess_check(_check("CapabilityBoundingSet_CAP_SYS_ADMIN"), root) == (1, None)


def test_rules_on_a_sandboxed_service() -> None:
    info = SecurityInfo(
        "app.service",
        257,
        user="app",
        capability_bounding_set=0,
        protect_system="strict",
        umask=0o077,
        default_dependencies=False,
    )
    assert assess_check(_check("UserOrDynamicUser"), info) == (
        0,
        "Service runs under a static non-root user identity",
    )
    assert assess_check(_check("SupplementaryGroups"), info) == (0, None)
    assert assess_check(_check("CapabilityBoundingSet_CAP_SYS_ADMIN"), info) == (0, None)
    assert assess_check(_check("UMask"), info)[0] == 0
    # DefaultDependencies=no: the checks that need the normal boot phase do not apply
    assert assess_check(_check("ProtectSystem"), info) == (
        None,
        "Service runs in special boot phase, option is not appropriate",
    )

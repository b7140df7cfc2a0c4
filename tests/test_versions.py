"""portablekit.versions: the one place version numbers are compared, and every question it
answers is asked somewhere."""

from __future__ import annotations

import ast
import doctest
import errno
from pathlib import Path

import pytest

import portablekit.versions
from portablekit.versions import SUPPORTED_VERSIONS, Systemd

PACKAGE = Path(portablekit.versions.__file__).parent


def questions() -> list[str]:
    """The public properties and methods of Systemd (its fields excepted)."""
    fields = set(Systemd.__dataclass_fields__)
    return sorted(n for n in dir(Systemd) if not n.startswith("_") and n not in fields)


def asked_in(tree: ast.AST) -> set[str]:
    """Every attribute name read in ``tree`` (``x.name``)."""
    return {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


def asked_in_package() -> set[str]:
    asked: set[str] = set()
    for f in PACKAGE.rglob("*.py"):
        if f != PACKAGE / "versions.py":
            asked |= asked_in(ast.parse(f.read_text(), str(f)))
    return asked


def test_every_question_is_asked_in_the_package() -> None:
    """A predicate nobody asks describes behaviour that is either not implemented or
    implemented by comparing numbers somewhere else: use it or remove it."""
    names = questions()
    assert "vpick" in names and "reaches" in names and "version" not in names
    asked = asked_in_package()
    unasked = [n for n in names if n not in asked]
    assert unasked == []


def test_the_caller_scan_sees_a_missing_caller() -> None:
    code = "def f(sd):\n    return sd.vpick or sd.has_clean\n"
    assert {"vpick", "has_clean"} <= asked_in(ast.parse(code))
    assert "confext" not in asked_in(ast.parse(code))


def test_docstring_examples() -> None:
    result = doctest.testmod(portablekit.versions)
    assert result.failed == 0 and result.attempted > 0


def test_supported_versions_in_order() -> None:
    assert [s.version for s in Systemd.supported()] == list(SUPPORTED_VERSIONS)
    assert all(s.fixed for s in Systemd.supported(fixed=True))
    with pytest.raises(ValueError, match="unsupported systemd version 253"):
        Systemd(253)


@pytest.mark.parametrize("systemd", Systemd.supported(), ids=str)
def test_table_comparisons(systemd: Systemd) -> None:
    v = systemd.version
    assert systemd.reaches(v) and systemd.up_to(v)
    assert not systemd.reaches(v + 1) and not systemd.up_to(v - 1)


def test_behaviours_that_were_numbers() -> None:
    old, debian13, new = Systemd.supported()
    assert (old.marker_matches_base_names, debian13.marker_matches_base_names) == (False, True)
    assert not old.inspect_shows_extension_compatibility
    assert debian13.inspect_shows_extension_compatibility
    assert [s.usr_arch_mismatch_errno for s in (old, debian13, new)] == [
        None,
        errno.EADDRNOTAVAIL,
        errno.EREMOTE,
    ]
    # the drop-in's two eras are complementary
    for s in (old, debian13, new):
        assert s.binds_host_os_release is not s.logs_name_and_version


def test_versions() -> None:
    with pytest.raises(ValueError, match="unsupported systemd version 250"):
        Systemd(250)
    assert str(Systemd(257, fixed=True)) == "systemd 257 (fixed)"
    assert (
        Systemd(257).bare_name_matches_everything and not Systemd(262).bare_name_matches_everything
    )
    assert Systemd(252).copy_modes == ("auto", "copy", "symlink")

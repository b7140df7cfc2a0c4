from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portablekit.errors import UsageError
from portablekit.names import (
    UnitNameKind,
    derive_prefix,
    escape_marker_path,
    extension_name,
    image_base_name,
    image_name_is_valid,
    is_hidden_or_backup,
    prefix_match,
    template_of,
    unit_name_kind,
    version_compare,
)
from portablekit.versions import Systemd


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("foo", True),
        ("foo_1.2", True),
        ("foo.raw", True),
        (".hidden", True),
        ("", False),
        (".", False),
        ("..", False),
        ("a/b", False),
        (".#lock", False),
        ("a\x01", False),
        ("x" * 255, True),
        ("x" * 256, False),
    ],
)
def test_image_name_is_valid(name: str, ok: bool) -> None:
    assert image_name_is_valid(name) is ok


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("foo.service", UnitNameKind.PLAIN),
        ("foo@.service", UnitNameKind.TEMPLATE),
        ("foo@bar.timer", UnitNameKind.INSTANCE),
        ("foo@a@b.socket", UnitNameKind.INSTANCE),
        ("@foo.service", None),
        ("foo.conf", None),
        (".service", None),
        ("foo", None),
        ("fo o.service", None),
        ("a" * 250 + ".service", None),
        ("a:b\\x2d.mount", UnitNameKind.PLAIN),
    ],
)
def test_unit_name_kind(name: str, kind: UnitNameKind | None) -> None:
    assert unit_name_kind(name) == kind


def test_template_of() -> None:
    assert template_of("foo@bar.service") == "foo@.service"
    assert template_of("foo@.service") is None
    assert template_of("foo.service") is None


@pytest.mark.parametrize(
    "name", [".x.service", "x.service~", "x.service.dpkg-old", "x.rpmnew", "lost+found", "a.swp"]
)
def test_hidden_or_backup(name: str) -> None:
    assert is_hidden_or_backup(name)


def test_not_hidden() -> None:
    assert not is_hidden_or_backup("x.service")
    assert not is_hidden_or_backup("x.dpkg")


@pytest.mark.parametrize(
    ("unit", "prefix", "ok"),
    [
        ("foobar.service", "foobar", True),
        ("foobar-x.service", "foobar", True),
        ("foobar@.service", "foobar", True),
        ("foobar.waldo.socket", "foobar", True),
        ("foobarx.service", "foobar", False),
        ("foo.service", "foobar", False),
        ("minimal-app0.service", "minimal-app0.service", True),
    ],
)
def test_prefix_match(unit: str, prefix: str, ok: bool) -> None:
    assert prefix_match(unit, prefix) is ok


@pytest.mark.parametrize(
    ("arg", "version", "prefix"),
    [
        ("foobar_0.7.23.raw", 257, "foobar"),
        ("/tmp/minimal_0", 257, "minimal"),
        ("app0.raw", 257, "app0"),
        ("my.image.raw", 257, "my.image"),
        ("/var/lib/portables/vd.v", 257, "vd"),
        ("/var/lib/portables/vd.v", 252, "vd.v"),
        ("/x/foo/", 257, "foo"),
    ],
)
def test_derive_prefix(arg: str, version: int, prefix: str) -> None:
    assert derive_prefix(arg, Systemd(version)) == prefix


@pytest.mark.parametrize(("arg", "version"), [("foo@bar.raw", 257), ("/x/foo/", 252)])
def test_derive_prefix_refused(arg: str, version: int) -> None:
    with pytest.raises(UsageError) as e:
        derive_prefix(arg, Systemd(version))
    assert e.value.message == f"Failed to extract prefix of image name '{arg}': Invalid argument"


def test_extension_name() -> None:
    assert extension_name("app1_2.raw", True) == "app1_2"
    assert extension_name("x.sysext.raw", True, Systemd(257)) == "x"
    assert extension_name("x.sysext.raw", True, Systemd(252)) == "x.sysext"
    assert extension_name("dir.raw", False) == "dir.raw"


def test_image_base_name() -> None:
    assert image_base_name("/tmp/app1_2.raw") == "app1"
    assert image_base_name("/var/lib/portables/foo+3-1") == "foo"
    assert image_base_name("/x/y.raw/") == "y.raw"
    assert image_base_name("/") is None


def test_escape_marker_path() -> None:
    assert escape_marker_path("/a:b\\c\n\x7f/é") == "/a\\x3ab\\x5cc\\x0a\\x7f/\\xc3\\xa9"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.9", "1.10"),
        ("1~rc1", "1"),
        ("1.0", "1.0.1"),
        ("a", "b"),
        ("1", "1a"),
        ("122", "123"),
        ("1.0-1", "1.0.1"),
        ("9", "10"),
        ("0001", "2"),
    ],
)
def test_version_compare_order(a: str, b: str) -> None:
    assert version_compare(a, b) < 0
    assert version_compare(b, a) > 0


_versions = st.text(alphabet="0123456789.-~^ab_", max_size=12)


@given(_versions, _versions)
def test_version_compare_antisymmetric(a: str, b: str) -> None:
    assert version_compare(a, b) == -version_compare(b, a)


@given(_versions)
def test_version_compare_reflexive(a: str) -> None:
    assert version_compare(a, a) == 0

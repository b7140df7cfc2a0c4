"""Profiles side by side, as data and through ``portablekit compare-profiles``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from portablekit.cli.main import main
from portablekit.errors import PortableKitError
from portablekit.security.profilediff import (
    ChangedSetting,
    NamedProfile,
    ProfileSetting,
    compare_profiles,
    named_profile,
)
from portablekit.unitfile import UnitFile
from portablekit.versions import Systemd

DATA = Path(__file__).parent / "data" / "units"
GOLDEN = Path(__file__).parent / "golden" / "security"
CUSTOM = DATA / "profiles" / "custom"


def test_builtin_matrix_per_version() -> None:
    cmp = compare_profiles(systemd=Systemd(252))
    assert cmp.names == ("default", "nonetwork", "strict", "trusted")
    rows = {name: values for _, name, values in cmp.rows()}
    assert rows["PrivateTmp"] == ("yes", "yes", "yes", "yes")
    assert rows["PrivateNetwork"] == (None, "yes", "yes", None)
    assert rows["RestrictAddressFamilies"] == (
        "AF_UNIX AF_NETLINK AF_INET AF_INET6", "AF_UNIX AF_NETLINK", "AF_UNIX", None
    )  # fmt: skip
    assert rows["CapabilityBoundingSet"][2] == ""  # strict: the empty set
    assert "BindLogSockets" not in rows and "DelegateNamespaces" not in rows
    rows262 = {name: values for _, name, values in compare_profiles(systemd=Systemd(262)).rows()}
    assert rows262["PrivateTmp"] == (None, None, None, "yes")
    assert rows262["DelegateNamespaces"] == ("no", "no", "no", None)
    assert rows262["BindLogSockets"] == ("yes", "yes", "yes", None)


def test_diff_adds_removes_changes() -> None:
    cmp = compare_profiles(["default", "strict"], systemd=Systemd(257))
    d = cmp.diff("default", "strict")
    assert d.added == (
        ProfileSetting("Service", "NoNewPrivileges", "yes"),
        ProfileSetting("Service", "PrivateNetwork", "yes"),
        ProfileSetting("Service", "IPAddressDeny", "any"),
        ProfileSetting("Service", "TasksMax", "4"),
    )
    assert d.removed == ()
    by_name = {c.name: c for c in d.changed}
    assert by_name["RestrictAddressFamilies"] == ChangedSetting(
        "Service",
        "RestrictAddressFamilies",
        "AF_UNIX AF_NETLINK AF_INET AF_INET6",
        "AF_UNIX",
        (),
        ("AF_NETLINK", "AF_INET", "AF_INET6"),
    )
    assert len(by_name["CapabilityBoundingSet"].removed) == 19
    assert by_name["BindReadOnlyPaths"].removed == (
        "-/etc/resolv.conf",
        "/run/dbus/system_bus_socket",
    )
    assert d.lines()[:4] == [
        "+ NoNewPrivileges=yes",
        "+ PrivateNetwork=yes",
        "+ IPAddressDeny=any",
        "+ TasksMax=4",
    ]
    assert "~ RestrictAddressFamilies: removes AF_NETLINK AF_INET AF_INET6" in d.lines()
    back = cmp.diff("strict", "default")
    assert [s.name for s in back.removed] == ["NoNewPrivileges", "PrivateNetwork", "IPAddressDeny",
                                             "TasksMax"]  # fmt: skip
    assert not cmp.diff("strict", "strict")


def test_custom_profiles_from_a_directory_a_file_text_and_a_root(tmp_path: Path) -> None:
    by_dir = named_profile(CUSTOM, 257)
    by_file = named_profile(CUSTOM / "service.conf", 257)
    by_text = named_profile("[Service]\nPrivateNetwork=yes\n", 257)
    assert by_dir.name == by_file.name == "custom" and by_dir.unit == by_file.unit
    assert (by_text.name, by_text.unit.get("Service", "PrivateNetwork")) == ("custom", "yes")
    root = tmp_path / "root"
    site = root / "etc" / "systemd" / "portable" / "profile" / "site"
    site.mkdir(parents=True)
    (site / "service.conf").write_text("[Service]\nDynamicUser=yes\nProtectClock=yes\n")
    found = named_profile("site", 257, root=root)
    assert found.source == "/etc/systemd/portable/profile/site/service.conf"
    assert found.unit.get("Service", "ProtectClock") == "yes"
    with pytest.raises(PortableKitError, match=r"^Profile 'nope' not found in "):
        named_profile("nope", 257, root=root)
    with pytest.raises(PortableKitError, match=r"^Unknown profile 'nope' \(built-in: default, "):
        named_profile("nope", 257)
    cmp = compare_profiles({"a": by_text.unit, "b": UnitFile()}, systemd=Systemd(262))
    assert cmp.names == ("a", "b") and cmp.diff("a", "b").removed == (
        ProfileSetting("Service", "PrivateNetwork", "yes"),
    )
    same = compare_profiles([CUSTOM, CUSTOM / "service.conf"], systemd=Systemd(257))
    assert same.names == ("custom#1", "custom#2")
    assert isinstance(same.profiles[0], NamedProfile)


@pytest.mark.parametrize("version", [252, 257, 262])
def test_scores_for_a_unit_equal_the_recordings(version: int) -> None:
    cmp = compare_profiles(
        ["default", "nonetwork", "strict", "trusted", CUSTOM],
        systemd=Systemd(version),
        unit=DATA / "webapp.service",
    )
    assert cmp.unit == "webapp.service"
    for name in ("default", "nonetwork", "strict", "trusted", "custom"):
        recorded = (GOLDEN / str(version) / f"webapp--{name}--directory" / "table.txt").read_text()
        assert cmp.score(name).table() == recorded
    checks = {field: b for _, field, b in cmp.check_rows(only_differences=True)}
    assert checks["PrivateNetwork"][:3] == (1, 0, 0)
    assert "LockPersonality" in checks and "RestrictAddressFamilies_AF_PACKET" in checks
    assert len(list(cmp.check_rows())) == 81
    with pytest.raises(PortableKitError):
        compare_profiles(systemd=Systemd(version)).score("default")


def run(*argv: str) -> tuple[int, str, str]:
    """``portablekit compare-profiles ARGV``."""
    out, err = io.StringIO(), io.StringIO()
    rc = main(["compare-profiles", *argv], stdout=out, stderr=err, environ={})
    return rc, out.getvalue(), err.getvalue()


def test_cli_text() -> None:
    rc, out, err = run(
        "default", "nonetwork", "--systemd", "252", "--unit", str(DATA / "minimal.service")
    )
    assert (rc, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["DIRECTIVE", "DEFAULT", "NONETWORK"]
    assert "PrivateNetwork=" in out and "nonetwork relative to default:" in out
    assert "  + PrivateNetwork=yes" in lines and "  + IPAddressDeny=any" in lines
    assert "Exposure of minimal.service (systemd 252):" in lines
    overall = next(line for line in lines if line.strip().startswith("overall"))
    assert overall.split() == ["overall", "3.3", "OK", "2.1", "OK"]


def test_cli_json_and_errors() -> None:
    rc, out, err = run("--json", "--systemd", "262", "--unit", str(DATA / "minimal.service"),
                       "--image", "raw", "strict", "trusted")  # fmt: skip
    assert rc == 0 and err == ""
    data = json.loads(out)
    assert data["systemd"] == 262
    assert [p["name"] for p in data["profiles"]] == ["strict", "trusted"]
    assert data["scores"] == {"strict": {"exposure": 0.9, "level": "SAFE"},
                              "trusted": {"exposure": 9.2, "level": "UNSAFE"}}  # fmt: skip
    assert data["differences"][0]["base"] == "strict"
    assert {"name": "TasksMax", "value": "4"} in data["differences"][0]["removed"]
    assert run("nope") == (
        1, "", "portablekit compare-profiles: Unknown profile 'nope' (built-in: default, "
        "nonetwork, strict, trusted).\n",
    )  # fmt: skip
    assert run("--systemd", "250")[0] == 2
    assert run("--base", "strict", "default")[0] == 1
    rc, _, err = run("--unit", "/nonexistent/x.service")
    assert (rc, err) == (
        1,
        "portablekit compare-profiles: /nonexistent/x.service: No such file or directory\n",
    )


def test_modules_import_without_the_notebook_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys, portablekit.unitfile, portablekit.security.directives, "
        "portablekit.security.effective, "
        "portablekit.security.score, portablekit.cli.security, portablekit.security.profilediff\n"
        "print([m for m in ('pandas', 'ipywidgets', 'traitlets', 'IPython') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_docstring_examples() -> None:
    import doctest

    import portablekit.portabled.profiles
    import portablekit.security.attached
    import portablekit.security.directives
    import portablekit.security.effective
    import portablekit.security.profilediff
    import portablekit.security.score
    import portablekit.unitfile

    for module in (
        portablekit.unitfile,
        portablekit.portabled.profiles,
        portablekit.security.directives,
        portablekit.security.effective,
        portablekit.security.attached,
        portablekit.security.score,
        portablekit.security.profilediff,
    ):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__

"""The install logic's two answers about the host: does a unit exist, and its unit-file state
(the rules the x-hostexists-* and x-enabled-* recordings pin)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from portablekit.portabled.host import Host
from portablekit.portabled.install import (
    UnitFileState,
    UnitLookupError,
    unit_file_exists,
    unit_file_state,
)
from portablekit.sandbox import SandboxRoot
from portablekit.versions import Systemd

UNIT = "[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n"
INSTALLED = UNIT + "\n[Install]\nWantedBy=multi-user.target\n"


@pytest.fixture
def root(tmp_path: Path) -> SandboxRoot:
    return SandboxRoot.init(tmp_path / "r", Systemd(257))


def _link(root: SandboxRoot, path: str, target: str) -> None:
    root.make_dir(os.path.dirname(path))
    os.symlink(target, root.machine_path(path))


def _lookup_errno(host: Host, name: str) -> int | None:
    try:
        unit_file_exists(host, name)
    except UnitLookupError as e:
        return e.errno
    return None


def test_vendor_units_and_templates(root: SandboxRoot) -> None:
    host = root.host
    assert unit_file_exists(host, "systemd-journald.service")  # shipped by Debian's base
    assert not unit_file_exists(host, "portablekit-nothing.service")
    root.write_file("/etc/systemd/system/tpl@.service", UNIT)
    assert unit_file_exists(host, "tpl@x.service")  # up to 259 the template counts
    assert not unit_file_exists(Host(root.path, Systemd(262)), "tpl@x.service")


def test_a_host_with_a_memo_answers_each_name_once(root: SandboxRoot) -> None:
    host = Host(root.path, Systemd(257))
    host.unit_file_memo = {}
    assert unit_file_exists(host, "systemd-journald.service")
    assert not unit_file_exists(host, "a.service")
    assert host.unit_file_memo == {"systemd-journald.service": True, "a.service": False}
    # remembered: a unit written since is not seen by this host, only by one without a memo
    root.write_file("/etc/systemd/system/a.service", UNIT)
    assert not unit_file_exists(host, "a.service")
    assert unit_file_exists(Host(root.path, Systemd(257)), "a.service")


@pytest.mark.parametrize("directory", ["/etc/systemd/system", "/run/systemd/system"])
def test_links_in_configuration_directories_are_eloop(root: SandboxRoot, directory: str) -> None:
    root.write_file("/opt/u/a.service", UNIT)
    root.make_dir("/opt/hostdir")
    _link(root, f"{directory}/a.service", "/opt/u/a.service")
    _link(root, f"{directory}/b.service", "/nonexistent/b.service")
    _link(root, f"{directory}/c.service", "/opt/hostdir")
    _link(root, f"{directory}/m.service", "/dev/null")
    root.make_dir(f"{directory}/d.service")
    root.write_file(f"{directory}/e.service", "")
    host = root.host
    for name in ("a", "b", "c"):
        assert _lookup_errno(host, f"{name}.service") == errno.ELOOP
    assert _lookup_errno(host, "d.service") == errno.EISDIR
    assert unit_file_exists(host, "m.service") and unit_file_exists(host, "e.service")


@pytest.mark.parametrize(
    "directory",
    ["/usr/local/lib/systemd/system", "/etc/systemd/system.control", "/run/systemd/transient"],
)
def test_links_elsewhere_are_followed(root: SandboxRoot, directory: str) -> None:
    root.write_file("/opt/u/a.service", UNIT)
    root.make_dir("/opt/hostdir")
    _link(root, f"{directory}/a.service", "/opt/u/a.service")
    _link(root, f"{directory}/b.service", "/nonexistent/b.service")
    _link(root, f"{directory}/c.service", "/opt/hostdir")
    root.write_file(f"{directory}/r-real.service", UNIT)
    _link(root, f"{directory}/r.service", "r-real.service")
    host = root.host
    assert unit_file_exists(host, "a.service") and unit_file_exists(host, "r.service")
    assert not unit_file_exists(host, "b.service")  # dangling: no unit, no conflict
    assert _lookup_errno(host, "c.service") == errno.EISDIR


def test_a_linked_template_is_eloop_for_its_instance(root: SandboxRoot) -> None:
    root.write_file("/opt/u/t@.service", UNIT)
    _link(root, "/etc/systemd/system/t@.service", "/opt/u/t@.service")
    assert _lookup_errno(root.host, "t@x.service") == errno.ELOOP
    assert not unit_file_exists(Host(root.path, Systemd(262)), "t@x.service")


def _attached(root: SandboxRoot, name: str, runtime: bool = False, text: str = INSTALLED) -> None:
    d = "/run/systemd/system.attached" if runtime else "/etc/systemd/system.attached"
    root.write_file(f"{d}/{name}", text)


def test_links_inside_the_attached_directory_do_not_enable(root: SandboxRoot) -> None:
    _attached(root, "ew.service")
    a = "/etc/systemd/system.attached"
    _link(root, f"{a}/multi-user.target.wants/ew.service", "../ew.service")
    _link(root, f"{a}/ew-alias.service", "ew.service")
    assert unit_file_state(root.host, "ew.service") is UnitFileState.DISABLED


def test_host_install_links_enable(root: SandboxRoot) -> None:
    _attached(root, "eh.service")
    _attached(root, "er.service", runtime=True)
    host = root.host
    _link(root, "/run/systemd/system/x.target.wants/eh.service", "/elsewhere/eh.service")
    assert unit_file_state(host, "eh.service") is UnitFileState.ENABLED_RUNTIME
    _link(root, "/etc/systemd/system/x.target.wants/eh.service", "/elsewhere/eh.service")
    assert unit_file_state(host, "eh.service") is UnitFileState.ENABLED
    _link(root, "/etc/systemd/system/multi-user.target.upholds/er.service", "/x/er.service")
    assert unit_file_state(host, "er.service") is UnitFileState.ENABLED
    # 252 does not look into .upholds directories
    assert unit_file_state(Host(root.path, Systemd(252)), "er.service") is UnitFileState.DISABLED


def test_masks_count_where_they_come_first(root: SandboxRoot) -> None:
    _attached(root, "el.service")
    _attached(root, "er.service", runtime=True)
    _link(root, "/run/systemd/system/el.service", "/dev/null")
    _link(root, "/run/systemd/system/er.service", "/dev/null")
    host = root.host
    # the persistent copy comes before /run/systemd/system in the unit path
    assert unit_file_state(host, "el.service") is UnitFileState.DISABLED
    assert unit_file_state(host, "er.service") is UnitFileState.MASKED_RUNTIME
    assert unit_file_state(host, "er.service").enabled


def test_linked_shadow_static_and_indirect(root: SandboxRoot) -> None:
    _attached(root, "el.service")
    root.write_file("/opt/outside/el.service", INSTALLED)
    _link(root, "/etc/systemd/system/el.service", "/opt/outside/el.service")
    assert unit_file_state(root.host, "el.service") is UnitFileState.LINKED
    _attached(root, "st.service", text=UNIT)
    assert unit_file_state(root.host, "st.service") is UnitFileState.STATIC
    _attached(root, "al.service", text=UNIT + "[Install]\nAlso=st.service\n")
    assert unit_file_state(root.host, "al.service") is UnitFileState.INDIRECT
    assert unit_file_state(root.host, "nosuch.service") is None


def test_a_dangling_same_name_link_below_the_unit_enables(root: SandboxRoot) -> None:
    _attached(root, "hb.service")
    _link(root, "/run/systemd/system.attached/hb.service", "/nonexistent/hb.service")
    assert unit_file_state(root.host, "hb.service") is UnitFileState.ENABLED_RUNTIME

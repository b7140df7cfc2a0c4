"""portablekit.tables and portablekit.portabled.layers: columns, dtypes, row order, no machine
paths."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from portablekit import tables as T
from portablekit.osrelease import EnvFile
from portablekit.portabled.attach import plan_attach
from portablekit.portabled.dissect import dissect, validate_extension
from portablekit.portabled.layers import LayeredView, explain_extension, extension_compatible
from portablekit.samples import SAMPLES, install_samples, sample_source
from portablekit.sandbox import SandboxRoot
from portablekit.tables.render import (
    enable_notebook_display,
    frame_html,
    layer_stack_svg,
    profile_heatmap,
)
from portablekit.versions import Systemd


@pytest.fixture
def full_root(make_root: Any) -> SandboxRoot:
    root: SandboxRoot = make_root(samples=False)
    install_samples(root, sorted(SAMPLES))
    return root


def check_schema(df: pd.DataFrame, schema: dict[str, object]) -> None:
    assert list(df.columns) == list(schema)
    for col, dtype in schema.items():
        assert df[col].dtype == pd.Series([], dtype=dtype).dtype, col  # type: ignore[call-overload]
    assert list(df.index) == list(range(len(df)))


def no_machine_path(df: pd.DataFrame, root: SandboxRoot) -> None:
    text = df.to_csv()
    assert str(root.path) not in text
    assert "/tmp" not in text and "pytest-" not in text


def test_images_frame(full_root: SandboxRoot) -> None:
    df = T.images_frame(full_root.host)
    check_schema(df, T.IMAGES_SCHEMA)
    no_machine_path(df, full_root)
    assert df["name"].tolist() == sorted(SAMPLES)
    row = df.set_index("name").loc["webapp_2.1"]
    assert (row["kind"], row["release"], row["id"], row["version_id"]) == (
        "directory",
        "os-release",
        "debian",
        "12",
    )
    assert row["path"] == "/var/lib/portables/webapp_2.1" and row["state"] == "detached"
    by = df.set_index("name")
    assert by.loc["webapp-tls", "release"] == "sysext"
    assert pd.isna(by.loc["broken-no-os-release", "release"])
    assert pd.isna(by.loc["broken-no-id", "id"])


def test_units_frame_reasons(root: SandboxRoot) -> None:
    d = dissect(root.host, "minimal", matches=["minimal"], attach=False)
    df = T.units_frame(d)
    check_schema(df, T.UNITS_SCHEMA)
    assert df["unit"].tolist() == sorted(df["unit"].tolist())
    status = dict(zip(df["unit"], df["status"].astype(str), strict=True))
    assert status["minimal.service"] == "matched"
    assert status["minimalist.service"] == "name does not match the prefixes"
    assert status["minimal.mount"] == "unit type is never attached"
    assert df.loc[df["unit"] == "minimal.mount", "type"].item() == "mount"
    assert df["matched"].sum() == 3
    assert set(df["path"]) >= {"/usr/lib/systemd/system/minimal.service"}


def test_layers_units_and_paths(root: SandboxRoot) -> None:
    d = dissect(
        root.host,
        "webapp_2.1",
        matches=["webapp"],
        extensions=["webapp-tls", "debug-tools"],
        attach=False,
    )
    layers = T.layers_frame(d, root.host.systemd)
    check_schema(layers, T.LAYERS_SCHEMA)
    assert layers["image"].tolist() == ["webapp_2.1", "webapp-tls", "debug-tools"]
    assert layers["overlays"].tolist() == ["/", "/usr /opt", "/usr /opt"]
    assert layers["compatible"].tolist()[1:] == [True, True]
    assert layers["units"].sum() == len(d.units)

    origins = T.unit_origins_frame(d).set_index("unit")
    # portabled reads the base first: the extension's webapp.service is skipped ...
    assert origins.loc["webapp.service", "layer"] == 0
    assert origins.loc["webapp.service", "skipped_in"] == "webapp-tls"
    assert origins.loc["webapp-tls.service", "image"] == "webapp-tls"
    # ... but in the running service's /usr the extension's file is on top
    paths = T.paths_frame(d, "/usr/lib/systemd/system").set_index("path")
    row = paths.loc["/usr/lib/systemd/system/webapp.service"]
    assert (row["image"], row["shadowed"], row["merged"]) == ("webapp-tls", "webapp_2.1", False)
    top = paths.loc["/usr/lib/systemd/system"]
    assert top["image"] == "debug-tools" and top["merged"]
    # outside /usr and /opt only the base counts
    assert LayeredView.from_dissection(d).origin("/etc/os-release").layer == 0  # type: ignore[union-attr]
    assert LayeredView.from_dissection(d).origin("/nowhere") is None

    rel = T.release_frame(d)
    check_schema(rel, T.RELEASE_SCHEMA)
    assert rel["layer"].tolist() == sorted(rel["layer"].tolist())
    assert rel.query("layer == 2 and key == 'ID'")["value"].item() == "_any"


def test_compat_frame_names_the_refusing_key() -> None:
    base = EnvFile.parse(sample_source("webapp_2.1").read_file("/usr/lib/os-release"))
    legacy = EnvFile.parse(
        sample_source("webapp-legacy").read_file(
            "/usr/lib/extension-release.d/extension-release.webapp-legacy"
        )
    )
    df = T.compat_frame(base, legacy, Systemd(257), host_arch="x86-64")
    check_schema(df, T.COMPAT_SCHEMA)
    decided = df[df["decides"].astype(bool)]
    assert decided[["check", "base", "extension", "ok"]].values.tolist() == [
        ["version", "12", "11", False]
    ]


RELEASE_LINES = {
    "ID": ["", "ID=debian", "ID=fedora", "ID=_any", "ID=ubuntu"],
    "VERSION_ID": ["", "VERSION_ID=12", "VERSION_ID=11"],
    "SYSEXT_LEVEL": ["", "SYSEXT_LEVEL=1", "SYSEXT_LEVEL=2"],
    "SYSEXT_SCOPE": ["", "SYSEXT_SCOPE=portable", "SYSEXT_SCOPE=system", "SYSEXT_SCOPE="],
    "ARCHITECTURE": ["", "ARCHITECTURE=x86-64", "ARCHITECTURE=arm64", "ARCHITECTURE=_any"],
}


@pytest.mark.parametrize("version", [252, 257, 262])
def test_explain_extension_agrees_with_portabled(version: int) -> None:
    systemd = Systemd(version)
    bases = [
        EnvFile.parse(t)
        for t in (
            "ID=debian\nVERSION_ID=12\n",
            "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=12\n",
            "ID=debian\nSYSEXT_LEVEL=1\n",
            "ID=arch\n",
        )
    ]
    for base in bases:
        for combo in itertools.product(*RELEASE_LINES.values()):
            ext = EnvFile.parse("\n".join(line for line in combo if line) + "\n")
            steps = explain_extension(base, ext, systemd, host_arch="x86-64")
            assert extension_compatible(steps) == validate_extension(
                base, ext, systemd, host_arch="x86-64"
            ), (str(base), combo)
            assert sum(s.decides for s in steps) <= 1


def test_profile_matrix() -> None:
    m = T.profile_matrix_frame(["default", "nonetwork", "strict", "trusted"], Systemd(257))
    assert list(m.columns) == [
        "section",
        "directive",
        "category",
        "default",
        "nonetwork",
        "strict",
        "trusted",
    ]
    assert all(str(m[c].dtype) == "string" for c in m.columns)
    assert m["directive"].tolist()[:2] == ["DynamicUser", "RemoveIPC"]  # directive-table order
    row = m.set_index("directive")
    assert row.loc["PrivateNetwork", "strict"] == "yes"
    assert pd.isna(row.loc["PrivateNetwork", "default"])
    assert pd.isna(row.loc["DynamicUser", "trusted"])
    # merged: every path of the three assignments; strict empties the capability set
    assert row.loc["BindReadOnlyPaths", "default"].split() == [
        "/etc/machine-id",
        "-/etc/resolv.conf",
        "/run/dbus/system_bus_socket",
    ]
    assert row.loc["CapabilityBoundingSet", "strict"] == ""
    diff = T.profile_matrix_frame(["default", "nonetwork"], Systemd(257), only_differences=True)
    assert set(diff["directive"]) == {
        "BindReadOnlyPaths",
        "CapabilityBoundingSet",
        "IPAddressDeny",
        "PrivateNetwork",
        "RestrictAddressFamilies",
    }


def test_profile_versions_ignore_continuation_whitespace() -> None:
    v = T.profile_versions_frame("default", only_differences=True)
    assert list(v.columns) == ["section", "directive", "category", "252", "257", "262"]
    # 262 indents the continuation lines of CapabilityBoundingSet= differently: not a change
    assert "CapabilityBoundingSet" not in set(v["directive"])
    assert {"BindLogSockets", "PrivateTmp", "DelegateNamespaces"} <= set(v["directive"])


def test_profile_matrix_from_host_finds_custom_profiles(root: SandboxRoot) -> None:
    root.write_file(
        "/etc/systemd/portable/profile/mine/service.conf", "[Service]\nPrivateTmp=yes\n"
    )
    m = T.profile_matrix_frame(["mine", "strict"], host=root.host)
    assert m.set_index("directive").loc["PrivateTmp", "mine"] == "yes"


def test_plan_frames_and_sandbox_state(root: SandboxRoot) -> None:
    plan = plan_attach(root.host, "minimal", matches=["minimal"], profile="strict")
    ops = T.plan_frame(plan)
    check_schema(ops, T.PLAN_SCHEMA)
    assert ops["step"].tolist() == list(range(1, len(plan.ops) + 1))
    assert ops["op"].iloc[0] == "mkdir" and ops["mode"].iloc[0] == "0755"
    link = ops[ops["path"].str.endswith("10-profile.conf")].iloc[0]
    assert link["op"] == "symlink"
    assert link["target"] == "/usr/lib/systemd/portable/profile/strict/service.conf"
    ch = T.changes_frame(plan)
    check_schema(ch, T.CHANGES_SCHEMA)
    assert ch["line"].tolist() == [str(c) for c in plan.printed_changes()]
    no_machine_path(ops, root)

    assert len(T.sandbox_frame(root.host)) == 0
    check_schema(T.tree_frame(root.host), T.TREE_SCHEMA)
    root.apply(plan)
    st = T.sandbox_frame(root.host)
    check_schema(st, T.SANDBOX_SCHEMA)
    assert st["unit"].tolist() == ["minimal-worker.service", "minimal.service", "minimal.socket"]
    assert not st["running"].any()
    tree = T.tree_frame(root.host)
    check_schema(tree, T.TREE_SCHEMA)
    assert tree["path"].tolist() == sorted(tree["path"].tolist())
    assert "/etc/portables/minimal" in set(tree["path"])
    no_machine_path(tree, root)

    drop = T.dropins_frame(root.host)
    check_schema(drop, T.DROPINS_SCHEMA)
    svc = drop[drop["unit"] == "minimal.service"]
    assert svc["file"].tolist() == ["10-profile.conf", "20-portable.conf"]
    assert svc["source"].astype(str).tolist() == ["profile", "portable"]
    assert svc["content"].iloc[1].startswith("# Drop-in created for image '/var/lib/portables/")
    root.write_file("/etc/systemd/system/minimal.service.d/50-local.conf", "[Service]\nNice=5\n")
    local = T.dropins_frame(root.host, ["minimal.service"])
    assert local["source"].astype(str).tolist() == ["profile", "portable", "local"]
    no_machine_path(local, root)


class _Finding:
    severity = "warning"
    code = "no-machine-id"
    image = "broken-no-mountpoints"
    path = "/etc/machine-id"
    message = "missing"
    fix = "create an empty file"


def test_findings_frame() -> None:
    df = T.findings_frame(
        [_Finding(), {"severity": "error", "code": "no-os-release", "message": "none"}]
    )
    check_schema(df, T.FINDINGS_SCHEMA)
    assert df["severity"].astype(str).tolist() == ["error", "warning"]
    assert df["rule"].tolist() == ["no-os-release", "no-machine-id"]  # "code" is read as rule
    assert df["fix"].tolist()[1] == "create an empty file"
    check_schema(T.findings_frame([]), T.FINDINGS_SCHEMA)


def test_scores_and_checks_frames() -> None:
    text = sample_source("webapp_2.1").read_file("/usr/lib/systemd/system/webapp.service")
    df = T.scores_frame(text.decode(), "webapp.service", ["strict", "trusted"])
    check_schema(df, T.SCORES_SCHEMA)
    strict, trusted = df["exposure"].tolist()
    assert strict < trusted
    checks = T.profile_checks_frame(
        ["strict", "trusted"], text.decode(), "webapp.service", only_differences=True
    )
    assert list(checks.columns) == ["check", "strict", "trusted", "description", "json_field"]
    assert str(checks["strict"].dtype) == "Int64"
    net = checks.set_index("json_field").loc["PrivateNetwork"]
    assert (net["strict"], net["trusted"]) == (0, 1)


def test_empty_frames_keep_their_schema() -> None:
    for schema in (T.IMAGES_SCHEMA, T.UNITS_SCHEMA, T.PLAN_SCHEMA, T.SANDBOX_SCHEMA):
        check_schema(T._frame([], schema), schema)


# -- rendering ------------------------------------------------------------------------------------


def test_styled_html_is_deterministic(root: SandboxRoot) -> None:
    df = T.images_frame(root.host)
    a, b = frame_html(df, "images"), frame_html(df, "images")
    assert a == b and 'id="T_images_' in a
    assert "✗" in a  # read_only False
    heat = profile_heatmap(T.profile_matrix_frame(["default", "trusted"], Systemd(257))).to_html()
    assert "#2171b5" in heat and "#fdae6b" in heat  # differing values; unset where others set


def test_layer_stack_svg_marks_refused_extensions(root: SandboxRoot) -> None:
    d = dissect(
        root.host,
        "webapp_2.1",
        matches=["webapp"],
        extensions=["webapp-tls", "webapp-legacy"],
        attach=False,
    )
    svg = layer_stack_svg(d)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.index("webapp-legacy") < svg.index("webapp-tls") < svg.index("webapp_2.1")
    assert "REFUSED" in svg and "webapp-tls.service" in svg


def test_enable_notebook_display_registers_formatters(root: SandboxRoot) -> None:
    registered: dict[str, dict[type, Any]] = {"text/html": {}, "text/plain": {}}

    class Formatter:
        def __init__(self, mime: str) -> None:
            self.mime = mime

        def for_type(self, cls: type, fn: Any) -> None:
            registered[self.mime][cls] = fn

    formatters = {m: Formatter(m) for m in registered}
    ip = SimpleNamespace(display_formatter=SimpleNamespace(formatters=formatters))
    assert enable_notebook_display(ip)
    plan = plan_attach(root.host, "minimal", matches=["minimal"])
    html = registered["text/html"][type(plan)](plan)
    assert "T_plan_ops" in html and str(root.path) not in html
    assert enable_notebook_display() is False  # not inside IPython

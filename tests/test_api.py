"""The Python API as an analyst meets it: portablectl's defaults, clear errors, rich display
without set-up."""

from __future__ import annotations

import errno
import subprocess
import sys
from typing import Any

import pytest

from portablekit.check import check_host_image
from portablekit.errors import PortabledError, SandboxError
from portablekit.names import resolve_matches
from portablekit.oracle.dump import Snapshot
from portablekit.portabled.attach import plan_attach, plan_detach, plan_reattach
from portablekit.portabled.dissect import dissect
from portablekit.portabled.image import lookup_image
from portablekit.samples import sample_source
from portablekit.sandbox import SandboxRoot

MINIMAL_UNITS = ("minimal-worker.service", "minimal.service", "minimal.socket")


# -- matches: portablectl's default prefix, no string --------------------------------------------


def test_dissect_and_plan_attach_derive_the_prefix_as_portablectl(root: SandboxRoot) -> None:
    d = dissect(root.host, "minimal")
    assert d.matches == ("minimal",)
    assert tuple(u.name for u in d.units) == MINIMAL_UNITS  # not minimalist/other.service
    plan = plan_attach(root.host, "minimal")
    assert plan.ok and plan.units == MINIMAL_UNITS
    # a path is derived from as typed, and an explicit empty list still means every unit
    assert dissect(root.host, "/var/lib/portables/minimal").matches == ("minimal",)
    everything = dissect(root.host, "minimal", matches=[], attach=False)
    assert {"minimalist.service", "other.service"} <= {u.name for u in everything.units}


def test_plan_reattach_derives_the_prefix_too(make_root: Any) -> None:
    root = make_root(262)  # 252/257 fail a reattach by name (an upstream bug they reproduce)
    root.apply(plan_attach(root.host, "minimal"))
    plan = plan_reattach(root.host, "minimal")
    assert plan.ok and plan.units == MINIMAL_UNITS


def test_a_string_for_matches_is_refused_clearly(root: SandboxRoot) -> None:
    with pytest.raises(TypeError, match=r"\['minimal'\]"):
        dissect(root.host, "minimal", matches="minimal")
    with pytest.raises(TypeError, match="not the string"):
        plan_attach(root.host, "minimal", matches="minimal")
    assert resolve_matches(("a",), "x") == ("a",)


# -- apply: refused, twice, stale --------------------------------------------------------------


def test_applying_a_refused_plan_raises_its_error(root: SandboxRoot) -> None:
    before = Snapshot.take(root.path).entries
    plan = plan_attach(root.host, "my-app")  # a typo: no such image
    assert plan.error is not None and not plan.ops
    with pytest.raises(PortabledError) as caught:
        root.apply(plan)
    assert caught.value is plan.error
    assert Snapshot.take(root.path).entries == before


def test_applying_a_plan_twice_says_it_was_applied(root: SandboxRoot) -> None:
    plan = plan_attach(root.host, "minimal")
    root.apply(plan)
    after = Snapshot.take(root.path).entries
    with pytest.raises(SandboxError, match="already applied") as caught:
        root.apply(plan)
    assert "File exists" not in str(caught.value)
    assert Snapshot.take(root.path).entries == after  # nothing written the second time
    detach = plan_detach(root.host, "/var/lib/portables/minimal")
    root.apply(detach)
    with pytest.raises(SandboxError, match="already applied"):
        root.apply(detach)


def test_a_plan_made_before_another_change_is_stale(root: SandboxRoot) -> None:
    first = plan_attach(root.host, "minimal")
    same = plan_attach(root.host, "minimal")
    root.apply(first)
    after = Snapshot.take(root.path).entries
    with pytest.raises(SandboxError, match=r"changed since .* applied already"):
        root.apply(same)
    assert Snapshot.take(root.path).entries == after


def test_a_partly_failing_plan_still_does_what_portabled_does(root: SandboxRoot) -> None:
    root.apply(plan_attach(root.host, "minimal"))
    # a file of the administrator's in a drop-in directory: detach removes the rest, then
    # fails on that directory (ENOTEMPTY), as portabled does
    root.write_file("/etc/systemd/system.attached/minimal.service.d/50-local.conf", "")
    plan = plan_detach(root.host, "/var/lib/portables/minimal")
    assert plan.error is not None and plan.ops
    assert plan.error.errno == errno.ENOTEMPTY
    root.apply(plan)  # no exception: the error is the plan's, its operations happened
    assert not root.machine_path("/etc/systemd/system.attached/minimal.socket").exists()


# -- names and text ------------------------------------------------------------------------------


def test_finding_rule_is_the_frame_column(root: SandboxRoot) -> None:
    pytest.importorskip("pandas")
    from portablekit.tables import findings_frame

    findings = check_host_image(root.host, "minimal")
    df = findings_frame(findings)
    assert "rule" in df.columns and "code" not in df.columns
    assert sorted(df["rule"]) == sorted(f.rule.value for f in findings)


def test_image_unit_text_and_portable_pretty_name(root: SandboxRoot) -> None:
    src = sample_source("minimal")
    src.add("etc/os-release", "ID=debian\nPORTABLE_PRETTY_NAME=My App\n")  # no PRETTY_NAME
    root.materialize(src, "/var/lib/portables/myapp")
    d = dissect(root.host, "myapp", matches=["minimal"])
    unit = d.unit("minimal.service")
    assert unit.text == unit.data.decode() and unit.text.startswith("[Unit]")
    from portablekit.tables.render import dissection_text

    assert dissection_text(d).splitlines()[0] == "Image myapp (directory): My App"


# -- rich display without a set-up call ------------------------------------------------------------


def test_core_objects_show_as_tables_with_no_setup(root: SandboxRoot) -> None:
    d = dissect(root.host, "minimal")
    plan = plan_attach(root.host, "minimal")
    findings = check_host_image(root.host, "minimal")
    img = lookup_image(root.host, "minimal")
    assert d.base.release is not None
    for obj, expect in [
        (d, "minimal.socket"),
        (plan, "minimal.service.d/20-portable.conf"),
        (d.base.release, "Minimal Portable (Debian 12)"),
        (img, "/var/lib/portables/minimal"),
        (findings, "unit-no-match"),
        (findings[0], findings[0].rule.value),
    ]:
        html = obj._repr_html_()
        assert expect in html, type(obj).__name__
        assert str(root.path) not in html
    # IPython prints the readable twin, not the dataclass fields
    from IPython.lib.pretty import pretty

    assert pretty(plan).startswith("Plan of attach /var/lib/portables/minimal: 14 operations")
    assert pretty(img) == "minimal (directory) at /var/lib/portables/minimal"
    assert pretty(findings[0]) == str(findings[0])
    assert "<table" in _ipython_html(d)


def _ipython_html(obj: Any) -> str:
    """What a fresh IPython shell's HTML formatter makes of ``obj`` (no formatter registered)."""
    from IPython.core.formatters import HTMLFormatter

    out: str = HTMLFormatter()(obj)
    return out


def test_display_imports_the_renderer_only_when_asked() -> None:
    code = (
        "import sys\n"
        "from portablekit.samples import sample_sandbox\n"
        "from portablekit.portabled.dissect import dissect\n"
        "with sample_sandbox(names=['minimal']) as lab:\n"
        "    d = dissect(lab.root.host, 'minimal')\n"
        "    repr(d)\n"
        "    before = 'pandas' in sys.modules\n"
        "    html = d._repr_html_()\n"
        "print(before, 'pandas' in sys.modules, '<table' in html)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True"]

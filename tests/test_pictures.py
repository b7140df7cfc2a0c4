"""portablekit.tables.pictures and the rendering fixes of portablekit.tables.render: ids per
content, the heat map's differences, the checks table, show(), plots, the lifecycle picture,
the host diff and the exposure bars."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from portablekit import tables as T
from portablekit.portabled.attach import plan_attach, plan_detach, plan_start
from portablekit.portabled.profiles import BUILTIN_PROFILES
from portablekit.samples import sample_source
from portablekit.sandbox import SandboxRoot
from portablekit.tables.pictures import (
    exposure_bars,
    figure_svg,
    host_diff_view,
    lifecycle_state,
    lifecycle_svg,
)
from portablekit.tables.render import HEATMAP_LEGEND, frame_html, profile_heatmap, show, styled
from portablekit.versions import Systemd

WEBAPP_UNIT = (
    sample_source("webapp_2.1").read_file("/usr/lib/systemd/system/webapp.service").decode()
)


def table_id(html: str) -> str:
    ids = re.findall(r'<table id="(T_[^"]+)"', html)
    assert len(ids) == 1, ids
    return ids[0]


def cell_css(html: str, row: int, col: int) -> str:
    """The CSS declarations a Styler's <style> block gives one body cell."""
    cell = f"#{table_id(html)}_row{row}_col{col}"
    props = [
        body.strip()
        for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", html)
        if cell in [s.strip() for s in selectors.split(",")]
    ]
    return " ".join(props)


# -- B1: styled tables of one kind on one page ----------------------------------------------------


def test_two_heat_maps_on_one_page_do_not_share_css_rules() -> None:
    a = profile_heatmap(
        T.profile_matrix_frame(["default", "strict"], Systemd(257), only_differences=True)
    ).to_html()
    b = profile_heatmap(T.profile_matrix_frame(list(BUILTIN_PROFILES), Systemd(257))).to_html()
    assert table_id(a) != table_id(b)
    # every CSS rule of a page's table names that table's id and no other
    for page, other in ((a, b), (b, a)):
        assert table_id(other) not in page
        assert f"#{table_id(page)}_row0_col3" in page


def test_styled_ids_are_deterministic_and_follow_the_content() -> None:
    df = pd.DataFrame({"unit": ["a.service", "b.service"], "ok": pd.array([True, False])})
    first, again = frame_html(df, "units"), frame_html(df.copy(), "units")
    assert first == again
    assert re.fullmatch(r"T_units_[0-9a-f]{8}", table_id(first))
    changed = frame_html(df.assign(ok=pd.array([True, True])), "units")
    assert table_id(changed) != table_id(first)
    # styling applied after styled() is part of what the id is computed from
    coloured = styled(df, "units").map(lambda v: "color: red;", subset=["unit"]).to_html()
    assert table_id(coloured) != table_id(first)


# -- B13: the heat map marks "set in one, unset in the other" -------------------------------------


def test_heat_map_marks_set_versus_unset_as_a_difference() -> None:
    m = T.profile_matrix_frame(["default", "strict"], Systemd(257))
    html = profile_heatmap(m).to_html()
    cols = list(m.columns)
    d, s = cols.index("default"), cols.index("strict")
    row = {name: i for i, name in enumerate(m["directive"])}
    agree = cell_css(html, row["DynamicUser"], d)  # both profiles: yes
    net_default = cell_css(html, row["PrivateNetwork"], d)  # default leaves it unset
    net_strict = cell_css(html, row["PrivateNetwork"], s)  # strict sets yes
    caps_default = cell_css(html, row["CapabilityBoundingSet"], d)  # both set, values differ
    assert agree and net_default and net_strict and caps_default
    # unset where the other profile sets it: a colour of its own, unlike agreement or "unset"
    # in a table where no profile sets the directive
    assert net_default not in (agree, caps_default, net_strict)
    assert "#fdae6b" in net_default
    # the profile that sets it is marked too: not the colour of agreement
    assert net_strict != agree and "#e6550d" in net_strict
    assert caps_default not in (agree, net_strict)  # set in both, different values
    assert HEATMAP_LEGEND in html


# -- B14: the checks table ----------------------------------------------------------------------


def test_checks_frame_has_descriptions_and_puts_badness_first() -> None:
    checks = T.profile_checks_frame(
        ["default", "strict"], WEBAPP_UNIT, "webapp.service", only_differences=True
    )
    assert list(checks.columns) == ["check", "default", "strict", "description", "json_field"]
    net = checks.set_index("json_field").loc["PrivateNetwork"]
    assert (net["default"], net["strict"]) == (1, 0)
    assert net["description"] == (
        "default: Service has access to the host's network\n"
        "strict: Service has no access to the host's network"
    )
    same = T.profile_checks_frame(["strict"], WEBAPP_UNIT, "webapp.service")
    assert "\n" not in "".join(same["description"].dropna())  # one profile: the text alone


# -- B21: show() --------------------------------------------------------------------------------


def test_show_is_left_aligned_without_na_index_or_truncation() -> None:
    message = "Selected matches 'webapp-cleanup' are not compatible with portable service " * 3
    df = pd.DataFrame({"image": ["a", "b"], "says": [message, pd.NA], "n": pd.array([1, None])})
    df["says"] = df["says"].astype("string")
    html = show(df, "refusals").to_html()
    assert message.strip() in html  # not cut at display.max_colwidth
    assert "<NA>" not in html and "&lt;NA&gt;" not in html
    assert "text-align: left" in html
    assert 'class="row_heading' not in html  # no index column
    assert "refusals" in html


# -- B20: plots -----------------------------------------------------------------------------------


def test_dataframe_plot_renders_to_the_same_svg_every_time() -> None:
    scores = T.scores_frame(WEBAPP_UNIT, "webapp.service", list(BUILTIN_PROFILES))

    def draw() -> str:
        return figure_svg(scores.plot.barh(x="profile", y="exposure", xlim=(0, 10)))

    first, second = draw(), draw()
    assert first == second
    assert first.startswith("<svg") and first.rstrip().endswith("</svg>")
    assert "<dc:date>" not in first and "Matplotlib v" not in first
    assert ">strict<" in first  # text stays text (no glyph outlines)
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []  # closed: Jupyter does not draw it twice
    with pytest.raises(TypeError, match="Figure or Axes"):
        figure_svg("not a figure")


# -- the attach lifecycle -----------------------------------------------------------------------


def test_lifecycle_svg_draws_a_real_plan(root: SandboxRoot) -> None:
    plan = plan_attach(
        root.host, "webapp_2.1", matches=["webapp"], extensions=["webapp-tls"], profile="strict"
    )
    svg = lifecycle_svg(plan)
    assert svg == lifecycle_svg(plan)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    for unit in plan.units:
        assert f">{unit}</text>" in svg
    assert ">from webapp-tls</text>" in svg  # webapp-tls.service comes from the extension
    # every operation, numbered in portabled's order
    steps = [int(s) for s in re.findall(r">\s*(\d+) (?:mkdir|write|link)", svg)]
    assert sorted(steps) == list(range(1, len(plan.ops) + 1))
    assert "profile strict" in svg and ">attached</text>" in svg
    assert " id=" not in svg  # nothing that could clash with another picture on the page


def test_lifecycle_states_follow_the_plan(root: SandboxRoot) -> None:
    attach = plan_attach(root.host, "minimal", matches=["minimal"], runtime=True)
    assert lifecycle_state(attach) == "attached-runtime"
    assert "gone at reboot" in lifecycle_svg(attach)
    now = attach.with_steps(after=[plan_start(attach.image, ["minimal.service"])])
    assert lifecycle_state(now) == "running-runtime"
    refused = plan_attach(root.host, "webapp_2.1", matches=["webapp-cleanup"])
    svg = lifecycle_svg(refused)
    assert lifecycle_state(refused) == "refused" and ">refused</text>" in svg
    assert "are not compatible with portable" in svg
    root.apply(plan_attach(root.host, "minimal", matches=["minimal"]))
    detach = plan_detach(root.host, "/var/lib/portables/minimal")
    assert lifecycle_state(detach) == "detached"
    assert "files removed" in lifecycle_svg(detach)


# -- the host before/after diff ----------------------------------------------------------------


def test_plan_diff_is_what_applying_the_plan_changes(root: SandboxRoot) -> None:
    plan = plan_attach(root.host, "minimal", matches=["minimal"], profile="strict")
    predicted = T.plan_diff_frame(root.host, plan)
    before = T.tree_frame(root.host)
    root.apply(plan)
    seen = T.diff_frame(before, T.tree_frame(root.host))
    pd.testing.assert_frame_equal(predicted, seen)
    assert set(seen["change"].astype(str)) == {"added"}
    assert list(seen.columns) == list(T.DIFF_SCHEMA)
    # detach removes what attach added
    detach = plan_detach(root.host, "/var/lib/portables/minimal")
    gone = T.plan_diff_frame(root.host, detach)
    assert set(gone["change"].astype(str)) == {"removed"}
    after = T.tree_frame(root.host)
    root.apply(detach)
    pd.testing.assert_frame_equal(gone, T.diff_frame(after, T.tree_frame(root.host)))


def test_diff_frame_sees_changes_and_the_view_colours_them(root: SandboxRoot) -> None:
    before = T.tree_frame(root.host, ["/etc/systemd"])
    root.write_file("/etc/systemd/system/x.service", "[Service]\nExecStart=/bin/true\n")
    middle = T.tree_frame(root.host, ["/etc/systemd"])
    root.write_file("/etc/systemd/system/x.service", "[Service]\n")
    diff = T.diff_frame(middle, T.tree_frame(root.host, ["/etc/systemd"]))
    assert diff[["path", "change"]].astype(str).values.tolist() == [
        ["/etc/systemd/system/x.service", "changed"]
    ]
    assert diff["before"].tolist() == ["file 0644, 30 bytes"]
    assert diff["after"].tolist() == ["file 0644, 10 bytes"]
    added = T.diff_frame(before, middle)
    html = host_diff_view(pd.concat([added, diff], ignore_index=True)).to_html()
    assert "#e5f5e0" in html and "#fff3cd" in html  # added green, changed yellow


# -- exposure bars ------------------------------------------------------------------------------


def test_exposure_bars_are_drawn_on_the_0_to_10_scale() -> None:
    scores = T.scores_frame(WEBAPP_UNIT, "webapp.service", ["strict", "trusted"])
    html = exposure_bars(scores).to_html()
    assert html == exposure_bars(scores).to_html()
    widths = [float(w) for w in re.findall(r"#fc9272 ([0-9.]+)%", html)]
    strict, trusted = scores["exposure"].tolist()
    assert len(widths) == 2 and widths[0] < widths[1]
    assert widths[1] == pytest.approx(90 * trusted / 10, abs=0.5)  # 90 % of the cell is 10.0
    assert strict < trusted

"""Pictures where a table is slower to read: the attach lifecycle of a plan, a host's
before/after diff, exposure bars, and deterministic matplotlib figures.

* :func:`lifecycle_svg` draws a real :class:`~portablekit.portabled.plan.Plan` left to right:
  the image (and its extensions) → the units portabled matched → the files written (or
  removed) for each unit, numbered in the order portabled performs them → the state
  ``is-attached`` reports afterwards. A refused plan ends in a red box with portabled's message.
* :func:`host_diff_view` colours a :func:`~portablekit.tables.diff_frame` or
  :func:`~portablekit.tables.plan_diff_frame`: what attach added, changed and removed.
* :func:`exposure_bars` puts ``systemd-analyze security``'s exposure of each profile
  (:func:`~portablekit.tables.scores_frame`) as bars on a 0–10 scale (pandas' ``Styler.bar``,
  no plotting library needed).
* :func:`figure_svg` renders a matplotlib figure (what ``DataFrame.plot`` returns) to SVG text
  that is the same on every run, so a stored notebook output compares byte for byte.

Like :mod:`portablekit.tables.render`, everything returns HTML or SVG text (or a Styler), the
same in JupyterLab, Voila and a static page, and depends on nothing but its input.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import pandas as pd
from pandas.io.formats.style import Styler

from ..portabled.host import attached_dir
from ..portabled.plan import OpKind, Plan
from .render import styled

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "exposure_bars",
    "figure_svg",
    "host_diff_view",
    "lifecycle_state",
    "lifecycle_svg",
]


# -- the attach lifecycle ------------------------------------------------------------------------

_VERB_OPS = {
    OpKind.MKDIR: "mkdir",
    OpKind.WRITE: "write",
    OpKind.SYMLINK: "link",
    OpKind.COPY_FILE: "copy",
    OpKind.COPY_TREE: "copy",
    OpKind.UNLINK: "remove",
    OpKind.RMDIR: "rmdir",
    OpKind.REMOVE_TREE: "remove",
    OpKind.START: "start",
    OpKind.STOP: "stop",
}


def lifecycle_state(plan: Plan) -> str:
    """The state ``portablectl is-attached`` reports once ``plan`` is carried out (on a host
    where the image was detached before an attach): ``attached``, ``enabled`` (install links),
    ``running`` (``--now``), with ``-runtime`` for ``--runtime``; ``detached`` after a detach;
    ``refused`` when the plan fails."""
    if plan.error is not None:
        return "refused"
    if plan.verb == "detach":
        return "detached"
    kinds = {op.kind for op in plan.ops}
    if OpKind.START in kinds:
        state = "running"
    elif any(
        op.kind is OpKind.SYMLINK and op.path.parent.name.endswith((".wants", ".requires"))
        for op in plan.ops
    ):
        state = "enabled"
    elif plan.verb in ("attach", "reattach"):
        state = "attached"
    else:
        return {"stop": "stopped", "disable": "disabled"}.get(plan.verb, plan.verb)
    return state + "-runtime" if plan.runtime else state


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


def _op_groups(plan: Plan) -> tuple[dict[str, list[str]], list[str]]:
    """The plan's operations as text lines: per unit (its drop-in directory and unit file),
    and the rest (attached directory, image links, install links, the service manager)."""
    units = set(plan.units)
    per_unit: dict[str, list[str]] = {u: [] for u in plan.units}
    other: list[str] = []
    dirs = {attached_dir(False), attached_dir(True)}
    for step, op in enumerate(plan.ops, start=1):
        verb = _VERB_OPS[op.kind]
        owner: str | None = None
        if op.kind in (OpKind.START, OpKind.STOP):
            what = op.target or ""
            owner = what if what in units else None
        elif op.path.parent in dirs and op.path.name in units:
            owner, what = op.path.name, op.path.name
        elif op.path.parent in dirs and op.path.name.removesuffix(".d") in units:
            owner, what = op.path.name.removesuffix(".d"), op.path.name
        elif op.path.parent.parent in dirs and op.path.parent.name.removesuffix(".d") in units:
            owner = op.path.parent.name.removesuffix(".d")
            what = f"{op.path.parent.name}/{op.path.name}"
        elif op.path in dirs or op.path.parent in dirs:
            what = str(op.path) if op.path in dirs else f"{op.path.name}/"
        else:
            what = str(op.path)
        if op.kind is OpKind.MKDIR and not what.endswith("/"):
            what += "/"
        if op.kind is OpKind.SYMLINK and op.target:
            target = op.target
            if "/portable/profile/" in target:  # the profile link: name the profile
                target = "profile " + PurePosixPath(target).parent.name
            what += " → " + target
        line = f"{step:>2} {verb:<6} {what}"
        if owner is not None:
            per_unit[owner].append(line)
        else:
            other.append(line)
    return per_unit, other


def lifecycle_svg(plan: Plan, *, width: int = 940) -> str:
    """The lifecycle of one plan as an SVG picture, left to right: image → matched units →
    files written (removed, for a detach), each operation numbered in portabled's order →
    the state afterwards (:func:`lifecycle_state`). A refused plan shows portabled's message in
    red. The picture depends on the plan alone: the same plan draws the same bytes.
    """
    pad, gap, line_h, head = 10, 34, 15, 22
    refused = plan.error is not None
    col_img, col_unit, col_state = 150, 190, 250 if refused else 150
    state = lifecycle_state(plan)
    state_lines = [state]
    if plan.error is not None:
        state_lines += _wrap(plan.error.message, 36)
    elif state.endswith("-runtime"):
        state_lines.append("(in /run: gone at reboot)")
    state_h = 16 * len(state_lines) + 14
    per_unit, other = _op_groups(plan)
    # wide enough for the longest operation (about 6.7 px per character of 11 px monospace)
    longest = max((len(t) for lines in (*per_unit.values(), other) for t in lines), default=0)
    col_files = max(260, width - 2 * pad - 3 * gap - col_img - col_unit - col_state)
    col_files = max(col_files, (longest * 67) // 10 + 14)
    chars = 200  # the box is as wide as the longest line; this only guards odd inputs
    x_img = pad
    x_unit = x_img + col_img + gap
    x_files = x_unit + col_unit + gap
    x_state = x_files + col_files + gap
    width = x_state + col_state + pad

    removing = plan.verb in ("detach", "stop", "disable")
    files_title = "files removed" if removing else "files written"
    rows: list[tuple[str, list[str]]] = [(u, per_unit[u]) for u in plan.units]
    if other:
        rows.append(("", other))
    if not rows:
        rows.append(("", []))

    layers: list[tuple[str, str]] = []
    origin: dict[str, str] = {}
    d = plan.dissection
    if d is not None:
        layers = [(lay.image.name, "base" if i == 0 else f"extension {i}") for i, lay in
                  enumerate(d.layers)]  # fmt: skip
        origin = {u.name: d.layers[u.layer].image.name for u in d.units}
    else:
        layers = [(PurePosixPath(plan.image).name or plan.image, "image")]

    y0 = pad + head
    boxes: list[tuple[int, int]] = []  # (top, height) of each row
    y = y0
    for _unit, lines in rows:
        h = max(34, line_h * max(len(lines), 1) + 12)
        boxes.append((y, h))
        y += h + 8
    img_h = 30 * len(layers) + 8
    body = max(y - y0 - 8, img_h, state_h, 70)
    height = y0 + body + pad

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" '
        f'role="img" aria-label="{html.escape(plan.verb)} lifecycle">'
    ]
    for x, title in (
        (x_img, "image"),
        (x_unit, "matched units"),
        (x_files, f"{files_title} (step, operation, path)"),
        (x_state, "state afterwards"),
    ):
        parts.append(f'<text x="{x}" y="{pad + 10}" fill="#555">{html.escape(title)}</text>')

    # the image column: base at the bottom of its box, extensions above it
    img_top = y0 + (body - img_h) // 2
    parts.append(
        f'<rect x="{x_img}" y="{img_top}" width="{col_img}" height="{img_h}" rx="6" '
        'fill="#fdd49e" stroke="#444"/>'
    )
    for i, (name, role) in enumerate(reversed(layers)):
        ty = img_top + 18 + 30 * i
        parts.append(
            f'<text x="{x_img + 8}" y="{ty}" font-weight="bold">'
            f"{html.escape(_short(name, 20))}</text>"
            f'<text x="{x_img + 8}" y="{ty + 12}" fill="#555" font-size="10">{role}</text>'
        )
    img_mid = img_top + img_h // 2

    # the state column
    state_top = y0 + (body - state_h) // 2
    fill, stroke = ("#fcbba1", "#cb181d") if refused else ("#c7e9c0", "#444")
    parts.append(
        f'<rect x="{x_state}" y="{state_top}" width="{col_state}" height="{state_h}" rx="6" '
        f'fill="{fill}" stroke="{stroke}"/>'
    )
    for i, text in enumerate(state_lines):
        weight = ' font-weight="bold"' if i == 0 else ' font-size="10"'
        parts.append(
            f'<text x="{x_state + 8}" y="{state_top + 18 + 16 * i}"{weight}>'
            f"{html.escape(text)}</text>"
        )
    state_mid = state_top + state_h // 2

    for (unit, lines), (top, h) in zip(rows, boxes, strict=True):
        mid = top + h // 2
        if unit:
            parts.append(
                f'<rect x="{x_unit}" y="{top}" width="{col_unit}" height="{h}" rx="6" '
                'fill="#c6dbef" stroke="#444"/>'
                f'<text x="{x_unit + 8}" y="{mid - 2}" font-weight="bold">'
                f"{html.escape(_short(unit, 26))}</text>"
            )
            if unit in origin:
                parts.append(
                    f'<text x="{x_unit + 8}" y="{mid + 11}" fill="#555" font-size="10">'
                    f"from {html.escape(_short(origin[unit], 24))}</text>"
                )
            parts.append(_arrow(x_img + col_img, img_mid, x_unit, mid))
            parts.append(_arrow(x_unit + col_unit, mid, x_files, mid))
        elif lines:
            parts.append(
                f'<text x="{x_unit + col_unit}" y="{mid + 4}" fill="#555" font-size="10" '
                'text-anchor="end">directories, image links</text>'
            )
        parts.append(
            f'<rect x="{x_files}" y="{top}" width="{col_files}" height="{h}" rx="4" '
            'fill="#f7f7f7" stroke="#999"/>'
        )
        for i, text in enumerate(lines or ["nothing"]):
            parts.append(
                f'<text x="{x_files + 6}" y="{top + 18 + line_h * i}" font-family="monospace" '
                f'font-size="11" xml:space="preserve">{html.escape(_short(text, chars))}</text>'
            )
        parts.append(_arrow(x_files + col_files, mid, x_state, state_mid))
    parts.append("</svg>")
    return "\n".join(parts)


def _arrow(x1: int, y1: int, x2: int, y2: int) -> str:
    """A line with a small filled head at (x2, y2); no marker ids, so pictures never clash."""
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2 - 6}" y2="{y2}" stroke="#666" stroke-width="1.2"/>'
        f'<polygon points="{x2},{y2} {x2 - 7},{y2 - 4} {x2 - 7},{y2 + 4}" fill="#666"/>'
    )


# -- the host before/after diff ------------------------------------------------------------------

_CHANGE_CSS = {
    "added": "background-color: #e5f5e0;",
    "changed": "background-color: #fff3cd;",
    "removed": "background-color: #fde0dd; text-decoration: line-through;",
}


def host_diff_view(diff: pd.DataFrame, *, caption: str | None = None) -> Styler:
    """A :func:`~portablekit.tables.diff_frame` (or :func:`~portablekit.tables.plan_diff_frame`)
    with each row coloured by its ``change``: green added, yellow changed, red (struck through)
    removed."""

    def colour(row: pd.Series[Any]) -> list[str]:
        css = _CHANGE_CSS.get(str(row["change"]), "")
        return [css] * len(row)

    return styled(diff, "host_diff", caption=caption).apply(colour, axis=1)


# -- exposure bars ---------------------------------------------------------------------------------


def exposure_bars(scores: pd.DataFrame, *, caption: str | None = None) -> Styler:
    """The exposure column of :func:`~portablekit.tables.scores_frame` as bars on
    ``systemd-analyze security``'s scale, 0.0 (perfect) to 10.0 (dangerous): one bar per row, so
    the profiles compare at a glance."""
    st = styled(scores, "exposure_bars", caption=caption)
    st = st.set_properties(subset=["exposure"], **{"min-width": "200px"})
    return st.bar(subset=["exposure"], vmin=0.0, vmax=10.0, color="#fc9272", width=90)


# -- matplotlib ----------------------------------------------------------------------------------


def figure_svg(figure: Figure | Axes | Sequence[Axes] | Any) -> str:
    """A matplotlib figure (or the axes ``DataFrame.plot`` returns) as SVG text, the same bytes
    on every run, and the figure closed (so Jupyter does not draw it a second time).

    Deterministic because the SVG ids are salted with a fixed string (``svg.hashsalt``), text
    stays text (``svg.fonttype = none``: no glyph outlines that depend on the installed fonts)
    and the date and creator metadata are left out. Needs matplotlib (the ``notebooks`` extra).
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    fig = figure
    if not isinstance(fig, Figure):
        first = fig
        if hasattr(first, "flat"):  # a numpy array of axes (subplots=True)
            first = first.flat[0]
        elif isinstance(first, Sequence) and first and not isinstance(first, str):
            first = first[0]
        fig = getattr(first, "figure", None)
    if not isinstance(fig, Figure):
        raise TypeError(f"figure_svg() needs a matplotlib Figure or Axes, not {type(figure)}")
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "portablekit", "svg.fonttype": "none"}):
        fig.savefig(
            buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None}
        )
    plt.close(fig)
    text = buf.getvalue()
    # the XML prologue and doctype are not valid inside HTML: keep the <svg> element only
    return text[text.index("<svg") :].strip()

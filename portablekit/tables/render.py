"""HTML for tables and pictures, shared by the widgets and the notebooks.

Everything here returns plain HTML text (pandas Styler output, inline SVG), so it renders the
same in JupyterLab, Voila, nbconvert and GitHub's notebook view, and it compares byte for
byte under nbval: every Styler's element id is its kind of table plus a hash of what it
renders (``T_profile_matrix_1a2b3c4d``), so two tables on one page never share CSS rules, and the
same table renders to the same HTML every time; nothing depends on time or on where the sandbox
lives. No ipywidgets import here.

:func:`html_of` and :func:`text_of` draw the core objects (a
:class:`~portablekit.portabled.dissect.Dissection`, a :class:`~portablekit.portabled.plan.Plan`, an
:class:`~portablekit.osrelease.EnvFile`, an :class:`~portablekit.portabled.image.Image`, a
:class:`~portablekit.check.findings.Finding` and a list of findings) as tables, with a readable
``text/plain`` twin: the core objects' own ``_repr_html_`` and ``_repr_pretty_``
(:mod:`portablekit.display`) call them, so a notebook shows them with no set-up call.
:func:`enable_notebook_display` registers the same views with IPython by type (harmless, no
longer needed).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from pandas.io.formats.style import Styler

if TYPE_CHECKING:
    from pandas.io.formats.style_render import CSSDict

from ..check.findings import Finding, Findings
from ..osrelease import EnvFile
from ..portabled.dissect import Dissection
from ..portabled.image import Image
from ..portabled.plan import Plan
from . import (
    changes_frame,
    findings_frame,
    layers_frame,
    plan_frame,
    release_frame,
    units_frame,
)

__all__ = [
    "HEATMAP_LEGEND",
    "dissection_text",
    "enable_notebook_display",
    "frame_html",
    "html_of",
    "layer_stack_svg",
    "plan_text",
    "profile_heatmap",
    "show",
    "styled",
    "text_of",
]

_BASE_CSS: list[CSSDict] = [
    {"selector": "", "props": "border-collapse: collapse; font-size: 12px; margin: 4px 0;"},
    {
        "selector": "th",
        "props": "text-align: left; padding: 2px 8px; border-bottom: 1px solid #888;"
        " background: #f0f0f0;",
    },
    {
        "selector": "td",
        "props": "text-align: left; padding: 2px 8px; border-bottom: 1px solid #ddd;"
        " white-space: pre-line; vertical-align: top; font-family: monospace;",
    },
    {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: bold;"},
]

_UUID = re.compile(r"[^A-Za-z0-9_]")


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


def _bool_mark(v: object) -> str:
    if _missing(v):
        return ""
    return "✓" if bool(v) else "✗"


class _ContentStyler(Styler):
    """A Styler whose element id ends in a hash of the HTML it renders.

    The CSS rules of a Styler (``#T_<uuid>_row0_col1 {...}``) apply to the whole page, so two
    tables that share an id colour each other's cells. A fixed id per kind of table does exactly
    that when two heat maps are on one page; a random one (pandas' default) breaks stored-output
    comparison. The hash of the rendered table is both unique per content and deterministic.
    """

    def _render_html(self, *args: Any, **kwargs: Any) -> str:
        name: str = self.uuid  # type: ignore[has-type]
        token = f"{name}_pk0uuid0pk"  # stands in for the hash while rendering
        self.uuid = token
        try:
            text: str = super()._render_html(*args, **kwargs)  # type: ignore[misc]
        finally:
            self.uuid = name
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        return text.replace(f"T_{token}", f"T_{name}_{digest}")


def styled(df: pd.DataFrame, uuid: str = "table", *, caption: str | None = None) -> Styler:
    """A compact, deterministic Styler: no index, booleans as ✓/✗, missing as empty.

    ``uuid`` names the kind of table (letters, digits, ``_``); the element id is
    ``T_<uuid>_<hash of the rendered table>``, so the same table renders to the same HTML
    everywhere and two different tables on one page never share CSS rules.
    """
    st = _ContentStyler(df).hide(axis="index").set_uuid(_UUID.sub("_", uuid))
    st = st.set_table_styles(_BASE_CSS)
    bools: list[Hashable] = [c for c in df.columns if str(df[c].dtype) in ("boolean", "bool")]
    if bools:
        st = st.format(_bool_mark, subset=bools)
    # one decimal, as systemd-analyze prints exposure levels
    others: list[Hashable] = [c for c in df.columns if c not in bools]
    st = st.format(na_rep="", precision=1, subset=others)
    if caption:
        st = st.set_caption(caption)
    return st


def frame_html(
    df: pd.DataFrame | Styler, uuid: str = "table", *, caption: str | None = None
) -> str:
    """HTML of a frame (styled with :func:`styled`) or of a ready Styler."""
    st = df if isinstance(df, Styler) else styled(df, uuid, caption=caption)
    return str(st.to_html())


# -- the profile heat map --------------------------------------------------------------------------

_SAME = "background-color: #c6dbef;"
_DIFF = "background-color: #2171b5; color: white;"
_DIFF_UNSET = "background-color: #fdae6b; color: #7f2704;"
_SAME_PARTLY = "background-color: #c6dbef; box-shadow: inset 5px 0 #e6550d;"
#: What the heat map's colours mean (its caption says the same).
HEATMAP_LEGEND = (
    "pale blue: every profile sets the same value · orange edge: the same value where set, "
    "but another profile leaves it unset · dark blue: the values differ · orange: not set "
    "here, set in another profile"
)


def _matrix_cell(v: Any) -> str:
    if _missing(v):
        return "—"
    return "(empty)" if v == "" else str(v)


def profile_heatmap(
    matrix: pd.DataFrame, uuid: str = "profile_matrix", *, legend: bool = True
) -> Styler:
    """The directive × profile matrix of :func:`portablekit.tables.profile_matrix_frame` as a
    heat map. Leaving a directive unset while another profile sets it is a difference, and
    stands out as one (``PrivateNetwork=`` set by ``strict``, unset by ``default``): orange
    where a profile leaves unset what another sets, and an orange edge on the pale blue of the
    profiles that do set it (all to the same value); dark blue where the profiles that set a
    directive give it different values; plain pale blue where every profile sets the same
    value. Unset cells read "—", a directive set to the empty value "(empty)". ``legend`` puts
    :data:`HEATMAP_LEGEND` in the caption.
    """
    fixed = [c for c in ("section", "directive", "category") if c in matrix.columns]
    profiles: list[Hashable] = [c for c in matrix.columns if c not in fixed]

    def colour(row: pd.Series[Any]) -> list[Any]:
        values: list[Any] = row.tolist()
        disagree = len({v for v in values if not _missing(v)}) > 1
        same = _SAME_PARTLY if any(_missing(v) for v in values) else _SAME
        return [_DIFF_UNSET if _missing(v) else _DIFF if disagree else same for v in values]

    st = styled(matrix, uuid, caption=HEATMAP_LEGEND if legend else None)
    if profiles:
        st = st.apply(colour, axis=1, subset=profiles)
        st = st.format(_matrix_cell, subset=profiles)
    return st


# -- the layer-stack diagram -----------------------------------------------------------------------

_FILL = {"os-release": "#fdd49e", "sysext": "#c6dbef", "confext": "#c7e9c0"}


def layer_stack_svg(
    layers: pd.DataFrame | Dissection,
    units: pd.DataFrame | None = None,
    *,
    width: int = 640,
) -> str:
    """An SVG picture of the layer stack: the base at the bottom, each extension above it in
    ``--extension`` order (the last one on top, as overlayfs stacks them), each box with the
    image name, its release class, the hierarchies it overlays and the units portabled takes
    from it. An extension portabled would refuse on this base is drawn dashed red.

    ``layers`` is :func:`~portablekit.tables.layers_frame` output or a dissection; ``units``
    :func:`~portablekit.tables.unit_origins_frame` output (default: from the dissection).
    ``width`` is the least width; a long unit list widens the picture.
    """
    if isinstance(layers, Dissection):
        from . import unit_origins_frame

        if units is None:
            units = unit_origins_frame(layers)
        layers = layers_frame(layers)
    per_layer: dict[int, list[str]] = {}
    if units is not None:
        for unit, layer in zip(units["unit"], units["layer"], strict=True):
            per_layer.setdefault(int(layer), []).append(str(unit))
    box_h, gap, pad = 58, 6, 10
    n = len(layers)
    # wide enough for the longest unit line (about 7 px per character at 12 px sans-serif)
    longest = max((len(", ".join(v)) + 8 for v in per_layer.values()), default=0)
    width = max(width, 7 * longest + 4 * pad)
    height = n * (box_h + gap) + 2 * pad + 18
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" '
        'role="img" aria-label="layer stack">',
        f'<text x="{pad}" y="{pad + 10}" fill="#555">top of the overlay</text>',
    ]
    records = layers.to_dict(orient="records")
    for slot, row in enumerate(reversed(records)):
        y = pad + 18 + slot * (box_h + gap)
        layer = int(row["layer"])
        release = "" if pd.isna(row["release"]) else str(row["release"])
        fill = _FILL.get(release, "#eeeeee")
        refused = row["compatible"] is False
        stroke = 'stroke="#cb181d" stroke-dasharray="6 3"' if refused else 'stroke="#444"'
        name = html.escape(str(row["image"]))
        role = "base" if layer == 0 else f"extension {layer}"
        overlays = "" if pd.isna(row["overlays"]) else str(row["overlays"])
        what = f"{role} · {release or 'no release file'} · overlays {overlays or '—'}"
        if refused:
            what += " · REFUSED on this base"
        taken = per_layer.get(layer, [])
        unit_text = ", ".join(taken) if taken else "no units taken from this layer"
        parts += [
            f'<rect x="{pad}" y="{y}" width="{width - 2 * pad}" height="{box_h}" rx="6" '
            f'fill="{fill}" {stroke} stroke-width="1.5"/>',
            f'<text x="{pad + 10}" y="{y + 18}" font-weight="bold">{name}</text>',
            f'<text x="{pad + 10}" y="{y + 34}" fill="#333">{html.escape(what)}</text>',
            f'<text x="{pad + 10}" y="{y + 50}" fill="#333">units: {html.escape(unit_text)}</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)


# -- readable text twins --------------------------------------------------------------------------


def dissection_text(d: Dissection) -> str:
    """A short ``inspect``-like summary of a dissection."""
    base = d.base
    rel = base.release
    pretty = (rel.get("PORTABLE_PRETTY_NAME") or rel.get("PRETTY_NAME")) if rel else None
    lines = [f"Image {base.image.name} ({base.image.kind}): {pretty or 'n/a'}"]
    for i, ext in enumerate(d.extensions, start=1):
        lines.append(f"  extension {i}: {ext.image.name} ({ext.release_class})")
    lines.append(f"  matches: {', '.join(d.matches) or '(all)'}")
    for u in d.units:
        lines.append(f"  unit {u.name} from layer {u.layer}")
    skipped = sum(1 for c in d.candidates if c.reason is not None)
    lines.append(f"  {len(d.units)} units taken, {skipped} entries skipped")
    return "\n".join(lines)


def plan_text(plan: Plan) -> str:
    """The lines portablectl would print for a plan, and its error if it fails."""
    lines = [f"Plan of {plan.verb} {plan.image}: {len(plan.ops)} operations"]
    lines += [str(c) for c in plan.printed_changes()]
    if plan.error is not None:
        lines.append(f"fails: {plan.error.message}")
    return "\n".join(lines)


def _dissection_html(d: Dissection) -> str:
    return (
        f"<pre>{html.escape(dissection_text(d).splitlines()[0])}</pre>"
        + frame_html(layers_frame(d), "dissection_layers", caption="Layers")
        + frame_html(units_frame(d), "dissection_units", caption="Unit files considered")
    )


def _plan_html(plan: Plan) -> str:
    head = f"Plan of {plan.verb} {plan.image}"
    if plan.error is not None:
        head += f": fails with “{plan.error.message}”"
    return (
        f"<p><b>{html.escape(head)}</b></p>"
        + frame_html(plan_frame(plan), "plan_ops", caption="File operations")
        + frame_html(changes_frame(plan), "plan_changes", caption="What portablectl prints")
    )


def _envfile_html(env: EnvFile) -> str:
    return frame_html(release_frame(env)[["key", "value"]], "release", caption=env.origin)


def _image_html(img: Image) -> str:
    return (
        f"<code>{html.escape(img.name)}</code> ({html.escape(str(img.kind))}) at "
        f"<code>{html.escape(str(img.path))}</code>"
    )


def _findings_html(findings: Finding | list[Finding]) -> str:
    rows = [findings] if isinstance(findings, Finding) else findings
    if not rows:
        return "<p>no findings</p>"
    wide = {"min-width": "20em", "white-space": "normal"}
    st = styled(findings_frame(rows), "findings").set_properties(
        subset=["message", "fix", "portabled_message"], **wide
    )
    return frame_html(st)


def _findings_text(findings: Finding | list[Finding]) -> str:
    rows = [findings] if isinstance(findings, Finding) else findings
    return "\n".join(str(f) for f in rows) if rows else "no findings"


_FORMATTERS: Sequence[tuple[type, Callable[[Any], str], Callable[[Any], str]]] = (
    (Dissection, _dissection_html, dissection_text),
    (Plan, _plan_html, plan_text),
    (EnvFile, _envfile_html, lambda e: str(e).rstrip("\n")),
    (Image, _image_html, lambda i: f"{i.name} ({i.kind}) at {i.path}"),
    (Finding, _findings_html, _findings_text),
    (Findings, _findings_html, _findings_text),
)


def _formatter(obj: object) -> tuple[Callable[[Any], str], Callable[[Any], str]]:
    for cls, to_html, to_text in _FORMATTERS:
        if isinstance(obj, cls):
            return to_html, to_text
    raise TypeError(f"no table view of {type(obj).__name__}")


def html_of(obj: object) -> str:
    """The HTML view of a core object (what its ``_repr_html_`` shows)."""
    return _formatter(obj)[0](obj)


def text_of(obj: object) -> str:
    """The text twin of a core object (what IPython prints for it)."""
    return _formatter(obj)[1](obj)


def enable_notebook_display(ip: Any = None) -> bool:
    """Register HTML and text views of the core objects with IPython (``ip`` or the running
    shell). Returns ``False`` outside IPython; calling it twice is harmless."""
    if ip is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        ip = get_ipython()
    if ip is None:
        return False
    formatters = ip.display_formatter.formatters
    for cls, to_html, to_text in _FORMATTERS:
        formatters["text/html"].for_type(cls, to_html)

        def pretty(obj: Any, p: Any, cycle: bool, to_text: Callable[[Any], str] = to_text) -> None:
            p.text(to_text(obj))

        formatters["text/plain"].for_type(cls, pretty)
    return True


def show(df: pd.DataFrame, caption: str | None = None, *, name: str = "table") -> Styler:
    """Any frame, readable: text left-aligned, missing values empty (no ``<NA>``), booleans as
    ✓/✗, no index, and long messages wrapped instead of cut off (pandas' plain HTML cuts text
    at ``display.max_colwidth``). ``name`` names the kind of table in the element id.

    >>> import pandas as pd
    >>> html = show(pd.DataFrame({"unit": ["a.service"], "size": [pd.NA]})).to_html()
    >>> "&lt;NA&gt;" in html, "text-align: left" in html
    (False, True)
    """
    return styled(df, name, caption=caption)

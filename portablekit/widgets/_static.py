"""A static HTML picture of a widget: what a page without a kernel shows in its place.

A tool's display carries, besides the live widget view, a ``text/html`` twin made here from
the widget tree as it is when displayed: the tables and diagrams (the HTML views' own HTML),
the choices as text, the buttons as labels. JupyterLab and Voila draw the live view; GitHub,
nbconvert and any page without the widget manager draw this twin, so a stored notebook shows
its widgets. It is deterministic (nothing but the widgets' values), so strict nbval compares
it like any other output.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

__all__ = ["snapshot"]

_NOTE = (
    '<p class="pk-static-note" style="color:#666;font-style:italic">A static picture of the '
    "widget as the notebook left it; run the notebook to use its controls.</p>"
)
_ROW = "display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start"
_BUTTON = (
    "display:inline-block;border:1px solid #999;border-radius:3px;padding:1px 8px;"
    "margin:2px;background:#f4f4f4"
)


def snapshot(widget: Any) -> str:
    """The static HTML twin of ``widget`` (see the module)."""
    return f'<div class="pk-static">{_NOTE}{_html(widget)}</div>'


def _label(w: Any) -> str:
    d = getattr(w, "description", "") or ""
    return f"<b>{html.escape(d)}</b> " if d else ""


def _html(w: Any) -> str:
    if isinstance(w, widgets.Tab):
        titles = list(w.titles) if w.titles else [str(i) for i in range(len(w.children))]
        return "".join(
            f"<h4>{html.escape(t)}</h4>{_html(c)}" for t, c in zip(titles, w.children, strict=False)
        )
    if isinstance(w, widgets.HBox):
        inner = "".join(f"<div>{_html(c)}</div>" for c in w.children)
        return f'<div style="{_ROW}">{inner}</div>'
    if isinstance(w, widgets.Box):
        return "".join(f"<div>{_html(c)}</div>" for c in w.children)
    if isinstance(w, widgets.HTML | widgets.HTMLMath):
        return str(w.value)
    if isinstance(w, widgets.Label):
        return f"<span>{html.escape(str(w.value))}</span>"
    if isinstance(w, widgets.Button):
        return f'<span style="{_BUTTON}">{html.escape(w.description)}</span>'
    if isinstance(w, widgets.Checkbox):
        return f"{'☑' if w.value else '☐'} {html.escape(w.description)}"
    if isinstance(w, widgets.SelectMultiple):
        chosen = ", ".join(str(v) for v in w.value) or "(none)"
        return f"{_label(w)}<code>{html.escape(chosen)}</code>"
    if isinstance(w, widgets.Select) and not w.description:
        items = "".join(
            f"<li>{'<b>' if o == w.value else ''}{html.escape(str(o))}"
            f"{'</b>' if o == w.value else ''}</li>"
            for o in w.options
        )
        return f'<ul style="margin:2px 0">{items or "<li><i>(empty)</i></li>"}</ul>'
    if isinstance(w, widgets.Textarea):
        return f"{_label(w)}<pre>{html.escape(str(w.value))}</pre>"
    if hasattr(w, "value") and hasattr(w, "description"):
        shown = getattr(w, "label", None) or w.value
        text = "" if shown is None else str(shown)
        return f"{_label(w)}<code>{html.escape(text)}</code>"
    return ""

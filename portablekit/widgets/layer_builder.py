"""LayerBuilder: a base image and an ordered list of extensions, as ``attach --extension``
would stack them: would attach accept the stack (and if not, why), is each extension
compatible (key by key), which layer each unit is read from, and a picture of the stack.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]
import pandas as pd

from ..errors import PortabledError
from ..names import derive_prefix
from ..portabled.dissect import Dissection, dissect
from ..portabled.host import Host
from ..sandbox import SandboxRoot
from ..tables import compat_frame, layers_frame, unit_origins_frame, units_frame
from ..tables.render import frame_html, layer_stack_svg
from ._base import Tool, as_host, scroll_box
from ._catalog import Catalog, keep_choice
from ._picker import ExtensionPicker
from ._verdict import Verdict, attach_verdict

__all__ = ["LayerBuilder"]


class LayerBuilder(Tool):
    """Stack extensions on a base image of a sandbox root.

    Controls: :attr:`base` (a base image: it has an os-release), :attr:`extensions` (an
    :class:`~portablekit.widgets._picker.ExtensionPicker`: ordered, first chosen = lowest),
    :attr:`refresh_button`. Views: :attr:`status`, :attr:`verdict` (would ``attach`` accept
    the stack; if not, portabled's message and the plain words), :attr:`stack` (layer-stack
    diagram), :attr:`compat` (the extension checks, step by step, per extension),
    :attr:`units` (which layer each unit comes from), :attr:`skipped` (unit files a layer had
    that were not taken).
    """

    VIEWS = ("status", "verdict", "stack", "compat", "units", "skipped")

    def __init__(
        self,
        root: SandboxRoot | Host,
        base: str | None = None,
        extensions: tuple[str, ...] = (),
    ) -> None:
        self.host = as_host(root)
        super().__init__(machine_root=str(self.host.root))
        self.add_class("pk-layer-builder")
        self.catalog = Catalog.scan(self.host)
        self.base = widgets.Dropdown(
            options=list(self.catalog.bases),
            value=base if base is not None else self.catalog.default_base(),
            description="base",
        )
        self.extensions = ExtensionPicker(self.catalog.extensions, extensions)
        self.verdict = widgets.HTML()
        self.verdict.add_class("pk-verdict-view")
        self.stack = widgets.HTML()
        self.stack.add_class("pk-stack")
        self.compat = widgets.HTML()
        self.compat.add_class("pk-compat")
        self.units = widgets.HTML()
        self.units.add_class("pk-units")
        self.skipped = widgets.HTML()
        self.dissection: Dissection | None = None
        self.last_verdict: Verdict | None = None
        self.children = [
            widgets.HBox([self.base, self.refresh_button]),
            self.extensions,
            self.status,
            self.verdict,
            self.stack,
            widgets.HTML("<b>extension checks</b>"),
            self.compat,
            widgets.HTML("<b>which layer each unit is read from</b>"),
            self.units,
            self.skipped,
        ]
        self._observe(self.base, self._changed)
        self._observe(self.extensions, self._changed)
        self._render()
        self._mark_controls()

    def __repr__(self) -> str:
        return f"LayerBuilder(base={self.base.value!r}, extensions={list(self.extensions.value)!r})"

    def _changed(self, _change: Any = None) -> None:
        self._render()

    def image_names(self) -> list[str]:
        """Every image of the root (for the choice lists)."""
        return list(self.catalog.images)

    def refresh(self) -> None:
        """Look at the root again (new images) and render every view."""
        self.catalog = Catalog.scan(self.host)
        bases = list(self.catalog.bases)
        value = keep_choice(bases, self.base.value, self.catalog.default_base())
        with self.hold_trait_notifications():
            self.base.options = bases
            self.base.value = value
            self.extensions.options = self.catalog.extensions
        self._render()

    def _render(self) -> None:
        """Dissect base + extensions (as ``inspect`` does), ask attach, render the views."""
        self.show_ok()
        self.dissection = None
        self.last_verdict = None
        for view in (self.verdict, self.stack, self.compat, self.units, self.skipped):
            view.value = ""
        if not self.base.value:
            self.show_ok("no base images in this sandbox root")
            return
        with self._reporting():
            base = self.base.value
            exts = list(self.extensions.value)
            verdict = attach_verdict(
                self.host, base, extensions=exts, image_path=self.catalog.paths.get(base)
            )
            self.last_verdict = verdict
            self.verdict.value = self._scrub(verdict.html())
            d, refused = self._readable(base, exts)
            if d is None:
                return
            self.dissection = d
            self._render_views(d, exts, refused)

    def _readable(self, base: str, exts: list[str]) -> tuple[Dissection | None, list[str]]:
        """The stack as far as portabled reads it: the dissection of the base and every
        extension it can read, and the extensions it cannot (the verdict says why)."""
        prefix = derive_prefix(base, self.host.systemd)
        good: list[str] = []
        refused: list[str] = []
        last: Dissection | None = None
        error: PortabledError | None = None
        for ext in [None, *exts]:
            tried = good if ext is None else [*good, ext]
            try:
                last = dissect(self.host, base, matches=[prefix], extensions=tried, attach=False)
            except PortabledError as e:
                error = error or e
                if ext is None:
                    break  # the base itself: nothing to draw
                refused.append(ext)
                continue
            if ext is not None:
                good.append(ext)
        verdict = self.last_verdict
        if last is None and error is not None and verdict and error.message != verdict.message:
            self.show_error(error)  # else the verdict says it already
        return last, refused

    def compat_table(self, d: Dissection) -> pd.DataFrame:
        """The extension checks of every extension on the base, one block per extension."""
        base = d.base.release
        frames = []
        for ext in d.extensions:
            if base is None or ext.release is None:
                continue
            f = compat_frame(base, ext.release, self.host.systemd)
            f.insert(0, "image", pd.Series([ext.image.name] * len(f), dtype="string"))
            frames.append(f)
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    def _render_views(self, d: Dissection, exts: list[str], refused: list[str]) -> None:
        layers = layers_frame(d, self.host.systemd)
        origins = unit_origins_frame(d)
        if refused:
            layers, origins = _with_refused(layers, origins, exts, refused)
        self.stack.value = scroll_box(layer_stack_svg(layers, origins))
        compat = self.compat_table(d)
        self.compat.value = (
            scroll_box(frame_html(compat, "builder_compat"))
            if len(compat)
            else "<p><i>no extensions: add some to see portabled's checks</i></p>"
        )
        self.units.value = scroll_box(frame_html(origins, "builder_units"))
        cands = units_frame(d)
        skipped = cands[~cands["matched"].astype(bool)][["unit", "image", "status"]]
        self.skipped.value = (
            scroll_box(frame_html(skipped, "builder_skipped", caption="unit files not taken"))
            if len(skipped)
            else ""
        )


def _with_refused(
    layers: pd.DataFrame, origins: pd.DataFrame, exts: list[str], refused: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stack with the extensions portabled cannot read put back in their places (drawn
    refused), layer numbers as the full ``--extension`` list gives them."""
    good = [e for e in exts if e not in refused]
    renumber = {0: 0} | {i + 1: exts.index(e) + 1 for i, e in enumerate(good)}
    layers = layers.copy()
    layers["layer"] = layers["layer"].map(renumber).astype("Int64")
    extra = pd.DataFrame(
        {"layer": [exts.index(e) + 1 for e in refused], "image": refused, "compatible": False}
    ).astype({"layer": "Int64", "image": "string", "compatible": "boolean"})
    layers = pd.concat([layers, extra], ignore_index=True).sort_values("layer", kind="stable")
    origins = origins.copy()
    origins["layer"] = origins["layer"].map(renumber).astype("Int64")
    return layers.reset_index(drop=True), origins

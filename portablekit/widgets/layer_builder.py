"""LayerBuilder: a base image and an ordered list of extensions, as ``attach --extension``
would stack them: is each extension compatible (key by key), which layer each unit is read
from, and a picture of the stack.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]
import pandas as pd

from ..names import derive_prefix
from ..portabled.dissect import Dissection, dissect
from ..portabled.host import Host
from ..portabled.image import discover_images
from ..sandbox import SandboxRoot
from ..tables import compat_frame, images_frame, layers_frame, unit_origins_frame, units_frame
from ..tables.render import frame_html, layer_stack_svg
from ._base import Tool, as_host

__all__ = ["LayerBuilder"]


class LayerBuilder(Tool):
    """Stack extensions on a base image of a sandbox root.

    Controls: :attr:`base` (a base image: it has an os-release), :attr:`extensions` (ordered,
    first given = lowest). Views: :attr:`stack` (layer-stack diagram), :attr:`compat` (the
    extension checks, step by step, per extension), :attr:`units` (which layer each unit comes
    from), :attr:`skipped` (unit files a layer had that were not taken), :attr:`status`.
    """

    def __init__(
        self,
        root: SandboxRoot | Host,
        base: str | None = None,
        extensions: tuple[str, ...] = (),
    ) -> None:
        self.host = as_host(root)
        super().__init__(machine_root=str(self.host.root))
        self.add_class("pk-layer-builder")
        imgs = images_frame(self.host)
        bases = imgs.loc[imgs["release"] == "os-release", "name"].tolist()
        # extensions: everything that is not a base image (also those lacking release data, so
        # portabled's refusal can be seen)
        exts = imgs.loc[imgs["release"].ne("os-release").fillna(True), "name"].tolist()
        self.base = widgets.Dropdown(
            options=bases,
            value=base if base is not None else (bases[0] if bases else None),
            description="base",
        )
        self.extensions = widgets.TagsInput(
            value=list(extensions), allowed_tags=exts, allow_duplicates=False
        )
        self.stack = widgets.HTML()
        self.stack.add_class("pk-stack")
        self.compat = widgets.HTML()
        self.units = widgets.HTML()
        self.units.add_class("pk-units")
        self.skipped = widgets.HTML()
        self.dissection: Dissection | None = None
        self.children = [
            self.base,
            widgets.HBox([widgets.Label("extensions (bottom → top)"), self.extensions]),
            self.status,
            self.stack,
            widgets.HTML("<b>extension checks</b>"),
            self.compat,
            widgets.HTML("<b>which layer each unit is read from</b>"),
            self.units,
            self.skipped,
        ]
        self._observe(self.base, self._changed)
        self._observe(self.extensions, self._changed)
        self.refresh()

    def __repr__(self) -> str:
        return f"LayerBuilder(base={self.base.value!r}, extensions={list(self.extensions.value)!r})"

    def _changed(self, _change: Any = None) -> None:
        self.refresh()

    def image_names(self) -> list[str]:
        """Every image of the root (for the choice lists)."""
        return [i.name for i in discover_images(self.host)]

    def refresh(self) -> None:
        """Dissect base + extensions (as ``inspect`` does) and render the views."""
        self.show_ok()
        self.dissection = None
        for view in (self.stack, self.compat, self.units, self.skipped):
            view.value = ""
        if not self.base.value:
            self.show_ok("no base images in this sandbox root")
            return
        with self._reporting():
            prefix = derive_prefix(self.base.value, self.host.systemd)
            d = dissect(
                self.host,
                self.base.value,
                matches=[prefix],
                extensions=list(self.extensions.value),
                attach=False,
            )
            self.dissection = d
            self._render(d)

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

    def _render(self, d: Dissection) -> None:
        layers = layers_frame(d, self.host.systemd)
        origins = unit_origins_frame(d)
        self.stack.value = layer_stack_svg(layers, origins)
        compat = self.compat_table(d)
        self.compat.value = (
            frame_html(compat, "builder_compat")
            if len(compat)
            else "<p><i>no extensions: add some to see portabled's checks</i></p>"
        )
        self.units.value = frame_html(origins, "builder_units")
        cands = units_frame(d)
        skipped = cands[~cands["matched"].astype(bool)][["unit", "image", "status"]]
        self.skipped.value = (
            frame_html(skipped, "builder_skipped", caption="unit files not taken")
            if len(skipped)
            else ""
        )
        refused = layers.loc[layers["compatible"].eq(False).fillna(False), "image"].tolist()
        if refused:
            self.show_warning(
                "attach would refuse: "
                + ", ".join(refused)
                + " does not match the base (extension-release check)"
            )

"""Dashboard: the four tools on one sandbox root, one tab each."""

from __future__ import annotations

import ipywidgets as widgets  # type: ignore[import-untyped]

from ..sandbox import SandboxRoot
from ._base import Tool
from .attach_simulator import AttachSimulator
from .image_explorer import ImageExplorer
from .layer_builder import LayerBuilder
from .profile_comparer import ProfileComparer

__all__ = ["Dashboard"]


class Dashboard(Tool):
    """:attr:`explorer`, :attr:`comparer`, :attr:`builder` and :attr:`simulator` in
    :attr:`tabs`, all on the same sandbox root. Each opens on the root's first attachable
    base image; switching tabs shows the tool the root as it is now (new images, profiles,
    what the simulator attached)."""

    TITLES = ("Images", "Profiles", "Layers", "Attach")
    VIEWS = ("explorer", "comparer", "builder", "simulator")

    def __init__(self, root: SandboxRoot) -> None:
        self.root = root
        super().__init__(machine_root=str(root.path))
        self.add_class("pk-dashboard")
        self.explorer = ImageExplorer(root)
        self.comparer = ProfileComparer(root)
        self.builder = LayerBuilder(root)
        self.simulator = AttachSimulator(root)
        self.tabs = widgets.Tab(
            children=[self.explorer, self.comparer, self.builder, self.simulator],
            titles=list(self.TITLES),
        )
        self.children = [self.tabs]
        self._observe(self.tabs, self._tab_changed, "selected_index")
        self._mark_controls()

    def __repr__(self) -> str:
        return f"Dashboard(tab={self.TITLES[self.tabs.selected_index or 0]!r})"

    def refresh(self) -> None:
        """Show the selected tool the root as it is now."""
        tool = self.tabs.children[self.tabs.selected_index or 0]
        tool.refresh()

    def _tab_changed(self, _change: object) -> None:
        self.refresh()

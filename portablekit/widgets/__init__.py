"""ipywidgets views over the core, one module per tool.

* :class:`ImageExplorer` — an image's os-release, unit files with match reasons, findings;
* :class:`ProfileComparer` — profiles side by side (directive heat map, security scores);
* :class:`LayerBuilder` — a base and ordered extensions: compatibility, which layer wins;
* :class:`AttachSimulator` — plan, attach and detach in a sandbox root;
* :class:`Dashboard` — all four in tabs.

The classes load lazily, so ``portablekit.tables.render`` (HTML for tables and diagrams)
works without importing ipywidgets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .attach_simulator import AttachSimulator
    from .dashboard import Dashboard
    from .image_explorer import ImageExplorer
    from .layer_builder import LayerBuilder
    from .profile_comparer import ProfileComparer

__all__ = ["AttachSimulator", "Dashboard", "ImageExplorer", "LayerBuilder", "ProfileComparer"]

_MODULES = {
    "AttachSimulator": "attach_simulator",
    "Dashboard": "dashboard",
    "ImageExplorer": "image_explorer",
    "LayerBuilder": "layer_builder",
    "ProfileComparer": "profile_comparer",
}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(importlib.import_module(f".{_MODULES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

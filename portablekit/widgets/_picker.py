"""An ordered picker for extensions: two lists and four buttons, usable with the keyboard.

The left list offers the extensions not chosen yet, the right one holds the stack as the
layer-stack picture draws it: the top layer (the last ``--extension``) first. Both are native
list boxes (arrow keys move the selection), the buttons are reached with Tab and pressed with
Enter or Space: no free-text box whose entry must be committed, nothing hidden once something
is chosen.

:attr:`ExtensionPicker.value` is the ordered tuple of names; observe it like any control's
``value``, or set it from code (``picker.value = ["webapp-tls", "debug-tools"]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]
import traitlets

__all__ = ["ExtensionPicker"]


class ExtensionPicker(widgets.HBox):  # type: ignore[misc]
    """Choose and order extensions. Controls: :attr:`available`, :attr:`chosen` (list boxes),
    :attr:`add_button`, :attr:`remove_button`, :attr:`up_button`, :attr:`down_button`."""

    #: the chosen extensions, bottom to top
    value = traitlets.Tuple()
    #: every extension that may be chosen
    options = traitlets.Tuple()

    def __init__(self, options: Sequence[str] = (), value: Sequence[str] = (), rows: int = 5):
        super().__init__()
        self.add_class("pk-picker")
        self.available = widgets.Select(options=[], rows=rows)
        self.available.add_class("pk-picker-available")
        self.chosen = widgets.Select(options=[], rows=rows)
        self.chosen.add_class("pk-picker-chosen")
        layout = widgets.Layout(width="9em")
        self.add_button = widgets.Button(
            description="Add ▸", tooltip="stack the extension on top", layout=layout
        )
        self.remove_button = widgets.Button(
            description="◂ Remove", tooltip="take it off the stack", layout=layout
        )
        self.up_button = widgets.Button(
            description="▲ Up", tooltip="one layer higher", layout=layout
        )
        self.down_button = widgets.Button(
            description="▼ Down", tooltip="one layer lower", layout=layout
        )
        self.add_button.on_click(self._add)
        self.remove_button.on_click(self._remove)
        self.up_button.on_click(self._up)
        self.down_button.on_click(self._down)
        self.children = [
            widgets.VBox([widgets.Label("extensions of the root"), self.available]),
            widgets.VBox([widgets.Label(" "), self.add_button, self.remove_button]),
            widgets.VBox([widgets.Label("the stack, top layer first"), self.chosen]),
            widgets.VBox([widgets.Label(" "), self.up_button, self.down_button]),
        ]
        self.options = tuple(options)
        self.value = tuple(value)
        self._sync()

    def __repr__(self) -> str:
        return f"ExtensionPicker(value={list(self.value)!r})"

    @traitlets.validate("value")
    def _valid(self, proposal: Any) -> tuple[str, ...]:
        names = tuple(proposal["value"])
        unknown = [n for n in names if n not in self.options]
        if unknown:
            raise traitlets.TraitError(
                f"not an extension of this root: {', '.join(unknown)} "
                f"(extensions: {', '.join(self.options) or 'none'})"
            )
        if len(set(names)) != len(names):
            raise traitlets.TraitError(f"an extension is given twice: {', '.join(names)}")
        return names

    @traitlets.observe("options")
    def _options_changed(self, _change: Any) -> None:
        kept = tuple(n for n in self.value if n in self.options)
        if kept != self.value:
            self.value = kept
        self._sync()

    @traitlets.observe("value")
    def _value_changed(self, _change: Any) -> None:
        self._sync()

    def _sync(self) -> None:
        """Both lists show :attr:`value`; selections stay where they were when they can."""
        if not hasattr(self, "chosen"):
            return
        free = [n for n in self.options if n not in self.value]
        picked = self.available.value
        self.available.options = free
        self.available.value = picked if picked in free else (free[0] if free else None)
        mark = self.chosen.value
        self.chosen.options = list(reversed(self.value))
        self.chosen.value = mark if mark in self.value else None
        self.add_button.disabled = not free
        self.remove_button.disabled = self.up_button.disabled = (
            self.down_button.disabled
        ) = not self.value

    # -- the buttons (also callable from code) -----------------------------------------------------

    def add(self, name: str | None = None) -> None:
        """Stack ``name`` (default: the one selected in :attr:`available`) on top."""
        name = name or self.available.value
        if name and name not in self.value:
            self.value = (*self.value, name)
            self.chosen.value = name

    def remove(self, name: str | None = None) -> None:
        """Take ``name`` (default: the one selected in :attr:`chosen`) off the stack."""
        name = name or self.chosen.value
        if name in self.value:
            self.value = tuple(n for n in self.value if n != name)
            self.available.value = name

    def move(self, name: str | None, step: int) -> None:
        """Move ``name`` (default: the selected one) ``step`` layers up (+) or down (-)."""
        name = name or self.chosen.value
        if name not in self.value:
            return
        order = list(self.value)
        i = order.index(name)
        j = max(0, min(len(order) - 1, i + step))
        order.insert(j, order.pop(i))
        self.value = tuple(order)
        self.chosen.value = name

    def _add(self, _b: Any) -> None:
        self.add()

    def _remove(self, _b: Any) -> None:
        self.remove()

    def _up(self, _b: Any) -> None:
        self.move(None, +1)

    def _down(self, _b: Any) -> None:
        self.move(None, -1)

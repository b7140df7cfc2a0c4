"""An ordered picker for extensions, usable with the mouse and with the keyboard alone.

Three parts: the extensions of the root (a list), the *extension* box (type a name; it
suggests the extensions as you type), and the stack (a list, top layer first, as the
layer-stack picture draws it). The buttons act on the name in the box: **Add ▸** stacks it on
top, **◂ Remove** takes it off, **▲ Up**/**▼ Down** move it one layer. Clicking a name in
either list puts it into the box.

With the keyboard: Tab to the box, type the name, Tab to a button, Enter. (A typed name, not
arrow keys in a list: in JupyterLab the arrow keys move between notebook cells unless the
focus is in a text field, so a list box cannot be worked with them there.)

:attr:`ExtensionPicker.value` is the ordered tuple of names, bottom layer first; observe it
like any control's ``value``, or set it from code (``picker.value = ["webapp-tls",
"debug-tools"]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]
import traitlets

__all__ = ["ExtensionPicker"]


class ExtensionPicker(widgets.HBox):  # type: ignore[misc]
    """Choose and order extensions. Controls: :attr:`available` and :attr:`chosen` (lists),
    :attr:`name` (the extension the buttons act on), :attr:`add_button`,
    :attr:`remove_button`, :attr:`up_button`, :attr:`down_button`."""

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
        self.name = widgets.Combobox(
            placeholder="type an extension's name",
            ensure_option=True,
            layout=widgets.Layout(width="16em"),
        )
        self.name.add_class("pk-picker-name")
        layout = widgets.Layout(width="7.5em")
        self.add_button = widgets.Button(description="Add ▸", layout=layout)
        self.remove_button = widgets.Button(description="◂ Remove", layout=layout)
        self.up_button = widgets.Button(description="▲ Up", layout=layout)
        self.down_button = widgets.Button(description="▼ Down", layout=layout)
        for what in ("add", "remove", "up", "down"):
            getattr(self, f"{what}_button").add_class(f"pk-picker-{what}")
        # a name picked in either list goes into the box; the buttons say what they act on
        self.available.observe(self._picked, names="value")
        self.chosen.observe(self._picked, names="value")
        self.name.observe(self._named, names="value")
        self.add_button.on_click(lambda _b: self.add())
        self.remove_button.on_click(lambda _b: self.remove())
        self.up_button.on_click(lambda _b: self.move(None, +1))
        self.down_button.on_click(lambda _b: self.move(None, -1))
        self.children = [
            widgets.VBox([widgets.Label("extensions of the root"), self.available]),
            widgets.VBox(
                [
                    widgets.Label("extension"),
                    self.name,
                    widgets.HBox([self.add_button, self.remove_button]),
                    widgets.HBox([self.up_button, self.down_button]),
                ]
            ),
            widgets.VBox([widgets.Label("the stack, top layer first"), self.chosen]),
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

    def current(self) -> str | None:
        """The extension the buttons act on: the name in the box, if it is one."""
        name: str = self.name.value
        return name if name in self.options else None

    def _picked(self, change: Any) -> None:
        if change["new"]:
            self.name.value = change["new"]

    def _named(self, _change: Any = None) -> None:
        name = self.current()
        stacked = name in self.value
        self.add_button.tooltip = (
            f"stack {name} on top" if name and not stacked else "type or pick an extension"
        )
        for button, what in (
            (self.remove_button, "take {} off the stack"),
            (self.up_button, "move {} one layer higher"),
            (self.down_button, "move {} one layer lower"),
        ):
            button.tooltip = what.format(name) if stacked else "type or pick a stacked extension"

    def _sync(self) -> None:
        """Both lists show :attr:`value`, the box offers every extension."""
        if not hasattr(self, "chosen"):
            return
        free = [n for n in self.options if n not in self.value]
        self.name.options = list(self.options)
        picked = self.available.value
        self.available.options = free
        self.available.value = picked if picked in free else None
        mark = self.chosen.value
        self.chosen.options = list(reversed(self.value))
        self.chosen.value = mark if mark in self.value else None
        self.add_button.disabled = not free
        for button in (self.remove_button, self.up_button, self.down_button):
            button.disabled = not self.value
        self._named()

    # -- the buttons (also callable from code) -----------------------------------------------------

    def add(self, name: str | None = None) -> None:
        """Stack ``name`` (default: the one in the box) on top."""
        name = name or self.current()
        if name and name not in self.value:
            self.value = (*self.value, name)

    def remove(self, name: str | None = None) -> None:
        """Take ``name`` (default: the one in the box) off the stack."""
        name = name or self.current()
        if name in self.value:
            self.value = tuple(n for n in self.value if n != name)

    def move(self, name: str | None, step: int) -> None:
        """Move ``name`` (default: the one in the box) ``step`` layers up (+) or down (-)."""
        name = name or self.current()
        if name not in self.value:
            return
        order = list(self.value)
        i = order.index(name)
        j = max(0, min(len(order) - 1, i + step))
        order.insert(j, order.pop(i))
        self.value = tuple(order)

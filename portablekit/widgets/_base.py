"""What every portablekit widget shares: a status area, error capture, observer bookkeeping,
a rescan button, the list of views it promises, and a static twin for pages without a kernel.

A tool is a :class:`ipywidgets.VBox` whose child controls are public attributes. Observers call
the core, render tables into :class:`ipywidgets.HTML` (never an ``Output`` widget: its captured
outputs leak into nbval's comparison) and show a :class:`~portablekit.errors.PortableKitError`
in :attr:`Tool.status` instead of losing it in a callback. ``close()`` detaches the observers.

Each tool names the views it promises in :attr:`Tool.VIEWS`; :meth:`Tool.missing_views` says
which of them are not in its layout (the tests require none). Displayed, a tool carries a
``text/html`` twin of itself (:mod:`._static`) beside the live view.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import ipywidgets as widgets  # type: ignore[import-untyped]

from ..errors import PortableKitError
from ..portabled.host import Host
from ..sandbox import SandboxRoot
from ._static import snapshot

__all__ = ["Tool", "as_host", "scroll_box", "walk"]

#: Tables inside a widget: a readable line height (ipywidgets' HTML views inherit 28 px) and a
#: horizontal scroll bar instead of clipped right-hand columns.
_SCROLL = "overflow-x:auto;max-width:100%;line-height:1.3"


def scroll_box(body: str) -> str:
    """``body`` (a table, a diagram) in a box that scrolls sideways rather than clip it."""
    return f'<div class="pk-scroll" style="{_SCROLL}">{body}</div>' if body else ""


def walk(widget: Any) -> Iterator[Any]:
    """``widget`` and every widget below it (box children, tab pages), depth first."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def as_host(root: SandboxRoot | Host) -> Host:
    """The read-only host of a sandbox root (or the host itself)."""
    return root.host if isinstance(root, SandboxRoot) else root


class Tool(widgets.VBox):  # type: ignore[misc]
    """Base of the portablekit widgets (see the module docstring)."""

    #: Errors a callback shows in the status area instead of raising.
    CAUGHT: tuple[type[BaseException], ...] = (PortableKitError, KeyError, ValueError, OSError)

    #: The views the tool promises (attribute names): each must be in its layout.
    VIEWS: ClassVar[tuple[str, ...]] = ("status",)

    def __init__(self, *, machine_root: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.status = widgets.HTML(value="")
        self.status.add_class("pk-status")
        self._observed: list[tuple[Any, Callable[..., None], str]] = []
        self._clicks: list[tuple[Any, Callable[..., None]]] = []
        self._machine_root = machine_root
        self.add_class("pk-tool")
        self.refresh_button = self._button(
            "↻", lambda: self.refresh(), tooltip="look at the sandbox root again"
        )
        self.refresh_button.layout = widgets.Layout(width="3.5em")
        self.refresh_button.add_class("pk-refresh")

    # -- layout ----------------------------------------------------------------------------------

    def views(self) -> dict[str, Any]:
        """The promised views by name (see :attr:`VIEWS`)."""
        return {name: getattr(self, name) for name in self.VIEWS}

    def missing_views(self) -> list[str]:
        """Promised views that are not in the layout: a learner would never see them."""
        shown = {id(w) for w in walk(self)}
        return [name for name, view in self.views().items() if id(view) not in shown]

    def refresh(self) -> None:
        """Look at the sandbox root again and redraw every view."""

    def _mark_controls(self) -> None:
        """Give each control and view the CSS class ``pk-c-<attribute>``: what a stylesheet
        or a browser test finds it by."""
        for name, value in vars(self).items():
            if isinstance(value, widgets.DOMWidget) and not name.startswith("_"):
                value.add_class(f"pk-c-{name}")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        data: dict[str, Any] | None = super()._repr_mimebundle_(**kwargs)
        if data is not None:
            data["text/html"] = snapshot(self)
        return data

    def _button(
        self, label: str, action: Callable[[], object], *, tooltip: str = "", style: str = ""
    ) -> Any:
        """A button running ``action`` (its errors in the status area)."""
        button = widgets.Button(description=label, tooltip=tooltip, button_style=style)

        def clicked(_b: Any) -> None:
            with self._reporting():
                action()

        button.on_click(clicked)
        self._clicks.append((button, clicked))
        return button

    # -- observers ---------------------------------------------------------------------------

    def _observe(self, control: Any, handler: Callable[..., None], name: str = "value") -> None:
        control.observe(handler, names=name)
        self._observed.append((control, handler, name))

    def close(self) -> None:
        """Detach every observer and close the widget and its children."""
        for control, handler, name in getattr(self, "_observed", ()):
            control.unobserve(handler, names=name)
        self._observed = []
        for button, clicked in getattr(self, "_clicks", ()):
            button.on_click(clicked, remove=True)
        self._clicks = []
        for child in self.children:
            child.close()
        super().close()

    # -- status --------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        """Messages name host paths inside the sandbox, never where it lives on this machine."""
        if self._machine_root:
            text = text.replace(self._machine_root.rstrip("/"), "")
        return text

    def show_error(self, error: BaseException) -> None:
        """Put an error into the status area."""
        msg = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
        self.status.value = (
            '<div class="pk-error" style="color:#b00020;white-space:pre-wrap">'
            f"{html.escape(type(error).__name__)}: {html.escape(self._scrub(str(msg)))}</div>"
        )

    def show_ok(self, text: str = "") -> None:
        """Clear the status area (or show a short note)."""
        self.status.value = (
            f'<div class="pk-ok" style="color:#2d6a2d">{html.escape(text)}</div>' if text else ""
        )

    def show_warning(self, text: str) -> None:
        """A note that something would fail, though nothing failed yet."""
        self.status.value = (
            f'<div class="pk-warning" style="color:#a05a00">{html.escape(self._scrub(text))}</div>'
        )

    def show_html(self, block: str) -> None:
        """Put a ready HTML block (a verdict, a hint) into the status area."""
        self.status.value = self._scrub(block)

    @property
    def message(self) -> str:
        """The status area as plain text (an error or a note), ``""`` when empty."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.status.value))

    @property
    def error(self) -> str:
        """The error text shown in the status area (a failure of the tool, or portabled's
        refusal of an action with its plain words), ``""`` when there is none."""
        if "pk-refused" in self.status.value:
            return self.message
        if "pk-error" not in self.status.value:
            return ""
        return html.unescape(self.status.value.split(">", 1)[1].rsplit("</div>", 1)[0])

    @contextmanager
    def _reporting(self) -> Iterator[None]:
        """Run a callback body; a core error ends up in the status area."""
        try:
            yield
        except self.CAUGHT as e:
            self.show_error(e)

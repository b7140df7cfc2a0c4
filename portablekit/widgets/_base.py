"""What every portablekit widget shares: a status area, error capture, observer bookkeeping.

A tool is a :class:`ipywidgets.VBox` whose child controls are public attributes. Observers call
the core, render tables into :class:`ipywidgets.HTML` (never an ``Output`` widget: its captured
outputs leak into nbval's comparison) and show a :class:`~portablekit.errors.PortableKitError`
in :attr:`Tool.status` instead of losing it in a callback. ``close()`` detaches the observers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from ..errors import PortableKitError
from ..portabled.host import Host
from ..sandbox import SandboxRoot

__all__ = ["Tool", "as_host"]


def as_host(root: SandboxRoot | Host) -> Host:
    """The read-only host of a sandbox root (or the host itself)."""
    return root.host if isinstance(root, SandboxRoot) else root


class Tool(widgets.VBox):  # type: ignore[misc]
    """Base of the portablekit widgets (see the module docstring)."""

    #: Errors a callback shows in the status area instead of raising.
    CAUGHT: tuple[type[BaseException], ...] = (PortableKitError, KeyError, ValueError, OSError)

    def __init__(self, *, machine_root: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.status = widgets.HTML(value="")
        self.status.add_class("pk-status")
        self._observed: list[tuple[Any, Callable[..., None], str]] = []
        self._machine_root = machine_root
        self.add_class("pk-tool")

    # -- observers ---------------------------------------------------------------------------

    def _observe(self, control: Any, handler: Callable[..., None], name: str = "value") -> None:
        control.observe(handler, names=name)
        self._observed.append((control, handler, name))

    def close(self) -> None:
        """Detach every observer and close the widget and its children."""
        for control, handler, name in getattr(self, "_observed", ()):
            control.unobserve(handler, names=name)
        self._observed = []
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

    @property
    def message(self) -> str:
        """The status area as plain text (an error or a note), ``""`` when empty."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.status.value))

    @property
    def error(self) -> str:
        """The error text shown in the status area, ``""`` when there is none."""
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

"""How the core objects show themselves in Jupyter, with no set-up call and no pandas import.

Jupyter asks every object it displays for ``_repr_html_`` (and IPython for ``_repr_pretty_``).
:class:`NotebookDisplay` answers both for the core's values - a
:class:`~portablekit.portabled.dissect.Dissection`, a :class:`~portablekit.portabled.plan.Plan`,
an :class:`~portablekit.osrelease.EnvFile`, an :class:`~portablekit.portabled.image.Image`, a
:class:`~portablekit.check.findings.Finding` and a list of them - by handing the object to
:mod:`portablekit.tables.render`, which draws it as a styled table.

The renderer is imported inside the two methods, when a notebook asks, never when the core is
imported: ``import portablekit`` and the command line stay free of pandas. It is the one place
where the core reaches up to ``tables/``, named as such in ``tests/test_architecture.py``
(``UPWARD_IMPORTS``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["NotebookDisplay"]


class NotebookDisplay:
    """Mixin: Jupyter shows the object as a styled table, IPython prints its text twin."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # IPython prints with the first _repr_pretty_ or __repr__ a class of the MRO defines
        # itself; a dataclass defines __repr__, so the text twin goes beside it
        cls._repr_pretty_ = NotebookDisplay._repr_pretty_  # type: ignore[method-assign]

    def _repr_html_(self) -> str:
        from .tables.render import html_of

        return html_of(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        from .tables.render import text_of

        p.text(text_of(self))

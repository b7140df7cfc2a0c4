"""ImageExplorer: pick an image in a sandbox root; see its os-release, its unit files with the
reason portabled takes or skips each one, and the findings of the image checks.

>>> # ex = ImageExplorer(root); ex.image.value = "webapp_2.1"; ex.units.value  # HTML table
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from ..check import check_host_image
from ..errors import PortabledError
from ..names import derive_prefix
from ..portabled.dissect import (
    Dissection,
    Layer,
    ReleaseClass,
    dissect,
    read_os_release,
    scan_units,
)
from ..portabled.host import Host
from ..portabled.image import discover_images, lookup_image, open_image
from ..sandbox import SandboxRoot
from ..tables import findings_frame, release_frame, units_frame
from ..tables.render import frame_html, styled
from ._base import Tool, as_host

__all__ = ["Checker", "ImageExplorer", "default_checker"]

#: A function returning the findings of the image checks for an image (name) on a host.
Checker = Callable[[Host, str], Iterable[object]]


def default_checker() -> Checker:
    """The image checks of ``portablekit check``: :func:`portablekit.check.check_host_image`."""
    return check_host_image


class ImageExplorer(Tool):
    """Browse the images of a sandbox root as ``portablectl inspect`` sees them.

    Controls: :attr:`image` (which image), :attr:`prefixes` (match prefixes, space-separated;
    empty: derived from the image name as portablectl does; ``-``: every unit file).
    Views: :attr:`summary`, :attr:`release` (os-release keys), :attr:`units` (every unit-file
    entry and why it is or is not attached), :attr:`findings` (image checks), :attr:`status`.
    """

    def __init__(
        self,
        root: SandboxRoot | Host,
        image: str | None = None,
        *,
        checker: Checker | None = None,
    ) -> None:
        self.host = as_host(root)
        super().__init__(machine_root=str(self.host.root))
        self.add_class("pk-image-explorer")
        self.checker = checker if checker is not None else default_checker()
        names = [i.name for i in discover_images(self.host)]
        self.image = widgets.Dropdown(
            options=names,
            value=image if image is not None else (names[0] if names else None),
            description="image",
        )
        self.prefixes = widgets.Text(
            value="", description="prefixes", placeholder="derived from the image name"
        )
        self.summary = widgets.HTML()
        self.release = widgets.HTML()
        self.units = widgets.HTML()
        self.units.add_class("pk-units")
        self.findings = widgets.HTML()
        self.dissection: Dissection | None = None
        self.children = [
            widgets.HBox([self.image, self.prefixes]),
            self.status,
            self.summary,
            widgets.HTML("<b>os-release</b>"),
            self.release,
            widgets.HTML("<b>unit files: matched, or why not</b>"),
            self.units,
            widgets.HTML("<b>image checks</b>"),
            self.findings,
        ]
        self._observe(self.image, self._changed)
        self._observe(self.prefixes, self._changed)
        self.refresh()

    def __repr__(self) -> str:
        return f"ImageExplorer(image={self.image.value!r})"

    def _changed(self, _change: Any = None) -> None:
        self.refresh()

    def matches(self) -> list[str]:
        """The prefixes in force: typed ones, or the one portablectl derives from the name."""
        words = self.prefixes.value.split()
        if words == ["-"]:
            return []
        return words or [derive_prefix(self.image.value, self.host.systemd)]

    def refresh(self) -> None:
        """Dissect the chosen image and render every view."""
        self.show_ok()
        self.dissection = None
        for view in (self.summary, self.release, self.units, self.findings):
            view.value = ""
        if not self.image.value:
            self.show_ok("no images in this sandbox root")
            return
        with self._reporting():
            matches = self.matches()
            try:
                d = dissect(self.host, self.image.value, matches=matches, attach=False)
            except PortabledError as e:
                d = self._partial(matches)
                self.show_error(e)
            self.dissection = d
            self._render(d)
        self._render_findings()

    def _partial(self, matches: list[str]) -> Dissection:
        """What can still be shown when portabled refuses: the release file and every
        unit-file entry with its reason."""
        img = lookup_image(self.host, self.image.value)
        src = open_image(self.host, img)
        osr = read_os_release(src, self.host.systemd)
        units, candidates = scan_units(src, matches)
        release, path = osr if osr is not None else (None, "")
        cls = ReleaseClass.OS if osr is not None else None
        layer = Layer(img, src, release, cls, path)
        return Dissection(layer, (), tuple(units), tuple(candidates), tuple(matches))

    def _render(self, d: Dissection) -> None:
        rel = d.base.release
        if rel is None:
            pretty = "no os-release"
        else:
            pretty = rel.get("PORTABLE_PRETTY_NAME") or rel.get("PRETTY_NAME") or "no pretty name"
        taken = sum(1 for c in d.candidates if c.reason is None)
        self.summary.value = (
            f"<p><code>{d.base.image.path}</code> ({d.base.image.kind}) — "
            f"{html.escape(pretty)} — prefixes {', '.join(d.matches) or '(all)'}: "
            f"{taken} unit files attached, {len(d.candidates) - taken} skipped</p>"
        )
        if rel is not None:
            frame = release_frame(rel)[["key", "value"]]
            self.release.value = frame_html(frame, "explorer_release", caption=d.base.release_path)
        else:
            self.release.value = "<p><i>no os-release: portabled refuses this image</i></p>"
        units = units_frame(d)[["unit", "type", "path", "matched", "status"]]
        self.units.value = frame_html(units, "explorer_units")

    def _render_findings(self) -> None:
        if self.checker is None:
            self.findings.value = "<p><i>image checks not installed</i></p>"
            return
        try:
            found = list(self.checker(self.host, self.image.value))
        except Exception as e:  # a plug-in: its failure must not take the explorer down
            self.findings.value = (
                f"<p><i>the image checks failed: {html.escape(self._scrub(str(e)))}</i></p>"
            )
            return
        if not found:
            self.findings.value = "<p>no findings</p>"
            return
        # one image is shown: its name would repeat on every row
        frame = findings_frame(found).drop(columns=["image"])
        wide = {"min-width": "24em", "white-space": "normal"}
        st = styled(frame, "explorer_findings").set_properties(
            subset=["message", "fix", "portabled_message"], **wide
        )
        self.findings.value = frame_html(st)

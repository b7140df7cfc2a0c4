"""ImageExplorer: pick an image in a sandbox root; see its os-release, its unit files with the
reason portabled takes or skips each one, whether ``attach`` would take it, and the findings
of the image checks.

>>> # ex = ImageExplorer(root); ex.image.value = "webapp_2.1"; ex.units.value  # HTML table
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from ..check import Finding, check_host_image
from ..errors import PortabledError, PortableKitError
from ..names import derive_prefix
from ..portabled.attach import plan_attach
from ..portabled.dissect import (
    Dissection,
    Layer,
    ReleaseClass,
    dissect,
    find_extension_release,
    read_os_release,
    scan_units,
)
from ..portabled.host import Host
from ..portabled.image import lookup_image, open_image
from ..sandbox import SandboxRoot
from ..tables import findings_frame, release_frame, units_frame
from ..tables.render import frame_html, styled
from ._base import Tool, as_host, scroll_box
from ._catalog import Catalog, keep_choice
from ._verdict import Verdict, attach_verdict

__all__ = ["Checker", "ImageExplorer", "default_checker"]

#: The image checks: called as ``checker(host, image, matches=..., extensions=...)`` (the
#: prefixes in force, and the extensions an extension is checked with), returning findings.
Checker = Callable[..., Iterable[object]]


def default_checker() -> Checker:
    """The image checks of ``portablekit check``: :func:`portablekit.check.check_host_image`."""
    return check_host_image


class ImageExplorer(Tool):
    """Browse the images of a sandbox root as ``portablectl inspect`` sees them, and what
    ``attach`` would make of them.

    Controls: :attr:`image` (which image), :attr:`prefixes` (match prefixes, space-separated;
    empty: derived from the image name as portablectl does; ``-``: every unit file),
    :attr:`refresh_button` (look at the root again). Views: :attr:`status`, :attr:`verdict`
    (would attach take it; if not, portabled's message and the plain words), :attr:`summary`,
    :attr:`release` (os-release keys), :attr:`units` (every unit-file entry and why it is or is
    not attached), :attr:`findings` (image checks).

    An extension is shown as one: its release file, its unit files, and how it fares stacked on
    a base of the root.
    """

    VIEWS = ("status", "verdict", "summary", "release", "units", "findings")

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
        self.catalog = Catalog.scan(self.host)
        names = list(self.catalog.images)
        self.image = widgets.Dropdown(
            options=names,
            value=image if image is not None else self.catalog.default_base(),
            description="image",
        )
        self.prefixes = widgets.Text(
            value="", description="prefixes", placeholder="derived from the image name"
        )
        self.verdict = widgets.HTML()
        self.verdict.add_class("pk-verdict-view")
        self.summary = widgets.HTML()
        self.release = widgets.HTML()
        self.units = widgets.HTML()
        self.units.add_class("pk-units")
        self.findings = widgets.HTML()
        self.findings.add_class("pk-findings")
        self.dissection: Dissection | None = None
        self.last_verdict: Verdict | None = None
        self._releases: dict[tuple[str, bytes], str] = {}
        self.children = [
            widgets.HBox([self.image, self.prefixes, self.refresh_button]),
            self.status,
            self.verdict,
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
        self._render()
        self._mark_controls()

    def __repr__(self) -> str:
        return f"ImageExplorer(image={self.image.value!r})"

    def _changed(self, _change: Any = None) -> None:
        self._render()

    def matches(self) -> list[str]:
        """The prefixes in force: typed ones, or the one portablectl derives from the name."""
        words = self.prefixes.value.split()
        if words == ["-"]:
            return []
        return words or [derive_prefix(self.image.value, self.host.systemd)]

    def refresh(self) -> None:
        """Look at the root again (new images, a changed state) and render every view."""
        self.catalog = Catalog.scan(self.host)
        self._releases.clear()
        names = list(self.catalog.images)
        value = keep_choice(names, self.image.value, self.catalog.default_base())
        with self.hold_trait_notifications():
            self.image.options = names
            self.image.value = value
        self._render()

    # -- views ---------------------------------------------------------------------------------

    def _render(self) -> None:
        self.show_ok()
        self.dissection = None
        self.last_verdict = None
        for view in (self.verdict, self.summary, self.release, self.units, self.findings):
            view.value = ""
        name = self.image.value
        if not name:
            self.show_ok("no images in this sandbox root")
            return
        with self._reporting():
            if self.catalog.is_extension(name):
                self._render_extension(name)
            else:
                self._render_base(name)

    def _render_base(self, name: str) -> None:
        matches = self.matches()
        found = self._check(name, matches)
        verdict = attach_verdict(
            self.host,
            name,
            matches=matches,
            image_path=self.catalog.paths.get(name),
            checked=None if found is None else [f for f in found if isinstance(f, Finding)],
        )
        self.last_verdict = verdict
        self.verdict.value = self._scrub(verdict.html())
        try:
            # attach read the image already when it got as far as the units: reuse that
            d = verdict.plan.dissection or dissect(self.host, name, matches=matches, attach=False)
        except PortabledError as e:
            d = self._partial(name, matches)
            if e.message != verdict.message:  # else the verdict says it already
                self.show_error(e)
        self.dissection = d
        rel = d.base.release
        taken = sum(1 for c in d.candidates if c.reason is None)
        skipped = len(d.candidates) - taken
        if verdict.ok:
            what = f"attach takes {_files(taken)}, skips {skipped}"
        else:
            what = f"attach refuses (see above); {_files(taken)} match the prefixes, {skipped} not"
        self.summary.value = self._line(d.base, rel, matches, what)
        self._render_release(d.base)
        units = units_frame(d)[["unit", "type", "path", "matched", "status"]]
        self.units.value = scroll_box(frame_html(units, "explorer_units"))
        self._render_findings(found)

    def _render_extension(self, name: str) -> None:
        img = lookup_image(self.host, name)
        src = open_image(self.host, img)
        cls = self.catalog.release_class.get(name, "")
        kind = f"({cls})" if cls else "(its extension-release file is not usable)"
        base = self._base_for(name)
        self.show_html(
            '<div class="pk-note" style="color:#1f4e79">'
            f"<b>{html.escape(name)} is an extension {html.escape(kind)}</b>, not an image "
            "to attach on its own: portabled lays it over a base image. Stack it on a base in "
            "LayerBuilder, or <code>portablectl attach BASE --extension "
            f"{html.escape(name)}</code>.</div>"
        )
        found = None
        if base is not None:
            verdict = attach_verdict(
                self.host, base, extensions=[name], image_path=self.catalog.paths.get(base)
            )
            self.last_verdict = verdict
            self.verdict.value = self._scrub(verdict.html(f"attach {base} --extension {name}"))
            found = self._check(base, None, extensions=[name], only=str(img.path))
        units, candidates = scan_units(src, [])
        try:
            ext_release = find_extension_release(src, img.file_name, self.host.systemd)
        except PortableKitError:
            ext_release = None  # the findings say why
        layer = Layer(img, src, ext_release[0] if ext_release else None, None)
        d = Dissection(layer, (), tuple(units), tuple(candidates), ())
        self.dissection = d
        brings = ", ".join(u.name for u in units) or "no unit files"
        self.summary.value = self._line(
            layer, layer.release, [], f"{cls or 'an'} extension; it brings {brings}", kind="ext"
        )
        self._render_release(layer, what="extension-release")
        frame = units_frame(d)[["unit", "type", "path"]]
        self.units.value = scroll_box(
            frame_html(
                frame, "explorer_units", caption="which of them attach: the base's prefixes decide"
            )
        )
        self._render_findings(found, caption=f"checked as an extension of {base}" if base else "")

    def _base_for(self, extension: str) -> str | None:
        """A base to show an extension on: the first attachable one it fits, else the first."""
        for base in self.catalog.attachable:
            if plan_attach(self.host, base, extensions=[extension]).ok:
                return base
        return self.catalog.default_base()

    def _line(
        self, layer: Layer, rel: Any, matches: Sequence[str], what: str, kind: str = ""
    ) -> str:
        if rel is None:
            pretty = "no release file"
        else:
            pretty = rel.get("PORTABLE_PRETTY_NAME") or rel.get("PRETTY_NAME") or "—"
        prefixes = f" — prefixes {', '.join(matches) or '(all)'}" if not kind else ""
        return (
            f"<p><code>{layer.image.path}</code> ({layer.image.kind}) — {html.escape(pretty)}"
            f"{prefixes}: {html.escape(what)}</p>"
        )

    def _render_release(self, layer: Layer, what: str = "os-release") -> None:
        if layer.release is not None:
            key = (layer.release_path, layer.release.raw)
            if key not in self._releases:  # the same file while only the prefixes change
                frame = release_frame(layer.release)[["key", "value"]]
                self._releases[key] = scroll_box(
                    frame_html(frame, "explorer_release", caption=layer.release_path)
                )
            self.release.value = self._releases[key]
        else:
            self.release.value = f"<p><i>no {what}: portabled refuses this image</i></p>"

    def _partial(self, name: str, matches: list[str]) -> Dissection:
        """What can still be shown when portabled refuses: the release file and every
        unit-file entry with its reason."""
        img = lookup_image(self.host, name)
        src = open_image(self.host, img)
        osr = read_os_release(src, self.host.systemd)
        units, candidates = scan_units(src, matches)
        release, path = osr if osr is not None else (None, "")
        cls = ReleaseClass.OS if osr is not None else None
        layer = Layer(img, src, release, cls, path)
        return Dissection(layer, (), tuple(units), tuple(candidates), tuple(matches))

    def _check(
        self,
        name: str,
        matches: Sequence[str] | None,
        extensions: Sequence[str] = (),
        only: str = "",
    ) -> list[object] | None:
        """The checker's findings (``only``: of that image path); ``None`` if it failed."""
        try:
            found = list(self.checker(self.host, name, matches=matches, extensions=extensions))
        except Exception as e:  # a plug-in: its failure must not take the explorer down
            self.findings.value = (
                f"<p><i>the image checks failed: {html.escape(self._scrub(str(e)))}</i></p>"
            )
            return None
        if only:
            found = [f for f in found if getattr(f, "image", only) == only]
        return found

    def _render_findings(self, found: list[object] | None, caption: str = "") -> None:
        if found is None:
            return
        if not found:
            self.findings.value = "<p>no findings</p>"
            return
        # one image is shown: its name would repeat on every row
        frame = findings_frame(found).drop(columns=["image"])
        wide = {"min-width": "24em", "white-space": "normal"}
        st = (
            styled(frame, "explorer_findings", caption=caption or None)
            .set_properties(subset=["message", "fix", "portabled_message"], **wide)
            .set_properties(subset=["severity", "rule"], **{"white-space": "nowrap"})
        )
        self.findings.value = scroll_box(frame_html(st))


def _files(n: int) -> str:
    return f"{n} unit file{'' if n == 1 else 's'}"

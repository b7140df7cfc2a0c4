"""ProfileComparer: two or more security profiles side by side, for one systemd version.

The matrix says what each profile's ``service.conf`` sets (a heat map: dark where profiles
disagree); the scores say what ``systemd-analyze security`` makes of a unit attached with each
profile - a unit of an image in the sandbox root, a sample unit, or a unit you type - and the
checks table which of its security checks tell the profiles apart.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from ..errors import PortableKitError
from ..names import derive_prefix
from ..portabled.dissect import dissect
from ..portabled.host import Host
from ..portabled.profiles import BUILTIN_PROFILES, list_profiles
from ..samples import BASE_SAMPLES, sample_source
from ..sandbox import SandboxRoot
from ..tables import profile_checks_frame, profile_matrix_frame, scores_frame
from ..tables.render import frame_html, profile_heatmap
from ..versions import Systemd
from ._base import Tool, as_host, scroll_box
from ._catalog import Catalog, keep_choice

__all__ = ["OWN_UNIT", "ProfileComparer", "root_units", "sample_units"]

#: The choice of :attr:`ProfileComparer.unit` that scores the text typed in ``unit_text``.
OWN_UNIT = "your own unit (type it below)"

_EXAMPLE = "[Service]\nExecStart=/usr/bin/myapp\nDynamicUser=yes\n"


def sample_units() -> dict[str, tuple[str, str]]:
    """``"image: unit" → (unit name, unit text)`` for every service portablectl attaches from
    the base samples (with the prefix it derives from the image name)."""
    out: dict[str, tuple[str, str]] = {}
    for name in BASE_SAMPLES:
        src = sample_source(name)
        prefix = derive_prefix(name)
        for p in sorted(src.iterdir("/usr/lib/systemd/system")):
            stem = p.name.removesuffix(".service")
            if (
                p.name.endswith(".service")
                and src.is_file(p)
                and (stem == prefix or stem.startswith((f"{prefix}-", f"{prefix}@")))
            ):
                out[f"{name}: {p.name}"] = (p.name, src.read_file(p).decode())
    return out


def root_units(host: Host, catalog: Catalog | None = None) -> dict[str, tuple[str, str]]:
    """``"image: unit" → (unit name, unit text)`` for every service ``attach`` takes from
    the attachable images of a root (custom images included)."""
    catalog = catalog or Catalog.scan(host)
    out: dict[str, tuple[str, str]] = {}
    for name in catalog.attachable:
        try:
            d = dissect(host, name, attach=False)
        except PortableKitError:
            continue
        for u in d.units:
            if u.type == "service":
                out[f"{name}: {u.name}"] = (u.name, u.text)
    return out


class ProfileComparer(Tool):
    """Compare profiles: :attr:`profiles` (two or more), :attr:`systemd` (the version of the
    built-in profiles), :attr:`only_differences`, :attr:`unit` (the unit to score: a unit of
    an image of the root, a sample unit without a root, or :data:`OWN_UNIT`), :attr:`unit_name`
    and :attr:`unit_text` (your own unit), :attr:`refresh_button`. Views: :attr:`status`,
    :attr:`matrix` (directive × profile heat map), :attr:`scores` (exposure per profile),
    :attr:`checks` (the security checks whose badness differs between the profiles).

    With a sandbox root, the profiles are the ones portabled finds there (custom ones in
    ``/etc/systemd/portable/profile`` included) and the version is the root's. ``unit_text``
    (and ``unit_name``) start the comparer on your own unit.
    """

    VIEWS = ("status", "matrix", "scores", "checks")

    def __init__(
        self,
        root: SandboxRoot | Host | None = None,
        profiles: tuple[str, ...] = ("default", "strict"),
        systemd: Systemd = Systemd(),
        *,
        unit_text: str | None = None,
        unit_name: str = "myapp.service",
    ) -> None:
        self.host = as_host(root) if root is not None else None
        super().__init__(machine_root=str(self.host.root) if self.host is not None else "")
        self.add_class("pk-profile-comparer")
        options = list_profiles(self.host) if self.host is not None else list(BUILTIN_PROFILES)
        if self.host is not None:
            systemd = self.host.systemd
        self.profiles = widgets.SelectMultiple(
            options=options,
            value=tuple(p for p in profiles if p in options),
            description="profiles",
            rows=min(6, max(2, len(options))),
        )
        self.systemd = widgets.Dropdown(
            options=[(str(s.version), s) for s in Systemd.supported(fixed=systemd.fixed)],
            value=systemd,
            description="systemd",
            disabled=self.host is not None,
        )
        self.only_differences = widgets.Checkbox(value=False, description="only differences")
        self.units_by_label = self._units()
        labels = [*self.units_by_label, OWN_UNIT]
        self.unit = widgets.Dropdown(
            options=labels,
            value=OWN_UNIT if unit_text is not None else labels[0],
            description="score unit",
            layout=widgets.Layout(width="26em"),
        )
        self.unit_name = widgets.Text(value=unit_name, description="unit name")
        self.unit_text = widgets.Textarea(
            value=unit_text if unit_text is not None else _EXAMPLE,
            description="unit file",
            rows=6,
            layout=widgets.Layout(width="40em"),
        )
        self.own = widgets.VBox([self.unit_name, self.unit_text])
        self.own.add_class("pk-own-unit")
        self.matrix = widgets.HTML()
        self.matrix.add_class("pk-matrix")
        self.scores = widgets.HTML()
        self.scores.add_class("pk-scores")
        self.checks = widgets.HTML()
        self.checks.add_class("pk-checks")
        self.children = [
            widgets.HBox(
                [
                    self.profiles,
                    widgets.VBox([self.systemd, self.only_differences, self.unit]),
                    self.refresh_button,
                ]
            ),
            self.own,
            self.status,
            self.matrix,
            self.scores,
            self.checks,
        ]
        for control in (self.profiles, self.systemd, self.only_differences, self.unit):
            self._observe(control, self._changed)
        for control in (self.unit_name, self.unit_text):
            self._observe(control, self._changed)
        self._render()
        self._mark_controls()

    def __repr__(self) -> str:
        version = self.systemd.value.version
        return f"ProfileComparer(profiles={self.profiles.value!r}, version={version})"

    def _units(self) -> dict[str, tuple[str, str]]:
        if self.host is None:
            return sample_units()
        return root_units(self.host) or sample_units()

    def _changed(self, _change: Any = None) -> None:
        self._render()

    def scored_unit(self) -> tuple[str, str]:
        """``(unit name, unit text)`` of the unit being scored."""
        if self.unit.value == OWN_UNIT:
            return self.unit_name.value.strip(), self.unit_text.value
        return self.units_by_label[self.unit.value]

    def refresh(self) -> None:
        """Look at the root again (new profiles, new images' units) and redraw."""
        if self.host is not None:
            options = list_profiles(self.host)
            self.units_by_label = self._units()
            labels = [*self.units_by_label, OWN_UNIT]
            with self.hold_trait_notifications():
                chosen = tuple(p for p in self.profiles.value if p in options)
                self.profiles.options = options
                self.profiles.value = chosen
                self.profiles.rows = min(6, max(2, len(options)))
                value = keep_choice(labels, self.unit.value, labels[0])
                self.unit.options = labels
                self.unit.value = value
        self._render()

    def _render(self) -> None:
        """Recompute the matrix, the scores and the checks that differ."""
        self.show_ok()
        self.own.layout.display = "" if self.unit.value == OWN_UNIT else "none"
        self.matrix.value = self.scores.value = self.checks.value = ""
        chosen = list(self.profiles.value)
        if len(chosen) < 2:
            self.show_ok("choose two or more profiles")
            return
        with self._reporting():
            m = profile_matrix_frame(
                chosen,
                self.systemd.value,
                host=self.host,
                only_differences=self.only_differences.value,
            )
            self.matrix.value = scroll_box(frame_html(profile_heatmap(m, "comparer_matrix")))
            self._render_scores(chosen)

    def _render_scores(self, chosen: list[str]) -> None:
        name, text = self.scored_unit()
        if not name.endswith(".service"):
            self.show_ok("name your unit NAME.service to score it")
            return
        systemd = self.systemd.value
        s = scores_frame(text, name, chosen, systemd, host=self.host)
        self.scores.value = scroll_box(
            frame_html(
                s[["profile", "exposure", "level"]],
                "comparer_scores",
                caption=f"systemd-analyze security {name}, attached with each profile",
            )
        )
        checks = profile_checks_frame(
            chosen, text, name, systemd, host=self.host, only_differences=True
        )
        self.checks.value = scroll_box(
            frame_html(
                checks.drop(columns=["json_field"], errors="ignore"),
                "comparer_checks",
                caption="checks whose badness differs between the profiles (0 = fine)",
            )
            if len(checks)
            else "<p><i>no security check tells these profiles apart for this unit</i></p>"
        )

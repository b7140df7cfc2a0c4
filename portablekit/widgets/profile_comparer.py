"""ProfileComparer: two or more security profiles side by side, for one systemd version.

The matrix says what each profile's ``service.conf`` sets (a heat map: dark where profiles
disagree); the scores say what ``systemd-analyze security`` makes of a sample unit attached
with each profile, and which of its checks tell the profiles apart.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from ..portabled.host import Host
from ..portabled.profiles import BUILTIN_PROFILES, list_profiles
from ..samples import BASE_SAMPLES, sample_source
from ..sandbox import SandboxRoot
from ..tables import profile_checks_frame, profile_matrix_frame, scores_frame
from ..tables.render import frame_html, profile_heatmap
from ..versions import Systemd
from ._base import Tool, as_host

__all__ = ["ProfileComparer", "sample_units"]


def sample_units() -> dict[str, tuple[str, str]]:
    """``"image: unit" → (unit name, unit text)`` for every service of the base samples."""
    out: dict[str, tuple[str, str]] = {}
    for name in BASE_SAMPLES:
        src = sample_source(name)
        for p in sorted(src.iterdir("/usr/lib/systemd/system")):
            if p.name.endswith(".service") and src.is_file(p):
                out[f"{name}: {p.name}"] = (p.name, src.read_file(p).decode())
    return out


class ProfileComparer(Tool):
    """Compare profiles: :attr:`profiles` (two or more), :attr:`systemd` (the version of the
    built-in profiles), :attr:`only_differences`, :attr:`unit` (sample unit to score).
    Views: :attr:`matrix` (directive × profile heat map), :attr:`scores` (exposure per
    profile), :attr:`checks` (the security checks that differ), :attr:`status`.

    With a sandbox root, the profiles are the ones portabled finds there (custom ones in
    ``/etc/systemd/portable/profile`` included) and the version is the root's.
    """

    def __init__(
        self,
        root: SandboxRoot | Host | None = None,
        profiles: tuple[str, ...] = ("default", "strict"),
        systemd: Systemd = Systemd(),
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
        self.units_by_label = sample_units()
        self.unit = widgets.Dropdown(
            options=list(self.units_by_label), value=None, description="score unit"
        )
        if self.units_by_label:
            self.unit.value = next(iter(self.units_by_label))
        self.matrix = widgets.HTML()
        self.matrix.add_class("pk-matrix")
        self.scores = widgets.HTML()
        self.checks = widgets.HTML()
        self.children = [
            widgets.HBox(
                [
                    self.profiles,
                    widgets.VBox([self.systemd, self.only_differences, self.unit]),
                ]
            ),
            self.status,
            self.matrix,
            self.scores,
        ]
        for control in (self.profiles, self.systemd, self.only_differences, self.unit):
            self._observe(control, self._changed)
        self.refresh()

    def __repr__(self) -> str:
        version = self.systemd.value.version
        return f"ProfileComparer(profiles={self.profiles.value!r}, version={version})"

    def _changed(self, _change: Any = None) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Recompute the matrix and the scores."""
        self.show_ok()
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
            self.matrix.value = frame_html(profile_heatmap(m, "comparer_matrix"))
            self._render_scores(chosen)

    def _render_scores(self, chosen: list[str]) -> None:
        if self.unit.value is None:
            return
        name, text = self.units_by_label[self.unit.value]
        systemd = self.systemd.value
        s = scores_frame(text, name, chosen, systemd, host=self.host)
        self.scores.value = frame_html(
            s[["profile", "exposure", "level"]],
            "comparer_scores",
            caption=f"systemd-analyze security {name}, attached with each profile",
        )
        checks = profile_checks_frame(
            chosen, text, name, systemd, host=self.host, only_differences=True
        )
        self.checks.value = frame_html(
            checks.drop(columns=["json_field"]),
            "comparer_checks",
            caption="checks whose badness differs between the profiles (0 = fine)",
        )

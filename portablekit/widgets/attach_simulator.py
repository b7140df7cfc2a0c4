"""AttachSimulator: choose image, extensions, profile, ``--copy`` and ``--runtime``; see the
plan portabled would carry out; press Attach or Detach to apply it to the sandbox root and
see the resulting tree and unit states.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from ..names import derive_prefix
from ..portabled.attach import plan_attach, plan_detach
from ..portabled.host import Host
from ..portabled.image import lookup_image
from ..portabled.plan import Plan
from ..portabled.profiles import list_profiles
from ..portabled.state import image_state
from ..sandbox import SandboxRoot
from ..tables import changes_frame, images_frame, plan_frame, sandbox_frame, tree_frame
from ..tables.render import frame_html
from ._base import Tool

__all__ = ["AttachSimulator"]


class AttachSimulator(Tool):
    """Plan and apply attach/detach in a sandbox root.

    Controls: :attr:`image`, :attr:`extensions` (ordered), :attr:`profile`, :attr:`copy`,
    :attr:`runtime`, and the buttons :attr:`attach_button` / :attr:`detach_button`.
    Views: :attr:`plan` (the attach plan, a dry run), :attr:`changes` (what portablectl prints),
    :attr:`tree` (the attached directories and image links), :attr:`states` (attached units and
    what the service manager says), :attr:`state` (``is-attached`` of the image),
    :attr:`status`.
    """

    def __init__(
        self,
        root: SandboxRoot,
        image: str | None = None,
        *,
        profile: str = "default",
    ) -> None:
        self.root = root
        super().__init__(machine_root=str(root.path))
        self.add_class("pk-attach-simulator")
        host = self.host
        imgs = images_frame(host)
        bases = imgs.loc[imgs["release"] == "os-release", "name"].tolist()
        # extensions: everything that is not a base image (also those lacking release data, so
        # portabled's refusal can be seen)
        exts = imgs.loc[imgs["release"].ne("os-release").fillna(True), "name"].tolist()
        profiles = list_profiles(host)
        self.image = widgets.Dropdown(
            options=bases,
            value=image if image is not None else (bases[0] if bases else None),
            description="image",
        )
        self.extensions = widgets.TagsInput(value=[], allowed_tags=exts, allow_duplicates=False)
        self.profile = widgets.Dropdown(
            options=profiles,
            value=profile if profile in profiles else (profiles[0] if profiles else None),
            description="profile",
        )
        self.copy = widgets.Dropdown(
            options=list(host.systemd.copy_modes), value="auto", description="--copy"
        )
        self.runtime = widgets.Checkbox(value=False, description="--runtime")
        self.attach_button = widgets.Button(description="Attach", button_style="primary")
        self.detach_button = widgets.Button(description="Detach", button_style="warning")
        self.state = widgets.HTML()
        self.state.add_class("pk-state")
        self.plan = widgets.HTML()
        self.plan.add_class("pk-plan")
        self.changes = widgets.HTML()
        self.tree = widgets.HTML()
        self.tree.add_class("pk-tree")
        self.states = widgets.HTML()
        self.last_plan: Plan | None = None
        self.children = [
            widgets.HBox([self.image, self.profile, self.copy, self.runtime]),
            widgets.HBox([widgets.Label("extensions"), self.extensions]),
            widgets.HBox([self.attach_button, self.detach_button, self.state]),
            self.status,
            widgets.HTML("<b>attach plan (dry run)</b>"),
            self.plan,
            self.changes,
            widgets.HTML("<b>the sandbox root now</b>"),
            self.tree,
            self.states,
        ]
        for control in (self.image, self.extensions, self.profile, self.copy, self.runtime):
            self._observe(control, self._changed)
        self.attach_button.on_click(self._attach_clicked)
        self.detach_button.on_click(self._detach_clicked)
        self.refresh()

    @property
    def host(self) -> Host:
        """A fresh read-only view of the root (it changes when a plan is applied)."""
        return self.root.host

    def __repr__(self) -> str:
        return (
            f"AttachSimulator(image={self.image.value!r}, profile={self.profile.value!r}, "
            f"copy={self.copy.value!r}, runtime={self.runtime.value})"
        )

    def close(self) -> None:
        """Detach the button handlers too."""
        self.attach_button.on_click(self._attach_clicked, remove=True)
        self.detach_button.on_click(self._detach_clicked, remove=True)
        super().close()

    def _changed(self, _change: Any = None) -> None:
        self.refresh()

    # -- plans -----------------------------------------------------------------------------------

    def attach_plan(self) -> Plan:
        """The plan of ``portablectl attach`` with the chosen options."""
        host = self.host
        return plan_attach(
            host,
            self.image.value,
            matches=[derive_prefix(self.image.value, host.systemd)],
            extensions=list(self.extensions.value),
            profile=self.profile.value,
            runtime=self.runtime.value,
            copy=self.copy.value,
        )

    def image_path(self) -> str:
        """The chosen image's path. Detach and ``is-attached`` are asked by path: given a bare
        name, systemd 256–259 match every attached image (systemd#39058)."""
        return str(lookup_image(self.host, self.image.value).path)

    def detach_plan(self) -> Plan:
        """The plan of ``portablectl detach IMAGE-PATH`` with the chosen options."""
        host = self.host
        return plan_detach(
            host,
            self.image_path(),
            extensions=[str(lookup_image(host, e).path) for e in self.extensions.value],
            runtime=self.runtime.value,
        )

    # -- actions ---------------------------------------------------------------------------------

    def attach(self) -> Plan:
        """Apply the attach plan (what the Attach button does). Returns the plan."""
        return self._apply(self.attach_plan(), "attached")

    def detach(self) -> Plan:
        """Apply the detach plan (what the Detach button does). Returns the plan."""
        return self._apply(self.detach_plan(), "detached")

    def _apply(self, plan: Plan, done: str) -> Plan:
        self.last_plan = plan
        self.show_ok()
        with self._reporting():
            self.root.apply(plan)
        self.refresh(keep_status=True)
        if plan.error is not None:
            self.show_error(plan.error)
        elif not self.error:
            self.show_ok(f"{self.image.value} {done}: {len(plan.ops)} file operations")
        return plan

    def _attach_clicked(self, _button: Any) -> None:
        self.attach()

    def _detach_clicked(self, _button: Any) -> None:
        self.detach()

    # -- views -----------------------------------------------------------------------------------

    def refresh(self, keep_status: bool = False) -> None:
        """Recompute the dry-run plan and show the root's tree and states."""
        if not keep_status:
            self.show_ok()
        self.plan.value = self.changes.value = ""
        if not self.image.value:
            self.show_ok("no base images in this sandbox root")
            return
        with self._reporting():
            plan = self.attach_plan()
            if plan.error is not None:
                self.plan.value = (
                    '<p class="pk-refused">attach would fail: '
                    f"<code>{plan.error.message}</code></p>"
                )
            if plan.ops:
                self.plan.value += frame_html(plan_frame(plan), "simulator_plan")
                lines = changes_frame(plan)[["line"]]
                self.changes.value = frame_html(
                    lines, "simulator_changes", caption="what portablectl prints"
                )
        self._render_root()

    def _render_root(self) -> None:
        host = self.host
        with self._reporting():
            st = image_state(host, self.image_path())
            self.state.value = f"<code>is-attached {self.image_path()}</code>: <b>{st}</b>"
            tree = tree_frame(host)
            self.tree.value = (
                frame_html(tree, "simulator_tree")
                if len(tree)
                else "<p><i>nothing attached: the attached directories do not exist</i></p>"
            )
            units = sandbox_frame(host)
            self.states.value = (
                frame_html(units, "simulator_states", caption="attached units")
                if len(units)
                else ""
            )

"""AttachSimulator: the whole lifecycle of a portable service in a sandbox root.

Choose image, extensions, profile, ``--copy``, ``--runtime``, ``--enable`` and ``--now``; see
what Attach would do now (a dry run, with portabled's verdict); press Attach, Reattach or
Detach to carry it out, and see the resulting tree and unit states. Every refusal is shown
with portabled's exact message and, beside it, what it means in plain words (the image
checks' explanation, or a hint about the host's state: attached already, attached in the
other place, a unit running).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from ..errors import PortabledError
from ..names import derive_prefix
from ..portabled.attach import (
    plan_attach,
    plan_detach,
    plan_disable,
    plan_enable,
    plan_reattach,
    plan_start,
    plan_stop,
    units_in,
)
from ..portabled.dissect import dissect
from ..portabled.host import Host, attached_dir
from ..portabled.plan import Plan
from ..portabled.state import ImageState, image_state
from ..sandbox import SandboxRoot
from ..tables import changes_frame, plan_frame, sandbox_frame, tree_frame
from ..tables.render import frame_html
from ._base import Tool, scroll_box
from ._catalog import Catalog, keep_choice
from ._picker import ExtensionPicker
from ._verdict import Verdict, attach_verdict, explaining_findings, explanation_html, lifecycle_hint

__all__ = ["AttachSimulator"]


class AttachSimulator(Tool):
    """Plan and apply attach, reattach and detach in a sandbox root.

    Controls: :attr:`image`, :attr:`extensions` (ordered picker), :attr:`profile`,
    :attr:`copy`, :attr:`runtime`, :attr:`enable`, :attr:`now`, and the buttons
    :attr:`attach_button`, :attr:`reattach_button`, :attr:`detach_button`,
    :attr:`refresh_button`. Views: :attr:`status` (what the last action did, or why portabled
    refused it), :attr:`command` (the portablectl command line each button runs),
    :attr:`state` (``is-attached`` of the image), :attr:`verdict` (would Attach
    succeed now), :attr:`plan` (its operations, a dry run), :attr:`changes` (what portablectl
    prints), :attr:`tree` (the attached directories and image links), :attr:`states`
    (attached units and what the service manager says).
    """

    VIEWS = ("status", "command", "state", "verdict", "plan", "changes", "tree", "states")

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
        self.catalog = Catalog.scan(self.host)
        profiles = list(self.catalog.profiles)
        self.image = widgets.Dropdown(
            options=list(self.catalog.bases),
            value=image if image is not None else self.catalog.default_base(),
            description="image",
        )
        self.extensions = ExtensionPicker(self.catalog.extensions)
        self.profile = widgets.Dropdown(
            options=profiles,
            value=profile if profile in profiles else (profiles[0] if profiles else None),
            description="profile",
        )
        self.copy = widgets.Dropdown(
            options=list(self.host.systemd.copy_modes), value="auto", description="--copy"
        )
        self.runtime = widgets.Checkbox(value=False, description="--runtime")
        self.enable = widgets.Checkbox(value=False, description="--enable")
        self.now = widgets.Checkbox(value=False, description="--now")
        for box in (self.runtime, self.enable, self.now):
            box.layout = widgets.Layout(width="auto")
        self.attach_button = self._button("Attach", self.attach, style="primary")
        self.reattach_button = self._button("Reattach", self.reattach, style="info")
        self.detach_button = self._button("Detach", self.detach, style="warning")
        self.command = widgets.HTML()
        self.state = widgets.HTML()
        self.state.add_class("pk-state")
        self.verdict = widgets.HTML()
        self.verdict.add_class("pk-verdict-view")
        self.plan = widgets.HTML()
        self.plan.add_class("pk-plan")
        self.changes = widgets.HTML()
        self.tree = widgets.HTML()
        self.tree.add_class("pk-tree")
        self.states = widgets.HTML()
        self.states.add_class("pk-states")
        self.plan_title = widgets.HTML("<b>what Attach would do now (dry run)</b>")
        self.last_plan: Plan | None = None
        self.last_verdict: Verdict | None = None
        self.children = [
            widgets.HBox([self.image, self.profile, self.copy, self.refresh_button]),
            widgets.HBox([self.runtime, self.enable, self.now]),
            self.extensions,
            widgets.HBox([self.attach_button, self.reattach_button, self.detach_button]),
            self.command,
            self.state,
            self.status,
            self.plan_title,
            self.verdict,
            self.plan,
            self.changes,
            widgets.HTML("<b>the sandbox root now</b>"),
            self.tree,
            self.states,
        ]
        for control in (self.image, self.extensions, self.profile, self.copy):
            self._observe(control, self._changed)
        for control in (self.runtime, self.enable, self.now):
            self._observe(control, self._changed)
        self._render()
        self._mark_controls()

    @property
    def host(self) -> Host:
        """A fresh read-only view of the root (it changes when a plan is applied)."""
        return self.root.host

    def __repr__(self) -> str:
        flags = "".join(f", {name}=True" for name in ("enable", "now") if getattr(self, name).value)
        return (
            f"AttachSimulator(image={self.image.value!r}, profile={self.profile.value!r}, "
            f"copy={self.copy.value!r}, runtime={self.runtime.value}{flags})"
        )

    def _changed(self, _change: Any = None) -> None:
        self.show_ok()
        self._render()

    # -- plans -----------------------------------------------------------------------------------

    def _options(self) -> dict[str, Any]:
        host = self.host
        return {
            "matches": [derive_prefix(self.image.value, host.systemd)],
            "extensions": list(self.extensions.value),
            "profile": self.profile.value,
            "runtime": self.runtime.value,
            "copy": self.copy.value,
        }

    def attach_plan(self) -> Plan:
        """The plan of ``portablectl attach`` with the chosen options (``--enable``/``--now``
        included when it succeeds)."""
        host = self.host
        plan = plan_attach(host, self.image.value, **self._options())
        return self._with_after(host, plan)

    def reattach_plan(self) -> Plan:
        """The plan of ``portablectl reattach`` with the chosen options."""
        host = self.host
        plan = plan_reattach(host, self.image_path(), **self._options())
        return self._with_after(host, plan)

    def _with_after(self, host: Host, plan: Plan) -> Plan:
        if not plan.ok:
            return plan
        after = []
        view = host.overlay(plan.pending())
        for planner in self._after(plan):
            step = planner(view)
            after.append(step)
            view = view.overlay(step.pending())
        return plan.with_steps(after=after)

    def _after(self, plan: Plan) -> list[Callable[[Host], Plan]]:
        """``--enable``: install links; ``--now``: start the units (as portablectl)."""
        steps: list[Callable[[Host], Plan]] = []
        if self.enable.value:
            steps.append(lambda host: plan_enable(host, plan))
        if self.now.value:
            steps.append(lambda _host: plan_start(plan.image, units_in(plan.changes)))
        return steps

    def image_path(self) -> str:
        """The chosen image's own path. Detach and ``is-attached`` are asked by path: given a
        bare name, systemd 256–259 match every attached image (systemd#39058)."""
        name: str = self.image.value
        return self.catalog.paths.get(name, name)

    def detach_plan(self) -> Plan:
        """The plan of ``portablectl detach IMAGE-PATH`` with the chosen options (what
        ``--now`` and ``--enable`` stop and disable first included)."""
        host = self.host
        before = [step(host) for step in self._before_detach()]
        view = host
        for step in before:
            view = view.overlay(step.pending())
        plan = plan_detach(
            view,
            self.image_path(),
            extensions=self._extension_paths(),
            runtime=self.runtime.value,
            stopped=self._detach_units() if self.now.value else (),
        )
        return plan.with_steps(before=before) if before else plan

    def _extension_paths(self) -> list[str]:
        return [self.catalog.paths.get(e, e) for e in self.extensions.value]

    def _detach_units(self) -> list[str]:
        """The units ``detach --now``/``--enable`` stop and disable: the image's matching
        units, as portablectl reads them from the image."""
        try:
            d = dissect(
                self.host,
                self.image_path(),
                matches=[derive_prefix(self.image.value, self.host.systemd)],
                extensions=self._extension_paths(),
                attach=False,
            )
        except PortabledError:
            return []
        return [u.name for u in d.units]

    def _before_detach(self) -> list[Callable[[Host], Plan]]:
        units = self._detach_units() if (self.now.value or self.enable.value) else []
        steps: list[Callable[[Host], Plan]] = []
        if units and self.now.value:
            steps.append(lambda _host: plan_stop(self.image_path(), units))
        if units and self.enable.value:
            runtime = self.runtime.value
            steps.append(lambda host: plan_disable(host, self.image_path(), units, runtime=runtime))
        return steps

    # -- actions ---------------------------------------------------------------------------------

    def attach(self) -> Plan:
        """Attach with the chosen options (the Attach button). Returns the attach plan."""
        plan = plan_attach(self.host, self.image.value, **self._options())
        return self._carry_out("attach", plan, self._after(plan))

    def reattach(self) -> Plan:
        """Reattach with the chosen options (the Reattach button). Returns its plan."""
        plan = plan_reattach(self.host, self.image_path(), **self._options())
        return self._carry_out("reattach", plan, self._after(plan))

    def detach(self) -> Plan:
        """Detach with the chosen options (the Detach button): ``--now`` stops and
        ``--enable`` disables the units first, as portablectl does. Returns the detach plan."""
        done: list[str] = []
        for planner in self._before_detach():
            step = planner(self.host)
            self.root.apply(step)
            done.append(_step_note(step))
        plan = plan_detach(
            self.host,
            self.image_path(),
            extensions=self._extension_paths(),
            runtime=self.runtime.value,
            stopped=self._detach_units() if self.now.value else (),
        )
        return self._carry_out("detach", plan, [], done)

    def _carry_out(
        self,
        verb: str,
        plan: Plan,
        after: list[Callable[[Host], Plan]],
        done: list[str] | None = None,
    ) -> Plan:
        """Apply ``plan`` (what portabled does, also when it fails half-way), then the steps
        after it; report what happened, or the refusal in plain words."""
        self.last_plan = plan
        self.show_ok()
        notes = list(done or ())
        with self._reporting():
            if plan.ops:
                self.root.apply(plan)
            if plan.error is None:
                notes.append(f"{self.image.value} {verb}ed: {len(plan.ops)} file operations")
                for planner in after:
                    step = planner(self.host)
                    self.root.apply(step)
                    notes.append(_step_note(step))
        self._render()
        if plan.error is not None:
            self.show_html(self._refusal(verb, plan.error, bool(plan.ops)))
        elif not self.error:
            self.show_ok("; ".join(n for n in notes if n))
        return plan

    def _refusal(self, verb: str, error: PortabledError, partly: bool) -> str:
        """portabled's message and the plain words for a refused action."""
        plain = ""
        if verb in ("attach", "reattach"):
            found = explaining_findings(
                self.host,
                self.image.value,
                error,
                list(self.extensions.value),
                self._options()["matches"],
            )
            plain = " ".join(f"{f.message}. Fix: {f.fix}." for f in found)
        if not plain:
            plain = lifecycle_hint(self.host, verb, error, self.image_path(), self.runtime.value)
        head = f"{verb.capitalize()} failed"
        if partly:
            head += " half-way (what portabled did before failing is done)"
        return explanation_html(head, error.message, plain)

    # -- views -----------------------------------------------------------------------------------

    @property
    def attached_state(self) -> ImageState:
        """``portablectl is-attached`` of the chosen image, as a value."""
        return image_state(self.host, self.image_path())

    def refresh(self) -> None:
        """Look at the root again (new images, profiles, state) and redraw every view."""
        self.catalog = Catalog.scan(self.host)
        bases = list(self.catalog.bases)
        profiles = list(self.catalog.profiles)
        with self.hold_trait_notifications():
            value = keep_choice(bases, self.image.value, self.catalog.default_base())
            self.image.options = bases
            self.image.value = value
            prof = keep_choice(profiles, self.profile.value, "default")
            self.profile.options = profiles
            self.profile.value = prof
            self.extensions.options = self.catalog.extensions
        self._render()

    def command_lines(self) -> dict[str, str]:
        """``verb -> the portablectl command line`` each button runs with the chosen options."""
        flags = [
            flag
            for flag, on in (
                ("--runtime", self.runtime.value),
                ("--enable", self.enable.value),
                ("--now", self.now.value),
            )
            if on
        ]
        attach = [*flags, f"--profile={self.profile.value}"]
        if self.copy.value != "auto":
            attach.append(f"--copy={self.copy.value}")
        attach += [f"--extension={e}" for e in self.extensions.value]
        detach = [*flags, *(f"--extension={p}" for p in self._extension_paths())]
        # as the buttons send them: attach by name, reattach and detach by path
        return {
            "attach": " ".join(["portablectl attach", *attach, self.image.value]),
            "reattach": " ".join(["portablectl reattach", *attach, self.image_path()]),
            "detach": " ".join(["portablectl detach", *detach, self.image_path()]),
        }

    def _render_command(self) -> None:
        rows = "".join(
            f'<div class="pk-command-{verb}">{verb.capitalize()} runs '
            f"<code>{html.escape(line)}</code></div>"
            for verb, line in self.command_lines().items()
        )
        self.command.value = f'<div class="pk-command" style="line-height:1.5">{rows}</div>'

    def _render(self) -> None:
        """The dry run of Attach with the verdict, the state, the root's tree and units."""
        self.verdict.value = self.plan.value = self.changes.value = self.command.value = ""
        self.last_verdict = None
        if not self.image.value:
            self.show_ok("no base images in this sandbox root")
            return
        with self._reporting():
            self._render_command()
            state = self.attached_state
            again = state.is_attached and state.runtime == self.runtime.value
            title = "a second Attach" if again else "Attach"
            self.plan_title.value = f"<b>what {title} would do now (dry run)</b>"
            verdict = attach_verdict(
                self.host,
                self.image.value,
                image_path=self.image_path(),
                **self._options(),
            )
            self.last_verdict = verdict
            self.verdict.value = self._scrub(verdict.html(title))
            plan = self._with_after(self.host, verdict.plan)
            if plan.ops:
                self.plan.value = scroll_box(frame_html(plan_frame(plan), "simulator_plan"))
                lines = changes_frame(plan)[["line"]]
                self.changes.value = scroll_box(
                    frame_html(lines, "simulator_changes", caption="what portablectl prints")
                )
            self._render_state(state)
        self._render_root()

    def _render_state(self, state: ImageState) -> None:
        where = ""
        if state.is_attached:
            how = "at runtime" if state.runtime else "persistently"
            where = f" ({how}, in {attached_dir(state.runtime)})"
        note = ""
        if state.is_attached and state.runtime != self.runtime.value:
            tick = "untick" if self.runtime.value else "tick"
            note = (
                f'<div class="pk-hint" style="color:#a05a00">--runtime is '
                f"{'ticked' if self.runtime.value else 'not ticked'}: Reattach and Detach look in "
                f"{attached_dir(self.runtime.value)}, where this image is not attached; {tick} "
                "--runtime to work on the attachment that exists.</div>"
            )
        self.state.value = (
            f"<code>is-attached {html.escape(self.image_path())}</code>: "
            f"<b>{state}</b>{html.escape(where)}{note}"
        )

    def _render_root(self) -> None:
        host = self.host
        with self._reporting():
            tree = tree_frame(host)
            self.tree.value = (
                scroll_box(frame_html(tree, "simulator_tree"))
                if len(tree)
                else "<p><i>nothing attached: the attached directories do not exist</i></p>"
            )
            units = sandbox_frame(host)
            self.states.value = (
                scroll_box(frame_html(units, "simulator_states", caption="attached units"))
                if len(units)
                else ""
            )


def _step_note(step: Plan) -> str:
    """What an ``--enable``/``--now`` step did, in a few words."""
    if not step.ops:
        return ""
    if step.verb == "start":
        return "started " + ", ".join(step.units)
    if step.verb == "stop":
        return "stopped " + ", ".join(step.units)
    if step.verb == "enable":
        return f"enabled: {len(step.changes)} links"
    return f"disabled: {len(step.printed_changes())} links removed"

"""One verdict source for every widget: would portabled attach this, and if not, why, in
plain words beside portabled's exact message.

:func:`attach_verdict` asks the attach planner (the authority: it is what the golden
recordings judge) and, when it refuses, the image checks of ``portablekit check`` with the
same image, extensions and prefixes: the finding that carries portabled's very message says
what is wrong and how to fix it. Refusals that come from the state of the host rather than
from the image (attached already, attached in the other place, a unit running) get a hint
from :func:`lifecycle_hint`. ImageExplorer, LayerBuilder and AttachSimulator all show this
verdict, so they cannot disagree.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from ..check import Finding, Severity, check_host_image
from ..errors import PortabledError, PortableKitError
from ..portabled.attach import plan_attach
from ..portabled.host import Host, attached_dir
from ..portabled.plan import Plan
from ..portabled.state import image_state

__all__ = [
    "Verdict",
    "attach_verdict",
    "explaining_findings",
    "explanation_html",
    "lifecycle_hint",
]


_OK = "color:#2d6a2d;margin:4px 0"
_REFUSED = "border-left:4px solid #b00020;padding:2px 8px;margin:4px 0;line-height:1.4"
_PLAIN = "color:#333;margin-top:2px"


@dataclass(frozen=True)
class Verdict:
    """What ``attach`` would do with one choice of image, extensions and prefixes."""

    plan: Plan
    #: the image checks' findings that explain a refusal (same message as portabled's)
    findings: tuple[Finding, ...] = ()
    #: plain words for a refusal the image checks do not cover (the host's state)
    hint: str = ""

    @property
    def ok(self) -> bool:
        """Whether attach would succeed."""
        return self.plan.ok

    @property
    def message(self) -> str:
        """portabled's exact message, ``""`` when attach succeeds."""
        return self.plan.error.message if self.plan.error is not None else ""

    @property
    def plain(self) -> str:
        """The refusal in plain words (what is wrong, then how to fix it)."""
        parts = [f"{f.message}. Fix: {f.fix}." for f in self.findings]
        if self.hint:
            parts.append(self.hint)
        return " ".join(parts)

    def html(self, what: str = "attach") -> str:
        """The verdict as a short block: portabled's message and the plain words."""
        if self.ok:
            units = ", ".join(self.plan.units)
            return (
                f'<div class="pk-verdict pk-verdict-ok" style="{_OK}">✓ {html.escape(what)} '
                f"would succeed: {len(self.plan.units)} units ({html.escape(units)})</div>"
            )
        return explanation_html(f"{what} would fail", self.message, self.plain)


def explanation_html(head: str, message: str, plain: str) -> str:
    """A refusal: ``head``, portabled's exact ``message``, then the ``plain`` words."""
    out = (
        f'<div class="pk-verdict pk-refused" style="{_REFUSED}"><b>✗ {html.escape(head)}</b>. '
        f"portabled says: <code>{html.escape(message)}</code>"
    )
    if plain:
        out += f' <div class="pk-plain" style="{_PLAIN}">In plain words: {html.escape(plain)}</div>'
    return out + "</div>"


def attach_verdict(
    host: Host,
    image: str,
    *,
    extensions: Sequence[str] = (),
    matches: Sequence[str] | None = None,
    profile: str = "default",
    runtime: bool = False,
    copy: str = "auto",
    image_path: str | None = None,
    checked: Sequence[Finding] | None = None,
) -> Verdict:
    """The attach plan of this choice and, if portabled refuses, why (see the module).

    ``image_path`` is the image's own path, to ask ``is-attached`` by (default: ``image``);
    ``checked`` the image checks' findings for this choice when the caller has them already.
    """
    plan = plan_attach(
        host,
        image,
        matches=matches,
        extensions=extensions,
        profile=profile,
        runtime=runtime,
        copy=copy,
    )
    if plan.error is None:
        return Verdict(plan)
    explained = explaining_findings(host, image, plan.error, extensions, matches, checked)
    hint = ""
    if not explained:
        hint = lifecycle_hint(host, "attach", plan.error, image_path or image, runtime)
    return Verdict(plan, explained, hint)


def explaining_findings(
    host: Host,
    image: str,
    error: PortabledError,
    extensions: Sequence[str] = (),
    matches: Sequence[str] | None = None,
    checked: Sequence[Finding] | None = None,
) -> tuple[Finding, ...]:
    """The image checks' findings that carry portabled's message ``error`` (``checked``: the
    findings already computed for this choice)."""
    found: Sequence[Finding]
    if checked is not None:
        found = checked
    else:
        try:
            found = check_host_image(host, image, extensions=extensions, matches=matches)
        except PortableKitError:
            return ()
    return tuple(
        f for f in found if f.severity is Severity.ERROR and f.portabled_message == error.message
    )


def _where(runtime: bool) -> str:
    return f"{'at runtime' if runtime else 'persistently'} ({attached_dir(runtime)})"


def lifecycle_hint(host: Host, verb: str, error: PortabledError, image: str, runtime: bool) -> str:
    """Plain words for a refusal that comes from the host's state, not from the image:
    attached already, attached in the other place than ``--runtime`` asks for, a unit
    running. ``""`` when there is nothing to add to portabled's message."""
    msg = error.message
    try:
        state = image_state(host, image)
    except PortableKitError:
        return ""
    name = image.rpartition("/")[2]
    other = state.is_attached and state.runtime != runtime
    tick = "untick --runtime" if runtime else "tick --runtime"
    if verb in ("attach",) and "exists on the host already" in msg:
        if state.is_attached and not other:
            return (
                f"{name} is {state.value} already. Attaching again is refused; Reattach "
                "replaces the attached units with the image's current ones, Detach removes them."
            )
        if other:
            return (
                f"{name} is attached {_where(state.runtime)}; a unit of the same name may not be "
                f"attached {_where(runtime)} as well. Detach it first, or {tick} to work on the "
                "attachment that exists."
            )
        return (
            "a unit file of that name is on the host already (the host's own, or another "
            "image's): portabled never replaces it."
        )
    if "is active already" in msg:
        return "that unit is running on the host: portabled does not attach over a running unit."
    if "found attached to the system" in msg:
        if other:
            return (
                f"{name} is attached {_where(state.runtime)}, but --runtime "
                f"{'is' if runtime else 'is not'} ticked, so {verb} looks "
                f"{_where(runtime)}: {tick} to {verb} it."
            )
        return f"nothing of {name} is attached: attach it first."
    if "is active, can't detach" in msg:
        return (
            "that unit is running: tick --now to stop it before the detach (as "
            "portablectl detach --now does), or stop it first."
        )
    return ""

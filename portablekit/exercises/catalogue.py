"""The exercises and their graders.

Every grader looks at the learner's sandbox root with the kit's own tools — the image checks
(:func:`~portablekit.check.check_host_image`), the planners
(:func:`~portablekit.portabled.attach.plan_attach`, ...), the image state and the security
scores — and, for a prediction, compares the learner's answer with what those tools compute.
A hint is the ``fix`` of the check finding that still fails, or what portabled says with what
to try instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from ..check import Finding, Rule, Severity, check_host_image
from ..errors import PortableKitError
from ..names import derive_prefix
from ..portabled.attach import plan_attach, plan_detach, plan_start
from ..portabled.dropin import PROFILE_DROPIN
from ..portabled.host import Host, attached_dir
from ..portabled.profiles import find_profile, list_profiles
from ..portabled.state import ImageState, image_state, unit_states
from ..sandbox import SandboxRoot
from ..security.profilediff import compare_profiles
from ..security.score import SecurityReport
from ..source import FileKind
from .base import Exercise, Grade

__all__ = ["CATALOGUE", "has_network"]

_PORTABLES = PurePosixPath("/var/lib/portables")

# unit findings that explain why a unit named like the prefix was still not taken
_UNIT_SKIPS = (
    Rule.UNIT_EMPTY,
    Rule.UNIT_MASKED,
    Rule.UNIT_DANGLING,
    Rule.UNIT_NOT_A_FILE,
    Rule.UNIT_TYPE,
    Rule.UNIT_INVALID_NAME,
    Rule.UNIT_HIDDEN,
    Rule.UNIT_NO_MATCH,
)


def _hint(f: Finding) -> Grade:
    where = f" ({f.path})" if f.path else ""
    return Grade(
        False,
        f"{f.message}{where}",
        f.fix,
        f.portabled_message or "",
        str(f.rule),
    )


def _best(findings: Sequence[Finding], errors: Sequence[Finding]) -> Finding:
    """The finding whose fix to show: the first error, except that "no matching units" is
    explained better by the unit finding that says why a unit was skipped."""
    first = errors[0]
    if first.rule is Rule.NO_MATCHING_UNITS:
        for rule in _UNIT_SKIPS:
            for f in findings:
                if f.rule is rule:
                    return f
    return first


def _attaches(
    host: Host,
    image: str,
    *,
    matches: Sequence[str] | None = None,
    extensions: Sequence[str] = (),
    done: str,
) -> Grade:
    """✓ when the image checks find no error and portabled's attach plan succeeds."""
    prefixes = list(matches) if matches is not None else [derive_prefix(image, host.systemd)]
    try:
        findings = check_host_image(host, image, extensions=extensions, matches=prefixes)
    except PortableKitError as e:
        return Grade(
            False,
            "the image cannot be opened",
            f"keep the image at {_PORTABLES / image} (restart the exercise to get it back)",
            str(e),
        )
    errors = [f for f in findings if f.severity is Severity.ERROR]
    plan = plan_attach(host, image, matches=prefixes, extensions=extensions)
    if errors:
        return _hint(_best(findings, errors))
    if plan.error is not None:
        return Grade(False, "attach still refuses", "", plan.error.message)
    return Grade(True, done)


# -- 1-5: make a broken image attach -------------------------------------------------------------


def _broken(image: str) -> Any:
    def grade(root: SandboxRoot, answer: Any) -> Grade:
        return _attaches(root.host, image, done=f"{image} attaches.")

    return grade


# -- 6: an image that attaches but would not run ------------------------------------------------

_RUNTIME_RULES = (Rule.RESOLV_CONF, Rule.MACHINE_ID, Rule.MOUNT_POINT)


def _runtime_files(root: SandboxRoot, answer: Any) -> Grade:
    image = "broken-no-mountpoints"
    attached = _attaches(root.host, image, done="")
    if not attached.passed:
        return attached
    missing = [f for f in check_host_image(root.host, image) if f.rule in _RUNTIME_RULES]
    if missing:
        v = _hint(missing[0])
        more = f" ({len(missing) - 1} more like it)" if len(missing) > 1 else ""
        return Grade(False, v.message + more, v.hint, v.detail, v.rule)
    return Grade(True, f"{image} has every file and mount point the service manager needs.")


# -- 7: a misnamed extension-release file -------------------------------------------------------


def _misnamed(root: SandboxRoot, answer: Any) -> Grade:
    return _attaches(
        root.host,
        "webapp_2.1",
        matches=["webapp"],
        extensions=["broken-ext-misnamed"],
        done="webapp_2.1 attaches with the extension broken-ext-misnamed.",
    )


# -- 8: the strictest profile that keeps the network ----------------------------------------------

_NETWORK_CHECKS = {
    # json field: badness that still lets the service reach the network
    "PrivateNetwork": (1,),
    "RestrictAddressFamilies_AF_INET_INET6": (1,),
    "IPAddressDeny": (5, 10),
}


def has_network(report: SecurityReport) -> tuple[bool, list[str]]:
    """Whether a service scored by ``report`` can reach the network, and the checks that cut
    it off: ``PrivateNetwork=``, ``RestrictAddressFamilies=`` without ``AF_INET``/``AF_INET6``,
    or ``IPAddressDeny=any`` without an allow list beyond localhost."""
    blocked = [
        r.name
        for r in report.results
        if r.json_field in _NETWORK_CHECKS and r.badness not in _NETWORK_CHECKS[r.json_field]
    ]
    return not blocked, blocked


def _attached_profile(host: Host, unit: str) -> str | None:
    """The profile name of an attached unit (from its ``10-profile.conf`` link), ``""`` when
    it has none, ``None`` when the unit is not attached."""
    for runtime in (False, True):
        dropin = attached_dir(runtime) / f"{unit}.d" / PROFILE_DROPIN
        if host.kind(attached_dir(runtime) / unit, follow=False) is None:
            continue
        kind = host.kind(dropin, follow=False)
        if kind is FileKind.SYMLINK:
            return PurePosixPath(host.fs.readlink(dropin)).parent.name
        if kind is FileKind.FILE:  # --copy=copy: the profile with that text
            text = host.read_text(dropin)
            for name in list_profiles(host):
                found = find_profile(host, name, "service")
                if found is not None and host.read_text(found) == text:
                    return name
        return ""
    return None


def _network_profile(root: SandboxRoot, answer: Any) -> Grade:
    host = root.host
    unit = "webapp.service"
    chosen = _attached_profile(host, unit)
    attach = "root.apply(plan_attach(root.host, 'webapp_2.1', matches=['webapp'], profile=NAME))"
    if chosen is None:
        return Grade(False, f"{unit} is not attached", f"attach it with a profile: {attach}")
    if chosen == "":
        return Grade(
            False,
            f"{unit} is attached without a profile",
            "detach it (plan_detach by path) and attach again with a profile that exists",
        )
    text = host.read_text(_PORTABLES / "webapp_2.1/usr/lib/systemd/system" / unit) or ""
    names = list_profiles(host)
    cmp = compare_profiles(names, systemd=host.systemd, root=host.root, unit=text, unit_name=unit)
    scores = {n: r for n, r in zip(cmp.names, cmp.reports, strict=True)}
    mine = scores.get(chosen)
    if mine is None:
        return Grade(False, f"profile {chosen!r} is not on this host", attach)
    ok, blocked = has_network(mine)
    if not ok:
        return Grade(
            False,
            f"with profile {chosen!r}, {unit} has no network ({', '.join(blocked)})",
            "detach (plan_detach by path) and attach with a profile that keeps "
            "PrivateNetwork= off and AF_INET/AF_INET6 allowed",
        )
    better = [n for n, r in scores.items() if has_network(r)[0] and r.score < mine.score]
    if better:
        return Grade(
            False,
            f"profile {chosen!r} keeps the network, but at exposure {mine.score}",
            "another profile on this host also keeps the network with a lower exposure: "
            "compare them (scores_frame, has_network) and reattach with it",
        )
    return Grade(
        True, f"{unit} runs with {chosen!r} (exposure {mine.score}) and still has the network."
    )


# -- 9: predict the units of an extension stack -------------------------------------------------

_STACK = ("webapp-tls", "debug-tools")


def _as_names(answer: Any, what: str) -> list[str] | Grade:
    if answer is None:
        return Grade(False, "no answer yet", f"pass your prediction: check(answer={what})")
    if isinstance(answer, str) or not all(isinstance(a, str) for a in answer):
        return Grade(False, "the answer is not a list of names", f"answer with {what}")
    return list(answer)


def _stack_units(root: SandboxRoot, answer: Any) -> Grade:
    names = _as_names(answer, "['NAME.service', ...]")
    if isinstance(names, Grade):
        return names
    plan = plan_attach(root.host, "webapp_2.1", matches=["webapp"], extensions=_STACK)
    if plan.error is not None or plan.dissection is None:
        return Grade(False, "attach refuses this stack", "restart the exercise", "")
    d = plan.dissection
    expected, given = set(plan.units), set(names)
    if given == expected:
        return Grade(True, f"attach takes exactly {', '.join(sorted(expected))}.")
    hints = []
    missing: dict[str, int] = {}
    for i, lay in enumerate(d.layers):
        n = sum(1 for name in expected - given if d.unit(name).layer == i)
        if n:
            missing[lay.image.name] = n
    if missing:
        hints.append(
            "you left out "
            + ", ".join(
                f"{n} unit{'s' if n > 1 else ''} of {layer}" for layer, n in missing.items()
            )
            + " (an extension adds the units of its own that match the prefix)"
        )
    for name in sorted(given - expected):
        why = [c for c in d.candidates if c.name == name and c.reason is not None]
        if why:
            hints.append(f"{name} is not attached: {why[0].reason}")
        else:
            hints.append(f"{name} is in no layer")
    return Grade(False, "not quite", "; ".join(hints))


# -- 10: prefixes that PORTABLE_PREFIXES accepts ------------------------------------------------


def _admin_only(root: SandboxRoot, answer: Any) -> Grade:
    prefixes = _as_names(answer, "['PREFIX', ...]")
    if isinstance(prefixes, Grade):
        return prefixes
    if not prefixes:
        return Grade(False, "no prefix given", "give at least one prefix")
    v = _attaches(root.host, "webapp_2.1", matches=prefixes, done="")
    if not v.passed:
        return v
    units = plan_attach(root.host, "webapp_2.1", matches=prefixes).units
    if units != ("webapp-admin.service",):
        return Grade(
            False,
            f"those prefixes attach {', '.join(units)}",
            "a prefix takes PREFIX.service and every PREFIX-*, PREFIX.*, PREFIX@*: "
            "choose one that takes the admin helper alone",
        )
    return Grade(True, "attach accepts the prefixes and takes webapp-admin.service alone.")


# -- 11: what list says after --runtime -----------------------------------------------------------


def _runtime_list(root: SandboxRoot, answer: Any) -> Grade:
    host = root.host
    state = image_state(host, str(_PORTABLES / "minimal"))
    if answer is None:
        return Grade(False, "no answer yet", "pass your prediction: check(answer='STATE')")
    if not state.is_attached:
        return Grade(
            False,
            "minimal is not attached",
            "now attach it: root.apply(plan_attach(root.host, 'minimal', matches=['minimal'], "
            "runtime=True))",
        )
    if not state.runtime:
        return Grade(
            False,
            f"minimal is {state}: attached in /etc, not /run",
            "detach it (plan_detach by path) and attach again with runtime=True",
        )
    if str(answer) != str(state):
        return Grade(
            False,
            f"you predicted {str(answer)!r}; list says {str(state)!r}",
            "an attachment in /run/systemd/system.attached is reported with the -runtime suffix",
        )
    return Grade(True, f"list shows minimal as {state}, as you predicted.")


# -- 12: detach a running unit safely -------------------------------------------------------------


def _running_setup(root: SandboxRoot) -> None:
    plan = plan_attach(root.host, "minimal", matches=["minimal"])
    root.apply(plan)
    root.apply(plan_start(plan.image, ["minimal.service"]))


def _detach_running(root: SandboxRoot, answer: Any) -> Grade:
    host = root.host
    image = str(_PORTABLES / "minimal")
    state = image_state(host, image)
    active = host.active_units()
    running = sorted(
        u for u in active if u.startswith("minimal") and host.unit_is_active(u, active)
    )
    if state is ImageState.RUNNING or state is ImageState.RUNNING_RUNTIME:
        refusal = plan_detach(host, image).error
        return Grade(
            False,
            "minimal is still attached and running",
            "stop the running unit first (plan_stop), then detach by path (plan_detach)",
            refusal.message if refusal is not None else "",
        )
    if state.is_attached:
        return Grade(
            False,
            f"minimal is stopped but still {state}",
            f"detach it by path: root.apply(plan_detach(root.host, '{image}'))",
        )
    if running:
        return Grade(
            False,
            "the files are gone but " + ", ".join(running) + " still runs",
            "never remove attached files by hand: the service manager still runs the unit; "
            "stop it (plan_stop)",
        )
    leftovers = [u.unit for u in unit_states(host) if u.unit.startswith("minimal")]
    if leftovers:
        return Grade(False, "units are left attached", "detach by path", ", ".join(leftovers))
    return Grade(True, "minimal is stopped and detached; nothing of it is left on the host.")


# -- the catalogue ------------------------------------------------------------------------------


def _edit(image: str) -> str:
    return (
        f"The image lives in the sandbox at `/var/lib/portables/{image}`; change it with "
        f"`root.write_file(PATH, TEXT)`, `root.make_dir(PATH)` and `root.remove(PATH)`."
    )


CATALOGUE: tuple[Exercise, ...] = (
    Exercise(
        "no-os-release",
        1,
        "An image without an os-release",
        "Make `broken-no-os-release` attach. " + _edit("broken-no-os-release"),
        ("broken-no-os-release",),
        _broken("broken-no-os-release"),
    ),
    Exercise(
        "no-id",
        2,
        "An os-release without ID=",
        "Make `broken-no-id` attach. " + _edit("broken-no-id"),
        ("broken-no-id",),
        _broken("broken-no-id"),
    ),
    Exercise(
        "no-units",
        3,
        "No unit matches the prefix",
        "Make `broken-no-units` attach under its own name (prefix `broken-no-units`). "
        + _edit("broken-no-units"),
        ("broken-no-units",),
        _broken("broken-no-units"),
    ),
    Exercise(
        "empty-unit",
        4,
        "An empty unit file",
        "Make `broken-empty-unit` attach. " + _edit("broken-empty-unit"),
        ("broken-empty-unit",),
        _broken("broken-empty-unit"),
    ),
    Exercise(
        "bad-prefixes",
        5,
        "PORTABLE_PREFIXES that refuse the image's own prefix",
        "Make `broken-bad-prefixes` attach under its own name. " + _edit("broken-bad-prefixes"),
        ("broken-bad-prefixes",),
        _broken("broken-bad-prefixes"),
    ),
    Exercise(
        "runtime-files",
        6,
        "Attaches, but would not start",
        "`broken-no-mountpoints` attaches, but the service manager could not start it: give it "
        "everything the image checks ask for at runtime. " + _edit("broken-no-mountpoints"),
        ("broken-no-mountpoints",),
        _runtime_files,
    ),
    Exercise(
        "misnamed-extension",
        7,
        "A misnamed extension-release file",
        "Make `webapp_2.1` attach (prefix `webapp`) with the extension `broken-ext-misnamed`. "
        + _edit("broken-ext-misnamed"),
        ("webapp_2.1", "broken-ext-misnamed"),
        _misnamed,
    ),
    Exercise(
        "network-profile",
        8,
        "The strictest profile that keeps the network",
        "`webapp.service` serves HTTP, so it needs the network. Attach `webapp_2.1` (prefix "
        "`webapp`) with the strictest profile on this host under which `webapp.service` can "
        "still reach the network (lowest exposure). A profile of your own counts too.",
        ("webapp_2.1",),
        _network_profile,
    ),
    Exercise(
        "stack-units",
        9,
        "Which units does a stack attach?",
        "Predict which units `portablectl attach webapp_2.1 --extension webapp-tls "
        "--extension debug-tools` (prefix `webapp`) attaches, then check your prediction; "
        "after that, attach it and look.",
        ("webapp_2.1", *_STACK),
        _stack_units,
        answer="a list of unit names",
    ),
    Exercise(
        "admin-only",
        10,
        "Prefixes that PORTABLE_PREFIXES accepts",
        "Attach only the admin helper `webapp-admin.service` of `webapp_2.1`: which prefixes "
        "do you pass so that attach accepts them (`PORTABLE_PREFIXES=`) and takes that unit "
        "alone?",
        ("webapp_2.1",),
        _admin_only,
        answer="a list of prefixes",
    ),
    Exercise(
        "runtime-list",
        11,
        "What list shows after --runtime",
        "Predict the state `portablectl list` shows for `minimal` after `portablectl attach "
        "--runtime minimal`. Write it down, then do the attach in the sandbox and check.",
        ("minimal",),
        _runtime_list,
        answer="the state, as list prints it",
    ),
    Exercise(
        "detach-running",
        12,
        "Detach a running service safely",
        "`minimal` is attached and `minimal.service` is running. Detach `minimal` so that "
        "nothing of it is left attached or running.",
        ("minimal",),
        _detach_running,
        setup=_running_setup,
    ),
)

"""portablectl, simulated against a sandbox root: its verbs.

:func:`run` takes portablectl's arguments and writes what portablectl would print to the given
streams, returning its exit status (portablectl's own, which the recordings pin). It is the
engine of the ``portablekit`` command line and of scenario replays. Beyond portablectl it
understands ``--json`` (every verb) and ``--dry-run`` (attach, detach, reattach: print the
plan, write nothing). Its options are parsed by :mod:`.portablectl_options`, its text is
rendered by :mod:`.portablectl_text`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TextIO

from ..errors import PortabledError, PortableKitError, UsageError
from ..names import derive_prefix, image_name_is_valid
from ..osrelease import utf8_warning
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
from ..portabled.dissect import Dissection, dissect, image_os_release
from ..portabled.host import Host
from ..portabled.image import (
    discover_images,
    image_stat,
    lookup_image,
    normalize_client_path,
)
from ..portabled.manage import (
    plan_image_lock,
    plan_read_only,
    plan_remove,
    pool_limit_error,
    set_limit_error,
)
from ..portabled.plan import CopyMode, Plan
from ..portabled.profiles import list_profiles
from ..portabled.state import image_state, image_states
from ..sandbox import SandboxRoot
from ..unitfile import parse_boolean
from ..versions import Systemd
from .portablectl_options import (
    EMULATED,
    VERBS,
    Options,
    help_text,
    parse_args,
    parse_size,
    verb_arity,
    version_text,
)
from .portablectl_text import dry_run_text, inspect_text, list_text

__all__ = ["run"]

# -- helpers -----------------------------------------------------------------------------------


@dataclass
class _Ctx:
    root: SandboxRoot | None
    host: Host
    out: TextIO
    err: TextIO
    opts: Options
    cwd: PurePosixPath
    prog: str = "portablectl"
    #: whether a user scope's bus is reachable (``--user``): a replay has one only where
    #: the scenario starts the user instance of portabled
    user_bus: bool = False

    @property
    def systemd(self) -> Systemd:
        return self.host.systemd


def _norm_image(ctx: _Ctx, arg: str, must_exist: bool) -> str:
    """``determine_image()``: a name as it is (warning when the working directory holds an
    entry of that name), anything else a path made absolute and resolved."""
    if image_name_is_valid(arg):
        if not ctx.opts.quiet and ctx.host.kind(ctx.cwd / arg, follow=False) is not None:
            ctx.err.write(
                "Ambiguous invocation: current working directory contains file matching "
                f"non-path argument '{arg}', ignoring. Prefix argument with './' to force "
                "reference to file in current working directory.\n"
            )
        return arg
    return normalize_client_path(ctx.host, arg, cwd=ctx.cwd, must_exist=must_exist)


def _matches(ctx: _Ctx, arg: str, prefixes: Sequence[str], *, allow_all: bool) -> list[str]:
    """``determine_matches()``: the match list and the line portablectl prints about it."""
    systemd = ctx.systemd
    if len(prefixes) == 1 and prefixes[0] == "-":
        if not allow_all:
            raise UsageError("Refusing all unit file match.")
        if not ctx.opts.quiet:
            ctx.err.write("(Matching all unit files.)\n")
        return []
    if prefixes:
        if not ctx.opts.quiet:
            joined = "', '".join(prefixes)
            word = (
                "prefix" if len(prefixes) == 1 and systemd.singular_prefix_wording else "prefixes"
            )
            ctx.err.write(f"(Matching unit files with {word} '{joined}'.)\n")
        return list(prefixes)
    p = derive_prefix(arg, systemd)
    if not ctx.opts.quiet:
        ctx.err.write(f"(Matching unit files with prefix '{p}'.)\n")
    return [p]


_NO_USER_BUS = (
    "Failed to connect to user scope bus via local transport: $DBUS_SESSION_BUS_ADDRESS and "
    "$XDG_RUNTIME_DIR not defined (consider using --machine=<user>@.host --user to connect to "
    "bus of other user)"
)


def _bus(ctx: _Ctx) -> None:
    """``acquire_bus()``: where a verb connects to portabled, after its own argument checks.

    The user scope (262 ``--user``) is not simulated: emulating portablectl without a user
    bus this is portablectl's own failure to connect; otherwise the kit says so."""
    if not ctx.opts.user:
        return
    if ctx.prog == EMULATED and not ctx.user_bus:
        raise UsageError(_NO_USER_BUS)
    raise UsageError(f"{ctx.prog}: portabled's user scope (--user) is not simulated.")


def _fail(ctx: _Ctx, prefix: str, err: PortabledError) -> None:
    """portablectl's error line; as ``portablekit`` also the detail portabled only logs."""
    ctx.err.write(f"{prefix}: {err.message}\n")
    if err.detail and ctx.prog != "portablectl":
        ctx.err.write(f"portablekit: {err.detail}\n")


def _method(base: str, ctx: _Ctx) -> str:
    return base + ("WithExtensions" if ctx.opts.extensions or ctx.opts.force else "")


def _print_changes(ctx: _Ctx, plan: Plan) -> None:
    if ctx.opts.quiet:
        return
    for c in plan.printed_changes():
        ctx.err.write(str(c) + "\n")


def _json(ctx: _Ctx, obj: object) -> None:
    indent = 2 if ctx.opts.json == "pretty" else None
    ctx.out.write(json.dumps(obj, indent=indent, sort_keys=False) + "\n")


def _require_root(ctx: _Ctx) -> SandboxRoot:
    if ctx.root is None:
        raise UsageError("This verb changes the host: it needs a sandbox root (--root DIR).")
    return ctx.root


# -- verbs -------------------------------------------------------------------------------------


def _verb_list(ctx: _Ctx) -> int:
    _bus(ctx)
    host = ctx.host
    try:
        found = discover_images(host)
    except PortabledError as e:
        _fail(ctx, "Failed to list images", e)
        return 1
    states = image_states(host, [(str(img.path),) for img in found])  # one scan for all
    images = [(img, image_stat(host, img), state) for img, state in zip(found, states, strict=True)]
    if ctx.opts.json:
        _json(
            ctx,
            [
                {
                    "name": img.name,
                    "type": str(img.kind),
                    "path": str(img.path),
                    "read_only": st.read_only,
                    "usage": st.usage,
                    "state": None if state is None else str(state),
                }
                for img, st, state in images
            ],
        )
        return 0
    ctx.out.write(list_text(images, ctx.systemd, legend=ctx.opts.legend))
    return 0


def _inspect(
    ctx: _Ctx, image: str, exts: Sequence[str], matches: Sequence[str], *, derived: bool
) -> Dissection | None:
    """``GetImageMetadata``, and 262's second try: when the prefix derived from the image's
    name matches nothing, portablectl asks for the image's os-release (which takes the image
    lock, leaving its directories) and tries again with its ``PORTABLE_PREFIXES=``."""
    try:
        return dissect(
            ctx.host, image, matches=matches, extensions=exts, attach=False, force=ctx.opts.force
        )
    except PortabledError as e:
        first = e
    retry = (
        derived
        and ctx.systemd.inspect_retries_portable_prefixes
        and first.message.startswith("Couldn't find any matching unit files")
    )
    prefixes: tuple[str, ...] = ()
    if retry:
        if ctx.root is not None and ctx.root.is_sandbox:
            ctx.root.apply(plan_image_lock(ctx.host, "inspect", image))
        release = image_os_release(ctx.host, image)
        prefixes = release.words("PORTABLE_PREFIXES") if release is not None else ()
    if not prefixes:
        _fail(ctx, "Failed to inspect image metadata", first)
        return None
    if not ctx.opts.quiet:
        ctx.err.write(
            "(No matching unit files found with the image name prefix, retrying with "
            "PORTABLE_PREFIXES= from os-release.)\n"
        )
    again = _matches(ctx, image, prefixes, allow_all=True)
    try:
        return dissect(
            ctx.host, image, matches=again, extensions=exts, attach=False, force=ctx.opts.force
        )
    except PortabledError as e:
        _fail(ctx, "Failed to inspect image metadata", e)
        return None


def _verb_inspect(ctx: _Ctx) -> int:
    arg = ctx.opts.args[0]
    image = _norm_image(ctx, arg, True)
    matches = _matches(ctx, arg, ctx.opts.args[1:], allow_all=True)
    exts = [_norm_image(ctx, e, True) for e in ctx.opts.extensions]
    _bus(ctx)
    d = _inspect(ctx, image, exts, matches, derived=not ctx.opts.args[1:])
    if d is None:
        return 1
    shown = str(lookup_image(ctx.host, image, pick=False).path)
    if not ctx.opts.cat and d.base.release is not None:
        # portablectl parses the os-release it got itself, always as /etc/os-release
        warning = utf8_warning(d.base.release.raw, "/etc/os-release", ctx.systemd)
        if warning is not None:
            ctx.err.write(f"{warning}\nFailed to parse /etc/os-release: Invalid argument\n")
            return 1
    if ctx.opts.force and not ctx.opts.extensions and not ctx.systemd.force_inspect_lists_units:
        # 252/257: --force without --extension asks the WithExtensions call, which lists no
        # units
        d = Dissection(d.base, d.extensions, (), d.candidates, d.matches)
    if ctx.opts.json:
        _json(
            ctx,
            {
                "image": shown,
                "os_release": d.base.release.as_dict() if d.base.release else {},
                "extensions": [
                    {"path": str(e.image.path), "release": e.release.as_dict() if e.release else {}}
                    for e in d.extensions
                ],
                "units": [u.name for u in d.units],
                "matches": list(d.matches),
            },
        )
        return 0
    ctx.out.write(inspect_text(d, shown, ctx.systemd, cat=ctx.opts.cat))
    return 0


def _verb_is_attached(ctx: _Ctx) -> int:
    arg = ctx.opts.args[0]
    image = _norm_image(ctx, arg, False)
    exts = [_norm_image(ctx, e, False) for e in ctx.opts.extensions]
    _bus(ctx)
    try:
        state = image_state(ctx.host, image, exts)
    except PortabledError as e:
        _fail(ctx, f"{_method('GetImageState', ctx)} failed", e)
        return 1
    if ctx.opts.json:
        _json(ctx, {"image": image, "extensions": exts, "state": str(state)})
    elif not ctx.opts.quiet:
        ctx.out.write(f"{state}\n")
    return 0


def _plan_output(ctx: _Ctx, plan: Plan) -> None:
    _json(ctx, plan.to_dict())


def _steps(
    ctx: _Ctx, host: Host, planners: Sequence[Callable[[Host], Plan]]
) -> tuple[list[Plan], Host]:
    """``--enable``/``--now`` around an attach or detach: portablectl's calls to the service
    manager, one plan each, planned on the host as the steps before leave it.

    Outside a dry run each is carried out (its records printed) before the next is planned.
    Returns the plans and the host as they leave it.
    """
    plans = []
    for planner in planners:
        step = planner(host)
        plans.append(step)
        if ctx.opts.dry_run:
            host = host.overlay(step.pending())
            continue
        _require_root(ctx).apply(step)
        if not ctx.opts.quiet:
            for c in step.printed_changes():
                ctx.err.write(f"{c}\n")
    return plans, host


def _after_attach(ctx: _Ctx, plan: Plan) -> list[Callable[[Host], Plan]]:
    """The planners of ``attach --enable --now``: install links, then start the units."""
    planners: list[Callable[[Host], Plan]] = []
    if ctx.opts.enable:
        planners.append(lambda host: plan_enable(host, plan))
    if ctx.opts.now:
        planners.append(lambda host: plan_start(plan.image, units_in(plan.changes)))
    return planners


def _verb_attach(ctx: _Ctx, reattach: bool = False) -> int:
    arg = ctx.opts.args[0]
    image = _norm_image(ctx, arg, True)
    matches = _matches(ctx, arg, ctx.opts.args[1:], allow_all=False)
    exts = [_norm_image(ctx, e, True) for e in ctx.opts.extensions]
    _bus(ctx)
    planner = plan_reattach if reattach else plan_attach
    plan = planner(
        ctx.host,
        image,
        matches=matches,
        extensions=exts,
        profile=ctx.opts.profile,
        runtime=ctx.opts.runtime,
        copy=CopyMode(ctx.opts.copy),
        force=ctx.opts.force,
    )
    if ctx.opts.dry_run:
        if plan.ok:
            after, _ = _steps(ctx, ctx.host.overlay(plan.pending()), _after_attach(ctx, plan))
            plan = plan.with_steps(after=after)
        return _show_dry_run(ctx, plan)
    method = _method("ReattachImage" if reattach else "AttachImage", ctx)
    root = ctx.root
    rc = _apply_and_report(ctx, plan, f"{method} failed")
    if rc:
        return rc
    if root is not None:
        _steps(ctx, ctx.host, _after_attach(ctx, plan))
    return 0


def _show_dry_run(ctx: _Ctx, plan: Plan) -> int:
    """``--dry-run``: the plan as JSON or as a table; nothing is written."""
    if ctx.opts.json:
        _plan_output(ctx, plan)
    else:
        ctx.out.write(dry_run_text(plan))
    return 0 if plan.ok else 1


def _apply_and_report(ctx: _Ctx, plan: Plan, failed: str) -> int:
    """Carry out a plan and print what portablectl prints: the error after ``failed`` and a
    colon, or the changes."""
    if plan.ops:
        _require_root(ctx).apply(plan)
    if ctx.opts.json:
        _plan_output(ctx, plan)
    if plan.error is not None:
        _fail(ctx, failed, plan.error)
        return 1
    if not ctx.opts.json:
        _print_changes(ctx, plan)
    return 0


def _verb_detach(ctx: _Ctx) -> int:
    arg = ctx.opts.args[0]
    image = _norm_image(ctx, arg, False)
    exts = [_norm_image(ctx, e, False) for e in ctx.opts.extensions]
    _bus(ctx)
    systemd = ctx.systemd
    to_stop: list[str] = []
    if ctx.opts.enable or ctx.opts.now or ctx.opts.clean:
        matches = _matches(ctx, arg, ctx.opts.args[1:], allow_all=True)
        try:
            d = dissect(ctx.host, image, matches=matches, extensions=exts, attach=False)
            to_stop = [u.name for u in d.units]
        except PortabledError as e:
            ctx.err.write(f"Failed to inspect image metadata: {e.message}\n")
    # portablectl stops, disables and cleans before it asks for the detach
    planners: list[Callable[[Host], Plan]] = []
    if to_stop and (ctx.root is not None or ctx.opts.dry_run):
        if ctx.opts.now:
            planners.append(lambda host: plan_stop(image, to_stop))
        if ctx.opts.enable:
            planners.append(
                lambda host: plan_disable(host, image, to_stop, runtime=ctx.opts.runtime)
            )
    before, host = _steps(ctx, ctx.host, planners)
    if to_stop and ctx.root is not None and not ctx.opts.dry_run and ctx.opts.clean:
        err = ctx.host.clean_unit_error() if systemd.has_clean else None
        if err is not None:
            ctx.err.write(
                f"Failed to call CleanUnit on portable service {sorted(to_stop)[0]}: {err[1]}\n"
            )
    plan = plan_detach(
        host,
        image,
        extensions=exts,
        runtime=ctx.opts.runtime,
        force=ctx.opts.force,
        stopped=to_stop if ctx.opts.now else (),
    )
    if ctx.opts.dry_run:
        return _show_dry_run(ctx, plan.with_steps(before=before))
    return _apply_and_report(ctx, plan, f"{_method('DetachImage', ctx)} failed")


def _verb_read_only(ctx: _Ctx) -> int:
    read_only = True
    if len(ctx.opts.args) > 1:
        b = parse_boolean(ctx.opts.args[1])
        if b is None:
            raise UsageError(f"Failed to parse boolean argument: {ctx.opts.args[1]}")
        read_only = b
    image = _management_image(ctx, ctx.opts.args[0])
    _bus(ctx)
    plan = plan_read_only(ctx.host, image, read_only)
    if ctx.opts.dry_run:
        return _show_dry_run(ctx, plan)
    return _apply_and_report(ctx, plan, "Could not mark image read-only")


def _management_image(ctx: _Ctx, arg: str) -> str:
    """The image argument of ``read-only``, ``remove`` and ``set-limit``: 252/257 send it as
    given, 262 normalizes it as the other verbs do."""
    if ctx.systemd.image_verbs_normalize_paths:
        return _norm_image(ctx, arg, True)
    return arg


def _verb_remove(ctx: _Ctx) -> int:
    _bus(ctx)
    for arg in ctx.opts.args:  # one call per image, the first failure ends the verb
        plan = plan_remove(ctx.host, _management_image(ctx, arg))
        if ctx.opts.dry_run:
            rc = _show_dry_run(ctx, plan)
        else:
            rc = _apply_and_report(ctx, plan, "Could not remove image")
        if rc:
            return rc
    return 0


def _verb_set_limit(ctx: _Ctx) -> int:
    size = ctx.opts.args[-1]
    if size not in ("-", "none", "infinity") and parse_size(size) is None:
        raise UsageError(f"Failed to parse size: {size}")
    image = _management_image(ctx, ctx.opts.args[0]) if len(ctx.opts.args) > 1 else ""
    _bus(ctx)
    # with one argument (262) the pool's limit
    err = set_limit_error(ctx.host, image) if image else pool_limit_error()
    _fail(ctx, "Could not set limit", err)
    return 1


def _verb_help(ctx: _Ctx) -> int:
    ctx.out.write(help_text(ctx.systemd, ctx.prog))
    return 0


def _verb_reattach(ctx: _Ctx) -> int:
    return _verb_attach(ctx, reattach=True)


_VERB_RUNNERS: dict[str, Callable[[_Ctx], int]] = {
    "help": _verb_help,
    "list": _verb_list,
    "inspect": _verb_inspect,
    "is-attached": _verb_is_attached,
    "attach": _verb_attach,
    "reattach": _verb_reattach,
    "detach": _verb_detach,
    "read-only": _verb_read_only,
    "remove": _verb_remove,
    "set-limit": _verb_set_limit,
}


@contextmanager
def _one_operation(ctx: _Ctx) -> Iterator[None]:
    """A verb on a sandbox root is one operation: planned and carried out while no other runs
    (portabled serialises them too), after a killed one was finished."""
    if ctx.root is None:
        yield
        return
    with ctx.root.operation():
        for note in ctx.root.notes:
            ctx.err.write(f"portablekit: {note}\n")
        ctx.root.notes.clear()
        yield


def run(
    argv: Sequence[str],
    *,
    root: SandboxRoot | None = None,
    host: Host | None = None,
    stdout: TextIO,
    stderr: TextIO,
    cwd: PurePosixPath = PurePosixPath("/"),
    prog: str = "portablectl",
    user_bus: bool = False,
) -> int:
    """Run one portablectl command against ``root`` (or a read-only ``host``).

    ``prog`` is the program name printed; ``portablectl`` emulates it exactly (the kit's own
    options are unknown then). ``user_bus``: whether the user scope's bus is reachable.
    """
    if host is None:
        if root is None:
            raise ValueError("run() needs a sandbox root or a host")
        host = root.host
    systemd = host.systemd
    try:
        opts = parse_args(argv, systemd, prog)
    except UsageError as e:
        stderr.write(e.message + "\n")
        return e.exit_code
    ctx = _Ctx(root, host, stdout, stderr, opts, cwd, prog, user_bus)
    if opts.show_help:
        return _verb_help(ctx)
    if opts.show_version:
        stdout.write(version_text(systemd, prog))
        return 0
    if opts.copy == "help":
        stdout.write("\n".join(systemd.copy_modes) + "\n")
        if systemd.copy_help_ends_with_blank_line:
            stdout.write("\n")
        return 0
    if opts.profile == "help":
        if not opts.quiet:
            stderr.write("Available unit profiles:\n")
        for name in list_profiles(host):
            stdout.write(name + "\n")
        return 0
    if opts.host or opts.machine:
        if any(not image_name_is_valid(a) for a in opts.args[:1]):
            stderr.write(
                "Operations on images by path not supported when connecting to remote systems.\n"
            )
            return 1
        remote = f"--host={opts.host}" if opts.host else f"--machine={opts.machine}"
        stderr.write(f"portablekit simulates the local host only, not {remote}.\n")
        return 1
    if opts.verb not in VERBS:
        verb = f"'{opts.verb}'" if systemd.quotes_unknown_verb else opts.verb
        stderr.write(f"Unknown command verb {verb}.\n")
        return 1
    lo, hi = verb_arity(opts.verb, systemd)
    n = 1 + len(opts.args)
    if n < lo:
        stderr.write("Too few arguments.\n")
        return 1
    if hi is not None and n > hi:
        stderr.write("Too many arguments.\n")
        return 1
    try:
        with _one_operation(ctx):
            return _VERB_RUNNERS[opts.verb](ctx)
    except UsageError as e:
        stderr.write(e.message + "\n")
        return e.exit_code
    except PortableKitError as e:  # ImageError and PortabledError texts are systemd's
        stderr.write(f"{e}\n")
        return 1

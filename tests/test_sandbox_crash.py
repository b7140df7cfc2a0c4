"""``kill -9`` at every file-changing system call of attach, detach and reattach leaves a state
the next operation repairs, with no temporary file anywhere.

A forked child runs the verb with a hook on the sandbox's system-call layer that sends it
SIGKILL at the N-th file-changing call; N sweeps over every call the verb makes. Then any
verb (``is-attached``) takes the lock, which finishes the killed plan from its journal, and
the root must be in a state an uninterrupted run passes through between two plans (before
the verb, after its attach plan, after its ``--enable`` plan, ...), with no temporary entry
and no journal left; the follow-up verb (detach after attach, attach after detach) must then
end where it ends from that state. A representative set of configurations runs every time;
the full matrix (every copy mode, ``--runtime``, ``--enable --now``, extensions, on 252, 257
and 262) is marked ``slow``.

With ``PORTABLEKIT_KILL_REPORT=FILE`` each configuration appends its counts (kill points
tried, states repaired, temporary files left) to FILE as a JSON line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sandbox_support import clone, ctl, hooked, kill_at, leftovers, scratch, state

from portablekit.portabled.host import MADE_BY_ATTACH
from portablekit.samples import sample_sandbox, sample_source
from portablekit.sandbox import SandboxRoot
from portablekit.sandbox.fs import SYSCALLS
from portablekit.versions import Systemd

__all__ = ["scratch"]  # the fixture, for pytest

State = dict[str, tuple[str, int, str]]


@dataclass(frozen=True)
class Case:
    """One configuration: ``verb`` with ``options`` on ``version``."""

    version: int
    verb: str
    options: tuple[str, ...] = ()
    image: str = "minimal"

    @property
    def id(self) -> str:
        opts = "-".join(o.lstrip("-").replace("=", "_") for o in self.options) or "plain"
        return f"{self.version}-{self.verb}-{self.image}-{opts}"

    def _attach(self) -> tuple[str, ...]:
        return ("--no-reload", "attach", *self.options, self.image)

    def _detach(self) -> tuple[str, ...]:
        opts = [o for o in self.options if not o.startswith("--copy=")]
        return ("--no-reload", "detach", *opts, self.image)

    @property
    def setup(self) -> tuple[str, ...] | None:
        """What makes the root the verb starts from (``None``: the samples as laid)."""
        return None if self.verb == "attach" else self._attach()

    @property
    def argv(self) -> tuple[str, ...]:
        if self.verb == "attach":
            return self._attach()
        if self.verb == "detach":
            return self._detach()
        return ("--no-reload", "reattach", *self.options, self.image)

    @property
    def follow_up(self) -> tuple[str, ...]:
        """The verb that undoes this one: what a user runs next."""
        return self._attach() if self.verb == "detach" else self._detach()


def _option_sets(version: int) -> list[tuple[tuple[str, ...], str]]:
    mixed = Systemd(version).reaches(256)
    sets: list[tuple[tuple[str, ...], str]] = [
        ((), "minimal"),
        (("--copy=copy",), "minimal"),
        (("--copy=symlink",), "minimal"),
        (("--runtime",), "minimal"),
        (("--enable", "--now"), "minimal"),
        (
            ("--copy=mixed", "--extension=webapp-tls") if mixed else ("--extension=webapp-tls",),
            "webapp_2.1",
        ),
    ]
    if mixed:
        sets.append((("--copy=mixed",), "minimal"))
    return sets


ALL = [
    Case(v, verb, opts, image)
    for v in (252, 257, 262)
    for verb in ("attach", "detach", "reattach")
    for opts, image in _option_sets(v)
    if not (verb == "reattach" and "--enable" in opts)
]
DEFAULT = [
    Case(262, "attach", ("--copy=mixed", "--extension=webapp-tls"), "webapp_2.1"),
    Case(252, "attach", ("--enable", "--now")),
    Case(257, "attach", ("--runtime",)),
    Case(262, "detach", ("--copy=mixed",)),
    Case(257, "detach", ("--enable", "--now")),
    Case(262, "reattach", ("--copy=copy",)),
    Case(252, "reattach", ()),
]
SLOW = [c for c in ALL if c not in DEFAULT]


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Per version, a root with the samples (made once; every case works on copies)."""
    out = {}
    for v in (252, 257, 262):
        path = tmp_path_factory.mktemp(f"base{v}") / "root"
        sample_sandbox(path, systemd=Systemd(v), names=["minimal", "webapp_2.1", "webapp-tls"])
        out[v] = path
    return out


@dataclass
class Reference:
    """An uninterrupted run: the states between its plans (copies of the root at each) and
    where the follow-up verb ends from each of them."""

    calls: int
    boundaries: list[Path]
    states: list[State]
    follow_ups: list[State]


def _fresh(case: Case, base: Path, dest: Path) -> SandboxRoot:
    """A copy of ``base`` made ready for the verb (the set-up run in place: the inodes
    ``made-by-attach`` records are this copy's own)."""
    root = clone(base, dest, Systemd(case.version))
    if case.setup is not None:
        assert ctl(root, *case.setup)[0] == 0
    return root


def _reference(case: Case, base: Path, where: Path) -> Reference:
    work = _fresh(case, base, where / "ref").path
    boundaries = [where / "b0"]
    shutil.copytree(work, boundaries[0], symlinks=True)
    calls = [0]

    def at_plan_end(call: str, changes: bool, name: str) -> None:
        calls[0] += changes
        if call == "unlink" and name == "journal":  # a plan is carried out
            b = where / f"b{len(boundaries)}"
            shutil.copytree(work, b, symlinks=True, ignore=shutil.ignore_patterns("journal"))
            boundaries.append(b)

    root = SandboxRoot(work, Systemd(case.version))
    with hooked(at_plan_end):
        ctl(root, *case.argv)
    states = [state(b) for b in boundaries]
    follow_ups = []
    for b in boundaries:
        ctl(SandboxRoot(b, Systemd(case.version)), *case.follow_up)
        follow_ups.append(state(b))
    return Reference(calls[0], boundaries, states, follow_ups)


def _kill_at(case: Case, root: Path, n: int, argv: tuple[str, ...]) -> bool:
    """Run ``argv`` on ``root`` in a child killed at its ``n``-th file-changing call; whether
    the kill happened."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which dies by SIGKILL
        try:
            SYSCALLS.hooks[:] = [kill_at(n)]
            ctl(SandboxRoot(root, Systemd(case.version)), *argv)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


@dataclass
class Sweep:
    tried: int = 0
    repaired: int = 0
    temp_left: int = 0
    failures: list[str] | None = None


def _records_hold(root: SandboxRoot) -> bool:
    """Every entry ``made-by-attach`` names is still the one recorded (``--fixed`` relies on
    it)."""
    text = root.host.read_text(MADE_BY_ATTACH) or ""
    return all(root.host.made_by_attach(json.loads(line)["path"]) for line in text.splitlines())


def spread(calls: int, most: int = 30) -> list[int]:
    """About ``most`` kill points out of ``calls``: the first and last few (the journal, the
    first and last operations) and evenly spaced ones between."""
    if calls <= most:
        return list(range(1, calls + 1))
    k = min(5, most // 4)
    ends = {*range(1, k + 1), *range(calls - k + 1, calls + 1)}
    step = max(1, (calls - 2 * k) // max(1, most - 2 * k))
    return sorted(ends | set(range(k + 1, calls - k + 1, step)))


def sweep(
    case: Case,
    base: Path,
    where: Path,
    points: Callable[[int], Iterable[int]] | None = None,
    again: int = 0,
) -> Sweep:
    """Kill ``case`` at each of ``points(calls)`` (default: every file-changing call) and check
    the repair. ``again``: then kill the repair ``again`` times in a row, at its 1st, 2nd, ...
    file-changing call."""
    ref = _reference(case, base, where)
    assert ref.calls > 0
    out = Sweep(failures=[])
    assert out.failures is not None
    for n in points(ref.calls) if points else range(1, ref.calls + 1):
        if n > ref.calls:
            break
        work = _fresh(case, base, where / f"k{n}").path
        out.tried += 1
        problems = []
        if not _kill_at(case, work, n, case.argv):
            problems.append("not killed")
        for m in range(1, again + 1):  # killed again while finishing, at its m-th call
            _kill_at(case, work, m, ("is-attached", case.image))
        root = SandboxRoot(work, Systemd(case.version))
        _, _, err = ctl(root, "is-attached", case.image)  # takes the lock: finishes the plan
        left = leftovers(work)
        out.temp_left += len(left)
        now = state(work)
        if "Traceback" in err or left:
            problems.append(f"after repair: {left} {err!r}")
        if now not in ref.states:
            problems.append("a state no uninterrupted run passes through")
        elif not _records_hold(root):
            problems.append("made-by-attach does not match")
        else:
            i = ref.states.index(now)
            _, _, err = ctl(root, *case.follow_up)
            if leftovers(work) or state(work) != ref.follow_ups[i] or "Traceback" in err:
                problems.append(f"the follow-up ends elsewhere: {err!r}")
        if problems:
            out.failures.append(f"kill at call {n}: " + "; ".join(problems))
        else:
            out.repaired += 1
        shutil.rmtree(work)
    _report(case, out, ref.calls)
    return out


def _report(case: Case, result: Sweep, calls: int) -> None:
    path = os.environ.get("PORTABLEKIT_KILL_REPORT")
    if not path:
        return
    line = {
        "case": case.id,
        "calls": calls,
        "tried": result.tried,
        "repaired": result.repaired,
        "temp_left": result.temp_left,
    }
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")


def _check(result: Sweep) -> None:
    assert result.failures == [], "\n".join(result.failures or [])
    assert result.tried > 0 and result.repaired == result.tried and result.temp_left == 0


@pytest.mark.parametrize("case", DEFAULT, ids=[c.id for c in DEFAULT])
def test_kill_at_calls_across_the_run_is_repaired(
    case: Case, bases: dict[int, Path], scratch: Path
) -> None:
    _check(sweep(case, bases[case.version], scratch, points=spread))


@pytest.mark.slow
@pytest.mark.parametrize("case", DEFAULT, ids=[c.id for c in DEFAULT])
def test_kill_at_every_call_is_repaired(case: Case, bases: dict[int, Path], scratch: Path) -> None:
    _check(sweep(case, bases[case.version], scratch))


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW, ids=[c.id for c in SLOW])
def test_kill_matrix(case: Case, bases: dict[int, Path], scratch: Path) -> None:
    _check(sweep(case, bases[case.version], scratch))


@pytest.mark.parametrize(
    "case",
    [Case(262, "detach", ("--copy=mixed",)), Case(257, "attach", ("--enable", "--now"))],
    ids=lambda c: c.id,
)
def test_killed_again_while_finishing(case: Case, bases: dict[int, Path], scratch: Path) -> None:
    _check(sweep(case, bases[case.version], scratch, points=lambda n: spread(n, 8), again=4))


def test_spread_keeps_the_ends() -> None:
    assert spread(10) == list(range(1, 11))
    points = spread(242)
    assert 25 <= len(points) <= 35 and points[:5] == [1, 2, 3, 4, 5] and points[-1] == 242
    assert len(spread(60, 8)) <= 10


def test_the_matrix_covers_every_configuration() -> None:
    verbs = {(c.version, c.verb) for c in ALL}
    assert verbs == {(v, b) for v in (252, 257, 262) for b in ("attach", "detach", "reattach")}
    options = {o for c in ALL for o in c.options}
    assert {
        "--copy=copy",
        "--copy=symlink",
        "--copy=mixed",
        "--runtime",
        "--enable",
        "--now",
    } <= options
    assert any(o.startswith("--extension=") for o in options)
    assert set(DEFAULT) <= set(ALL) and len(ALL) == len(DEFAULT) + len(SLOW)


def test_a_killed_materialize_leaves_no_tree(scratch: Path) -> None:
    base = scratch / "base"
    SandboxRoot.init(base, Systemd(257))
    whole = clone(base, scratch / "whole", Systemd(257))
    calls = [0]

    def count(call: str, changes: bool, name: str) -> None:
        calls[0] += changes

    with hooked(count):
        whole.materialize(sample_source("minimal"), "/srv/minimal")
    for n in spread(calls[0], 25):
        work = scratch / f"m{n}"
        shutil.copytree(base, work, symlinks=True)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child dies by SIGKILL
            try:
                SYSCALLS.hooks[:] = [kill_at(n)]
                SandboxRoot(work).materialize(sample_source("minimal"), "/srv/minimal")
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        root = SandboxRoot(work)
        with root.operation():  # the next operation removes a half-built tree
            pass
        assert leftovers(work) == [], n
        laid = sorted(os.listdir(work / "srv"))
        assert laid in ([], ["minimal"]), (n, laid)
        if laid:  # killed after the rename: the whole tree
            assert state(work / "srv/minimal") == state(whole.path / "srv/minimal"), n
        else:
            root.materialize(sample_source("minimal"), "/srv/minimal")
        shutil.rmtree(work)

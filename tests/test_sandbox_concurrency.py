"""Concurrent operations on one root end as if they had run one after the other.

Threads and processes run portablectl verbs on the same sandbox root at once (attach of
different images, of the same image, attach racing detach and reattach); a hook on the
sandbox's system-call layer sleeps a little at every change, so that operations would
interleave if nothing serialised them. The root must end in the state some serial order of
the same verbs gives, each verb exiting as it does in that order, with no temporary file
left. portabled serialises operations on a host; the sandbox's lock does it for a root.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_support import clone, ctl, hooked, leftovers, scratch, state

from portablekit.samples import sample_sandbox
from portablekit.sandbox import SandboxRoot
from portablekit.sandbox.fs import SYSCALLS
from portablekit.versions import Systemd

__all__ = ["scratch"]  # the fixture, for pytest

V = Systemd(262)
Verb = tuple[str, ...]
Outcome = tuple[dict[str, tuple[str, int, str]], list[int]]

VERBS: list[Verb] = [
    ("attach", "minimal"),
    ("attach", "--copy=copy", "minimal"),
    ("attach", "webapp_2.1"),
    ("attach", "--runtime", "minimal"),
    ("attach", "--copy=mixed", "--extension=webapp-tls", "webapp_2.1"),
    ("detach", "minimal"),
    ("detach", "--runtime", "minimal"),
    ("reattach", "minimal"),
    ("attach", "--enable", "--now", "minimal"),
]


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A root with the samples, and one where ``minimal`` is attached."""
    fresh = tmp_path_factory.mktemp("base") / "fresh"
    sample_sandbox(fresh, systemd=V, names=["minimal", "webapp_2.1", "webapp-tls"])
    attached = fresh.parent / "attached"
    shutil.copytree(fresh, attached, symlinks=True)
    assert ctl(SandboxRoot(attached, V), "--no-reload", "attach", "minimal")[0] == 0
    return {"fresh": fresh, "attached": attached}


def _slowly(call: str, changes: bool, name: str) -> None:
    if changes:
        time.sleep(0.0005)  # a wider window between any two changes


def _result(root: Path, rcs: list[int]) -> Outcome:
    return state(root), rcs


def _in_threads(root: Path, verbs: list[Verb]) -> Outcome:
    rcs = [0] * len(verbs)
    errs = [""] * len(verbs)
    start = threading.Barrier(len(verbs))

    def one(i: int) -> None:
        r = SandboxRoot(root, V)
        start.wait()
        rcs[i], _, errs[i] = ctl(r, "--no-reload", *verbs[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(verbs))]
    with hooked(_slowly):
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert not any("Traceback" in e or "internal error" in e for e in errs), errs
    return _result(root, rcs)


def _in_processes(root: Path, verbs: list[Verb]) -> Outcome:
    go_r, go_w = os.pipe()
    children = []
    for verb in verbs:
        out_r, out_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - a child process
            try:
                os.close(go_w)
                os.read(go_r, 1)  # wait until every child is there
                SYSCALLS.hooks[:] = [_slowly]
                rc, _, err = ctl(SandboxRoot(root, V), "--no-reload", *verb)
                os.write(out_w, json.dumps([rc, err]).encode())
            finally:
                os._exit(0)
        os.close(out_w)
        children.append((pid, out_r))
    os.write(go_w, b"x" * len(verbs))
    os.close(go_w)
    os.close(go_r)
    rcs = []
    for pid, out_r in children:
        chunks = []
        while chunk := os.read(out_r, 65536):
            chunks.append(chunk)
        os.close(out_r)
        os.waitpid(pid, 0)
        rc, err = json.loads(b"".join(chunks))
        assert "Traceback" not in err and "internal error" not in err, err
        rcs.append(rc)
    return _result(root, rcs)


def _serial_outcomes(base: Path, verbs: list[Verb], where: Path) -> list[Outcome]:
    """What every order of running ``verbs`` one after the other ends in."""
    out = []
    for k, order in enumerate(itertools.permutations(range(len(verbs)))):
        root = clone(base, where / f"serial{k}", V)
        rcs = [0] * len(verbs)
        for i in order:
            rcs[i] = ctl(root, "--no-reload", *verbs[i])[0]
        out.append(_result(root.path, rcs))
        shutil.rmtree(root.path)
    return out


def _check(base: Path, verbs: list[Verb], how: str, where: Path) -> None:
    root = where / "concurrent"
    shutil.copytree(base, root, symlinks=True)
    run = _in_threads if how == "threads" else _in_processes
    got = run(root, verbs)
    assert leftovers(root) == []
    serial = _serial_outcomes(base, verbs, where)
    assert got in serial, f"{verbs} in {how}: exit statuses {got[1]}, no serial order ends so"
    shutil.rmtree(root)


@pytest.mark.parametrize("how", ["threads", "processes"])
def test_two_images_attached_at_once(how: str, bases: dict[str, Path], scratch: Path) -> None:
    _check(bases["fresh"], [("attach", "minimal"), ("attach", "webapp_2.1")], how, scratch)


@pytest.mark.parametrize("how", ["threads", "processes"])
def test_ten_attaches_of_one_image(how: str, bases: dict[str, Path], scratch: Path) -> None:
    root = scratch / "r"
    shutil.copytree(bases["fresh"], root, symlinks=True)
    run = _in_threads if how == "threads" else _in_processes
    _, rcs = run(root, [("attach", "minimal")] * 10)
    assert sorted(rcs) == [0] + [1] * 9  # one wins, the others fail and leave what they found
    assert leftovers(root) == []
    once = scratch / "once"
    shutil.copytree(bases["fresh"], once, symlinks=True)
    assert ctl(SandboxRoot(once, V), "--no-reload", "attach", "minimal")[0] == 0
    assert state(root) == state(once)
    assert ctl(SandboxRoot(root, V), "--no-reload", "detach", "minimal")[0] == 0


@pytest.mark.parametrize("how", ["threads", "processes"])
def test_attach_racing_detach(how: str, bases: dict[str, Path], scratch: Path) -> None:
    verbs = [("detach", "minimal"), ("attach", "minimal"), ("attach", "--copy=copy", "minimal")]
    _check(bases["attached"], verbs, how, scratch)


verb_lists = st.lists(st.sampled_from(VERBS), min_size=2, max_size=3)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    verbs=verb_lists,
    start=st.sampled_from(["fresh", "attached"]),
    how=st.sampled_from(["threads", "processes"]),
)
def test_concurrent_verbs_end_as_some_serial_order(
    verbs: list[Verb], start: str, how: str, bases: dict[str, Path], scratch: Path
) -> None:
    where = scratch / f"h{len(os.listdir(scratch))}"
    where.mkdir()
    _check(bases[start], verbs, how, where)


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    verbs=st.lists(st.sampled_from(VERBS), min_size=2, max_size=4),
    start=st.sampled_from(["fresh", "attached"]),
    how=st.sampled_from(["threads", "processes"]),
)
def test_many_concurrent_verbs_end_as_some_serial_order(
    verbs: list[Verb], start: str, how: str, bases: dict[str, Path], scratch: Path
) -> None:
    where = scratch / f"h{len(os.listdir(scratch))}"
    where.mkdir()
    _check(bases[start], verbs, how, where)

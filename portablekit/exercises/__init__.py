"""Exercises graded by the kit itself: a learner changes a sandbox root (or writes down a
prediction), and the kit's own image checks, plans and security scores say whether it worked.

Each :class:`Exercise` has a task and a grader. :func:`start` gives a learner an
:class:`Attempt`: a fresh sandbox root of its own with the exercise's images (``broken-*``
samples to repair, a running service to detach, ...). The learner works in ``attempt.root``
(``root.write_file``, ``root.remove``, ``root.apply(plan_attach(...))``) and calls
``attempt.check()`` — or ``attempt.check(answer=...)`` for a prediction. The :class:`Result`
shows itself as ``✓`` or as a hint: the ``fix`` of the image check finding that still fails,
or what portabled says and what to try instead. Nothing is graded by reading the learner's
code: only the sandbox (and the answer given) is looked at.

>>> attempt = start("no-id")
>>> result = attempt.check()
>>> result.passed, result.rule
(False, 'os-release-no-id')
>>> attempt.root.write_file(
...     "/var/lib/portables/broken-no-id/usr/lib/os-release", 'PRETTY_NAME="No ID"\\nID=debian\\n'
... )
>>> print(attempt.check())
✓ Exercise 2 (no-id): broken-no-id attaches.

The exercises, in order, are in :data:`EXERCISES`; :mod:`portablekit.exercises.catalogue`
holds their graders, :mod:`portablekit.exercises.base` the values. The library never prints:
a result shows itself when a notebook cell ends with it (``_repr_pretty_``), and
``str(result)`` is the same text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..samples import SampleSandbox, sample_sandbox
from ..sandbox import SandboxRoot
from ..versions import Systemd
from .base import Exercise, Result
from .catalogue import CATALOGUE, has_network

__all__ = ["EXERCISES", "Attempt", "Exercise", "Result", "check", "has_network", "start"]


@dataclass(slots=True)
class Attempt:
    """A learner's go at one exercise: the exercise and a sandbox root of its own (``root``).
    The root is temporary: it goes with the attempt (or at :meth:`close`)."""

    exercise: Exercise
    lab: SampleSandbox = field(repr=False)

    @property
    def root(self) -> SandboxRoot:
        """The learner's sandbox root: change it, then :meth:`check`."""
        return self.lab.root

    def check(self, answer: Any = None) -> Result:
        """Grade the sandbox as it is now (and ``answer``, for a prediction)."""
        return check(self.exercise.key, self.root, answer)

    def close(self) -> None:
        """Remove the sandbox root."""
        self.lab.root.close()

    def __repr__(self) -> str:
        return f"Attempt(exercise={self.exercise.key!r})"

    def _repr_markdown_(self) -> str:
        return self.exercise.markdown()


#: Every exercise by key, in course order (numbers 1..n).
EXERCISES: dict[str, Exercise] = {e.key: e for e in CATALOGUE}


def _find(exercise: str | int) -> Exercise:
    if isinstance(exercise, int):
        for e in EXERCISES.values():
            if e.number == exercise:
                return e
    elif exercise in EXERCISES:
        return EXERCISES[exercise]
    raise KeyError(
        f"no exercise {exercise!r}; exercises: "
        + ", ".join(f"{e.number} {e.key}" for e in EXERCISES.values())
    )


def start(
    exercise: str | int, *, systemd: Systemd = Systemd(), samples: Iterable[str] = ()
) -> Attempt:
    """A fresh attempt at ``exercise`` (its key or number): a temporary sandbox root with the
    exercise's sample images (and ``samples``), set up as the task describes."""
    ex = _find(exercise)
    names = list(dict.fromkeys([*ex.samples, *samples]))
    lab = sample_sandbox(systemd=systemd, names=names)
    try:
        if ex.setup is not None:
            ex.setup(lab.root)
    except BaseException:
        lab.root.close()
        raise
    return Attempt(ex, lab)


def check(exercise: str | int, root: SandboxRoot, answer: Any = None) -> Result:
    """Grade ``root`` (and ``answer``) for ``exercise`` with the kit's checks and plans."""
    ex = _find(exercise)
    v = ex.grade(root, answer)
    return Result(ex.key, ex.number, v.passed, v.message, v.hint, v.detail, v.rule)

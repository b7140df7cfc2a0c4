"""The values of :mod:`portablekit.exercises`: an exercise, a grader's verdict, a result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..sandbox import SandboxRoot

__all__ = ["Exercise", "Grade", "Grader", "Result"]


@dataclass(frozen=True, slots=True)
class Result:
    """What the grader found: ``passed``, and if not, a ``hint`` (what to change next), the
    ``detail`` the hint is based on (portabled's message, what the sandbox holds) and the image
    check ``rule`` whose ``fix`` the hint is, when one is. ``bool(result)`` is ``passed``."""

    exercise: str
    number: int
    passed: bool
    message: str
    hint: str = ""
    detail: str = ""
    rule: str | None = None

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = f"Exercise {self.number} ({self.exercise})"
        if self.passed:
            return f"✓ {head}: {self.message}"
        lines = [f"✗ {head}: {self.message}"]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        if self.detail:
            lines.append(f"  seen: {self.detail}")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


#: A grader: the learner's sandbox root and answer → (passed, message, hint, detail, rule).
Grader = Callable[[SandboxRoot, Any], "Grade"]


@dataclass(frozen=True, slots=True)
class Grade:
    """What a grader returns; :func:`check` turns it into a :class:`Result`."""

    passed: bool
    message: str
    hint: str = ""
    detail: str = ""
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class Exercise:
    """One exercise: its key and number, a title, the task as the learner reads it, the
    sample images its sandbox starts with, a set-up run on that sandbox, and the grader.
    ``answer`` says what :meth:`Attempt.check` expects as ``answer=`` (empty: none, the
    sandbox is graded)."""

    key: str
    number: int
    title: str
    task: str
    samples: tuple[str, ...]
    grade: Grader = field(repr=False)
    setup: Callable[[SandboxRoot], None] | None = field(default=None, repr=False)
    answer: str = ""

    def markdown(self) -> str:
        """The task as Markdown: a heading and the text."""
        text = f"**Exercise {self.number} · {self.title}**\n\n{self.task}"
        if self.answer:
            text += f"\n\nAnswer with `check(answer=...)`: {self.answer}."
        return text

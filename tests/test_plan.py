"""Plan values: operations, change records, what a plan leaves behind, plans put together."""

from __future__ import annotations

import ast
from pathlib import Path, PurePosixPath

import pytest

import portablekit
from portablekit.errors import PortabledError
from portablekit.portabled.plan import (
    Change,
    ChangeType,
    Op,
    OpKind,
    Plan,
    note_pending,
)
from portablekit.source import FileKind

P = PurePosixPath
PACKAGE = Path(portablekit.__file__).parent


def _runtime_imports(path: Path) -> set[str]:
    """Modules a file imports when it runs (``if TYPE_CHECKING:`` blocks left out)."""
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            out.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_plan_values_import_no_planner() -> None:
    assert _runtime_imports(PACKAGE / "portabled" / "plan.py") <= {
        "__future__",
        "collections.abc",
        "dataclasses",
        "enum",
        "pathlib",
        "typing",
        "..display",  # how a plan shows itself in a notebook (imports nothing at load)
        "..errors",
        "..source",
        ".pending",  # the record of what operations leave behind: a mapping, no planner
    }
    sandbox = {
        m.lstrip(".")
        for f in (PACKAGE / "sandbox").glob("*.py")
        for m in _runtime_imports(f)
        if m.lstrip(".").startswith("portabled")
    }
    assert sandbox == {"portabled.host", "portabled.plan", "portabled.profiles"}
    assert ".plan" not in _runtime_imports(PACKAGE / "portabled" / "state.py")


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (Change(ChangeType.SYMLINK, "/a", "/b"), "Created symlink /a \u2192 /b."),
        (Change(ChangeType.COPY, "/a", "/b"), "Copied /b \u2192 /a."),
        (Change(ChangeType.COPY, "/a"), "Copied /a."),
        (Change(ChangeType.UNLINK, "/a"), "Removed /a."),
        (Change(ChangeType.WRITE, "/a"), "Written /a."),
        (Change(ChangeType.MKDIR, "/a"), "Created directory /a."),
    ],
)
def test_change_lines(change: Change, line: str) -> None:
    assert str(change) == line
    assert change.to_dict()["type"] == change.type.value


def test_ops_say_what_they_leave() -> None:
    leaves = {k: Op(k, P("/x")).leaves for k in OpKind}
    assert {k for k, v in leaves.items() if v is None} == {
        OpKind.UNLINK,
        OpKind.RMDIR,
        OpKind.REMOVE_TREE,
    }
    assert leaves[OpKind.MKDIR] is leaves[OpKind.COPY_TREE] is FileKind.DIR
    assert leaves[OpKind.SYMLINK] is FileKind.SYMLINK
    # the service manager's operations rewrite its state file
    assert leaves[OpKind.START] is leaves[OpKind.STOP] is FileKind.FILE
    start = Op(OpKind.START, P("/run/portablekit/active-units"), target="a.service")
    assert start.to_dict() == {
        "op": "start",
        "path": "/run/portablekit/active-units",
        "target": "a.service",
    }


def test_pending_removal_takes_what_is_below() -> None:
    pending: dict[PurePosixPath, FileKind | None] = {}
    note_pending(pending, Op(OpKind.MKDIR, P("/d")))
    note_pending(pending, Op(OpKind.WRITE, P("/d/f"), data=b"x"))
    note_pending(pending, Op(OpKind.SYMLINK, P("/l"), target="/d"))
    assert pending == {P("/d"): FileKind.DIR, P("/d/f"): FileKind.FILE, P("/l"): FileKind.SYMLINK}
    note_pending(pending, Op(OpKind.REMOVE_TREE, P("/d")))
    assert pending == {P("/d"): None, P("/d/f"): None, P("/l"): FileKind.SYMLINK}
    plan = Plan("x", "i", ops=(Op(OpKind.MKDIR, P("/d")), Op(OpKind.RMDIR, P("/d"))))
    assert plan.pending() == {P("/d"): None}
    assert plan.pending({P("/d/old"): FileKind.FILE}) == {P("/d/old"): None, P("/d"): None}


def test_with_steps_runs_plans_around_a_plan() -> None:
    def op(name: str) -> Op:
        return Op(OpKind.UNLINK, P("/" + name))

    error = PortabledError("refused")
    main = Plan(
        "detach",
        "img",
        ops=(op("main"),),
        changes=(Change(ChangeType.UNLINK, "/main"),),
        units=("u.service",),
        error=error,
        runtime=True,
    )
    before = Plan("disable", "img", (op("b"),), (Change(ChangeType.UNLINK, "/b"),))
    after = Plan("start", "img", (op("a"),), (Change(ChangeType.UNLINK, "/a"),))
    both = main.with_steps(before=[before], after=[after])
    assert [str(o.path) for o in both.ops] == ["/b", "/main", "/a"]
    assert [c.path for c in both.printed_changes()] == ["/b", "/main", "/a"]
    assert (both.verb, both.image, both.units, both.error, both.runtime) == (
        "detach",
        "img",
        ("u.service",),
        error,
        True,
    )
    assert main.with_steps() == main


def test_docstring_examples() -> None:
    import doctest

    import portablekit.portabled.plan

    result = doctest.testmod(portablekit.portabled.plan)
    assert result.failed == 0 and result.attempted > 0

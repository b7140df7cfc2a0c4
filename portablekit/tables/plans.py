"""Frames of attaching: the file operations and change records of a plan, and what a sandbox
root holds afterwards (attached units, the files under the attach directories).
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from pathlib import PurePosixPath

import pandas as pd

from ..errors import ImagePathError
from ..portabled.host import Host
from ..portabled.plan import Op, OpKind, Plan
from ..portabled.state import unit_states
from ..source import FileKind
from ._common import BOOL, CHANGE_TYPE, FILE_KIND, INT, OP_KIND, STR, UNIT_TYPE, _frame, _unit_type

__all__ = [
    "changes_frame",
    "diff_frame",
    "plan_diff_frame",
    "plan_frame",
    "sandbox_frame",
    "tree_frame",
]


PLAN_SCHEMA: dict[str, object] = {
    "step": INT,
    "op": OP_KIND,
    "path": STR,
    "target": STR,
    "source": STR,
    "mode": STR,
    "size": INT,
    "replace": BOOL,
}


def plan_frame(plan: Plan) -> pd.DataFrame:
    """Every file operation of a plan, in the order portabled performs them (``step`` 1..n).

    ``target`` is a link's target, ``source`` what a copy copies from, ``mode`` the octal mode
    of what is created, ``size`` the bytes written; all host paths inside the sandbox root.
    """
    rows = []
    for i, op in enumerate(plan.ops, start=1):
        creates = op.kind in (OpKind.MKDIR, OpKind.WRITE)
        rows.append(
            {
                "step": i,
                "op": op.kind.value,
                "path": str(op.path),
                "target": op.target,
                "source": str(op.source) if op.source is not None else None,
                "mode": f"{op.mode:04o}" if creates else None,
                "size": len(op.data) if op.data is not None else None,
                "replace": op.replace,
            }
        )
    return _frame(rows, PLAN_SCHEMA, ["step"])


CHANGES_SCHEMA: dict[str, object] = {
    "step": INT,
    "type": CHANGE_TYPE,
    "path": STR,
    "source": STR,
    "line": STR,
}


def changes_frame(plan: Plan) -> pd.DataFrame:
    """The change records portablectl prints for a plan (``line`` is the printed line)."""
    rows = [
        {
            "step": i,
            "type": c.type.value,
            "path": c.path,
            "source": c.source or None,
            "line": str(c),
        }
        for i, c in enumerate(plan.printed_changes(), start=1)
    ]
    return _frame(rows, CHANGES_SCHEMA, ["step"])


SANDBOX_SCHEMA: dict[str, object] = {
    "unit": STR,
    "type": UNIT_TYPE,
    "image": STR,
    "extensions": STR,
    "runtime": BOOL,
    "unit_file_state": STR,
    "active_state": STR,
    "enabled": BOOL,
    "running": BOOL,
}


def sandbox_frame(host: Host) -> pd.DataFrame:
    """Every portable unit attached in the sandbox root, with what the (simulated) service
    manager says about it. Sorted by runtime, unit."""
    rows = [
        {
            "unit": s.unit,
            "type": _unit_type(s.unit),
            "image": s.image,
            "extensions": " ".join(s.extensions) or None,
            "runtime": s.runtime,
            "unit_file_state": s.unit_file_state,
            "active_state": s.active_state,
            "enabled": s.enabled,
            "running": s.running,
        }
        for s in unit_states(host)
    ]
    return _frame(rows, SANDBOX_SCHEMA, ["runtime", "unit"])


TREE_SCHEMA: dict[str, object] = {
    "path": STR,
    "kind": FILE_KIND,
    "target": STR,
    "mode": STR,
    "size": INT,
}

#: The directories attach and detach change.
ATTACH_TREES = (
    "/etc/systemd/system.attached",
    "/run/systemd/system.attached",
    "/etc/portables",
    "/run/portables",
)


def tree_frame(host: Host, under: Sequence[str] = ATTACH_TREES) -> pd.DataFrame:
    """The entries below some host directories (default: where attach writes), links not
    followed. Missing directories give no rows. Sorted by path."""
    rows = []
    for top in under:
        p = PurePosixPath(top)
        if host.kind(p, follow=False) is not FileKind.DIR:
            continue
        try:
            walked = [(p, host.fs.lstat(p)), *host.fs.walk(p)]
        except ImagePathError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                continue
            raise
        for path, st in walked:
            rows.append(
                {
                    "path": str(path),
                    "kind": st.kind.value,
                    "target": host.fs.readlink(path) if st.kind is FileKind.SYMLINK else None,
                    "mode": f"{st.mode & 0o7777:04o}" if st.kind is not FileKind.SYMLINK else None,
                    "size": st.size if st.kind is FileKind.FILE else None,
                }
            )
    return _frame(rows, TREE_SCHEMA, ["path"])


#: What happened to a path between two states of a host.
CHANGE = pd.CategoricalDtype(categories=["added", "changed", "removed"])

DIFF_SCHEMA: dict[str, object] = {
    "path": STR,
    "change": CHANGE,
    "kind": FILE_KIND,
    "before": STR,
    "after": STR,
}


def _entry(kind: object, target: object, mode: object, size: object) -> str | None:
    """One host entry in a few words: ``dir 0755``, ``file 0644, 123 bytes``, ``link → T``."""
    if kind is None or pd.isna(kind):  # type: ignore[call-overload]
        return None
    kind = str(kind)
    if kind == "symlink":
        return f"link → {target}"
    out = kind if kind != "directory" else "dir"
    if mode is not None and not pd.isna(mode):  # type: ignore[call-overload]
        out += f" {mode}"
    if kind == "file" and size is not None and not pd.isna(size):  # type: ignore[call-overload]
        out += f", {int(str(size))} bytes"
    return out


def diff_frame(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """What changed between two :func:`tree_frame` snapshots of a host: one row per path
    ``added``, ``changed`` (kind, link target, mode or size differ) or ``removed``, with the
    entry before and after in a few words. Sorted by path; paths that did not change are left
    out. Contents are not compared (a same-size rewrite does not show)."""
    cols = ["kind", "target", "mode", "size"]
    old = {r["path"]: r for r in before.to_dict(orient="records")}
    new = {r["path"]: r for r in after.to_dict(orient="records")}
    rows = []
    for path in sorted(old.keys() | new.keys()):
        a, b = old.get(path), new.get(path)
        if a is not None and b is not None:
            same = all((pd.isna(a[c]) and pd.isna(b[c])) or (a[c] == b[c]) for c in cols)
            if same:
                continue
            change = "changed"
        else:
            change = "added" if a is None else "removed"
        rows.append(
            {
                "path": path,
                "change": change,
                "kind": (b if b is not None else a or {}).get("kind"),
                "before": _entry(*(a[c] for c in cols)) if a is not None else None,
                "after": _entry(*(b[c] for c in cols)) if b is not None else None,
            }
        )
    return _frame(rows, DIFF_SCHEMA, ["path"])


def plan_diff_frame(host: Host, plan: Plan) -> pd.DataFrame:
    """What carrying out ``plan`` on ``host`` would add, change and remove, computed from the
    plan without writing: :func:`diff_frame`'s columns, one row per path the plan leaves
    different (a path created and removed again by the same plan is left out; below a removed
    tree only the tree's top is listed). Sorted by path."""
    last: dict[PurePosixPath, Op] = {}
    for op in plan.ops:
        last[op.path] = op
    rows = []
    for path, leaves in sorted(plan.pending().items()):
        existed = host.kind(path, follow=False)
        if leaves is None and existed is None:
            continue
        before = None
        if existed is not None:
            st = host.fs.lstat(path)
            before = _entry(
                st.kind.value,
                host.fs.readlink(path) if st.kind is FileKind.SYMLINK else None,
                f"{st.mode & 0o7777:04o}" if st.kind is not FileKind.SYMLINK else None,
                st.size if st.kind is FileKind.FILE else None,
            )
        final = last.get(path)
        after = None
        if leaves is not None and final is not None:
            creates = final.kind in (OpKind.MKDIR, OpKind.WRITE)
            after = _entry(
                leaves.value,
                final.target,
                f"{final.mode:04o}" if creates else None,
                len(final.data) if final.data is not None else None,
            )
        rows.append(
            {
                "path": str(path),
                "change": "removed" if leaves is None else "changed" if existed else "added",
                "kind": (leaves or existed or FileKind.FILE).value,
                "before": before,
                "after": after,
            }
        )
    return _frame(rows, DIFF_SCHEMA, ["path"])

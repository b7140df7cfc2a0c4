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
from ..portabled.plan import OpKind, Plan
from ..portabled.state import unit_states
from ..source import FileKind
from ._common import BOOL, CHANGE_TYPE, FILE_KIND, INT, OP_KIND, STR, UNIT_TYPE, _frame, _unit_type

__all__ = [
    "changes_frame",
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

"""File-system dumps in the oracle's text format (``changes.txt``, ``tree.txt``).

A :class:`Snapshot` records every entry below a sandbox root (type, mode, owner, link target,
content digest). :func:`render_changes` compares two snapshots the way the oracle compares its
overlay with the lower layers; :func:`render_tree` lists watched directories in full. The text
is byte-compatible with the oracle's dumper, so ``compare`` can judge a replay.

Owners: the sandbox plays a host where everything belongs to root, so the user running the
simulation is shown as ``0:0``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat as _stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = [
    "DEFAULT_EXCLUDES",
    "WATCHED",
    "Entry",
    "Snapshot",
    "render_changes",
    "render_tree",
]

#: Directories dumped in full after every step.
WATCHED = (
    "/etc/systemd/system.attached",
    "/run/systemd/system.attached",
    "/etc/portables",
    "/run/portables",
)

#: Paths that are not part of the simulated host's persistent state (separate mounts in the
#: oracle, or the simulation's own state).
DEFAULT_EXCLUDES = (
    "/run/portablekit",
    "/proc",
    "/sys",
    "/dev",
    "/tmp",
    "/run/dbus",
    "/run/user/0/bus",
    "/root/.cache",
)

BINARY_TEXT_MAX = 512

_TYPES = (
    (_stat.S_ISDIR, "dir"),
    (_stat.S_ISREG, "file"),
    (_stat.S_ISLNK, "symlink"),
    (_stat.S_ISSOCK, "socket"),
    (_stat.S_ISFIFO, "fifo"),
    (_stat.S_ISCHR, "chardev"),
    (_stat.S_ISBLK, "blockdev"),
)


def _ftype(mode: int) -> str:
    for test, name in _TYPES:
        if test(mode):
            return name
    return "unknown"


@dataclass(frozen=True, slots=True)
class Entry:
    """One path of a snapshot."""

    path: str
    type: str
    mode: int
    uid: int
    gid: int
    target: str | None = None
    size: int = 0
    digest: str | None = None
    rdev: str | None = None  # "MAJOR:MINOR" of a device node

    def same(self, other: Entry) -> bool:
        """Equal in everything the oracle looks at (not times, inodes, sizes or device numbers
        as such: the oracle's ``same`` leaves them out too)."""
        return (self.type, self.mode, self.uid, self.gid, self.target, self.digest) == (
            other.type,
            other.mode,
            other.uid,
            other.gid,
            other.target,
            other.digest,
        )


def _owner(uid: int, gid: int) -> tuple[int, int]:
    return (0 if uid == os.geteuid() else uid, 0 if gid == os.getegid() else gid)


def _describe(real: Path, shown: str) -> Entry:
    st = os.lstat(real)
    kind = _ftype(st.st_mode)
    uid, gid = _owner(st.st_uid, st.st_gid)
    if kind == "symlink":
        return Entry(shown, kind, _stat.S_IMODE(st.st_mode), uid, gid, target=os.readlink(real))
    if kind == "file":
        h = hashlib.sha256()
        with open(real, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return Entry(
            shown, kind, _stat.S_IMODE(st.st_mode), uid, gid, size=st.st_size, digest=h.hexdigest()
        )
    rdev = None
    if kind in ("chardev", "blockdev"):
        rdev = f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
    return Entry(shown, kind, _stat.S_IMODE(st.st_mode), uid, gid, rdev=rdev)


def _excluded(path: str, excludes: Sequence[str]) -> bool:
    return any(path == ex or path.startswith(ex.rstrip("/") + "/") for ex in excludes)


class Snapshot:
    """Every entry below a root (links not followed), keyed by host path."""

    def __init__(self, root: Path, entries: dict[str, Entry]) -> None:
        self.root = root
        self.entries = entries

    @classmethod
    def take(
        cls, root: str | os.PathLike[str], excludes: Sequence[str] = DEFAULT_EXCLUDES
    ) -> Snapshot:
        """Walk ``root`` and record every entry except ``excludes``."""
        r = Path(root)
        entries: dict[str, Entry] = {}
        for dirpath, dirnames, filenames in os.walk(r):
            rel_dir = "/" + os.path.relpath(dirpath, r) if dirpath != str(r) else ""
            if rel_dir == "/.":
                rel_dir = ""
            keep = []
            for name in dirnames:
                p = f"{rel_dir}/{name}"
                if _excluded(p, excludes):
                    continue
                entries[p] = _describe(Path(dirpath) / name, p)
                if entries[p].type == "dir":
                    keep.append(name)
            dirnames[:] = keep
            for name in filenames:
                p = f"{rel_dir}/{name}"
                if not _excluded(p, excludes):
                    entries[p] = _describe(Path(dirpath) / name, p)
        return cls(r, entries)

    def real(self, path: str) -> Path:
        """The machine path of a host path of this snapshot."""
        return self.root.joinpath(*PurePosixPath(path).parts[1:])


def _content_lines(real: Path, e: Entry) -> list[str]:
    if e.type != "file" or not e.size:
        return []
    data = real.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if len(data) <= BINARY_TEXT_MAX:
            b = base64.b64encode(data).decode()
            return ["    b64|" + b[i : i + 76] for i in range(0, len(b), 76)]
        return ["    sha256|" + hashlib.sha256(data).hexdigest()]
    body = text.split("\n")
    if text.endswith("\n"):
        body = body[:-1]
    out = ["    |" + ln for ln in body]
    if not text.endswith("\n"):
        out.append("    \\ no newline at end of file")
    return out


def _header(e: Entry, change: str | None, old_type: str | None = None) -> str:
    head = [change] if change else []
    head += [e.path, e.type]
    if e.type != "symlink":
        head.append(f"{e.mode:04o} {e.uid}:{e.gid}")
    if old_type:
        head.append(f"(was {old_type})")
    if e.type == "symlink":
        head.append(f"-> {e.target}")
    if e.rdev is not None:
        head.append(f"rdev={e.rdev}")
    if e.type == "file":
        head.append(f"{e.size} bytes")
    return " ".join(head)


def _finish(lines: list[str]) -> str:
    return "\n".join(lines or ["(no entries)"]) + "\n"


def render_changes(initial: Snapshot, current: Snapshot) -> str:
    """What changed between two snapshots, as the oracle's ``changes.txt``."""
    items: list[tuple[str, list[str]]] = []
    cur = current.entries
    old = initial.entries
    for path, e in cur.items():
        before = old.get(path)
        if before is None:
            items.append((path, [_header(e, "added"), *_content_lines(current.real(path), e)]))
        elif not e.same(before):
            was = before.type if before.type != e.type else None
            items.append(
                (path, [_header(e, "modified", was), *_content_lines(current.real(path), e)])
            )
    for path, e in old.items():
        if path in cur:
            continue
        parent = str(PurePosixPath(path).parent)
        pe = cur.get(parent)
        if parent == "/" or (pe is not None and pe.type == "dir"):
            items.append((path, [f"deleted {path} {e.type}"]))
    items.sort(key=lambda it: it[0].encode("utf-8", "surrogateescape"))
    return _finish([ln for _, lines in items for ln in lines])


def render_tree(current: Snapshot, watched: Iterable[str] = WATCHED) -> str:
    """Full listing of the watched directories, as the oracle's ``tree.txt``."""
    items: list[tuple[str, list[str]]] = []
    for w in watched:
        real = current.real(w)
        if not os.path.lexists(real):
            items.append((w, [f"{w} absent"]))
            continue
        e = _describe(real, w)
        items.append((w, [_header(e, None), *_content_lines(real, e)]))
        if e.type != "dir":
            continue
        for dirpath, dirnames, filenames in os.walk(real):
            dirnames.sort()
            rel = os.path.relpath(dirpath, real)
            base = w if rel == "." else f"{w}/{rel}"
            for name in sorted(dirnames + filenames):
                p = f"{base}/{name}"
                full = Path(dirpath) / name
                pe = _describe(full, p)
                items.append((p, [_header(pe, None), *_content_lines(full, pe)]))
    items.sort(key=lambda it: it[0].encode("utf-8", "surrogateescape"))
    return _finish([ln for _, lines in items for ln in lines])

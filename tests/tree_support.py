"""Small random trees (directories, files, links of every kind) and how to compare two
sources' answers about them: shared by the property tests of the caching sources."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from hypothesis import strategies as st

from portablekit.errors import ImagePathError
from portablekit.source import Symlink

NAMES = ["a", "b", "c.service", "d.d"]
TARGETS = ["a", "../a", "/b", "/a/b", "..", ".", "/", "c.service", "nowhere", "/a/../d.d/x"]


@st.composite
def trees(draw: st.DrawFn, targets: list[str] = TARGETS) -> dict[str, str | Symlink | None]:
    """A small tree: directories, files and links (relative, absolute, dangling, looping)."""
    out: dict[str, str | Symlink | None] = {}
    for _ in range(draw(st.integers(1, 14))):
        parent = draw(st.sampled_from(["", "a/", "b/", "a/b/", "d.d/"]))
        name = parent + draw(st.sampled_from(NAMES))
        if any(name.startswith(p + "/") for p, v in out.items() if v is not None):
            continue  # a file or link where a parent directory is wanted
        kind = draw(st.sampled_from(["dir", "file", "link"]))
        if kind == "dir":
            out.setdefault(name, None)
        elif kind == "file":
            out[name] = f"content of {name}\n"
        else:
            out[name] = Symlink(draw(st.sampled_from(targets)))
    return out


def lay(files: dict[str, str | Symlink | None], where: Path) -> None:
    """Lay the entries whose parents can be plain directories; skip the others."""
    for name, content in sorted(files.items(), key=lambda kv: kv[0].count("/")):
        parts = name.split("/")
        cur = where
        for part in parts[:-1]:
            cur = cur / part
            if not os.path.lexists(cur):
                cur.mkdir()
            elif cur.is_symlink() or not cur.is_dir():
                break
        else:
            p = cur / parts[-1]
            if os.path.lexists(p):
                continue
            if content is None:
                p.mkdir()
            elif isinstance(content, Symlink):
                os.symlink(content.target, p)
            else:
                p.write_text(content)


def answer(fn: Callable[..., object], *args: object, **kwargs: object) -> object:
    """What ``fn(*args, **kwargs)`` returns, or the error it raises (type, errno, path)."""
    try:
        return fn(*args, **kwargs)
    except ImagePathError as e:
        return ("error", type(e).__name__, e.errno, e.filename)


PATHS = st.lists(
    st.sampled_from(["a", "b", "c.service", "d.d", "x", "..", "."]), min_size=0, max_size=4
).map(lambda parts: "/" + "/".join(parts))

"""Pending changes: what planned operations leave at each host path, found by directory.

A planner plans each operation against the host as the operations before it leave it
(:meth:`~portablekit.portabled.host.Host.overlay`). :class:`PendingChanges` holds that record,
``{path: kind}`` with ``None`` where something is removed, and indexes it by directory, so that
what lies below a removed directory and what a directory will list are found without looking
at every pending path: planning thousands of units stays linear in their number.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from itertools import pairwise
from pathlib import PurePosixPath

from ..source import FileKind

__all__ = ["PendingChanges"]


class PendingChanges(MutableMapping[PurePosixPath, FileKind | None]):
    """What pending operations leave at each host path they touch: ``{path: kind}``, ``None``
    where something is removed (with everything below it).

    A mutable mapping like a ``dict`` (and equal to a ``dict`` of the same items), indexed by
    directory as well: :meth:`below` and :meth:`children` cost what they return, not the
    number of entries.

    >>> p = PendingChanges({PurePosixPath("/d/f"): FileKind.FILE})
    >>> [str(q) for q in p.below(PurePosixPath("/"))], [str(q) for q in p.children("/d")]
    (['/d/f'], ['/d/f'])
    """

    def __init__(
        self,
        items: Mapping[PurePosixPath, FileKind | None]
        | Iterable[tuple[PurePosixPath, FileKind | None]] = (),
    ) -> None:
        self._kinds: dict[PurePosixPath, FileKind | None] = {}
        #: the entries by their path string
        self._paths: dict[str, PurePosixPath] = {}
        #: every path with an entry below it -> the paths one level below it on the way to
        #: one, as strings (walking up a string makes no path object per level)
        self._tree: dict[str, set[str]] = {}
        #: how many entries say "removed" (None): while none do, only a path itself decides
        self._removals = 0
        self.update(items)

    def __getitem__(self, path: PurePosixPath) -> FileKind | None:
        return self._kinds[path]

    def __setitem__(self, path: PurePosixPath, kind: FileKind | None) -> None:
        if path not in self._kinds:
            s = str(path)
            self._paths[s] = path
            tree = self._tree
            for child, parent in _upwards(s, path):
                below = tree.get(parent)
                if below is None:
                    tree[parent] = {child}
                elif child in below:
                    break
                else:
                    below.add(child)
        else:
            self._removals -= self._kinds[path] is None
        self._removals += kind is None
        self._kinds[path] = kind

    def __delitem__(self, path: PurePosixPath) -> None:
        self._removals -= self._kinds[path] is None
        del self._kinds[path]  # the index keeps the way there: below() skips what is gone
        del self._paths[str(path)]

    @property
    def removes(self) -> bool:
        """Whether any entry is a removal (``None``): if not, no pending change decides a path
        through one of its parents."""
        return self._removals > 0

    def __iter__(self) -> Iterator[PurePosixPath]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def __repr__(self) -> str:
        return f"PendingChanges({self._kinds!r})"

    def children(self, path: str | PurePosixPath) -> list[PurePosixPath]:
        """The entries directly in directory ``path``."""
        paths = self._paths
        below = self._tree.get(_key(path), ())
        return [paths[q] for q in below if q in paths]

    def below(self, path: PurePosixPath) -> list[PurePosixPath]:
        """Every entry strictly below ``path``, at any depth."""
        paths, tree = self._paths, self._tree
        out = []
        todo = list(tree.get(_key(path), ()))
        while todo:
            q = todo.pop()
            if q in paths:
                out.append(paths[q])
            todo.extend(tree.get(q, ()))
        return out


def _key(path: str | PurePosixPath) -> str:
    """The string a path is indexed by (pathlib's spelling)."""
    return str(path if isinstance(path, PurePosixPath) else PurePosixPath(path))


def _upwards(s: str, path: PurePosixPath) -> Iterator[tuple[str, str]]:
    """``(child, parent)`` strings from ``path`` up to its root (``/``, or ``.`` for a relative
    path), as pathlib's ``parent`` walks."""
    if s.startswith("//") and not s.startswith("///"):  # pathlib keeps a root of two slashes
        spelt = [str(p) for p in (path, *path.parents)]
        yield from pairwise(spelt)
        return
    child = s
    while True:
        head, sep, _ = child.rpartition("/")
        parent = (head or "/") if sep else "."
        if parent == child:
            return
        yield child, parent
        child = parent

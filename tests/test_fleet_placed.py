"""The fleet's readers answer exactly as the plain directory reader does.

A fleet scan reads each directory image through :class:`~portablekit.fleet.placed.DirectoryTree`
behind a :class:`~portablekit.fleet.placed.CachingSource` (which also remembers where the walk
of each directory ended, so that the entries of one directory cost one lookup each), and shows
it on the fresh host through :class:`~portablekit.fleet.placed._PlacedFS`. Whatever order the
questions come in, every answer (a path, a kind, an error with its errno and path) must be the
one :class:`~portablekit.source.DirectorySource` gives for the same tree laid out for real.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_support import PATHS, TARGETS, answer, lay, trees

from portablekit.fleet.placed import CachingSource, DirectoryTree, _PlacedFS
from portablekit.source import DirectorySource, ImageSource, Symlink

#: link targets besides the usual ones: a root of two slashes (pathlib keeps it, so the
#: string walk hands such a path to the general one) and long chains
MORE_TARGETS = [*TARGETS, "//a", "///b", "a/b/../../c.service", "d.d/../a/b"]

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same(reference: ImageSource, fast: ImageSource, paths: list[str]) -> None:
    for path in paths:
        for follow in (True, False):
            for op in ("resolve", "kind", "exists"):
                want = answer(getattr(reference, op), path, follow=follow)
                assert answer(getattr(fast, op), path, follow=follow) == want, (op, path, follow)
                # asked again (now from the caches): the same answer
                assert answer(getattr(fast, op), path, follow=follow) == want, (op, path, follow)
            want_path = answer(reference.resolve, PurePosixPath(path), follow=follow)
            assert answer(fast.resolve, PurePosixPath(path), follow=follow) == want_path, path
        got = answer(fast.read_file, path, limit=12)
        assert got == answer(reference.read_file, path, limit=12), path


@SETTINGS
@given(trees(MORE_TARGETS), st.lists(PATHS, min_size=1, max_size=16))
def test_cached_directory_tree_answers_as_the_directory(
    files: dict[str, str | Symlink | None], paths: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lay(files, Path(tmp))
        fast = CachingSource(DirectoryTree(tmp, "/img"))
        try:
            _same(DirectorySource(tmp, label="/img"), fast, paths)
        finally:
            fast.close()


def _under(image: str, path: str) -> str:
    return image + path if path != "/" else image


@SETTINGS
@given(
    trees(MORE_TARGETS),
    trees(MORE_TARGETS),
    st.lists(st.tuples(st.booleans(), PATHS), min_size=1, max_size=16),
)
def test_an_image_placed_on_a_host_reads_as_if_copied_there(
    host_files: dict[str, str | Symlink | None],
    image_files: dict[str, str | Symlink | None],
    asked: list[tuple[bool, str]],
) -> None:
    """The host's tree with the image shown at /a/img answers as a host directory holding a
    copy of the image there: links inside the image that point out of it land on the host."""
    with tempfile.TemporaryDirectory() as tmp:
        host, image, copy = Path(tmp, "host"), Path(tmp, "image"), Path(tmp, "copy")
        for d in (host, image):
            d.mkdir()
        lay(host_files, host)
        lay(image_files, image)
        if not (host / "a").is_dir() or (host / "a").is_symlink():
            return  # the host has no directory /a to place the image in
        shutil.copytree(host, copy, symlinks=True)
        if os.path.lexists(copy / "a" / "img"):
            return
        shutil.copytree(image, copy / "a" / "img", symlinks=True)
        tree = CachingSource(DirectoryTree(image, "/a/img"))
        placed = _PlacedFS(CachingSource(DirectorySource(host)), PurePosixPath("/a/img"), tree)
        try:
            paths = [_under("/a/img", p) if inside else p for inside, p in asked]
            _same(DirectorySource(copy), placed, paths)
        finally:
            tree.close()


def test_links_followed_on_the_way_to_a_directory_count_for_every_entry(tmp_path: Path) -> None:
    """The walk of an entry picks up where its directory's walk ended, links counted: 21
    links to reach the directory and 15 more from the entry make 36, past the kernel's 32."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "file").write_text("x")
    os.symlink("real", tmp_path / "d21")
    for i in range(21, 1, -1):
        os.symlink(f"d{i}", tmp_path / f"d{i - 1}")
    os.symlink("file", tmp_path / "real" / "f16")
    for i in range(16, 2, -1):
        os.symlink(f"f{i}", tmp_path / "real" / f"f{i - 1}")
    reference = DirectorySource(tmp_path, label="/img")
    fast = CachingSource(DirectoryTree(tmp_path, "/img"))
    try:
        asked = ["/d1/file", "/d1/f2", "/d1/f10", "/real/f2"]
        _same(reference, fast, asked)
        loop = ("error", "SymlinkLoopError", errno.ELOOP, "/d1/f2")
        assert answer(fast.resolve, "/d1/f2") == loop
        assert fast.resolve("/d1/f10") == PurePosixPath("/real/file")
    finally:
        fast.close()

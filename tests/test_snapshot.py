"""SnapshotSource answers exactly as the source it reads, from one listing per directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_support import PATHS, answer, lay, trees

from portablekit.errors import ImagePathError
from portablekit.portabled.host import Host
from portablekit.portabled.snapshot import SnapshotSource
from portablekit.source import DirectorySource, FileKind, ImageSource, MemorySource, Symlink


def _same(reference: ImageSource, snap: SnapshotSource, paths: list[str]) -> None:
    for path in paths:
        for follow in (True, False):
            for op in ("resolve", "kind", "exists"):
                got = answer(getattr(snap, op), path, follow=follow)
                assert got == answer(getattr(reference, op), path, follow=follow), (op, path)
        got = answer(snap.read_file, path, limit=12)
        assert got == answer(reference.read_file, path, limit=12), path
        listing = answer(lambda p: sorted(snap.iterdir(p)), path)
        assert listing == answer(lambda p: sorted(reference.iterdir(p)), path), path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(), st.lists(PATHS, min_size=1, max_size=12))
def test_snapshot_of_a_directory_answers_as_the_directory(
    files: dict[str, str | Symlink | None], paths: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lay(files, Path(tmp))
        reference = DirectorySource(tmp)
        _same(reference, SnapshotSource(DirectorySource(tmp)), paths)


@settings(max_examples=60, deadline=None)
@given(trees(), st.lists(PATHS, min_size=1, max_size=12))
def test_snapshot_of_a_memory_tree_answers_as_the_tree(
    files: dict[str, str | Symlink | None], paths: list[str]
) -> None:
    try:
        reference = MemorySource(files)
    except ValueError:
        return  # a file where the tree wants a directory: not a tree
    _same(reference, SnapshotSource(reference), paths)


def test_listing_kinds_in_one_pass(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    os.symlink("f", tmp_path / "l")
    os.mkfifo(tmp_path / "p")
    kinds = DirectorySource(tmp_path).listdir_kinds(PurePosixPath("/"))
    assert kinds == {
        "d": FileKind.DIR,
        "f": FileKind.FILE,
        "l": FileKind.SYMLINK,
        "p": FileKind.FIFO,
    }
    with pytest.raises(ImagePathError) as e:
        DirectorySource(tmp_path).listdir_kinds(PurePosixPath("/f"))
    assert e.value.filename == "/f"


def test_a_snapshot_does_not_see_later_changes_and_a_new_one_does(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    host = Host(tmp_path)
    snap = host.snapshot()
    assert snap.snapshot() is snap and snap.kind("/etc/new") is None
    (tmp_path / "etc" / "new").write_text("x")
    assert snap.kind("/etc/new") is None  # listed before: a snapshot is for one pass
    assert host.kind("/etc/new") is FileKind.FILE
    assert host.snapshot().kind("/etc/new") is FileKind.FILE
    # an overlay's snapshot keeps the pending changes
    view = host.overlay({PurePosixPath("/etc/new"): None})
    assert view.snapshot().kind("/etc/new") is None and view.snapshot().exists("/etc")

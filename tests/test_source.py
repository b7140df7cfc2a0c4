from __future__ import annotations

import errno
import os
from pathlib import Path, PurePosixPath

import pytest

from portablekit.errors import FileTooLargeError, ImagePathError, SymlinkLoopError
from portablekit.source import DirectorySource, FileKind, MemorySource, Symlink, as_image_path

P = PurePosixPath


def _trees(tmp_path: Path) -> list:
    spec = {
        "usr/lib/os-release": "ID=x\n",
        "etc/os-release": Symlink("/usr/lib/os-release"),
        "etc/rel": Symlink("../usr/lib/os-release"),
        "etc/up": Symlink("../../../../usr/lib/os-release"),
        "loop/a": Symlink("b"),
        "loop/b": Symlink("a"),
        "lib": Symlink("usr/lib"),
        "dangling": Symlink("/nowhere"),
        "escape": Symlink("/../../etc/passwd"),
        "file": "content",
    }
    mem = MemorySource(spec)
    d = tmp_path / "img"
    for name, content in spec.items():
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Symlink):
            os.symlink(content.target, p)
        else:
            p.write_text(content)
    return [mem, DirectorySource(d)]


@pytest.fixture(params=["memory", "directory"])
def src(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    mem, directory = _trees(tmp_path)
    return mem if request.param == "memory" else directory


def test_absolute_link_points_into_the_image(src) -> None:  # type: ignore[no-untyped-def]
    assert src.resolve("/etc/os-release") == P("/usr/lib/os-release")
    assert src.read_file("/etc/os-release") == b"ID=x\n"


def test_dotdot_stops_at_the_image_root(src) -> None:  # type: ignore[no-untyped-def]
    assert src.resolve("/etc/up") == P("/usr/lib/os-release")
    assert src.resolve("/escape") == P("/etc/passwd")
    assert not src.exists("/escape")


def test_relative_and_directory_links(src) -> None:  # type: ignore[no-untyped-def]
    assert src.read_file("/etc/rel") == b"ID=x\n"
    assert src.read_file("/lib/os-release") == b"ID=x\n"
    assert src.is_dir("/lib") and src.kind("/lib", follow=False) is FileKind.SYMLINK


def test_loop_is_a_typed_error(src) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SymlinkLoopError) as e:
        src.resolve("/loop/a")
    assert e.value.errno == errno.ELOOP
    assert not src.exists("/loop/a")


def test_dangling_link(src) -> None:  # type: ignore[no-untyped-def]
    assert not src.exists("/dangling")
    assert src.exists("/dangling", follow=False)
    with pytest.raises(ImagePathError) as e:
        src.read_file("/dangling")
    assert e.value.errno == errno.ENOENT


def test_read_limit(src) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FileTooLargeError) as e:
        src.read_file("/file", limit=3)
    assert "larger than 3 bytes" in str(e.value)


def test_not_a_directory(src) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImagePathError) as e:
        src.resolve("/file/x/y")
    assert e.value.errno == errno.ENOTDIR


def test_iterdir_sorted(src) -> None:  # type: ignore[no-untyped-def]
    assert [p.name for p in src.iterdir("/etc")] == ["os-release", "rel", "up"]


def test_walk_lists_everything_once(src) -> None:  # type: ignore[no-untyped-def]
    paths = [str(p) for p, _ in src.walk()]
    assert len(paths) == len(set(paths))
    assert "/usr/lib/os-release" in paths and "/loop/b" in paths


def test_directory_primitives_never_follow_parent_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("host file")
    img = tmp_path / "img"
    img.mkdir()
    os.symlink(str(outside), img / "out")
    src = DirectorySource(img)
    with pytest.raises(ImagePathError) as e:
        src.read_bytes(P("/out/secret"))
    assert e.value.errno == errno.ENOTDIR
    # resolving re-roots the absolute target inside the image, where it does not exist
    with pytest.raises(ImagePathError) as e2:
        src.resolve("/out/secret")
    assert e2.value.errno == errno.ENOENT
    assert not src.exists("/out/secret")


def test_as_image_path() -> None:
    assert as_image_path("a/../../b/./c") == P("/b/c")


def test_memory_from_source_snapshot(tmp_path: Path) -> None:
    _, d = _trees(tmp_path)
    snap = MemorySource.from_source(d)
    assert snap.read_file("/etc/os-release") == b"ID=x\n"
    assert snap.readlink(P("/lib")) == "usr/lib"


def test_missing_directory_source(tmp_path: Path) -> None:
    with pytest.raises(ImagePathError):
        DirectorySource(tmp_path / "nope")


def test_directory_primitives_report_like_memory(tmp_path: Path) -> None:
    mem, d = _trees(tmp_path)
    for src in (mem, d):
        for path, err in (("/etc", errno.EISDIR), ("/lib", errno.EINVAL)):
            with pytest.raises(ImagePathError) as e:
                src.read_bytes(P(path))
            assert e.value.errno == err, (src, path)

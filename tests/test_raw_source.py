"""The raw sources keep the ImageSource contract exactly as DirectorySource does."""

from __future__ import annotations

import errno
import io
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
from test_raw_support import DATA, craft_gpt, tiny

from portablekit.errors import ImagePathError, MissingExtraError
from portablekit.raw import compress, open_raw_image
from portablekit.samples.raw import gpt_type
from portablekit.source import DirectorySource, ImageSource

sys.path.insert(0, str(DATA))
from make_fixtures import tiny_tree

PROBES = [
    "/",
    "/etc",
    "/etc/os-release",
    "/usr/lib/os-release",
    "/usr/lib/os-release/x",
    "/etc/os-release/x",
    "/missing",
    "/missing/x",
    "/usr/lib/systemd/system/tiny.service",
    "/efi",
]


def outcome(src: ImageSource, op: str, path: str) -> object:
    p = PurePosixPath(path)
    if op == "read_bytes" and isinstance(src, DirectorySource):
        try:
            return src.read_bytes(p)
        except ImagePathError as e:
            return errno.errorcode[e.errno]
        except OSError:
            return "raw OSError"
    try:
        if op == "lstat":
            st = src.lstat(p)
            return (st.kind, st.mode, st.size if st.kind.value != "dir" else None)
        if op == "readlink":
            return src.readlink(p)
        if op == "listdir":
            return sorted(src.listdir(p))
        return src.read_bytes(p)
    except ImagePathError as e:
        assert e.image == src.label
        return errno.errorcode[e.errno]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[ImageSource]:
    tree = tmp_path_factory.mktemp("contract") / "t"
    tiny_tree(tree, "Tiny A")
    gpt = craft_gpt([(str(gpt_type("root")), "root", 0, tiny("a"))])
    return [
        DirectorySource(tree, label="tiny"),
        open_raw_image(io.BytesIO(tiny("a")), label="tiny").source,
        open_raw_image(io.BytesIO(bytes(gpt)), label="tiny").source,
    ]


@pytest.mark.parametrize("op", ["lstat", "readlink", "listdir", "read_bytes"])
@pytest.mark.parametrize("path", PROBES)
def test_same_answers_and_errnos_as_a_directory(
    sources: list[ImageSource], op: str, path: str
) -> None:
    ref, *raw = sources
    want = outcome(ref, op, path)
    if op == "read_bytes":  # DirectorySource lets a raw OSError out here; the contract says:
        kind = outcome(ref, "lstat", path)
        if isinstance(kind, tuple):
            want = {"dir": "EISDIR", "symlink": "EINVAL"}.get(kind[0].value, want)
    for src in raw:
        assert outcome(src, op, path) == want


def test_derived_operations(sources: list[ImageSource]) -> None:
    for src in sources[1:]:
        assert src.read_file("/etc/os-release").startswith(b"ID=debian")
        assert src.resolve("/etc/os-release") == PurePosixPath("/usr/lib/os-release")
        assert [str(p) for p in src.iterdir("/usr/lib")] == [
            "/usr/lib/os-release",
            "/usr/lib/systemd",
        ]
        assert src.read_bytes(PurePosixPath("/usr/lib/os-release"), 3, 6) == b"debian"
        assert src.read_bytes(PurePosixPath("/usr/lib/os-release"), 1000) == b""
        assert src.getxattr(PurePosixPath("/usr/lib/os-release"), "user.x") is None


def test_import_is_light() -> None:
    code = (
        "import sys, portablekit.raw; "
        "bad = {'lz4', 'zstandard', 'pandas', 'ipywidgets'} & set(sys.modules); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_zstandard_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(compress._modules, "zstandard", None)
    with pytest.raises(MissingExtraError) as e:
        compress.zstd(b"\x28\xb5\x2f\xfd", 10)
    assert e.value.extra == "raw" and "portablekit[raw]" in str(e.value)


def test_lz4_without_the_package_is_decoded_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    import lz4.block

    data = b"unit file " * 100
    monkeypatch.setitem(compress._modules, "lz4.block", None)
    assert compress.lz4_block(lz4.block.compress(data, store_size=False), 4096) == data


def test_paths_and_closing(tmp_path: Path) -> None:
    img = tmp_path / "t.raw"
    img.write_bytes(tiny("b"))
    raw = open_raw_image(img)
    assert raw.label == str(img) and raw.source.label == str(img)
    assert raw._owned is not None
    raw.close()
    assert raw._owned is None

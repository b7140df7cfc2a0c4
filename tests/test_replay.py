from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from portablekit.errors import ScenarioError
from portablekit.oracle.replay import read_steps, replay
from portablekit.versions import Systemd

SCENARIOS = Path(__file__).parent / "scenarios"


def _scenario(tmp_path: Path, cmd: str, files: dict[str, str] | None = None) -> Path:
    sc = tmp_path / "sc"
    sc.mkdir()
    (sc / "cmd").write_text(cmd)
    for name, content in (files or {}).items():
        p = sc / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
    return sc


def test_output_layout(tmp_path: Path) -> None:
    sc = _scenario(
        tmp_path,
        "# a comment\n\nlist\n!echo hi; echo $STATE >&2; exit 3\n",
        {"root/var/lib/portables/x/usr/lib/os-release": "ID=x\n"},
    )
    out = replay(sc, tmp_path / "out", Systemd(262))
    assert (out / "initial" / "changes.txt").read_text() == "(no entries)\n"
    assert (out / "steps" / "01" / "cmd").read_text() == "list\n"
    assert (out / "steps" / "02" / "cmd").read_text() == "!echo hi; echo $STATE >&2; exit 3\n"
    assert (out / "steps" / "02" / "rc").read_text() == "3\n"
    assert (out / "steps" / "02" / "stdout").read_text() == "hi\n"
    assert (out / "steps" / "02" / "stderr").read_text().rstrip().endswith("/run/portablekit")
    assert (out / "final-tree.txt").read_bytes() == (out / "steps" / "02" / "tree.txt").read_bytes()


def test_steps_are_numbered_past_99(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, "\n".join(["!true"] * 101) + "\n")
    assert [s.dirname for s in read_steps(sc)][-2:] == ["100", "101"]


def test_missing_cmd_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScenarioError, match="cannot read the scenario's steps"):
        replay(tmp_path / "empty", tmp_path / "out")


def test_refuses_to_replace_a_foreign_directory(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, "list\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "precious").write_text("keep")
    with pytest.raises(ScenarioError, match="not an earlier replay"):
        replay(sc, tmp_path / "out")
    assert (tmp_path / "out" / "precious").read_text() == "keep"


def test_a_copy_that_lost_its_links_replays_like_the_original(tmp_path: Path) -> None:
    original = SCENARIOS / "os-release-symlink-absolute"
    lossy = tmp_path / "lossy"
    for dirpath, _, filenames in os.walk(original):
        rel = Path(dirpath).relative_to(original)
        (lossy / rel).mkdir(parents=True, exist_ok=True)
        for n in filenames:
            _copy_link_as_file(os.path.join(dirpath, n), str(lossy / rel / n))
    for dirpath, dirnames, filenames in os.walk(lossy, topdown=False):
        for n in filenames:
            os.chmod(os.path.join(dirpath, n), 0o444)
        for n in dirnames:
            os.chmod(os.path.join(dirpath, n), 0o555)
    a = replay(original, tmp_path / "a", Systemd(257))
    b = replay(lossy, tmp_path / "b", Systemd(257))
    for rel in ("steps/01/stdout", "steps/02/stdout", "steps/03/stdout", "final-changes.txt"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    for dirpath, dirnames, _ in os.walk(lossy):
        for n in dirnames:
            os.chmod(os.path.join(dirpath, n), stat.S_IRWXU)


def _copy_link_as_file(src: str, dst: str) -> None:
    if os.path.islink(src):
        Path(dst).write_text(os.readlink(src))
    else:
        shutil.copy2(src, dst)

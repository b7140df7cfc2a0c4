from __future__ import annotations

import os
from pathlib import Path

from portablekit.oracle.dump import Snapshot, render_changes, render_tree


def test_changes_format(tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "etc" / "gone").mkdir(parents=True)
    (root / "etc" / "gone" / "f").write_text("x\n")
    (root / "etc" / "mod").write_text("a\n")
    before = Snapshot.take(root)
    import shutil

    shutil.rmtree(root / "etc" / "gone")
    (root / "etc" / "mod").write_text("b")
    (root / "etc" / "bin").write_bytes(b"\xff\x00" * 3)
    (root / "etc" / "big").write_bytes(b"\xff" * 600)
    os.symlink("/x", root / "etc" / "link")
    os.chmod(root / "etc" / "mod", 0o600)
    text = render_changes(before, Snapshot.take(root))
    assert text.splitlines() == [
        "added /etc/big file 0644 0:0 600 bytes",
        "    sha256|" + __import__("hashlib").sha256(b"\xff" * 600).hexdigest(),
        "added /etc/bin file 0644 0:0 6 bytes",
        "    b64|/wD/AP8A",
        "deleted /etc/gone dir",
        "added /etc/link symlink -> /x",
        "modified /etc/mod file 0600 0:0 1 bytes",
        "    |b",
        "    \\ no newline at end of file",
    ]
    assert render_changes(before, before) == "(no entries)\n"


def test_tree_lists_absent_watched_directories(tmp_path: Path) -> None:
    (tmp_path / "etc" / "portables").mkdir(parents=True)
    text = render_tree(Snapshot.take(tmp_path))
    assert text.splitlines() == [
        "/etc/portables dir 0755 0:0",
        "/etc/systemd/system.attached absent",
        "/run/portables absent",
        "/run/systemd/system.attached absent",
    ]

"""The README's Python example runs and shows what it says."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def test_python_example(tmp_path: Path) -> None:
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert code is not None
    src = code.group(1).replace('"/tmp/host"', repr(str(tmp_path / "host")))
    ns: dict[str, object] = {}
    exec(compile(src, "README.md", "exec"), ns)  # the README is ours: running it is the test
    assert [u.name for u in ns["d"].units] == [  # type: ignore[attr-defined]
        "minimal-worker.service",
        "minimal.service",
        "minimal.socket",
    ]
    assert (tmp_path / "host/etc/systemd/system.attached/minimal.service").is_file()


def test_two_commands_are_in_the_makefile() -> None:
    text = README.read_text()
    first = text.split("## The command line")[0]
    assert "make demo" in first and "make test" in first
    makefile = (README.parent / "Makefile").read_text()
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "make test" in (README.parent / ".ci" / "run").read_text()

"""The README's first command runs this walkthrough: it must behave as each systemd does."""

from __future__ import annotations

import pytest

from portablekit.cli.main import main


@pytest.mark.parametrize("version", ["252", "257", "262"])
def test_demo(version: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--systemd", version, "demo"]) == 0
    out = capsys.readouterr().out
    assert f"every step behaved as systemd {version} does" in out
    assert "extension-release metadata does not match the root's" in out

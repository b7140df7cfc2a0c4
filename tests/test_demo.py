"""The README's first command runs this walkthrough: it must behave as each systemd does, and
its closing line must tell the truth."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from portablekit.cli.demo import DEMO_STEPS, DemoStep, run_demo
from portablekit.cli.main import main
from portablekit.versions import DEFAULT_VERSION, Systemd


@pytest.mark.parametrize("version", ["252", "257", "262"])
def test_demo(version: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--systemd", version, "demo"], environ={}) == 0
    out = capsys.readouterr().out
    assert out.endswith(f"\n# demo finished: every step behaved as systemd {version} does\n")
    assert "extension-release metadata does not match the root's" in out
    assert "unexpected" not in out


def test_the_refused_step_is_named_by_its_definition() -> None:
    (refused,) = [s for s in DEMO_STEPS if s.refused]
    assert refused.command.startswith("--no-reload attach --extension=")


def test_closing_line_after_a_failed_step(tmp_path: Path) -> None:
    steps = (
        DEMO_STEPS[0],
        DemoStep("inspect nosuch", "An image that is not there."),  # fails, but not expected to
        dataclasses.replace(DEMO_STEPS[0], refused=True),  # succeeds, but expected to fail
    )
    out = io.StringIO()
    assert run_demo(tmp_path / "root", Systemd(), out, steps) is False
    text = out.getvalue()
    assert "every step behaved" not in text
    assert text.endswith(
        "\n# demo finished with unexpected results: step 2 (inspect nosuch) exited 1, expected "
        "success; step 3 (list) exited 0, expected a refusal\n"
    )


def test_demo_in_a_given_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", str(tmp_path / "root")], environ={}, cwd=tmp_path) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"# portablekit demo: systemd {DEFAULT_VERSION} simulated in {tmp_path / 'root'}\n"
    )
    assert (tmp_path / "root" / "var/lib/portables/minimal").is_dir()
    assert main(["demo", str(tmp_path / "root")], environ={}) == 1  # not empty any more
    assert "directory is not empty" in capsys.readouterr().err

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from portablekit.cli.main import main
from portablekit.oracle.dump import Snapshot
from portablekit.samples import install_samples
from portablekit.sandbox import SandboxRoot


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    assert main(["sandbox", "init", str(tmp_path / "host"), "--systemd", "262"]) == 0
    install_samples(SandboxRoot(tmp_path / "host"))
    return tmp_path / "host"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_user_journey(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = str(host_dir)
    rc, out, err = _run(capsys, "--root", r, "inspect", "minimal")
    assert rc == 0 and "\tminimal.service\n" in out
    assert err == "(Matching unit files with prefix 'minimal'.)\n"
    rc, out, err = _run(capsys, "--root", r, "attach", "minimal", "--profile", "strict")
    assert rc == 0 and "Created symlink /etc/portables/minimal → /var/lib/portables/minimal." in err
    assert _run(capsys, "--root", r, "is-attached", "minimal")[1] == "attached\n"
    rc, out, err = _run(capsys, "--root", r, "detach", "minimal")
    assert rc == 0 and "Removed /etc/systemd/system.attached." in err
    assert _run(capsys, "--root", r, "is-attached", "minimal")[1] == "detached\n"


def test_json_on_every_verb(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = str(host_dir)
    listed = json.loads(_run(capsys, "--root", r, "--json", "list")[1])
    assert {i["name"] for i in listed} >= {"minimal", "webapp_2.1"}
    insp = json.loads(_run(capsys, "--root", r, "--json=pretty", "inspect", "minimal")[1])
    assert insp["units"] == ["minimal-worker.service", "minimal.service", "minimal.socket"]
    plan = json.loads(_run(capsys, "--root", r, "--json", "attach", "minimal")[1])
    assert plan["ok"] and plan["verb"] == "attach" and plan["ops"]
    state = json.loads(_run(capsys, "--root", r, "--json", "is-attached", "minimal")[1])
    assert state["state"] == "attached"
    det = json.loads(_run(capsys, "--root", r, "--json", "detach", "minimal")[1])
    assert det["ok"] and any(c["type"] == "unlink" for c in det["changes"])


def test_dry_run_writes_nothing(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = Snapshot.take(host_dir).entries
    rc, out, _ = _run(capsys, "--root", str(host_dir), "attach", "--dry-run", "minimal")
    assert rc == 0 and out.startswith("Plan of attach /var/lib/portables/minimal")
    assert Snapshot.take(host_dir).entries == before
    rc, out, _ = _run(capsys, "--root", str(host_dir), "detach", "--dry-run", "minimal")
    assert rc == 1 and "It would fail: No unit files associated with 'minimal'" in out


def test_enable_and_now_are_simulated(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = str(host_dir)
    rc, _, err = _run(capsys, "--root", r, "attach", "--enable", "--now", "minimal")
    assert rc == 0
    assert (
        "Created symlink /etc/systemd/system.attached/multi-user.target.wants/"
        "minimal.service → /etc/systemd/system.attached/minimal.service."
    ) in err
    assert _run(capsys, "--root", r, "is-attached", "minimal")[1] == "running\n"
    rc, _, err = _run(capsys, "--root", r, "detach", "--enable", "--now", "minimal")
    assert rc == 0
    assert _run(capsys, "--root", r, "is-attached", "minimal")[1] == "detached\n"
    assert not (host_dir / "etc/systemd/system.attached").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["attach", "/nonexistent"], "Cannot normalize specified image path '/nonexistent'"),
        (["attach", "../../etc/os-release"], "Type of image '/usr/lib/os-release' not recognized"),
        (["attach", "nosuch"], "AttachImage failed: No image 'nosuch' found."),
        (["attach", "minimal", "-"], "Refusing all unit file match."),
        (["attach", "--copy=bogus", "minimal"], "Failed to parse --copy= argument: bogus"),
        (["attach", "--profile=a/b", "minimal"], "Unit profile name not valid: a/b"),
        (["is-attached", "a", "b"], "Too many arguments."),
        (["frobnicate"], "Unknown command verb 'frobnicate'."),
        (["attach", "--bogus", "x"], "unrecognized option '--bogus'"),
    ],
)
def test_refusals(
    host_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    before = Snapshot.take(host_dir).entries
    rc, _, err = _run(capsys, "--root", str(host_dir), *args)
    assert rc == 1 and message in err
    assert Snapshot.take(host_dir).entries == before


def test_bad_images_name_the_file(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = SandboxRoot(host_dir)
    root.write_file("/var/lib/portables/loop/usr/lib/systemd/system/loop.service", "[Service]\n")
    (host_dir / "var/lib/portables/loop/etc").mkdir()
    (host_dir / "var/lib/portables/loop/etc/os-release").symlink_to("os-release")
    rc, _, err = _run(capsys, "--root", str(host_dir), "attach", "loop")
    assert rc == 1
    assert "AttachImage failed: Too many levels of symbolic links" in err
    assert "portablekit: /var/lib/portables/loop: /etc/os-release" in err
    root.write_file("/var/lib/portables/big/usr/lib/os-release", "X=" + "y" * (2 << 20) + "\n")
    root.write_file("/var/lib/portables/big/usr/lib/systemd/system/big.service", "[Service]\n")
    rc, _, err = _run(capsys, "--root", str(host_dir), "inspect", "big")
    assert rc == 1 and "File too large" in err and "/usr/lib/os-release" in err


def test_root_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _run(capsys, "--root", str(tmp_path / "missing"), "list")
    assert rc == 1 and "sandbox root does not exist" in err
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "var/lib/portables/x/usr/lib").mkdir(parents=True)
    (plain / "var/lib/portables/x/usr/lib/os-release").write_text("ID=x\n")
    (plain / "var/lib/portables/x/usr/lib/systemd/system").mkdir(parents=True)
    (plain / "var/lib/portables/x/usr/lib/systemd/system/x.service").write_text("[Service]\n")
    assert _run(capsys, "--root", str(plain), "inspect", "x")[0] == 0  # reading is fine
    rc, _, err = _run(capsys, "--root", str(plain), "attach", "x")
    assert rc == 1 and "not a portablekit sandbox" in err
    assert not (plain / "etc").exists()
    rc, _, err = _run(capsys, "list")
    assert rc == 1 and "no sandbox root given" in err


def test_python_m_and_version(host_dir: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "portablekit", "--root", str(host_dir), "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 0 and p.stdout.startswith("systemd 262 (262-1)")


def test_invalid_utf8_os_release_is_einval(
    host_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = SandboxRoot(host_dir)
    root.write_file("/var/lib/portables/bad/usr/lib/os-release", b"ID=\xff\n")
    root.write_file("/var/lib/portables/bad/usr/lib/systemd/system/bad.service", "[Service]\n")
    rc, _, err = _run(capsys, "--root", str(host_dir), "attach", "bad")
    assert rc == 1
    assert "AttachImage failed: Invalid argument\n" in err
    assert "/usr/lib/os-release:1: invalid UTF-8" in err

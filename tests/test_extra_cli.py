"""``portablekit check``, ``security`` and ``compare-profiles`` through the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from portablekit.cli.check import dispatch
from portablekit.cli.main import main
from portablekit.samples import SAMPLES, install_samples
from portablekit.samples.raw import write_sample
from portablekit.sandbox import SandboxRoot
from portablekit.versions import Systemd


@pytest.fixture(scope="module")
def host_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "host"
    install_samples(SandboxRoot.init(path, Systemd(257)), sorted(SAMPLES))
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_check_refused_image(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _run(capsys, "--root", str(host_dir), "check", "broken-no-os-release")
    assert (rc, err) == (1, "")
    lines = out.splitlines()
    assert lines[0] == "Checked broken-no-os-release with its default prefix for systemd 257."
    assert lines[1] == "error   os-release-missing  /usr/lib/os-release"
    assert lines[2] == "        the image has neither /etc/os-release nor /usr/lib/os-release"
    assert lines[3] == (
        "        portabled: Image '/var/lib/portables/broken-no-os-release' lacks os-release "
        "data, refusing."
    )
    assert lines[4].startswith("        fix: add /usr/lib/os-release with at least ID=")
    assert lines[5] == "warning mount-point-missing /proc"
    assert lines[-1] == "1 error, 6 warnings, 0 info: portabled refuses this image."


def test_check_clean_image(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "--root", str(host_dir), "check", "minimal")
    assert rc == 0
    assert out.endswith(
        "\n0 errors, 0 warnings, 3 info: nothing keeps it from attaching and running.\n"
    )
    assert "info    unit-type     /usr/lib/systemd/system/minimal.mount\n" in out
    rc, out, _ = _run(capsys, "--root", str(host_dir), "check", "minimal", "--severity", "warning")
    assert rc == 0
    assert out == (
        "Checked minimal with its default prefix for systemd 257.\n"
        "0 errors, 0 warnings, 3 info (3 not shown): nothing keeps it from attaching and "
        "running.\n"
    )


def test_check_warnings_only(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "--root", str(host_dir), "check", "broken-unit-syntax")
    assert rc == 0
    assert out == (
        "Checked broken-unit-syntax with its default prefix for systemd 257.\n"
        "warning unit-unparsable /usr/lib/systemd/system/broken-unit-syntax.service:4:8\n"
        "        systemd cannot load this unit: Invalid section header '[Service'; portabled "
        "attaches it anyway (it does not parse units), and starting it fails\n"
        "            [Service\n"
        "                   ^\n"
        "        fix: close the section header with ']' ([Name] on a line of its own)\n"
        "\n"
        "0 errors, 1 warning, 0 info: portabled attaches it, but the service may not run.\n"
    )


def test_check_json(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(
        capsys, "--root", str(host_dir), "check", "webapp_2.1", "--extension", "broken-ext-scope",
        "--extension", "webapp-tls", "--json",
    )  # fmt: skip
    assert rc == 1
    findings = json.loads(out)
    assert [(f["severity"], f["rule"], f["image"]) for f in findings] == [
        ("error", "extension-scope", "/var/lib/portables/broken-ext-scope"),
        ("info", "unit-shadowed", "/var/lib/portables/webapp-tls"),
    ]
    assert findings[0] == {
        "severity": "error",
        "rule": "extension-scope",
        "image": "/var/lib/portables/broken-ext-scope",
        "path": "/usr/lib/extension-release.d/extension-release.broken-ext-scope",
        "message": "SYSEXT_SCOPE=system does not include portable",
        "fix": "add portable to SYSEXT_SCOPE= (SYSEXT_SCOPE=system portable), or remove the line "
        "(the default is 'system portable')",
        "portabled_message": "Image /var/lib/portables/broken-ext-scope extension-release "
        "metadata does not match the root's",
        "line": None,
        "column": None,
        "text": None,
    }
    # with several images each line names the layer
    rc, out, _ = _run(
        capsys, "--root", str(host_dir), "check", "webapp_2.1", "--extension", "broken-ext-scope"
    )
    assert "error   extension-scope broken-ext-scope:/usr/lib/extension-release.d/" in out
    assert out.splitlines()[0] == (
        "Checked webapp_2.1 with its default prefix for systemd 257, extensions broken-ext-scope."
    )


def test_check_prefixes_and_version(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(
        capsys, "--root", str(host_dir), "check", "webapp_2.1", "--prefix", "webapp-cleanup",
        "--json",
    )  # fmt: skip
    assert rc == 1
    (refusal,) = [f for f in json.loads(out) if f["severity"] == "error"]
    assert refusal["portabled_message"] == (
        "Selected matches 'webapp-cleanup' are not compatible with portable service image "
        "'/var/lib/portables/webapp_2.1', refusing. (Acceptable prefix matches are: webapp, "
        "webapp-admin)"
    )
    # the global --systemd picks the rules: 262 refuses PORTABLE_SCOPE=user, 257 ignores it
    root = str(host_dir)
    assert _run(capsys, "--root", root, "check", "broken-portable-scope")[0] == 0
    rc, out, _ = _run(capsys, "--root", root, "--systemd", "262", "check", "broken-portable-scope")
    assert rc == 1 and "portabled: Image /var/lib/portables/broken-portable-scope portable " in out


def test_check_by_path(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(
        capsys, "--root", str(host_dir), "check", "/var/lib/portables/broken-no-id", "--json"
    )
    assert rc == 1
    assert [f["rule"] for f in json.loads(out)] == ["os-release-no-id"]


def test_check_plain_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = write_sample("broken-no-loader", tmp_path / "broken-no-loader_1.0")
    rc, out, _ = _run(capsys, "check", str(image), "--arch", "x86-64")
    assert rc == 0
    assert out.startswith(f"Checked {image} with its default prefix for systemd 257.\n")
    assert "warning dynamic-loader-missing /lib64/ld-linux-x86-64.so.2\n" in out
    rc, out, _ = _run(capsys, "check", str(tmp_path / "nothing"))
    assert rc == 1
    rc, out, err = _run(capsys, "check", str(image / "usr" / "bin" / "broken-no-loader"))
    assert (rc, out) == (1, "")
    assert err.endswith(
        "not a directory or .raw image (use --root DIR for images of a sandbox root)\n"
    )


@pytest.mark.skipif(shutil.which("mksquashfs") is None, reason="needs mksquashfs")
def test_check_raw_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from portablekit.samples.raw import build_image

    raw = build_image(
        write_sample("broken-no-id", tmp_path / "tree"), tmp_path / "broken-no-id.raw"
    )
    rc, out, _ = _run(capsys, "check", str(raw), "--json")
    assert rc == 1
    (finding,) = json.loads(out)
    assert finding["portabled_message"] == f"Image {raw} os-release metadata lacks the ID field"
    junk = tmp_path / "junk.raw"
    junk.write_bytes(b"\0" * 4096)
    rc, out, err = _run(capsys, "check", str(junk))
    assert rc == 1 and err == (
        f"portablekit check: Couldn't identify a suitable partition table or file system in "
        f"'{junk}'.\n"
    )


def test_check_errors(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _run(capsys, "--root", str(host_dir), "check", "nope")
    assert (rc, out, err) == (1, "", "portablekit check: No image 'nope' found.\n")
    rc, out, err = _run(capsys, "check")
    assert rc == 2 and out == ""
    assert err == "portablekit check: the following arguments are required: image\n"
    rc, _, err = _run(capsys, "check", "x", "--severity", "loud")
    assert rc == 2 and "argument --severity: invalid choice: 'loud'" in err


def test_security_and_compare_profiles(
    host_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unit = tmp_path / "app.service"
    unit.write_text("[Service]\nExecStart=/usr/bin/app\n")
    rc, out, _ = _run(capsys, "security", str(unit), "--profile", "strict")
    assert rc == 0
    assert out.endswith("→ Overall exposure level for app.service: 0.8 SAFE 😀\n")
    rc, out, _ = _run(capsys, "--systemd", "252", "security", str(unit), "--json")
    assert rc == 0 and json.loads(out)[0]["name"]
    rc, out, _ = _run(capsys, "--root", str(host_dir), "security", "minimal", "minimal.service")
    assert rc == 0 and "→ Overall exposure level for minimal.service:" in out
    rc, out, _ = _run(capsys, "compare-profiles", "default", "strict")
    assert rc == 0 and out.startswith("DIRECTIVE")
    rc, out, _ = _run(capsys, "compare-profiles", "default", "trusted", "--json")
    assert rc == 0 and [p["name"] for p in json.loads(out)["profiles"]] == ["default", "trusted"]


def test_dispatch(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dispatch("bogus", [], None, None) == 2
    assert capsys.readouterr().err == "portablekit: unknown command 'bogus'\n"
    # without --systemd a sandbox root brings its own version
    root = SandboxRoot.init(host_dir.parent / "host262", Systemd(262))
    install_samples(root, ["broken-portable-scope"])
    assert dispatch("check", ["broken-portable-scope"], None, str(root.path)) == 1
    assert "for systemd 262." in capsys.readouterr().out
    assert dispatch("check", ["broken-portable-scope"], Systemd(257), str(root.path)) == 0
    capsys.readouterr()


def test_check_main_options() -> None:
    import io

    from portablekit.cli.check import check_main

    out, err = io.StringIO(), io.StringIO()
    assert check_main(["x", "--systemd", "300"], out, err) == 2
    assert err.getvalue() == "portablekit check: --systemd must be one of 252|257|262, not '300'\n"


@pytest.mark.parametrize("cmd", ["security", "compare-profiles", "check"])
def test_help(cmd: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([cmd, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: portablekit {cmd}")

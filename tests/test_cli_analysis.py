"""``portablekit check``, ``security`` and ``compare-profiles`` through the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from portablekit.cli.main import main
from portablekit.samples import SAMPLES, install_samples, sample_source
from portablekit.samples.raw import write_tree
from portablekit.sandbox import SandboxRoot
from portablekit.versions import Systemd


@pytest.fixture(scope="module")
def host_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "host"
    install_samples(SandboxRoot.init(path, Systemd(257)), sorted(SAMPLES))
    return path


def _run(
    capsys: pytest.CaptureFixture[str], *args: str, root: Path | None = None
) -> tuple[int, str, str]:
    """``portablekit ARGS``, with ``$PORTABLEKIT_ROOT`` set to ``root`` when given."""
    rc = main(list(args), environ={"PORTABLEKIT_ROOT": str(root)} if root else {})
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
    image = write_tree(sample_source("broken-no-loader"), tmp_path / "broken-no-loader_1.0")
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
        write_tree(sample_source("broken-no-id"), tmp_path / "tree"), tmp_path / "broken-no-id.raw"
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
        f"portablekit check: {junk}: no file system and no GPT or MBR partition table\n"
    )


def test_check_errors(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _run(capsys, "--root", str(host_dir), "check", "nope")
    assert (rc, out, err) == (1, "", "portablekit check: No image 'nope' found.\n")
    rc, out, err = _run(capsys, "check")
    assert rc == 2 and out == ""
    assert err == "portablekit check: the following arguments are required: IMAGE\n"
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


def test_a_root_brings_its_own_version(host_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = SandboxRoot.init(host_dir.parent / "host262", Systemd(262))
    install_samples(root, ["broken-portable-scope"])
    rc, out, _ = _run(capsys, "--root", str(root.path), "check", "broken-portable-scope")
    assert rc == 1 and "for systemd 262." in out
    rc, out, _ = _run(
        capsys, "--root", str(root.path), "check", "broken-portable-scope", "--systemd", "257"
    )
    assert rc == 0 and "for systemd 257." in out


def test_portablekit_root_reaches_every_analysis_command(
    host_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # as with --root: an image of the root, scored, checked; a profile of the root, compared
    rc, out, err = _run(capsys, "security", "minimal", "minimal.service", "--profile", "strict",
                        root=host_dir)  # fmt: skip
    assert (rc, err) == (0, "")
    assert out == _run(capsys, "--root", str(host_dir), "security", "minimal",
                       "minimal.service", "--profile", "strict")[1]  # fmt: skip
    assert "→ Overall exposure level for minimal.service:" in out
    rc, out, _ = _run(capsys, "check", "minimal", root=host_dir)
    assert rc == 0 and out.startswith("Checked minimal with its default prefix for systemd 257.\n")
    profile = "/etc/systemd/portable/profile/mine/service.conf"
    SandboxRoot(host_dir).write_file(profile, "[Service]\nPrivateNetwork=yes\n")
    rc, out, _ = _run(capsys, "compare-profiles", "default", "mine", root=host_dir)
    assert rc == 0 and "mine relative to default:" in out and "  + PrivateNetwork=yes" in out
    assert _run(capsys, "compare-profiles", "default", "mine")[0] == 1  # not without the root


def test_errors_name_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nothing"
    for cmd in (["security", "minimal"], ["check", "minimal"], ["compare-profiles"]):
        rc, out, err = _run(capsys, *cmd, root=missing)
        assert (rc, out) == (1, "")
        assert err == (
            f"portablekit {cmd[0]}: {missing}: sandbox root does not exist or is not a directory\n"
        )
    rc, _, err = _run(capsys, "security", str(tmp_path / "image"))
    assert (rc, err) == (1, f"portablekit security: {tmp_path}/image: No such file or directory\n")
    # portabled's own message names no file; what it only logs does
    rc, _, err = _run(capsys, "security", str(tmp_path / "nothing" / "image"))
    assert (rc, err) == (
        1,
        "portablekit security: No such file or directory\n"
        f"portablekit security: /: {tmp_path}/nothing: No such file or directory\n",
    )


def test_fixed_reaches_security(
    host_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from portablekit.portabled.dissect import Dissection, dissect
    from portablekit.portabled.host import Host

    seen = []

    def spy(host: Host, *args: Any, **kwargs: Any) -> Dissection:
        seen.append(host.systemd)
        return dissect(host, *args, **kwargs)

    monkeypatch.setattr("portablekit.cli.security.dissect", spy)
    assert _run(capsys, "security", "minimal", "--fixed", root=host_dir)[0] == 0
    assert seen == [Systemd(257, fixed=True)]


@pytest.mark.parametrize("cmd", ["security", "compare-profiles", "check"])
def test_help(cmd: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([cmd, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: portablekit {cmd}")

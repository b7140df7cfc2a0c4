"""open_raw_image() against what the real portabled 252/257/262 did with the same images.

The scenarios of ``tests/golden-extra/raw-dissect`` are built here with their own build scripts
(the bytes are the same as in the recording), then every ``inspect``/``attach`` step of each
transcript is checked: the refusal text, the os-release that was read, and (262) the
``RootImagePolicy=``/``ExtensionImagePolicy=`` line written into the drop-in.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from test_raw_support import need

from portablekit.raw import DissectError, ImagePolicy, open_raw_image
from portablekit.versions import Systemd

EXTRA = Path(__file__).parent / "golden-extra/raw-dissect"
VERSIONS = (252, 257, 262)
#: recorded in an environment without a vfat kernel module: the ESP mount failed there
ENVIRONMENTAL = {"espsq"}
#: refusals that come after dissection (unit matching), not from the raw reader
NOT_OURS = ("Couldn't find any matching unit files", "No unit files associated")


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    need("mksquashfs", "mkfs.ext4", "mkfs.erofs", "sfdisk", "mkswap")
    out = {}
    for scen in sorted((EXTRA / "scenarios").iterdir()):
        layer = tmp_path_factory.mktemp(scen.name)
        subprocess.run(["bash", "build", str(layer)], cwd=scen, check=True, capture_output=True)
        out[scen.name] = layer / "var/lib/portables"
    return out


def steps(version: int, scenario: str) -> list[tuple[list[str], int, str, str, str]]:
    """(argv, exit code, stdout, stderr, delta) of every step of a transcript."""
    text = (EXTRA / f"golden/{version}/{scenario}/transcript.txt").read_text()
    out = []
    for block in re.split(r"^### step \d+: portablectl ", text, flags=re.M)[1:]:
        cmd, rest = block.split("\n", 1)
        rc = int(re.search(r"--- exit code: (\d+)", rest).group(1))  # type: ignore[union-attr]
        stdout = rest.split("--- stdout:\n", 1)[1].split("--- stderr:\n", 1)[0]
        stderr = rest.split("--- stderr:\n", 1)[1].split("--- systemd1 calls:", 1)[0]
        delta = rest.split("--- file system delta", 1)[1]
        out.append((shlex.split(cmd), rc, stdout, stderr, delta))
    return out


def pretty_name(raw_source: object) -> str:
    src = raw_source
    path = "/etc/os-release" if src.exists("/etc/os-release") else "/usr/lib/os-release"  # type: ignore[attr-defined]
    for line in src.read_file(path).decode().splitlines():  # type: ignore[attr-defined]
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return ""


def cases() -> list[tuple[int, str]]:
    return [
        (v, s.name)
        for v in VERSIONS
        for s in sorted((EXTRA / "scenarios").iterdir())
        if (EXTRA / f"golden/{v}/{s.name}/transcript.txt").exists()
    ]


@pytest.mark.parametrize(("version", "scenario"), cases())
def test_transcript(layers: dict[str, Path], version: int, scenario: str) -> None:
    images = layers[scenario]
    systemd = Systemd(version)
    checked = 0
    for argv, rc, stdout, stderr, delta in steps(version, scenario):
        verb = next(a for a in argv if not a.startswith("-"))
        if verb not in ("inspect", "attach"):
            continue
        name = argv[-1]
        if name in ENVIRONMENTAL:
            continue
        exts = [a.split("=", 1)[1] for a in argv if a.startswith("--extension=")]
        msg = (stderr.strip().splitlines() or [""])[-1].split("failed: ", 1)[-1]
        msg = msg.removeprefix("Failed to inspect image metadata: ")
        path = f"/var/lib/portables/{name}.raw"
        try:
            raw = open_raw_image(images / f"{name}.raw", systemd=systemd)
        except DissectError as e:
            assert rc == 1, (argv, e)
            assert e.portabled_message(path) == msg, argv
            checked += 1
            continue
        with raw:
            if rc:
                assert any(m in msg for m in NOT_OURS) or "lacks extension" in msg, (argv, msg)
                continue
            if verb == "inspect" and "Operating System:" in stdout:
                want = stdout.split("Operating System:\n\t", 1)[1].split("\n", 1)[0]
                assert pretty_name(raw.source) == want, argv
            if verb == "attach" and systemd.pins_image_policy:
                pinned = re.search(r"\|RootImagePolicy=(.*)", delta)
                assert pinned and pinned.group(1) == raw.image_policy, (argv, raw.image_policy)
                if exts:
                    policies = []
                    for ext in exts:
                        with open_raw_image(images / Path(ext).name, systemd=systemd) as e_img:
                            policies.append(e_img.policy)
                    union = ImagePolicy().union(*policies)
                    ext_line = re.search(r"\|ExtensionImagePolicy=(.*)", delta)
                    assert ext_line and ext_line.group(1) == str(union), argv
            checked += 1
    assert checked

"""``--copy=mixed`` of an image holding device nodes, replayed against the real portabled.

tests/golden-root/ holds recordings (257 and 262) of scenarios in tests/scenarios-root/ whose
build scripts make device nodes: portabled's tree copy makes them again in /etc/portables/NAME
with their modes and device numbers. Making a device node needs CAP_MKNOD, so these scenarios
are replayed only where the test runs as root (the oracle's recordings are made as root); the
FIFO and socket part of the same behaviour is replayed everywhere (tests/golden-extra/
x-special-files).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_golden_replay import judge

from portablekit.oracle.replay import replay
from portablekit.versions import Systemd

HERE = Path(__file__).parent
GOLDEN = HERE / "golden-root"
SCENARIOS = HERE / "scenarios-root"
CASES = sorted((v.name, s.name) for v in GOLDEN.iterdir() if v.name.isdigit() for s in v.iterdir())


def test_every_recording_has_its_scenario() -> None:
    assert CASES, GOLDEN
    for _, scenario in CASES:
        assert (SCENARIOS / scenario / "cmd").is_file(), scenario


@pytest.mark.skipif(os.geteuid() != 0, reason="making device nodes needs CAP_MKNOD (root)")
@pytest.mark.parametrize(("version", "scenario"), CASES, ids=[f"{v}-{s}" for v, s in CASES])
def test_device_nodes_are_copied_as_portabled_copies_them(
    version: str, scenario: str, tmp_path: Path
) -> None:
    out = tmp_path / scenario
    replay(SCENARIOS / scenario, out, Systemd(int(version)), workdir=tmp_path)
    rc, text = judge(out, GOLDEN / version / scenario)
    assert rc == 0, text[-6000:]
    assert text.rstrip().endswith("identical 1/1")

from __future__ import annotations

import os

from portablekit.portabled.attach import plan_start
from portablekit.portabled.state import ImageState, image_state, unit_states
from portablekit.sandbox import SandboxRoot


def test_states(root: SandboxRoot) -> None:
    from portablekit.portabled.attach import plan_attach

    assert image_state(root.host, "minimal") is ImageState.DETACHED
    root.apply(plan_attach(root.host, "minimal", matches=["minimal"], runtime=True))
    assert image_state(root.host, "minimal") is ImageState.ATTACHED_RUNTIME
    os.makedirs(root.machine_path("/run/systemd/system/multi-user.target.wants"))
    os.symlink(
        "/run/systemd/system.attached/minimal.service",
        root.machine_path("/run/systemd/system/multi-user.target.wants/minimal.service"),
    )
    assert image_state(root.host, "minimal") is ImageState.ENABLED_RUNTIME
    root.apply(plan_start("minimal", ["minimal.socket"]))
    assert image_state(root.host, "minimal") is ImageState.RUNNING_RUNTIME
    states = {u.unit: u for u in unit_states(root.host)}
    assert states["minimal.socket"].running and states["minimal.service"].enabled
    assert states["minimal.service"].runtime and states["minimal.service"].image == (
        "/var/lib/portables/minimal"
    )

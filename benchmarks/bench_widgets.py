"""How fast every widget control reacts (a script, not a test).

Builds each tool on a sandbox root with the images of notebook 05 and drives every control
in-process, as the browser does through the kernel: each action sets a control's value (or
clicks a button) and the tool's observers run to the end, rendering every view. Each control is
driven ``--runs`` times back and forth between two states; the median and the slowest reaction
are printed per control, with ✓ where the median stays within ``--budget`` ms (300 by default,
the goal of the classroom widgets). The round trip to the browser is not included: the browser
tests time that.

    python benchmarks/bench_widgets.py [--runs 9] [--budget 300]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

IMAGES = [
    *("minimal", "webapp_2.1", "webapp-tls", "debug-tools", "webapp-legacy"),
    *("broken-no-units", "broken-no-os-release", "broken-ext-scope", "broken-ext-misnamed"),
]

#: (tool, control, one action per step; the actions alternate)
Action = Callable[[], object]


def _toggle(control: Any, a: object, b: object) -> list[Action]:
    return [lambda: setattr(control, "value", a), lambda: setattr(control, "value", b)]


def _controls(root: Any) -> list[tuple[str, str, list[Action]]]:
    from portablekit.versions import Systemd
    from portablekit.widgets import (
        AttachSimulator,
        Dashboard,
        ImageExplorer,
        LayerBuilder,
        ProfileComparer,
    )
    from portablekit.widgets.profile_comparer import OWN_UNIT

    ex = ImageExplorer(root)
    pc = ProfileComparer(root)
    bare = ProfileComparer()  # no root: the systemd version can be changed
    lb = LayerBuilder(root, base="webapp_2.1")
    sim = AttachSimulator(root, image="minimal")
    dash = Dashboard(root)
    own = ProfileComparer(root, unit_text="[Service]\nExecStart=/usr/bin/x\n")
    picker = lb.extensions
    spick = sim.extensions

    def attach_detach() -> list[Action]:
        return [sim.attach_button.click, sim.detach_button.click]

    return [
        ("ImageExplorer", "image", _toggle(ex.image, "webapp_2.1", "debug-tools")),
        ("ImageExplorer", "prefixes", _toggle(ex.prefixes, "webapp-cleanup", "")),
        ("ImageExplorer", "↻", [ex.refresh_button.click]),
        (
            "ProfileComparer",
            "profiles",
            _toggle(pc.profiles, ("default", "strict", "trusted"), ("default", "strict")),
        ),
        ("ProfileComparer", "only differences", _toggle(pc.only_differences, True, False)),
        (
            "ProfileComparer",
            "score unit",
            _toggle(pc.unit, "webapp_2.1: webapp.service", "minimal: minimal.service"),
        ),
        ("ProfileComparer", "systemd (no root)", _toggle(bare.systemd, Systemd(262), Systemd(257))),
        (
            "ProfileComparer",
            "unit file (typed)",
            _toggle(
                own.unit_text,
                "[Service]\nExecStart=/usr/bin/x\nPrivateNetwork=yes\n",
                "[Service]\nExecStart=/usr/bin/x\n",
            ),
        ),
        ("ProfileComparer", "unit (own)", _toggle(pc.unit, OWN_UNIT, "minimal: minimal.service")),
        ("ProfileComparer", "↻", [pc.refresh_button.click]),
        ("LayerBuilder", "base", _toggle(lb.base, "minimal", "webapp_2.1")),
        (
            "LayerBuilder",
            "picker: Add / Remove",
            [
                lambda: (setattr(picker.name, "value", "debug-tools"), picker.add_button.click()),
                picker.remove_button.click,
            ],
        ),
        (
            "LayerBuilder",
            "picker: Up / Down",
            [
                lambda: (
                    setattr(picker, "value", ("webapp-tls", "debug-tools")),
                    setattr(picker.name, "value", "webapp-tls"),
                    picker.up_button.click(),
                ),
                picker.down_button.click,
            ],
        ),
        ("LayerBuilder", "↻", [lb.refresh_button.click]),
        ("AttachSimulator", "image", _toggle(sim.image, "webapp_2.1", "minimal")),
        ("AttachSimulator", "profile", _toggle(sim.profile, "strict", "default")),
        ("AttachSimulator", "--copy", _toggle(sim.copy, "copy", "auto")),
        ("AttachSimulator", "--runtime", _toggle(sim.runtime, True, False)),
        ("AttachSimulator", "--enable", _toggle(sim.enable, True, False)),
        ("AttachSimulator", "--now", _toggle(sim.now, True, False)),
        (
            "AttachSimulator",
            "picker: Add / Remove",
            [
                lambda: (setattr(spick.name, "value", "debug-tools"), spick.add_button.click()),
                spick.remove_button.click,
            ],
        ),
        ("AttachSimulator", "Attach / Detach", attach_detach()),
        (
            "AttachSimulator",
            "Reattach",
            [sim.attach_button.click, sim.reattach_button.click, sim.detach_button.click],
        ),
        ("AttachSimulator", "↻", [sim.refresh_button.click]),
        (
            "Dashboard",
            "tabs",
            [lambda i=i: setattr(dash.tabs, "selected_index", i) for i in (1, 2, 3, 0)],
        ),
    ]


def _measure(actions: list[Action], runs: int) -> list[float]:
    out = []
    for i in range(runs * len(actions)):
        t0 = time.perf_counter()
        actions[i % len(actions)]()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--budget", type=float, default=300.0)
    ns = ap.parse_args()
    from portablekit.samples import sample_sandbox
    from portablekit.versions import Systemd

    with sample_sandbox(systemd=Systemd(257), names=IMAGES) as lab:
        t0 = time.perf_counter()
        controls = _controls(lab.root)
        built = (time.perf_counter() - t0) * 1000
        print(f"built the tools (five of them and a Dashboard) in {built:.0f} ms")
        print(f"{'tool':<16} {'control':<22} {'median ms':>10} {'max ms':>8}  (runs={ns.runs})")
        slow = 0
        for tool, control, actions in controls:
            t = _measure(actions, ns.runs)
            med = statistics.median(t)
            ok = med <= ns.budget
            slow += not ok
            mark = "✓" if ok else f"✗ over {ns.budget:.0f} ms"
            print(f"{tool:<16} {control:<22} {med:>10.1f} {max(t):>8.1f}  {mark}")
        print(f"{len(controls) - slow} of {len(controls)} controls within {ns.budget:.0f} ms")


if __name__ == "__main__":
    main()

"""portablekit.exercises: every exercise unsolved gives a hint naming the fix; solved, ✓."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portablekit import exercises as X
from portablekit.check import Rule
from portablekit.portabled.attach import plan_attach, plan_detach, plan_stop
from portablekit.portabled.profiles import builtin_profile
from portablekit.sandbox import SandboxRoot

P = "/var/lib/portables"
UNIT = "[Unit]\nDescription=unit\n\n[Service]\nExecStart=/usr/bin/true\n"
DEBIAN = "ID=debian\nVERSION_ID=12\n"


def solve_no_os_release(root: SandboxRoot) -> None:
    root.write_file(f"{P}/broken-no-os-release/usr/lib/os-release", DEBIAN)


def solve_no_id(root: SandboxRoot) -> None:
    root.write_file(f"{P}/broken-no-id/usr/lib/os-release", 'PRETTY_NAME="x"\n' + DEBIAN)


def solve_no_units(root: SandboxRoot) -> None:
    root.remove(f"{P}/broken-no-units/usr/lib/systemd/system/something-else.service")
    root.write_file(f"{P}/broken-no-units/usr/lib/systemd/system/broken-no-units.service", UNIT)


def solve_empty_unit(root: SandboxRoot) -> None:
    root.write_file(f"{P}/broken-empty-unit/usr/lib/systemd/system/broken-empty-unit.service", UNIT)


def solve_bad_prefixes(root: SandboxRoot) -> None:
    text = DEBIAN + "PORTABLE_PREFIXES=broken-bad-prefixes\n"
    root.write_file(f"{P}/broken-bad-prefixes/usr/lib/os-release", text)


def solve_runtime_files(root: SandboxRoot) -> None:
    image = f"{P}/broken-no-mountpoints"
    root.write_file(f"{image}/etc/resolv.conf", "")
    root.write_file(f"{image}/etc/machine-id", "")
    for d in ("proc", "sys", "dev", "run", "tmp", "var/tmp"):
        root.make_dir(f"{image}/{d}")


def solve_misnamed(root: SandboxRoot) -> None:
    d = f"{P}/broken-ext-misnamed/usr/lib/extension-release.d"
    root.remove(f"{d}/extension-release.something")
    root.write_file(f"{d}/extension-release.broken-ext-misnamed", DEBIAN)


def solve_network(root: SandboxRoot) -> None:
    root.apply(plan_attach(root.host, "webapp_2.1", matches=["webapp"], profile="default"))


def solve_detach(root: SandboxRoot) -> None:
    root.apply(plan_stop("minimal", ["minimal.service"]))
    root.apply(plan_detach(root.host, f"{P}/minimal"))


def solve_runtime_list(root: SandboxRoot) -> None:
    root.apply(plan_attach(root.host, "minimal", matches=["minimal"], runtime=True))


def nothing(root: SandboxRoot) -> None:
    pass


STACK = [
    "webapp-admin.service",
    "webapp-cleanup.service",
    "webapp-cleanup.timer",
    "webapp-debug.service",
    "webapp-tls.service",
    "webapp.service",
    "webapp.socket",
]

# key: (solve, answer, a phrase the unsolved hint must contain, the finding's rule or None)
CASES: dict[str, tuple[Callable[[SandboxRoot], None], Any, str, Rule | None]] = {
    "no-os-release": (
        solve_no_os_release,
        None,
        "add /usr/lib/os-release",
        Rule.OS_RELEASE_MISSING,
    ),
    "no-id": (solve_no_id, None, "add an ID= line", Rule.OS_RELEASE_NO_ID),
    "no-units": (solve_no_units, None, "rename the unit", Rule.UNIT_NO_MATCH),
    "empty-unit": (solve_empty_unit, None, "give the unit its content", Rule.UNIT_EMPTY),
    "bad-prefixes": (solve_bad_prefixes, None, "PORTABLE_PREFIXES=", Rule.PREFIX_NOT_ALLOWED),
    "runtime-files": (solve_runtime_files, None, "/etc/resolv.conf", Rule.RESOLV_CONF),
    "misnamed-extension": (
        solve_misnamed,
        None,
        "extension-release.broken-ext-misnamed",
        Rule.EXTENSION_RELEASE_MISSING,
    ),
    "network-profile": (solve_network, None, "attach it with a profile", None),
    "stack-units": (nothing, STACK, "check(answer=", None),
    "admin-only": (nothing, ["webapp-admin"], "check(answer=", None),
    "runtime-list": (solve_runtime_list, "attached-runtime", "check(answer=", None),
    "detach-running": (solve_detach, None, "stop the running unit first", None),
}


def test_every_exercise_has_a_case_and_the_numbers_run_in_order() -> None:
    assert list(CASES) == list(X.EXERCISES)
    assert [e.number for e in X.EXERCISES.values()] == list(range(1, len(X.EXERCISES) + 1))
    assert len(X.EXERCISES) >= 8


@pytest.mark.parametrize("key", list(CASES))
def test_unsolved_gives_the_fix_and_solved_passes(key: str) -> None:
    solve, answer, phrase, rule = CASES[key]
    attempt = X.start(key)
    try:
        before = attempt.check()
        assert not before and not before.passed
        assert phrase in before.hint, before
        assert before.rule == (str(rule) if rule is not None else None)
        assert str(before).startswith(f"✗ Exercise {attempt.exercise.number} ({key})")
        assert f"hint: {before.hint}" in str(before)
        solve(attempt.root)
        after = attempt.check(answer)
        assert after.passed, after
        assert str(after).startswith("✓ ") and "hint" not in str(after)
    finally:
        attempt.close()


def test_a_wrong_answer_is_explained() -> None:
    a = X.start("stack-units")
    r = a.check(["webapp.service", "minimal-debug.service"])
    assert not r.passed
    assert "you left out 4 units of webapp_2.1, 1 unit of webapp-tls, 1 unit of debug-tools" in (
        r.hint
    )
    assert "minimal-debug.service is not attached: name does not match the prefixes" in r.hint
    assert "not a list" in a.check("webapp.service").message  # a string is not a list of names
    b = X.start("admin-only")
    wide = b.check(["webapp"])
    assert not wide.passed and "webapp.service" in wide.message
    refused = b.check(["webapp-cleanup"])
    assert refused.rule == str(Rule.PREFIX_NOT_ALLOWED)
    assert "Acceptable prefix matches are: webapp, webapp-admin" in refused.detail


def test_runtime_list_needs_a_runtime_attach_and_the_right_state() -> None:
    a = X.start("runtime-list")
    assert "runtime=True" in a.check("attached-runtime").hint  # not attached yet
    a.root.apply(plan_attach(a.root.host, "minimal", matches=["minimal"]))
    assert "not /run" in a.check("attached-runtime").message  # attached in /etc
    a.root.apply(plan_detach(a.root.host, f"{P}/minimal"))
    solve_runtime_list(a.root)
    wrong = a.check("attached")
    assert not wrong.passed and "-runtime suffix" in wrong.hint


def test_network_profile_judges_with_the_security_checks() -> None:
    a = X.start("network-profile")
    host = a.root.host
    a.root.apply(plan_attach(host, "webapp_2.1", matches=["webapp"], profile="strict"))
    no_net = a.check()
    assert not no_net.passed and "PrivateNetwork=" in no_net.message
    a.root.apply(plan_detach(host, f"{P}/webapp_2.1"))
    a.root.apply(plan_attach(host, "webapp_2.1", matches=["webapp"], profile="trusted"))
    loose = a.check()
    assert not loose.passed and "lower exposure" in loose.hint
    # a profile of one's own that keeps the network and is stricter than default wins
    a.root.apply(plan_detach(host, f"{P}/webapp_2.1"))
    a.root.apply(plan_attach(host, "webapp_2.1", matches=["webapp"], profile="default"))
    assert a.check().passed
    web = (
        builtin_profile("strict", host.systemd)
        .replace(
            "RestrictAddressFamilies=AF_UNIX", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"
        )
        .replace("PrivateNetwork=yes\n", "")
        .replace("IPAddressDeny=any\n", "")
    )
    a.root.write_file("/etc/systemd/portable/profile/strict-web/service.conf", web)
    now_beaten = a.check()
    assert not now_beaten.passed and "'default' keeps the network" in now_beaten.message
    a.root.apply(plan_detach(host, f"{P}/webapp_2.1"))
    a.root.apply(
        plan_attach(host, "webapp_2.1", matches=["webapp"], profile="strict-web", copy="copy")
    )
    best = a.check()
    assert best.passed and "'strict-web'" in best.message  # found through a copied profile too


def test_detach_running_sees_hand_removed_files() -> None:
    a = X.start("detach-running")
    a.root.remove("/etc/systemd/system.attached")  # the wrong way: files gone, unit running
    r = a.check()
    assert not r.passed and "minimal.service still runs" in r.message


def test_unknown_exercise_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="1 no-os-release"):
        X.start("nope")
    assert X.start(2).exercise.key == "no-id"
    assert X.EXERCISES["stack-units"].markdown().startswith("**Exercise 9 · ")
    assert repr(X.start(1)) == "Attempt(exercise='no-os-release')"


def test_docstring_example() -> None:
    import doctest

    result = doctest.testmod(X)
    assert result.failed == 0 and result.attempted > 0

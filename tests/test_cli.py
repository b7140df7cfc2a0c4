"""The ``portablekit`` command: portablectl's verbs over a sandbox root, the global options,
the help, and the exit statuses (the analysis commands: ``test_cli_analysis.py``)."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import portablekit.cli.check
from portablekit.cli.command import Command
from portablekit.cli.invocation import Invocation
from portablekit.cli.main import KIT_COMMANDS, main
from portablekit.errors import UsageError
from portablekit.oracle.dump import Snapshot
from portablekit.samples import install_samples
from portablekit.sandbox import SandboxRoot
from portablekit.versions import Systemd


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    assert main(["sandbox", "init", str(tmp_path / "host"), "--systemd", "262"]) == 0
    install_samples(SandboxRoot(tmp_path / "host"))
    return tmp_path / "host"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args), environ={})
    out = capsys.readouterr()
    return rc, out.out, out.err


def _call(*args: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``portablekit ARGS`` with its own streams and environment."""
    out, err = io.StringIO(), io.StringIO()
    rc = main(list(args), stdout=out, stderr=err, environ=environ or {})
    return rc, out.getvalue(), err.getvalue()


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
        "Created symlink /etc/systemd/system/multi-user.target.wants/"
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
        (["-q", "frobnicate"], "Unknown command verb 'frobnicate'."),
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
    assert (rc, err) == (
        2,
        "portablekit: no sandbox root given; use --root DIR (or PORTABLEKIT_ROOT). "
        "Create one with 'portablekit sandbox init DIR'.\n",
    )


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


# -- the help ------------------------------------------------------------------------------------

VERBS = (
    "list",
    "attach",
    "detach",
    "reattach",
    "inspect",
    "is-attached",
    "read-only",
    "remove",
    "set-limit",
)


def _entries(block: str) -> list[tuple[str, str]]:
    """The (term, one-line summary) entries of a help section: the summary starts at column
    30, on the term's line or on the next one."""
    entries: list[tuple[str, str]] = []
    for ln in block.splitlines():
        if ln.startswith(" " * 30):
            term, summary = entries.pop()
            assert not summary, ln  # one line only
            entries.append((term, ln.strip()))
        else:
            term, _, summary = ln.strip().partition("  ")
            assert summary == "" or ln[30:] == summary.strip(), ln
            entries.append((term, summary.strip()))
    return entries


@pytest.mark.parametrize("line", [[], ["--help"], ["-h"], ["help"], ["--fixed", "--help"]])
def test_help_needs_no_root_and_lists_every_command(line: list[str]) -> None:
    rc, out, err = _call(*line)
    assert (rc, err) == (0, "")
    entries = _entries(out.split("Commands:\n")[1].split("\n\n")[0])
    assert [term.split()[0] for term, _ in entries] == ["sandbox", *VERBS, *KIT_COMMANDS[1:]]
    assert all(len(summary) > 10 for _, summary in entries)
    for option in ("--root DIR", "--systemd 252|257|262", "--fixed", "-h --help"):
        assert f"\n  {option} " in out
    assert "\nEnvironment:\n  PORTABLEKIT_ROOT " in out
    assert max(len(ln) for ln in out.splitlines()) <= 80


def test_help_through_the_console_script_without_a_root(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    for args in (["--help"], []):
        p = subprocess.run(
            [sys.executable, "-m", "portablekit", *args],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            cwd=tmp_path,
        )
        assert (p.returncode, p.stderr) == (0, "")
        assert "\n  check IMAGE " in p.stdout and "\n  compare-profiles [PROFILE...]\n" in p.stdout


def _kit_command(name: str) -> Command:
    from portablekit.cli import main as cli_main

    return cli_main._kit_command(name)


@pytest.mark.parametrize("name", KIT_COMMANDS)
def test_each_command_documents_every_option(name: str) -> None:
    parsers = [_kit_command(name).parser()]
    if name == "sandbox":
        sub = next(a for a in parsers[0]._actions if isinstance(a, argparse._SubParsersAction))
        parsers.append(sub._name_parser_map["init"])
    for parser in parsers:
        words = parser.prog.split()[1:]
        rc, out, err = _call(*words, "--help")
        assert (rc, err) == (0, "") and out == parser.format_help()
        assert out.startswith(f"usage: {parser.prog} ")
        for action in parser._actions:
            # every option and positional is shown with a sentence that explains it
            assert action.help, (parser.prog, action.dest)
            shown = ", ".join(action.option_strings) or str(action.metavar or action.dest)
            assert f"\n  {shown}" in out
        assert "--systemd 252|257|262" in out  # the global options, too
        assert max(len(ln) for ln in out.splitlines()) <= 80
    # help COMMAND is the same text
    assert _call("help", name) == _call(name, "--help")


def test_check_help_names_its_options() -> None:
    rc, out, _ = _call("check", "-h")
    assert rc == 0
    for option in (
        "IMAGE",
        "--extension EXT",
        "--prefix P",
        "--json",
        "--severity",
        "--arch ARCH",
        "--max-elf-files N",
    ):
        assert option in out


def test_portablectl_verbs_keep_portablectl_help(host_dir: Path) -> None:
    rc, out, err = _call("attach", "--help")  # no root needed
    assert (rc, err) == (0, "")
    assert out.startswith("portablekit [OPTIONS...] COMMAND ...\n\nAttach or detach portable")
    assert "\n  is-attached NAME|PATH       Query if portable service image is attached\n" in out
    assert _call("help", "inspect") == (0, out, "")
    # each version's own help; the sandbox root brings its version (262 here)
    rc, out, err = _call("--root", str(host_dir), "attach", "--help")
    assert (rc, err) == (0, "") and out.startswith("> portablekit [OPTION\u2026] COMMAND \u2026\n")
    assert _call("--systemd", "262", "attach", "--help") == (0, out, "")
    assert _call("--root", str(host_dir), "help", "attach") == (0, out, "")
    assert out.endswith("write nothing\n")  # the kit's own options follow portablectl's


def test_unknown_command() -> None:
    message = "portablekit: unknown command 'frob'; 'portablekit --help' lists the commands\n"
    assert _call("frob") == (2, "", message)
    assert _call("--root", "/nonexistent", "frob", "x") == (2, "", message)
    assert _call("help", "frob") == (2, "", message)


# -- the global options --------------------------------------------------------------------------


def test_invocation_is_parsed_once(tmp_path: Path) -> None:
    inv = Invocation.parse(
        ["--root", "r", "attach", "--systemd=252", "--profile", "strict", "x", "--fixed"],
        environ={"PORTABLEKIT_ROOT": "/elsewhere"},
        cwd=tmp_path,
    )
    assert inv == Invocation(
        args=("attach", "--profile", "strict", "x"),
        root=tmp_path / "r",
        systemd=Systemd(252, fixed=True),
        fixed=True,
        cwd=tmp_path,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        inv.fixed = False  # type: ignore[misc]
    env = Invocation.parse(["list", "--", "--fixed"], environ={"PORTABLEKIT_ROOT": "/e"})
    assert (env.root, env.systemd, env.fixed, env.args) == (
        Path("/e"),
        None,
        False,
        ("list", "--", "--fixed"),
    )
    assert env.systemd_for() == Systemd()


def test_systemd_comes_from_the_root_unless_given(host_dir: Path) -> None:
    inv = Invocation.parse(["--root", str(host_dir), "--fixed"], environ={})
    assert inv.sandbox().systemd == Systemd(262, fixed=True)  # the root was made for 262
    inv = Invocation.parse(["--root", str(host_dir), "--systemd", "252"], environ={})
    assert inv.sandbox().systemd == Systemd(252)
    assert Invocation.parse(["--fixed"], environ={}).systemd_for() == Systemd(fixed=True)


BAD_SYSTEMD = "portablekit: --systemd must be one of 252|257|262, not '300'\n"


@pytest.mark.parametrize(
    "line",
    [
        ["--systemd", "300", "list"],
        ["list", "--systemd=300"],
        ["--root", "ROOT", "attach", "minimal", "--systemd", "300"],
        ["--systemd", "300", "--help"],
        ["sandbox", "init", "DIR", "--systemd", "300"],
        ["replay", "scenario", "out", "--systemd", "300"],
        ["dump", "--systemd", "300"],
        ["demo", "--systemd", "300"],
        ["security", "x.service", "--systemd", "300"],
        ["compare-profiles", "--systemd=300"],
        ["check", "x", "--systemd", "300"],
        ["--systemd", "300", "check", "x"],
    ],
)
def test_bad_systemd_one_message_one_status(
    line: list[str], host_dir: Path, tmp_path: Path
) -> None:
    line = [
        str(host_dir) if a == "ROOT" else str(tmp_path / "new") if a == "DIR" else a for a in line
    ]
    assert _call(*line) == (2, "", BAD_SYSTEMD)
    assert _call(*line, environ={"PORTABLEKIT_ROOT": str(host_dir)}) == (2, "", BAD_SYSTEMD)
    with pytest.raises(UsageError) as e:
        Invocation.parse(line, environ={})
    assert (e.value.message + "\n", e.value.exit_code) == (BAD_SYSTEMD, 2)
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (["list", "--root"], "portablekit: option '--root' requires an argument\n"),
        (["--systemd"], "portablekit: option '--systemd' requires an argument\n"),
        (["--root=", "list"], "portablekit: option '--root' needs a value, not ''\n"),
    ],
)
def test_global_option_without_value(line: list[str], message: str) -> None:
    assert _call(*line) == (2, "", message)


def test_portablekit_root_reaches_the_verbs(host_dir: Path) -> None:
    rc, out, _ = _call("is-attached", "minimal", environ={"PORTABLEKIT_ROOT": str(host_dir)})
    assert (rc, out) == (0, "detached\n")


def _spy(monkeypatch: pytest.MonkeyPatch, name: str, answer: bool = True) -> list[Invocation]:
    """Replace the kit command ``name``'s run by one that records the Invocation it gets."""
    command = _kit_command(name)
    module = sys.modules[command.run.__module__]
    attr = next(k for k, v in vars(module).items() if v is command)
    seen: list[Invocation] = []

    def run(inv: Invocation, *_: object) -> bool:
        seen.append(inv)
        return answer

    monkeypatch.setattr(module, attr, dataclasses.replace(command, run=run))
    return seen


@pytest.mark.parametrize("name", KIT_COMMANDS)
def test_every_command_receives_the_global_options(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = _spy(monkeypatch, name)
    args = {
        "sandbox": ["init", "d"],
        "replay": ["s", "o"],
        "security": ["u.service"],
        "check": ["x"],
        "fleet": ["scan", "x"],
    }.get(name, [])
    rc = main(
        [name, *args, "--fixed", "--systemd", "252"],
        environ={"PORTABLEKIT_ROOT": "r"},
        cwd=tmp_path,
        stdout=io.StringIO(),
    )
    assert rc == 0
    assert seen == [
        Invocation(
            args=(name, *args),
            root=tmp_path / "r",
            systemd=Systemd(252, fixed=True),
            fixed=True,
            cwd=tmp_path,
        )
    ]


def test_fixed_reaches_check(host_dir: Path) -> None:
    rc, out, _ = _call("--root", str(host_dir), "check", "minimal", "--fixed")
    assert rc == 0 and out.startswith(
        "Checked minimal with its default prefix for systemd 262 (fixed).\n"
    )
    rc, out, _ = _call("--root", str(host_dir), "check", "minimal")
    assert rc == 0 and out.startswith("Checked minimal with its default prefix for systemd 262.\n")


# -- exit statuses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (
            FileNotFoundError(2, "No such file or directory", "/x/y"),
            1,
            "portablekit check: /x/y: No such file or directory\n",
        ),
        (RuntimeError("boom"), 70, "portablekit check: internal error: RuntimeError: boom\n"),
        (BrokenPipeError(32, "Broken pipe"), 141, ""),
        (KeyboardInterrupt(), 130, ""),
    ],
)
def test_errors_become_exit_statuses_in_one_place(
    error: BaseException, status: int, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(*_: object) -> bool:
        raise error

    cmd = portablekit.cli.check.CHECK
    monkeypatch.setattr(portablekit.cli.check, "CHECK", dataclasses.replace(cmd, run=run))
    assert _call("check", "x") == (status, "", message)


def test_a_command_that_answers_no_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    _spy(monkeypatch, "check", answer=False)
    assert _call("check", "x") == (1, "", "")


def test_usage_errors_of_the_commands(tmp_path: Path) -> None:
    assert _call("check") == (
        2,
        "",
        "portablekit check: the following arguments are required: IMAGE\n",
    )
    assert _call("sandbox") == (
        2,
        "",
        "portablekit sandbox: the following arguments are required: ACTION\n",
    )
    rc, out, err = _call("sandbox", "init")
    assert (rc, out) == (2, "") and err.startswith("portablekit sandbox init: ")
    rc, _, err = _call("replay", str(tmp_path))
    assert rc == 2 and err.startswith("portablekit replay: the following arguments")
    assert _call("demo", "a", "b") == (2, "", "portablekit demo: unrecognized arguments: b\n")
    assert _call("dump") == (
        2,
        "",
        "portablekit dump: no root given; use DIR, --root DIR or PORTABLEKIT_ROOT\n",
    )


# -- sandbox, replay, dump -----------------------------------------------------------------------


def test_sandbox_init(tmp_path: Path) -> None:
    rc, out, err = _call("sandbox", "init", str(tmp_path / "h"), "--systemd", "252")
    assert (rc, out) == (0, "")
    assert err == f"Sandbox root for systemd 252 created at {tmp_path / 'h'}.\n"
    assert SandboxRoot(tmp_path / "h").systemd == Systemd(252)
    rc, _, err = _call("sandbox", "init", str(tmp_path / "h"))
    assert (rc, err) == (
        1,
        f"portablekit sandbox: {tmp_path / 'h'}: directory is not empty; refusing to make it "
        "a sandbox\n",
    )
    assert _call("sandbox", "init", str(tmp_path / "h"), "--exist-ok")[0] == 0


def test_dump_prints_the_tree_of_the_watched_directories(host_dir: Path) -> None:
    rc, before, _ = _call("dump", str(host_dir))
    assert rc == 0 and "/etc/systemd/system.attached absent\n" in before
    assert _call("--root", str(host_dir), "attach", "minimal")[0] == 0
    rc, after, _ = _call("dump", environ={"PORTABLEKIT_ROOT": str(host_dir)})
    assert rc == 0
    assert (
        "\n/etc/systemd/system.attached/minimal.service.d/20-portable.conf file 0644 0:0 " in after
    )
    assert "\n/etc/portables/minimal symlink -> /var/lib/portables/minimal\n" in after
    rc, _, err = _call("dump", str(host_dir / "nothing"))
    assert rc == 1 and err == (
        f"portablekit dump: {host_dir / 'nothing'}: sandbox root does not exist or is not a "
        "directory\n"
    )


def test_replay(tmp_path: Path) -> None:
    scenario = Path(__file__).parent / "scenarios" / "basic-attach-detach"
    rc, out, err = _call("replay", str(scenario), str(tmp_path / "out"), "--systemd", "252")
    assert (rc, out, err) == (0, "", "")
    # judged as the golden replays are: by the oracle's compare, against the recording
    here = Path(__file__).parent
    judged = subprocess.run(
        [
            sys.executable,
            str(here / "oracle" / "compare"),
            str(tmp_path / "out"),
            str(here / "golden" / "252" / "basic-attach-detach"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert judged.stdout.rstrip().endswith("identical 1/1"), judged.stdout + judged.stderr
    rc, _, err = _call("replay", str(tmp_path / "none"), str(tmp_path / "o"))
    assert (rc, err) == (1, f"portablekit replay: {tmp_path / 'none'}: not a scenario directory\n")


def test_docstring_examples() -> None:
    import doctest

    import portablekit.cli.invocation
    import portablekit.cli.portablectl_text
    import portablekit.cli.texttable

    for module in (
        portablekit.cli.invocation,
        portablekit.cli.portablectl_text,
        portablekit.cli.texttable,
    ):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0

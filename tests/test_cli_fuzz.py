"""The command line on garbage: never a traceback, never a hang, every error names its subject.

Every verb and every kit command runs in-process through the console entry point
(:func:`portablekit.cli.main.main`) on lines drawn from real options and garbage ones, and on
odd paths: very long ones, names that are not UTF-8 (as ``surrogateescape`` carries them from
the command line), ``..``, links, a link loop, special files (a FIFO, a socket, ``/dev/zero``,
``/dev/null``), directories where files are expected and files where directories are. The
streams are what a UTF-8 terminal gives a process: text over bytes that refuses what it cannot
encode. Each line runs in a fresh copy of a sandbox root under a timer.

A line fails when an exception escapes ``main``, when it prints a traceback or an internal
error, when it exits with anything but 0, 1 or 2, when it runs past the timer (a hang), or when
an error line names neither a word of the command line (a path, a name, an option) nor is one
of portablectl's own messages, which the recordings of the real portablectl pin.

The default run tries a bounded number of lines, the same each time; the ``slow`` version 300
new ones each run (``PORTABLEKIT_FUZZ_EXAMPLES=N`` for more).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portablekit.cli.main import KIT_COMMANDS, main
from portablekit.cli.portablectl_options import VERBS
from portablekit.samples import sample_sandbox
from portablekit.versions import Systemd

REPO = Path(__file__).resolve().parent.parent
TIMER = 20.0  # seconds a line may take before it counts as a hang (the slowest take ~1 s)

# -- what lines are made of ------------------------------------------------------------------

LONG_NAME = "l" * 300  # longer than a file name may be
LONG_PATH = "/".join(["deep"] * 1200)  # longer than a path may be
NOT_UTF8 = os.fsdecode(b"caf\xe9-\xff\xfe")  # bytes that are not UTF-8, as argv carries them

#: paths relative to the directory the line runs in (``work/cwd/here``), and a few of the machine
#: that nothing may write to (special files); never ``/`` or another real directory
PATHS = [
    "root",  # the sandbox root (a relative path)
    "fifo",
    "fifo.service",
    "fifo.raw",
    "socket",
    "socket.service",
    "dir.service",  # a directory where a unit file is expected
    "file",  # a file where a directory is expected
    "file/below",
    "loop",  # a link to itself
    "loop.service",
    "dangling",
    "link-to-root",
    "unit.service",  # an ordinary unit file
    "empty.raw",
    "garbage.raw",
    "..",
    "../..",
    ".",
    "",
    "-",
    LONG_NAME,
    LONG_PATH,
    NOT_UTF8,
    NOT_UTF8 + ".service",
    "a:b",
    "new\nline",
    "/dev/zero",
    "/dev/null",
]
#: names and paths as seen inside the sandbox root
IMAGES = [
    "minimal",
    "webapp_2.1",
    "webapp-tls",
    "debug-tools",
    "nothere",
    "/var/lib/portables/minimal",
    "/var/lib/portables/fifo.raw",
    "/var/lib/portables/zero.raw",
    "/var/lib/portables/loop",
    "/var/lib/portables/" + LONG_NAME,
    "/var/lib/portables/../../../..",
    "minimal.raw",
    NOT_UTF8,
    "-",
    "",
    "%",
    "*",
]
PORTABLECTL_OPTIONS = [
    "--runtime",
    "--now",
    "--enable",
    "--force",
    "--quiet",
    "--no-legend",
    "--no-pager",
    "--no-reload",
    "--no-block",
    "--cat",
    "--clean",
    "--dry-run",
    "--json",
    "--json=pretty",
    "--json=off",
    "--json=garbage",
    "--copy=copy",
    "--copy=symlink",
    "--copy=mixed",
    "--copy=garbage",
    "--copy=help",
    "--profile=strict",
    "--profile=help",
    "--profile=../../etc",
    "--profile=" + NOT_UTF8,
    "--extension=webapp-tls",
    "--extension=debug-tools",
    "--extension=fifo",
    "--system",
    "--user",
    "--version",
    "--help",
    "-q",
    "-H",
    "-M",
    "-p",
    "--pro",  # ambiguous prefix
]
KIT_OPTIONS = [
    "--json",
    "--prefix=minimal",
    "--prefix",
    "--extension=webapp-tls",
    "--severity=info",
    "--severity=bogus",
    "--arch=x86-64",
    "--max-elf-files=0",
    "--max-elf-files=-5",
    "--profile=strict",
    "--no-profile",
    "--image=raw",
    "--image=bogus",
    "--image-path=/srv/x",
    "--threshold=-1",
    "--threshold=x",
    "--no-emoji",
    "--unit=unit.service",
    "--unit=fifo.service",
    "--base=strict",
    "--systemd",
    "--systemd=262",
    "--systemd=1",
    "--exist-ok",
    "--help",
]
GLOBAL = ["--root=root", "--root=fifo", "--root=file", "--root=" + LONG_PATH, "--fixed", "--"]
#: (no NUL: a command line cannot hold one)
GARBAGE = ["--", "-", "--=", "-x", "-::", "--bogus", "---", "--root", "--root=", "--systemd="]

COMMANDS = sorted(VERBS) + list(KIT_COMMANDS) + ["help", "bogus", ""]


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """A command line: global options, a command, and words for it, in any order."""
    command = draw(st.sampled_from(COMMANDS))
    words = st.one_of(
        st.sampled_from(IMAGES),
        st.sampled_from(PATHS),
        st.sampled_from(PORTABLECTL_OPTIONS if command in VERBS else KIT_OPTIONS),
        st.sampled_from(GARBAGE),
        st.text(alphabet="ab-_./:=\udcff", max_size=6),
    )
    rest = draw(st.lists(words, max_size=5))
    line = [command, *rest]
    for g in draw(st.lists(st.sampled_from(GLOBAL), max_size=2)):
        line.insert(draw(st.integers(0, len(line))), g)
    return line


# -- where lines run -----------------------------------------------------------------------------


@dataclass
class Scene:
    """A fresh copy of the template, and the directory lines run in."""

    work: Path
    cwd: Path


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sandbox root with the samples, and odd files beside and inside it (no special file:
    those are made in each copy)."""
    base = tmp_path_factory.mktemp("fuzz-template")
    here = base / "cwd" / "here"
    here.mkdir(parents=True)
    sample_sandbox(here / "root", systemd=Systemd(257))
    (here / "dir.service").mkdir()
    (here / "file").write_text("a file\n")
    (here / "unit.service").write_text("[Service]\nExecStart=/bin/true\n")
    (here / "empty.raw").write_bytes(b"")
    (here / "garbage.raw").write_bytes(bytes(range(256)) * 64)
    os.symlink("loop", here / "loop")
    os.symlink("loop.service", here / "loop.service")
    os.symlink("nowhere", here / "dangling")
    os.symlink("root", here / "link-to-root")
    portables = here / "root" / "var" / "lib" / "portables"
    os.symlink("loop", portables / "loop")
    os.symlink("/dev/zero", portables / "zero.raw")
    return base


def _fresh(template: Path) -> Scene:
    work = Path(tempfile.mkdtemp(prefix="portablekit-fuzz-"))
    shutil.copytree(template, work / "t", symlinks=True)
    here = work / "t" / "cwd" / "here"
    for name in ("fifo", "fifo.service", "fifo.raw", "root/var/lib/portables/fifo.raw"):
        os.mkfifo(here / name)
    for name in ("socket", "socket.service"):
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(here / name))
        s.close()
    return Scene(work, here)


# -- what a line must do ------------------------------------------------------------------------


class Hang(BaseException):
    """A line ran past the timer (not an Exception: ``main`` must not catch it)."""


@dataclass
class Outcome:
    rc: int
    out: str
    err: str


def _run(line: list[str], cwd: Path, environ: dict[str, str]) -> Outcome:
    """``main(line)`` with a UTF-8 terminal's streams, under the timer."""
    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(err_bytes, encoding="utf-8", errors="strict", write_through=True)

    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"portablekit {line!r} still runs after {TIMER} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, TIMER)
    try:
        rc = main(line, stdout=out, stderr=err, environ=environ, cwd=cwd)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    out.flush()
    err.flush()
    return Outcome(
        rc,
        out_bytes.getvalue().decode("utf-8", "surrogateescape"),
        err_bytes.getvalue().decode("utf-8", "surrogateescape"),
    )


def _portablectl_shapes() -> set[str]:
    """What the real portablectl prints on stderr, with quoted words and paths left out: the
    recordings pin these texts, whatever they name."""
    shapes = set()
    for transcript in REPO.glob("tests/golden*/*/*/transcript.txt"):
        section = ""
        for line in transcript.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("--- "):
                section = line
            elif section == "--- stderr:":
                shapes.add(_shape(line))
    return shapes


def _shape(line: str) -> str:
    line = re.sub(r"'[^']*'", "'…'", line)
    line = re.sub(r"/\S*", "/…", line)
    return re.sub(r"\d+", "N", line)


#: lines that report, not complain
_NOT_ERRORS = re.compile(
    r"^(\(Matching |Created |Removed |Copied |Written |Queued |Available unit profiles|"
    r"Plan of |Checked |Sandbox root |  |\t)"
)


#: portablectl's own texts that name nothing, and that no recording holds (portablectl.c)
PORTABLECTL_TEXTS = {
    "Too few arguments.",
    "Too many arguments.",
    "Refusing all unit file match.",
    "Operations on images by path not supported when connecting to remote systems.",
}


def _named(err_line: str, line: list[str], cwd: Path) -> bool:
    """Whether an error line names a word of the command line, or the path it stands for."""
    for word in line:
        value = word.partition("=")[2] if word.startswith("-") and "=" in word else word
        if value == "" and ("''" in err_line or err_line.endswith(": ")):
            return True  # an empty argument, quoted or last on the line (portablectl's "%s")
        candidates = {word, value, os.path.basename(value.rstrip("/"))}
        candidates.update(value.split("\n"))  # a word with a newline spans lines
        if word.startswith("-") and "=" in word:
            candidates.add(word.partition("=")[0])  # the option, named without its value
        if word.startswith("-") and not word.startswith("--"):
            candidates.update(
                f"'{c}'" for c in word[1:]
            )  # getopt names a short option by its letter
        if value:
            candidates.add(os.path.normpath(cwd / value))  # a path of this machine
            candidates.add(os.path.normpath("/" + value))  # of the root (lines run outside it)
        for c in candidates:
            if len(c) >= 2 and c in err_line:
                return True
            # a one-character name ("/", "-") counts as a word of its own, not inside one
            if len(c) == 1 and re.search(rf"(^|[\s'\"(=]){re.escape(c)}($|[\s'\":,.)])", err_line):
                return True
    return False


SHAPES: set[str] = set()


def check_line(line: list[str], template: Path) -> None:
    """Run one line in a fresh scene and judge it."""
    global SHAPES
    if not SHAPES:
        SHAPES = _portablectl_shapes()
    scene = _fresh(template)
    try:
        environ = {} if "--root" in " ".join(line) else {"PORTABLEKIT_ROOT": "root"}
        try:
            got = _run(line, scene.cwd, environ)
        except Hang as h:
            pytest.fail(str(h))
        except BaseException as e:  # anything escaping main is the failure
            pytest.fail(f"portablekit {line!r}: {type(e).__name__} escaped main: {e}")
        where = f"portablekit {line!r} exited {got.rc}:\n{got.err}"
        assert got.rc in (0, 1, 2), where
        assert "Traceback" not in got.err and "internal error" not in got.err, where
        # a portablectl line and the lines "portablekit: ..." that explain it are one error
        errors: list[list[str]] = []
        for err_line in got.err.splitlines():
            explains = errors and not errors[-1][0].startswith("portablekit")
            if err_line.startswith("portablekit: ") and explains:
                errors[-1].append(err_line)
                continue
            errors.append([err_line])
        for group in errors:
            first = group[0]
            if not first.strip() or _NOT_ERRORS.match(first):
                continue
            known = first in PORTABLECTL_TEXTS or _shape(first) in SHAPES
            assert known or any(_named(e, line, scene.cwd) for e in group), (
                f"{where}\nthis error names no word of the command line: {group!r}"
            )
    finally:
        shutil.rmtree(scene.work, ignore_errors=True)


# -- the tests -----------------------------------------------------------------------------------


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command_lines())
def test_command_lines_fail_cleanly(template: Path, line: list[str]) -> None:
    check_line(line, template)


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("PORTABLEKIT_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command_lines())
def test_command_lines_fail_cleanly_long(template: Path, line: list[str]) -> None:
    check_line(line, template)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "word", ["fifo", "socket", "/dev/zero", "dir.service", "loop", LONG_NAME, NOT_UTF8]
)
def test_every_command_on_each_odd_path(template: Path, command: str, word: str) -> None:
    # the odd paths against every command once, whatever hypothesis draws
    check_line([command, word], template)

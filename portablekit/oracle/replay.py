"""Replay an oracle scenario against a fresh sandbox root, writing the oracle's output layout.

A scenario (the oracle's format, see ``tests/scenarios-extra/README.md``) is a directory
with a ``cmd`` file (portablectl arguments or ``!`` shell lines), an optional ``root/``
tree, an optional ``build`` script that makes raw images, and optional ``active-units``.
:func:`replay` does what the oracle's harness does, with portablekit in place of the real
portabled, and writes per step ``cmd``, ``rc``, ``stdout``, ``stderr``, ``changes.txt`` and
``tree.txt`` plus the final dumps, so the oracle's ``compare`` can judge it. A scenario is
also a shareable, reproducible walkthrough.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..cli.portablectl import run
from ..errors import ScenarioError
from ..portabled.host import ACTIVE_UNITS, STATE_DIR
from ..portabled.plan import Op, OpKind, Plan
from ..sandbox import SandboxRoot
from ..versions import Systemd
from .dump import Snapshot, render_changes, render_tree

__all__ = ["Step", "read_steps", "replay"]

#: Seconds a ``build`` script or a ``!`` line may run.
TIMEOUT = 300


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a scenario's ``cmd``."""

    number: int
    line: str

    @property
    def is_shell(self) -> bool:
        """A ``!`` line, run by bash."""
        return self.line.startswith("!")

    @property
    def dirname(self) -> str:
        """``01``, ``02``, ... ``99``, ``100``."""
        return f"{self.number:02d}"


def read_steps(scenario: Path) -> list[Step]:
    """The steps of a scenario (empty and ``#`` lines skipped)."""
    cmd = scenario / "cmd"
    try:
        text = cmd.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(f"{cmd}: cannot read the scenario's steps: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise ScenarioError(f"{cmd}: not UTF-8 text") from e
    steps: list[Step] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        steps.append(Step(len(steps) + 1, line))
    return steps


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    path.write_bytes(data)


def _run_build(scenario: Path, layer: Path) -> None:
    build = scenario / "build"
    env = dict(os.environ)
    env["PATH"] = env.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin"
    env.setdefault("LANG", "C.UTF-8")
    try:
        proc = subprocess.run(
            ["bash", str(build), str(layer)],
            cwd=scenario,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise ScenarioError(f"{build}: did not finish within {TIMEOUT} s") from e
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise ScenarioError(
            f"{build}: failed with exit code {proc.returncode}: " + " / ".join(tail)
        )


_SCENARIO_FILES = frozenset(
    {
        "cmd",
        "README",
        "build",
        "image-name",
        "active-units",
        "min-version",
        "normalize-regex",
        "oracle-only",
        "compare-calls",
        "no-fake-systemd1",
        "user-scope",
    }
)


def _is_lossy_copy(sc: Path) -> bool:
    """A scenario copied in a way that lost symbolic links and modes (every entry read-only,
    no link anywhere): its links became files holding the link target."""
    for dirpath, dirnames, filenames in os.walk(sc):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            if stat.S_ISLNK(st.st_mode) or st.st_mode & 0o200:
                return False
    return True


def _looks_like_lost_link(path: Path) -> bool:
    # the scenario generator writes every regular file with a final newline; a link turned
    # into a file holds just its target, without one
    try:
        if path.stat().st_size == 0 or path.stat().st_size > 4095:
            return False
        data = path.read_bytes()
    except OSError:
        return False
    if b"\n" in data or b"\0" in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "/" in text or not any(c.isspace() for c in text)


def _materialize(sc: Path, dest: Path) -> Path:
    """Copy the scenario to ``dest`` (writable), restoring links a lossy copy lost."""
    lossy = _is_lossy_copy(sc)
    shutil.copytree(sc, dest, symlinks=True)
    for dirpath, _dirnames, filenames in os.walk(dest):
        os.chmod(dirpath, stat.S_IMODE(os.stat(dirpath).st_mode) | 0o200)
        for name in filenames:
            p = Path(dirpath) / name
            if p.is_symlink():
                continue
            top_level = Path(dirpath) == dest
            if lossy and not (top_level and name in _SCENARIO_FILES) and _looks_like_lost_link(p):
                target = p.read_text(encoding="utf-8")
                p.unlink()
                os.symlink(target, p)
            else:
                os.chmod(p, stat.S_IMODE(os.stat(p).st_mode) | 0o200)
    return dest


def _exact_modes(layer: Path) -> Plan:
    """The build script's files keep their exact modes: laying a tree adds the owner's write
    bit (copies of scenario trees often lose it), which a freshly built read-only raw image
    must not get."""
    ops = []
    for dirpath, _dirnames, filenames in os.walk(layer):
        for name in sorted(filenames):
            p = Path(dirpath) / name
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode) and not st.st_mode & 0o200:
                host_path = PurePosixPath("/", p.relative_to(layer).as_posix())
                ops.append(Op(OpKind.CHMOD, host_path, mode=stat.S_IMODE(st.st_mode)))
    return Plan("lay", str(layer), tuple(ops))


def replay(
    scenario: str | os.PathLike[str],
    out: str | os.PathLike[str],
    systemd: Systemd = Systemd(),
    *,
    workdir: str | os.PathLike[str] | None = None,
    keep: bool = False,
) -> Path:
    """Replay ``scenario`` into ``out`` (replaced if it holds an earlier replay) as ``systemd``
    does.

    The sandbox root is made in ``workdir`` (a temporary directory by default) and removed
    afterwards unless ``keep``; its path is returned when kept.
    """
    sc = Path(scenario).absolute()
    if not sc.is_dir():
        raise ScenarioError(f"{sc}: not a scenario directory")
    steps = read_steps(sc)
    out_dir = Path(out).absolute()
    if out_dir.exists():
        if not (out_dir / "steps").is_dir() and any(out_dir.iterdir()):
            raise ScenarioError(f"{out_dir}: exists and is not an earlier replay; refusing")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)

    work = Path(tempfile.mkdtemp(prefix="portablekit-replay-", dir=workdir))
    try:
        sc = _materialize(sc, work / "scenario")
        root_dir = work / "root"
        sandbox = SandboxRoot.init(root_dir, systemd)
        if (sc / "root").is_dir():
            sandbox.lay(sc / "root")
        if (sc / "image").exists():
            name = (
                (sc / "image-name").read_text().strip() if (sc / "image-name").exists() else "image"
            )
            layer = work / "image-layer"
            dest = layer / "var" / "lib" / "portables" / name
            dest.parent.mkdir(parents=True)
            if (sc / "image").is_dir():
                shutil.copytree(sc / "image", dest, symlinks=True)
            else:
                shutil.copyfile(sc / "image", dest)
            sandbox.lay(layer)
        if (sc / "build").is_file():
            layer = work / "build-layer"
            layer.mkdir()
            _run_build(sc, layer)
            sandbox.lay(layer)
            sandbox.apply(_exact_modes(layer))
        if (sc / "active-units").is_file():
            sandbox.write_file(ACTIVE_UNITS, (sc / "active-units").read_bytes())

        initial = Snapshot.take(root_dir)
        _write(out_dir / "initial" / "changes.txt", render_changes(initial, initial))
        _write(out_dir / "initial" / "tree.txt", render_tree(initial))

        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "HOME": os.environ.get("HOME", "/root"),
            "ROOT": str(root_dir),
            "STATE": str(root_dir / STATE_DIR.relative_to("/")),
        }
        last: Path | None = None
        for step in steps:
            d = out_dir / "steps" / step.dirname
            _write(d / "cmd", step.line + "\n")
            if step.is_shell:
                try:
                    proc = subprocess.run(
                        ["bash", "-u", "-c", step.line[1:]],
                        cwd=root_dir,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        capture_output=True,
                        timeout=TIMEOUT,
                        check=False,
                    )
                    rc, so, se = proc.returncode, proc.stdout, proc.stderr
                except subprocess.TimeoutExpired:
                    rc, so, se = 124, b"", f"timed out after {TIMEOUT} s\n".encode()
                _write(d / "argv", f"$ {step.line[1:]}\n")
            else:
                try:
                    argv = shlex.split(step.line)
                except ValueError as e:
                    raise ScenarioError(f"{sc / 'cmd'}: step {step.number}: {e}") from e
                o, e2 = io.StringIO(), io.StringIO()
                try:
                    rc = run(
                        argv,
                        root=SandboxRoot(root_dir, systemd),
                        stdout=o,
                        stderr=e2,
                        cwd=PurePosixPath("/"),
                    )
                except Exception as exc:  # a bug must show as a difference, not end the replay
                    rc = 70
                    e2.write(f"portablekit: internal error: {type(exc).__name__}: {exc}\n")
                so = o.getvalue().encode("utf-8", "surrogateescape")
                se = e2.getvalue().encode("utf-8", "surrogateescape")
                _write(d / "argv", "".join(a + "\n" for a in ["portablectl", *argv]))
            _write(d / "rc", f"{rc}\n")
            _write(d / "stdout", so)
            _write(d / "stderr", se)
            snap = Snapshot.take(root_dir)
            _write(d / "changes.txt", render_changes(initial, snap))
            _write(d / "tree.txt", render_tree(snap))
            last = d
        if last is not None:
            shutil.copyfile(last / "changes.txt", out_dir / "final-changes.txt")
            shutil.copyfile(last / "tree.txt", out_dir / "final-tree.txt")
        return root_dir if keep else out_dir
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)

"""The ``portablekit`` command: portablectl's verbs over a sandbox root, and the kit's own.

::

    portablekit sandbox init DIR [--systemd 252|257|262]
    portablekit [--root DIR] [--systemd V] [--fixed] [portablectl options] VERB [ARGS...]
    portablekit replay SCENARIO_DIR OUT_DIR [--systemd V] [--fixed]

The one place errors become exit codes. Importing this module loads neither pandas nor
ipywidgets.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from ..errors import PortableKitError
from ..portabled.host import Host
from ..sandbox import SandboxRoot
from ..versions import DEFAULT_VERSION, SUPPORTED_VERSIONS, Systemd
from .portablectl import run

__all__ = ["main"]

_OWN = {"sandbox", "replay", "security", "compare-profiles", "check", "demo"}


def _global_options(argv: list[str]) -> tuple[dict[str, str | bool], list[str]]:
    """Take ``--root``, ``--systemd`` and ``--fixed`` from anywhere in ``argv``."""
    found: dict[str, str | bool] = {}
    rest: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest.extend(argv[i:])
            break
        for name in ("root", "systemd"):
            if a == f"--{name}":
                if i + 1 >= len(argv):
                    raise SystemExit(f"portablekit: option '--{name}' requires an argument")
                found[name] = argv[i + 1]
                i += 2
                break
            if a.startswith(f"--{name}="):
                found[name] = a.split("=", 1)[1]
                i += 1
                break
        else:
            if a == "--fixed":
                found["fixed"] = True
            else:
                rest.append(a)
            i += 1
    return found, rest


def _systemd(opts: dict[str, str | bool]) -> Systemd:
    raw = opts.get("systemd", str(DEFAULT_VERSION))
    try:
        version = int(str(raw))
        return Systemd(version, fixed=bool(opts.get("fixed")))
    except ValueError:
        supported = "|".join(map(str, SUPPORTED_VERSIONS))
        raise SystemExit(
            f"portablekit: --systemd must be one of {supported}, not '{raw}'"
        ) from None


def _cwd_in(root: Path) -> PurePosixPath:
    """The current directory as a path of the simulated host (``/`` when outside the root)."""
    here = Path.cwd()
    try:
        rel = here.relative_to(root.resolve())
    except ValueError:
        return PurePosixPath("/")
    return PurePosixPath("/", rel)


def _sandbox_cmd(args: list[str], sd: Systemd) -> int:
    p = argparse.ArgumentParser(prog="portablekit sandbox")
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("init", help="create a fresh sandbox root")
    i.add_argument("dir")
    i.add_argument("--exist-ok", action="store_true", help="reuse a non-empty directory")
    ns = p.parse_args(args)
    root = SandboxRoot.init(ns.dir, sd, exist_ok=ns.exist_ok)
    print(f"Sandbox root for systemd {sd.version} created at {root.path}.", file=sys.stderr)
    return 0


def _replay_cmd(args: list[str], sd: Systemd) -> int:
    from ..oracle.replay import replay

    p = argparse.ArgumentParser(prog="portablekit replay")
    p.add_argument("scenario")
    p.add_argument("out")
    p.add_argument("--keep-root", action="store_true", help="keep the sandbox root and print it")
    ns = p.parse_args(args)
    result = replay(ns.scenario, ns.out, sd, keep=ns.keep_root)
    if ns.keep_root:
        print(result)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``portablekit`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        opts, rest = _global_options(args)
        sd = _systemd(opts)
        first = next((a for a in rest if not a.startswith("-")), None)
        if first in _OWN and rest and rest[0] == first:
            if first == "sandbox":
                return _sandbox_cmd(rest[1:], sd)
            if first == "replay":
                return _replay_cmd(rest[1:], sd)
            if first == "demo":
                from .demo import main as demo_main

                return demo_main(rest[1:], sd)
            from . import check as extra_cli

            # without --systemd the sandbox's own version applies
            return extra_cli.dispatch(
                first, rest[1:], sd if "systemd" in opts else None, opts.get("root")
            )
        root_arg = opts.get("root")
        root_path = (
            Path(str(root_arg)) if root_arg else Path(os.environ.get("PORTABLEKIT_ROOT", "/"))
        )
        if not root_arg and "PORTABLEKIT_ROOT" not in os.environ:
            print(
                "portablekit: no sandbox root given; use --root DIR (or PORTABLEKIT_ROOT). "
                "Create one with 'portablekit sandbox init DIR'.",
                file=sys.stderr,
            )
            return 1
        sandbox = SandboxRoot(root_path, sd if "systemd" in opts else None)
        if "fixed" in opts and "systemd" not in opts:
            sandbox.systemd = Systemd(sandbox.systemd.version, fixed=True)
        host = Host(sandbox.path, sandbox.systemd)
        return run(
            rest,
            root=sandbox,
            host=host,
            stdout=sys.stdout,
            stderr=sys.stderr,
            cwd=_cwd_in(sandbox.path),
            prog="portablekit",
        )
    except PortableKitError as e:
        print(f"portablekit: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 141
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

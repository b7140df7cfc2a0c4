"""The ``portablekit`` command: portablectl's verbs over a sandbox root, and the kit's own.

::

    portablekit [--root DIR] [--systemd 252|257|262] [--fixed] COMMAND [ARGS...]
    portablekit --help | help [COMMAND] | COMMAND --help

The global options are parsed once, into an :class:`~portablekit.cli.invocation.Invocation`
that every command receives. A command is one of the kit's own (:data:`KIT_COMMANDS`, each a
:class:`~portablekit.cli.command.Command` in a module of its own, imported only when it runs)
or a portablectl verb, run by :func:`portablekit.cli.portablectl.run`.

:func:`main` is the one place errors become exit statuses:

====  ==========================================================================================
0     done; the answer is yes
1     the answer is no (``check``: portabled refuses the image; ``security``: a unit does not
      load or is above ``--threshold``; ``demo``: a step misbehaved), or an error: a file that
      is missing or wrong, an image that cannot be read, an unusable sandbox root
2     a command line the kit refuses: unknown command, bad option or value (``--systemd``
      included), missing argument, no sandbox root for a command that needs one
70    an internal error (a bug in portablekit)
130   interrupted (Ctrl-C)
141   standard output closed early (broken pipe)
====  ==========================================================================================

portablectl's verbs exit as portablectl does (0 or 1, its own usage errors included), because
the recordings of the real portablectl pin those. Importing this module loads neither pandas
nor ipywidgets, nor the analysis commands.
"""

from __future__ import annotations

import codecs
import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from ..errors import PortabledError, PortableKitError, UsageError
from ..versions import DEFAULT_VERSION, SUPPORTED_VERSIONS, Systemd
from .command import Command
from .invocation import ROOT_ENV, USAGE_EXIT, Invocation
from .portablectl import run
from .portablectl_options import VERB_HELP, VERBS, help_text, parse_args
from .texttable import help_entry

__all__ = ["KIT_COMMANDS", "main"]

#: The kit's own commands, in the order ``portablekit --help`` lists them after ``sandbox``.
KIT_COMMANDS = (
    "sandbox", "replay", "dump", "demo", "security", "compare-profiles", "check", "fleet",
)  # fmt: skip

_INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE
_INTERRUPTED_EXIT = 130
_BROKEN_PIPE_EXIT = 141


def _kit_command(name: str) -> Command:
    """The kit's command ``name``, its module imported only now (so that ``portablekit list``
    does not load the analysis commands)."""
    match name:
        case "sandbox":
            from .sandbox import SANDBOX

            return SANDBOX
        case "replay":
            from .oracle import REPLAY

            return REPLAY
        case "dump":
            from .oracle import DUMP

            return DUMP
        case "demo":
            from .demo import DEMO

            return DEMO
        case "security":
            from .security import SECURITY

            return SECURITY
        case "compare-profiles":
            from .security import COMPARE_PROFILES

            return COMPARE_PROFILES
        case "check":
            from .check import CHECK

            return CHECK
        case "fleet":
            from .fleet import FLEET

            return FLEET
    raise _unknown(name)


def _unknown(name: str) -> UsageError:
    return UsageError(
        f"portablekit: unknown command '{name}'; 'portablekit --help' lists the commands",
        exit_code=USAGE_EXIT,
    )


def overview() -> str:
    """``portablekit --help``: every command with a one-line summary, the global options and
    the environment."""
    commands = [_kit_command(name) for name in KIT_COMMANDS]
    versions = "|".join(map(str, SUPPORTED_VERSIONS))
    entries = [
        help_entry(commands[0].synopsis, commands[0].summary),
        *(help_entry(*verb) for verb in VERB_HELP),
        *(help_entry(c.synopsis, c.summary) for c in commands[1:]),
    ]
    return (
        f"portablekit [--root DIR] [--systemd {versions}] [--fixed] COMMAND [ARGS...]\n"
        "\n"
        "systemd's portablectl simulated against a sandbox root (a directory playing the\n"
        "host's /), and the kit's own commands.\n"
        "\n"
        "Commands:\n" + "\n".join(entries) + "\n"
        "\n"
        "Global options, anywhere on the line:\n"
        + help_entry("--root DIR", f"The sandbox root (default: ${ROOT_ENV})")
        + "\n"
        + help_entry(
            f"--systemd {versions}",
            f"The version reproduced (default: the root's, {DEFAULT_VERSION})",
        )
        + "\n"
        + help_entry("--fixed", "Turn off behaviours that are plainly upstream bugs")
        + "\n"
        + help_entry("-h --help", "Show this help")
        + "\n\n"
        "'portablekit COMMAND --help' documents a command. portablectl's verbs take\n"
        "portablectl's options ('portablekit attach --help'); set-limit is refused as\n"
        "on a file system without quotas.\n"
        "\n"
        "Environment:\n" + help_entry(ROOT_ENV, "The sandbox root when --root is not given") + "\n"
    )


def _help(topic: str | None, systemd: Systemd = Systemd()) -> str:
    """``portablekit help [TOPIC]`` (a verb's help is that of ``systemd``'s portablectl)."""
    if topic is None:
        return overview()
    if topic in KIT_COMMANDS:
        return _kit_command(topic).parser().format_help()
    if topic in VERBS:
        return help_text(systemd, "portablekit")
    raise _unknown(topic)


def _verb_systemd(inv: Invocation) -> Systemd:
    """The version a verb's help is shown for: ``--systemd``, else the sandbox root's when it
    is a usable one, else the default."""
    if inv.root is not None and inv.systemd is None:
        try:
            return inv.sandbox().systemd
        except PortableKitError:
            pass
    return inv.systemd_for()


def _portablectl(inv: Invocation, out: TextIO, err: TextIO) -> int:
    """A portablectl verb on the sandbox root, with portablectl's own exit status."""
    if inv.root is None:
        try:  # portablectl's --help needs no root
            show_help = parse_args(inv.args, inv.systemd_for(), "portablekit").show_help
        except UsageError:
            show_help = False
        if show_help:
            out.write(help_text(inv.systemd_for(), "portablekit"))
            return 0
    sandbox = inv.sandbox()
    return run(
        inv.args,
        root=sandbox,
        stdout=out,
        stderr=err,
        cwd=inv.host_cwd(sandbox.path),
        prog="portablekit",
    )


def _dispatch(inv: Invocation, out: TextIO, err: TextIO) -> int:
    rest = inv.args
    name = rest[0] if rest else None
    if name is None or name == "help" or rest in (("-h",), ("--help",)):
        topic = rest[1] if name == "help" and len(rest) > 1 else None
        out.write(_help(topic, _verb_systemd(inv) if topic in VERBS else Systemd()))
        return 0
    if name in KIT_COMMANDS:
        return 0 if _kit_command(name)(inv, rest[1:], out, err) else 1
    if not name.startswith("-") and name not in VERBS:
        raise _unknown(name)
    return _portablectl(inv, out, err)


def _bytes_through(stream: TextIO) -> TextIO:
    """``stream``, set to write what it is given as the bytes it stands for.

    portablectl prints bytes: an image's unit file that is not UTF-8 (``inspect --cat``), a
    path in another encoding. Text here holds such bytes as surrogates; a text stream over a
    file (the process's own, under a UTF-8 locale) would refuse them, or would not encode an
    arrow under another locale. Such a stream is switched to UTF-8 that writes surrogates back
    as their bytes; any other stream (a ``StringIO``) is left as it is.
    """
    if isinstance(stream, io.TextIOWrapper) and (
        codecs.lookup(stream.encoding).name != "utf-8" or stream.errors != "surrogateescape"
    ):
        stream.reconfigure(encoding="utf-8", errors="surrogateescape")
    return stream


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Entry point of the ``portablekit`` console script: run the command line ``argv``
    (default: the process's) and return the exit status; nothing here exits the process.

    ``stdout``, ``stderr``, ``environ`` and ``cwd`` default to the process's own; a stream over
    a file is set to write UTF-8 and the bytes of surrogates as they are, as portablectl does.
    """
    out = _bytes_through(sys.stdout if stdout is None else stdout)
    err = _bytes_through(sys.stderr if stderr is None else stderr)
    args = sys.argv[1:] if argv is None else list(argv)
    prog = "portablekit"
    try:
        inv = Invocation.parse(args, environ=environ, cwd=cwd)
        if inv.args and inv.args[0] in KIT_COMMANDS:
            prog = f"portablekit {inv.args[0]}"
        return _dispatch(inv, out, err)
    except UsageError as e:
        err.write(e.message + "\n")
        return e.exit_code
    except PortableKitError as e:
        err.write(f"{prog}: {e}\n")
        if isinstance(e, PortabledError) and e.detail:  # what portabled only logs: the file
            err.write(f"{prog}: {e.detail}\n")
        return 1
    except BrokenPipeError:
        return _BROKEN_PIPE_EXIT
    except OSError as e:
        what = f"{e.filename}: {e.strerror}" if e.filename and e.strerror else str(e)
        err.write(f"{prog}: {what}\n")
        return 1
    except KeyboardInterrupt:
        return _INTERRUPTED_EXIT
    except Exception as e:  # a bug: say so in one line, never a traceback
        err.write(f"{prog}: internal error: {type(e).__name__}: {e}\n")
        return _INTERNAL_ERROR_EXIT

"""What each of the kit's own commands is made of: a :class:`Command` and its parser.

A :class:`Command` names the command, says in one line what it does (``portablekit --help``
lists it), declares its options and positionals on a :class:`CommandParser`, and runs on the
:class:`~portablekit.cli.invocation.Invocation` with the parsed arguments. Running answers yes
or no (exit status 0 or 1); everything else it has to say is an exception that
:func:`portablekit.cli.main.main` turns into a message and an exit status. The parser is
argparse that raises :class:`~portablekit.errors.UsageError` (exit status 2) instead of
exiting, and :class:`HelpRequested` for ``-h``/``--help``.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TextIO

from ..errors import UsageError
from ..versions import DEFAULT_VERSION, SUPPORTED_VERSIONS
from .invocation import ROOT_ENV, USAGE_EXIT, Invocation

__all__ = ["Command", "CommandParser", "HelpRequested", "usage_error"]

_VERSIONS = "|".join(map(str, SUPPORTED_VERSIONS))
_GLOBAL_OPTIONS = (
    "global options (anywhere on the line, see 'portablekit --help'):\n"
    f"  --root DIR             the sandbox root (default: ${ROOT_ENV})\n"
    f"  --systemd {_VERSIONS}  the version reproduced (default: the root's own,\n"
    f"                         else {DEFAULT_VERSION})\n"
    "  --fixed                turn off the behaviours that are plainly upstream bugs\n"
)


def usage_error(prog: str, message: str) -> UsageError:
    """A command line ``prog`` refuses: ``prog: message``, exit status 2."""
    return UsageError(f"{prog}: {message}", exit_code=USAGE_EXIT)


class HelpRequested(Exception):
    """``-h``/``--help`` on a command line: ``text`` is the help to print (exit status 0)."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(text)


class _HelpAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show this help and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        raise HelpRequested(parser.format_help())


class CommandParser(argparse.ArgumentParser):
    """argparse for the kit's commands: errors raise :class:`~portablekit.errors.UsageError`
    with exit status 2, ``-h``/``--help`` raises :class:`HelpRequested`; it never exits."""

    def __init__(self, prog: str, description: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        kwargs.setdefault("epilog", _GLOBAL_OPTIONS)
        super().__init__(prog=prog, description=description, add_help=False, **kwargs)
        self.add_argument("-h", "--help", action=_HelpAction)

    def error(self, message: str) -> NoReturn:
        raise usage_error(self.prog, message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise usage_error(self.prog, (message or f"exit status {status}").strip())

    def parse(self, argv: Sequence[str]) -> argparse.Namespace:
        """The arguments of ``argv``; a refusal raises :class:`~portablekit.errors.UsageError`.

        argparse before Python 3.12 takes a second ``--`` (``cmd A -- --``) as a separator too
        and gives a one-value positional an empty list: that is refused here, naming the
        positional, rather than reaching the command as a list.
        """
        ns = self.parse_args(list(argv))
        for action in self._actions:
            empty = isinstance(getattr(ns, action.dest, None), list)
            if not action.option_strings and action.nargs is None and empty:
                self.error(f"argument {action.metavar or action.dest}: expected one value")
        return ns


@dataclass(frozen=True, slots=True)
class Command:
    """One of the kit's own commands.

    ``synopsis`` is its line in ``portablekit --help`` (``check IMAGE``), ``summary`` what it
    does in one line, ``description`` the rest of ``portablekit NAME --help`` (paragraphs
    apart by blank lines, wrapped here); ``arguments``
    declares its options and positionals; ``run`` answers yes (exit status 0) or no (1).
    """

    name: str
    synopsis: str
    summary: str
    arguments: Callable[[CommandParser], None]
    run: Callable[[Invocation, argparse.Namespace, TextIO, TextIO], bool]
    description: str = ""

    def parser(self) -> CommandParser:
        """The command's parser, documenting every option and positional."""
        paragraphs = [self.summary + ".", *self.description.split("\n\n")]
        text = "\n\n".join(textwrap.fill(" ".join(par.split()), 79) for par in paragraphs if par)
        p = CommandParser(f"portablekit {self.name}", text)
        self.arguments(p)
        return p

    def __call__(self, inv: Invocation, argv: Sequence[str], out: TextIO, err: TextIO) -> bool:
        """Parse ``argv`` (the line after the command's name) and run; ``--help`` prints the
        help to ``out``."""
        try:
            ns = self.parser().parse(argv)
        except HelpRequested as h:
            out.write(h.text)
            return True
        return self.run(inv, ns, out, err)

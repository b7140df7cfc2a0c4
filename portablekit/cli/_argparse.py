"""argparse for the kit's analysis commands: errors as exceptions, ``--help`` to stdout.

The library never exits; the commands turn a :class:`CliUsageError` into exit status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TextIO

__all__ = ["CliParser", "CliUsageError", "wants_help"]


class CliUsageError(Exception):
    """A command line the command cannot take; the text is what to print."""


class CliParser(argparse.ArgumentParser):
    """argparse that reports errors as :class:`CliUsageError` instead of exiting."""

    def __init__(self, prog: str, description: str = "") -> None:
        super().__init__(prog=prog, description=description or None, add_help=False)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliUsageError(f"{self.prog}: {message}")


def wants_help(parser: CliParser, argv: Sequence[str], stdout: TextIO) -> bool:
    """Print the usage to ``stdout`` when ``-h``/``--help`` is among ``argv``."""
    if "-h" in argv or "--help" in argv:
        stdout.write(parser.format_help())
        return True
    return False

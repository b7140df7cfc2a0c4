"""Dispatch of the kit's analysis commands (security, compare-profiles, check)."""

from __future__ import annotations

import sys

from .versions import Systemd


def dispatch(cmd: str, args: list[str], systemd: Systemd, root: str | bool | None) -> int:
    """Run ``portablekit <cmd> ...``."""
    print(f"portablekit: '{cmd}' is not available yet", file=sys.stderr)
    return 1

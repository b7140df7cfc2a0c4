"""Scenario replays in the format of the portabled oracle, and its file-system dump format.

:func:`.replay.replay` runs a scenario (a ``cmd`` file of portablectl lines and ``!`` shell
lines over a ``root/`` tree) against a fresh sandbox root and writes the oracle's output
layout; :mod:`.dump` renders the ``changes.txt``/``tree.txt`` dumps the recordings are judged by.
"""

from __future__ import annotations

from .replay import Step, read_steps, replay

__all__ = ["Step", "read_steps", "replay"]

"""``portablekit security``: what ``systemd-analyze security --offline`` says of a unit.

A unit file is merged with its drop-ins into the settings the service would run with
(:mod:`.effective`; the stack of a portable unit as attached, profile and ``20-portable.conf``
included, is :mod:`.attached`), over one declarative table of directives
(:mod:`.directives`, with the capability, address-family and system-call vocabularies in
:mod:`.vocabulary`); each of systemd's checks (:mod:`.checks`) turns those settings into an
exposure, and :mod:`.score` adds them up the way each systemd version does. :mod:`.profilediff`
sets profiles side by side.
"""

from __future__ import annotations

from .effective import EffectiveUnit, effective_unit
from .profilediff import ProfileComparison, compare_profiles
from .score import Level, SecurityReport, assess, security_report

__all__ = [
    "EffectiveUnit",
    "Level",
    "ProfileComparison",
    "SecurityReport",
    "assess",
    "compare_profiles",
    "effective_unit",
    "security_report",
]

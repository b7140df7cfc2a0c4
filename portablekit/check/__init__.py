"""``portablekit check``: everything wrong with a portable image, as findings.

:func:`check_image` (an image tree) and :func:`check_host_image` (an image of a host, by name
or path) run every requirement portabled and the service manager have of an image and return
:class:`Finding` rows (:mod:`.findings`: severity, rule, path, what is wrong, the fix, and
portabled's exact message where it would refuse). :mod:`.image` holds the os-release, unit,
runtime-file and ELF checks, :mod:`.extensions` those of extension images, :mod:`.elf` the ELF
header reader.
"""

from __future__ import annotations

from .findings import RULES, Finding, Findings, Rule, Severity
from .image import check_host_image, check_image

__all__ = [
    "RULES",
    "Finding",
    "Findings",
    "Rule",
    "Severity",
    "check_host_image",
    "check_image",
]

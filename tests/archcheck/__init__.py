"""A small static checker for the shape of a Python package (standard library only).

It reads every module of a package with :mod:`ast` (nothing is imported or run) and reports
violations of a few architectural rules, each as a :class:`Violation` naming the file and
line:

* :func:`check_writers` - calls that create, change or remove files, or run a program, in a
  module that is not a named writer;
* :func:`check_imports` - imports that break a folder's contract (:class:`ImportRule`);
* :func:`check_version_comparisons` - numeric systemd-version thresholds (250..299);
* :func:`check_duplicate_names` - two public top-level classes or functions with one name;
* :func:`check_cycles` - import cycles among the package's modules;
* :func:`check_top_level_count` - how many modules sit directly in the package folder.

The policy (which modules may write, which folder may import what) is passed in by the
caller; ``tests/test_architecture.py`` holds portablekit's.
"""

from __future__ import annotations

from .imports import Import, ImportRule, check_cycles, check_imports, import_graph, imports
from .package import (
    Module,
    Violation,
    check_duplicate_names,
    check_top_level_count,
    load_package,
    public_definitions,
    under,
)
from .versions import VERSION_REGEX, check_version_comparisons, version_thresholds
from .writers import check_writers, writing_calls

__all__ = [
    "VERSION_REGEX",
    "Import",
    "ImportRule",
    "Module",
    "Violation",
    "check_cycles",
    "check_duplicate_names",
    "check_imports",
    "check_top_level_count",
    "check_version_comparisons",
    "check_writers",
    "import_graph",
    "imports",
    "load_package",
    "public_definitions",
    "under",
    "version_thresholds",
    "writing_calls",
]

"""Version thresholds: numeric systemd-version comparisons and version-literal defaults."""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterable, Mapping

from .package import Module, Violation

_VERSION_RANGE = range(250, 300)
VERSION_REGEX = re.compile(r"version\s*[<>=!]=?\s*2\d\d")


def _is_version_literal(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Constant) and type(node.value) is int and node.value in _VERSION_RANGE
    )


def _names_version(node: ast.expr) -> bool:
    """Whether ``node`` names a systemd version: ``version``, ``self.version``,
    ``versions[0]``, ``int(args.version)``, or an attribute of a ``systemd`` object
    (``host.systemd.marker_match``)."""
    if isinstance(node, ast.Name):
        return any(w in node.id.lower() for w in ("version", "systemd"))
    if isinstance(node, ast.Attribute):
        return any(w in node.attr.lower() for w in ("version", "systemd")) or _names_version(
            node.value
        )
    if isinstance(node, ast.Subscript):
        return _names_version(node.value)
    if isinstance(node, ast.Call):  # int(version), int(args.version)
        return any(_names_version(a) for a in node.args)
    return False


def _has_version_literal(node: ast.expr) -> bool:
    """Whether a version-like literal appears anywhere in ``node`` (``257``,
    ``(252, 257, 262)``, ``Systemd(257)``, ``lambda: Rules.for_version(262)``)."""
    return any(_is_version_literal(n) for n in ast.walk(node) if isinstance(n, ast.expr))


def version_thresholds(mod: Module) -> list[tuple[int, str]]:
    """(line, what) for numeric systemd-version comparisons, defaults holding a version
    literal (parameters, class-level fields), and lines the text pattern matches."""
    found: set[tuple[int, str]] = set()
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            for a, b in itertools.pairwise(sides):
                for lit, other in ((a, b), (b, a)):
                    if _is_version_literal(lit) and _names_version(other):
                        found.add((node.lineno, f"compares {ast.unparse(node)}"))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            pairs = [
                *zip(
                    positional[len(positional) - len(args.defaults) :], args.defaults, strict=True
                ),
                *((a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d),
            ]
            name = getattr(node, "name", "lambda")
            for param, d in pairs:
                if _has_version_literal(d):
                    found.add((d.lineno, f"{name}({param.arg}={ast.unparse(d)})"))
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign | ast.Assign) and (
                    stmt.value is not None and _has_version_literal(stmt.value)
                ):
                    targets = [stmt.target] if isinstance(stmt, ast.AnnAssign) else stmt.targets
                    field_name = ", ".join(ast.unparse(t) for t in targets)
                    found.add(
                        (stmt.lineno, f"{node.name}.{field_name} = {ast.unparse(stmt.value)}")
                    )
    lines = {line for line, _ in found}
    for n, text in enumerate(mod.source.splitlines(), 1):
        m = VERSION_REGEX.search(text)
        if m and n not in lines:
            found.add((n, f"text {m.group(0)!r}"))
    return sorted(found)


def check_version_comparisons(
    modules: Mapping[str, Module],
    allowed: Iterable[str],
    not_versions: Mapping[tuple[str, str], str] = {},
) -> list[Violation]:
    """Version thresholds outside the modules in ``allowed`` (files). ``not_versions`` lists
    numbers that only look like versions: (file, what) -> what they are."""
    allowed = set(allowed)
    out = []
    for mod in modules.values():
        if mod.rel in allowed:
            continue
        for line, what in version_thresholds(mod):
            if (mod.rel, what) in not_versions:
                continue
            out.append(
                Violation(
                    "version",
                    mod.rel,
                    line,
                    f"{what}: version thresholds and defaults belong to versions.Systemd",
                )
            )
    return sorted(out)

"""The package, read: its modules parsed, the violations reported, and the two rules that
need nothing more (one meaning per public name, a short top level)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Module:
    """One ``.py`` file of the package, parsed."""

    name: str  # dotted: "portablekit.raw.erofs" ("portablekit.raw" for raw/__init__.py)
    rel: str  # the file, relative to the package's parent folder: "portablekit/raw/erofs.py"
    is_package: bool  # an __init__.py
    source: str
    tree: ast.Module = field(repr=False)

    @property
    def package(self) -> str:
        """The package that relative imports in this module start from."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


@dataclass(frozen=True, order=True)
class Violation:
    """One broken rule, at ``rel:line``."""

    rule: str
    rel: str
    line: int
    what: str

    @property
    def where(self) -> str:
        """``file:line``."""
        return f"{self.rel}:{self.line}"

    def __str__(self) -> str:
        return f"{self.where}: [{self.rule}] {self.what}"


def load_package(pkg_dir: Path) -> dict[str, Module]:
    """Every module under ``pkg_dir`` (a folder with ``__init__.py``), by dotted name."""
    pkg_dir = Path(pkg_dir)
    base = pkg_dir.parent
    modules: dict[str, Module] = {}
    for path in sorted(pkg_dir.rglob("*.py")):
        rel = path.relative_to(base)
        parts = list(rel.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        source = path.read_text(encoding="utf-8")
        try:
            tree = ast.parse(source, filename=str(rel))
        except SyntaxError as e:
            raise SyntaxError(f"{rel}: cannot be parsed: {e}") from e
        name = ".".join(parts)
        modules[name] = Module(name, rel.as_posix(), is_package, source, tree)
    if not modules:
        raise FileNotFoundError(f"{pkg_dir}: no Python modules found")
    return modules


def under(name: str, prefixes: Iterable[str]) -> bool:
    """Whether dotted ``name`` is one of ``prefixes`` or inside one of them."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def public_definitions(mod: Module) -> list[tuple[str, int]]:
    """(name, line) of the public top-level classes and functions of ``mod``."""
    return [
        (node.name, node.lineno)
        for node in mod.tree.body
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("_")
    ]


def check_duplicate_names(modules: Mapping[str, Module]) -> list[Violation]:
    """Public top-level classes and functions whose name is defined in another module too."""
    seen: dict[str, list[tuple[str, int]]] = {}
    for mod in modules.values():
        for name, line in public_definitions(mod):
            seen.setdefault(name, []).append((mod.rel, line))
    out = []
    for name, places in seen.items():
        if len(places) > 1:
            for rel, line in places:
                others = ", ".join(f"{r}:{n}" for r, n in places if (r, n) != (rel, line))
                out.append(Violation("name", rel, line, f"{name} is also defined in {others}"))
    return sorted(out)


def check_top_level_count(pkg_dir: Path, limit: int) -> list[Violation]:
    """A violation when more than ``limit`` modules sit directly in ``pkg_dir``."""
    files = sorted(p.name for p in Path(pkg_dir).glob("*.py"))
    if len(files) <= limit:
        return []
    return [
        Violation(
            "top-level",
            f"{Path(pkg_dir).name}/",
            0,
            f"{len(files)} modules directly in the package (at most {limit}): " + " ".join(files),
        )
    ]

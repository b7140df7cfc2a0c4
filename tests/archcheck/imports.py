"""Imports: every import of a module (any depth), folder contracts, and import cycles."""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass

from .package import Module, Violation, under


@dataclass(frozen=True)
class Import:
    """One imported name: ``target`` is a module of the package when it is one (``from .x
    import y`` where ``.x.y`` is a module gives that module), else the dotted name written
    (``pandas.io.formats.style``)."""

    importer: str
    target: str
    line: int
    in_function: bool  # inside a def or lambda: runs when called, not when imported
    type_checking: bool  # under ``if TYPE_CHECKING:``


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk_with_scope(
    node: ast.AST, in_function: bool = False, type_checking: bool = False
) -> Iterator[tuple[ast.AST, bool, bool]]:
    """Every node below ``node`` with whether it sits in a function / a TYPE_CHECKING block."""
    for child in ast.iter_child_nodes(node):
        yield child, in_function, type_checking
        inner_f = in_function or isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            yield child.test, in_function, type_checking
            for stmt in child.body:
                yield stmt, inner_f, True
                yield from _walk_with_scope(stmt, inner_f, True)
            for stmt in child.orelse:
                yield stmt, inner_f, type_checking
                yield from _walk_with_scope(stmt, inner_f, type_checking)
            continue
        yield from _walk_with_scope(child, inner_f, type_checking)


def _resolve_from(mod: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = mod.package.split(".")
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports(mod: Module, known: Iterable[str]) -> list[Import]:
    """Every import in ``mod``, at any depth (module level, TYPE_CHECKING, functions)."""
    known = set(known)
    found = []
    for node, in_function, tc in _walk_with_scope(mod.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(mod.name, alias.name, node.lineno, in_function, tc))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_from(mod, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                target = sub if sub in known else base
                found.append(Import(mod.name, target, node.lineno, in_function, tc))
    return found


@dataclass(frozen=True)
class ImportRule:
    """Modules in ``scope`` (dotted prefixes, minus ``exempt``) must not import anything in
    ``forbidden``; when ``only`` is given, their imports of ``within`` (the package) must
    fall in ``only``. ``lazily`` lists targets tolerated inside a function (loaded on demand,
    never when the module is imported)."""

    name: str
    why: str
    scope: tuple[str, ...]
    forbidden: tuple[str, ...] = ()
    only: tuple[str, ...] | None = None
    within: str = ""
    exempt: tuple[str, ...] = ()
    lazily: tuple[str, ...] = ()

    def breaks(self, imp: Import) -> bool:
        """Whether ``imp`` breaks this rule."""
        if not under(imp.importer, self.scope) or under(imp.importer, self.exempt):
            return False
        if imp.in_function and under(imp.target, self.lazily):
            return False
        if under(imp.target, self.forbidden):
            return True
        return (
            self.only is not None
            and under(imp.target, (self.within,))
            and imp.target != self.within
            and not under(imp.target, self.only)
        )


def _allowed(imp: Import, allowed: Collection[tuple[str, str]]) -> bool:
    """Whether ``imp`` is a named exception: an ``(importer, target)`` pair of ``allowed``,
    imported inside a function (at module level the same import is never excused)."""
    return imp.in_function and (imp.importer, imp.target) in allowed


def check_imports(
    modules: Mapping[str, Module],
    rules: Iterable[ImportRule],
    allowed: Collection[tuple[str, str]] = (),
) -> list[Violation]:
    """Imports (at any depth) that break one of ``rules``, except the in-function imports
    named in ``allowed`` (``(importer, target)`` module pairs)."""
    rules = list(rules)
    out = []
    for mod in modules.values():
        for imp in imports(mod, modules):
            if _allowed(imp, allowed):
                continue
            for rule in rules:
                if rule.breaks(imp):
                    how = " (in a function)" if imp.in_function else ""
                    out.append(
                        Violation(
                            f"imports/{rule.name}",
                            mod.rel,
                            imp.line,
                            f"{imp.importer} imports {imp.target}{how}: {rule.why}",
                        )
                    )
    return sorted(out)


def import_graph(
    modules: Mapping[str, Module],
    *,
    with_functions: bool = True,
    allowed: Collection[tuple[str, str]] = (),
) -> dict[str, dict[str, int]]:
    """importer -> {imported module of the package -> first line}, without the in-function
    imports named in ``allowed``."""
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for mod in modules.values():
        for imp in imports(mod, modules):
            if (
                imp.target in modules
                and imp.target != mod.name
                and (with_functions or not imp.in_function)
                and not _allowed(imp, allowed)
            ):
                graph[mod.name].setdefault(imp.target, imp.line)
    return graph


def _strongly_connected(graph: Mapping[str, Mapping[str, int]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative), components in a stable order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    comps: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    comps.append(sorted(comp))
    return sorted(comps)


def check_cycles(
    modules: Mapping[str, Module],
    *,
    with_functions: bool = True,
    allowed: Collection[tuple[str, str]] = (),
) -> list[Violation]:
    """One violation per import cycle (a strongly connected group of modules), at the first
    module's import of the next. Imports inside functions count by default: deferring an
    import hides a cycle from Python, not from the design; only the in-function imports
    named in ``allowed`` are left out."""
    graph = import_graph(modules, with_functions=with_functions, allowed=allowed)
    out = []
    for comp in _strongly_connected(graph):
        if len(comp) < 2:
            continue
        members = set(comp)
        edges = [
            f"{modules[a].rel}:{line} -> {b}"
            for a in comp
            for b, line in sorted(graph[a].items())
            if b in members
        ]
        first = comp[0]
        line = min(line for b, line in graph[first].items() if b in members)
        out.append(
            Violation(
                "cycle",
                modules[first].rel,
                line,
                f"import cycle among {', '.join(comp)} ({'; '.join(edges)})",
            )
        )
    return out

"""Writers: calls that create, change or remove files, or run a program."""

from __future__ import annotations

import ast
from collections.abc import Mapping

from .package import Module, Violation, under


def _qualify(module: str, names: str) -> frozenset[str]:
    return frozenset(f"{module}.{n}" if module else n for n in names.split())


# calls that change the file system or run a program, by qualified name
_WRITING_FUNCTIONS = (
    _qualify(
        "os",
        "write pwrite writev pwritev sendfile copy_file_range splice mkdir makedirs symlink "
        "link rename renames replace unlink remove removedirs rmdir chmod fchmod lchmod chown "
        "fchown lchown chflags lchflags utime truncate ftruncate mkfifo mknod posix_fallocate "
        "setxattr removexattr system popen fork forkpty posix_spawn posix_spawnp execl execle "
        "execlp execlpe execv execve execvp execvpe spawnl spawnle spawnlp spawnlpe spawnv "
        "spawnve spawnvp spawnvpe",
    )
    | _qualify(
        "shutil",
        "copy copy2 copyfile copytree copymode copystat copyfileobj move rmtree chown "
        "make_archive unpack_archive",
    )
    | _qualify(
        "tempfile",
        "mkstemp mkdtemp TemporaryDirectory NamedTemporaryFile TemporaryFile "
        "SpooledTemporaryFile mktemp",
    )
    | _qualify("asyncio", "create_subprocess_exec create_subprocess_shell")
    | _qualify("pty", "spawn")
)
# any call into these modules runs a program
_WRITING_MODULES = ("subprocess",)
# methods of pathlib.Path that write (flagged on any object; a false positive is allowed by
# name in the caller's list, with its reason)
_WRITING_METHODS = _qualify(
    "",
    "write_text write_bytes mkdir touch symlink_to hardlink_to link_to unlink rmdir chmod lchmod",
)
# Path.rename(target) / Path.replace(target) take one argument; str.replace takes two
_WRITING_METHODS_ONE_ARG = frozenset({"rename", "replace"})
# functions opening files whose mode is their second argument
_OPENERS = frozenset(
    {
        "open",
        "io.open",
        "os.fdopen",
        "codecs.open",
        "gzip.open",
        "bz2.open",
        "lzma.open",
        "tarfile.open",
        "zipfile.ZipFile",
    }
)
_WRITE_FLAGS = frozenset({"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC", "O_TMPFILE"})


def _aliases(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Local name -> qualified name, from every import in the file (any depth), and the local
    names that are modules (bound by ``import X`` or ``import X as Y``)."""
    names: dict[str, str] = {}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                local = a.asname or a.name.split(".")[0]
                names[local] = a.name if a.asname else local
                modules.add(local)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names, modules


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _qualified(node: ast.expr, aliases: Mapping[str, str]) -> str | None:
    """``os.unlink`` for ``_os.unlink`` when ``import os as _os``; None for other receivers."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = _qualified(node.value, aliases)
        if base is not None and isinstance(node.value, ast.Name) and node.value.id not in aliases:
            return None  # an attribute of a local object, not of a module
        return f"{base}.{node.attr}" if base is not None else None
    return None


def _module_constants(tree: ast.Module) -> dict[str, ast.expr]:
    consts = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            t = node.targets[0]
            if isinstance(t, ast.Name):
                consts[t.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            consts[node.target.id] = node.value
    return consts


def _arg(call: ast.Call, pos: int, kw: str) -> ast.expr | None:
    if len(call.args) > pos:
        return call.args[pos]
    for k in call.keywords:
        if k.arg == kw:
            return k.value
    return None


def _mode_writes(mode: ast.expr | None) -> bool | None:
    """True/False for a literal mode, None when it cannot be told."""
    if mode is None:
        return False
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return any(c in mode.value for c in "wax+")
    return None


def _flag_names(flags: ast.expr, consts: Mapping[str, ast.expr], depth: int = 0) -> set[str]:
    """The names an ``os.open`` flags expression is made of, module constants expanded
    (an unreadable expression gives ``"?"``)."""
    names: set[str] = set()
    for n in ast.walk(flags):
        if isinstance(n, ast.Attribute):
            names.add(n.attr)
        elif isinstance(n, ast.Name) and n.id not in ("os", "getattr"):
            if n.id in consts and depth < 5:
                names |= _flag_names(consts[n.id], consts, depth + 1)
            elif n.id.startswith("O_"):
                names.add(n.id)
            else:
                names.add("?")
        elif isinstance(n, ast.Call):
            # getattr(os, "O_PATH", 0): a flag that exists on some platforms only
            if (
                isinstance(n.func, ast.Name)
                and n.func.id == "getattr"
                and len(n.args) >= 2
                and isinstance(n.args[1], ast.Constant)
                and str(n.args[1].value).startswith("O_")
            ):
                names.add(str(n.args[1].value))
            else:
                names.add("?")
    return names


def _flags_write(flags: ast.expr | None, consts: Mapping[str, ast.expr]) -> bool:
    """Whether ``os.open`` flags may open for writing (unreadable flags count as writing)."""
    if flags is None:
        return False
    names = _flag_names(flags, consts)
    return bool(names & (_WRITE_FLAGS | {"?"}))


def writing_calls(mod: Module) -> list[tuple[int, str]]:
    """(line, call) for every call in ``mod`` that writes files or runs a program."""
    aliases, module_names = _aliases(mod.tree)
    consts = _module_constants(mod.tree)
    found = []
    for node in ast.walk(mod.tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        qual = _qualified(func, aliases)
        what = None
        if qual is not None:
            if qual == "os.open":
                if _flags_write(_arg(node, 1, "flags"), consts):
                    what = "os.open for writing"
            elif qual in _OPENERS:
                w = _mode_writes(_arg(node, 1, "mode"))
                if w is None:
                    what = f"{qual} with a mode that cannot be read"
                elif w:
                    what = f"{qual} for writing"
            elif qual in _WRITING_FUNCTIONS or under(qual, _WRITING_MODULES):
                what = qual
        # a method: of any object, or of a class (Path.unlink(p)), never a module's function
        if what is None and isinstance(func, ast.Attribute) and _root(func) not in module_names:
            one_arg = 2 if qual is not None and qual.startswith("pathlib.") else 1
            if func.attr in _WRITING_METHODS or (
                func.attr in _WRITING_METHODS_ONE_ARG
                and len(node.args) == one_arg
                and not node.keywords
            ):
                what = f".{func.attr}()"
            elif func.attr == "open":
                w = _mode_writes(_arg(node, 0, "mode"))
                if w:
                    what = ".open() for writing"
        if what is not None:
            found.append((node.lineno, what))
    return sorted(found)


def check_writers(
    modules: Mapping[str, Module],
    writers: Mapping[str, str],
    not_writes: Mapping[tuple[str, str], str] = {},
) -> list[Violation]:
    """Writing calls outside the modules named in ``writers`` (file -> why it may write).
    ``not_writes`` lists calls that only look like writes: (file, call) -> why not."""
    out = []
    for mod in modules.values():
        if mod.rel in writers:
            continue
        for line, what in writing_calls(mod):
            if (mod.rel, what) in not_writes:
                continue
            out.append(
                Violation("writer", mod.rel, line, f"{what}: only the named writers write files")
            )
    return sorted(out)

"""The package keeps its shape: named writers, one-way folders, one version dialect, one
meaning per name, no import cycle, a short top level.

The rules are checked statically (``tests/archcheck/`` reads every module with ``ast``);
this file holds portablekit's policy - the one list of modules allowed to write files, the
import contract of each folder - and, at the end, a test of the checker itself on a small
synthetic package with one deliberate fault per rule.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import archcheck
import pytest
from archcheck import ImportRule, Violation

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "portablekit"

# --------------------------------------------------------------------------------------------
# the policy

# The only modules that create, change or remove files or run programs, and why each may.
WRITERS: dict[str, str] = {
    # the sandbox package is the only writer inside a sandbox root; its system calls all go
    # through fs.py (announced to hooks: counted, fault-injected, killed at in tests), the
    # other modules call that layer
    "portablekit/sandbox/fs.py": (
        "the system-call layer: every change relative to directory descriptors opened inside "
        "the root without following links"
    ),
    "portablekit/sandbox/__init__.py": (
        "SandboxRoot: applies plans, lays image and scenario trees, makes temporary roots"
    ),
    "portablekit/sandbox/ops.py": "carries out a plan's operations, finishes a killed one",
    "portablekit/sandbox/trees.py": "copies and removes whole trees through descriptors",
    "portablekit/sandbox/journal.py": "the lock file and the write-ahead journal of a root",
    "portablekit/sandbox/base.py": (
        "sandbox init: lays the base root and the marker, removes what a failed init made"
    ),
    "portablekit/oracle/replay.py": (
        "a scenario replay works in its own scratch directory: it copies the scenario there, "
        "runs the scenario's build script and '!' shell lines, and writes the output layout "
        "the oracle's compare reads"
    ),
    "portablekit/samples/raw.py": (
        "builds raw sample images with the real mkfs tools, into the file it is given"
    ),
    "portablekit/cli/demo.py": "makes and removes the temporary root its walkthrough runs in",
    "portablekit/fleet/export.py": "writes a fleet's tables into the directory it is given",
    "portablekit/fleet/synthetic.py": (
        "lays out a synthetic fleet in the empty directory it is given: folders, hard links "
        "to raw images it built, a truncated copy, a manifest (trees via samples/raw.py)"
    ),
}

# Calls that only look like writes (a method name shared with pathlib): (file, call) -> why.
NOT_WRITES: dict[tuple[str, str], str] = {}

# Numbers in 250..299 that are not systemd versions: (file, what) -> what they are.
NOT_VERSIONS: dict[tuple[str, str], str] = {
    ("portablekit/raw/_io.py", "__init__(max_blocks=256)"): "a cache size, in blocks",
}

PKG = "portablekit"
LEAVES = tuple(
    f"{PKG}.{m}"
    for m in ("errors", "versions", "names", "unitfile", "osrelease", "source", "display")
)
NOTEBOOK_STACK = ("pandas", "numpy", "ipywidgets", "traitlets", "IPython", "matplotlib")


def _in(*names: str) -> tuple[str, ...]:
    return tuple(f"{PKG}.{n}" for n in names)


IMPORT_RULES = (
    ImportRule(
        "portabled",
        "the portabled model stands alone: analysis, command lines, replays, samples, "
        "tables, widgets and the writer build on it, never the other way",
        scope=_in("portabled"),
        forbidden=_in(
            "security", "check", "cli", "oracle", "samples", "tables", "widgets", "sandbox"
        ),
    ),
    ImportRule(
        "analysis",
        "security/ and check/ analyse images and units; they never write, parse command "
        "lines, replay or render",
        scope=_in("security", "check"),
        forbidden=_in("sandbox", "cli", "oracle", "tables", "widgets"),
    ),
    ImportRule(
        "leaves",
        "the leaf formats depend on nothing but each other",
        scope=LEAVES,
        only=LEAVES,
        within=PKG,
    ),
    ImportRule(
        "raw",
        "the raw image readers depend only on the leaf formats and themselves",
        scope=_in("raw"),
        only=(*LEAVES, f"{PKG}.raw"),
        within=PKG,
    ),
    ImportRule(
        "on-top",
        "tables, fleet and widgets sit on top: nothing below them imports them (the command "
        "line reaches the fleet scan lazily, when it runs)",
        scope=(PKG,),
        exempt=_in("tables", "widgets", "fleet"),
        forbidden=_in("tables", "widgets", "fleet"),
        lazily=_in("fleet"),
    ),
    ImportRule(
        "fleet-entry",
        "only its command and the widgets use the fleet scan",
        scope=(PKG,),
        exempt=_in("fleet", "widgets", "cli.fleet"),
        forbidden=_in("fleet"),
    ),
    ImportRule(
        "notebook-stack",
        "the model, analysis and command line load no notebook stack (the CLI starts fast; "
        "import portablekit stays light)",
        scope=(PKG,),
        exempt=_in("tables", "widgets", "fleet"),
        forbidden=NOTEBOOK_STACK,
    ),
    # fleet/ sits beside tables/: it builds pandas DataFrames (and uses tables' dtypes), never
    # widgets or IPython (its progress bar is tqdm.auto's, which picks the notebook bar itself)
    ImportRule(
        "fleet",
        "the fleet scan builds DataFrames; widgets and IPython are the notebooks' business",
        scope=_in("fleet"),
        forbidden=("ipywidgets", "traitlets", "IPython", "matplotlib", f"{PKG}.widgets"),
    ),
    ImportRule(
        "exercises",
        "exercises grade a sandbox with the model, the checks and the scores; they never "
        "render, parse command lines or replay scenarios",
        scope=_in("exercises"),
        forbidden=_in("cli", "oracle", "tables", "widgets"),
    ),
    # tables/render.py registers display formatters with a running IPython: it looks the
    # shell up inside enable_notebook_display(), so importing tables never loads IPython
    ImportRule(
        "tables",
        "tables are pandas only: widgets live in widgets/, IPython is looked up lazily",
        scope=_in("tables"),
        forbidden=("ipywidgets", "traitlets", "IPython", f"{PKG}.widgets"),
        lazily=("IPython",),
    ),
)

# Imports that go against the contracts above on purpose: (importer, imported) -> why. Each is
# excused only inside a function (the same import at module level is still reported), and it
# is left out of the cycle check.
UPWARD_IMPORTS: dict[tuple[str, str], str] = {
    (f"{PKG}.display", f"{PKG}.tables.render"): (
        "Jupyter asks a core object for _repr_html_/_repr_pretty_; the mixin hands it to the "
        "table renderer, imported in the method when a notebook displays the object, never "
        "when the core is imported (import portablekit stays free of pandas)"
    ),
}

VERSION_DIALECT = ("portablekit/versions.py",)
MAX_TOP_LEVEL_MODULES = 15


def _report(violations: list[Violation]) -> str:
    return f"{len(violations)} violation(s):\n" + "\n".join(map(str, violations))


@pytest.fixture(scope="module")
def modules() -> dict[str, archcheck.Module]:
    return archcheck.load_package(PACKAGE)


# --------------------------------------------------------------------------------------------
# portablekit keeps its shape


def test_only_named_writers_write(modules: dict[str, archcheck.Module]) -> None:
    found = archcheck.check_writers(modules, WRITERS, NOT_WRITES)
    assert not found, _report(found)


def test_writer_list_is_current(modules: dict[str, archcheck.Module]) -> None:
    # every named writer exists and still writes; every exception still matches a call
    by_file = {m.rel: m for m in modules.values()}
    stale = [w for w in WRITERS if w not in by_file or not archcheck.writing_calls(by_file[w])]
    assert not stale, f"named writers that no longer write: {stale}"
    calls = {(m.rel, what) for m in modules.values() for _, what in archcheck.writing_calls(m)}
    assert not set(NOT_WRITES) - calls, "NOT_WRITES entries that match no call"
    thresholds = {
        (m.rel, what) for m in modules.values() for _, what in archcheck.version_thresholds(m)
    }
    assert not set(NOT_VERSIONS) - thresholds, "NOT_VERSIONS entries that match nothing"


def test_folders_keep_their_import_contracts(modules: dict[str, archcheck.Module]) -> None:
    found = archcheck.check_imports(modules, IMPORT_RULES, UPWARD_IMPORTS)
    assert not found, _report(found)


def test_upward_imports_are_current(modules: dict[str, archcheck.Module]) -> None:
    # every named exception is still an in-function import, and would break a rule without
    # its entry (else the entry is stale)
    found = {
        (imp.importer, imp.target)
        for m in modules.values()
        for imp in archcheck.imports(m, modules)
        if imp.in_function
    }
    assert set(UPWARD_IMPORTS) <= found, "UPWARD_IMPORTS entries that match no import"
    needed = {
        (v.what.split()[0], v.what.split()[2])
        for v in archcheck.check_imports(modules, IMPORT_RULES)
    }
    assert set(UPWARD_IMPORTS) <= needed, "UPWARD_IMPORTS entries that break no rule"


def test_ruff_bans_the_notebook_stack_where_the_test_does() -> None:
    # ruff's banned-api rule (TID251) says the same as the notebook-stack rule, in the editor
    lint = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"][
        "lint"
    ]
    assert "TID251" in lint["select"]
    banned = set(lint["flake8-tidy-imports"]["banned-api"])
    assert banned == set(NOTEBOOK_STACK)
    ignored = {glob for glob, codes in lint["per-file-ignores"].items() if "TID251" in codes}
    top = {"portablekit/tables/**", "portablekit/widgets/**", "portablekit/fleet/**"}
    assert top <= ignored
    assert not {g for g in ignored if g.startswith("portablekit/")} - top


def test_no_version_threshold_outside_versions(modules: dict[str, archcheck.Module]) -> None:
    found = archcheck.check_version_comparisons(modules, VERSION_DIALECT, NOT_VERSIONS)
    assert not found, _report(found)


def test_no_public_name_defined_twice(modules: dict[str, archcheck.Module]) -> None:
    found = archcheck.check_duplicate_names(modules)
    assert not found, _report(found)


def test_no_import_cycle(modules: dict[str, archcheck.Module]) -> None:
    found = archcheck.check_cycles(modules, allowed=UPWARD_IMPORTS)
    assert not found, _report(found)


def test_few_modules_at_the_top() -> None:
    found = archcheck.check_top_level_count(PACKAGE, MAX_TOP_LEVEL_MODULES)
    assert not found, _report(found)


# --------------------------------------------------------------------------------------------
# the checker itself: a clean synthetic package, then one deliberate fault per case

CLEAN = {
    "__init__.py": '"""pkg"""\n',
    "errors.py": "class PortableKitError(Exception):\n    pass\n",
    "versions.py": (
        "class Systemd:\n"
        "    def __init__(self, version: int = 257) -> None:\n"
        "        self.version = version\n\n"
        "    @property\n"
        "    def new(self) -> bool:\n"
        "        return self.version >= 257\n"
    ),
    "names.py": "from .errors import PortableKitError\n\n\ndef _helper() -> None:\n    pass\n",
    "sandbox.py": (
        "import os\nimport shutil\nfrom pathlib import Path\n\n\n"
        "def write(p: Path) -> None:\n"
        "    p.write_text('x')\n"
        "    os.symlink('a', p)\n"
        "    shutil.rmtree(p)\n"
    ),
    "portabled/__init__.py": "",
    "portabled/plan.py": (
        "import dataclasses\nimport os\nfrom pathlib import Path\n\n"
        "from ..errors import PortableKitError\nfrom ..versions import Systemd\n\n\n"
        "def _helper() -> None:\n    pass\n\n\n"
        "def read(p: Path, systemd: Systemd) -> str:\n"
        "    with open(p) as f, open(p, 'rb') as g, p.open() as h:\n"
        "        del g, h\n"
        "        fd = os.open(p, os.O_RDONLY | os.O_CLOEXEC)\n"
        "        os.close(fd)\n"
        "        x = dataclasses.replace(systemd, version=1)\n"
        "        del x\n"
        "        if systemd.new and len(str(p)) > 256:\n"
        "            return f.read().replace('a', 'b')\n"
        "    raise PortableKitError(str(p))\n"
    ),
    "security/__init__.py": "",
    "security/score.py": (
        "from typing import TYPE_CHECKING\n\n"
        "if TYPE_CHECKING:\n    from ..portabled.plan import read\n\n\n"
        "def score(count: int = 10) -> int:\n    return count\n"
    ),
    "tables/__init__.py": "",
    "display.py": (
        "class NotebookDisplay:\n"
        "    def _repr_html_(self) -> str:\n"
        "        from .tables.render import frame\n\n"
        "        return str(frame())\n"
    ),
    "portabled/image.py": (
        "from ..display import NotebookDisplay\n\n\nclass Image(NotebookDisplay):\n    pass\n"
    ),
    "tables/render.py": (
        "import pandas as pd\n\nfrom ..portabled import image, plan\n\n\n"
        "def frame() -> pd.DataFrame:\n    return pd.DataFrame()\n\n\n"
        "def hook() -> object:\n    from IPython import get_ipython\n\n"
        "    return get_ipython(), plan\n"
    ),
    "widgets/__init__.py": "",
    "widgets/view.py": "import ipywidgets\n\nfrom ..tables import render\n",
    "raw/__init__.py": "",
    "raw/a.py": "from ..errors import PortableKitError\nfrom . import b\n",
    "raw/b.py": "from ..source import ImageSource\n",
    "source.py": "class ImageSource:\n    pass\n",
}


def _check_all(root: Path) -> list[Violation]:
    modules = archcheck.load_package(root / PKG)
    return sorted(
        archcheck.check_writers(modules, {f"{PKG}/sandbox.py": "the writer"})
        + archcheck.check_imports(modules, IMPORT_RULES, UPWARD_IMPORTS)
        + archcheck.check_version_comparisons(modules, [f"{PKG}/versions.py"])
        + archcheck.check_duplicate_names(modules)
        + archcheck.check_cycles(modules, allowed=UPWARD_IMPORTS)
        + archcheck.check_top_level_count(root / PKG, MAX_TOP_LEVEL_MODULES)
    )


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / PKG / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_checker_finds_nothing_in_a_clean_package(tmp_path: Path) -> None:
    assert _check_all(_tree(tmp_path, CLEAN)) == []


W = "def f(p):\n"
# (id, file, text, expected [(rule, file, line)]; "" is the file the fault is written to)
FAULTS = [
    (
        "open-for-writing",
        "portabled/x.py",
        W + "    with open(p, 'w') as f:\n        pass\n",
        [("writer", "", 2)],
    ),
    (
        "io-open-append",
        "portabled/x.py",
        "import io\n\n" + W + "    io.open(p, mode='a')\n",
        [("writer", "", 4)],
    ),
    ("path-open-for-writing", "portabled/x.py", W + "    p.open('wb')\n", [("writer", "", 2)]),
    (
        "aliased-os",
        "portabled/x.py",
        "import os as _os\n\n" + W + "    _os.unlink(p)\n",
        [("writer", "", 4)],
    ),
    (
        "function-level-from-import",
        "security/x.py",
        W + "    from shutil import rmtree as rm\n    rm(p)\n",
        [("writer", "", 3)],
    ),
    (
        "os-open-for-writing",
        "portabled/x.py",
        "import os\n\nFLAGS = os.O_WRONLY | os.O_CREAT\n\n\n" + W + "    os.open(p, FLAGS)\n",
        [("writer", "", 7)],
    ),
    ("pathlib-write", "check/x.py", W + "    p.write_bytes(b'')\n", [("writer", "", 2)]),
    ("path-replace", "check/x.py", W + "    p.replace('elsewhere')\n", [("writer", "", 2)]),
    (
        "pathlib-method-through-the-class",
        "check/x.py",
        "from pathlib import Path\n\n" + W + "    Path.rename(p, 'elsewhere')\n",
        [("writer", "", 4)],
    ),
    (
        "tempfile",
        "cli/x.py",
        "import tempfile\n\n" + W + "    tempfile.mkdtemp()\n",
        [("writer", "", 4)],
    ),
    (
        "runs-a-program",
        "cli/x.py",
        W + "    import subprocess\n    subprocess.run(['true'])\n",
        [("writer", "", 3)],
    ),
    (
        "portabled-imports-sandbox",
        "portabled/x.py",
        "from ..sandbox import write\n",
        [("imports/portabled", "", 1)],
    ),
    (
        "portabled-imports-tables-for-types",
        "portabled/x.py",
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from ..tables import render\n",
        [("imports/on-top", "", 4), ("imports/portabled", "", 4)],
    ),
    (
        "analysis-imports-cli-lazily",
        "security/x.py",
        W + "    from ..cli import main\n",
        [("imports/analysis", "", 2)],
    ),
    (
        "leaf-imports-portabled",
        "osrelease.py",
        "from .portabled import plan\n",
        [("imports/leaves", "", 1)],
    ),
    ("raw-imports-sandbox", "raw/c.py", "import portablekit.sandbox\n", [("imports/raw", "", 1)]),
    (
        "model-imports-pandas",
        "portabled/x.py",
        W + "    import pandas\n",
        [("imports/notebook-stack", "", 2)],
    ),
    (
        "tables-imports-ipython-eagerly",
        "tables/x.py",
        "from IPython import display\n",
        [("imports/tables", "", 1)],
    ),
    (
        # a named upward import is excused inside its function only
        "upward-import-at-module-level",
        "display.py",
        "from .tables.render import frame\n\n\nclass NotebookDisplay:\n    pass\n",
        [("cycle", "", 1), ("imports/leaves", "", 1), ("imports/on-top", "", 1)],
    ),
    (
        # ... and only for the importer it names
        "unnamed-upward-import",
        "names.py",
        W + "    from .tables.render import frame\n",
        [("imports/leaves", "", 2), ("imports/on-top", "", 2)],
    ),
    (
        "version-compared",
        "portabled/x.py",
        "def f(version):\n    return version >= 257\n",
        [("version", "", 2)],
    ),
    (
        "version-attribute-compared-reversed",
        "check/x.py",
        "def f(s):\n    return 262 > s.systemd.version\n",
        [("version", "", 2)],
    ),
    (
        "version-predicate-compared-to-a-number",
        "portabled/x.py",
        "def f(host):\n    return host.systemd.marker_match == 252\n",
        [("version", "", 2)],
    ),
    (
        "version-object-default",
        "portabled/x.py",
        "from ..versions import Systemd\n\n\ndef f(systemd=Systemd(257)):\n    pass\n",
        [("version", "", 4)],
    ),
    (
        "version-default",
        "security/x.py",
        "def f(*, systemd: int = 262):\n    pass\n",
        [("version", "", 1)],
    ),
    (
        "version-field-default",
        "security/x.py",
        "class Options:\n    version: int = 252\n",
        [("version", "", 2)],
    ),
    (
        "version-in-text",
        "portabled/x.py",
        "# from version >= 256 on, the name differs\n",
        [("version", "", 1)],
    ),
    (
        "duplicate-public-name",
        "check/x.py",
        "def read():\n    pass\n",
        [("name", "", 1), ("name", "portabled/plan.py", 13)],
    ),
    (
        "import-cycle",
        "raw/b.py",
        "from ..source import ImageSource\n\n\n" + W + "    from . import a\n",
        [("cycle", "raw/a.py", 2)],
    ),
]


@pytest.mark.parametrize(
    ("rel", "text", "expected"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS]
)
def test_checker_reports_exactly_the_fault(
    tmp_path: Path, rel: str, text: str, expected: list[tuple[str, str, int]]
) -> None:
    files = dict(CLEAN)
    for pkg in {str(Path(rel).parent)} - {"."}:
        files.setdefault(f"{pkg}/__init__.py", "")
    files[rel] = text
    found = _check_all(_tree(tmp_path, files))
    want = [(rule, f"{PKG}/{where or rel}", line) for rule, where, line in expected]
    assert [(v.rule, v.rel, v.line) for v in found] == want, _report(found)


def test_checker_counts_the_modules_at_the_top(tmp_path: Path) -> None:
    files = dict(CLEAN)
    top = [rel for rel in files if "/" not in rel]
    for n in range(MAX_TOP_LEVEL_MODULES + 1 - len(top)):
        files[f"extra{n}.py"] = ""
    found = _check_all(_tree(tmp_path, files))
    assert [(v.rule, v.rel) for v in found] == [("top-level", f"{PKG}/")]
    assert f"{MAX_TOP_LEVEL_MODULES + 1} modules" in found[0].what


def test_checker_exceptions_are_named(tmp_path: Path) -> None:
    # a call or a number allowed by name, with its reason, is no longer reported
    files = dict(CLEAN)
    files["check/x.py"] = W + "    p.touch()\n\n\ndef g(size=256):\n    pass\n"
    modules = archcheck.load_package(_tree(tmp_path, files) / PKG)
    writers = {f"{PKG}/sandbox.py": "the writer"}
    assert [v.line for v in archcheck.check_writers(modules, writers)] == [2]
    assert archcheck.check_writers(modules, writers, {(f"{PKG}/check/x.py", ".touch()"): "y"}) == []
    versions = [f"{PKG}/versions.py"]
    assert [v.what for v in archcheck.check_version_comparisons(modules, versions)] == [
        "g(size=256): version thresholds and defaults belong to versions.Systemd"
    ]
    exempt = {(f"{PKG}/check/x.py", "g(size=256)"): "a size"}
    assert archcheck.check_version_comparisons(modules, versions, exempt) == []

"""One image, every question: the work unit of a fleet scan.

:func:`analyze_chunk` takes a list of :class:`~portablekit.fleet.sources.ImageRef` and a
:class:`ScanConfig` and returns the rows of every table for them (:class:`Rows`: plain tuples in
the column order of :data:`COLUMNS`, cheap to send back from a process or a Dask worker). It is
the one function the serial, process-pool and Dask runs execute, so their tables are the same.

For each image and each systemd version it places the image on a fresh host of that version
(:mod:`portablekit.fleet.placed`) and plans ``portablectl attach /var/lib/portables/FILE`` with
the planner of the portablectl simulation (:func:`~portablekit.portabled.attach.plan_attach`),
the prefix derived from the file name as portablectl derives it: the verdict, portabled's exact
message, the units and their drop-ins are that plan's. The image checks
(:func:`~portablekit.check.check_image`) give the findings, the security assessment
(:mod:`portablekit.security`) the exposure of every attached service under every profile,
with the exact ``20-portable.conf`` of the plan and the profile as ``10-profile.conf``.

What repeats across a fleet is computed once per process: the fresh hosts (one per version),
the profiles, and the security score of a unit text × name × drop-in × profile × version. The
drop-in enters that key with the image's own path, file name and log fields replaced by
placeholders: the assessment reads the image path only to tell an image root from none
(``RootDirectory=``/``RootImage=`` set and not ``/``), and never reads ``Environment=`` or
``LogExtraFields=``, so the memoized score is exactly the one computed with the real text
(``tests/test_fleet.py`` checks it).

Bad images never stop a scan: any error while reading one image becomes its row
(``error_type``, ``error``), and a per-image deadline (:class:`~portablekit.fleet.placed.Deadline`,
checked on every read) bounds a pathological one.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, BinaryIO

from ..check import check_image
from ..check.findings import Finding, Severity
from ..errors import PortabledError, PortableKitError, UnitFileError, UsageError
from ..names import derive_prefix, unit_type
from ..osrelease import EnvFile
from ..portabled.attach import plan_attach
from ..portabled.dissect import read_os_release, scan_units
from ..portabled.dropin import PORTABLE_DROPIN
from ..portabled.image import Image, ImageKind, open_image_with_policy
from ..portabled.plan import OpKind, Plan
from ..portabled.profiles import load_profile
from ..security.attached import attached_unit
from ..security.score import assess
from ..source import ImageSource
from ..unitfile import UnitFile
from ..versions import Systemd
from .placed import PORTABLES, CachingSource, Deadline, DirectoryTree, ImageTimeout, Templates
from .sources import ImageRef, remote_error

__all__ = ["COLUMNS", "Rows", "ScanConfig", "analyze_chunk", "analyze_image", "run_bounded"]

#: The columns of every table, in order (their dtypes are in :mod:`portablekit.fleet.frames`).
COLUMNS: dict[str, tuple[str, ...]] = {
    "images": (
        "image", "name", "kind", "role", "source", "path", "picked_from", "size", "table",
        "fstype", "os_id", "os_version_id", "os_pretty_name", "image_id", "image_version",
        "portable_prefixes", "error_type", "error", "seconds", "bytes_fetched", "requests",
    ),
    "verdicts": (
        "image", "systemd", "attachable", "refused_by", "cause", "message", "matches", "units",
    ),
    "units": ("image", "systemd", "unit", "type", "layer", "directory", "status", "attached"),
    "findings": (
        "image", "systemd", "severity", "rule", "path", "message", "fix", "portabled_message",
    ),
    "scores": ("image", "systemd", "profile", "unit", "exposure", "level", "error"),
    "upgrades": ("image", "from_systemd", "to_systemd", "aspect", "unit", "before", "after"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ScanConfig:
    """What a scan asks of every image (picklable: it travels to the workers).

    ``versions`` are systemd versions (``Systemd`` values, oldest first), ``profiles`` the
    profiles scored (built-in names or paths; the first one is the one attach is planned
    with). ``findings``/``scores`` switch those tables off when not wanted; the image checks
    read at most ``max_elf_files`` executables per image (``portablekit check`` reads 400: a
    fleet scan trades the depth of that one check for time). ``time_limit``
    bounds the seconds spent on one image, ``memory_limit`` the bytes a process-pool worker may
    add while reading one (``None``: unbounded). ``allow_download`` lets a server without Range
    support send whole images; ``storage_options`` are fsspec's, per protocol.
    """

    versions: tuple[Systemd, ...] = (Systemd(),)
    profiles: tuple[str, ...] = ("default",)
    findings: bool = True
    scores: bool = True
    max_elf_files: int = 50
    time_limit: float | None = 60.0
    memory_limit: int | None = 2 << 30
    allow_download: bool = False
    storage_options: dict[str, dict[str, Any]] = field(default_factory=dict)


Row = tuple[Any, ...]


@dataclass(slots=True)
class Rows:
    """The rows of every table for some images (``tables[name]`` in :data:`COLUMNS` order)."""

    tables: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in COLUMNS})
    count: int = 0

    def extend(self, other: Rows) -> None:
        """Add ``other``'s rows after these."""
        for t, rows in other.tables.items():
            self.tables[t].extend(rows)
        self.count += other.count


# -- per-process state ---------------------------------------------------------------------------


class _State:
    """What a process keeps between images: fresh hosts, profiles, scores."""

    def __init__(self) -> None:
        self.templates = Templates()
        self.lock = threading.Lock()
        self.profiles: dict[tuple[str, Systemd], UnitFile] = {}
        self.scores: dict[tuple[object, ...], tuple[float | None, str | None, str | None]] = {}
        self.units: dict[tuple[bytes, str], UnitFile] = {}

    def profile(self, name: str, systemd: Systemd) -> UnitFile:
        key = (name, systemd)
        found = self.profiles.get(key)
        if found is None:
            found = self.profiles[key] = load_profile(name, systemd)[1]
        return found

    def place(self, systemd: Systemd, file_name: str, **kw: Any) -> Any:
        with self.lock:  # Dask runs tasks in threads: one fresh host per version and process
            self.templates.get(systemd)
        return self.templates.place(systemd, file_name, **kw)


_STATE: _State | None = None


def _state() -> _State:
    global _STATE
    if _STATE is None:
        _STATE = _State()
    return _STATE


# -- one image -----------------------------------------------------------------------------------


#: set in process-pool workers: each image also gets a ``SIGALRM`` backstop
ALARM = False


def analyze_chunk(refs: Sequence[ImageRef], config: ScanConfig) -> Rows:
    """The rows of every table for ``refs`` (see the module docstring)."""
    out = Rows()
    backstop = None
    if ALARM and config.time_limit is not None:
        backstop = config.time_limit * 2 + 1  # the deadline checks come first
    for ref in refs:
        out.extend(run_bounded(lambda ref=ref: analyze_image(ref, config), backstop))  # type: ignore[misc]
    return out


def _error_text(e: BaseException) -> str:
    if isinstance(e, MemoryError):
        return "ran out of memory (per-image memory bound)"
    if isinstance(e, OSError) and not isinstance(e, PortableKitError) and e.strerror:
        return e.strerror
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _image_row(ref: ImageRef, **values: Any) -> Row:
    base: dict[str, Any] = {
        "image": ref.image,
        "name": ref.name,
        "kind": ref.kind,
        "source": ref.source,
        "path": ref.path,
        "picked_from": ref.picked_from,
        "size": ref.size,
        "error_type": ref.error_type,
        "error": ref.error,
    }
    base.update(values)
    return tuple(base.get(c) for c in COLUMNS["images"])


def analyze_image(ref: ImageRef, config: ScanConfig) -> Rows:
    """The rows of every table for one image; never raises for a bad image (but lets
    :class:`KeyboardInterrupt` through)."""
    out = Rows(count=1)
    if ref.error_type is not None:
        out.tables["images"].append(_image_row(ref))
        return out
    start = time.perf_counter()
    deadline = Deadline(config.time_limit)
    opened: _Opened | None = None
    try:
        opened = _open(ref, config, deadline)
        info = _Image(ref, opened, config, deadline)
        for systemd in config.versions:
            info.judge(systemd)
        info.upgrades()
        out.tables.update({k: v for k, v in info.rows.items() if k != "images"})
        out.tables["images"].append(
            _image_row(
                ref,
                **info.facts,
                size=opened.size,
                seconds=round(time.perf_counter() - start, 6),
                bytes_fetched=opened.fetched(),
                requests=opened.requests(),
            )
        )
    except (Exception, MemoryError) as e:  # a bad image is a row, never a stop
        err = remote_error(e) if ref.remote else e
        out.tables = {t: [] for t in COLUMNS}
        etype = type(err).__name__
        text = _error_text(err)
        out.tables["images"].append(
            _image_row(
                ref,
                error_type=etype,
                error=text if ref.location in text else f"{ref.location}: {text}",
                size=opened.size if opened else ref.size,
                seconds=round(time.perf_counter() - start, 6),
                bytes_fetched=opened.fetched() if opened else None,
                requests=opened.requests() if opened else None,
            )
        )
    finally:
        if opened is not None:
            opened.close()
    return out


@dataclass
class _Opened:
    """An open image: a cached tree (directory) or a file object (raw)."""

    tree: CachingSource | None = None
    file: BinaryIO | None = None
    size: int | None = None
    remote: Any = None

    def fetched(self) -> int | None:
        return None if self.remote is None else int(self.remote.bytes_fetched)

    def requests(self) -> int | None:
        return None if self.remote is None else int(self.remote.requests)

    def close(self) -> None:
        if self.tree is not None:
            self.tree.close()
        if self.file is not None:
            self.file.close()


def _open(ref: ImageRef, config: ScanConfig, deadline: Deadline) -> _Opened:
    label = str(PORTABLES / ref.file_name)
    if ref.kind == "directory":
        return _Opened(tree=CachingSource(DirectoryTree(ref.location, label), deadline))
    if ref.remote:
        from .remote import open_remote

        f = open_remote(
            ref.location,
            storage_options=config.storage_options,
            deadline=deadline,
            allow_download=config.allow_download,
        )
        return _Opened(file=f, size=f.size, remote=f)  # type: ignore[arg-type]
    local = open(ref.location, "rb")  # noqa: SIM115 - closed by _Opened.close()
    return _Opened(file=local, size=os.fstat(local.fileno()).st_size)


class _Image:
    """The rows of one image, filled version by version."""

    def __init__(self, ref: ImageRef, opened: _Opened, config: ScanConfig, deadline: Deadline):
        self.ref = ref
        self.opened = opened
        self.config = config
        self.deadline = deadline
        self.state = _state()
        self.path = PORTABLES / ref.file_name
        self.rows: dict[str, list[Row]] = {t: [] for t in COLUMNS}
        self.facts: dict[str, Any] = {}
        #: per version: (attachable, message, attached units, {unit: drop-in text})
        self.summary: dict[Systemd, tuple[bool, str | None, tuple[str, ...], dict[str, str]]] = {}

    def _host(self, systemd: Systemd) -> Any:
        o = self.opened
        if o.tree is not None:
            return self.state.place(systemd, self.ref.file_name, tree=o.tree)
        return self.state.place(systemd, self.ref.file_name, file=o.file, size=o.size or 0)

    def _tree(self, host: Any) -> ImageSource | None:
        """The image's tree as ``host``'s version sees it, ``None`` if it cannot be opened."""
        kind = ImageKind.DIRECTORY if self.opened.tree is not None else ImageKind.RAW
        try:
            src, _ = open_image_with_policy(host, Image(self.ref.name, self.path, kind))
        except PortabledError:
            return None
        if kind is ImageKind.RAW and "table" not in self.facts:
            self._raw_facts(host)
        return src

    def _raw_facts(self, host: Any) -> None:
        from ..raw import open_raw_image

        try:
            raw = open_raw_image(host.image_file(self.path), label=str(self.path))
        except PortableKitError:
            return
        self.facts["table"] = raw.table
        self.facts["fstype"] = raw.fstype

    def judge(self, systemd: Systemd) -> None:
        self.deadline.check(self.ref.location)
        v = systemd.version
        host = self._host(systemd)
        arg = str(self.path)
        try:
            matches = [derive_prefix(arg, systemd)]
        except UsageError as e:
            self.rows["verdicts"].append(
                (self.ref.image, v, False, "portablectl", "prefix-underivable", e.message, None, 0)
            )
            self.summary[systemd] = (False, e.message, (), {})
            tree = self._tree(host)
            if tree is not None:
                self._release(tree, systemd)
                self._findings(tree, systemd, None)
            return
        profile = self.config.profiles[0] if self.config.profiles else "default"
        plan = plan_attach(host, arg, matches=matches, profile=profile)
        tree = self._tree(host)
        if tree is not None:
            self._release(tree, systemd)
        findings = self._findings(tree, systemd, matches) if tree is not None else []
        message = plan.error.message if plan.error is not None else None
        cause = None
        if message is not None:
            # the image check that says the same; a raw image that does not dissect has its own
            fallback = "raw-dissection" if tree is None and self.opened.file else "other"
            cause = next(
                (f.rule.value for f in findings if f.portabled_message == message), fallback
            )
        attached = plan.units if plan.ok else ()
        self.rows["verdicts"].append(
            (self.ref.image, v, plan.ok, None if plan.ok else "portabled", cause, message,
             " ".join(matches), len(attached))
        )  # fmt: skip
        self._units(plan, tree, matches, systemd)
        dropins = _dropins(plan) if plan.ok else {}
        self.summary[systemd] = (plan.ok, message, tuple(attached), dropins)
        if plan.ok and self.config.scores and plan.dissection is not None:
            self._scores(plan, dropins, systemd)

    def _release(self, tree: ImageSource, systemd: Systemd) -> None:
        if "role" in self.facts:
            return
        try:
            found = read_os_release(tree, systemd)
        except PortableKitError:
            found = None
        if found is None:
            ext = tree.kind("/usr/lib/extension-release.d") or tree.kind("/etc/extension-release.d")
            self.facts["role"] = "extension" if ext is not None else "unknown"
            return
        env: EnvFile = found[0]
        self.facts.update(
            role="base",
            os_id=env.get("ID"),
            os_version_id=env.get("VERSION_ID"),
            os_pretty_name=env.get("PRETTY_NAME"),
            image_id=env.get("IMAGE_ID"),
            image_version=env.get("IMAGE_VERSION"),
            portable_prefixes=env.get("PORTABLE_PREFIXES"),
        )

    def _findings(
        self, tree: ImageSource, systemd: Systemd, matches: Sequence[str] | None
    ) -> list[Finding]:
        if not self.config.findings:
            return []
        kind = ImageKind.DIRECTORY if self.opened.tree is not None else ImageKind.RAW
        found = check_image(
            tree,
            Image(self.ref.name, self.path, kind),
            matches=matches,
            systemd=systemd,
            max_elf_files=self.config.max_elf_files,
        )
        v = systemd.version
        for f in found:
            if f.severity is Severity.INFO and f.rule.value.startswith("unit-"):
                continue  # the units table says the same, per entry
            self.rows["findings"].append(
                (self.ref.image, v, f.severity.value, f.rule.value, f.path or None, f.message,
                 f.fix, f.portabled_message)
            )  # fmt: skip
        return found

    def _units(
        self, plan: Plan, tree: ImageSource | None, matches: Sequence[str], systemd: Systemd
    ) -> None:
        d = plan.dissection
        if d is not None:
            candidates = list(d.candidates)
        elif tree is not None:
            try:
                candidates = scan_units(tree, matches)[1]
            except PortableKitError:
                candidates = []
        else:
            candidates = []
        attached = set(plan.units) if plan.ok else set()
        v = systemd.version
        for c in candidates:
            status = "matched" if c.reason is None else c.reason.value
            self.rows["units"].append(
                (self.ref.image, v, c.name, unit_type(c.name) or None, c.layer, str(c.directory),
                 status, c.name in attached and c.reason is None)
            )  # fmt: skip

    def _scores(self, plan: Plan, dropins: dict[str, str], systemd: Systemd) -> None:
        assert plan.dissection is not None
        v = systemd.version
        for u in plan.dissection.units:
            if u.type != "service":
                continue
            text = dropins.get(u.name, "")
            canon = _canonical_dropin(text, str(self.path), self.ref.file_name)
            for profile in self.config.profiles:
                exposure, level, error = self._score(u.name, u.data, canon, profile, systemd)
                self.rows["scores"].append(
                    (self.ref.image, v, profile, u.name, exposure, level, error)
                )

    def _score(
        self, name: str, data: bytes, dropin: str, profile: str, systemd: Systemd
    ) -> tuple[float | None, str | None, str | None]:
        key = (name, data, dropin, profile, systemd)
        memo = self.state.scores
        found = memo.get(key)
        if found is None:
            found = memo[key] = _assess(self.state, name, data, dropin, profile, systemd)
        return found

    def upgrades(self) -> None:
        versions = [v for v in self.config.versions if v in self.summary]
        for a, b in pairwise(versions):
            before, after = self.summary[a], self.summary[b]
            image, va, vb = self.ref.image, a.version, b.version
            rows = self.rows["upgrades"]
            if before[0] != after[0]:
                rows.append((image, va, vb, "verdict", None, _word(before[0]), _word(after[0])))
            if before[1] != after[1]:
                rows.append((image, va, vb, "message", None, before[1], after[1]))
            if before[2] != after[2]:
                rows.append((image, va, vb, "units", None, " ".join(before[2]) or None,
                             " ".join(after[2]) or None))  # fmt: skip
            for unit in sorted(set(before[3]) & set(after[3])):
                if before[3][unit] != after[3][unit]:
                    rows.append((image, va, vb, "dropin", unit, before[3][unit], after[3][unit]))


def _word(ok: bool) -> str:
    return "attached" if ok else "refused"


def _dropins(plan: Plan) -> dict[str, str]:
    """``{unit: 20-portable.conf text}`` of an attach plan."""
    out = {}
    for op in plan.ops:
        if op.kind is OpKind.WRITE and op.path.name == PORTABLE_DROPIN and op.data is not None:
            out[op.path.parent.name[: -len(".d")]] = op.data.decode("utf-8", "replace")
    return out


_PLACEHOLDER = str(PORTABLES / "@IMAGE@")


def _canonical_dropin(text: str, path: str, file_name: str) -> str:
    """The drop-in with what names this one image replaced (see the module docstring)."""
    kept = []
    for line in text.splitlines():
        if line.startswith(("LogExtraFields=", "Environment=PORTABLE")):
            continue
        kept.append(line.replace(path, _PLACEHOLDER).replace(file_name, "@IMAGE@"))
    return "\n".join(kept) + "\n"


def _assess(
    state: _State, name: str, data: bytes, dropin: str, profile: str, systemd: Systemd
) -> tuple[float | None, str | None, str | None]:
    """``(exposure, level, error)`` of a unit attached with ``profile`` on ``systemd``."""
    try:
        unit = UnitFile.parse(data, origin=name)
        portable = UnitFile.parse(dropin, origin=PORTABLE_DROPIN)
        eff = attached_unit(
            unit, name, systemd=systemd, profile=state.profile(profile, systemd), portable=portable
        )
        if eff.fatal is not None:
            return None, None, f"{name}: {eff.fatal.message} (the unit does not load)"
        report = assess(eff)
    except (UnitFileError, KeyError, OSError) as e:
        return None, None, _error_text(e)
    return round(report.score, 1), report.level.value, None


def run_bounded(func: Callable[[], Rows], seconds: float | None) -> Rows:
    """Run ``func`` with a ``SIGALRM`` backstop of ``seconds`` (main thread of a worker only)."""
    import signal

    if seconds is None or threading.current_thread() is not threading.main_thread():
        return func()

    def expired(signum: int, frame: object) -> None:
        raise ImageTimeout(f"gave up after {seconds:g} s (per-image bound)")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return func()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)

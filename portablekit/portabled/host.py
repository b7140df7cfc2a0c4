"""The simulated host, read-only: a directory that plays ``/`` (the *sandbox root*).

Planning reads the host through :class:`Host`; only :mod:`portablekit.sandbox` writes to it.
Paths of the simulated host are :class:`~pathlib.PurePosixPath` (``/etc/portables/foo``);
symbolic links are resolved inside the root, never on the real machine.

The host also carries the read side of the simulated service manager: which units are running
(``/run/portablekit/active-units``, one ``UNIT [STATE]`` per line, as the oracle's stand-in reads
it); what the install logic says of the host's unit files is :mod:`.install`.
"""

from __future__ import annotations

import copy
import errno
import json
import os
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ..errors import ImagePathError, SandboxError
from ..names import (
    UnitNameKind,
    unit_name_kind,
)
from ..source import DirectorySource, FileKind, ImageSource
from ..versions import Systemd
from .pending import PendingChanges
from .snapshot import SnapshotSource

__all__ = [
    "ACTIVE_STATES",
    "STATE_DIR",
    "SYSTEM_UNIT_PATH",
    "Host",
    "attached_dir",
    "entry_fingerprint",
    "format_active_units",
    "parse_active_units",
    "portables_dir",
    "unit_path",
]

#: Where the simulated service manager keeps its state inside the root.
STATE_DIR = PurePosixPath("/run/portablekit")
ACTIVE_UNITS = STATE_DIR / "active-units"
CLEAN_UNIT_ERROR = STATE_DIR / "clean-unit-error"
#: The entries attach made in ``/etc/portables`` and ``/run/portables``, one JSON object per
#: line (``path``, ``entry``: :func:`entry_fingerprint`), kept by the sandbox (see
#: :meth:`Host.made_by_attach`).
MADE_BY_ATTACH = STATE_DIR / "made-by-attach"

#: ``ActiveState`` values that make a unit count as active (attach/detach refuse).
ACTIVE_STATES = frozenset({"activating", "active", "reloading", "deactivating", "refreshing"})


def entry_fingerprint(st: os.stat_result, target: str | None = None) -> str:
    """How ``made-by-attach`` tells one entry from another put in its place: inode, kind and,
    for a link, its target."""
    kind = FileKind.from_mode(st.st_mode)
    return f"{st.st_ino} {kind}" + (f" {target}" if target is not None else "")


def attached_dir(runtime: bool) -> PurePosixPath:
    """``/etc/systemd/system.attached`` or, with ``--runtime``, ``/run/systemd/system.attached``."""
    return PurePosixPath(
        "/run/systemd/system.attached" if runtime else "/etc/systemd/system.attached"
    )


def portables_dir(runtime: bool) -> PurePosixPath:
    """Where image links go: ``/etc/portables`` or ``/run/portables``."""
    return PurePosixPath("/run/portables" if runtime else "/etc/portables")


#: systemd's system unit search path (``lookup_paths_init()``), in priority order; the same
#: list is searched inside an image (re-rooted there) and on the host. Where
#: ``/lib/systemd/system`` goes depends on the version and on the side (:func:`unit_path`).
SYSTEM_UNIT_PATH = (
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator.late",
)


def unit_path(systemd: Systemd, *, image: bool = False) -> tuple[str, ...]:
    """The system unit search path of the host, or (``image``) the one portabled searches
    inside an image (``LOOKUP_PATHS_SPLIT_USR``: ``/lib/systemd/system`` too).

    252 is a split-usr build whose vendor directory is ``/lib/systemd/system``, searched
    before ``/usr/lib/systemd/system`` on both sides; 257+ search ``/usr/lib`` first, and
    ``/lib`` only inside images.

    >>> unit_path(Systemd(252), image=True)[-4:-1]
    ('/usr/local/lib/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system')
    >>> "/lib/systemd/system" in unit_path(Systemd(257))
    False
    """
    lib, usr = "/lib/systemd/system", "/usr/lib/systemd/system"
    out = [p for p in SYSTEM_UNIT_PATH if p != lib]
    if systemd.vendor_units_in_lib:
        out.insert(out.index(usr), lib)
    elif image:
        out.insert(out.index(usr) + 1, lib)
    return tuple(out)


class Host:
    """A read-only view of a sandbox root as the simulated host's ``/``."""

    #: Answers of :func:`~portablekit.portabled.install.unit_file_exists` to remember, by unit
    #: name: ``None`` (ask every time) except on a host whose unit search path never changes
    #: and is asked about again and again (a fleet scan's fresh host, shared by every image).
    unit_file_memo: dict[str, bool] | None = None

    def __init__(self, root: str | os.PathLike[str], systemd: Systemd | None = None) -> None:
        self.root = Path(root)
        self.systemd = systemd or Systemd()
        try:
            self.fs: ImageSource = DirectorySource(self.root, label=str(self.root))
        except ImagePathError as e:
            raise SandboxError(f"{self.root}: sandbox root is not usable: {e.strerror}") from e

    def __repr__(self) -> str:
        return f"Host({str(self.root)!r}, {self.systemd})"

    def snapshot(self) -> Host:
        """This host read once: each directory is listed the first time it is looked at, and
        answered from that listing afterwards (a
        :class:`~portablekit.portabled.snapshot.SnapshotSource`).

        For one planning pass or one query over many units, which reads and never writes: a
        snapshot does not see changes made after it looked. A snapshot's snapshot is itself.
        """
        if isinstance(self.fs, SnapshotSource):
            return self
        snap = copy.copy(self)  # keeps what is cached already (vendor_units)
        snap.fs = SnapshotSource(self.fs)
        return snap

    def overlay(self, pending: Mapping[PurePosixPath, FileKind | None]) -> Host:
        """This host as pending operations will leave it: what a plan is planned against.

        ``pending`` maps host paths to what will be there, a :class:`~portablekit.source.FileKind`
        or ``None`` where an entry is removed (with everything below it), as
        :meth:`~portablekit.portabled.plan.Plan.pending` computes it. The mapping is read at
        every call, not copied, so a planner can keep adding to it as it plans.

        :meth:`kind`, :meth:`exists`, :meth:`resolve` and :meth:`listdir` see the pending
        changes (a pending link counts as a link and is not followed, a pending path resolves
        to itself); file contents and the service manager's state are read from the host as it
        is. An overlay can be overlaid again. A :class:`PendingChanges` (what the planners
        build) is read through its index; any other mapping is scanned whole at each
        :meth:`listdir`.
        """
        return _Overlay(self, pending)

    # -- paths ---------------------------------------------------------------------------------

    def real(self, path: str | PurePosixPath, *, follow: bool = True) -> Path:
        """The machine path of host path ``path`` (links resolved inside the root)."""
        resolved = self.fs.resolve(path, follow=follow)
        return self.root.joinpath(*resolved.parts[1:])

    def resolve(self, path: str | PurePosixPath, *, follow: bool = True) -> PurePosixPath:
        """``path`` with links resolved inside the root."""
        return self.fs.resolve(path, follow=follow)

    def image_tree(self, path: PurePosixPath) -> ImageSource:
        """The tree of the directory image at host path ``path`` (links already resolved).

        Here the directory under the root; a host that shows images kept elsewhere (a fleet
        scan places each image it judges on a fresh host without copying it) answers from
        there. Dissection reads images only through this and :meth:`image_file`.
        """
        return DirectorySource(self.real(path), label=str(path))

    def image_file(self, path: PurePosixPath) -> str | os.PathLike[str] | BinaryIO:
        """What the raw image at host path ``path`` is read from: its machine path here, a
        seekable binary file object for a host whose images are elsewhere (the caller does not
        close it)."""
        return self.real(path)

    def kind(self, path: str | PurePosixPath, *, follow: bool = True) -> FileKind | None:
        """The kind of host path ``path`` or ``None`` if missing."""
        return self.fs.kind(path, follow=follow)

    def exists(self, path: str | PurePosixPath, *, follow: bool = True) -> bool:
        """Whether host path ``path`` exists."""
        return self.fs.exists(path, follow=follow)

    def listdir(self, path: str | PurePosixPath) -> list[str]:
        """Names in a host directory, sorted bytewise; empty if it does not exist."""
        try:
            real = self.fs.resolve(path)
            if self.fs.lstat(real).kind is not FileKind.DIR:
                return []
            return sorted(self.fs.listdir(real), key=os.fsencode)
        except ImagePathError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                return []
            raise

    def read_text(self, path: str | PurePosixPath, limit: int = 1 << 20) -> str | None:
        """Content of a host file, ``None`` if missing."""
        try:
            return self.fs.read_file(path, limit=limit).decode("utf-8", "replace")
        except ImagePathError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EINVAL):
                return None
            raise

    # -- unit files on the host ----------------------------------------------------------------

    @property
    def unit_path(self) -> tuple[str, ...]:
        """The host's system unit search path, in priority order."""
        return unit_path(self.systemd)

    @cached_property
    def vendor_units(self) -> frozenset[str]:
        """Unit files Debian's base system ships in ``/usr/lib/systemd/system``.

        The sandbox does not hold copies of them, but attach must still find that a unit of
        such a name exists on the host (:func:`~portablekit.portabled.install.unit_file_exists`
        takes them as regular files there).
        """
        ref = resources.files("portablekit") / "data" / "host" / str(self.systemd.version)
        text = (ref / "vendor-units.txt").read_text()
        return frozenset(ln for ln in text.splitlines() if ln and not ln.startswith("#"))

    # -- the simulated service manager ---------------------------------------------------------

    def active_units(self) -> dict[str, str]:
        """Units the service manager reports as not inactive: ``{unit: ActiveState}``."""
        return parse_active_units(self.read_text(ACTIVE_UNITS) or "")

    def unit_is_active(self, unit: str, active: Mapping[str, str] | None = None) -> bool:
        """``unit_file_is_active()``: for a template, any running instance counts.

        ``active`` is an :meth:`active_units` reading to reuse; to ask about many units, ask
        the function :meth:`active_test` returns.
        """
        return self.active_test(active)(unit)

    def active_test(self, active: Mapping[str, str] | None = None) -> Callable[[str], bool]:
        """:meth:`unit_is_active` for many units: the service manager's state (``active``, an
        :meth:`active_units` reading, else read now) is read and indexed once."""
        active = self.active_units() if active is None else active
        running = {u for u, st in active.items() if st in ACTIVE_STATES}
        # (stem up to an "@", unit type) of every running unit: what a template asks for
        instances: set[tuple[str, str]] = set()
        for u in running:
            head, dot, suffix = u.rpartition(".")
            i = head.find("@") if dot else -1
            while i >= 0:
                instances.add((u[: i + 1], suffix))
                i = head.find("@", i + 1)

        def is_active(unit: str) -> bool:
            if unit_name_kind(unit) is UnitNameKind.TEMPLATE:
                stem, _, suffix = unit.rpartition(".")  # stem ends in "@"
                return (stem, suffix) in instances
            return unit in running

        return is_active

    def made_by_attach(self, path: str | PurePosixPath) -> bool:
        """Whether the entry at ``path`` (an image link or copy in ``/etc/portables`` or
        ``/run/portables``) is the one an attach made: recorded by the sandbox, and still the
        same entry (:func:`entry_fingerprint`). An admin's own entry there is not."""
        p = str(PurePosixPath("/", path))
        for line in (self.read_text(MADE_BY_ATTACH) or "").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and rec.get("path") == p:
                try:
                    real = self.real(p, follow=False)
                    st = os.lstat(real)
                    target = (
                        os.readlink(real)
                        if FileKind.from_mode(st.st_mode) is FileKind.SYMLINK
                        else None
                    )
                except OSError:
                    return False
                return rec.get("entry") == entry_fingerprint(st, target)
        return False

    def clean_unit_error(self) -> tuple[str, str] | None:
        """``(dbus error name, message)`` the stand-in returns for ``CleanUnit``, if configured."""
        text = self.read_text(CLEAN_UNIT_ERROR)
        if text is None:
            return None
        first = text.splitlines()[0] if text.splitlines() else ""
        name, _, message = first.partition(" ")
        return name, message


class _Overlay(Host):
    """:meth:`Host.overlay`: a host read through a mapping of pending changes."""

    def __init__(self, base: Host, pending: Mapping[PurePosixPath, FileKind | None]) -> None:
        # the same directory, read by the same reader: no second DirectorySource
        self.root, self.systemd, self.fs = base.root, base.systemd, base.fs
        self.base = base
        self.pending = pending

    def __repr__(self) -> str:
        return f"{self.base!r}.overlay({len(self.pending)} pending)"

    def image_tree(self, path: PurePosixPath) -> ImageSource:
        return self.base.image_tree(path)

    def image_file(self, path: PurePosixPath) -> str | os.PathLike[str] | BinaryIO:
        return self.base.image_file(path)

    def snapshot(self) -> Host:
        base = self.base.snapshot()
        return self if base is self.base else _Overlay(base, self.pending)

    def _pending(self, p: PurePosixPath) -> tuple[bool, FileKind | None]:
        """``(True, kind)`` if the pending changes decide what is at ``p``, else ``(False, _)``."""
        pending = self.pending
        if p in pending:
            return True, pending[p]
        if not getattr(pending, "removes", True):
            return False, None  # only a removed parent could decide, and nothing is removed
        for anc in p.parents:
            if anc in pending and pending[anc] is None:
                return True, None  # a directory above it goes
        return False, None

    def kind(self, path: str | PurePosixPath, *, follow: bool = True) -> FileKind | None:
        p = _absolute(path)
        decided, k = self._pending(p)
        return k if decided else self.base.kind(p, follow=follow)

    def exists(self, path: str | PurePosixPath, *, follow: bool = True) -> bool:
        return self.kind(path, follow=follow) is not None

    def resolve(self, path: str | PurePosixPath, *, follow: bool = True) -> PurePosixPath:
        p = _absolute(path)
        if self._pending(p)[0]:
            return p  # created or removed by the pending changes: nothing to follow yet
        return self.base.resolve(p, follow=follow)

    def listdir(self, path: str | PurePosixPath) -> list[str]:
        p = _absolute(path)
        decided, k = self._pending(p)
        names = set() if decided and k is None else set(self.base.listdir(p))
        pending = self.pending
        if isinstance(pending, PendingChanges):
            inside: Iterable[PurePosixPath] = pending.children(p)
        else:
            inside = [q for q in pending if q.parent == p and q != p]
        for q in inside:
            if pending[q] is None:
                names.discard(q.name)
            else:
                names.add(q.name)
        return sorted(names, key=os.fsencode)


def parse_active_units(text: str) -> dict[str, str]:
    """The service manager's state file (:data:`ACTIVE_UNITS`): a line per unit that is not
    inactive, ``UNIT [ActiveState]`` (``active`` when the state is left out)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        words = line.split()
        if words:
            out[words[0]] = words[1] if len(words) > 1 else "active"
    return out


def format_active_units(units: dict[str, str]) -> str:
    """The text of :data:`ACTIVE_UNITS` for ``{unit: ActiveState}``, sorted by unit."""
    return "".join(f"{u} {s}\n" for u, s in sorted(units.items()))


def _absolute(path: str | PurePosixPath) -> PurePosixPath:
    """``path`` as an absolute host path, without parsing it again when it is one already
    (planning asks the overlay about each path many times)."""
    if isinstance(path, PurePosixPath) and path.is_absolute():
        return path
    return PurePosixPath("/", path)

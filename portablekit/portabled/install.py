"""The host's unit files as systemd's install logic sees them: does a unit exist on the host,
and what is its unit-file state.

portabled asks two questions of ``src/shared/install.c`` about the host's system unit search
path (:attr:`~portablekit.portabled.host.Host.unit_path`):

* :func:`unit_file_exists` (attach): is there a unit file of that name? The first directory of
  the search path holding an entry of that name decides. A regular file (also an empty one) or a
  link to ``/dev/null`` exists; a directory fails with ``EISDIR``; any other symbolic link in
  the two configuration directories (``/etc/systemd/system``, ``/run/systemd/system``) fails
  with ``ELOOP``, because the lookup does not follow links there; elsewhere the link is followed
  (a dangling one: no unit, a directory: ``EISDIR``). Up to systemd 259 an instance that is not
  found falls back to its template.
* :func:`unit_file_state` (``is-attached``, ``list``): ``unit_file_lookup_state()``. An attached
  unit counts as *enabled* unless its state is ``static``, ``disabled``, ``linked`` or
  ``linked-runtime``. Install links count only where ``find_symlinks_in_scope()`` looks: the
  ``.wants``/``.requires`` (257+: also ``.upholds``) directories and alias links of the search
  path's directories, and of those only links in ``/etc/systemd/system`` (``enabled``) or
  anywhere below ``/run`` (``enabled-runtime``) make a unit enabled. Links inside
  ``/etc/systemd/system.attached`` never do.

>>> UnitFileState.ENABLED_RUNTIME.enabled, UnitFileState.LINKED.enabled
(True, False)
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath

from ..errors import ImagePathError, UnitFileError
from ..names import UnitNameKind, template_of, unit_name_kind
from ..source import FileKind, as_image_path
from .host import Host

__all__ = [
    "NoSuchUnit",
    "UnitFileState",
    "UnitLookupError",
    "unit_file_exists",
    "unit_file_state",
    "unit_file_states",
]

#: ``lp->persistent_config`` and ``lp->runtime_config`` of the system scope
PERSISTENT_CONFIG = PurePosixPath("/etc/systemd/system")
RUNTIME_CONFIG = PurePosixPath("/run/systemd/system")
_GENERATORS = frozenset(
    PurePosixPath(p)
    for p in (
        "/run/systemd/generator",
        "/run/systemd/generator.early",
        "/run/systemd/generator.late",
    )
)
_TRANSIENT = PurePosixPath("/run/systemd/transient")
#: links followed before the lookup gives up (``UNIT_FILE_FOLLOW_SYMLINK_MAX``)
_FOLLOW_MAX = 64


class UnitFileState(StrEnum):
    """``UnitFileState`` values the install logic reports for a unit found on the host."""

    ENABLED = "enabled"
    ENABLED_RUNTIME = "enabled-runtime"
    LINKED = "linked"
    LINKED_RUNTIME = "linked-runtime"
    ALIAS = "alias"
    MASKED = "masked"
    MASKED_RUNTIME = "masked-runtime"
    STATIC = "static"
    DISABLED = "disabled"
    INDIRECT = "indirect"
    GENERATED = "generated"
    TRANSIENT = "transient"

    @property
    def enabled(self) -> bool:
        """Whether portabled counts it as enabled: anything but static, disabled and linked."""
        return self not in (
            UnitFileState.STATIC,
            UnitFileState.DISABLED,
            UnitFileState.LINKED,
            UnitFileState.LINKED_RUNTIME,
        )


class UnitLookupError(Exception):
    """The install logic failed to look a unit up (``errno``: ``ELOOP``, ``EISDIR``, ...)."""

    def __init__(self, err: int, path: PurePosixPath) -> None:
        self.errno = err
        self.path = path
        super().__init__(f"{path}: {errno.errorcode.get(err, err)}")


class NoSuchUnit(UnitLookupError):
    """No directory of the search path has an entry of that name (``ENOENT``)."""

    def __init__(self, name: str) -> None:
        super().__init__(errno.ENOENT, PurePosixPath(name))


class _Mode(StrEnum):
    REGULAR = "regular"
    MASKED = "masked"
    ALIAS = "alias"
    LINKED = "linked"


@dataclass
class _Info:
    """``InstallInfo``: a unit name, where it was found, and its ``[Install]`` section."""

    name: str
    path: PurePosixPath | None = None
    mode: _Mode | None = None
    target: PurePosixPath | None = None
    aliases: tuple[str, ...] = ()
    rules: int = 0
    also: tuple[str, ...] = ()
    default_instance: str | None = None
    search: tuple[PurePosixPath, ...] = field(default=(), repr=False)


def _search_path(host: Host) -> tuple[PurePosixPath, ...]:
    return tuple(PurePosixPath(p) for p in host.unit_path)


def _is_runtime(p: PurePosixPath) -> bool:
    """``path_is_runtime()`` of a directory: everything below ``/run``."""
    return p == PurePosixPath("/run") or PurePosixPath("/run") in p.parents


def _load(host: Host, info: _Info, path: PurePosixPath, load: bool) -> None:
    """``unit_file_load()`` of the main unit file: raises ``UnitLookupError`` (``ELOOP`` for a
    symbolic link, which the caller reads instead)."""
    vendor = path.parent == PurePosixPath("/usr/lib/systemd/system") and path.name in (
        host.vendor_units
    )
    try:
        kind = host.kind(path, follow=False)  # an overlay's pending entries count
    except ImagePathError as e:
        raise UnitLookupError(e.errno or errno.EIO, path) from e
    if kind is None:
        if vendor:
            info.mode = _Mode.REGULAR  # Debian's own units, not copied into the sandbox
            return
        raise UnitLookupError(errno.ENOENT, path)
    if kind is FileKind.SYMLINK:
        raise UnitLookupError(errno.ELOOP, path)
    if kind is FileKind.DIR:
        raise UnitLookupError(errno.EISDIR, path)
    if kind is not FileKind.FILE:
        raise UnitLookupError(errno.ENOTTY, path)
    try:
        empty = host.fs.lstat(host.resolve(path, follow=False)).size == 0
    except ImagePathError:
        empty = False  # planned, not written yet: a unit file portabled writes
    if empty:
        info.mode = _Mode.MASKED
        return
    info.mode = _Mode.REGULAR
    if load:
        _read_install(host, info, path)


def _read_install(host: Host, info: _Info, path: PurePosixPath) -> None:
    """The ``[Install]`` settings ``unit_file_load()`` keeps."""
    from ..unitfile import UnitFile  # only the state queries parse unit files

    try:
        unit = UnitFile.parse(host.fs.read_file(host.resolve(path), limit=16 * 1024 * 1024))
    except (ImagePathError, UnitFileError):
        return
    lists: dict[str, list[str]] = {k: [] for k in ("Alias", "WantedBy", "RequiredBy", "UpheldBy")}
    also: list[str] = []
    for _, a in unit.items("Install"):
        if a.key in lists:
            if not a.value.strip():
                lists[a.key].clear()
            lists[a.key].extend(a.value.split())
        elif a.key == "Also":
            also.extend(a.value.split())
        elif a.key == "DefaultInstance":
            info.default_instance = a.value.strip() or None
    info.aliases = tuple(lists["Alias"])
    info.rules = sum(len(v) for v in lists.values())
    info.also = tuple(also)


def _link_target(host: Host, path: PurePosixPath) -> PurePosixPath:
    try:
        target = host.fs.readlink(host.resolve(path, follow=False))
    except ImagePathError as e:
        raise UnitLookupError(e.errno or errno.EIO, path) from e
    return as_image_path(target if target.startswith("/") else path.parent / target)


def _null_or_empty(host: Host, target: PurePosixPath) -> bool:
    """``null_or_empty_path()``: ``/dev/null`` or an empty regular file (links followed)."""
    if target == PurePosixPath("/dev/null"):
        return True
    try:
        real = host.resolve(target)
        if real == PurePosixPath("/dev/null"):
            return True
        st = host.fs.lstat(real)
    except ImagePathError:
        return False
    return (st.kind is FileKind.FILE and st.size == 0) or st.kind is FileKind.CHARDEV


def _load_or_readlink(host: Host, info: _Info, path: PurePosixPath, load: bool) -> None:
    try:
        _load(host, info, path, load)
        return
    except UnitLookupError as e:
        if e.errno != errno.ELOOP:
            raise
    target = _link_target(host, path)
    inside = any(d == target.parent or d in target.parents for d in info.search)
    if inside:
        _check_alias(path, target)
    info.target = target
    if _null_or_empty(host, target):
        info.mode = _Mode.MASKED
    else:
        info.mode = _Mode.ALIAS if inside else _Mode.LINKED


def _check_alias(path: PurePosixPath, target: PurePosixPath) -> None:
    """``unit_validate_alias_symlink_or_warn()``: a link inside the unit path is an alias and
    must name a unit of the same type and kind; one naming itself is a loop (``ELOOP``),
    anything else that does not fit ``EXDEV``."""
    src, dst = path.name, target.name
    src_kind = unit_name_kind(src)
    if src_kind is None:
        raise UnitLookupError(errno.EINVAL, path)
    if src == dst:
        raise UnitLookupError(errno.ELOOP, path)
    dst_kind = unit_name_kind(dst)
    if dst_kind is None:
        raise UnitLookupError(errno.EXDEV, path)
    if not (
        dst_kind is src_kind
        or (src_kind is UnitNameKind.INSTANCE and dst_kind is UnitNameKind.TEMPLATE)
    ):
        raise UnitLookupError(errno.EXDEV, path)
    if dst_kind is UnitNameKind.INSTANCE and _instance(src) != _instance(dst):
        raise UnitLookupError(errno.EXDEV, path)
    if src.rpartition(".")[2] != dst.rpartition(".")[2]:
        raise UnitLookupError(errno.EXDEV, path)


def _instance(name: str) -> str:
    stem = name.rpartition(".")[0]
    return stem.partition("@")[2]


def _search(host: Host, info: _Info, load: bool, template_fallback: bool) -> None:
    """``unit_file_search()``: the first directory of the search path with the name (for an
    instance, then its template) decides."""
    names = [info.name]
    tmpl = template_of(info.name)
    if tmpl is not None and template_fallback:
        names.append(tmpl)
    for n in names:
        for d in info.search:
            try:
                _load_or_readlink(host, info, d / n, load)
            except UnitLookupError as e:
                if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.EACCES):
                    continue
                raise
            info.path = d / n
            return
    raise NoSuchUnit(info.name)


def _traverse(host: Host, name: str, *, load: bool, follow_config: bool, template: bool) -> _Info:
    """``install_info_discover()`` + ``install_info_traverse()``: find the unit, following
    alias and linked-unit symbolic links."""
    search = _search_path(host)
    info = _Info(name, search=search)
    _search(host, info, load, template)
    hops = 0
    while info.mode in (_Mode.ALIAS, _Mode.LINKED):
        hops += 1
        assert info.path is not None and info.target is not None
        if hops > _FOLLOW_MAX:
            raise UnitLookupError(errno.ELOOP, info.path)
        if not follow_config and info.path.parent in (PERSISTENT_CONFIG, RUNTIME_CONFIG):
            raise UnitLookupError(errno.ELOOP, info.path)
        target = info.target
        if info.mode is _Mode.ALIAS and target.name != info.name:
            # an alias of another unit: look that one up by its name
            info = _Info(target.name, search=search)
            try:
                _search(host, info, load, template)
            except UnitLookupError as e:
                if e.errno == errno.ENOENT:
                    raise UnitLookupError(errno.ENOLINK, target) from e
                raise
            continue
        info.path, info.mode, info.target = target, None, None
        _load_or_readlink(host, info, target, load)
    return info


def unit_file_exists(host: Host, name: str) -> bool:
    """``unit_file_exists()``: whether a unit file ``name`` exists on the host.

    Raises :class:`UnitLookupError` where portabled fails to tell (``ELOOP`` for a symbolic
    link in ``/etc/systemd/system`` or ``/run/systemd/system``, ``EISDIR`` for a directory).
    A host with a :attr:`~portablekit.portabled.host.Host.unit_file_memo` answers each name
    once.
    """
    memo = host.unit_file_memo
    if memo is not None and name in memo:
        return memo[name]
    try:
        _traverse(
            host,
            name,
            load=False,
            follow_config=False,
            template=host.systemd.instance_falls_back_to_template,
        )
        found = True
    except UnitLookupError as e:
        if e.errno != errno.ENOENT:
            raise
        found = False
    if memo is not None:
        memo[name] = found
    return found


class _DirLinks:
    """What ``find_symlinks()`` looks at in one directory of the search path, read once: the
    links in its ``.wants``-like subdirectories by name (and by template name), and its own
    links (with their targets) by name and by target name."""

    def __init__(self, host: Host, d: PurePosixPath) -> None:
        #: a subdirectory link's name, or its template's -> the names of such links
        self.sub: dict[str, list[str]] = {}
        #: a link's name, or its target's name -> (link name, target) of such links
        self.top: dict[str, list[tuple[str, PurePosixPath]]] = {}
        subdirs = host.systemd.install_link_directories
        for sub in host.listdir(d):
            if host.kind(d / sub, follow=False) is not FileKind.DIR:
                continue
            if "." + sub.rpartition(".")[2] not in subdirs:
                continue
            for entry in host.listdir(d / sub):
                if host.kind(d / sub / entry, follow=False) is not FileKind.SYMLINK:
                    continue
                self.sub.setdefault(entry, []).append(entry)
                tmpl = template_of(entry)
                if tmpl is not None and tmpl != entry:
                    self.sub.setdefault(tmpl, []).append(entry)
        for entry in host.listdir(d):
            p = d / entry
            if host.kind(p, follow=False) is not FileKind.SYMLINK:
                continue
            try:
                dest = _link_target(host, p)
            except UnitLookupError:
                continue
            self.top.setdefault(entry, []).append((entry, dest))
            if dest.name != entry:
                self.top.setdefault(dest.name, []).append((entry, dest))


class _Links:
    """The :class:`_DirLinks` of the search path's directories, each made the first time it is
    asked for: one reading of the install links answers for every unit of a query."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self._dirs: dict[PurePosixPath, _DirLinks | None] = {}

    def of(self, d: PurePosixPath) -> _DirLinks | None:
        """``d``'s links, ``None`` if it is not a directory."""
        if d not in self._dirs:
            is_dir = self.host.kind(d, follow=False) is FileKind.DIR
            self._dirs[d] = _DirLinks(self.host, d) if is_dir else None
        return self._dirs[d]


def _links_in(
    links: _Links, info: _Info, d: PurePosixPath, match_name: bool, ignore_same_name: bool
) -> tuple[bool, bool]:
    """``find_symlinks()`` in one directory of the search path: (a link of the unit was found,
    a same-name link was found). Only the links named after the unit (or its template) or
    pointing at its name are looked at: the others cannot count."""
    found_in = links.of(d)
    if found_in is None:
        return False, False
    for entry in found_in.sub.get(info.name, ()):
        if not match_name or _known_name(info, entry):
            return True, False
    same_name = False
    for entry, dest in found_in.top.get(info.name, ()):
        found_dest = dest.name == info.name
        found_path = not ignore_same_name and entry == info.name
        if found_path and found_dest:
            same_name = True  # the unit's own link in this directory (a linked unit)
        elif (found_path or found_dest) and (not match_name or _known_name(info, entry)):
            return True, same_name
    return False, same_name


def _known_name(info: _Info, name: str) -> bool:
    """``is_symlink_with_known_name()``: the unit's own name, an ``Alias=``, or the
    ``DefaultInstance=`` of a template."""
    if name == info.name or name in info.aliases:
        return True
    if info.default_instance and unit_name_kind(info.name) is UnitNameKind.TEMPLATE:
        stem, _, suffix = info.name.rpartition(".")
        return name == f"{stem}{info.default_instance}.{suffix}"
    return False


def _find_in_scope(links: _Links, info: _Info, match_name: bool) -> UnitFileState | None:
    """``find_symlinks_in_scope()``: where the unit's install links are."""
    assert info.path is not None
    same_config = same_runtime = in_runtime = at_all = False
    ignore_same_name = False
    for d in info.search:
        found, same = _links_in(links, info, d, match_name, ignore_same_name)
        if found:
            if d == PERSISTENT_CONFIG:
                return UnitFileState.ENABLED
            if _is_runtime(d):
                in_runtime = True
            else:
                at_all = True
        elif same:
            if d == PERSISTENT_CONFIG:
                same_config = True
            elif _is_runtime(d):
                same_runtime = True
        if not ignore_same_name and (d == info.path or d in info.path.parents):
            ignore_same_name = True
    if in_runtime:
        return UnitFileState.ENABLED_RUNTIME
    if at_all and unit_name_kind(info.name) is UnitNameKind.INSTANCE:
        return UnitFileState.STATIC
    if same_config:
        return UnitFileState.LINKED
    if same_runtime:
        return UnitFileState.LINKED_RUNTIME
    return None


def unit_file_state(host: Host, name: str) -> UnitFileState | None:
    """``unit_file_lookup_state()`` of unit ``name`` on the host, ``None`` if there is no unit
    file of that name.

    A link the lookup cannot follow (dangling, or to a directory) and a directory of that name
    raise :class:`UnitLookupError`: portabled's state query fails with that errno. To ask about
    many units, ask the function :func:`unit_file_states` returns.
    """
    return _unit_file_state(host, name, _Links(host))


def unit_file_states(host: Host) -> Callable[[str], UnitFileState | None]:
    """:func:`unit_file_state` for many units of one query: the install links of the search
    path are read once (on a :meth:`~portablekit.portabled.host.Host.snapshot`, each directory
    listed once), not once per unit."""
    host = host.snapshot()
    links = _Links(host)
    return lambda name: _unit_file_state(host, name, links)


def _unit_file_state(host: Host, name: str, links: _Links) -> UnitFileState | None:
    try:
        info = _traverse(host, name, load=True, follow_config=True, template=True)
    except NoSuchUnit:
        return None
    assert info.path is not None
    if info.mode is _Mode.MASKED:
        return UnitFileState.MASKED_RUNTIME if _is_runtime(info.path) else UnitFileState.MASKED
    if name != info.path.name and unit_name_kind(info.name) is not UnitNameKind.INSTANCE:
        return UnitFileState.ALIAS
    if info.path.parent in _GENERATORS:
        return UnitFileState.GENERATED
    if info.path.parent == _TRANSIENT:
        return UnitFileState.TRANSIENT
    state = _find_in_scope(links, info, match_name=True)
    if state is not None:
        return state
    if _find_in_scope(links, info, match_name=False) is not None:
        return UnitFileState.INDIRECT
    if info.rules:
        return UnitFileState.DISABLED
    if info.also:
        return UnitFileState.INDIRECT
    return UnitFileState.STATIC

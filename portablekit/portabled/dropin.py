"""The ``20-portable.conf`` drop-in: its exact text, and the marker that says who owns a unit.

:func:`render_portable_dropin` writes the text, for a dissected image as ``attach`` does and for
a :class:`BareImage` (a path and a kind) as ``portablekit security`` of a unit file needs it.

Every attached unit gets ``<unit>.d/20-portable.conf`` whose first line is the *marker*::

    # Drop-in created for image '/var/lib/portables/foo:/var/lib/portables/ext', do not edit.

It names the base image and the extensions (``:``-separated, each path escaped). Detach,
``is-attached`` and ``list`` recognise portable units only by this line, and match it against
the image they are asked about (:func:`marker_matches`); how they match changed between
versions, bugs included.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath

from ..names import escape_marker_path, image_base_name, image_name_is_valid
from ..osrelease import name_and_version
from ..source import FileKind
from ..versions import Systemd
from .dissect import Dissection, ImageUnit, Layer
from .host import Host
from .image import Image, vpick

__all__ = [
    "MARKER_PREFIX",
    "MARKER_SUFFIX",
    "PORTABLE_DROPIN",
    "PROFILE_DROPIN",
    "SQUASHFS_POLICY",
    "BareImage",
    "MarkerIndex",
    "marker_line",
    "marker_matches",
    "parse_marker",
    "render_portable_dropin",
]

PORTABLE_DROPIN = "20-portable.conf"
PROFILE_DROPIN = "10-profile.conf"
MARKER_PREFIX = "# Drop-in created for image '"
MARKER_SUFFIX = "', do not edit."


def marker_line(base: PurePosixPath | str, extensions: Sequence[PurePosixPath | str] = ()) -> str:
    """The marker line (with its newline) for a base image and its extensions."""
    parts = [escape_marker_path(str(base))] + [escape_marker_path(str(e)) for e in extensions]
    return MARKER_PREFIX + ":".join(parts) + MARKER_SUFFIX + "\n"


def parse_marker(text: str) -> tuple[str, ...] | None:
    """The image paths named by a drop-in's first line, ``None`` if it is not a marker.

    Tokens are split at ``:``; quotes are removed, backslash escapes are kept as written
    (portabled does not unescape ``\\x3a`` either).
    """
    first = text.split("\n", 1)[0]
    if not (first.startswith(MARKER_PREFIX) and first.endswith(MARKER_SUFFIX)):
        return None
    inner = first[len(MARKER_PREFIX) : len(first) - len(MARKER_SUFFIX)]
    tokens = []
    for tok in inner.split(":"):
        if len(tok) >= 2 and tok[0] == tok[-1] and tok[0] in "'\"":
            tok = tok[1:-1]
        if tok:
            tokens.append(tok)
    return tuple(tokens)


#: The image policy 262 pins for a plain squashfs image, the usual raw portable image.
SQUASHFS_POLICY = "root=squashfs:=absent"


@dataclass(frozen=True, slots=True)
class BareImage:
    """An image known by its path and kind only, not dissected: what a unit file on its own is
    attached from (``portablekit security UNIT_FILE``).

    ``name_and_version`` stands for what the image's os-release gives the
    ``PORTABLE_NAME_AND_VERSION=`` log field (``ID_VERSION_ID``; ``None``: no field);
    ``policy`` for the image policy 262 pins for a raw image.
    """

    image: Image
    name_and_version: str | None = None
    policy: str | None = SQUASHFS_POLICY


@dataclass(frozen=True, slots=True)
class _Root:
    """What the drop-in says of one layer: its path, file name, kind, the image policy pinned
    for it and its ``*_NAME_AND_VERSION`` values."""

    path: str
    file_name: str
    is_tree: bool
    policy: str | None
    names_and_versions: tuple[str, ...]


def _policy(layer: Layer) -> str | None:
    return None if layer.policy is None else str(layer.policy)


def _extension_policy(exts: Sequence[Layer]) -> str | None:
    """262 pins one policy for all raw extensions: the union of theirs."""
    policies = [e.policy for e in exts if e.policy is not None]
    if not policies:
        return None
    first = policies[0]
    return str(first.union(*policies[1:]) if len(policies) > 1 else first)


def _one(value: str | None) -> tuple[str, ...]:
    return () if value is None else (value,)


def _dissected_roots(systemd: Systemd, dissection: Dissection) -> list[_Root]:
    drop = systemd.name_and_version_drops_control
    base = dissection.base
    nv = name_and_version(base.release, "portable", drop_control=drop) if base.release else None
    roots = [
        _Root(
            str(base.image.path),
            base.image.file_name,
            base.image.is_tree,
            _policy(base),
            _one(nv),
        )
    ]
    ext_policy = _extension_policy(dissection.extensions)
    for ext in dissection.extensions:
        envs = (
            tuple(
                env
                for cls in ("sysext", "confext")
                if (env := name_and_version(ext.release, cls, drop_control=drop)) is not None
            )
            if ext.release is not None
            else ()
        )
        roots.append(
            _Root(str(ext.image.path), ext.image.file_name, ext.image.is_tree, ext_policy, envs)
        )
    return roots


def render_portable_dropin(
    systemd: Systemd,
    image: Dissection | BareImage,
    unit: ImageUnit | None = None,
    *,
    force: bool = False,
    host_has_etc_os_release: bool = True,
) -> str:
    """The exact text portabled writes to ``<unit>.d/20-portable.conf``.

    For a :class:`~portablekit.portabled.dissect.Dissection`, that of its ``unit``; for a
    :class:`BareImage` (no ``unit``), that of a service unit of the image. This is the one place
    the text is written: ``attach``/``reattach`` plans and ``portablekit security`` use it.
    """
    if isinstance(image, BareImage):
        if unit is not None:
            raise ValueError("a bare image has no units: the drop-in is a service's")
        nv = image.name_and_version
        img = image.image
        roots = [
            _Root(
                str(img.path), img.file_name, img.is_tree, image.policy, () if nv is None else (nv,)
            )
        ]
        unit_layer, unit_type = 0, "service"
    else:
        if unit is None:
            raise ValueError("the drop-in of a dissected image is a unit's: pass the unit")
        roots = _dissected_roots(systemd, image)
        unit_layer, unit_type = unit.layer, unit.type
    base, exts = roots[0], roots[1:]
    text = marker_line(base.path, [e.path for e in exts])
    if unit_type != "service":
        return text
    layer = roots[unit_layer]
    root_key = "RootDirectory" if base.is_tree else "RootImage"
    lines = ["", "[Service]", f"{root_key}={base.path}"]
    lines.append(f"Environment=PORTABLE={layer.file_name}")

    def extension_line(ext: _Root) -> str:
        key = "ExtensionDirectories" if ext.is_tree else "ExtensionImages"
        if not force:
            return f"{key}={ext.path}"
        decider = ext if systemd.relax_decided_per_extension else base
        if (systemd.relax_decided_per_extension and ext.is_tree) or decider.is_tree:
            return f"{key}={ext.path}"
        return f"{key}={ext.path}:x-systemd.relax-extension-release-check"

    if systemd.binds_host_os_release:
        host_osr = "/etc/os-release" if host_has_etc_os_release else "/usr/lib/os-release"
        lines.append(f"BindReadOnlyPaths={host_osr}:/run/host/os-release")
    lines.append(f"LogExtraFields=PORTABLE={layer.file_name}")
    if not systemd.logs_name_and_version:
        # no log fields of names and versions; units from an extension name the extensions
        if unit_layer > 0:
            lines += [extension_line(ext) for ext in exts]
        return text + "\n".join(lines) + "\n"

    if systemd.pins_image_policy and not base.is_tree and base.policy:
        lines.append(f"RootImagePolicy={base.policy}")
    if not exts:
        lines += [
            f"LogExtraFields=PORTABLE_NAME_AND_VERSION={nv}" for nv in base.names_and_versions
        ]
        return text + "\n".join(lines) + "\n"
    lines.append(f"Environment=PORTABLE_ROOT={base.file_name}")
    lines.append(f"LogExtraFields=PORTABLE_ROOT={base.file_name}")
    lines += [
        f"LogExtraFields=PORTABLE_ROOT_NAME_AND_VERSION={nv}" for nv in base.names_and_versions
    ]
    if unit_layer > 0 or systemd.extension_blocks_for_all_units:
        for ext in exts:
            lines += ["", extension_line(ext), f"LogExtraFields=PORTABLE_EXTENSION={ext.file_name}"]
            if systemd.pins_image_policy and not ext.is_tree and ext.policy:
                lines.append(f"ExtensionImagePolicy={ext.policy}")
            lines += [
                f"LogExtraFields=PORTABLE_EXTENSION_NAME_AND_VERSION={env}"
                for env in ext.names_and_versions
            ]
    return text + "\n".join(lines) + "\n"


# -- matching markers against what the user asked for -------------------------------------------


@lru_cache(maxsize=1 << 16)
def _last(path: str) -> str:
    """``last_path_component()``: after the last ``/`` that is not trailing."""
    stripped = path.rstrip("/")
    if not stripped:
        return path
    i = stripped.rfind("/")
    return path[i + 1 :]


def _strneq(a: str, b: str, n: int) -> bool:
    """``strncmp(a, b, n) == 0``."""
    pad = "\0" * max(n, 0)
    return (a + pad)[:n] == (b + pad)[:n]


# markers and queries repeat (one per attached unit, one per image listed): their names are
# worked out once
_base_name = lru_cache(maxsize=1 << 16)(image_base_name)
_name_is_valid = lru_cache(maxsize=1 << 16)(image_name_is_valid)


def _match_252(tokens: Sequence[str], query: Sequence[str]) -> bool:
    it = iter(tokens)
    for q in query:
        t = next(it, None)
        if t is None:
            return False
        a = _last(t)
        if _name_is_valid(q):
            k = q.find("_")
            if k >= 0:
                if not _strneq(a, q, k):
                    return False
            elif not (a == q or a == q + ".raw" or (a.startswith(q) and set(a[len(q) :]) <= {"/"})):
                return False
            continue
        b = _last(q)
        sa, sb = a.find("/"), b.find("/")
        if (sa >= 0) != (sb >= 0):
            return False
        n = sa if sa >= 0 else len(a)
        if sa >= 0 and sb != n:
            return False
        if "_" in b:
            n = b.index("_")
        elif "_" in a:
            n = a.index("_")
        if not _strneq(a, b, n):
            return False
    return True


def _resolve_query(host: Host, q: str) -> str | None:
    """What systemd 256+ compares a query against: the picked, resolved path (``None`` when
    the query is not an existing path, which systemd 256..259 treat as a match)."""
    if not q.startswith("/"):
        return None
    p = PurePosixPath(q)
    try:
        if host.kind(p) is None:
            return None
        real = host.resolve(p)
        if real.name.endswith(".v") and host.kind(real) is FileKind.DIR:
            picked = vpick(host, real)
            if picked is None:
                return None
            real = picked
    except OSError:
        return None
    return str(real) + ("/" if q.endswith("/") and str(real) != "/" else "")


def _match_256(
    host: Host,
    tokens: Sequence[str],
    query: Sequence[str],
    match_all: bool,
    resolved: MutableMapping[str, str | None],
) -> bool:
    systemd = host.systemd
    if not query:
        return False
    it = iter(tokens)
    pending = list(tokens)
    consumed = 0
    while consumed < len(pending):
        for q in query:
            t = next(it, None)
            if t is None:
                return False
            consumed += 1
            bt = _base_name(t)
            if bt is None:
                if systemd.bare_name_matches_everything:
                    return True
                if match_all:
                    return False
                continue
            if q in resolved:
                r = resolved[q]
            else:
                r = resolved[q] = _resolve_query(host, q)
            if r is None:
                if systemd.bare_name_matches_everything:
                    return True
                bq = _base_name(q)
            else:
                bq = _base_name(r)
            if bt != bq:
                if match_all:
                    return False
            elif not match_all:
                return True
    return match_all


def marker_matches(
    host: Host,
    tokens: Sequence[str],
    query: Sequence[str],
    *,
    match_all: bool,
    resolved: MutableMapping[str, str | None] | None = None,
) -> bool:
    """Whether a marker's tokens match the image (+ extensions) a command names.

    ``match_all`` is true for detach (every layer must correspond) and false for
    ``is-attached``/``list`` (one corresponding layer suffices). 252 compares names by prefix
    and version-stripped forms position by position; 256+ compares ``image_base_name()`` of
    each token with that of the (resolved) query, and 256..259 count any query that is not an
    existing path as a match (systemd#39058).

    ``resolved`` keeps what each query path resolves to on the host, to reuse across the
    markers of one command (the host does not change while it matches).
    """
    if host.systemd.marker_matches_base_names:
        return _match_256(host, tokens, query, match_all, {} if resolved is None else resolved)
    return _match_252(tokens, query)


class MarkerIndex:
    """Markers found by the images they can name: what :func:`marker_matches` says with
    ``match_all=False`` (``is-attached``, ``list``) of every marker, without matching each query
    against each marker (``list`` of thousands of images).

    On 256+ a marker can only match a query through a layer whose ``image_base_name()`` equals
    that of a query word (or through a bare name, under systemd#39058), so only the markers
    sharing a base name with the query, or holding a bare name, are matched. 252 compares
    names by prefix: every marker is matched, as before. Either way the answer is
    :func:`marker_matches`' own.
    """

    def __init__(self, host: Host, markers: Iterable[tuple[str, ...]]) -> None:
        self.host = host
        #: the markers, each once, in the order given
        self.markers: tuple[tuple[str, ...], ...] = tuple(dict.fromkeys(markers))
        self._order = {m: i for i, m in enumerate(self.markers)}
        self._by_base: dict[str, list[tuple[str, ...]]] | None = None
        self._bare: list[tuple[str, ...]] = []  # markers with a layer that has no base name
        if host.systemd.marker_matches_base_names:
            self._by_base = {}
            for tokens in self.markers:
                bases = {_base_name(t) for t in tokens}
                if None in bases:
                    self._bare.append(tokens)
                for b in bases:
                    if b is not None:
                        self._by_base.setdefault(b, []).append(tokens)

    def matching(
        self, query: Sequence[str], resolved: MutableMapping[str, str | None] | None = None
    ) -> list[tuple[str, ...]]:
        """The markers that match ``query`` (an image and its extensions), in index order."""
        resolved = {} if resolved is None else resolved
        candidates = self._candidates(query, resolved)
        return [
            m
            for m in candidates
            if marker_matches(self.host, m, query, match_all=False, resolved=resolved)
        ]

    def _candidates(
        self, query: Sequence[str], resolved: MutableMapping[str, str | None]
    ) -> Sequence[tuple[str, ...]]:
        if self._by_base is None or not query:
            return self.markers
        everything = self.host.systemd.bare_name_matches_everything
        found: set[tuple[str, ...]] = set(self._bare)
        for q in query:
            if q not in resolved:
                resolved[q] = _resolve_query(self.host, q)
            r = resolved[q]
            if r is None and everything:
                return self.markers  # a query that is no existing path matches every marker
            base = _base_name(q if r is None else r)
            if base is not None:
                found.update(self._by_base.get(base, ()))
        return sorted(found, key=self._order.__getitem__)


@dataclass(frozen=True, slots=True)
class AttachedUnit:
    """A unit found in an attached directory together with what its marker says."""

    name: str
    directory: PurePosixPath
    tokens: tuple[str, ...]
    has_unit_file: bool

    @property
    def path(self) -> PurePosixPath:
        """Path of the unit file."""
        return self.directory / self.name

    @property
    def dropin_dir(self) -> PurePosixPath:
        """Path of the unit's drop-in directory."""
        return self.directory / (self.name + ".d")

    @property
    def base(self) -> str:
        """The base image path of the marker."""
        return self.tokens[0] if self.tokens else ""

    @property
    def extensions(self) -> tuple[str, ...]:
        """The extension paths of the marker."""
        return self.tokens[1:]


def read_marker(host: Host, dropin_dir: PurePosixPath) -> tuple[str, ...] | None:
    """The marker tokens of ``<dropin_dir>/20-portable.conf``, ``None`` if it is not portable."""
    text = host.read_text(dropin_dir / PORTABLE_DROPIN)
    if text is None:
        return None
    return parse_marker(text)

"""The ``20-portable.conf`` drop-in: its exact text, and the marker that says who owns a unit.

Every attached unit gets ``<unit>.d/20-portable.conf`` whose first line is the *marker*::

    # Drop-in created for image '/var/lib/portables/foo:/var/lib/portables/ext', do not edit.

It names the base image and the extensions (``:``-separated, each path escaped). Detach,
``is-attached`` and ``list`` recognise portable units only by this line, and match it against
the image they are asked about (:func:`marker_matches`); how they match changed between
versions, bugs included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..names import escape_marker_path, image_base_name, image_name_is_valid
from ..osrelease import name_and_version
from ..source import FileKind
from ..versions import Systemd
from .dissect import Dissection, ImageUnit, Layer
from .host import Host
from .image import vpick

__all__ = [
    "MARKER_PREFIX",
    "MARKER_SUFFIX",
    "PORTABLE_DROPIN",
    "PROFILE_DROPIN",
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


def _policy(layer: Layer) -> str | None:
    return None if layer.policy is None else str(layer.policy)


def _extension_policy(exts: Sequence[Layer]) -> str | None:
    """262 pins one policy for all raw extensions: the union of theirs."""
    policies = [e.policy for e in exts if e.policy is not None]
    if not policies:
        return None
    first = policies[0]
    union = getattr(first, "union", None)
    return str(union(*policies[1:]) if union is not None and len(policies) > 1 else first)


def render_portable_dropin(
    systemd: Systemd,
    dissection: Dissection,
    unit: ImageUnit,
    *,
    force: bool = False,
    host_has_etc_os_release: bool = True,
) -> str:
    """The exact text portabled writes to ``<unit>.d/20-portable.conf``."""
    base = dissection.base
    exts = dissection.extensions
    text = marker_line(base.image.path, [e.image.path for e in exts])
    if unit.type != "service":
        return text
    layer = dissection.layers[unit.layer]
    root_key = "RootDirectory" if base.image.is_tree else "RootImage"
    lines = ["", "[Service]", f"{root_key}={base.image.path}"]
    lines.append(f"Environment=PORTABLE={layer.image.file_name}")

    def relax(ext: Layer) -> str:
        if not force:
            return ""
        decider = ext if systemd.relax_decided_per_extension else base
        if systemd.relax_decided_per_extension and ext.image.is_tree:
            return ""
        return ":x-systemd.relax-extension-release-check" if not decider.image.is_tree else ""

    with_ext_lines = unit.layer > 0 or systemd.extension_blocks_for_all_units
    if systemd.binds_host_os_release:
        host_osr = "/etc/os-release" if host_has_etc_os_release else "/usr/lib/os-release"
        lines.append(f"BindReadOnlyPaths={host_osr}:/run/host/os-release")
        lines.append(f"LogExtraFields=PORTABLE={layer.image.file_name}")
        if unit.layer > 0:
            for ext in exts:
                key = "ExtensionDirectories" if ext.image.is_tree else "ExtensionImages"
                lines.append(f"{key}={ext.image.path}{relax(ext)}")
        return text + "\n".join(lines) + "\n"

    lines.append(f"LogExtraFields=PORTABLE={layer.image.file_name}")
    drop = systemd.name_and_version_drops_control
    if systemd.pins_image_policy and not base.image.is_tree:
        pol = _policy(base)
        if pol:
            lines.append(f"RootImagePolicy={pol}")
    assert base.release is not None
    nv = name_and_version(base.release, "portable", drop_control=drop)
    if not exts:
        if nv is not None:
            lines.append(f"LogExtraFields=PORTABLE_NAME_AND_VERSION={nv}")
        return text + "\n".join(lines) + "\n"
    lines.append(f"Environment=PORTABLE_ROOT={base.image.file_name}")
    lines.append(f"LogExtraFields=PORTABLE_ROOT={base.image.file_name}")
    if nv is not None:
        lines.append(f"LogExtraFields=PORTABLE_ROOT_NAME_AND_VERSION={nv}")
    if with_ext_lines:
        for ext in exts:
            key = "ExtensionDirectories" if ext.image.is_tree else "ExtensionImages"
            lines.append("")
            lines.append(f"{key}={ext.image.path}{relax(ext)}")
            lines.append(f"LogExtraFields=PORTABLE_EXTENSION={ext.image.file_name}")
            if systemd.pins_image_policy and not ext.image.is_tree:
                pol = _extension_policy(exts)
                if pol:
                    lines.append(f"ExtensionImagePolicy={pol}")
            assert ext.release is not None
            for cls in ("sysext", "confext"):
                env = name_and_version(ext.release, cls, drop_control=drop)
                if env is not None:
                    lines.append(f"LogExtraFields=PORTABLE_EXTENSION_NAME_AND_VERSION={env}")
    return text + "\n".join(lines) + "\n"


# -- matching markers against what the user asked for -------------------------------------------


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


def _match_252(tokens: Sequence[str], query: Sequence[str]) -> bool:
    it = iter(tokens)
    for q in query:
        t = next(it, None)
        if t is None:
            return False
        a = _last(t)
        if image_name_is_valid(q):
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


def _match_256(host: Host, tokens: Sequence[str], query: Sequence[str], match_all: bool) -> bool:
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
            bt = image_base_name(t)
            if bt is None:
                if systemd.bare_name_matches_everything:
                    return True
                if match_all:
                    return False
                continue
            r = _resolve_query(host, q)
            if r is None:
                if systemd.bare_name_matches_everything:
                    return True
                bq = image_base_name(q)
            else:
                bq = image_base_name(r)
            if bt != bq:
                if match_all:
                    return False
            elif not match_all:
                return True
    return match_all


def marker_matches(
    host: Host, tokens: Sequence[str], query: Sequence[str], *, match_all: bool
) -> bool:
    """Whether a marker's tokens match the image (+ extensions) a command names.

    ``match_all`` is true for detach (every layer must correspond) and false for
    ``is-attached``/``list`` (one corresponding layer suffices). 252 compares names by prefix
    and version-stripped forms position by position; 256+ compares ``image_base_name()`` of
    each token with that of the (resolved) query, and 256..259 count any query that is not an
    existing path as a match (systemd#39058).
    """
    if host.systemd.marker_matches_base_names:
        return _match_256(host, tokens, query, match_all)
    return _match_252(tokens, query)


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

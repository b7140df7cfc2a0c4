"""Layered images: which layer a path comes from, and why an extension fits a base or not.

A portable service with extensions runs on a stack: the base image as the root, and each
extension overlaid (read-only overlayfs) on the hierarchies its class extends: ``/usr`` and
``/opt`` for a system extension (sysext), ``/etc`` for a configuration extension (confext).
"Directories specified first to last will result in overlayfs layers bottom to top"
(systemd.exec(5), ``ExtensionDirectories=``/``ExtensionImages=``): the *last* extension given
with ``--extension`` is on top. Everything outside those hierarchies comes from the base.

Unit files are different: portabled reads them at attach time, base first and then the
extensions in order, and the *first* one found wins
(:class:`~portablekit.portabled.dissect.SkipReason`
``DUPLICATE``). So an extension can add units, but cannot replace a unit of the base, while
at runtime it does shadow the base's other files below ``/usr``. :class:`LayeredView` answers
the runtime question, :func:`unit_origins` the attach-time one.

:func:`explain_extension` walks ``extension_release_validate()`` step by step, so a table can
show *which* key made portabled refuse an extension (portabled says only "does not match").

>>> from portablekit.osrelease import EnvFile
>>> from portablekit.versions import Systemd
>>> base = EnvFile.parse("ID=debian\\nVERSION_ID=12\\n")
>>> ext = EnvFile.parse("ID=debian\\nVERSION_ID=11\\nSYSEXT_SCOPE=portable\\n")
>>> [s.check for s in explain_extension(base, ext, Systemd(257)) if s.ok is False]
['version']
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..errors import ImagePathError
from ..osrelease import EnvFile
from ..source import FileKind, ImageSource, as_image_path
from ..versions import Systemd
from .dissect import Dissection, Layer, ReleaseClass, host_architecture

__all__ = [
    "HIERARCHIES",
    "CompatStep",
    "LayeredView",
    "PathOrigin",
    "UnitOrigin",
    "explain_extension",
    "extension_compatible",
    "unit_origins",
]

#: The hierarchies an extension of each class overlays.
HIERARCHIES: dict[ReleaseClass, tuple[PurePosixPath, ...]] = {
    ReleaseClass.SYSEXT: (PurePosixPath("/usr"), PurePosixPath("/opt")),
    ReleaseClass.CONFEXT: (PurePosixPath("/etc"),),
}


@dataclass(frozen=True, slots=True)
class PathOrigin:
    """Where one path of the running service's tree comes from.

    ``layer`` is the index of the visible layer (0 = base), ``kind`` what it is there;
    ``shadowed`` the lower layers that have an entry at the same path which the visible one
    hides (for directories: merges with).
    """

    path: PurePosixPath
    layer: int
    image: str
    kind: FileKind
    shadowed: tuple[int, ...] = ()

    @property
    def merged(self) -> bool:
        """Whether this is a directory that overlayfs merges from several layers."""
        return self.kind is FileKind.DIR and bool(self.shadowed)


def _covers(layer: Layer, index: int, path: PurePosixPath) -> bool:
    """Whether ``layer`` contributes at ``path`` (the base everywhere, extensions only below
    their hierarchies)."""
    if index == 0:
        return True
    if layer.release_class is None or layer.release_class is ReleaseClass.OS:
        return False
    return any(path == h or h in path.parents for h in HIERARCHIES[layer.release_class])


def _kind(src: ImageSource, path: PurePosixPath) -> FileKind | None:
    try:
        return src.kind(path, follow=False)
    except ImagePathError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
            return None
        raise


class LayeredView:
    """The merged tree a service sees: base plus extensions overlaid bottom to top.

    Only hierarchies an extension may extend are overlaid; a non-directory in a higher layer
    hides everything below it at that path. Symbolic links in parent directories are resolved
    inside each layer on its own, which is a simplification of overlayfs (it resolves them in
    the merged tree); the sample images have none there.
    """

    def __init__(self, layers: Sequence[Layer]) -> None:
        if not layers:
            raise ValueError("a layered view needs at least the base layer")
        self.layers = tuple(layers)

    @classmethod
    def from_dissection(cls, dissection: Dissection) -> LayeredView:
        """The stack of a dissected image: base, then its extensions in ``--extension`` order."""
        return cls(dissection.layers)

    def origin(self, path: str | PurePosixPath) -> PathOrigin | None:
        """Which layer ``path`` resolves to in the merged tree, ``None`` if no layer has it."""
        p = as_image_path(path)
        present: list[tuple[int, FileKind]] = []
        for i, layer in enumerate(self.layers):
            if not _covers(layer, i, p):
                continue
            k = _kind(layer.source, p)
            if k is not None:
                present.append((i, k))
        if not present:
            return None
        top, kind = present[-1]
        shadowed: list[int] = []
        for i, k in reversed(present[:-1]):
            shadowed.append(i)
            if kind is not FileKind.DIR or k is not FileKind.DIR:
                break  # a non-directory on top hides the rest; a file below ends the merge
        return PathOrigin(p, top, self.layers[top].image.name, kind, tuple(sorted(shadowed)))

    def paths(self, under: str | PurePosixPath = "/") -> list[PathOrigin]:
        """Every path below ``under`` (inclusive) with its origin, sorted by path."""
        start = as_image_path(under)
        seen: set[PurePosixPath] = set()
        for i, layer in enumerate(self.layers):
            if _kind(layer.source, start) is None:
                continue
            try:
                walked = [start, *(p for p, _ in layer.source.walk(start))]
            except ImagePathError:
                continue
            for p in walked:
                if _covers(layer, i, p):
                    seen.add(p)
        out = [self.origin(p) for p in sorted(seen)]
        return [o for o in out if o is not None]


@dataclass(frozen=True, slots=True)
class UnitOrigin:
    """Which layer portabled takes a matching unit from, and which layers also had it."""

    unit: str
    layer: int
    image: str
    also_in: tuple[int, ...] = ()


def unit_origins(dissection: Dissection) -> list[UnitOrigin]:
    """For each attached unit: the layer it is read from (the first that has it) and the later
    layers whose copy portabled skipped as a duplicate. Sorted by unit name."""
    skipped: dict[str, list[int]] = {}
    for c in dissection.candidates:
        if c.reason is not None and c.reason.name == "DUPLICATE":
            skipped.setdefault(c.name, []).append(c.layer)
    layers = dissection.layers
    return [
        UnitOrigin(u.name, u.layer, layers[u.layer].image.name, tuple(skipped.get(u.name, ())))
        for u in sorted(dissection.units, key=lambda u: u.name)
    ]


# -- extension compatibility, step by step ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompatStep:
    """One step of ``extension_release_validate()``.

    ``ok`` is ``True`` (passed), ``False`` (this step refuses the extension) or ``None`` (not
    reached, or decided already: an earlier step accepted or refused). ``decides`` marks the
    step whose outcome is final.
    """

    step: int
    check: str
    key: str
    base: str | None
    extension: str | None
    ok: bool | None
    note: str
    decides: bool = False


def explain_extension(
    base: EnvFile, ext: EnvFile, systemd: Systemd, *, host_arch: str | None = None
) -> tuple[CompatStep, ...]:
    """The checks portabled makes before it stacks extension ``ext`` on ``base``, in order.

    Mirrors :func:`portablekit.portabled.dissect.validate_extension`: the verdict is the ``ok`` of
    the
    deciding step (:func:`extension_compatible`).
    """
    arch = host_arch or host_architecture()
    steps: list[CompatStep] = []
    decided = False

    def add(
        check: str, key: str, b: str | None, e: str | None, ok: bool, note: str, final: bool
    ) -> None:
        nonlocal decided
        if decided:
            steps.append(CompatStep(len(steps) + 1, check, key, b, e, None, "not reached"))
            return
        steps.append(CompatStep(len(steps) + 1, check, key, b, e, ok, note, final or not ok))
        decided = final or not ok

    add(
        "release data",
        "",
        None,
        f"{len(ext.assignments)} assignments",
        bool(ext.assignments),
        "an extension needs extension-release data",
        False,
    )
    scope = ext.pair("SYSEXT_SCOPE")
    words = scope.split() if scope is not None else ["system", "portable"]
    add(
        "scope",
        "SYSEXT_SCOPE",
        "portable",
        scope if scope is not None else "(unset: system portable)",
        "portable" in words,
        "the extension's scope must include 'portable'",
        False,
    )
    ext_arch = ext.pair("ARCHITECTURE")
    add(
        "architecture",
        "ARCHITECTURE",
        arch,
        ext_arch,
        not ext_arch or ext_arch == "_any" or ext_arch == arch,
        "unset, _any or the host's architecture",
        False,
    )
    ext_id = ext.pair("ID")
    base_id = base.get("ID")
    add("ID present", "ID", base_id, ext_id, bool(ext_id), "the extension must name an OS", False)
    if ext_id == "_any":
        add("ID", "ID", base_id, ext_id, True, "ID=_any fits every base: no version checks", True)
    else:
        like = base.words("ID_LIKE") if systemd.extension_id_like else ()
        note = "must equal the base's ID" + (" or be in its ID_LIKE" if like else "")
        add("ID", "ID", base_id, ext_id, ext_id == base_id or ext_id in like, note, False)
    base_version = base.get("VERSION_ID") or ""
    base_level = base.get("SYSEXT_LEVEL") or ""
    ext_level = ext.pair("SYSEXT_LEVEL") or ""
    rolling = not base_version and not base_level
    add(
        "rolling base",
        "VERSION_ID",
        base_version or None,
        ext.pair("VERSION_ID"),
        True,
        "a base without VERSION_ID and SYSEXT_LEVEL accepts any version"
        if rolling
        else "the base is versioned: compare levels or versions",
        rolling,
    )
    if base_level and ext_level:
        add(
            "level",
            "SYSEXT_LEVEL",
            base_level,
            ext_level,
            base_level == ext_level,
            "both set SYSEXT_LEVEL: they must be equal",
            True,
        )
    else:
        ext_version = ext.pair("VERSION_ID") or ""
        add(
            "version",
            "VERSION_ID",
            base_version or None,
            ext_version or None,
            not base_version or ext_version == base_version,
            "must equal the base's VERSION_ID",
            True,
        )
    return tuple(steps)


def extension_compatible(steps: Sequence[CompatStep]) -> bool:
    """The verdict of :func:`explain_extension`'s steps."""
    for s in steps:
        if s.decides:
            return bool(s.ok)
    return True

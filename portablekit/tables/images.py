"""Frames of images: the images of a root, their release files, layers and check findings.

:func:`images_frame` lists what ``portablectl list`` shows; :func:`release_frame` the keys of the
os-release / extension-release files; :func:`layers_frame`, :func:`compat_frame` and
:func:`paths_frame` the layer stack of a base image and its extensions, whether portabled
accepts each extension and which layer each path comes from; :func:`findings_frame` the findings
of the image checks (:mod:`portablekit.check.image`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ..errors import PortableKitError
from ..names import extension_name
from ..osrelease import EnvFile
from ..portabled.dissect import Dissection, ReleaseClass, find_extension_release, read_os_release
from ..portabled.host import Host
from ..portabled.image import discover_images, image_stat, open_image
from ..portabled.layers import LayeredView, explain_extension
from ..portabled.state import image_states
from ..versions import Systemd
from ._common import (
    BOOL,
    FILE_KIND,
    IMAGE_KIND,
    IMAGE_STATE,
    INT,
    RELEASE_CLASS,
    SEVERITY,
    STR,
    _frame,
)

__all__ = [
    "compat_frame",
    "findings_frame",
    "images_frame",
    "layers_frame",
    "paths_frame",
    "release_frame",
]


# -- images ---------------------------------------------------------------------------------------

IMAGES_SCHEMA: dict[str, object] = {
    "name": STR,
    "kind": IMAGE_KIND,
    "path": STR,
    "release": RELEASE_CLASS,
    "id": STR,
    "version_id": STR,
    "pretty_name": STR,
    "read_only": BOOL,
    "state": IMAGE_STATE,
}


def _image_release(host: Host, img: Any) -> tuple[str | None, EnvFile | None]:
    """The os-release of a base image, or the extension-release of an extension."""
    try:
        src = open_image(host, img)
        osr = read_os_release(src, host.systemd)
        if osr is not None:
            return ReleaseClass.OS.value, osr[0]
        ename = extension_name(img.file_name, not img.is_tree, host.systemd)
        ext = find_extension_release(src, ename, host.systemd)
        if ext is not None:
            return ext[1].value, ext[0]
    except (PortableKitError, OSError):
        pass
    return None, None


def images_frame(host: Host) -> pd.DataFrame:
    """Every image ``portablectl list`` shows, with its release data and state.

    ``release`` says which release file identifies it (``os-release`` for a base image,
    ``sysext``/``confext`` for an extension, missing when it has none); ``id``, ``version_id``
    and ``pretty_name`` come from that file.
    """
    rows = []
    images = discover_images(host)
    states = image_states(host, [(str(img.path),) for img in images])  # one scan for all
    for img, state in zip(images, states, strict=True):
        cls, rel = _image_release(host, img)
        rows.append(
            {
                "name": img.name,
                "kind": img.kind.value,
                "path": str(img.path),
                "release": cls,
                "id": rel.get("ID") if rel else None,
                "version_id": rel.get("VERSION_ID") if rel else None,
                "pretty_name": rel.get("PRETTY_NAME") if rel else None,
                "read_only": image_stat(host, img).read_only,
                "state": "" if state is None else state.value,  # empty where portabled fails
            }
        )
    return _frame(rows, IMAGES_SCHEMA, ["name"])


# -- release files and layers ---------------------------------------------------------------------

RELEASE_SCHEMA: dict[str, object] = {
    "layer": INT,
    "image": STR,
    "file": STR,
    "key": STR,
    "value": STR,
}


def release_frame(source: Dissection | EnvFile) -> pd.DataFrame:
    """The keys of the os-release / extension-release files: of every layer of a dissection
    (base first), or of one parsed file (``layer`` 0, ``image`` empty).

    Values are the pair-list view (an empty assignment stays ``""``). Sorted by layer, key.
    """
    rows: list[dict[str, object]] = []
    if isinstance(source, EnvFile):
        items: list[tuple[int, str, str, EnvFile]] = [(0, "", source.origin, source)]
    else:
        items = [
            (i, layer.image.name, layer.release_path, layer.release)
            for i, layer in enumerate(source.layers)
            if layer.release is not None
        ]
    for i, image, path, env in items:
        for key, value in env.pairs():
            rows.append({"layer": i, "image": image, "file": path, "key": key, "value": value})
    return _frame(rows, RELEASE_SCHEMA, ["layer", "key"])


COMPAT_SCHEMA: dict[str, object] = {
    "step": INT,
    "check": STR,
    "key": STR,
    "base": STR,
    "extension": STR,
    "ok": BOOL,
    "decides": BOOL,
    "note": STR,
}


def compat_frame(
    base: EnvFile, extension: EnvFile, systemd: Systemd, *, host_arch: str | None = None
) -> pd.DataFrame:
    """portabled's compatibility checks of one extension on one base, step by step: the value
    on each side, whether the step passed (``ok`` missing: not reached) and which step decided
    (see :func:`portablekit.portabled.layers.explain_extension`)."""
    rows = [
        {
            "step": s.step,
            "check": s.check,
            "key": s.key or None,
            "base": s.base,
            "extension": s.extension,
            "ok": s.ok,
            "decides": s.decides,
            "note": s.note,
        }
        for s in explain_extension(base, extension, systemd, host_arch=host_arch)
    ]
    return _frame(rows, COMPAT_SCHEMA, ["step"])


LAYERS_SCHEMA: dict[str, object] = {
    "layer": INT,
    "image": STR,
    "kind": IMAGE_KIND,
    "path": STR,
    "release": RELEASE_CLASS,
    "release_file": STR,
    "overlays": STR,
    "units": INT,
    "compatible": BOOL,
}


def layers_frame(
    dissection: Dissection, systemd: Systemd | None = None, *, host_arch: str | None = None
) -> pd.DataFrame:
    """The layer stack bottom to top: base (layer 0), then the extensions in ``--extension``
    order. ``overlays`` names the hierarchies the layer provides in the running service,
    ``units`` how many attached units it supplies, ``compatible`` whether portabled's
    extension check accepts it on this base (missing for the base)."""
    from ..portabled.layers import HIERARCHIES, extension_compatible

    sd = systemd or Systemd()
    base_release = dissection.base.release
    counts: dict[int, int] = {}
    for u in dissection.units:
        counts[u.layer] = counts.get(u.layer, 0) + 1
    rows = []
    for i, layer in enumerate(dissection.layers):
        cls = layer.release_class
        if i == 0:
            overlays = "/"
            compatible = None
        else:
            overlays = " ".join(str(h) for h in HIERARCHIES.get(cls, ())) if cls else ""
            compatible = (
                extension_compatible(
                    explain_extension(base_release, layer.release, sd, host_arch=host_arch)
                )
                if base_release is not None and layer.release is not None
                else None
            )
        rows.append(
            {
                "layer": i,
                "image": layer.image.name,
                "kind": layer.image.kind.value,
                "path": str(layer.image.path),
                "release": cls.value if cls else None,
                "release_file": layer.release_path or None,
                "overlays": overlays or None,
                "units": counts.get(i, 0),
                "compatible": compatible,
            }
        )
    return _frame(rows, LAYERS_SCHEMA, ["layer"])


PATHS_SCHEMA: dict[str, object] = {
    "path": STR,
    "kind": FILE_KIND,
    "layer": INT,
    "image": STR,
    "shadowed": STR,
    "merged": BOOL,
}


def paths_frame(stack: LayeredView | Dissection, under: str = "/") -> pd.DataFrame:
    """Which layer each path below ``under`` resolves to in the running service's tree
    (extensions overlaid on ``/usr``, ``/opt`` or ``/etc``, the last one on top).

    ``shadowed`` names the lower layers that have the same path: hidden below a file, merged
    below a directory (``merged``). Sorted by path."""
    view = stack if isinstance(stack, LayeredView) else LayeredView.from_dissection(stack)
    names = [layer.image.name for layer in view.layers]
    rows = [
        {
            "path": str(o.path),
            "kind": o.kind.value,
            "layer": o.layer,
            "image": o.image,
            "shadowed": ", ".join(names[i] for i in o.shadowed) or None,
            "merged": o.merged,
        }
        for o in view.paths(under)
    ]
    return _frame(rows, PATHS_SCHEMA, ["path"])


# -- findings -------------------------------------------------------------------------------------

FINDINGS_SCHEMA: dict[str, object] = {
    "severity": SEVERITY,
    "rule": STR,
    "image": STR,
    "path": STR,
    "message": STR,
    "fix": STR,
    "portabled_message": STR,
}


def _field(obj: object, *names: str) -> object:
    for n in names:
        v = obj.get(n) if isinstance(obj, Mapping) else getattr(obj, n, None)
        if v is not None:
            return v
    return None


def findings_frame(findings: Iterable[object]) -> pd.DataFrame:
    """Findings of the image checks (objects or mappings with ``severity``, ``rule``,
    ``image``, ``path``, ``message``, ``fix``, ``portabled_message``; missing fields stay
    empty). The ``rule`` column is :attr:`~portablekit.check.findings.Finding.rule` (a
    mapping may call it ``code``). Sorted by severity (errors first), image, path, rule."""
    rows = []
    for f in findings:
        row: dict[str, object] = {}
        for col, names in (
            ("severity", ("severity", "level")),
            ("rule", ("rule", "code", "check")),
            ("image", ("image",)),
            ("path", ("path",)),
            ("message", ("message", "problem", "what")),
            ("fix", ("fix", "how_to_fix", "hint")),
            ("portabled_message", ("portabled_message", "portabled", "error")),
        ):
            v = _field(f, *names)
            row[col] = None if v is None else str(getattr(v, "value", v))
        if row["severity"] not in SEVERITY.categories:
            row["severity"] = None
        rows.append(row)
    return _frame(rows, FINDINGS_SCHEMA, ["severity", "image", "path", "rule"])

"""The core as pandas DataFrames: one ``*_frame`` function per concept.

Every frame has a fixed column order, sorted rows and explicit dtypes: categoricals for closed
vocabularies (image kinds, states, unit types, skip reasons, operations), ``boolean`` for
flags, ``Int64`` for counts and layer numbers, ``string`` for text. Paths are paths *inside*
the image or the sandbox root (``/var/lib/portables/minimal``), never where the sandbox lives
on this machine, so a stored notebook output is the same everywhere.

This module imports pandas; ``import portablekit`` never loads it.

>>> from portablekit.tables import profile_matrix_frame
>>> m = profile_matrix_frame(["default", "strict"], 257)
>>> list(m.columns), m.loc[m.directive == "PrivateNetwork", "strict"].item()
(['section', 'directive', 'category', 'default', 'strict'], 'yes')
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

from .directives import lookup
from .dissect import (
    Dissection,
    ReleaseClass,
    SkipReason,
    find_extension_release,
    read_os_release,
)
from .dropin import PORTABLE_DROPIN, PROFILE_DROPIN
from .errors import ImagePathError, PortableKitError
from .host import Host, attached_dir
from .image import ImageKind, discover_images, image_stat, open_image
from .layers import LayeredView, explain_extension, unit_origins
from .names import PORTABLE_UNIT_TYPES, extension_name, unit_type
from .osrelease import EnvFile
from .plan import ChangeType, OpKind, Plan
from .profilediff import ProfileComparison, compare_profiles
from .profiles import BUILTIN_PROFILES, builtin_profile
from .source import FileKind
from .state import ImageState, image_state, unit_states
from .unitfile import UnitFile
from .versions import Systemd

__all__ = [
    "changes_frame",
    "compat_frame",
    "dropins_frame",
    "findings_frame",
    "images_frame",
    "layers_frame",
    "paths_frame",
    "plan_frame",
    "profile_checks_frame",
    "profile_matrix_frame",
    "profile_versions_frame",
    "release_frame",
    "sandbox_frame",
    "scores_frame",
    "tree_frame",
    "unit_origins_frame",
    "units_frame",
]

# -- dtypes -------------------------------------------------------------------------------------

STR = "string"
BOOL = "boolean"
INT = "Int64"


def _cat(values: Iterable[str], ordered: bool = False) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(categories=list(dict.fromkeys(values)), ordered=ordered)


IMAGE_KIND = _cat(k.value for k in ImageKind)
IMAGE_STATE = _cat((s.value for s in ImageState), ordered=True)
RELEASE_CLASS = _cat(c.value for c in ReleaseClass)
UNIT_TYPE = _cat(sorted({*PORTABLE_UNIT_TYPES, "mount", "slice", "scope", "device", "swap"}))
#: ``matched`` for a unit portabled takes, else the reason it skips the entry.
UNIT_STATUS = _cat(["matched", *(r.value for r in SkipReason)])
DROPIN_SOURCE = _cat(["profile", "portable", "local"])
OP_KIND = _cat(k.value for k in OpKind)
CHANGE_TYPE = _cat(t.value for t in ChangeType)
FILE_KIND = _cat(k.value for k in FileKind)
SEVERITY = _cat(["error", "warning", "info"], ordered=True)
PROFILE = _cat(BUILTIN_PROFILES)


def _frame(
    rows: Sequence[Mapping[str, object]],
    schema: Mapping[str, object],
    sort: Sequence[str] = (),
) -> pd.DataFrame:
    """Rows → a frame with exactly ``schema``'s columns and dtypes, sorted, index 0..n-1."""
    cols = list(schema)
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols, dtype=object)
    for c, dtype in schema.items():
        df[c] = df[c].astype(dtype)  # type: ignore[call-overload]
    if sort and len(df):
        df = df.sort_values(list(sort), kind="stable")
    return df.reset_index(drop=True)


def _unit_type(name: str) -> str | None:
    t = unit_type(name)
    return t if t in UNIT_TYPE.categories else None


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
        ename = extension_name(img.file_name, not img.is_tree, host.systemd.version)
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
    for img in discover_images(host):
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
                "state": image_state(host, str(img.path)).value,
            }
        )
    return _frame(rows, IMAGES_SCHEMA, ["name"])


# -- units and drop-ins ---------------------------------------------------------------------------

UNITS_SCHEMA: dict[str, object] = {
    "unit": STR,
    "type": UNIT_TYPE,
    "layer": INT,
    "image": STR,
    "path": STR,
    "matched": BOOL,
    "status": UNIT_STATUS,
}


def units_frame(dissection: Dissection) -> pd.DataFrame:
    """Every entry portabled looked at in the unit directories of every layer, and what it made
    of it: ``matched`` (attached from here) or the reason it was skipped (``status``).

    ``path`` is the entry's path inside its image. Sorted by unit name, then layer.
    """
    layers = dissection.layers
    rows = [
        {
            "unit": c.name,
            "type": _unit_type(c.name),
            "layer": c.layer,
            "image": layers[c.layer].image.name,
            "path": str(c.directory / c.name),
            "matched": c.reason is None,
            "status": "matched" if c.reason is None else c.reason.value,
        }
        for c in dissection.candidates
    ]
    return _frame(rows, UNITS_SCHEMA, ["unit", "layer", "path"])


UNIT_ORIGINS_SCHEMA: dict[str, object] = {
    "unit": STR,
    "type": UNIT_TYPE,
    "layer": INT,
    "image": STR,
    "skipped_in": STR,
}


def unit_origins_frame(dissection: Dissection) -> pd.DataFrame:
    """Which layer each attached unit is read from; ``skipped_in`` names the later layers whose
    copy portabled ignored (the first layer that has a unit wins)."""
    layers = dissection.layers
    rows = [
        {
            "unit": o.unit,
            "type": _unit_type(o.unit),
            "layer": o.layer,
            "image": o.image,
            "skipped_in": ", ".join(layers[i].image.name for i in o.also_in) or None,
        }
        for o in unit_origins(dissection)
    ]
    return _frame(rows, UNIT_ORIGINS_SCHEMA, ["unit"])


DROPINS_SCHEMA: dict[str, object] = {
    "unit": STR,
    "file": STR,
    "source": DROPIN_SOURCE,
    "path": STR,
    "link": STR,
    "content": STR,
}

#: Where local drop-ins of a system unit may live on the host (besides the attached directory).
LOCAL_DROPIN_DIRS = (
    PurePosixPath("/etc/systemd/system"),
    PurePosixPath("/run/systemd/system"),
)


def _dropin_source(name: str) -> str:
    if name == PROFILE_DROPIN:
        return "profile"
    if name == PORTABLE_DROPIN:
        return "portable"
    return "local"


def dropins_frame(host: Host, units: Iterable[str] | None = None) -> pd.DataFrame:
    """The drop-ins of attached units: ``10-profile.conf`` (source ``profile``), portabled's
    ``20-portable.conf`` (``portable``) and any other ``.conf`` (``local``), from the attached
    directories and ``/etc``/``/run/systemd/system/<unit>.d``.

    ``link`` is the target when the drop-in is a symbolic link (a linked profile); ``content``
    the text systemd reads. ``units`` limits the rows (default: every attached unit). Sorted by
    unit, then file name (the order systemd applies them in).
    """
    wanted = set(units) if units is not None else {s.unit for s in unit_states(host)}
    rows = []
    for name in sorted(wanted):
        dirs = [attached_dir(False), attached_dir(True), *LOCAL_DROPIN_DIRS]
        for d in dirs:
            ddir = d / f"{name}.d"
            for entry in host.listdir(ddir):
                if not entry.endswith(".conf"):
                    continue
                p = ddir / entry
                link = None
                if host.kind(p, follow=False) is FileKind.SYMLINK:
                    try:
                        link = host.fs.readlink(host.resolve(p, follow=False))
                    except ImagePathError:
                        link = None
                rows.append(
                    {
                        "unit": name,
                        "file": entry,
                        "source": _dropin_source(entry),
                        "path": str(p),
                        "link": link,
                        "content": host.read_text(p),
                    }
                )
    return _frame(rows, DROPINS_SCHEMA, ["unit", "file", "path"])


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
    (see :func:`portablekit.layers.explain_extension`)."""
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
    from .layers import HIERARCHIES, extension_compatible

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


# -- profiles ------------------------------------------------------------------------------------


def _comparison(
    profiles: Sequence[str] | Mapping[str, str],
    version: int,
    host: Host | None,
    unit: tuple[str, str] | None = None,
) -> ProfileComparison:
    specs: Sequence[str] | Mapping[str, UnitFile]
    if isinstance(profiles, Mapping):
        specs = {n: UnitFile.parse(t, origin=f"{n}/service.conf") for n, t in profiles.items()}
    else:
        specs = list(profiles)
    return compare_profiles(
        specs,
        version=host.systemd.version if host is not None else version,
        root=host.root if host is not None else None,
        unit=unit[1] if unit is not None else None,
        unit_name=unit[0] if unit is not None else None,
    )


def _category(section: str, name: str) -> str | None:
    d = lookup(section, name)
    return str(d.category) if d is not None else None


def profile_matrix_frame(
    profiles: Sequence[str] | Mapping[str, str],
    version: int = 257,
    *,
    host: Host | None = None,
    only_differences: bool = False,
) -> pd.DataFrame:
    """Directive × profile: the value each profile gives each directive (missing: not set;
    ``""``: set to the empty value, e.g. ``strict``'s empty ``CapabilityBoundingSet=``).

    ``profiles`` are names (built-in profiles of ``version``, or looked up on ``host`` the way
    portabled finds them, custom ones included) or a mapping ``name → drop-in text``. Each
    profile is merged on its own (:mod:`portablekit.profilediff`), so list settings show every
    item. Columns: ``section``, ``directive``, ``category``, then one per profile in the order
    given. Rows in the directive table's order (by topic), see :mod:`portablekit.directives`.
    ``only_differences`` keeps the rows where the profiles disagree.
    """
    cmp = _comparison(profiles, version, host)
    names = list(cmp.names)
    rows = []
    for section, directive, values in cmp.rows():
        if only_differences and len(set(values)) == 1:
            continue
        row: dict[str, object] = {
            "section": section,
            "directive": directive,
            "category": _category(section, directive),
        }
        row.update(zip(names, values, strict=True))
        rows.append(row)
    schema: dict[str, object] = {"section": STR, "directive": STR, "category": STR}
    schema.update({n: STR for n in names})
    return _frame(rows, schema)


def profile_versions_frame(
    profile: str, versions: Sequence[int] = (252, 257, 262), *, only_differences: bool = False
) -> pd.DataFrame:
    """One built-in profile across systemd versions: directive × version (columns named
    ``"252"``, ``"257"``, ...), to see what Debian's upgrades changed."""
    texts = {str(v): builtin_profile(profile, v) for v in versions}
    return profile_matrix_frame(texts, max(versions), only_differences=only_differences)


def profile_checks_frame(
    profiles: Sequence[str],
    unit_text: str,
    unit: str,
    version: int = 257,
    *,
    host: Host | None = None,
    only_differences: bool = False,
) -> pd.DataFrame:
    """``systemd-analyze security`` check × profile for one unit: the badness of each check
    (0 = fine; missing = not applicable) with each profile attached. Columns: ``check``,
    ``json_field``, then one per profile. Rows in systemd-analyze's check order."""
    cmp = _comparison(profiles, version, host, (unit, unit_text))
    names = list(cmp.names)
    rows = []
    for check, field, values in cmp.check_rows(only_differences=only_differences):
        row: dict[str, object] = {"check": check, "json_field": field}
        row.update(zip(names, values, strict=True))
        rows.append(row)
    schema: dict[str, object] = {"check": STR, "json_field": STR}
    schema.update({n: INT for n in names})
    return _frame(rows, schema)


SCORES_SCHEMA: dict[str, object] = {
    "unit": STR,
    "profile": STR,
    "version": INT,
    "exposure": "Float64",
    "level": STR,
}


def scores_frame(
    unit_text: str,
    unit: str,
    profiles: Sequence[str],
    version: int = 257,
    *,
    host: Host | None = None,
) -> pd.DataFrame:
    """The ``systemd-analyze security`` exposure (0.0–10.0) and level of ``unit`` attached
    from a directory image with each profile. Rows in the order of ``profiles``."""
    cmp = _comparison(profiles, version, host, (unit, unit_text))
    rows = []
    for p in cmp.names:
        r = cmp.score(p)
        rows.append(
            {
                "unit": unit,
                "profile": p,
                "version": cmp.version,
                "exposure": float(r.score),
                "level": str(r.level),
            }
        )
    return _frame(rows, SCORES_SCHEMA)


# -- plans and the sandbox -------------------------------------------------------------------------

PLAN_SCHEMA: dict[str, object] = {
    "step": INT,
    "op": OP_KIND,
    "path": STR,
    "target": STR,
    "source": STR,
    "mode": STR,
    "size": INT,
    "replace": BOOL,
}


def plan_frame(plan: Plan) -> pd.DataFrame:
    """Every file operation of a plan, in the order portabled performs them (``step`` 1..n).

    ``target`` is a link's target, ``source`` what a copy copies from, ``mode`` the octal mode
    of what is created, ``size`` the bytes written; all host paths inside the sandbox root.
    """
    rows = []
    for i, op in enumerate(plan.ops, start=1):
        creates = op.kind in (OpKind.MKDIR, OpKind.WRITE)
        rows.append(
            {
                "step": i,
                "op": op.kind.value,
                "path": str(op.path),
                "target": op.target,
                "source": str(op.source) if op.source is not None else None,
                "mode": f"{op.mode:04o}" if creates else None,
                "size": len(op.data) if op.data is not None else None,
                "replace": op.replace,
            }
        )
    return _frame(rows, PLAN_SCHEMA, ["step"])


CHANGES_SCHEMA: dict[str, object] = {
    "step": INT,
    "type": CHANGE_TYPE,
    "path": STR,
    "source": STR,
    "line": STR,
}


def changes_frame(plan: Plan) -> pd.DataFrame:
    """The change records portablectl prints for a plan (``line`` is the printed line)."""
    rows = [
        {
            "step": i,
            "type": c.type.value,
            "path": c.path,
            "source": c.source or None,
            "line": str(c),
        }
        for i, c in enumerate(plan.printed_changes(), start=1)
    ]
    return _frame(rows, CHANGES_SCHEMA, ["step"])


SANDBOX_SCHEMA: dict[str, object] = {
    "unit": STR,
    "type": UNIT_TYPE,
    "image": STR,
    "extensions": STR,
    "runtime": BOOL,
    "unit_file_state": STR,
    "active_state": STR,
    "enabled": BOOL,
    "running": BOOL,
}


def sandbox_frame(host: Host) -> pd.DataFrame:
    """Every portable unit attached in the sandbox root, with what the (simulated) service
    manager says about it. Sorted by runtime, unit."""
    rows = [
        {
            "unit": s.unit,
            "type": _unit_type(s.unit),
            "image": s.image,
            "extensions": " ".join(s.extensions) or None,
            "runtime": s.runtime,
            "unit_file_state": s.unit_file_state,
            "active_state": s.active_state,
            "enabled": s.enabled,
            "running": s.running,
        }
        for s in unit_states(host)
    ]
    return _frame(rows, SANDBOX_SCHEMA, ["runtime", "unit"])


TREE_SCHEMA: dict[str, object] = {
    "path": STR,
    "kind": FILE_KIND,
    "target": STR,
    "mode": STR,
    "size": INT,
}

#: The directories attach and detach change.
ATTACH_TREES = (
    "/etc/systemd/system.attached",
    "/run/systemd/system.attached",
    "/etc/portables",
    "/run/portables",
)


def tree_frame(host: Host, under: Sequence[str] = ATTACH_TREES) -> pd.DataFrame:
    """The entries below some host directories (default: where attach writes), links not
    followed. Missing directories give no rows. Sorted by path."""
    rows = []
    for top in under:
        p = PurePosixPath(top)
        if host.kind(p, follow=False) is not FileKind.DIR:
            continue
        try:
            walked = [(p, host.fs.lstat(p)), *host.fs.walk(p)]
        except ImagePathError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                continue
            raise
        for path, st in walked:
            rows.append(
                {
                    "path": str(path),
                    "kind": st.kind.value,
                    "target": host.fs.readlink(path) if st.kind is FileKind.SYMLINK else None,
                    "mode": f"{st.mode & 0o7777:04o}" if st.kind is not FileKind.SYMLINK else None,
                    "size": st.size if st.kind is FileKind.FILE else None,
                }
            )
    return _frame(rows, TREE_SCHEMA, ["path"])


# -- findings -------------------------------------------------------------------------------------

FINDINGS_SCHEMA: dict[str, object] = {
    "severity": SEVERITY,
    "code": STR,
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
    """Findings of the image checks (objects or mappings with ``severity``, ``code``,
    ``image``, ``path``, ``message``, ``fix``, ``portabled_message``; missing fields stay
    empty). Sorted by severity (errors first), image, path, code."""
    rows = []
    for f in findings:
        row: dict[str, object] = {}
        for col, names in (
            ("severity", ("severity", "level")),
            ("code", ("code", "rule", "check")),
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
    return _frame(rows, FINDINGS_SCHEMA, ["severity", "image", "path", "code"])

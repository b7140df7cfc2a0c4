"""What portablectl's verbs print, as text: the ``list`` table, ``inspect``'s two forms, and
the ``--dry-run`` plan table of portablekit.

Every function returns the text; :mod:`portablekit.cli.portablectl` decides what to print where.

>>> format_bytes(4096, keep_zero_decimal=True), format_bytes(4096, keep_zero_decimal=False)
('4.0K', '4K')
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ..osrelease import EnvFile
from ..portabled.dissect import Dissection
from ..portabled.image import Image, ImageStat
from ..portabled.plan import Plan
from ..portabled.state import ImageState
from ..versions import Systemd
from .texttable import format_table

__all__ = ["dry_run_text", "format_bytes", "format_timestamp", "inspect_text", "list_text"]


def format_timestamp(t: float | None) -> str:
    """systemd's timestamp in UTC, ``-`` when unknown (``list``'s CRTIME and MTIME)."""
    if not t:
        return "-"
    return time.strftime("%a %Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


def format_bytes(n: int | None, keep_zero_decimal: bool) -> str:
    """systemd's ``format_bytes()`` (IEC, one decimal; from 256 on a ``.0`` is left out)."""
    if n is None:
        return ""
    factors = [
        ("E", 1024**6),
        ("P", 1024**5),
        ("T", 1024**4),
        ("G", 1024**3),
        ("M", 1024**2),
        ("K", 1024),
    ]
    for i, (suffix, f) in enumerate(factors):
        if n >= f:
            if i != len(factors) - 1:
                dec = (n // factors[i + 1][1] * 10 // 1024) % 10
            else:
                dec = (n * 10 // f) % 10
            if dec == 0 and not keep_zero_decimal:
                return f"{n // f}{suffix}"
            return f"{n // f}.{dec}{suffix}"
    return f"{n}B"


def _lines(rows: list[list[str]], min_width: int = 0) -> str:
    return "".join(line + "\n" for line in format_table(rows, min_width))


def list_text(
    images: Sequence[tuple[Image, ImageStat, ImageState | None]], systemd: Systemd, *, legend: bool
) -> str:
    """``portablectl list``: one row per image, with the header and the count as the legend
    (an image whose state portabled fails to tell has an empty STATE cell)."""
    rows = [
        [
            img.name,
            str(img.kind),
            "yes" if st.read_only else "no",
            format_timestamp(st.crtime),
            format_timestamp(st.mtime),
            format_bytes(st.usage, systemd.bytes_below_point),
            "" if state is None else str(state),
        ]
        for img, st, state in images
    ]
    text = ""
    if rows:
        header = [["NAME", "TYPE", "RO", "CRTIME", "MTIME", "USAGE", "STATE"]]
        # systemd's table gives every column one character at least (an empty USAGE column
        # shows as a blank one without the header)
        text += _lines((header if legend else []) + rows, min_width=1)
    if legend:
        text += f"\n{len(rows)} images listed.\n" if rows else "No images.\n"
    return text


def _na(v: str | None) -> str:
    return v if v else "n/a"


def _cat_text(d: Dissection) -> str:
    """``inspect --cat``: os-release, each extension-release and each unit file, verbatim."""
    base = d.base
    assert base.release is not None
    parts = ["-- OS Release: --\n", base.release.raw.decode("utf-8", "surrogateescape")]
    for ext in d.extensions:
        assert ext.release is not None
        shown = "" if ext.image.is_tree else str(ext.image.path)
        parts.append(f"\n-- Extension Release: {shown} --\n")
        parts.append(ext.release.raw.decode("utf-8", "surrogateescape"))
    for u in d.units:
        parts.append(f"\n-- Unit file: {u.name} --\n")
        parts.append(u.data.decode("utf-8", "surrogateescape"))
    return "".join(parts)


def _first(r: EnvFile, keys: Sequence[str]) -> str | None:
    return next((r.get(k) for k in keys if r.get(k)), None)


def _extension_fields(r: EnvFile) -> list[str]:
    """An extension in ``inspect`` from 254 on: scope, level, OS, and the extension image."""
    out = [
        "\tExtension Scope:",
        f"\t\t{_na(r.get('SYSEXT_SCOPE') or r.get('CONFEXT_SCOPE'))}",
        "\tExtension Compatibility Level:",
        f"\t\t{_na(r.get('SYSEXT_LEVEL') or r.get('CONFEXT_LEVEL'))}",
        "\tExtension Compatibility OS:",
        f"\t\t{_na(r.get('ID'))}",
        "\tExtension Compatibility OS Version:",
        f"\t\t{_na(r.get('VERSION_ID'))}",
        "\tPortable Service:",
        f"\t\t{_na(r.get('PORTABLE_PRETTY_NAME'))}",
        "\tPortable Prefixes:",
        f"\t\t{_na(r.get('PORTABLE_PREFIXES'))}",
        "\tExtension Image:",
    ]
    pretty = r.get("SYSEXT_PRETTY_NAME") or r.get("CONFEXT_PRETTY_NAME")
    xid = _first(r, ("SYSEXT_ID", "SYSEXT_IMAGE_ID", "CONFEXT_ID", "CONFEXT_IMAGE_ID"))
    xver = _first(
        r,
        (
            "SYSEXT_VERSION_ID",
            "SYSEXT_IMAGE_VERSION",
            "SYSEXT_BUILD_ID",
            "CONFEXT_VERSION_ID",
            "CONFEXT_IMAGE_VERSION",
            "CONFEXT_BUILD_ID",
        ),
    )
    if pretty:
        out.append(f"\t\t{pretty} ({_na(xid)} {_na(xver)})")
    else:
        out.append(f"\t\tID: {_na(xid)} Version: {_na(xver)}")
    return out


def _extension_fields_252(r: EnvFile) -> list[str]:
    """An extension in 252's ``inspect``: scope, level, and the extension's OS in one line."""
    return [
        "\tExtension Scope:",
        f"\t\t{_na(r.get('SYSEXT_SCOPE'))}",
        "\tExtension Compatibility Level:",
        f"\t\t{_na(r.get('SYSEXT_LEVEL'))}",
        "\tPortable Service:",
        f"\t\t{_na(r.get('PORTABLE_PRETTY_NAME'))}",
        "\tPortable Prefixes:",
        f"\t\t{_na(r.get('PORTABLE_PREFIXES'))}",
        "\tOperating System:",
        f"\t\t{_na(r.get('PRETTY_NAME'))} ({_na(r.get('ID'))} {_na(r.get('VERSION_ID'))})",
    ]


def inspect_text(d: Dissection, shown_path: str, systemd: Systemd, *, cat: bool) -> str:
    """``portablectl inspect`` (``--cat``: the files themselves) of an image shown as
    ``shown_path``."""
    if cat:
        return _cat_text(d)
    base = d.base
    assert base.release is not None
    out = [
        "Image:",
        f"\t{shown_path}",
        "Portable Service:",
        f"\t{_na(base.release.get('PORTABLE_PRETTY_NAME'))}",
        "Operating System:",
        f"\t{_na(base.release.get('PRETTY_NAME'))}",
    ]
    for ext in d.extensions:
        r = ext.release
        assert r is not None
        shown = "" if ext.image.is_tree else str(ext.image.path)
        out += ["Extension:", f"\t{shown}"]
        if systemd.inspect_shows_extension_compatibility:
            out += _extension_fields(r)
        else:
            out += _extension_fields_252(r)
    if d.units:
        out.append("Unit files:")
        out += [f"\t{u.name}" for u in d.units]
    return "\n".join(out) + "\n"


def dry_run_text(plan: Plan) -> str:
    """``--dry-run``: every file operation of the plan as a table, and what it comes to."""
    rows = [["OP", "PATH", "DETAIL"]]
    for op in plan.ops:
        d = op.to_dict()
        detail = " ".join(f"{k}={v}" for k, v in d.items() if k not in ("op", "path"))
        rows.append([str(op.kind), str(op.path), detail])
    text = f"Plan of {plan.verb} {plan.image} (dry run, nothing written):\n"
    if len(rows) > 1:
        text += _lines(rows)
    if plan.error is not None:
        text += f"It would fail: {plan.error.message}\n"
    else:
        text += f"{len(plan.ops)} operations, {len(plan.printed_changes())} changes reported.\n"
    return text

"""Frames of profiles: what each portable profile sets, across profiles or systemd versions, and
how each changes the ``systemd-analyze security`` checks and score of a unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..portabled.host import Host
from ..portabled.profiles import builtin_profile
from ..security.directives import lookup
from ..security.profilediff import ProfileComparison, compare_profiles
from ..unitfile import UnitFile
from ..versions import Systemd
from ._common import INT, STR, _frame

__all__ = [
    "profile_checks_frame",
    "profile_matrix_frame",
    "profile_versions_frame",
    "scores_frame",
]


def _comparison(
    profiles: Sequence[str] | Mapping[str, str],
    systemd: Systemd,
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
        systemd=host.systemd if host is not None else systemd,
        root=host.root if host is not None else None,
        unit=unit[1] if unit is not None else None,
        unit_name=unit[0] if unit is not None else None,
    )


def _category(section: str, name: str) -> str | None:
    d = lookup(section, name)
    return str(d.category) if d is not None else None


def profile_matrix_frame(
    profiles: Sequence[str] | Mapping[str, str],
    systemd: Systemd = Systemd(),
    *,
    host: Host | None = None,
    only_differences: bool = False,
) -> pd.DataFrame:
    """Directive × profile: the value each profile gives each directive (missing: not set;
    ``""``: set to the empty value, e.g. ``strict``'s empty ``CapabilityBoundingSet=``).

    ``profiles`` are names (built-in profiles of ``systemd``, or looked up on ``host`` the way
    portabled finds them, custom ones included) or a mapping ``name → drop-in text``. Each
    profile is merged on its own (:mod:`portablekit.security.profilediff`), so list settings show
    every
    item. Columns: ``section``, ``directive``, ``category``, then one per profile in the order
    given. Rows in the directive table's order (by topic), see
    :mod:`portablekit.security.directives`.
    ``only_differences`` keeps the rows where the profiles disagree.
    """
    cmp = _comparison(profiles, systemd, host)
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
    profile: str,
    versions: Sequence[Systemd] = Systemd.supported(),
    *,
    only_differences: bool = False,
) -> pd.DataFrame:
    """One built-in profile across systemd versions: directive × version (columns named
    ``"252"``, ``"257"``, ...), to see what Debian's upgrades changed. The profiles are merged
    as the newest version does (it knows every setting of the older ones)."""
    texts = {str(v.version): builtin_profile(profile, v) for v in versions}
    newest = Systemd.supported()[-1]
    return profile_matrix_frame(texts, newest, only_differences=only_differences)


def _describe(names: Sequence[str], texts: Sequence[str | None]) -> str | None:
    """One description for a check row: the text when every profile gets the same one, else
    one ``profile: text`` line per profile."""
    if len(set(texts)) == 1:
        return texts[0]
    return "\n".join(f"{n}: {t or '—'}" for n, t in zip(names, texts, strict=True))


def profile_checks_frame(
    profiles: Sequence[str],
    unit_text: str,
    unit: str,
    systemd: Systemd = Systemd(),
    *,
    host: Host | None = None,
    only_differences: bool = False,
) -> pd.DataFrame:
    """``systemd-analyze security`` check × profile for one unit: the badness of each check
    (0 = fine; missing = not applicable) with each profile attached.

    Columns: ``check``, one per profile (the badness, next to the check's name so a narrow
    window still shows it), ``description`` (what ``systemd-analyze security`` says about the
    check: one text, or one ``profile: text`` line per profile where they differ), then
    ``json_field``. Rows in systemd-analyze's check order.
    """
    cmp = _comparison(profiles, systemd, host, (unit, unit_text))
    names = list(cmp.names)
    rows = []
    for i, (check, field, values) in enumerate(cmp.check_rows()):
        if only_differences and len(set(values)) == 1:
            continue
        texts = [r.results[i].description for r in cmp.reports]
        row: dict[str, object] = {"check": check}
        row.update(zip(names, values, strict=True))
        row["description"] = _describe(names, texts)
        row["json_field"] = field
        rows.append(row)
    schema: dict[str, object] = {"check": STR}
    schema.update({n: INT for n in names})
    schema.update({"description": STR, "json_field": STR})
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
    systemd: Systemd = Systemd(),
    *,
    host: Host | None = None,
) -> pd.DataFrame:
    """The ``systemd-analyze security`` exposure (0.0–10.0) and level of ``unit`` attached
    from a directory image with each profile. Rows in the order of ``profiles``."""
    cmp = _comparison(profiles, systemd, host, (unit, unit_text))
    rows = []
    for p in cmp.names:
        r = cmp.score(p)
        rows.append(
            {
                "unit": unit,
                "profile": p,
                "version": cmp.systemd.version,
                "exposure": float(r.score),
                "level": str(r.level),
            }
        )
    return _frame(rows, SCORES_SCHEMA)

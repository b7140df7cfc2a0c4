"""Profiles side by side: what each sets, what one adds or removes relative to another, and how
each scores for a unit.

A profile is given as a built-in name (the bytes of the chosen systemd version), a path to a
``service.conf`` or to a profile directory, parsed content, or text. With a sandbox ``root``,
names are looked up as portabled does, in ``/etc``, ``/run``, ``/usr/local/lib`` and ``/usr/lib``
``systemd/portable/profile/NAME/service.conf`` inside the root.

Each profile is merged on its own (:mod:`portablekit.security.effective`), so a value is what the
profile
as a whole sets (``CapabilityBoundingSet=`` of ``strict`` is the empty set, ``BindReadOnlyPaths=``
lists every path). The result is data: :meth:`ProfileComparison.rows` for a directive matrix,
:meth:`ProfileComparison.diff` for a pair, :meth:`ProfileComparison.check_rows` for the per-check
badness of each profile when a unit was given. Nothing here imports pandas.

>>> from portablekit.versions import Systemd
>>> cmp = compare_profiles(["default", "nonetwork"], systemd=Systemd(257))
>>> d = cmp.diff("default", "nonetwork")
>>> [(c.name, c.added, c.removed) for c in d.changed if c.name == "RestrictAddressFamilies"]
[('RestrictAddressFamilies', (), ('AF_INET', 'AF_INET6'))]
>>> [a.name for a in d.added]
['PrivateNetwork', 'IPAddressDeny']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PortableKitError
from ..portabled import profiles
from ..portabled.host import Host
from ..unitfile import UnitFile
from ..versions import Systemd
from .attached import RootKind
from .directives import DIRECTIVES, Directive, Kind, lookup
from .effective import EffectiveUnit, effective_unit
from .score import SecurityReport, security_report

__all__ = [
    "ChangedSetting",
    "NamedProfile",
    "ProfileComparison",
    "ProfileDiff",
    "ProfileSetting",
    "compare_profiles",
    "named_profile",
]


@dataclass(frozen=True, slots=True)
class NamedProfile:
    """A profile to compare: its name, where it came from and its content."""

    name: str
    unit: UnitFile
    source: str = ""

    @property
    def text(self) -> str:
        """Canonical text of the profile."""
        return str(self.unit)


@dataclass(frozen=True, slots=True)
class ProfileSetting:
    """A directive and the value a profile gives it."""

    section: str
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class ChangedSetting:
    """A directive both profiles set, differently; for lists, the items added and removed."""

    section: str
    name: str
    before: str
    after: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProfileDiff:
    """What ``other`` adds, removes and changes relative to ``base``."""

    base: str
    other: str
    added: tuple[ProfileSetting, ...]
    removed: tuple[ProfileSetting, ...]
    changed: tuple[ChangedSetting, ...]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def lines(self) -> list[str]:
        """Human-readable lines: ``+ Key=value`` (set only by ``other``), ``- Key=value`` (only by
        ``base``), ``~ Key: adds X; removes Y`` or ``~ Key: before → after``."""
        out = [f"+ {s.name}={s.value}" for s in self.added]
        out += [f"- {s.name}={s.value}" for s in self.removed]
        for c in self.changed:
            parts = []
            if c.added:
                parts.append("adds " + " ".join(c.added))
            if c.removed:
                parts.append("removes " + " ".join(c.removed))
            detail = (
                "; ".join(parts) if parts else f"{c.before or '(empty)'} → {c.after or '(empty)'}"
            )
            out.append(f"~ {c.name}: {detail}")
        return out


@dataclass(frozen=True, slots=True)
class ProfileComparison:
    """Several profiles of one systemd version side by side (and their scores for a unit)."""

    systemd: Systemd
    profiles: tuple[NamedProfile, ...]
    merged: tuple[EffectiveUnit, ...] = field(repr=False)
    reports: tuple[SecurityReport, ...] = field(default=(), repr=False)
    unit: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.profiles)

    def _index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(name) from None

    def directives(self) -> tuple[tuple[str, str], ...]:
        """``(section, name)`` of every directive any profile sets, in directive-table order
        (settings the table does not model follow, in order of appearance)."""
        seen = {(s.section, s.name) for m in self.merged for s in m.settings}
        ordered = [(d.section, d.name) for d in DIRECTIVES if (d.section, d.name) in seen]
        rest = [
            (s.section, s.name)
            for m in self.merged
            for s in m.settings
            if (s.section, s.name) not in ordered
        ]
        return tuple(ordered + list(dict.fromkeys(rest)))

    def value(self, profile: str, name: str, section: str = "Service") -> str | None:
        """The value ``profile`` gives ``name`` (``None``: not set)."""
        return self.merged[self._index(profile)].value(name, section)

    def rows(self) -> Iterator[tuple[str, str, tuple[str | None, ...]]]:
        """The directive matrix: ``(section, directive, values per profile)``."""
        for section, name in self.directives():
            yield section, name, tuple(m.value(name, section) for m in self.merged)

    def diff(self, base: str, other: str) -> ProfileDiff:
        """What ``other`` adds, removes and changes relative to ``base``."""
        a, b = self.merged[self._index(base)], self.merged[self._index(other)]
        added, removed, changed = [], [], []
        for section, name in self.directives():
            va, vb = a.value(name, section), b.value(name, section)
            if va == vb:
                continue
            if va is None and vb is not None:
                added.append(ProfileSetting(section, name, vb))
            elif vb is None and va is not None:
                removed.append(ProfileSetting(section, name, va))
            elif va is not None and vb is not None:
                plus, minus = _item_diff(section, name, va, vb)
                changed.append(ChangedSetting(section, name, va, vb, plus, minus))
        return ProfileDiff(base, other, tuple(added), tuple(removed), tuple(changed))

    def score(self, profile: str) -> SecurityReport:
        """The report of the compared unit with ``profile``."""
        if not self.reports:
            raise PortableKitError("no unit was given to score the profiles with")
        return self.reports[self._index(profile)]

    def check_rows(
        self, *, only_differences: bool = False
    ) -> Iterator[tuple[str, str, tuple[int | None, ...]]]:
        """``(check name, json_field, badness per profile)`` for every check of the scored unit
        (``None``: not applicable)."""
        if not self.reports:
            return
        for i, first in enumerate(self.reports[0].results):
            values = tuple(r.results[i].badness for r in self.reports)
            if only_differences and len(set(values)) == 1:
                continue
            yield first.name, first.json_field, values


def _items(d: Directive | None, value: str) -> list[str] | None:
    """The items of a list-like value (for an item-level diff), ``None`` for single values."""
    if d is None or not (d.multiple or d.kind is Kind.NAMESPACES):
        return None
    return value.lstrip("~").split()


def _item_diff(
    section: str, name: str, before: str, after: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    d = lookup(section, name)
    a, b = _items(d, before), _items(d, after)
    if a is None or b is None or before.startswith("~") != after.startswith("~"):
        return (), ()
    return tuple(x for x in b if x not in a), tuple(x for x in a if x not in b)


def named_profile(
    profile: str | Path | UnitFile | NamedProfile,
    systemd: Systemd,
    *,
    root: str | Path | None = None,
) -> NamedProfile:
    """Resolve one profile spec (see the module docstring) to a :class:`NamedProfile`.

    Text containing a newline is parsed as the profile itself (named ``custom``).
    """
    if isinstance(profile, NamedProfile):
        return profile
    if isinstance(profile, UnitFile):
        return NamedProfile(Path(profile.origin).parent.name or "custom", profile, profile.origin)
    text = str(profile)
    if "\n" in text:
        return NamedProfile("custom", UnitFile.parse(text, origin="<string>"), "<string>")
    if isinstance(profile, Path) or "/" in text:
        name, unit = profiles.load_profile(Path(profile), systemd)
        return NamedProfile(name, unit, unit.origin)
    if root is not None:
        found = profiles.read_profile(Host(root, systemd), text)
        if found is None:
            raise PortableKitError(f"Profile '{text}' not found in {root}.")
        origin = str(found.path) if found.path else text
        return NamedProfile(text, UnitFile.parse(found.text, origin=origin), origin)
    try:
        name, unit = profiles.load_profile(text, systemd)
    except KeyError:
        raise PortableKitError(
            f"Unknown profile '{text}' (built-in: {', '.join(profiles.BUILTIN_PROFILES)})."
        ) from None
    return NamedProfile(name, unit, unit.origin)


def compare_profiles(
    specs: Sequence[str | Path | UnitFile | NamedProfile] | Mapping[str, UnitFile] = (),
    *,
    systemd: Systemd = Systemd(),
    root: str | Path | None = None,
    unit: UnitFile | str | Path | None = None,
    unit_name: str | None = None,
    image: RootKind | str = RootKind.DIRECTORY,
) -> ProfileComparison:
    """Compare profiles (default: the four built-in ones of ``systemd``).

    With ``unit`` (a unit file path, its text or parsed content), each profile also scores the
    unit as it runs after attach with that profile and an ``image`` of that kind.
    """
    if isinstance(specs, Mapping):
        named = [NamedProfile(k, v, v.origin) for k, v in specs.items()]
    else:
        named = [named_profile(s, systemd, root=root) for s in (specs or profiles.BUILTIN_PROFILES)]
    names = [p.name for p in named]
    if len(set(names)) != len(names):
        # two profiles of the same name (e.g. two service.conf): tell them apart by position
        named = [
            NamedProfile(f"{p.name}#{i}", p.unit, p.source) if names.count(p.name) > 1 else p
            for i, p in enumerate(named, 1)
        ]
    merged = tuple(effective_unit(f"{p.name}.service", p.unit, systemd=systemd) for p in named)
    reports: tuple[SecurityReport, ...] = ()
    shown = ""
    if unit is not None:
        reports = tuple(
            security_report(unit, unit_name, profile=p.unit, image=image, systemd=systemd)
            for p in named
        )
        shown = reports[0].unit
    return ProfileComparison(systemd, tuple(named), merged, reports, shown)

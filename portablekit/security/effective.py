"""A unit as systemd loads it: the unit file merged with its drop-ins.

Drop-ins apply after the unit file in lexicographic order of their file names, whatever directory
they come from (for an attached portable service: ``10-profile.conf``, ``20-portable.conf``, then
local ones such as ``50-override.conf``). Within that sequence each setting merges the way
systemd's parser for it does:

* single values: the last *valid* assignment wins (an invalid one is ignored with a warning, an
  empty one resets to the default);
* lists: assignments accumulate; an empty assignment resets the list where systemd allows it
  (dependencies cannot be reset: there the empty assignment is ignored);
* ``CapabilityBoundingSet=``/``AmbientCapabilities=``: a line ORs its capabilities in, a ``~`` line
  ANDs them out, and the first line (or an empty one, which means *no* capabilities) replaces;
* ``RestrictAddressFamilies=``, ``SystemCallFilter=``: the first assignment after a reset decides
  allow list or deny list; later items of the other polarity remove entries; ``none`` forbids all
  address families;
* ``RestrictNamespaces=``: a boolean replaces, a list sets (``~``: clears) flags.

The result is data: one :class:`Setting` per directive with its value and the assignments that
make it up (value, file, line), and canonical text (:meth:`EffectiveUnit.__str__`) that merges
back to the same settings.

The stack of a portable unit as attached (profile, ``20-portable.conf``, local drop-ins) is put
together by :mod:`portablekit.security.attached`.

>>> from portablekit.unitfile import UnitFile
>>> from portablekit.versions import Systemd
>>> unit = UnitFile.parse("[Service]\\nCapabilityBoundingSet=CAP_KILL\\n", origin="app.service")
>>> strict = UnitFile.parse("[Service]\\nCapabilityBoundingSet=\\n", origin="10-profile.conf")
>>> eff = effective_unit("app.service", unit, {"10-profile.conf": strict}, systemd=Systemd(257))
>>> eff.get("CapabilityBoundingSet").value, eff.get("CapabilityBoundingSet").file
('', '10-profile.conf')
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from ..unitfile import Assignment, ParseWarning, Section, UnitFile
from ..versions import Systemd
from .directives import SECTIONS, Directive, InvalidValue, Kind, lookup, parse_boolean
from .vocabulary import ADDRESS_FAMILIES, ARCHITECTURES, CAPABILITIES, NAMESPACES, capability_mask

__all__ = [
    "ALL_CAPABILITIES",
    "Contribution",
    "Dropin",
    "EffectiveUnit",
    "Setting",
    "effective_unit",
    "format_capabilities",
    "ip_prefixes",
]

#: The bounding set systemd starts from: every bit set.
ALL_CAPABILITIES = (1 << 64) - 1
_KNOWN_CAPS = sum(1 << b for b in CAPABILITIES.values())
_CONTROLLERS = frozenset(
    [
        "cpu",
        "cpuacct",
        "cpuset",
        "io",
        "blkio",
        "memory",
        "devices",
        "pids",
        "bpf-firewall",
        "bpf-devices",
        "bpf-foreign",
        "bpf-socket-bind",
        "bpf-restrict-network-interfaces",
    ]
)
_NS_ALL = frozenset(NAMESPACES)


@dataclass(frozen=True, slots=True)
class Dropin:
    """One file of the stack: its file name (which orders drop-ins) and its parsed content."""

    name: str
    unit: UnitFile


@dataclass(frozen=True, slots=True)
class Contribution:
    """An assignment that is part of a setting's effective value."""

    value: str
    file: str
    line: int = 0


@dataclass(frozen=True, slots=True)
class Setting:
    """A directive's effective value and the assignments that make it up, in order."""

    section: str
    name: str
    value: str
    contributions: tuple[Contribution, ...]
    directive: Directive | None = field(default=None, compare=False)

    @property
    def file(self) -> str:
        """The file of the last assignment that shaped the value."""
        return self.contributions[-1].file if self.contributions else ""

    @property
    def files(self) -> tuple[str, ...]:
        """Every file that contributes, each once, in order."""
        return tuple(dict.fromkeys(c.file for c in self.contributions))


@dataclass(frozen=True, slots=True)
class EffectiveUnit:
    """The merged unit, as ``systemd`` loads it. ``fatal`` holds the warning of a setting that
    stops the unit loading."""

    name: str
    layers: tuple[Dropin, ...]
    settings: tuple[Setting, ...]
    systemd: Systemd
    warnings: tuple[ParseWarning, ...] = ()
    fatal: ParseWarning | None = None

    def get(self, name: str, section: str | None = None) -> Setting | None:
        """The setting ``name`` (of ``section``; by default the first section that has it)."""
        for s in self.settings:
            if s.name == name and (section is None or s.section == section):
                return s
        return None

    def value(
        self, name: str, section: str | None = None, default: str | None = None
    ) -> str | None:
        """The effective value of ``name``, ``default`` when it is not set."""
        s = self.get(name, section)
        return s.value if s is not None else default

    def values(self, name: str, section: str | None = None) -> tuple[str, ...]:
        """The assigned values that make up ``name`` (a list setting's items), in order."""
        s = self.get(name, section)
        return tuple(c.value for c in s.contributions) if s is not None else ()

    def rows(self) -> Iterator[tuple[str, str, str, str]]:
        """``(section, directive, value, file)``, one row per contributing assignment."""
        for s in self.settings:
            for c in s.contributions:
                yield s.section, s.name, c.value, c.file

    def to_unit_file(self) -> UnitFile:
        """The canonical single file: every contributing assignment, grouped by section."""
        sections: dict[str, list[Assignment]] = {}
        for s in self.settings:
            sections.setdefault(s.section, []).extend(
                Assignment(s.name, c.value) for c in s.contributions
            )
        return UnitFile(tuple(Section(n, tuple(a)) for n, a in sections.items()), origin=self.name)

    def __str__(self) -> str:
        return str(self.to_unit_file())


def effective_unit(
    name: str,
    unit: UnitFile,
    dropins: Mapping[str, UnitFile] | Iterable[Dropin] = (),
    *,
    systemd: Systemd = Systemd(),
) -> EffectiveUnit:
    """Merge ``unit`` (named ``name``, e.g. ``foo.service``) with its drop-ins as ``systemd``
    does.

    Drop-ins apply in lexicographic (bytewise) order of their names; when two have the same name
    the first one given wins, as the one from the higher-priority directory does in systemd.
    """
    layers = [Dropin(name, unit)]
    given = [Dropin(k, v) for k, v in dropins.items()] if isinstance(dropins, Mapping) else dropins
    seen: dict[str, Dropin] = {}
    for layer in given:
        seen.setdefault(layer.name, layer)
    layers += sorted(seen.values(), key=lambda layer: layer.name.encode())
    return _Merger(name, systemd).run(tuple(layers))


class _State:
    """The running value of one directive while the layers are applied."""

    __slots__ = ("contributions", "data", "directive", "name", "section")

    def __init__(self, section: str, name: str, directive: Directive | None) -> None:
        self.section = section
        self.name = name
        self.directive = directive
        self.contributions: list[Contribution] = []
        self.data: object = None


class _Merger:
    def __init__(self, name: str, systemd: Systemd) -> None:
        self.name = name
        self.systemd = systemd
        self.unit_type = name.rsplit(".", 1)[-1] if "." in name else ""
        self.states: dict[tuple[str, str], _State] = {}
        self.warnings: list[ParseWarning] = []
        self.fatal: ParseWarning | None = None
        self.origin = ""

    def warn(self, line: int, message: str) -> ParseWarning:
        w = ParseWarning(self.origin, line, message)
        self.warnings.append(w)
        return w

    def run(self, layers: tuple[Dropin, ...]) -> EffectiveUnit:
        known_sections = SECTIONS.get(self.unit_type)
        for layer in layers:
            self.origin = layer.unit.origin
            self.warnings.extend(layer.unit.warnings)
            for section in layer.unit.sections:
                if known_sections is not None and section.name not in known_sections:
                    if not section.name.startswith("X-"):
                        self.warn(section.line, f"Unknown section '{section.name}'. Ignoring.")
                    continue
                for a in section.assignments:
                    self.assign(layer.name, section.name, a)
        # grouped by section (in order of first appearance), then in order of first assignment
        sections = list(dict.fromkeys(st.section for st in self.states.values()))
        settings = [
            Setting(st.section, st.name, self.render(st), tuple(st.contributions), st.directive)
            for section in sections
            for st in self.states.values()
            if st.section == section and st.contributions
        ]
        return EffectiveUnit(
            self.name,
            layers,
            tuple(settings),
            self.systemd,
            tuple(self.warnings),
            self.fatal,
        )

    # -- one assignment -----------------------------------------------------------------------

    def assign(self, file: str, section: str, a: Assignment) -> None:
        if a.key.startswith("X-"):
            return
        d = lookup(section, a.key)
        if d is not None and not d.known_in(self.systemd):
            self.warn(a.line, f"Unknown key '{a.key}' in section [{section}], ignoring.")
            return
        st = self.states.get((section, a.key))
        if st is None:
            st = self.states[(section, a.key)] = _State(section, a.key, d)
        c = Contribution(a.value, file, a.line)
        kind = d.kind if d is not None else None
        handler = _HANDLERS.get(kind) if kind is not None else None
        if handler is not None:
            handler(self, st, c)
        elif d is not None and not d.multiple:
            self.single(st, c)
        else:
            self.listing(st, c)

    def invalid(self, st: _State, c: Contribution, err: InvalidValue) -> None:
        w = self.warn(c.line, err.message)
        if err.fatal and self.fatal is None:
            self.fatal = w

    def single(self, st: _State, c: Contribution) -> None:
        assert st.directive is not None
        if c.value == "":
            st.contributions = []
            return
        try:
            value = st.directive.parse(c.value, self.systemd)
        except InvalidValue as err:
            self.invalid(st, c, err)
            return
        st.contributions = [Contribution(value, c.file, c.line)] if value else []
        if st.name == "User" and value == "nobody":
            self.warn(c.line, "Special user nobody configured, this is not safe!")

    def listing(self, st: _State, c: Contribution) -> None:
        resets = st.directive.resets if st.directive is not None else True
        if c.value == "":
            if resets:
                st.contributions = []
            return
        st.contributions.append(c)

    def capabilities(self, st: _State, c: Contribution) -> None:
        initial = ALL_CAPABILITIES if st.name == "CapabilityBoundingSet" else 0
        mask = initial if st.data is None else st.data
        assert isinstance(mask, int)
        invert = c.value.startswith("~")
        bits = capability_mask(c.value[1:] if invert else c.value)
        if bits == 0 or mask == initial:
            st.data = (~bits & ALL_CAPABILITIES) if invert else bits
            st.contributions = [c]
        else:
            st.data = (mask & ~bits) if invert else (mask | bits)
            st.contributions.append(c)

    def address_families(self, st: _State, c: Contribution) -> None:
        # data: (allow_list, families or None)
        if c.value == "":
            st.data, st.contributions = None, []
            return
        if c.value == "none":
            st.data, st.contributions = (True, None), [c]
            return
        invert = c.value.startswith("~")
        allow, fams = st.data if isinstance(st.data, tuple) else (False, None)
        if fams is None:
            allow, fams, st.contributions = not invert, [], []
        families = list(fams)
        for word in (c.value[1:] if invert else c.value).split():
            if word not in ADDRESS_FAMILIES:
                shown = c.value if self.systemd.address_family_warning_shows_assignment else word
                self.warn(c.line, f"Failed to parse address family, ignoring: {shown}")
                continue
            if (not invert) == allow:
                if word not in families:
                    families.append(word)
            else:
                families = [f for f in families if ADDRESS_FAMILIES[f] != ADDRESS_FAMILIES[word]]
        st.data = (allow, families)
        st.contributions.append(c)

    def namespaces(self, st: _State, c: Contribution) -> None:
        # data: frozenset of namespace types that may be created, None while unset
        if c.value == "":
            st.data, st.contributions = None, []
            return
        b = parse_boolean(c.value)
        if b is not None:
            st.data, st.contributions = (frozenset() if b else _NS_ALL), [c]
            return
        invert = c.value.startswith("~")
        words = (c.value[1:] if invert else c.value).split()
        if not words or any(w not in _NS_ALL for w in words):
            shown = c.value[1:] if invert else c.value
            self.warn(c.line, f"Failed to parse namespace type string, ignoring: {shown}")
            return
        flags = frozenset(words)
        if st.data is None:
            st.data, st.contributions = (_NS_ALL - flags if invert else flags), [c]
        else:
            assert isinstance(st.data, frozenset)
            st.data = st.data - flags if invert else st.data | flags
            st.contributions.append(c)

    def syscalls(self, st: _State, c: Contribution) -> None:
        # symbolic: the items are expanded by portablekit.security.score, which knows the groups
        if c.value == "":
            st.contributions = []
            return
        st.contributions.append(c)

    def architectures(self, st: _State, c: Contribution) -> None:
        if c.value == "":
            st.contributions = []
            return
        kept = []
        for word in c.value.split():
            if word in ARCHITECTURES:
                kept.append(word)
            else:
                self.warn(
                    c.line,
                    f'Failed to parse system call architecture "{word}", ignoring: '
                    "Invalid argument",
                )
        if kept:
            st.contributions.append(Contribution(" ".join(kept), c.file, c.line))

    def ip(self, st: _State, c: Contribution) -> None:
        if c.value == "":
            st.contributions = []
            return
        kept = []
        for word in c.value.split():
            if ip_prefixes(word) is None:
                if self.systemd.ip_prefix_warning_names_setting:
                    msg = (
                        f"Invalid address prefix is specified in [{st.section}] {st.name}=, "
                        f"ignoring assignment: {word}"
                    )
                else:
                    msg = f"Address prefix is invalid, ignoring assignment: {word}"
                self.warn(c.line, msg)
                break
            kept.append(word)
        if kept:
            st.contributions.append(Contribution(" ".join(kept), c.file, c.line))

    def device(self, st: _State, c: Contribution) -> None:
        if c.value == "":
            st.contributions = []
            return
        rights = c.value.partition(" ")[2]
        rights = rights.strip()
        if rights and (set(rights) - set("rwm")):
            self.warn(c.line, f"Invalid device rights '{rights}', ignoring.")
            return
        st.contributions.append(c)

    def delegate(self, st: _State, c: Contribution) -> None:
        if c.value == "":
            st.contributions = []
            return
        if parse_boolean(c.value) is None:
            for word in c.value.split():
                if word not in _CONTROLLERS:
                    self.warn(c.line, f"Invalid controller name '{word}', ignoring")
        st.contributions = [c]

    # -- values -------------------------------------------------------------------------------

    def render(self, st: _State) -> str:
        d = st.directive
        if d is None:
            return st.contributions[-1].value
        if d.kind is Kind.CAPABILITIES:
            assert isinstance(st.data, int)
            return format_capabilities(st.data)
        if d.kind is Kind.ADDRESS_FAMILIES:
            assert isinstance(st.data, tuple)
            allow, fams = st.data
            if fams is None:
                return "none"
            return ("" if allow else "~") + " ".join(fams)
        if d.kind is Kind.NAMESPACES:
            assert isinstance(st.data, frozenset)
            if not st.data:
                return "yes"
            if st.data == _NS_ALL:
                return "no"
            if len(st.data) > len(_NS_ALL) // 2:
                return "~" + " ".join(n for n in NAMESPACES if n not in st.data)
            return " ".join(n for n in NAMESPACES if n in st.data)
        if d.kind is Kind.ARCHITECTURES:
            archs = dict.fromkeys(w for c in st.contributions for w in c.value.split())
            return " ".join(archs)
        if d.multiple:
            return " ".join(c.value for c in st.contributions)
        return st.contributions[-1].value


_HANDLERS = {
    Kind.CAPABILITIES: _Merger.capabilities,
    Kind.ADDRESS_FAMILIES: _Merger.address_families,
    Kind.NAMESPACES: _Merger.namespaces,
    Kind.SYSCALLS: _Merger.syscalls,
    Kind.ARCHITECTURES: _Merger.architectures,
    Kind.IP_PREFIXES: _Merger.ip,
    Kind.DEVICE: _Merger.device,
    Kind.DELEGATE: _Merger.delegate,
}


def format_capabilities(mask: int) -> str:
    """Capability names of ``mask`` in bit order; a mostly-full set as ``~`` and what is missing.

    >>> format_capabilities(ALL_CAPABILITIES & ~(1 << 21))
    '~CAP_SYS_ADMIN'
    """
    known = mask & _KNOWN_CAPS
    names = [n for n, b in CAPABILITIES.items() if known >> b & 1]
    if len(names) > len(CAPABILITIES) // 2:
        return "~" + " ".join(n for n, b in CAPABILITIES.items() if not known >> b & 1)
    return " ".join(names)


_SPECIAL_PREFIXES = {
    "any": ("0.0.0.0/0", "::/0"),
    "localhost": ("127.0.0.0/8", "::1/128"),
    "link-local": ("169.254.0.0/16", "fe80::/64"),
    "multicast": ("224.0.0.0/4", "ff00::/8"),
}


def ip_prefixes(word: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None:
    """The networks one ``IPAddressAllow=``/``IPAddressDeny=`` word stands for, ``None`` when
    systemd would reject it. Host bits are kept as written (systemd masks them; the security
    check only looks at the address family, the prefix length and whether it is localhost)."""
    words = _SPECIAL_PREFIXES.get(word, (word,))
    out = []
    for w in words:
        try:
            out.append(ipaddress.ip_network(w, strict=False))
        except ValueError:
            return None
    return tuple(out)

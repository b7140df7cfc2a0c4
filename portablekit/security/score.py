"""The security exposure of a unit, computed as ``systemd-analyze security --offline=true`` does.

For a unit as it would run after attach (the unit file, the profile drop-in ``10-profile.conf``
and the ``20-portable.conf`` drop-in of the version, plus any local drop-ins), :func:`assess`
evaluates every check systemd 252, 257 and 262 make: 81 rows with a weight and a range each, the
not-applicable rules (``DefaultDependencies=no``; supplementary groups and ``RemoveIPC=`` of root
services), the settings the unit loader implies (``DynamicUser=`` implies ``PrivateTmp=``,
``RemoveIPC=``, ``ProtectSystem=strict``, ``ProtectHome=read-only``, ``NoNewPrivileges=``,
``RestrictSUIDSGID=``; ``PrivateDevices=`` closes the device policy and drops ``CAP_MKNOD`` and
``CAP_SYS_RAWIO``; ``RootImage=`` adds loop and device-mapper ``DeviceAllow=`` entries when a device
policy is in force, ``ProtectClock=`` adds ``char-rtc``; ...) and the overall exposure 0.0–10.0 with
its level word. Versions differ in one offline rule: from 257 on ``PrivateMounts=`` counts as set
unless it is explicitly ``no`` (``Systemd.private_mounts_unset_counts_as_set``).

The report renders systemd-analyze's output byte for byte: the table (rows ordered the way its
table sort orders them) with the closing line ``→ Overall exposure level for foo.service: 3.1 OK
🙂``, and the ``--json=short`` list. The recordings under ``tests/golden/security`` are the
reference. The check table and each check's rule are :mod:`portablekit.security.checks`, the
vocabularies (capabilities, address families, system call groups)
:mod:`portablekit.security.vocabulary`, the stack of drop-ins an attached unit runs with
:mod:`portablekit.security.attached`.

>>> from portablekit.versions import Systemd
>>> report = security_report(UnitFile.parse("[Service]\\nExecStart=/bin/true\\n"), "app.service",
...                          profile="strict", image="directory", systemd=Systemd(257))
>>> report.closing_line()
'→ Overall exposure level for app.service: 0.8 SAFE 😀'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

from ..errors import PortableKitError, UnitFileError
from ..portabled.dissect import MAX_UNIT_FILE
from ..portabled.profiles import load_profile
from ..source import read_regular_file
from ..unitfile import UnitFile
from ..versions import Systemd
from .attached import RootKind, attached_unit, unit_file_dropin
from .checks import CHECKS, CheckResult, SecurityInfo, assess_check
from .effective import ALL_CAPABILITIES, Dropin, EffectiveUnit, ip_prefixes
from .vocabulary import ADDRESS_FAMILIES, capability_mask, syscall_groups

__all__ = [
    "Level",
    "SecurityReport",
    "assess",
    "security_info",
    "security_report",
    "system_call_filter",
    "unit_id",
]


class Level(StrEnum):
    """The exposure levels of systemd-analyze, from the worst."""

    DANGEROUS = "DANGEROUS"
    UNSAFE = "UNSAFE"
    EXPOSED = "EXPOSED"
    MEDIUM = "MEDIUM"
    OK = "OK"
    SAFE = "SAFE"
    PERFECT = "PERFECT"

    @classmethod
    def of(cls, exposure: int) -> Level:
        """The level of an exposure in tenths (0–100)."""
        for level, threshold in zip(cls, (100, 90, 75, 50, 10, 1, 0), strict=True):
            if exposure >= threshold:
                return level
        return cls.PERFECT

    def smiley(self, emoji: bool = True) -> str:
        """The face systemd prints after the level (ASCII when emoji are off, e.g. TERM=dumb)."""
        i = list(Level).index(self)
        return (
            ("🤢", "😨", "🙁", "😐", "🙂", "😀", "😇")[i]
            if emoji
            else (":-[", ":-{", ":-(", ":-|", ":-)", ":-}", ":-]")[i]
        )


# -- the loaded unit, as the checks see it -------------------------------------------------------


def unit_id(unit_name: str, systemd: Systemd) -> str:
    """The name systemd-analyze loads and prints: templates get an instance (252: ``i``,
    :attr:`~portablekit.versions.Systemd.template_test_instance`: ``test_instance``)."""
    prefix, at, rest = unit_name.partition("@")
    if at and rest.startswith("."):
        instance = "test_instance" if systemd.template_test_instance else "i"
        return f"{prefix}@{instance}{rest}"
    return unit_name


def _specifiers(value: str, unit: str) -> str:
    """Expand the unit-name specifiers (``%i %I %n %N %p %P %j %J %%``) of ``value``."""
    name, _, _suffix = unit.rpartition(".")
    prefix, _, instance = name.partition("@")
    table = {"i": instance, "I": instance, "n": unit, "N": name, "p": prefix, "P": prefix,
             "j": prefix.rsplit("-", 1)[-1], "J": prefix.rsplit("-", 1)[-1], "%": "%"}  # fmt: skip
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "%" and i + 1 < len(value):
            out.append(table.get(value[i + 1], value[i : i + 2]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _yes(eff: EffectiveUnit, name: str) -> bool:
    return eff.value(name, "Service", "no") not in ("no", "")


def _family_bucket(name: str) -> str:
    number = ADDRESS_FAMILIES[name]
    return {2: "AF_INET_INET6", 10: "AF_INET_INET6", 1: "AF_UNIX", 16: "AF_NETLINK",
            17: "AF_PACKET"}.get(number, "OTHER")  # fmt: skip


def security_info(eff: EffectiveUnit, unit: str | None = None) -> SecurityInfo:
    """What systemd-analyze reads from the loaded unit ``eff`` (implications applied).

    ``unit`` is the loaded unit's name (default: :func:`unit_id` of ``eff.name``); it feeds the
    ``%i``-style specifiers.
    """
    if eff.fatal is not None:
        w = eff.fatal
        raise UnitFileError(w.message, origin=w.origin, line=w.line)
    uid = unit or unit_id(eff.name, eff.systemd)

    def value(name: str, default: str = "") -> str:
        return eff.value(name, "Service", default) or default

    user = eff.value("User", "Service")
    user = _specifiers(user, uid) if user is not None else None
    dynamic = _yes(eff, "DynamicUser")
    caps = _replay_capabilities(eff, "CapabilityBoundingSet", ALL_CAPABILITIES)
    ambient = _replay_capabilities(eff, "AmbientCapabilities", 0)
    private_devices = _yes(eff, "PrivateDevices")
    protect_modules = _yes(eff, "ProtectKernelModules")
    protect_logs = _yes(eff, "ProtectKernelLogs")
    protect_clock = _yes(eff, "ProtectClock")
    protect_home = value("ProtectHome", "no")
    protect_system = value("ProtectSystem", "no")
    private_tmp = _yes(eff, "PrivateTmp")
    remove_ipc = _yes(eff, "RemoveIPC")
    nnp = _yes(eff, "NoNewPrivileges")
    suid = _yes(eff, "RestrictSUIDSGID")
    if dynamic:
        # the unit loader enforces a strict sandbox around transient users
        if not user:
            user = uid.split("@")[0].rsplit(".", 1)[0]
        private_tmp = remove_ipc = nnp = suid = True
        protect_system = "strict"
        if protect_home == "no":
            protect_home = "read-only"
    if private_devices:
        caps &= ~capability_mask("CAP_MKNOD CAP_SYS_RAWIO")
    if protect_modules:
        caps &= ~capability_mask("CAP_SYS_MODULE")
    if protect_logs:
        caps &= ~capability_mask("CAP_SYSLOG")
    if protect_clock:
        caps &= ~capability_mask("CAP_SYS_TIME CAP_WAKE_ALARM")

    mounts = eff.value("PrivateMounts", "Service")
    private_mounts = mounts == "yes" or (
        eff.systemd.private_mounts_unset_counts_as_set and mounts is None
    )

    root_directory = eff.value("RootDirectory", "Service")
    root_image = eff.value("RootImage", "Service")
    policy = value("DevicePolicy", "auto")
    if private_devices and policy == "auto":
        policy = "closed"
    devices = [_device_entry(_specifiers(d, uid)) for d in eff.values("DeviceAllow", "Service")]
    devices.reverse()  # systemd prepends each entry
    if policy != "auto" or devices:
        implicit = []
        if root_image:
            implicit += ["/dev/loop-control:rw", "/dev/mapper/control:rw", "block-loop:rwm",
                         "block-blkext:rwm", "block-device-mapper:rwm"]  # fmt: skip
        if protect_clock:
            implicit.append("char-rtc:r")
        devices = implicit[::-1] + devices

    restricted_families = _families(eff)
    namespaces = _namespaces(eff)
    allow_list, filtered = system_call_filter(eff)
    deny = [n for v in eff.values("IPAddressDeny", "Service") for n in _networks(v)]
    allow = [n for v in eff.values("IPAddressAllow", "Service") for n in _networks(v)]
    return SecurityInfo(
        id=uid,
        systemd=eff.systemd,
        default_dependencies=eff.value("DefaultDependencies", "Unit", "yes") != "no",
        user=user,
        dynamic_user=dynamic,
        supplementary_groups=tuple(
            g for w in eff.values("SupplementaryGroups", "Service") for g in w.split()
        ),
        capability_bounding_set=caps,
        ambient_capabilities=ambient,
        private_devices=private_devices,
        private_mounts=private_mounts,
        private_network=_yes(eff, "PrivateNetwork"),
        private_tmp=private_tmp,
        private_users=_yes(eff, "PrivateUsers"),
        protect_control_groups=_yes(eff, "ProtectControlGroups"),
        protect_kernel_modules=protect_modules,
        protect_kernel_tunables=_yes(eff, "ProtectKernelTunables"),
        protect_kernel_logs=protect_logs,
        protect_clock=protect_clock,
        protect_hostname=_yes(eff, "ProtectHostname"),
        protect_home=protect_home,
        protect_system=protect_system,
        root_directory=_specifiers(root_directory, uid) if root_directory else None,
        root_image=_specifiers(root_image, uid) if root_image else None,
        lock_personality=_yes(eff, "LockPersonality"),
        memory_deny_write_execute=_yes(eff, "MemoryDenyWriteExecute"),
        no_new_privileges=nnp,
        umask=int(value("UMask", "0022"), 8),
        keyring_mode=value("KeyringMode", "private"),
        protect_proc=value("ProtectProc", "default"),
        proc_subset=value("ProcSubset", "all"),
        notify_access=value("NotifyAccess", "none"),
        remove_ipc=remove_ipc,
        delegate=value("Delegate", "no") != "no" and value("Delegate") not in _FALSE_WORDS,
        restrict_realtime=_yes(eff, "RestrictRealtime"),
        restrict_suid_sgid=suid,
        restricted_namespaces=namespaces,
        restricted_families=restricted_families,
        system_call_architectures=frozenset(value("SystemCallArchitectures").split()),
        system_call_filter_allow_list=allow_list,
        system_call_filter=filtered,
        ip_address_deny_all=any(n.version == 4 and n.prefixlen == 0 for n in deny)
        and any(n.version == 6 and n.prefixlen == 0 for n in deny),
        ip_address_allow_localhost=any(_is_localhost(n) for n in allow),
        ip_address_allow_other=any(not _is_localhost(n) for n in allow),
        ip_filters_custom=bool(
            eff.values("IPIngressFilterPath", "Service")
            or eff.values("IPEgressFilterPath", "Service")
        ),
        device_policy=policy,
        device_allow=tuple(devices),
    )


_FALSE_WORDS = frozenset({"0", "no", "n", "false", "f", "off"})


def _replay_capabilities(eff: EffectiveUnit, name: str, initial: int) -> int:
    mask = initial
    for value in eff.values(name, "Service"):
        invert = value.startswith("~")
        bits = capability_mask(value[1:] if invert else value)
        if bits == 0 or mask == initial:
            mask = (~bits & ALL_CAPABILITIES) if invert else bits
        else:
            mask = (mask & ~bits) if invert else (mask | bits)
    return mask


def _device_entry(value: str) -> str:
    path, _, rights = value.partition(" ")
    rights = rights.strip() or "rwm"
    return f"{path}:{''.join(c for c in 'rwm' if c in rights)}"


def _families(eff: EffectiveUnit) -> frozenset[str]:
    """The check buckets whose address families the unit cannot use."""
    value = eff.value("RestrictAddressFamilies", "Service")
    buckets = ("AF_INET_INET6", "AF_UNIX", "AF_NETLINK", "AF_PACKET", "OTHER")
    if value is None:
        return frozenset()
    if value == "none":
        return frozenset(buckets)
    allow = not value.startswith("~")
    named = {_family_bucket(f) for f in value.lstrip("~").split()}
    return frozenset(b for b in buckets if (b in named) != allow)


def _namespaces(eff: EffectiveUnit) -> frozenset[str]:
    """The namespace types the unit cannot create."""
    value = eff.value("RestrictNamespaces", "Service")
    every = frozenset(("user", "mnt", "ipc", "pid", "cgroup", "net", "uts", "time"))
    if value is None or value == "no":
        return frozenset()
    if value == "yes":
        return every
    if value.startswith("~"):
        return frozenset(value[1:].split())
    return every - frozenset(value.split())


def system_call_filter(eff: EffectiveUnit) -> tuple[bool, tuple[str, ...]]:
    """``SystemCallFilter=`` of ``eff`` as systemd builds it: ``(allow list?, names)``.

    The first assignment after a reset decides the mode (an allow list starts with
    ``@default``); later items of the other polarity remove entries, ``~name:errno`` in an allow
    list keeps the entry but it is no longer allowed. Groups are expanded with the table of
    ``eff.systemd``. With an allow list the names are the allowed calls, otherwise the denied ones.
    """
    groups = syscall_groups(eff.systemd)
    allow: bool | None = None
    entries: dict[str, int] = {}

    def expand(name: str) -> list[str]:
        if not name.startswith("@"):
            return [name]
        return [s for m in groups.get(name, ()) for s in expand(m)]

    for value in eff.values("SystemCallFilter", "Service"):
        invert = value.startswith("~")
        if allow is None:
            allow = not invert
            entries = dict.fromkeys(expand("@default"), -1) if allow else {}
        for word in (value[1:] if invert else value).split():
            name, _, errno = word.partition(":")
            err = 1 if errno else -1
            for syscall in expand(name):
                if invert != allow:
                    entries[syscall] = err
                elif allow and err >= 0:
                    entries[syscall] = err  # denied with an errno: kept, but not allowed
                else:
                    entries.pop(syscall, None)
    if allow is None:
        return False, ()
    if allow:
        return True, tuple(n for n, e in entries.items() if e < 0)
    return False, tuple(entries)


def _networks(value: str) -> list[IPv4Network | IPv6Network]:
    return [n for word in value.split() for n in ip_prefixes(word) or ()]


def _is_localhost(network: IPv4Network | IPv6Network) -> bool:
    address = network.network_address
    if address.version == 4:
        return int(address) >> 24 == 127
    return int(address) == 1


# -- assessing -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SecurityReport:
    """The assessment of one unit: every check in systemd's table order, and the total.

    ``exposure`` is in tenths (0–100), as systemd computes it: ``ceil(100 · Σ ceil(b·w/r) / Σ w)``
    over the applicable checks.
    """

    unit: str
    systemd: Systemd
    results: tuple[CheckResult, ...]
    exposure: int
    info: SecurityInfo = field(compare=False, repr=False)

    @property
    def score(self) -> float:
        """The exposure as systemd prints it (``3.1``)."""
        return self.exposure / 10

    @property
    def level(self) -> Level:
        return Level.of(self.exposure)

    def result(self, json_field: str) -> CheckResult:
        """The result of the check with this ``json_field``."""
        for r in self.results:
            if r.json_field == json_field:
                return r
        raise KeyError(json_field)

    def sorted_results(self) -> tuple[CheckResult, ...]:
        """The rows in the order systemd-analyze prints them (see :func:`_display_order`)."""
        return tuple(self.results[i] for i in _display_order(self.results, self.systemd))

    def closing_line(self, *, emoji: bool = True) -> str:
        """``→ Overall exposure level for UNIT: 3.1 OK 🙂`` (without the newline)."""
        e = self.exposure
        return (
            f"→ Overall exposure level for {self.unit}: {e // 10}.{e % 10} "
            f"{self.level} {self.level.smiley(emoji)}"
        )

    def json_rows(self) -> list[dict[str, object]]:
        """The objects of ``--json=short``, in its order."""
        return [
            {
                "set": r.passed,
                "name": r.name,
                "json_field": r.json_field,
                "description": r.description,
                "exposure": r.exposure_text,
            }
            for r in self.sorted_results()
        ]

    def to_json(self) -> str:
        """What ``systemd-analyze security --json=short`` prints (with its newline)."""
        return json.dumps(self.json_rows(), ensure_ascii=False, separators=(",", ":")) + "\n"

    def table(self, *, emoji: bool = True) -> str:
        """What ``systemd-analyze security`` prints: the table, a blank line, the closing line."""
        rows = [
            ("✓" if r.passed else "✗" if r.passed is False else "", r.name, r.description or "",
             r.exposure_text or "")
            for r in self.sorted_results()
        ]  # fmt: skip
        header = (" ", "NAME", "DESCRIPTION", "EXPOSURE")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
        lines = []
        for row in [header, *rows]:
            line = " ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + " "
            if row[3]:
                line += row[3].rjust(widths[3])
            lines.append(line)
        return "\n".join(lines) + "\n\n" + self.closing_line(emoji=emoji) + "\n"


def assess(eff: EffectiveUnit, *, unit: str | None = None) -> SecurityReport:
    """Score the loaded unit ``eff`` as systemd-analyze of ``eff.systemd`` does.

    Raises :class:`~portablekit.errors.UnitFileError` when a setting keeps the unit from loading
    (systemd-analyze then prints ``Unit X has a bad unit file setting.``), and
    :class:`~portablekit.errors.PortableKitError` for a unit that is not a service.
    """
    if not eff.name.endswith(".service"):
        raise PortableKitError(f"Unit {eff.name} is not a service unit, refusing.")
    info = security_info(eff, unit)
    scored = [(c, *assess_check(c, info)) for c in CHECKS]
    badness_sum = weight_sum = 0
    for c, b, _ in scored:
        if b is not None:
            badness_sum += _ceil_div(b * c.weight, c.range)
            weight_sum += c.weight
    results = []
    for c, b, d in scored:
        if d is None and b is not None:
            d = c.good if b == 0 else c.bad if b == c.range else None
        elif d is None:
            d = c.na
        exposure = None
        if b:
            exposure = _ceil_div(_ceil_div(b * c.weight * 100, c.range), weight_sum)
        results.append(CheckResult(c, b, d, exposure))
    exposure = _ceil_div(badness_sum * 100, weight_sum)
    return SecurityReport(info.id, eff.systemd, tuple(results), exposure, info)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _display_order(results: Sequence[CheckResult], systemd: Systemd) -> list[int]:
    """Row order of systemd's table: description descending, then name.

    A row without a description (``ProtectProc=noaccess``) sorts first from 262 on; up to 257 it
    compares by position against the others (descending too). That comparison is not transitive,
    so the sort algorithm decides: systemd sorts the rows, behind the header row, which always
    sorts first, with glibc's ``qsort``, a merge sort, replayed here."""
    header = -1
    empty_first = systemd.security_sorts_empty_description_first
    keys = [
        (r.description.encode() if r.description is not None else None, r.name.encode())
        for r in results
    ]

    def cmp(a: int, b: int) -> int:
        if a == header or b == header:
            return -1 if a == header else 1
        da, db = keys[a][0], keys[b][0]
        if da is None or db is None:
            if empty_first and (da is None) != (db is None):
                return -1 if da is None else 1
            return -1 if a > b else 1
        if da != db:
            return -1 if da > db else 1
        na, nb = keys[a][1], keys[b][1]
        if na != nb:
            return -1 if na < nb else 1
        return (a > b) - (a < b)

    def msort(items: list[int]) -> list[int]:
        if len(items) <= 1:
            return items
        half = len(items) // 2
        left, right = msort(items[:half]), msort(items[half:])
        out: list[int] = []
        i = j = 0
        while i < len(left) and j < len(right):
            if cmp(left[i], right[j]) <= 0:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
        return out + left[i:] + right[j:]

    return [i for i in msort([header, *range(len(results))]) if i != header]


def security_report(
    unit: UnitFile | str | Path,
    name: str | None = None,
    *,
    profile: str | Path | UnitFile | None = None,
    image: RootKind | str = RootKind.NONE,
    image_path: str | None = None,
    systemd: Systemd = Systemd(),
    local: Mapping[str, UnitFile] | Iterable[Dropin] = (),
    profile_as: str = "dropin",
) -> SecurityReport:
    """Score ``unit`` as it runs after attach with ``profile`` on ``systemd``.

    ``unit`` is parsed content, unit-file text, or a path to a unit file; ``name`` defaults to
    the path's file name. ``image`` adds the ``20-portable.conf`` of a directory or raw image at
    ``image_path`` (default :func:`~portablekit.security.attached.default_image_path`). With
    ``profile_as="option"``
    the profile is placed as ``systemd-analyze --profile`` places it.
    """
    if isinstance(unit, Path):
        name = name or unit.name
        unit = UnitFile.parse(read_regular_file(unit, limit=MAX_UNIT_FILE), origin=str(unit))
    elif isinstance(unit, str):
        unit = UnitFile.parse(unit, origin=name or "<string>")
    if not name:
        raise ValueError("a unit name is needed (e.g. foo.service)")
    portable = unit_file_dropin(systemd, name, image, image_path)
    prof = load_profile(profile, systemd)[1] if profile is not None else None
    eff = attached_unit(
        unit,
        name,
        systemd=systemd,
        profile=prof,
        portable=portable,
        local=local,
        profile_dropin="profile.conf" if profile_as == "option" else "10-profile.conf",
    )
    return assess(eff)

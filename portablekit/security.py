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
unless it is explicitly ``no``.

The report renders systemd-analyze's output byte for byte: the table (rows ordered the way its
table sort orders them) with the closing line ``→ Overall exposure level for foo.service: 3.1 OK
🙂``, and the ``--json=short`` list. The recordings under ``tests/golden/security`` are the
reference; :mod:`portablekit.directives` holds the vocabularies (capabilities, address families,
system call groups).

>>> report = security_report(UnitFile.parse("[Service]\\nExecStart=/bin/true\\n"), "app.service",
...                          profile="strict", image="directory", version=257)
>>> report.closing_line()
'→ Overall exposure level for app.service: 0.8 SAFE 😀'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

from .directives import (
    ADDRESS_FAMILIES,
    DIRECTIVES,
    capability_mask,
    syscall_groups,
    syscall_not_native,
)
from .effective import (
    ALL_CAPABILITIES,
    BUILTIN_PROFILES,
    EffectiveUnit,
    Layer,
    RootKind,
    attached_unit,
    builtin_profile,
    ip_prefixes,
    load_profile,
    portable_dropin,
    portable_dropin_text,
)
from .errors import PortableKitError, UnitFileError
from .unitfile import UnitFile

__all__ = [
    "BUILTIN_PROFILES",
    "CHECKS",
    "Check",
    "CheckResult",
    "Level",
    "RootKind",
    "SecurityInfo",
    "SecurityReport",
    "assess",
    "attached_unit",
    "builtin_profile",
    "directive_weights",
    "load_profile",
    "portable_dropin",
    "portable_dropin_text",
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


# -- the checks ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """One row of systemd-analyze security: name, JSON field, weight, range and descriptions.

    ``test`` says how it is assessed (a :class:`SecurityInfo` attribute for plain booleans, or a
    rule name); ``param`` is the capability mask, namespace type or syscall group it looks at.
    """

    name: str
    json_field: str
    weight: int
    range: int
    test: str
    good: str | None = None
    bad: str | None = None
    na: str | None = None
    param: int | str = 0
    default_dependencies_only: bool = False


def _c(names: str) -> int:
    return capability_mask(names)


_CAPS = (  # json suffix, shown name, capabilities, weight, good, bad
    ("SYS_ADMIN", "CAP_SYS_ADMIN", "CAP_SYS_ADMIN", 1500,
     "Service has no administrator privileges", "Service has administrator privileges"),
    ("SET_UID_GID_PCAP", "CAP_SET(UID|GID|PCAP)", "CAP_SETUID CAP_SETGID CAP_SETPCAP", 1500,
     "Service cannot change UID/GID identities/capabilities",
     "Service may change UID/GID identities/capabilities"),
    ("SYS_PTRACE", "CAP_SYS_PTRACE", "CAP_SYS_PTRACE", 1500,
     "Service has no ptrace() debugging abilities", "Service has ptrace() debugging abilities"),
    ("SYS_TIME", "CAP_SYS_TIME", "CAP_SYS_TIME", 1000,
     "Service processes cannot change the system clock",
     "Service processes may change the system clock"),
    ("NET_ADMIN", "CAP_NET_ADMIN", "CAP_NET_ADMIN", 1000,
     "Service has no network configuration privileges",
     "Service has network configuration privileges"),
    ("SYS_RAWIO", "CAP_SYS_RAWIO", "CAP_SYS_RAWIO", 1000,
     "Service has no raw I/O access", "Service has raw I/O access"),
    ("SYS_MODULE", "CAP_SYS_MODULE", "CAP_SYS_MODULE", 1000,
     "Service cannot load kernel modules", "Service may load kernel modules"),
    ("AUDIT", "CAP_AUDIT_*", "CAP_AUDIT_CONTROL CAP_AUDIT_READ CAP_AUDIT_WRITE", 500,
     "Service has no audit subsystem access", "Service has audit subsystem access"),
    ("SYSLOG", "CAP_SYSLOG", "CAP_SYSLOG", 500,
     "Service has no access to kernel logging", "Service has access to kernel logging"),
    ("SYS_NICE_RESOURCE", "CAP_SYS_(NICE|RESOURCE)", "CAP_SYS_NICE CAP_SYS_RESOURCE", 500,
     "Service has no privileges to change resource use parameters",
     "Service has privileges to change resource use parameters"),
    ("MKNOD", "CAP_MKNOD", "CAP_MKNOD", 500,
     "Service cannot create device nodes", "Service may create device nodes"),
    ("CHOWN_FSETID_SETFCAP", "CAP_(CHOWN|FSETID|SETFCAP)", "CAP_CHOWN CAP_FSETID CAP_SETFCAP", 1000,
     "Service cannot change file ownership/access mode/capabilities",
     "Service may change file ownership/access mode/capabilities unrestricted"),
    ("DAC_FOWNER_IPC_OWNER", "CAP_(DAC_*|FOWNER|IPC_OWNER)",
     "CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_IPC_OWNER", 1000,
     "Service cannot override UNIX file/IPC permission checks",
     "Service may override UNIX file/IPC permission checks"),
    ("KILL", "CAP_KILL", "CAP_KILL", 500,
     "Service cannot send UNIX signals to arbitrary processes",
     "Service may send UNIX signals to arbitrary processes"),
    # the JSON field really ends in ")" in every version
    ("NET_BIND_SERVICE_BROADCAST_RAW)", "CAP_NET_(BIND_SERVICE|BROADCAST|RAW)",
     "CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_RAW", 500,
     "Service has no elevated networking privileges", "Service has elevated networking privileges"),
    ("SYS_BOOT", "CAP_SYS_BOOT", "CAP_SYS_BOOT", 100,
     "Service cannot issue reboot()", "Service may issue reboot()"),
    ("MAC", "CAP_MAC_*", "CAP_MAC_ADMIN CAP_MAC_OVERRIDE", 100,
     "Service cannot adjust SMACK MAC", "Service may adjust SMACK MAC"),
    ("LINUX_IMMUTABLE", "CAP_LINUX_IMMUTABLE", "CAP_LINUX_IMMUTABLE", 75,
     "Service cannot mark files immutable", "Service may mark files immutable"),
    ("IPC_LOCK", "CAP_IPC_LOCK", "CAP_IPC_LOCK", 50,
     "Service cannot lock memory into RAM", "Service may lock memory into RAM"),
    ("SYS_CHROOT", "CAP_SYS_CHROOT", "CAP_SYS_CHROOT", 50,
     "Service cannot issue chroot()", "Service may issue chroot()"),
    ("BLOCK_SUSPEND", "CAP_BLOCK_SUSPEND", "CAP_BLOCK_SUSPEND", 25,
     "Service cannot establish wake locks", "Service may establish wake locks"),
    ("WAKE_ALARM", "CAP_WAKE_ALARM", "CAP_WAKE_ALARM", 25,
     "Service cannot program timers that wake up the system",
     "Service may program timers that wake up the system"),
    ("LEASE", "CAP_LEASE", "CAP_LEASE", 25,
     "Service cannot create file leases", "Service may create file leases"),
    ("SYS_TTY_CONFIG", "CAP_SYS_TTY_CONFIG", "CAP_SYS_TTY_CONFIG", 25,
     "Service cannot issue vhangup()", "Service may issue vhangup()"),
    ("SYS_PACCT", "CAP_SYS_PACCT", "CAP_SYS_PACCT", 25,
     "Service cannot use acct()", "Service may use acct()"),
    ("BPF", "CAP_BPF", "CAP_BPF", 25,
     "Service may not load BPF programs", "Service may load BPF programs"),
)  # fmt: skip

_NAMESPACE_CHECKS = (  # type, weight, good/bad noun
    ("user", 1500, "user"), ("mnt", 500, "file system"), ("ipc", 500, "IPC"),
    ("pid", 500, "process"), ("cgroup", 500, "cgroup"), ("net", 500, "network"),
    ("uts", 100, "hostname"),
)  # fmt: skip

_FAMILY_CHECKS = (  # json suffix, shown, weight, noun
    ("AF_INET_INET6", "AF_(INET|INET6)", 1500, "Internet"),
    ("AF_UNIX", "AF_UNIX", 25, "local"),
    ("AF_NETLINK", "AF_NETLINK", 200, "netlink"),
    ("AF_PACKET", "AF_PACKET", 1000, "packet"),
    ("OTHER", "…", 1250, "exotic"),
)

_SYSCALL_CHECKS = (  # group, weight
    ("@swap", 1000), ("@obsolete", 250), ("@clock", 1000), ("@cpu-emulation", 250),
    ("@debug", 1000), ("@mount", 1000), ("@module", 1000), ("@raw-io", 1000),
    ("@reboot", 1000), ("@privileged", 700), ("@resources", 700),
)  # fmt: skip


def _bool(name: str, field_: str, weight: int, good: str, bad: str, **kw: object) -> Check:
    return Check(f"{name}=", name, weight, 1, field_, good, bad, **kw)  # type: ignore[arg-type]


_DD = {"default_dependencies_only": True}

#: Every check, in systemd's table order (the order ties are broken in and JSON fields come from).
CHECKS: tuple[Check, ...] = (
    Check("User=/DynamicUser=", "UserOrDynamicUser", 2000, 10, "user",
          bad="Service runs as root user"),
    Check("SupplementaryGroups=", "SupplementaryGroups", 200, 1, "supplementary_groups",
          "Service has no supplementary groups", "Service runs with supplementary groups",
          "Service runs as root, option does not matter"),
    _bool("PrivateDevices", "private_devices", 1000, "Service has no access to hardware devices",
          "Service potentially has access to hardware devices"),
    _bool("PrivateMounts", "private_mounts", 1000, "Service cannot install system mounts",
          "Service may install system mounts"),
    _bool("PrivateNetwork", "private_network", 2500, "Service has no access to the host's network",
          "Service has access to the host's network"),
    _bool("PrivateTmp", "private_tmp", 1000,
          "Service has no access to other software's temporary files",
          "Service has access to other software's temporary files", **_DD),
    _bool("PrivateUsers", "private_users", 1000, "Service does not have access to other users",
          "Service has access to other users"),
    _bool("ProtectControlGroups", "protect_control_groups", 1000,
          "Service cannot modify the control group file system",
          "Service may modify the control group file system"),
    _bool("ProtectKernelModules", "protect_kernel_modules", 1000,
          "Service cannot load or read kernel modules", "Service may load or read kernel modules"),
    _bool("ProtectKernelTunables", "protect_kernel_tunables", 1000,
          "Service cannot alter kernel tunables (/proc/sys, …)",
          "Service may alter kernel tunables"),
    _bool("ProtectKernelLogs", "protect_kernel_logs", 1000,
          "Service cannot read from or write to the kernel log ring buffer",
          "Service may read from or write to the kernel log ring buffer"),
    _bool("ProtectClock", "protect_clock", 1000,
          "Service cannot write to the hardware clock or system clock",
          "Service may write to the hardware clock or system clock"),
    Check("ProtectHome=", "ProtectHome", 1000, 10, "protect_home", default_dependencies_only=True),
    _bool("ProtectHostname", "protect_hostname", 50, "Service cannot change system host/domainname",
          "Service may change system host/domainname"),
    Check("ProtectSystem=", "ProtectSystem", 1000, 10, "protect_system",
          default_dependencies_only=True),
    Check("RootDirectory=/RootImage=", "RootDirectoryOrRootImage", 200, 1, "root_directory",
          "Service has its own root directory/image",
          "Service runs within the host's root directory",
          default_dependencies_only=True),
    _bool("LockPersonality", "lock_personality", 100, "Service cannot change ABI personality",
          "Service may change ABI personality"),
    _bool("MemoryDenyWriteExecute", "memory_deny_write_execute", 100,
          "Service cannot create writable executable memory mappings",
          "Service may create writable executable memory mappings"),
    _bool("NoNewPrivileges", "no_new_privileges", 1000,
          "Service processes cannot acquire new privileges",
          "Service processes may acquire new privileges"),
    *(
        Check(f"CapabilityBoundingSet=~{shown}", f"CapabilityBoundingSet_CAP_{suffix}", weight, 1,
              "capability", good, bad, param=_c(caps))
        for suffix, shown, caps, weight, good, bad in _CAPS
    ),
    Check("UMask=", "UMask", 100, 10, "umask"),
    Check("KeyringMode=", "KeyringMode", 1000, 1, "keyring_mode",
          "Service doesn't share key material with other services",
          "Service shares key material with other service"),
    Check("ProtectProc=", "ProtectProc", 1000, 3, "protect_proc",
          "Service has restricted access to process tree (/proc hidepid=)",
          "Service has full access to process tree (/proc hidepid=)"),
    Check("ProcSubset=", "ProcSubset", 10, 1, "proc_subset",
          "Service has no access to non-process /proc files (/proc subset=)",
          "Service has full access to non-process /proc files (/proc subset=)"),
    Check("NotifyAccess=", "NotifyAccess", 1000, 1, "notify_access",
          "Service child processes cannot alter service state",
          "Service child processes may alter service state"),
    Check("RemoveIPC=", "RemoveIPC", 100, 1, "remove_ipc",
          "Service user cannot leave SysV IPC objects around",
          "Service user may leave SysV IPC objects around",
          "Service runs as root, option does not apply"),
    Check("Delegate=", "Delegate", 100, 1, "delegate",
          "Service does not maintain its own delegated control group subtree",
          "Service maintains its own delegated control group subtree"),
    _bool("RestrictRealtime", "restrict_realtime", 500,
          "Service realtime scheduling access is restricted",
          "Service may acquire realtime scheduling"),
    _bool("RestrictSUIDSGID", "restrict_suid_sgid", 1000,
          "SUID/SGID file creation by service is restricted", "Service may create SUID/SGID files"),
    *(
        Check(f"RestrictNamespaces=~{ns}", f"RestrictNamespaces_{ns}", weight, 1, "namespace",
              f"Service cannot create {noun} namespaces", f"Service may create {noun} namespaces",
              param=ns)
        for ns, weight, noun in _NAMESPACE_CHECKS
    ),
    *(
        Check(f"RestrictAddressFamilies=~{shown}", f"RestrictAddressFamilies_{suffix}", weight, 1,
              "address_family", f"Service cannot allocate {noun} sockets",
              f"Service may allocate {noun} sockets", param=suffix)
        for suffix, shown, weight, noun in _FAMILY_CHECKS
    ),
    Check("SystemCallArchitectures=", "SystemCallArchitectures", 1000, 10, "architectures"),
    *(
        Check(f"SystemCallFilter=~{group}",
              "SystemCallFilter_" + group[1:].replace("-", "_"), weight, 10, "syscalls",
              param=group)
        for group, weight in _SYSCALL_CHECKS
    ),
    Check("IPAddressDeny=", "IPAddressDeny", 1000, 10, "ip_addresses"),
    Check("DeviceAllow=", "DeviceAllow", 1000, 10, "devices"),
    Check("AmbientCapabilities=", "AmbientCapabilities", 500, 1, "ambient",
          "Service process does not receive ambient capabilities",
          "Service process receives ambient capabilities"),
)  # fmt: skip


def directive_weights() -> dict[tuple[str, str], int]:
    """``(section, directive)`` → total weight of the checks it feeds (the ``checks`` column of
    :data:`portablekit.directives.DIRECTIVES`)."""
    weight = {c.json_field: c.weight for c in CHECKS}
    return {(d.section, d.name): sum(weight[f] for f in d.checks) for d in DIRECTIVES}


# -- what the checks look at -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SecurityInfo:
    """The unit as systemd-analyze sees it offline: the loaded unit's settings after the loader's
    implications, one field per input of the checks."""

    id: str
    version: int
    default_dependencies: bool = True
    user: str | None = None
    dynamic_user: bool = False
    supplementary_groups: tuple[str, ...] = ()
    capability_bounding_set: int = ALL_CAPABILITIES
    ambient_capabilities: int = 0
    private_devices: bool = False
    private_mounts: bool = False
    private_network: bool = False
    private_tmp: bool = False
    private_users: bool = False
    protect_control_groups: bool = False
    protect_kernel_modules: bool = False
    protect_kernel_tunables: bool = False
    protect_kernel_logs: bool = False
    protect_clock: bool = False
    protect_hostname: bool = False
    protect_home: str = "no"
    protect_system: str = "no"
    root_directory: str | None = None
    root_image: str | None = None
    lock_personality: bool = False
    memory_deny_write_execute: bool = False
    no_new_privileges: bool = False
    umask: int = 0o022
    keyring_mode: str = "private"
    protect_proc: str = "default"
    proc_subset: str = "all"
    notify_access: str = "none"
    remove_ipc: bool = False
    delegate: bool = False
    restrict_realtime: bool = False
    restrict_suid_sgid: bool = False
    restricted_namespaces: frozenset[str] = frozenset()
    restricted_families: frozenset[str] = frozenset()
    system_call_architectures: frozenset[str] = frozenset()
    system_call_filter_allow_list: bool = False
    system_call_filter: tuple[str, ...] = ()
    ip_address_deny_all: bool = False
    ip_address_allow_localhost: bool = False
    ip_address_allow_other: bool = False
    ip_filters_custom: bool = False
    device_policy: str = "auto"
    device_allow: tuple[str, ...] = ()

    @property
    def runs_privileged(self) -> bool:
        """systemd's rule: root or no user, unless a dynamic user is allocated."""
        if self.user in ("0", "root"):
            return True
        if self.dynamic_user:
            return False
        return not self.user


def unit_id(unit_name: str, version: int) -> str:
    """The name systemd-analyze loads and prints: templates get an instance (252: ``i``,
    257+: ``test_instance``)."""
    prefix, at, rest = unit_name.partition("@")
    if at and rest.startswith("."):
        return f"{prefix}@{'i' if version < 257 else 'test_instance'}{rest}"
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
    v = eff.version
    uid = unit or unit_id(eff.name, v)

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
        caps &= ~_c("CAP_MKNOD CAP_SYS_RAWIO")
    if protect_modules:
        caps &= ~_c("CAP_SYS_MODULE")
    if protect_logs:
        caps &= ~_c("CAP_SYSLOG")
    if protect_clock:
        caps &= ~_c("CAP_SYS_TIME CAP_WAKE_ALARM")

    mounts = eff.value("PrivateMounts", "Service")
    private_mounts = mounts == "yes" or (v >= 257 and mounts is None)

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
        version=v,
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
        bits = _c(value[1:] if invert else value)
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
    ``eff.version``. With an allow list the names are the allowed calls, otherwise the denied ones.
    """
    groups = syscall_groups(eff.version)
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
class CheckResult:
    """One evaluated check: badness 0…range, or ``None`` when not applicable."""

    check: Check
    badness: int | None
    description: str | None
    exposure: int | None = None

    @property
    def name(self) -> str:
        return self.check.name

    @property
    def json_field(self) -> str:
        return self.check.json_field

    @property
    def weight(self) -> int:
        return self.check.weight

    @property
    def range(self) -> int:
        return self.check.range

    @property
    def passed(self) -> bool | None:
        """``True`` (✓) for badness 0, ``False`` (✗) otherwise, ``None`` when not applicable."""
        return None if self.badness is None else self.badness == 0

    @property
    def exposure_text(self) -> str | None:
        """The row's EXPOSURE column (``"0.2"``), ``None`` when empty."""
        e = self.exposure
        return None if e is None else f"{e // 10}.{e % 10}"


def _assess_one(check: Check, info: SecurityInfo) -> tuple[int | None, str | None]:
    """(badness, custom description) of one check; badness ``None`` = not applicable."""
    if check.default_dependencies_only and not info.default_dependencies:
        return None, "Service runs in special boot phase, option is not appropriate"
    rule = _RULES.get(check.test)
    if rule is not None:
        return rule(check, info)
    flag = getattr(info, check.test)
    assert isinstance(flag, bool)
    return (0 if flag else 1), None


def _rule_user(check: Check, info: SecurityInfo) -> tuple[int | None, str | None]:
    if info.user == "nobody":
        return 9, "Service runs under as 'nobody' user, which should not be used for services"
    if info.dynamic_user and info.user not in ("0", "root"):
        return 0, "Service runs under a transient non-root user identity"
    if info.user is not None and info.user not in ("0", "root", ""):
        return 0, "Service runs under a static non-root user identity"
    return 10, None


def _rule_privileged_only(attr: str) -> Callable[[Check, SecurityInfo], tuple[int | None, None]]:
    def rule(check: Check, info: SecurityInfo) -> tuple[int | None, None]:
        if info.runs_privileged:
            return None, None
        if attr == "supplementary_groups":
            return (1 if info.supplementary_groups else 0), None
        return (0 if info.remove_ipc else 1), None

    return rule


def _rule_home(check: Check, info: SecurityInfo) -> tuple[int, str]:
    return {
        "yes": (0, "Service has no access to home directories"),
        "read-only": (5, "Service has read-only access to home directories"),
        "tmpfs": (1, "Service has access to fake empty home directories"),
    }.get(info.protect_home, (10, "Service has full access to home directories"))


def _rule_system(check: Check, info: SecurityInfo) -> tuple[int, str]:
    return {
        "strict": (0, "Service has strict read-only access to the OS file hierarchy"),
        "full": (3, "Service has very limited write access to the OS file hierarchy"),
        "yes": (5, "Service has limited write access to the OS file hierarchy"),
    }.get(info.protect_system, (10, "Service has full access to the OS file hierarchy"))


def _rule_root(check: Check, info: SecurityInfo) -> tuple[int, None]:
    def empty_or_root(p: str | None) -> bool:
        return not p or p.strip("/") == ""

    return int(empty_or_root(info.root_directory) and empty_or_root(info.root_image)), None


def _rule_umask(check: Check, info: SecurityInfo) -> tuple[int, str]:
    m = info.umask
    if not m & 0o002:
        return 10, "Files created by service are world-writable by default"
    if not m & 0o004:
        return 5, "Files created by service are world-readable by default"
    if not m & 0o020:
        return 2, "Files created by service are group-writable by default"
    if not m & 0o040:
        return 1, "Files created by service are group-readable by default"
    return 0, "Files created by service are accessible only by service's own user by default"


def _rule_archs(check: Check, info: SecurityInfo) -> tuple[int, str]:
    archs = info.system_call_architectures
    if not archs:
        return 10, "Service may execute system calls with all ABIs"
    if archs == {"native"}:
        return 0, "Service may execute system calls only with native ABI"
    return 8, "Service may execute system calls with multiple ABIs"


def _rule_syscalls(check: Check, info: SecurityInfo) -> tuple[int, str]:
    group = str(check.param)
    if not info.system_call_filter_allow_list and not info.system_call_filter:
        return 10, "Service does not filter system calls"
    listed = frozenset(info.system_call_filter)
    groups = syscall_groups(info.version)
    foreign = syscall_not_native(info.version)

    def offender(name: str) -> str | None:
        for member in groups.get(name, ()):
            if member.startswith("@"):
                found = offender(member)
                if found is not None:
                    return found
            elif member not in foreign and (member in listed) == info.system_call_filter_allow_list:
                return member
        return None

    bad = offender(group)
    if info.system_call_filter_allow_list:
        if bad is not None:
            return 9, (
                f"System call allow list defined for service, and {group} is included "
                f"(e.g. {bad} is allowed)"
            )
        return 0, f"System call allow list defined for service, and {group} is not included"
    if bad is not None:
        return 10, (
            f"System call deny list defined for service, and {group} is not included "
            f"(e.g. {bad} is allowed)"
        )
    return 0, f"System call deny list defined for service, and {group} is included"


def _rule_ip(check: Check, info: SecurityInfo) -> tuple[int, str]:
    if info.ip_filters_custom:
        return 0, "Service defines custom ingress/egress IP filters with BPF programs"
    if not info.ip_address_deny_all:
        return 10, "Service does not define an IP address allow list"
    if info.ip_address_allow_other:
        return 5, "Service defines IP address allow list with non-localhost entries"
    if info.ip_address_allow_localhost:
        return 2, "Service defines IP address allow list with only localhost entries"
    return 0, "Service blocks all IP address ranges"


def _rule_devices(check: Check, info: SecurityInfo) -> tuple[int, str]:
    if info.device_policy in ("strict", "closed"):
        if info.device_allow:
            joined = " ".join(info.device_allow)
            return 5, f"Service has a device ACL with some special devices: {joined}"
        return 0, "Service has a minimal device ACL"
    return 10, "Service has no device ACL"


_RULES: dict[str, Callable[[Check, SecurityInfo], tuple[int | None, str | None]]] = {
    "user": _rule_user,
    "supplementary_groups": _rule_privileged_only("supplementary_groups"),
    "remove_ipc": _rule_privileged_only("remove_ipc"),
    "protect_home": _rule_home,
    "protect_system": _rule_system,
    "root_directory": _rule_root,
    "umask": _rule_umask,
    "architectures": _rule_archs,
    "syscalls": _rule_syscalls,
    "ip_addresses": _rule_ip,
    "devices": _rule_devices,
    "capability": lambda c, i: (int(bool(i.capability_bounding_set & int(c.param))), None),
    "namespace": lambda c, i: (int(c.param not in i.restricted_namespaces), None),
    "address_family": lambda c, i: (int(c.param not in i.restricted_families), None),
    "keyring_mode": lambda c, i: (int(i.keyring_mode != "private"), None),
    "protect_proc": lambda c, i: (
        {"noaccess": 1, "invisible": 0, "ptraceable": 0}.get(i.protect_proc, 3),
        None,
    ),
    "proc_subset": lambda c, i: (int(i.proc_subset != "pid"), None),
    "notify_access": lambda c, i: (int(i.notify_access == "all"), None),
    "delegate": lambda c, i: (int(i.delegate), None),
    "ambient": lambda c, i: (int(i.ambient_capabilities != 0), None),
}


@dataclass(frozen=True, slots=True)
class SecurityReport:
    """The assessment of one unit: every check in systemd's table order, and the total.

    ``exposure`` is in tenths (0–100), as systemd computes it: ``ceil(100 · Σ ceil(b·w/r) / Σ w)``
    over the applicable checks.
    """

    unit: str
    version: int
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
        return tuple(self.results[i] for i in _display_order(self.results, self.version))

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
    """Score the loaded unit ``eff`` as systemd-analyze of ``eff.version`` does.

    Raises :class:`~portablekit.errors.UnitFileError` when a setting keeps the unit from loading
    (systemd-analyze then prints ``Unit X has a bad unit file setting.``), and
    :class:`~portablekit.errors.PortableKitError` for a unit that is not a service.
    """
    if not eff.name.endswith(".service"):
        raise PortableKitError(f"Unit {eff.name} is not a service unit, refusing.")
    info = security_info(eff, unit)
    scored = [(c, *_assess_one(c, info)) for c in CHECKS]
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
    return SecurityReport(info.id, eff.version, tuple(results), exposure, info)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _display_order(results: Sequence[CheckResult], version: int) -> list[int]:
    """Row order of systemd's table: description descending, then name.

    A row without a description (``ProtectProc=noaccess``) sorts first from 262 on; up to 257 it
    compares by position against the others (descending too). That comparison is not transitive,
    so the sort algorithm decides: systemd sorts the rows, behind the header row, which always
    sorts first, with glibc's ``qsort``, a merge sort, replayed here."""
    header = -1
    empty_first = version > 257
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
    version: int = 257,
    local: Mapping[str, UnitFile] | Iterable[Layer] = (),
    profile_as: str = "dropin",
) -> SecurityReport:
    """Score ``unit`` as it runs after attach with ``profile`` on systemd ``version``.

    ``unit`` is parsed content, unit-file text, or a path to a unit file; ``name`` defaults to
    the path's file name. ``image`` adds the ``20-portable.conf`` of a directory or raw image at
    ``image_path`` (default ``/var/lib/portables/PREFIX[.raw]``). With ``profile_as="option"``
    the profile is placed as ``systemd-analyze --profile`` places it.
    """
    if isinstance(unit, Path):
        name = name or unit.name
        unit = UnitFile.parse(unit.read_bytes(), origin=str(unit))
    elif isinstance(unit, str):
        unit = UnitFile.parse(unit, origin=name or "<string>")
    if not name:
        raise ValueError("a unit name is needed (e.g. foo.service)")
    kind = RootKind(image)
    portable = None
    if kind is not RootKind.NONE:
        prefix = name.split("@")[0].rsplit(".", 1)[0]
        default = f"/var/lib/portables/{prefix}" + (".raw" if kind is RootKind.RAW else "")
        portable = portable_dropin(version, image_path or default, kind)
    prof = load_profile(profile, version)[1] if profile is not None else None
    eff = attached_unit(
        unit,
        name,
        version=version,
        profile=prof,
        portable=portable,
        local=local,
        profile_dropin="profile.conf" if profile_as == "option" else "10-profile.conf",
    )
    return assess(eff)

"""The checks of ``systemd-analyze security``: what each one looks at and how it judges.

:data:`CHECKS` is the table of all 81 rows in systemd's table order (name, JSON field, weight,
range, the descriptions for a good and a bad value, the not-applicable text), declared once.
:class:`SecurityInfo` is what the checks read: the loaded unit's settings after the unit loader's
implications (:func:`portablekit.security.score.security_info` builds it from a merged unit).
:func:`assess_check` evaluates one check against it, as a badness between 0 and the check's range
(``None`` when it does not apply) and, for the rules that have one, a description of its own;
:class:`CheckResult` holds the outcome of one row. The overall score, the row order and the
rendering are :mod:`portablekit.security.score`.

>>> from portablekit.versions import Systemd
>>> info = SecurityInfo("app.service", Systemd(257), private_network=True)
>>> check = next(c for c in CHECKS if c.json_field == "PrivateNetwork")
>>> check.weight, assess_check(check, info)
(2500, (0, None))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..versions import Systemd
from .directives import DIRECTIVES
from .effective import ALL_CAPABILITIES
from .vocabulary import capability_mask, syscall_groups, syscall_not_native

__all__ = [
    "CHECKS",
    "Check",
    "CheckResult",
    "SecurityInfo",
    "assess_check",
    "directive_weights",
]


# -- the table -------------------------------------------------------------------------------------


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
    :data:`portablekit.security.directives.DIRECTIVES`)."""
    weight = {c.json_field: c.weight for c in CHECKS}
    return {(d.section, d.name): sum(weight[f] for f in d.checks) for d in DIRECTIVES}


# -- what the checks look at -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SecurityInfo:
    """The unit as systemd-analyze sees it offline: the loaded unit's settings after the loader's
    implications, one field per input of the checks."""

    id: str
    systemd: Systemd
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


# -- judging ---------------------------------------------------------------------------------------


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


def assess_check(check: Check, info: SecurityInfo) -> tuple[int | None, str | None]:
    """(badness, description) of ``check`` for ``info``: badness 0…``check.range``, ``None``
    when the check does not apply; the description is ``None`` where the check's own ``good``/
    ``bad``/``na`` text applies."""
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
    groups = syscall_groups(info.systemd)
    foreign = syscall_not_native(info.systemd)

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

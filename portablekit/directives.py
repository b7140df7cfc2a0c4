"""The unit-file settings portablekit models, declared once.

:data:`DIRECTIVES` is one table: for each setting its section, value kind, whether it is a list
and whether an empty assignment resets it, a category, the ``systemd-analyze security`` checks it
feeds (by their ``json_field``), the systemd version that introduced it and a one-line doc. The
merge (:mod:`portablekit.effective`), the security score (:mod:`portablekit.security`), the
profile diff, the DataFrame columns and the widget choices all read it from here.

The vocabularies these settings use are declared here too: capability names and bits
(:data:`CAPABILITIES`), address families (:data:`ADDRESS_FAMILIES`), namespace types
(:data:`NAMESPACES`) and seccomp architecture names (:data:`ARCHITECTURES`).

:meth:`Directive.parse` validates one value the way the given systemd version does and raises
:class:`InvalidValue` carrying that version's warning text.

>>> lookup("Service", "ProtectSystem").parse("true", 257)
'yes'
>>> lookup("Service", "PrivateTmp").values_for(257)
('no', 'yes', 'disconnected')
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from .versions import SUPPORTED_VERSIONS

__all__ = [
    "ADDRESS_FAMILIES",
    "ARCHITECTURES",
    "CAPABILITIES",
    "DIRECTIVES",
    "NAMESPACES",
    "SECTIONS",
    "VERSIONS",
    "Category",
    "Directive",
    "InvalidValue",
    "Kind",
    "by_check",
    "capability_mask",
    "lookup",
    "parse_boolean",
    "syscall_groups",
    "syscall_not_native",
]

#: The systemd versions whose behaviour is modelled (Debian 12, 13 and forky).
VERSIONS = SUPPORTED_VERSIONS


class Kind(StrEnum):
    """What a value looks like (and how repeated assignments combine, for the special kinds)."""

    BOOLEAN = "boolean"
    ENUM = "enum"
    STRING = "string"
    PATH = "path"
    MODE = "mode"
    LIST = "list"
    CAPABILITIES = "capabilities"
    ADDRESS_FAMILIES = "address-families"
    NAMESPACES = "namespaces"
    SYSCALLS = "syscalls"
    ARCHITECTURES = "architectures"
    IP_PREFIXES = "ip-prefixes"
    DEVICE = "device"
    DELEGATE = "delegate"


class Category(StrEnum):
    """What part of the sandbox a setting is about (for grouping in tables and widgets)."""

    UNIT = "unit"
    INSTALL = "install"
    EXEC = "exec"
    IDENTITY = "identity"
    FILESYSTEM = "filesystem"
    DEVICES = "devices"
    NETWORK = "network"
    KERNEL = "kernel"
    CAPABILITIES = "capabilities"
    SYSCALLS = "system-calls"
    PROCESS = "process"
    RESOURCES = "resources"
    IMAGE = "image"
    LOGGING = "logging"


class InvalidValue(ValueError):
    """A value the version rejects; ``message`` is systemd's warning (without ``file:line:``)."""

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        self.message = message
        self.fatal = fatal
        super().__init__(message)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_TRUE = frozenset({"1", "yes", "y", "true", "t", "on"})
_FALSE = frozenset({"0", "no", "n", "false", "f", "off"})


def parse_boolean(value: str) -> bool | None:
    """systemd's ``parse_boolean()``: ``True``/``False``, ``None`` when not a boolean."""
    v = value.lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return None


@dataclass(frozen=True, slots=True)
class Directive:
    """One setting: where it lives, what it takes, how it merges, what it is for.

    ``multiple``: assignments accumulate (a list); otherwise the last valid one wins.
    ``resets``: an empty assignment resets the list (or unsets a single value) instead of being
    ignored. ``values`` are the enum values every modelled version accepts; ``newer_values`` adds
    ``(since, value)`` pairs; with ``booleans`` an enum also takes booleans (as ``yes``/``no``).
    ``checks`` names the ``systemd-analyze security`` checks (``json_field``) the setting feeds.
    ``fatal``: an invalid value makes the unit fail to load. ``message_252`` is systemd 252's
    warning for an invalid value (``{value}`` is replaced), when it is not the generic one.
    """

    name: str
    section: str
    kind: Kind
    category: Category
    doc: str
    multiple: bool = False
    resets: bool = True
    values: tuple[str, ...] = ()
    newer_values: tuple[tuple[int, str], ...] = ()
    booleans: bool = False
    since: int = 0
    checks: tuple[str, ...] = ()
    fatal: bool = False
    message_252: str = ""

    def known_in(self, version: int) -> bool:
        """Whether systemd ``version`` knows this setting at all."""
        return version >= self.since

    def values_for(self, version: int) -> tuple[str, ...]:
        """The enum values ``version`` accepts, in declaration order."""
        return self.values + tuple(v for since, v in self.newer_values if version >= since)

    def parse(self, value: str, version: int) -> str:
        """Validate a single value as ``version`` does; return it normalized.

        Booleans normalize to ``yes``/``no``; enums that take booleans too map them the same way.
        List kinds are validated item by item by :mod:`portablekit.effective`; here they pass.
        """
        if self.kind is Kind.BOOLEAN:
            b = parse_boolean(value)
            if b is None:
                msg = "Failed to parse boolean value, ignoring: {value}"
                raise self._invalid(value, version, msg)
            return "yes" if b else "no"
        if self.kind is Kind.ENUM:
            allowed = self.values_for(version)
            if self.booleans:
                b = parse_boolean(value)
                if b is not None:
                    return "yes" if b else "no"
                fallback = "Failed to parse boolean value, ignoring: {value}"
            else:
                fallback = "Failed to parse {name}, ignoring: {value}"
            if value in allowed and not (self.booleans and value in ("yes", "no")):
                return value
            raise self._invalid(value, version, fallback)
        if self.kind is Kind.MODE:
            mode = int(value, 8) if value and set(value) <= set("01234567") else -1
            if not 0 <= mode <= 0o7777:
                raise self._invalid(value, version, "Failed to parse mode value, ignoring: {value}")
            return f"{mode:04o}"
        return value

    def _invalid(self, value: str, version: int, fallback: str) -> InvalidValue:
        if version < 257:
            template = self.message_252 or fallback
            if self.fatal:
                template = template.replace(", ignoring", "")
        elif self.fatal:
            template = "Failed to parse {name}={value}: Invalid argument"
        elif self.name == "ProtectHostname" and version >= 258:
            template = "Failed to parse {name}={value}, ignoring."
        else:
            template = "Failed to parse {name}={value}, ignoring: Invalid argument"
        return InvalidValue(template.format(name=self.name, value=value), fatal=self.fatal)


def _d(
    name: str,
    section: str,
    kind: Kind,
    category: Category,
    doc: str,
    **kw: object,
) -> Directive:
    return Directive(name, section, kind, category, doc, **kw)  # type: ignore[arg-type]


_S, _U, _I = "Service", "Unit", "Install"
K, C = Kind, Category

_CAP_CHECKS = tuple(
    f"CapabilityBoundingSet_{x}"
    for x in _words(
        "CAP_SYS_ADMIN CAP_SET_UID_GID_PCAP CAP_SYS_PTRACE CAP_SYS_TIME CAP_NET_ADMIN "
        "CAP_SYS_RAWIO CAP_SYS_MODULE CAP_AUDIT CAP_SYSLOG CAP_SYS_NICE_RESOURCE CAP_MKNOD "
        "CAP_CHOWN_FSETID_SETFCAP CAP_DAC_FOWNER_IPC_OWNER CAP_KILL "
        "CAP_NET_BIND_SERVICE_BROADCAST_RAW) CAP_SYS_BOOT CAP_MAC CAP_LINUX_IMMUTABLE "
        "CAP_IPC_LOCK CAP_SYS_CHROOT CAP_BLOCK_SUSPEND CAP_WAKE_ALARM CAP_LEASE "
        "CAP_SYS_TTY_CONFIG CAP_SYS_PACCT CAP_BPF"
    )
)
_SYSCALL_CHECKS = tuple(
    f"SystemCallFilter_{x}"
    for x in _words(
        "swap obsolete clock cpu_emulation debug mount module raw_io reboot privileged resources"
    )
)

#: The modelled settings. Order: unit, exec identity, sandbox, capabilities, system calls,
#: network, devices, image, logging, install.
# fmt: off
DIRECTIVES: tuple[Directive, ...] = (
    _d("Description", _U, K.STRING, C.UNIT, "Human-readable name of the unit."),
    _d("Documentation", _U, K.LIST, C.UNIT, "URIs of documentation.", multiple=True),
    _d("DefaultDependencies", _U, K.BOOLEAN, C.UNIT,
       "Implicit dependencies on basic.target and shutdown; no: early boot (some checks N/A).",
       checks=("PrivateTmp", "ProtectHome", "ProtectSystem", "RootDirectoryOrRootImage")),
    _d("After", _U, K.LIST, C.UNIT, "Start after these units.", multiple=True, resets=False),
    _d("Before", _U, K.LIST, C.UNIT, "Start before these units.", multiple=True, resets=False),
    _d("Wants", _U, K.LIST, C.UNIT, "Weak requirement dependencies.", multiple=True, resets=False),
    _d("Requires", _U, K.LIST, C.UNIT, "Strong requirement dependencies.", multiple=True,
       resets=False),
    _d("Type", _S, K.ENUM, C.PROCESS, "How the service signals start-up.",
       values=("simple", "exec", "forking", "oneshot", "dbus", "notify", "idle"),
       newer_values=((253, "notify-reload"),)),
    _d("ExecStart", _S, K.STRING, C.PROCESS, "Command line(s) started for the service.",
       multiple=True),
    _d("ExecStartPre", _S, K.STRING, C.PROCESS, "Commands run before ExecStart=.", multiple=True),
    _d("ExecStop", _S, K.STRING, C.PROCESS, "Commands run to stop the service.", multiple=True),
    _d("Restart", _S, K.ENUM, C.PROCESS, "When the service is restarted.",
       values=("no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort",
               "always")),
    _d("NotifyAccess", _S, K.ENUM, C.PROCESS, "Which processes may send sd_notify() messages.",
       values=("none", "main", "exec", "all"), checks=("NotifyAccess",),
       message_252="Failed to parse notify access specifier, ignoring: {value}"),
    _d("Environment", _S, K.LIST, C.EXEC, "Environment variables for executed processes.",
       multiple=True),
    _d("WorkingDirectory", _S, K.PATH, C.EXEC, "Working directory of executed processes."),
    _d("User", _S, K.STRING, C.IDENTITY, "User the processes run as (unset: root).",
       checks=("UserOrDynamicUser", "SupplementaryGroups", "RemoveIPC")),
    _d("Group", _S, K.STRING, C.IDENTITY, "Group the processes run as."),
    _d("DynamicUser", _S, K.BOOLEAN, C.IDENTITY,
       "Allocate a transient user; implies PrivateTmp, RemoveIPC, ProtectSystem=strict, "
       "ProtectHome=read-only, NoNewPrivileges, RestrictSUIDSGID.",
       checks=("UserOrDynamicUser", "SupplementaryGroups", "RemoveIPC", "PrivateTmp",
               "ProtectSystem", "ProtectHome", "NoNewPrivileges", "RestrictSUIDSGID"),
       fatal=True),
    _d("SupplementaryGroups", _S, K.LIST, C.IDENTITY, "Additional groups of the processes.",
       multiple=True, checks=("SupplementaryGroups",)),
    _d("UMask", _S, K.MODE, C.FILESYSTEM, "File mode creation mask (default 0022).",
       checks=("UMask",)),
    _d("RemoveIPC", _S, K.BOOLEAN, C.IDENTITY, "Remove the user's SysV/POSIX IPC objects on stop.",
       checks=("RemoveIPC",)),
    _d("KeyringMode", _S, K.ENUM, C.PROCESS, "Kernel session keyring (system default: private).",
       values=("inherit", "private", "shared"), checks=("KeyringMode",),
       message_252="Failed to parse keyring mode, ignoring: {value}"),
    _d("NoNewPrivileges", _S, K.BOOLEAN, C.PROCESS,
       "Processes cannot gain privileges (setuid, file capabilities).",
       checks=("NoNewPrivileges",)),
    _d("RootDirectory", _S, K.PATH, C.IMAGE, "Directory used as the root file system.",
       checks=("RootDirectoryOrRootImage",)),
    _d("RootImage", _S, K.PATH, C.IMAGE,
       "Disk image used as the root file system (adds loop/device-mapper DeviceAllow= entries).",
       checks=("RootDirectoryOrRootImage", "DeviceAllow", "PrivateMounts")),
    _d("RootImagePolicy", _S, K.STRING, C.IMAGE, "Which partitions of RootImage= may be used.",
       since=254),
    _d("ExtensionDirectories", _S, K.LIST, C.IMAGE, "Directories overlaid as extensions.",
       multiple=True),
    _d("ExtensionImages", _S, K.LIST, C.IMAGE, "Images overlaid as extensions.", multiple=True),
    _d("MountAPIVFS", _S, K.BOOLEAN, C.FILESYSTEM, "Mount /proc, /sys, /dev, /run in the root."),
    _d("BindPaths", _S, K.LIST, C.FILESYSTEM, "Host paths bind-mounted read-write.",
       multiple=True),
    _d("BindReadOnlyPaths", _S, K.LIST, C.FILESYSTEM, "Host paths bind-mounted read-only.",
       multiple=True),
    _d("BindLogSockets", _S, K.BOOLEAN, C.LOGGING, "Bind the journal and syslog sockets.",
       since=257),
    _d("PrivateTmp", _S, K.ENUM, C.FILESYSTEM, "Private /tmp and /var/tmp.",
       values=("no", "yes"), newer_values=((257, "disconnected"),), booleans=True,
       checks=("PrivateTmp", "PrivateMounts")),
    _d("PrivateDevices", _S, K.BOOLEAN, C.DEVICES,
       "Private /dev with pseudo devices only; drops CAP_MKNOD/CAP_SYS_RAWIO, DevicePolicy=closed.",
       checks=("PrivateDevices", "CapabilityBoundingSet_CAP_MKNOD",
               "CapabilityBoundingSet_CAP_SYS_RAWIO", "DeviceAllow", "PrivateMounts")),
    _d("PrivateMounts", _S, K.ENUM, C.FILESYSTEM,
       "Private mount namespace (257+: unset counts as yes in the offline score).",
       values=("no", "yes"), booleans=True, checks=("PrivateMounts",)),
    _d("PrivateNetwork", _S, K.BOOLEAN, C.NETWORK, "Private network namespace (loopback only).",
       checks=("PrivateNetwork",)),
    _d("PrivateUsers", _S, K.ENUM, C.IDENTITY, "Private user namespace.",
       values=("no", "yes"), newer_values=((257, "self"), (257, "identity"), (258, "full")),
       booleans=True, checks=("PrivateUsers",)),
    _d("PrivateIPC", _S, K.BOOLEAN, C.PROCESS, "Private IPC namespace."),
    _d("ProtectSystem", _S, K.ENUM, C.FILESYSTEM, "Read-only /usr, /boot (full: +/etc, strict: /).",
       values=("no", "yes", "full", "strict"), booleans=True, checks=("ProtectSystem",),
       message_252="Failed to parse protect system value, ignoring: {value}"),
    _d("ProtectHome", _S, K.ENUM, C.FILESYSTEM, "Hide or protect /home, /root, /run/user.",
       values=("no", "yes", "read-only", "tmpfs"), booleans=True, checks=("ProtectHome",),
       message_252="Failed to parse protect home value, ignoring: {value}"),
    _d("ProtectKernelTunables", _S, K.BOOLEAN, C.KERNEL, "Read-only /proc/sys, /sys.",
       checks=("ProtectKernelTunables", "PrivateMounts")),
    _d("ProtectKernelModules", _S, K.BOOLEAN, C.KERNEL, "No module loading; drops CAP_SYS_MODULE.",
       checks=("ProtectKernelModules", "CapabilityBoundingSet_CAP_SYS_MODULE", "PrivateMounts")),
    _d("ProtectKernelLogs", _S, K.BOOLEAN, C.KERNEL, "No kernel log access; drops CAP_SYSLOG.",
       checks=("ProtectKernelLogs", "CapabilityBoundingSet_CAP_SYSLOG")),
    _d("ProtectClock", _S, K.BOOLEAN, C.KERNEL,
       "No clock changes; drops CAP_SYS_TIME/CAP_WAKE_ALARM, allows char-rtc read.",
       checks=("ProtectClock", "CapabilityBoundingSet_CAP_SYS_TIME",
               "CapabilityBoundingSet_CAP_WAKE_ALARM", "DeviceAllow")),
    _d("ProtectControlGroups", _S, K.ENUM, C.KERNEL, "Read-only cgroup file system.",
       values=("no", "yes"), newer_values=((257, "private"), (257, "strict")), booleans=True,
       checks=("ProtectControlGroups", "PrivateMounts")),
    _d("ProtectHostname", _S, K.ENUM, C.KERNEL, "No hostname changes (own UTS namespace).",
       values=("no", "yes"), newer_values=((258, "private"),), booleans=True,
       checks=("ProtectHostname",)),
    _d("ProtectProc", _S, K.ENUM, C.PROCESS, "hidepid= of the service's /proc.",
       values=("noaccess", "invisible", "ptraceable", "default"), checks=("ProtectProc",),
       message_252="Failed to parse /proc/ protection mode, ignoring: {value}"),
    _d("ProcSubset", _S, K.ENUM, C.PROCESS, "subset= of the service's /proc.",
       values=("all", "pid"), checks=("ProcSubset",),
       message_252="Failed to parse /proc/ subset mode, ignoring: {value}"),
    _d("LockPersonality", _S, K.BOOLEAN, C.SYSCALLS, "Lock the execution domain (personality).",
       checks=("LockPersonality",)),
    _d("MemoryDenyWriteExecute", _S, K.BOOLEAN, C.SYSCALLS,
       "No writable and executable memory mappings.", checks=("MemoryDenyWriteExecute",)),
    _d("RestrictRealtime", _S, K.BOOLEAN, C.PROCESS, "No realtime scheduling.",
       checks=("RestrictRealtime",)),
    _d("RestrictSUIDSGID", _S, K.BOOLEAN, C.FILESYSTEM, "No creation of setuid/setgid files.",
       checks=("RestrictSUIDSGID",)),
    _d("RestrictNamespaces", _S, K.NAMESPACES, C.KERNEL,
       "Namespace types the service may create (yes: none, ~list: all but).",
       checks=tuple(f"RestrictNamespaces_{n}" for n in
                    ("user", "mnt", "ipc", "pid", "cgroup", "net", "uts"))),
    _d("DelegateNamespaces", _S, K.NAMESPACES, C.KERNEL,
       "Namespace types delegated to a user namespace.", since=258),
    _d("CapabilityBoundingSet", _S, K.CAPABILITIES, C.CAPABILITIES,
       "Capabilities the processes may ever have (lines OR, ~lines AND NOT; empty = none).",
       multiple=True, checks=_CAP_CHECKS),
    _d("AmbientCapabilities", _S, K.CAPABILITIES, C.CAPABILITIES,
       "Capabilities passed to unprivileged processes.", multiple=True,
       checks=("AmbientCapabilities",)),
    _d("SystemCallFilter", _S, K.SYSCALLS, C.SYSCALLS,
       "Allowed (or ~denied) system calls and @groups; the first assignment picks the mode.",
       multiple=True, checks=_SYSCALL_CHECKS),
    _d("SystemCallErrorNumber", _S, K.STRING, C.SYSCALLS, "errno returned for filtered calls."),
    _d("SystemCallArchitectures", _S, K.ARCHITECTURES, C.SYSCALLS,
       "ABIs system calls may use (native: only the native one).", multiple=True,
       checks=("SystemCallArchitectures",)),
    _d("RestrictAddressFamilies", _S, K.ADDRESS_FAMILIES, C.NETWORK,
       "Socket address families (allow list, ~deny list, none).", multiple=True,
       checks=tuple(f"RestrictAddressFamilies_{n}" for n in
                    ("AF_INET_INET6", "AF_UNIX", "AF_NETLINK", "AF_PACKET", "OTHER"))),
    _d("IPAddressAllow", _S, K.IP_PREFIXES, C.NETWORK, "IP ranges allowed despite IPAddressDeny=.",
       multiple=True, checks=("IPAddressDeny",)),
    _d("IPAddressDeny", _S, K.IP_PREFIXES, C.NETWORK, "IP ranges blocked (any: all).",
       multiple=True, checks=("IPAddressDeny",)),
    _d("IPIngressFilterPath", _S, K.LIST, C.NETWORK, "Custom BPF ingress programs.",
       multiple=True, checks=("IPAddressDeny",)),
    _d("IPEgressFilterPath", _S, K.LIST, C.NETWORK, "Custom BPF egress programs.",
       multiple=True, checks=("IPAddressDeny",)),
    _d("DevicePolicy", _S, K.ENUM, C.DEVICES, "Device access policy (closed: pseudo devices only).",
       values=("auto", "closed", "strict"), checks=("DeviceAllow",),
       message_252="Failed to parse device policy, ignoring: {value}"),
    _d("DeviceAllow", _S, K.DEVICE, C.DEVICES, "Device nodes allowed, with r/w/m rights.",
       multiple=True, checks=("DeviceAllow",)),
    _d("Delegate", _S, K.DELEGATE, C.RESOURCES, "Delegate a cgroup subtree to the service.",
       checks=("Delegate",)),
    _d("TasksMax", _S, K.STRING, C.RESOURCES, "Maximum number of tasks."),
    _d("MemoryMax", _S, K.STRING, C.RESOURCES, "Memory use limit."),
    _d("StateDirectory", _S, K.LIST, C.FILESYSTEM, "Directories below /var/lib owned by the unit.",
       multiple=True),
    _d("LogExtraFields", _S, K.LIST, C.LOGGING, "Extra journal fields.", multiple=True),
    _d("WantedBy", _I, K.LIST, C.INSTALL, "Units that want this one when enabled.", multiple=True),
    _d("RequiredBy", _I, K.LIST, C.INSTALL, "Units that require this one when enabled.",
       multiple=True),
    _d("Alias", _I, K.LIST, C.INSTALL, "Additional names when enabled.", multiple=True),
)
# fmt: on

#: Capability names and their bit numbers (linux/capability.h).
CAPABILITIES: dict[str, int] = {
    name: bit
    for bit, name in enumerate(
        _words(
            """
            CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_KILL
            CAP_SETGID CAP_SETUID CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE
            CAP_NET_BROADCAST CAP_NET_ADMIN CAP_NET_RAW CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE
            CAP_SYS_RAWIO CAP_SYS_CHROOT CAP_SYS_PTRACE CAP_SYS_PACCT CAP_SYS_ADMIN CAP_SYS_BOOT
            CAP_SYS_NICE CAP_SYS_RESOURCE CAP_SYS_TIME CAP_SYS_TTY_CONFIG CAP_MKNOD CAP_LEASE
            CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG
            CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_AUDIT_READ CAP_PERFMON CAP_BPF
            CAP_CHECKPOINT_RESTORE
            """
        )
    )
}

#: Address family names systemd accepts, with their numbers (aliases included).
ADDRESS_FAMILIES: dict[str, int] = {
    **{
        name: number
        for number, name in enumerate(
            _words(
                """
                - AF_UNIX AF_INET AF_AX25 AF_IPX AF_APPLETALK AF_NETROM AF_BRIDGE AF_ATMPVC AF_X25
                AF_INET6 AF_ROSE AF_DECnet AF_NETBEUI AF_SECURITY AF_KEY AF_NETLINK AF_PACKET
                AF_ASH AF_ECONET AF_ATMSVC AF_RDS AF_SNA AF_IRDA AF_PPPOX AF_WANPIPE AF_LLC AF_IB
                AF_MPLS AF_CAN AF_TIPC AF_BLUETOOTH AF_IUCV AF_RXRPC AF_ISDN AF_PHONET
                AF_IEEE802154 AF_CAIF AF_ALG AF_NFC AF_VSOCK AF_KCM AF_QIPCRTR AF_SMC AF_XDP AF_MCTP
                """
            )
        )
        if name != "-"
    },
    "AF_LOCAL": 1,
    "AF_FILE": 1,
    "AF_ROUTE": 16,
}

#: Namespace type names of RestrictNamespaces= (CLONE_NEW*).
NAMESPACES = ("cgroup", "ipc", "net", "mnt", "pid", "user", "uts", "time")

#: seccomp architecture names of SystemCallArchitectures=.
ARCHITECTURES = frozenset(
    _words(
        "native x86 x86-64 x32 arm arm64 loongarch64 mips mipsel mips64 mips64-n32 mipsel64 "
        "mipsel64-n32 parisc parisc64 ppc ppc64 ppc64-le riscv64 s390 s390x"
    )
)

#: The sections of each unit type (others warn; ``X-`` sections are ignored silently).
SECTIONS: dict[str, tuple[str, ...]] = {
    "service": ("Unit", "Service", "Install"),
    "socket": ("Unit", "Socket", "Install"),
    "timer": ("Unit", "Timer", "Install"),
    "path": ("Unit", "Path", "Install"),
    "target": ("Unit", "Install"),
    "mount": ("Unit", "Mount", "Install"),
}


def capability_mask(names: str) -> int:
    """The bit mask of a space-separated capability list; unknown names are skipped (as systemd
    does, silently). Numbers are accepted too."""
    mask = 0
    for word in names.split():
        bit = CAPABILITIES.get(word.upper())
        if bit is None and word.isdigit() and int(word) < 63:
            bit = int(word)
        if bit is not None:
            mask |= 1 << bit
    return mask


_INDEX: dict[tuple[str, str], Directive] = {(d.section, d.name): d for d in DIRECTIVES}


def lookup(section: str, name: str) -> Directive | None:
    """The directive ``name`` of ``section``, ``None`` if it is not modelled."""
    return _INDEX.get((section, name))


def by_check(json_field: str) -> Iterator[Directive]:
    """The directives that feed the check ``json_field``."""
    return (d for d in DIRECTIVES if json_field in d.checks)


# -- system call groups ----------------------------------------------------------------------------
# The @groups of SystemCallFilter=, members in systemd's order, as `systemd-analyze syscall-filter`
# of each version lists them, and the members libseccomp does not resolve to an x86-64 system
# call (they are accepted but never count). Generated from tests/golden/security/<version>/ by
# `tests/golden/security/record.py --emit-tables`; tests/test_directives.py checks they agree.

_GROUPS: dict[str, str] = {
    "@default": (
        "@sandbox arch_prctl brk cacheflush clock_getres clock_getres_time64 clock_gettime "
        "clock_gettime64 clock_nanosleep clock_nanosleep_time64 execve exit exit_group futex "
        "futex_time64 futex_waitv get_robust_list get_thread_area getegid getegid32 geteuid "
        "geteuid32 getgid getgid32 getgroups getgroups32 getpgid getpgrp getpid getppid "
        "getrandom getresgid getresgid32 getresuid getresuid32 getrlimit getsid gettid "
        "gettimeofday getuid getuid32 lsm_get_self_attr lsm_list_modules membarrier mmap mmap2 "
        "mprotect mseal munmap nanosleep pause prlimit64 restart_syscall riscv_flush_icache "
        "riscv_hwprobe rseq rt_sigreturn sched_getaffinity sched_yield set_robust_list "
        "set_thread_area set_tid_address set_tls sigreturn time ugetrlimit uretprobe"
    ),
    "@aio": (
        "io_cancel io_destroy io_getevents io_pgetevents io_pgetevents_time64 io_setup "
        "io_submit io_uring_enter io_uring_register io_uring_setup"
    ),
    "@basic-io": (
        "_llseek close close_range dup dup2 dup3 llseek lseek pread64 preadv preadv2 pwrite64 "
        "pwritev pwritev2 read readv write writev"
    ),
    "@chown": ("chown chown32 fchown fchown32 fchownat lchown lchown32"),
    "@clock": ("adjtimex clock_adjtime clock_adjtime64 clock_settime clock_settime64 settimeofday"),
    "@cpu-emulation": ("modify_ldt subpage_prot switch_endian vm86 vm86old"),
    "@debug": (
        "lookup_dcookie perf_event_open pidfd_getfd ptrace rtas s390_runtime_instr "
        "sys_debug_setcontext"
    ),
    "@file-system": (
        "access chdir chmod close creat faccessat faccessat2 fallocate fchdir fchmod fchmodat "
        "fchmodat2 fcntl fcntl64 fgetxattr file_getattr file_setattr flistxattr fremovexattr "
        "fsetxattr fstat fstat64 fstatat fstatat64 fstatfs fstatfs64 ftruncate ftruncate64 "
        "futimesat getcwd getdents getdents64 getxattr getxattrat inotify_add_watch "
        "inotify_init inotify_init1 inotify_rm_watch lgetxattr link linkat listmount listxattr "
        "listxattrat llistxattr lremovexattr lsetxattr lstat lstat64 mkdir mkdirat mknod "
        "mknodat newfstat newfstatat oldfstat oldlstat oldstat open open_tree openat openat2 "
        "readlink readlinkat removexattr removexattrat rename renameat renameat2 rmdir "
        "setxattr setxattrat stat stat64 statfs statfs64 statmount statx symlink symlinkat "
        "truncate truncate64 unlink unlinkat utime utimensat utimensat_time64 utimes"
    ),
    "@io-event": (
        "_newselect epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait "
        "epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 poll ppoll ppoll_time64 "
        "pselect6 pselect6_time64 select"
    ),
    "@ipc": (
        "ipc memfd_create mq_getsetattr mq_notify mq_open mq_timedreceive "
        "mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink msgctl msgget "
        "msgrcv msgsnd pipe pipe2 process_madvise process_vm_readv process_vm_writev semctl "
        "semget semop semtimedop semtimedop_time64 shmat shmctl shmdt shmget"
    ),
    "@keyring": ("add_key keyctl request_key"),
    "@memlock": ("mlock mlock2 mlockall munlock munlockall"),
    "@module": ("delete_module finit_module init_module"),
    "@mount": (
        "chroot fsconfig fsmount fsopen fspick mount mount_setattr move_mount open_tree_attr "
        "pivot_root umount umount2"
    ),
    "@network-io": (
        "accept accept4 bind connect getpeername getsockname getsockopt listen recv recvfrom "
        "recvmmsg recvmmsg_time64 recvmsg send sendmmsg sendmsg sendto setsockopt shutdown "
        "socket socketcall socketpair"
    ),
    "@obsolete": (
        "_sysctl afs_syscall bdflush break create_module ftime get_kernel_syms getpmsg gtty "
        "idle lock mpx prof profil putpmsg query_module security sgetmask ssetmask stime stty "
        "sysfs tuxcall ulimit uselib ustat vserver"
    ),
    "@pkey": ("pkey_alloc pkey_free pkey_mprotect"),
    "@privileged": (
        "@chown @clock @module @raw-io @reboot @swap _sysctl acct bpf capset chroot "
        "fanotify_init fanotify_mark nfsservctl open_by_handle_at pivot_root quotactl "
        "quotactl_fd setdomainname setfsuid setfsuid32 setgroups setgroups32 sethostname "
        "setresuid setresuid32 setreuid setreuid32 setuid setuid32 vhangup"
    ),
    "@process": (
        "capget clone clone3 execveat fork getrusage kill pidfd_open pidfd_send_signal prctl "
        "rt_sigqueueinfo rt_tgsigqueueinfo setns swapcontext tgkill times tkill unshare vfork "
        "wait4 waitid waitpid"
    ),
    "@raw-io": (
        "ioperm iopl pciconfig_iobase pciconfig_read pciconfig_write s390_pci_mmio_read "
        "s390_pci_mmio_write"
    ),
    "@reboot": ("kexec_file_load kexec_load reboot"),
    "@resources": (
        "ioprio_set mbind migrate_pages move_pages nice sched_setaffinity sched_setattr "
        "sched_setparam sched_setscheduler set_mempolicy set_mempolicy_home_node setpriority "
        "setrlimit"
    ),
    "@sandbox": ("landlock_add_rule landlock_create_ruleset landlock_restrict_self seccomp"),
    "@setuid": (
        "setgid setgid32 setgroups setgroups32 setregid setregid32 setresgid setresgid32 "
        "setresuid setresuid32 setreuid setreuid32 setuid setuid32"
    ),
    "@signal": (
        "rt_sigaction rt_sigpending rt_sigprocmask rt_sigsuspend rt_sigtimedwait "
        "rt_sigtimedwait_time64 sigaction sigaltstack signal signalfd signalfd4 sigpending "
        "sigprocmask sigsuspend"
    ),
    "@swap": ("swapoff swapon"),
    "@sync": ("fdatasync fsync msync sync sync_file_range sync_file_range2 syncfs"),
    "@system-service": (
        "@aio @basic-io @chown @default @file-system @io-event @ipc @keyring @memlock "
        "@network-io @process @resources @setuid @signal @sync @timer arm_fadvise64_64 capget "
        "capset copy_file_range fadvise64 fadvise64_64 flock get_mempolicy getcpu getpriority "
        "ioctl ioprio_get kcmp madvise mremap name_to_handle_at oldolduname olduname "
        "personality readahead readdir remap_file_pages sched_get_priority_max "
        "sched_get_priority_min sched_getattr sched_getparam sched_getscheduler "
        "sched_rr_get_interval sched_rr_get_interval_time64 sched_yield sendfile sendfile64 "
        "setfsgid setfsgid32 setfsuid setfsuid32 setpgid setsid splice sysinfo tee umask uname "
        "userfaultfd vmsplice"
    ),
    "@timer": (
        "alarm getitimer setitimer timer_create timer_delete timer_getoverrun timer_gettime "
        "timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime "
        "timerfd_gettime64 timerfd_settime timerfd_settime64 times"
    ),
}
_GROUPS_BEFORE: dict[int, dict[str, str | None]] = {
    257: {
        "@file-system": (
            "access chdir chmod close creat faccessat faccessat2 fallocate fchdir fchmod "
            "fchmodat fchmodat2 fcntl fcntl64 fgetxattr file_getattr file_setattr flistxattr "
            "fremovexattr fsetxattr fstat fstat64 fstatat fstatat64 fstatfs fstatfs64 "
            "ftruncate ftruncate64 futimesat getcwd getdents getdents64 getxattr getxattrat "
            "inotify_add_watch inotify_init inotify_init1 inotify_rm_watch lgetxattr link "
            "linkat listmount listxattr listxattrat llistxattr lremovexattr lsetxattr lstat "
            "lstat64 mkdir mkdirat mknod mknodat newfstat newfstatat oldfstat oldlstat oldstat "
            "open openat openat2 readlink readlinkat removexattr removexattrat rename renameat "
            "renameat2 rmdir setxattr setxattrat stat stat64 statfs statfs64 statmount statx "
            "symlink symlinkat truncate truncate64 unlink unlinkat utime utimensat "
            "utimensat_time64 utimes"
        ),
        "@mount": (
            "chroot fsconfig fsmount fsopen fspick mount mount_setattr move_mount open_tree "
            "pivot_root umount umount2"
        ),
    },
    252: {
        "@default": (
            "arch_prctl brk cacheflush clock_getres clock_getres_time64 clock_gettime "
            "clock_gettime64 clock_nanosleep clock_nanosleep_time64 execve exit exit_group "
            "futex futex_time64 futex_waitv get_robust_list get_thread_area getegid getegid32 "
            "geteuid geteuid32 getgid getgid32 getgroups getgroups32 getpgid getpgrp getpid "
            "getppid getrandom getresgid getresgid32 getresuid getresuid32 getrlimit getsid "
            "gettid gettimeofday getuid getuid32 membarrier mmap mmap2 mprotect munmap "
            "nanosleep pause prlimit64 restart_syscall riscv_flush_icache riscv_hwprobe rseq "
            "rt_sigreturn sched_getaffinity sched_yield set_robust_list set_thread_area "
            "set_tid_address set_tls sigreturn time ugetrlimit uretprobe"
        ),
        "@basic-io": (
            "_llseek close close_range dup dup2 dup3 lseek pread64 preadv preadv2 pwrite64 "
            "pwritev pwritev2 read readv write writev"
        ),
        "@file-system": (
            "access chdir chmod close creat faccessat faccessat2 fallocate fchdir fchmod "
            "fchmodat fchmodat2 fcntl fcntl64 fgetxattr flistxattr fremovexattr fsetxattr "
            "fstat fstat64 fstatat64 fstatfs fstatfs64 ftruncate ftruncate64 futimesat getcwd "
            "getdents getdents64 getxattr inotify_add_watch inotify_init inotify_init1 "
            "inotify_rm_watch lgetxattr link linkat listxattr llistxattr lremovexattr "
            "lsetxattr lstat lstat64 mkdir mkdirat mknod mknodat newfstatat oldfstat oldlstat "
            "oldstat open openat openat2 readlink readlinkat removexattr rename renameat "
            "renameat2 rmdir setxattr stat stat64 statfs statfs64 statx symlink symlinkat "
            "truncate truncate64 unlink unlinkat utime utimensat utimensat_time64 utimes"
        ),
        "@mount": (
            "chroot fsconfig fsmount fsopen fspick mount mount_setattr move_mount open_tree "
            "pivot_root umount umount2"
        ),
        "@sandbox": None,
    },
}
_NOT_NATIVE = (
    "_llseek _newselect arm_fadvise64_64 bdflush break cacheflush chown32 clock_adjtime64 "
    "clock_getres_time64 clock_gettime64 clock_nanosleep_time64 clock_settime64 fadvise64_64 "
    "fchown32 fcntl64 fstat64 fstatat fstatat64 fstatfs64 ftime ftruncate64 futex_time64 "
    "getegid32 geteuid32 getgid32 getgroups32 getresgid32 getresuid32 getuid32 gtty idle "
    "io_pgetevents_time64 ipc lchown32 llseek lock lstat64 mmap2 mpx mq_timedreceive_time64 "
    "mq_timedsend_time64 newfstat nice oldfstat oldlstat oldolduname oldstat olduname "
    "pciconfig_iobase pciconfig_read pciconfig_write ppoll_time64 prof profil pselect6_time64 "
    "readdir recv recvmmsg_time64 riscv_flush_icache riscv_hwprobe rt_sigtimedwait_time64 rtas "
    "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr sched_rr_get_interval_time64 "
    "semtimedop_time64 send sendfile64 set_tls setfsgid32 setfsuid32 setgid32 setgroups32 "
    "setregid32 setresgid32 setresuid32 setreuid32 setuid32 sgetmask sigaction signal "
    "sigpending sigprocmask sigreturn sigsuspend socketcall ssetmask stat64 statfs64 stime "
    "stty subpage_prot swapcontext switch_endian sync_file_range2 sys_debug_setcontext "
    "timer_gettime64 timer_settime64 timerfd_gettime64 timerfd_settime64 truncate64 ugetrlimit "
    "ulimit umount utimensat_time64 vm86 vm86old waitpid"
)
_NOT_NATIVE_BEFORE: dict[int, str] = {
    257: "file_getattr file_setattr",
    252: "uretprobe",
}


def syscall_groups(version: int) -> dict[str, tuple[str, ...]]:
    """The ``@group`` → members table of systemd ``version`` (``@known`` is not modelled)."""
    cached = _GROUP_CACHE.get(version)
    if cached is None:
        table: dict[str, str | None] = {**_GROUPS}
        for since in sorted(_GROUPS_BEFORE, reverse=True):
            if version <= since:
                table.update(_GROUPS_BEFORE[since])
        cached = {k: tuple(v.split()) for k, v in table.items() if v is not None}
        _GROUP_CACHE[version] = cached
    return cached


def syscall_not_native(version: int) -> frozenset[str]:
    """Group members that are no system call of x86-64 for libseccomp of ``version``'s distro."""
    extra = " ".join(v for since, v in _NOT_NATIVE_BEFORE.items() if version <= since)
    return frozenset(_NOT_NATIVE.split()) | frozenset(extra.split())


_GROUP_CACHE: dict[int, dict[str, tuple[str, ...]]] = {}

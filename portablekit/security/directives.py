"""The unit-file settings portablekit models, declared once.

:data:`DIRECTIVES` is one table: for each setting its section, value kind, whether it is a list
and whether an empty assignment resets it, a category, the ``systemd-analyze security`` checks it
feeds (by their ``json_field``), the systemd version that introduced it and a one-line doc. The
merge (:mod:`portablekit.security.effective`), the security score
(:mod:`portablekit.security.score`), the
profile diff, the DataFrame columns and the widget choices all read it from here.

The vocabularies these settings use (capability names and bits, address families, namespace
types, seccomp architectures, system call groups) live in :mod:`portablekit.security.vocabulary`.

:meth:`Directive.parse` validates one value the way the given systemd version does and raises
:class:`InvalidValue` carrying that version's warning text.

>>> from portablekit.versions import Systemd
>>> lookup("Service", "ProtectSystem").parse("true", Systemd(257))
'yes'
>>> lookup("Service", "PrivateTmp").values_for(Systemd(257))
('no', 'yes', 'disconnected')
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from ..unitfile import parse_boolean
from ..versions import Systemd

__all__ = [
    "DIRECTIVES",
    "SECTIONS",
    "Category",
    "Directive",
    "InvalidValue",
    "Kind",
    "by_check",
    "lookup",
    "parse_boolean",
]


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


@dataclass(frozen=True, slots=True)
class Directive:
    """One setting: where it lives, what it takes, how it merges, what it is for.

    ``multiple``: assignments accumulate (a list); otherwise the last valid one wins.
    ``resets``: an empty assignment resets the list (or unsets a single value) instead of being
    ignored. ``values`` are the enum values every modelled version accepts; ``newer_values`` adds
    ``(since, value)`` pairs; with ``booleans`` an enum also takes booleans (as ``yes``/``no``).
    ``checks`` names the ``systemd-analyze security`` checks (``json_field``) the setting feeds.
    ``fatal``: an invalid value makes the unit fail to load. ``message_252`` is systemd 252's
    warning for an invalid value (``{value}`` is replaced), when it is not the generic one (see
    :attr:`~portablekit.versions.Systemd.invalid_value_warning_names_setting`). ``since`` and
    the versions of ``newer_values`` are asked of :meth:`~portablekit.versions.Systemd.reaches`.
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

    def known_in(self, systemd: Systemd) -> bool:
        """Whether ``systemd`` knows this setting at all."""
        return systemd.reaches(self.since)

    def values_for(self, systemd: Systemd) -> tuple[str, ...]:
        """The enum values ``systemd`` accepts, in declaration order."""
        return self.values + tuple(v for since, v in self.newer_values if systemd.reaches(since))

    def parse(self, value: str, systemd: Systemd) -> str:
        """Validate a single value as ``systemd`` does; return it normalized.

        Booleans normalize to ``yes``/``no``; enums that take booleans too map them the same way.
        List kinds are validated item by item by :mod:`portablekit.security.effective`; here they
        pass.
        """
        if self.kind is Kind.BOOLEAN:
            b = parse_boolean(value)
            if b is None:
                msg = "Failed to parse boolean value, ignoring: {value}"
                raise self._invalid(value, systemd, msg)
            return "yes" if b else "no"
        if self.kind is Kind.ENUM:
            allowed = self.values_for(systemd)
            if self.booleans:
                b = parse_boolean(value)
                if b is not None:
                    return "yes" if b else "no"
                fallback = "Failed to parse boolean value, ignoring: {value}"
            else:
                fallback = "Failed to parse {name}, ignoring: {value}"
            if value in allowed and not (self.booleans and value in ("yes", "no")):
                return value
            raise self._invalid(value, systemd, fallback)
        if self.kind is Kind.MODE:
            mode = int(value, 8) if value and set(value) <= set("01234567") else -1
            if not 0 <= mode <= 0o7777:
                raise self._invalid(value, systemd, "Failed to parse mode value, ignoring: {value}")
            return f"{mode:04o}"
        return value

    def _invalid(self, value: str, systemd: Systemd, fallback: str) -> InvalidValue:
        if not systemd.invalid_value_warning_names_setting:
            template = self.message_252 or fallback
            if self.fatal:
                template = template.replace(", ignoring", "")
        elif self.fatal:
            template = "Failed to parse {name}={value}: Invalid argument"
        elif self.name == "ProtectHostname" and systemd.protect_hostname_warning_lacks_errno:
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

#: The sections of each unit type (others warn; ``X-`` sections are ignored silently).
SECTIONS: dict[str, tuple[str, ...]] = {
    "service": ("Unit", "Service", "Install"),
    "socket": ("Unit", "Socket", "Install"),
    "timer": ("Unit", "Timer", "Install"),
    "path": ("Unit", "Path", "Install"),
    "target": ("Unit", "Install"),
    "mount": ("Unit", "Mount", "Install"),
}

_INDEX: dict[tuple[str, str], Directive] = {(d.section, d.name): d for d in DIRECTIVES}


def lookup(section: str, name: str) -> Directive | None:
    """The directive ``name`` of ``section``, ``None`` if it is not modelled."""
    return _INDEX.get((section, name))


def by_check(json_field: str) -> Iterator[Directive]:
    """The directives that feed the check ``json_field``."""
    return (d for d in DIRECTIVES if json_field in d.checks)

"""The closed vocabularies of unit-file settings, as each modelled systemd version spells them.

Capability names and their bits (:data:`CAPABILITIES`, :func:`capability_mask`), socket address
families (:data:`ADDRESS_FAMILIES`), namespace types (:data:`NAMESPACES`), seccomp architecture
names (:data:`ARCHITECTURES`) and the ``@groups`` of ``SystemCallFilter=`` per version
(:func:`syscall_groups`, :func:`syscall_not_native`). The directive table
(:mod:`portablekit.security.directives`), the merge (:mod:`portablekit.security.effective`) and the
security score
(:mod:`portablekit.security.score`) read them from here.

>>> from portablekit.versions import Systemd
>>> capability_mask("CAP_KILL cap_chown") == (1 << CAPABILITIES["CAP_KILL"]) | 1
True
>>> ADDRESS_FAMILIES["AF_LOCAL"] == ADDRESS_FAMILIES["AF_UNIX"]
True
>>> "@sandbox" in syscall_groups(Systemd(252)), "@sandbox" in syscall_groups(Systemd(257))
(False, True)
"""

from __future__ import annotations

from ..versions import Systemd

__all__ = [
    "ADDRESS_FAMILIES",
    "ARCHITECTURES",
    "CAPABILITIES",
    "NAMESPACES",
    "capability_mask",
    "syscall_groups",
    "syscall_not_native",
]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


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


# -- system call groups ----------------------------------------------------------------------------
# The @groups of SystemCallFilter=, members in systemd's order, as `systemd-analyze syscall-filter`
# of each version lists them, and the members libseccomp does not resolve to an x86-64 system
# call (they are accepted but never count). The *_BEFORE tables hold what differed in versions up
# to their key (asked with Systemd.up_to). Generated from tests/golden/security/<version>/ by
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


def syscall_groups(systemd: Systemd) -> dict[str, tuple[str, ...]]:
    """The ``@group`` → members table of ``systemd`` (``@known`` is not modelled)."""
    cached = _GROUP_CACHE.get(systemd.version)
    if cached is None:
        table: dict[str, str | None] = {**_GROUPS}
        for last in sorted(_GROUPS_BEFORE, reverse=True):
            if systemd.up_to(last):
                table.update(_GROUPS_BEFORE[last])
        cached = {k: tuple(v.split()) for k, v in table.items() if v is not None}
        _GROUP_CACHE[systemd.version] = cached
    return cached


def syscall_not_native(systemd: Systemd) -> frozenset[str]:
    """Group members that are no system call of x86-64 for libseccomp of ``systemd``'s distro."""
    extra = " ".join(v for last, v in _NOT_NATIVE_BEFORE.items() if systemd.up_to(last))
    return frozenset(_NOT_NATIVE.split()) | frozenset(extra.split())


_GROUP_CACHE: dict[int, dict[str, tuple[str, ...]]] = {}

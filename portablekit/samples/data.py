"""The sample images as data: every file of every sample, written out here once.

:mod:`portablekit.samples` turns these definitions into in-memory trees, directories, sandbox
images and raw disk images. The good samples (``minimal``, ``webapp_2.1`` and its extensions)
attach cleanly; the ``broken-*`` samples each break one rule of the image checks
(:mod:`portablekit.check.image`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..source import Content, Symlink

__all__ = [
    "BROKEN",
    "DEBUG_TOOLS",
    "MINIMAL",
    "SAMPLE_MTIME",
    "WEBAPP",
    "WEBAPP_OLD",
    "WEBAPP_TLS",
    "Sample",
]

#: Modification time of every sample file (2024-01-01 00:00:00 UTC): outputs never depend on
#: when a sample was written.
SAMPLE_MTIME = 1704067200


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample image: its name (directory name, ``NAME_VERSION`` allowed), what it shows,
    its files, and whether it is an extension."""

    name: str
    description: str
    files: Mapping[str, Content]
    extension: bool = False
    modes: Mapping[str, int] = field(default_factory=dict)


_DEBIAN = 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n'


def _service(
    name: str,
    description: str,
    exec_start: str,
    *,
    wanted_by: str = "multi-user.target",
    extra: str = "",
) -> str:
    return (
        f"[Unit]\nDescription={description}\n\n[Service]\nExecStart={exec_start}\n{extra}"
        f"\n[Install]\nWantedBy={wanted_by}\n"
    )


def _os_tree(extra: Mapping[str, Content] | None = None) -> dict[str, Content]:
    """What every portable image should have besides its service (portable services docs)."""
    files: dict[str, Content] = {
        "etc/os-release": Symlink("../usr/lib/os-release"),
        "etc/resolv.conf": "",
        "etc/machine-id": "",
        "proc": None,
        "sys": None,
        "dev": None,
        "run": None,
        "tmp": None,
        "var/tmp": None,
        "usr/lib/systemd/system": None,
    }
    files.update(extra or {})
    return files


def _script(text: str) -> str:
    return "#!/bin/sh\n" + text + "\n"


_ELF_MACHINES = {"x86-64": 62, "arm64": 183}


def _elf(interpreter: str, arch: str = "x86-64") -> bytes:
    """The headers of a dynamically linked 64-bit little-endian ELF executable: the ELF header
    and one ``PT_INTERP`` program header naming ``interpreter`` (no code: the image checks only
    read headers)."""
    import struct

    interp = interpreter.encode() + b"\0"
    header = struct.pack(
        "<4sBBBBB7xHHIQQQIHHHHHH",
        b"\x7fELF", 2, 1, 1, 0, 0,  # 64-bit, little endian, version 1, System V ABI
        2, _ELF_MACHINES[arch], 1,  # ET_EXEC, e_machine, e_version
        0, 64, 0,  # e_entry, e_phoff, e_shoff
        0, 64, 56, 1, 0, 0, 0,  # e_flags, e_ehsize, e_phentsize, e_phnum, no sections
    )  # fmt: skip
    phdr = struct.pack("<IIQQQQQQ", 3, 4, 120, 0, 0, len(interp), len(interp), 1)  # PT_INTERP
    return header + phdr + interp


MINIMAL = Sample(
    "minimal",
    "A small Debian-based service image: one service, its socket and a worker match the "
    "'minimal' prefix; two more units do not.",
    _os_tree(
        {
            "usr/lib/os-release": 'PRETTY_NAME="Minimal Portable (Debian 12)"\n'
            + _DEBIAN
            + 'PORTABLE_PRETTY_NAME="Minimal demo service"\n',
            "usr/bin/minimald": _script("exec sleep infinity"),
            "usr/lib/systemd/system/minimal.service": _service(
                "minimal", "Minimal demo service", "/usr/bin/minimald"
            ),
            "usr/lib/systemd/system/minimal.socket": (
                "[Unit]\nDescription=Minimal demo socket\n\n[Socket]\n"
                "ListenStream=/run/minimal.sock\n\n[Install]\nWantedBy=sockets.target\n"
            ),
            "usr/lib/systemd/system/minimal-worker.service": _service(
                "minimal-worker", "Minimal background worker", "/usr/bin/minimald --worker"
            ),
            "usr/lib/systemd/system/minimalist.service": _service(
                "minimalist",
                "Not matched: 'minimalist' is not 'minimal' followed by - . @",
                "/usr/bin/minimald",
            ),
            "usr/lib/systemd/system/other.service": _service(
                "other", "Not matched: another prefix", "/usr/bin/minimald"
            ),
            "usr/lib/systemd/system/minimal.mount": (
                "[Unit]\nDescription=Never attached: .mount units are not portable\n\n[Mount]\n"
                "What=tmpfs\nWhere=/minimal\n"
            ),
        }
    ),
    modes={"usr/bin/minimald": 0o755},
)

WEBAPP = Sample(
    "webapp_2.1",
    "A versioned image (name webapp, version 2.1) that declares PORTABLE_PREFIXES: a web "
    "service, its admin helper, a socket and a timer.",
    _os_tree(
        {
            "usr/lib/os-release": 'PRETTY_NAME="Webapp 2.1 (Debian 12)"\n'
            + _DEBIAN
            + 'IMAGE_ID=webapp\nIMAGE_VERSION=2.1\nPORTABLE_PRETTY_NAME="Example web application"\n'
            'PORTABLE_PREFIXES="webapp webapp-admin"\n',
            "usr/bin/webappd": _script("exec sleep infinity"),
            "usr/lib/systemd/system/webapp.service": _service(
                "webapp",
                "Example web application",
                "/usr/bin/webappd",
                extra="User=webapp\nNoNewPrivileges=yes\n",
            ),
            "usr/lib/systemd/system/webapp.socket": (
                "[Unit]\nDescription=Example web application socket\n\n[Socket]\n"
                "ListenStream=8080\n\n[Install]\nWantedBy=sockets.target\n"
            ),
            "usr/lib/systemd/system/webapp-admin.service": _service(
                "webapp-admin", "Example web application admin helper", "/usr/bin/webappd --admin"
            ),
            "usr/lib/systemd/system/webapp-cleanup.timer": (
                "[Unit]\nDescription=Daily cleanup of the example web application\n\n[Timer]\n"
                "OnCalendar=daily\n\n[Install]\nWantedBy=timers.target\n"
            ),
            "usr/lib/systemd/system/webapp-cleanup.service": (
                "[Unit]\nDescription=Cleanup of the example web application\n\n[Service]\n"
                "Type=oneshot\nExecStart=/usr/bin/webappd --cleanup\n"
            ),
        }
    ),
    modes={"usr/bin/webappd": 0o755},
)

WEBAPP_TLS = Sample(
    "webapp-tls",
    "A system extension for webapp: adds a TLS terminator service; compatible with Debian 12.",
    {
        "usr/lib/extension-release.d/extension-release.webapp-tls": (
            "ID=debian\nVERSION_ID=12\nSYSEXT_SCOPE=portable\nSYSEXT_ID=webapp-tls\n"
            'SYSEXT_VERSION_ID=1.0\nPORTABLE_PRETTY_NAME="TLS terminator for webapp"\n'
            "PORTABLE_PREFIXES=webapp-tls\n"
        ),
        "usr/bin/webapp-tlsd": _script("exec sleep infinity"),
        "usr/lib/systemd/system/webapp-tls.service": _service(
            "webapp-tls", "TLS terminator for the example web application", "/usr/bin/webapp-tlsd"
        ),
        "usr/lib/systemd/system/webapp.service": _service(
            "webapp", "Shadowed: the base image's webapp.service wins", "/usr/bin/webapp-tlsd"
        ),
    },
    extension=True,
    modes={"usr/bin/webapp-tlsd": 0o755},
)

DEBUG_TOOLS = Sample(
    "debug-tools",
    "An extension for any OS (ID=_any): adds a debug helper unit to whatever base it extends.",
    {
        "usr/lib/extension-release.d/extension-release.debug-tools": (
            "ID=_any\nSYSEXT_SCOPE=portable system\nSYSEXT_ID=debug-tools\nSYSEXT_VERSION_ID=3\n"
        ),
        "usr/bin/debug-shell": _script("exec /bin/sh"),
        "usr/lib/systemd/system/webapp-debug.service": _service(
            "webapp-debug", "Debug shell next to webapp", "/usr/bin/debug-shell"
        ),
        "usr/lib/systemd/system/minimal-debug.service": _service(
            "minimal-debug", "Debug shell next to minimal", "/usr/bin/debug-shell"
        ),
    },
    extension=True,
    modes={"usr/bin/debug-shell": 0o755},
)

WEBAPP_OLD = Sample(
    "webapp-legacy",
    "An extension built for Debian 11: refused on the Debian 12 base (VERSION_ID mismatch).",
    {
        "usr/lib/extension-release.d/extension-release.webapp-legacy": (
            "ID=debian\nVERSION_ID=11\nSYSEXT_SCOPE=portable\n"
        ),
        "usr/lib/systemd/system/webapp-legacy.service": _service(
            "webapp-legacy", "Legacy plugin", "/usr/bin/true"
        ),
    },
    extension=True,
)

# Deliberately broken images, one per rule of the image checks.
BROKEN = [
    Sample(
        "broken-no-os-release",
        "No os-release at all: portabled refuses ('lacks os-release data').",
        {
            "usr/lib/systemd/system/broken-no-os-release.service": _service(
                "broken-no-os-release", "unit", "/usr/bin/true"
            ),
            "etc/resolv.conf": "",
            "etc/machine-id": "",
        },
    ),
    Sample(
        "broken-no-id",
        "os-release without ID=: attach refuses ('lacks the ID field').",
        _os_tree(
            {
                "usr/lib/os-release": 'PRETTY_NAME="No ID"\nVERSION_ID=12\n',
                "usr/lib/systemd/system/broken-no-id.service": _service(
                    "broken-no-id", "unit", "/usr/bin/true"
                ),
            }
        ),
    ),
    Sample(
        "broken-no-units",
        "No unit matches the image's prefix: attach and inspect refuse.",
        _os_tree(
            {
                "usr/lib/os-release": _DEBIAN,
                "usr/lib/systemd/system/something-else.service": _service(
                    "something-else", "wrong prefix", "/usr/bin/true"
                ),
            }
        ),
    ),
    Sample(
        "broken-empty-unit",
        "The only matching unit is empty (masked): portabled skips it.",
        _os_tree(
            {"usr/lib/os-release": _DEBIAN, "usr/lib/systemd/system/broken-empty-unit.service": ""}
        ),
    ),
    Sample(
        "broken-dangling",
        "The unit is a dangling symlink and /etc/os-release points nowhere.",
        _os_tree(
            {
                "etc/os-release": Symlink("../usr/lib/os-release.d/debian"),
                "usr/lib/os-release": _DEBIAN,
                "usr/lib/systemd/system/broken-dangling.service": Symlink(
                    "/usr/share/nowhere.service"
                ),
                "usr/lib/systemd/system/broken-dangling-helper.service": _service(
                    "broken-dangling-helper", "helper", "/usr/bin/true"
                ),
            }
        ),
    ),
    Sample(
        "broken-no-mountpoints",
        "Missing /etc/resolv.conf, /etc/machine-id and mount points.",
        {
            "usr/lib/os-release": _DEBIAN,
            "etc/os-release": Symlink("../usr/lib/os-release"),
            "usr/lib/systemd/system/broken-no-mountpoints.service": _service(
                "broken-no-mountpoints", "unit", "/usr/bin/true"
            ),
        },
    ),
    Sample(
        "broken-bad-prefixes",
        "PORTABLE_PREFIXES does not allow the image's own prefix.",
        _os_tree(
            {
                "usr/lib/os-release": _DEBIAN + "PORTABLE_PREFIXES=other\n",
                "usr/lib/systemd/system/broken-bad-prefixes.service": _service(
                    "broken-bad-prefixes", "unit", "/usr/bin/true"
                ),
            }
        ),
    ),
    Sample(
        "broken-ext-misnamed",
        "An extension whose release file has another name.",
        {
            "usr/lib/extension-release.d/extension-release.something": "ID=debian\nVERSION_ID=12\n",
            "usr/lib/systemd/system/webapp-misnamed.service": _service(
                "webapp-misnamed", "unit", "/usr/bin/true"
            ),
        },
        extension=True,
    ),
    Sample(
        "broken-ext-scope",
        "An extension for system use only (SYSEXT_SCOPE=system).",
        {
            "usr/lib/extension-release.d/extension-release.broken-ext-scope": (
                "ID=debian\nVERSION_ID=12\nSYSEXT_SCOPE=system\n"
            ),
            "usr/lib/systemd/system/webapp-scope.service": _service(
                "webapp-scope", "unit", "/usr/bin/true"
            ),
        },
        extension=True,
    ),
    Sample(
        "broken-masked",
        "A matching unit masked with a symlink to /dev/null: portabled skips it silently.",
        _os_tree(
            {
                "usr/lib/os-release": _DEBIAN,
                "usr/lib/systemd/system/broken-masked.service": Symlink("/dev/null"),
                "usr/lib/systemd/system/broken-masked-helper.service": _service(
                    "broken-masked-helper", "helper", "/usr/bin/true"
                ),
            }
        ),
    ),
    Sample(
        "broken-unit-types",
        "Matching .mount and .slice units: portabled never attaches those unit types.",
        _os_tree(
            {
                "usr/lib/os-release": _DEBIAN,
                "usr/lib/systemd/system/broken-unit-types.service": _service(
                    "broken-unit-types", "unit", "/usr/bin/true"
                ),
                "usr/lib/systemd/system/broken-unit-types.mount": (
                    "[Mount]\nWhat=tmpfs\nWhere=/broken-unit-types\nType=tmpfs\n"
                ),
                "usr/lib/systemd/system/broken-unit-types.slice": "[Slice]\nCPUWeight=50\n",
            }
        ),
    ),
    Sample(
        "broken-hidden",
        "Unit files with hidden or backup names (.name, ~, .dpkg-old): portabled skips them.",
        _os_tree(
            {
                "usr/lib/os-release": _DEBIAN,
                "usr/lib/systemd/system/broken-hidden.service": _service(
                    "broken-hidden", "unit", "/usr/bin/true"
                ),
                "usr/lib/systemd/system/.broken-hidden-draft.service": _service(
                    "broken-hidden-draft", "hidden", "/usr/bin/true"
                ),
                "usr/lib/systemd/system/broken-hidden-worker.service~": _service(
                    "broken-hidden-worker", "editor backup", "/usr/bin/true"
                ),
                "usr/lib/systemd/system/broken-hidden-worker.service.dpkg-old": _service(
                    "broken-hidden-worker", "package backup", "/usr/bin/true"
                ),
            }
        ),
    ),
    Sample(
        "broken-typo",
        "A unit file with a misspelt suffix (.servce) is not a unit: portabled skips it.",
        _os_tree(
            {
                "usr/lib/os-release": _DEBIAN,
                "usr/lib/systemd/system/broken-typo.servce": _service(
                    "broken-typo", "misspelt suffix", "/usr/bin/true"
                ),
                "usr/lib/systemd/system/broken-typo-helper.service": _service(
                    "broken-typo-helper", "helper", "/usr/bin/true"
                ),
            }
        ),
    ),
    Sample(
        "broken-not-a-file",
        "A directory named like a unit (broken-not-a-file.service/): portabled skips it.",
        _os_tree(
            {
                "usr/lib/os-release": _DEBIAN,
                "usr/lib/systemd/system/broken-not-a-file.service/override.conf": (
                    "[Service]\nNice=5\n"
                ),
                "usr/lib/systemd/system/broken-not-a-file-helper.service": _service(
                    "broken-not-a-file-helper", "helper", "/usr/bin/true"
                ),
            }
        ),
    ),
    Sample(
        "broken-shadowed",
        "The same unit in /etc/systemd/system and /usr/lib/systemd/system: the /usr copy is "
        "never attached.",
        _os_tree(
            {
                "usr/lib/os-release": _DEBIAN,
                "etc/systemd/system/broken-shadowed.service": _service(
                    "broken-shadowed", "the copy in /etc wins", "/usr/bin/true"
                ),
                "usr/lib/systemd/system/broken-shadowed.service": _service(
                    "broken-shadowed", "never attached", "/usr/bin/true --verbose"
                ),
            }
        ),
    ),
    Sample(
        "broken-absolute-link",
        "A unit symlink with an absolute target: systemd 252 and 257 read it from the host.",
        _os_tree(
            {
                "usr/lib/os-release": _DEBIAN,
                "usr/share/broken-absolute-link/unit.service": _service(
                    "broken-absolute-link", "read from the host up to systemd 259", "/usr/bin/true"
                ),
                "usr/lib/systemd/system/broken-absolute-link.service": Symlink(
                    "/usr/share/broken-absolute-link/unit.service"
                ),
                "usr/lib/systemd/system/broken-absolute-link-helper.service": _service(
                    "broken-absolute-link-helper", "helper", "/usr/bin/true"
                ),
            }
        ),
    ),
    Sample(
        "broken-unit-syntax",
        "A unit file systemd cannot load (a section header without ']'); portabled attaches it.",
        _os_tree(
            {
                "usr/lib/os-release": _DEBIAN,
                "usr/lib/systemd/system/broken-unit-syntax.service": (
                    "[Unit]\nDescription=unit\n\n[Service\nExecStart=/usr/bin/true\n"
                ),
            }
        ),
    ),
    Sample(
        "broken-no-loader",
        "An ELF executable whose dynamic loader (PT_INTERP) the image does not contain.",
        _os_tree(
            {
                "usr/lib/os-release": _DEBIAN,
                "usr/bin/broken-no-loader": _elf("/lib64/ld-linux-x86-64.so.2"),
                "usr/lib/systemd/system/broken-no-loader.service": _service(
                    "broken-no-loader", "unit", "/usr/bin/broken-no-loader"
                ),
            }
        ),
        modes={"usr/bin/broken-no-loader": 0o755},
    ),
    Sample(
        "broken-foreign-arch",
        "An ELF executable built for arm64 (its loader is there): an x86-64 host cannot run it.",
        _os_tree(
            {
                "usr/lib/os-release": _DEBIAN,
                "usr/bin/broken-foreign-arch": _elf("/lib/ld-linux-aarch64.so.1", "arm64"),
                "usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1": "",
                "lib": Symlink("usr/lib"),
                "usr/lib/ld-linux-aarch64.so.1": Symlink("aarch64-linux-gnu/ld-linux-aarch64.so.1"),
                "usr/lib/systemd/system/broken-foreign-arch.service": _service(
                    "broken-foreign-arch", "unit", "/usr/bin/broken-foreign-arch"
                ),
            }
        ),
        modes={"usr/bin/broken-foreign-arch": 0o755},
    ),
    Sample(
        "broken-portable-scope",
        "PORTABLE_SCOPE=user: systemd 262's system portabled refuses it (earlier versions "
        "ignore the field).",
        _os_tree(
            {
                "usr/lib/os-release": _DEBIAN + "PORTABLE_SCOPE=user\n",
                "usr/lib/systemd/system/broken-portable-scope.service": _service(
                    "broken-portable-scope", "unit", "/usr/bin/true"
                ),
            }
        ),
    ),
    Sample(
        "broken-ext-utf8",
        "An extension whose extension-release file is not valid UTF-8: attach fails with EINVAL.",
        {
            "usr/lib/extension-release.d/extension-release.broken-ext-utf8": (
                b"ID=debian\nVERSION_ID=12\nSYSEXT_ID=caf\xe9\n"
            ),
            "usr/lib/systemd/system/webapp-utf8.service": _service(
                "webapp-utf8", "unit", "/usr/bin/true"
            ),
        },
        extension=True,
    ),
    Sample(
        "broken-ext-renamed_1.0",
        "A versioned extension whose release file drops the version: found by systemd 256+, "
        "missing for 252.",
        {
            "usr/lib/extension-release.d/extension-release.broken-ext-renamed": (
                "ID=debian\nVERSION_ID=12\n"
            ),
            "usr/lib/systemd/system/webapp-renamed.service": _service(
                "webapp-renamed", "unit", "/usr/bin/true"
            ),
        },
        extension=True,
    ),
    Sample(
        "broken-ext-arch",
        "An extension for another architecture (ARCHITECTURE=s390x).",
        {
            "usr/lib/extension-release.d/extension-release.broken-ext-arch": (
                "ID=debian\nVERSION_ID=12\nARCHITECTURE=s390x\n"
            ),
            "usr/lib/systemd/system/webapp-arch.service": _service(
                "webapp-arch", "unit", "/usr/bin/true"
            ),
        },
        extension=True,
    ),
    Sample(
        "broken-ext-no-id",
        "An extension-release file without ID= (not even ID=_any).",
        {
            "usr/lib/extension-release.d/extension-release.broken-ext-no-id": (
                "VERSION_ID=12\nSYSEXT_SCOPE=portable\n"
            ),
            "usr/lib/systemd/system/webapp-no-id.service": _service(
                "webapp-no-id", "unit", "/usr/bin/true"
            ),
        },
        extension=True,
    ),
    Sample(
        "broken-ext-id",
        "An extension built for another OS (ID=fedora) than its Debian base.",
        {
            "usr/lib/extension-release.d/extension-release.broken-ext-id": (
                "ID=fedora\nVERSION_ID=12\n"
            ),
            "usr/lib/systemd/system/webapp-id.service": _service(
                "webapp-id", "unit", "/usr/bin/true"
            ),
        },
        extension=True,
    ),
    Sample(
        "broken-ext-version",
        "An extension with SYSEXT_LEVEL= but no VERSION_ID=, on a base that has only VERSION_ID=.",
        {
            "usr/lib/extension-release.d/extension-release.broken-ext-version": (
                "ID=debian\nSYSEXT_LEVEL=1.0\n"
            ),
            "usr/lib/systemd/system/webapp-version.service": _service(
                "webapp-version", "unit", "/usr/bin/true"
            ),
        },
        extension=True,
    ),
]

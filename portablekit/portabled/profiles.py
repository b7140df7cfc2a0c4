"""Security profiles: the drop-ins portabled links (or copies) as ``10-profile.conf``.

Built-in profiles ship as ``/usr/lib/systemd/portable/profile/<name>/service.conf``;
:func:`builtin_profile` returns the exact bytes of each systemd version's Debian package.
On a host, :func:`find_profile` looks a profile up the way portabled does: the first existing
``<dir>/<name>/<unit type>.conf`` of :data:`PROFILE_DIRS` (a final link is not followed, so a
dangling one counts). An unknown profile name is not an error: the unit just gets no profile.

>>> builtin_profile("strict", 257).splitlines()[0]
'# The "strict" security profile for services, all options turned on'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import PurePosixPath

from ..names import filename_is_valid, is_hidden_or_backup
from ..source import FileKind
from ..versions import SUPPORTED_VERSIONS
from .host import Host

__all__ = [
    "BUILTIN_PROFILES",
    "PROFILE_DIRS",
    "Profile",
    "builtin_profile",
    "builtin_profiles",
    "find_profile",
    "list_profiles",
    "profile_name_is_valid",
]

#: Where portabled looks for profiles, in priority order.
PROFILE_DIRS = (
    PurePosixPath("/etc/systemd/portable/profile"),
    PurePosixPath("/run/systemd/portable/profile"),
    PurePosixPath("/usr/local/lib/systemd/portable/profile"),
    PurePosixPath("/usr/lib/systemd/portable/profile"),
)

#: The profiles systemd ships, in the order ``--profile=help`` lists them (sorted).
BUILTIN_PROFILES = ("default", "nonetwork", "strict", "trusted")


@dataclass(frozen=True, slots=True)
class Profile:
    """One profile drop-in: its name, the unit type it is for, its text and where it lives."""

    name: str
    unit_type: str
    text: str
    path: PurePosixPath | None = None
    version: int | None = None

    @property
    def builtin(self) -> bool:
        """Whether this is one of the profiles systemd ships (unchanged)."""
        return (
            self.version is not None
            and self.name in BUILTIN_PROFILES
            and self.unit_type == "service"
            and self.text == builtin_profile(self.name, self.version)
        )


@cache
def builtin_profile(name: str, version: int) -> str:
    """The bytes of ``<name>/service.conf`` as systemd ``version`` ships it (decoded)."""
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported systemd version {version}")
    if name not in BUILTIN_PROFILES:
        raise KeyError(f"no built-in profile {name!r} (built-in: {', '.join(BUILTIN_PROFILES)})")
    ref = (
        resources.files("portablekit") / "data" / "profiles" / str(version) / name / "service.conf"
    )
    return ref.read_bytes().decode("utf-8")


def builtin_profiles(version: int) -> dict[str, Profile]:
    """All built-in profiles of a version, by name."""
    return {
        n: Profile(
            n,
            "service",
            builtin_profile(n, version),
            PROFILE_DIRS[-1] / n / "service.conf",
            version,
        )
        for n in BUILTIN_PROFILES
    }


def profile_name_is_valid(name: str) -> bool:
    """portablectl accepts a profile name that is a valid file name."""
    return filename_is_valid(name)


def find_profile(host: Host, name: str, unit_type: str) -> PurePosixPath | None:
    """``find_portable_profile()``: the profile file for a unit type, or ``None``."""
    for d in PROFILE_DIRS:
        p = d / name / f"{unit_type}.conf"
        if host.kind(p, follow=False) is not None:
            return p
    return None


def list_profiles(host: Host) -> list[str]:
    """``--profile=help``: profile directory names found in any profile directory, sorted."""
    names: set[str] = set()
    for d in PROFILE_DIRS:
        for entry in host.listdir(d):
            if is_hidden_or_backup(entry):
                continue
            if host.kind(d / entry) is FileKind.DIR:
                names.add(entry)
    return sorted(names)


def read_profile(host: Host, name: str, unit_type: str = "service") -> Profile | None:
    """The profile a unit of ``unit_type`` would get on ``host``, with its text."""
    p = find_profile(host, name, unit_type)
    if p is None:
        return None
    text = host.read_text(p)
    return Profile(name, unit_type, text or "", p, host.systemd.version)

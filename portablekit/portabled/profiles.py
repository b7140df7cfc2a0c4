"""Security profiles: the drop-ins portabled links (or copies) as ``10-profile.conf``.

Built-in profiles ship as ``/usr/lib/systemd/portable/profile/<name>/service.conf``;
:func:`builtin_profile` returns the exact bytes of each systemd version's Debian package
(:func:`builtin_profile_unit` parsed). On a host, :func:`find_profile` looks a profile up the
way portabled does: the first existing ``<dir>/<name>/<unit type>.conf`` of
:data:`PROFILE_DIRS` (a final link is not followed, so a dangling one counts). An unknown profile
name is not an error: the unit just gets no profile. :func:`load_profile` takes a profile the way
``systemd-analyze --profile`` does: a built-in name or a path.

>>> from portablekit.versions import Systemd
>>> builtin_profile("strict", Systemd(257)).splitlines()[0]
'# The "strict" security profile for services, all options turned on'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path, PurePosixPath

from ..names import filename_is_valid, is_hidden_or_backup
from ..source import FileKind, read_regular_file
from ..unitfile import UnitFile
from ..versions import Systemd
from .host import Host

__all__ = [
    "BUILTIN_PROFILES",
    "MAX_PROFILE",
    "PROFILE_DIRS",
    "Profile",
    "builtin_profile",
    "builtin_profile_unit",
    "builtin_profiles",
    "find_profile",
    "list_profiles",
    "load_profile",
    "profile_name_is_valid",
    "read_profile",
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

#: The most of a profile file named by path that is read (a profile is a few kilobytes).
MAX_PROFILE = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Profile:
    """One profile drop-in: its name, the unit type it is for, its text and where it lives;
    ``systemd`` is the version of the host it was found on."""

    name: str
    unit_type: str
    text: str
    path: PurePosixPath | None = None
    systemd: Systemd | None = None

    @property
    def builtin(self) -> bool:
        """Whether this is one of the profiles systemd ships (unchanged)."""
        return (
            self.systemd is not None
            and self.name in BUILTIN_PROFILES
            and self.unit_type == "service"
            and self.text == builtin_profile(self.name, self.systemd)
        )


@cache
def builtin_profile(name: str, systemd: Systemd) -> str:
    """The bytes of ``<name>/service.conf`` as ``systemd`` ships it (decoded).

    Raises :class:`KeyError` for a name that is not built in.
    """
    if name not in BUILTIN_PROFILES:
        raise KeyError(f"no built-in profile {name!r} (built-in: {', '.join(BUILTIN_PROFILES)})")
    ref = resources.files("portablekit").joinpath(
        "data", "profiles", str(systemd.version), name, "service.conf"
    )
    return ref.read_bytes().decode("utf-8")


def builtin_profile_unit(name: str, systemd: Systemd) -> UnitFile:
    """:func:`builtin_profile`, parsed (its origin is the path systemd installs it at).

    Raises :class:`KeyError` for a name that is not built in.
    """
    text = builtin_profile(name, systemd)
    return UnitFile.parse(text, origin=str(PROFILE_DIRS[-1] / name / "service.conf"))


def builtin_profiles(systemd: Systemd) -> dict[str, Profile]:
    """All built-in profiles of ``systemd``, by name."""
    return {
        n: Profile(
            n,
            "service",
            builtin_profile(n, systemd),
            PROFILE_DIRS[-1] / n / "service.conf",
            systemd,
        )
        for n in BUILTIN_PROFILES
    }


def load_profile(profile: str | Path | UnitFile, systemd: Systemd) -> tuple[str, UnitFile]:
    """``(name, content)`` of a profile given as a built-in name (of ``systemd``), a path (a
    ``service.conf`` or a directory holding one, as in ``/etc/systemd/portable/profile/NAME/``)
    or parsed content. Raises :class:`KeyError` for a name that is not built in."""
    if isinstance(profile, UnitFile):
        return Path(profile.origin).parent.name or "custom", profile
    text = str(profile)
    if "/" not in text and not isinstance(profile, Path):
        return text, builtin_profile_unit(text, systemd)
    path = Path(profile)
    if path.is_dir():
        path = path / "service.conf"
    name = path.parent.name if path.name == "service.conf" else path.stem
    # named on a command line: a FIFO there must not hang the read
    return name, UnitFile.parse(read_regular_file(path, limit=MAX_PROFILE), origin=str(path))


def profile_name_is_valid(name: str) -> bool:
    """portablectl accepts a profile name that is a valid file name."""
    return filename_is_valid(name)


def find_profile(host: Host, name: str, unit_type: str) -> PurePosixPath | None:
    """``find_portable_profile()``: the profile file for a unit type, or ``None``."""
    for p in _profile_candidates(name, unit_type):
        if host.kind(p, follow=False) is not None:
            return p
    return None


@lru_cache(maxsize=64)
def _profile_candidates(name: str, unit_type: str) -> tuple[PurePosixPath, ...]:
    """Where :func:`find_profile` looks, in order (made once: attach asks for every unit)."""
    return tuple(d / name / f"{unit_type}.conf" for d in PROFILE_DIRS)


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
    return Profile(name, unit_type, text or "", p, host.systemd)

"""portablectl's command line: its verbs, its options, its help and ``getopt_long()``'s wording.

:func:`parse_args` turns arguments into :class:`Options`; :mod:`portablekit.cli.portablectl` runs
them. Errors are :class:`~portablekit.errors.UsageError` with portablectl's own texts (exit
status 1, as portablectl exits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import UsageError
from ..portabled.profiles import profile_name_is_valid
from ..versions import Systemd
from .texttable import help_entry

__all__ = ["HELP", "VERBS", "VERB_HELP", "Options", "parse_args"]

VERBS = {
    # name: (min args incl. verb, max args incl. verb or None)
    "help": (1, None),
    "list": (1, 1),
    "attach": (2, None),
    "detach": (2, None),
    "inspect": (2, None),
    "is-attached": (2, 2),
    "read-only": (2, 3),
    "remove": (2, None),
    "set-limit": (3, 3),
    "reattach": (2, None),
}

# long options: name -> takes an argument
_LONG = {
    "help": False,
    "version": False,
    "no-pager": False,
    "no-legend": False,
    "no-ask-password": False,
    "quiet": False,
    "runtime": False,
    "profile": True,
    "copy": True,
    "host": True,
    "machine": True,
    "system": False,
    "user": False,
    "enable": False,
    "now": False,
    "no-block": False,
    "force": False,
    "no-reload": False,
    "extension": True,
    "cat": False,
    "clean": False,
    # portablekit's own
    "json": None,  # optional argument
    "dry-run": False,
}
_SHORT = {"h": "help", "q": "quiet", "p": "profile", "H": "host", "M": "machine"}


@dataclass
class Options:
    """portablectl's options after parsing."""

    verb: str = "list"
    args: list[str] = field(default_factory=list)
    quiet: bool = False
    legend: bool = True
    runtime: bool = False
    profile: str = "default"
    copy: str = "auto"
    enable: bool = False
    now: bool = False
    no_block: bool = False
    force: bool = False
    reload: bool = True
    extensions: list[str] = field(default_factory=list)
    cat: bool = False
    clean: bool = False
    json: str | None = None
    dry_run: bool = False
    show_help: bool = False
    show_version: bool = False
    host: str | None = None
    machine: str | None = None
    user: bool = False


def parse_args(argv: Sequence[str], systemd: Systemd, prog: str = "portablectl") -> Options:
    """Parse portablectl's command line like ``getopt_long()`` (options anywhere, ``--`` ends
    them). Errors raise :class:`~portablekit.errors.UsageError` with getopt's wording."""
    o = Options()
    positional: list[str] = []
    longs = dict(_LONG)
    if not systemd.has_clean:
        longs.pop("clean")
    i = 0
    args = list(argv)
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            positional.extend(args[i:])
            break
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            matches = [n for n in longs if n.startswith(name)]
            if name in longs:
                matches = [name]
            if len(matches) != 1:
                if len(matches) > 1:
                    raise UsageError(f"{prog}: option '{a}' is ambiguous")
                raise UsageError(f"{prog}: unrecognized option '{a}'")
            name = matches[0]
            takes = longs[name]
            value: str | None = None
            if takes is True:
                if eq:
                    value = val
                elif i < len(args):
                    value = args[i]
                    i += 1
                else:
                    raise UsageError(f"{prog}: option '--{name}' requires an argument")
            elif takes is False and eq:
                raise UsageError(f"{prog}: option '--{name}' doesn't allow an argument")
            elif takes is None:
                value = val if eq else "short"
            _set(o, name, value, systemd)
        elif a.startswith("-") and a != "-":
            j = 1
            while j < len(a):
                c = a[j]
                j += 1
                if c not in _SHORT:
                    raise UsageError(f"{prog}: invalid option -- '{c}'")
                name = _SHORT[c]
                value = None
                if _LONG[name]:
                    if j < len(a):
                        value = a[j:]
                    elif i < len(args):
                        value = args[i]
                        i += 1
                    else:
                        raise UsageError(f"{prog}: option requires an argument -- '{c}'")
                    j = len(a)
                _set(o, name, value, systemd)
        else:
            positional.append(a)
    if positional:
        o.verb = positional[0]
        o.args = positional[1:]
    return o


def _set(o: Options, name: str, value: str | None, systemd: Systemd) -> None:
    if name == "help":
        o.show_help = True
    elif name == "version":
        o.show_version = True
    elif name == "no-legend":
        o.legend = False
    elif name == "quiet":
        o.quiet = True
    elif name == "runtime":
        o.runtime = True
    elif name == "profile":
        assert value is not None
        if value == "help":
            o.profile = "help"
        elif not profile_name_is_valid(value):
            raise UsageError(f"Unit profile name not valid: {value}")
        else:
            o.profile = value
    elif name == "copy":
        assert value is not None
        if value == "help":
            o.copy = "help"
        elif value not in systemd.copy_modes:
            raise UsageError(f"Failed to parse --copy= argument: {value}")
        else:
            o.copy = value
    elif name == "host":
        o.host = value
    elif name == "machine":
        o.machine = value
    elif name == "user":
        o.user = True
    elif name == "system":
        o.user = False
    elif name == "enable":
        o.enable = True
    elif name == "now":
        o.now = True
    elif name == "no-block":
        o.no_block = True
    elif name == "force":
        o.force = True
    elif name == "no-reload":
        o.reload = False
    elif name == "extension":
        assert value is not None
        o.extensions.append(value)
    elif name == "cat":
        o.cat = True
    elif name == "clean":
        o.clean = True
    elif name == "json":
        if value not in ("short", "pretty", "off", "help"):
            raise UsageError(f"Unknown argument to --json= option: {value}")
        o.json = None if value == "off" else value
    elif name == "dry-run":
        o.dry_run = True


#: The verbs portablekit simulates, as portablectl's help lists them: synopsis and summary.
VERB_HELP = (
    ("list", "List available portable service images"),
    ("attach NAME|PATH [PREFIX...]", "Attach the specified portable service image"),
    ("detach NAME|PATH [PREFIX...]", "Detach the specified portable service image"),
    ("reattach NAME|PATH [PREFIX...]", "Reattach the specified portable service image"),
    ("inspect NAME|PATH [PREFIX...]", "Show details of specified portable service image"),
    ("is-attached NAME|PATH", "Query if portable service image is attached"),
)

#: portablectl's ``--help`` (``{prog}`` is the program name).
HELP = """\
{prog} [OPTIONS...] COMMAND ...

Attach or detach portable services from the local system (simulated in a sandbox root).

Commands:
{verbs}

Options:
  -h --help                   Show this help
     --version                Show package version
     --no-legend              Do not show the headers and footers
  -q --quiet                  Suppress informational messages
  -p --profile=PROFILE        Pick security profile for portable service
     --copy=copy|auto|symlink|mixed
                              Pick copying or symlinking of resources
     --runtime                Attach portable service until next reboot only
     --no-reload              Don't reload the system and service manager
     --cat                    When inspecting include unit and os-release file
                              contents
     --enable                 Immediately enable/disable the portable service
                              after attach/detach
     --now                    Immediately start/stop the portable service after
                              attach/before detach
     --force                  Skip 'already active' check when attaching or
                              detaching an image (with extensions)
     --clean                  When detaching, also remove configuration, state,
                              cache, logs or runtime data of the portable
                              service(s)
     --extension=PATH         Extend the image with an overlay
     --json[=pretty|short]    Print machine-readable output (portablekit)
     --dry-run                Show the plan of attach/detach/reattach, write
                              nothing (portablekit)
""".replace("{verbs}", "\n".join(help_entry(*v) for v in VERB_HELP))

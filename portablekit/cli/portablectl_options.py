"""portablectl's command line: its verbs, its options, its help and its option parser's wording.

:func:`parse_args` turns arguments into :class:`Options`; :mod:`portablekit.cli.portablectl` runs
them. Errors are :class:`~portablekit.errors.UsageError` with portablectl's own texts (exit
status 1, as portablectl exits), per version: 252/257 word them as glibc's ``getopt_long()``,
262 as systemd's own option parser.

The kit's own options (``--json``, ``--dry-run``) exist only when the program is not emulating
portablectl (``prog`` other than ``portablectl``); emulating it, they are unknown options as
they are to the real one. :func:`help_text` is each version's ``--help`` byte for byte; the kit
adds one paragraph about its own options after it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources

from ..errors import UsageError
from ..portabled.profiles import profile_name_is_valid
from ..versions import Systemd

__all__ = [
    "EMULATED",
    "VERBS",
    "VERB_HELP",
    "Options",
    "help_text",
    "parse_args",
    "parse_size",
    "verb_arity",
    "version_text",
]

#: The program name under which the kit emulates portablectl exactly (replays use it).
EMULATED = "portablectl"

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


def verb_arity(verb: str, systemd: Systemd) -> tuple[int, int | None]:
    """``(min, max)`` arguments of a verb, the verb included (``None``: no maximum)."""
    if verb == "set-limit" and systemd.set_limit_sets_pool_limit:
        return (2, 3)
    return VERBS[verb]


# long options, in portablectl's own order (an ambiguous abbreviation lists them in it):
# name -> takes an argument
_LONG: dict[str, bool | None] = {
    "help": False,
    "version": False,
    "no-pager": False,
    "no-legend": False,
    "no-ask-password": False,
    "host": True,
    "machine": True,
    "quiet": False,
    "profile": True,
    "copy": True,
    "runtime": False,
    "no-reload": False,
    "cat": False,
    "enable": False,
    "now": False,
    "no-block": False,
    "extension": True,
    "force": False,
    "clean": False,
    "user": False,
    "system": False,
}
#: portablekit's own options (not portablectl's): name -> takes an argument (None: optional)
_KIT_LONG: dict[str, bool | None] = {"json": None, "dry-run": False}
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

    @property
    def stops(self) -> bool:
        """An option that ends the parsing: portablectl shows what it asks for and exits."""
        return self.show_help or self.show_version or "help" in (self.copy, self.profile)


def _long_options(systemd: Systemd, prog: str) -> dict[str, bool | None]:
    longs: dict[str, bool | None] = dict(_LONG)
    if not systemd.has_clean:
        longs.pop("clean")
    if not systemd.has_scope_options:
        longs.pop("user")
        longs.pop("system")
    if prog != EMULATED:
        longs.update(_KIT_LONG)
    return longs


def _unrecognized(prog: str, arg: str, systemd: Systemd) -> UsageError:
    if systemd.option_errors_name_the_option:
        arg = arg.partition("=")[0]
    return UsageError(f"{prog}: unrecognized option '{arg}'")


def _ambiguous(prog: str, option: str, matches: Sequence[str], systemd: Systemd) -> UsageError:
    if systemd.option_errors_name_the_option:
        listed = ", ".join(f"--{m}" for m in matches)
    else:
        listed = " ".join(f"'--{m}'" for m in matches)
    return UsageError(f"{prog}: option '{option}' is ambiguous; possibilities: {listed}")


def _needs_argument(prog: str, option: str, systemd: Systemd) -> UsageError:
    if option.startswith("--") or systemd.option_errors_name_the_option:
        return UsageError(f"{prog}: option '{option}' requires an argument")
    return UsageError(f"{prog}: option requires an argument -- '{option[1:]}'")


def parse_args(argv: Sequence[str], systemd: Systemd, prog: str = EMULATED) -> Options:
    """Parse portablectl's command line as it does: options anywhere, processed in order
    (``--`` ends them); ``--help``, ``--version``, ``--copy=help`` and ``--profile=help`` end
    the parsing there (the caller shows what they ask for). Errors raise
    :class:`~portablekit.errors.UsageError` with the version's wording."""
    o = Options()
    positional: list[str] = []
    longs = _long_options(systemd, prog)
    i = 0
    args = list(argv)
    while i < len(args) and not o.stops:
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
                    raise _ambiguous(prog, f"--{name}", matches, systemd)
                raise _unrecognized(prog, a, systemd)
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
                    raise _needs_argument(prog, f"--{name}", systemd)
            elif takes is False and eq:
                raise UsageError(f"{prog}: option '--{name}' doesn't allow an argument")
            elif takes is None:
                value = val if eq else "short"
            _set(o, name, value, systemd)
        elif a.startswith("-") and a != "-":
            j = 1
            while j < len(a) and not o.stops:
                c = a[j]
                j += 1
                if c not in _SHORT:
                    if systemd.option_errors_name_the_option:
                        raise UsageError(f"{prog}: unrecognized option '-{c}'")
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
                        raise _needs_argument(prog, f"-{c}", systemd)
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


# -- values portablectl parses itself -----------------------------------------------------------

_IEC = (
    ("E", 1024**6),
    ("P", 1024**5),
    ("T", 1024**4),
    ("G", 1024**3),
    ("M", 1024**2),
    ("K", 1024),
    ("B", 1),
    ("", 1),
)
_NUMBER = re.compile(r"[ \t\n\r]*(\d+)(?:\.(\d*))?[ \t\n\r]*")


def parse_size(text: str) -> int | None:
    """systemd's ``parse_size(t, 1024)`` (``1G``, ``1.5M``, ``2G 512M``), ``None`` where it
    fails.

    >>> parse_size("1G"), parse_size("1.5K"), parse_size("2G 512M") == (2 * 1024 + 512) << 20
    (1073741824, 1536, True)
    >>> parse_size("bogus"), parse_size("-1"), parse_size("")
    (None, None, None)
    """
    total, pos, start = 0, 0, 0
    while True:
        m = _NUMBER.match(text, pos)
        if m is None:
            return None
        whole = int(m.group(1))
        frac_digits = m.group(2) or ""
        frac = int(frac_digits) / 10 ** len(frac_digits) if frac_digits else 0.0
        rest = text[m.end() :]
        for k in range(start, len(_IEC)):
            suffix, factor = _IEC[k]
            if rest.startswith(suffix):
                break
        else:
            return None
        total += whole * factor + int(frac * factor)
        if total >= 1 << 64:
            return None
        pos = m.end() + len(suffix)
        start = k + 1
        if pos >= len(text):
            return total


# -- help and version ---------------------------------------------------------------------------

#: The verbs as the kit's overview lists them: synopsis and summary.
VERB_HELP = (
    ("list", "List available portable service images"),
    ("attach NAME|PATH [PREFIX...]", "Attach the specified portable service image"),
    ("detach NAME|PATH [PREFIX...]", "Detach the specified portable service image"),
    ("reattach NAME|PATH [PREFIX...]", "Reattach the specified portable service image"),
    ("inspect NAME|PATH [PREFIX...]", "Show details of specified portable service image"),
    ("is-attached NAME|PATH", "Query if portable service image is attached"),
    ("read-only NAME|PATH [BOOL]", "Mark or unmark portable service image read-only"),
    ("remove NAME|PATH...", "Remove a portable service image"),
    ("set-limit [NAME|PATH]", "Set image or pool size limit (disk quota)"),
)

#: What the kit adds after portablectl's help when it is not emulating portablectl.
_KIT_OPTIONS = """
portablekit simulates these verbs in a sandbox root. Its own options:
     --json[=pretty|short]    Print machine-readable output
     --dry-run                Show the plan of attach/detach/reattach/read-only/remove,
                              write nothing
"""


def _data(systemd: Systemd, name: str) -> str:
    ref = resources.files("portablekit") / "data" / "host" / str(systemd.version) / name
    return ref.read_text(encoding="utf-8")


def help_text(systemd: Systemd, prog: str = EMULATED) -> str:
    """``portablectl --help`` of this version, byte for byte, naming ``prog`` where portablectl
    names itself; the kit (``prog`` not ``portablectl``) adds a paragraph on its own options."""
    text = _data(systemd, "portablectl-help.txt")
    first, _, rest = text.partition("\n")
    text = first.replace(EMULATED, prog, 1) + "\n" + rest
    return text if prog == EMULATED else text + _KIT_OPTIONS


def version_text(systemd: Systemd, prog: str = EMULATED) -> str:
    """``portablectl --version`` of this version (the Debian build's features line); the kit
    also says what it is."""
    text = f"systemd {systemd.version} ({systemd.package_version})\n"
    text += _data(systemd, "features.txt")
    if prog != EMULATED:
        text += "portablekit simulation of portablectl\n"
    return text

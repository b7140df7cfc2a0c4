"""The ``portablekit`` command's global options, parsed once into one immutable value.

``--root DIR`` (or ``$PORTABLEKIT_ROOT``), ``--systemd 252|257|262`` and ``--fixed`` may stand
anywhere on the line, before or after the command, because portablectl's own options interleave
with them (``portablekit attach --root R --profile strict foo``); ``--`` ends them.
:meth:`Invocation.parse` takes them out and keeps the rest of the line for the command.

>>> inv = Invocation.parse(["attach", "--systemd=262", "foo", "--fixed"], environ={})
>>> inv.args, str(inv.systemd), inv.root
(('attach', 'foo'), 'systemd 262 (fixed)', None)
>>> Invocation.parse(["list", "--systemd", "300"], environ={})
Traceback (most recent call last):
...
portablekit.errors.UsageError: portablekit: --systemd must be one of 252|257|262, not '300'
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import SandboxError, UsageError
from ..sandbox import SandboxRoot
from ..versions import SUPPORTED_VERSIONS, Systemd

__all__ = ["ROOT_ENV", "USAGE_EXIT", "Invocation"]

#: The environment variable naming the sandbox root when ``--root`` is not given.
ROOT_ENV = "PORTABLEKIT_ROOT"
#: The exit status of a command line the kit's own commands or global options refuse.
USAGE_EXIT = 2


def _systemd_option(value: str, fixed: bool) -> Systemd:
    """``--systemd VALUE``: the one place its value is checked."""
    if value.isascii() and value.isdigit() and int(value) in SUPPORTED_VERSIONS:
        return Systemd(int(value), fixed=fixed)
    supported = "|".join(map(str, SUPPORTED_VERSIONS))
    raise UsageError(
        f"portablekit: --systemd must be one of {supported}, not '{value}'", exit_code=USAGE_EXIT
    )


def _systemd_list(value: str, fixed: bool) -> tuple[Systemd, ...]:
    """``--systemd 252,257,262``: several versions, for the commands that take several."""
    return tuple(_systemd_option(v, fixed) for v in value.split(","))


@dataclass(frozen=True, slots=True)
class Invocation:
    """One ``portablekit`` command line: the global options, and the rest for the command.

    ``systemd`` is what ``--systemd`` asked for (with ``--fixed``), ``None`` when it was not
    given: a sandbox root then brings its own version (:meth:`systemd_for`). ``versions`` holds
    the versions of a comma-separated ``--systemd 252,257,262`` (empty for one version), which
    only commands that judge several versions at once take (``fleet scan``); the others
    refuse it in :meth:`systemd_for`. ``cwd`` is the directory relative paths on the line are
    taken from.
    """

    args: tuple[str, ...] = ()
    root: Path | None = None
    systemd: Systemd | None = None
    fixed: bool = False
    cwd: Path = field(default_factory=Path.cwd)
    versions: tuple[Systemd, ...] = ()

    @classmethod
    def parse(
        cls,
        argv: Sequence[str],
        *,
        environ: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Invocation:
        """Take ``--root``, ``--systemd`` and ``--fixed`` from anywhere in ``argv`` (up to
        ``--``); ``$PORTABLEKIT_ROOT`` of ``environ`` (default: the process's) when ``--root``
        is not given. Raises :class:`~portablekit.errors.UsageError` (exit status 2)."""
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        fixed = False
        rest: list[str] = []
        args = list(argv)
        i = 0
        while i < len(args):
            a = args[i]
            name, eq, value = a.partition("=")
            if a == "--":
                rest.extend(args[i:])
                break
            if name in ("--root", "--systemd"):
                if not eq:
                    if i + 1 >= len(args):
                        raise UsageError(
                            f"portablekit: option '{name}' requires an argument",
                            exit_code=USAGE_EXIT,
                        )
                    i += 1
                    value = args[i]
                if not value:
                    raise UsageError(
                        f"portablekit: option '{name}' needs a value, not ''", exit_code=USAGE_EXIT
                    )
                values[name] = value
            elif a == "--fixed":
                fixed = True
            else:
                rest.append(a)
            i += 1
        root = values.get("--root") or env.get(ROOT_ENV) or None
        here = Path.cwd() if cwd is None else cwd
        versions = _systemd_list(values["--systemd"], fixed) if "--systemd" in values else ()
        return cls(
            args=tuple(rest),
            root=None if root is None else here / root,
            systemd=versions[0] if len(versions) == 1 else None,
            fixed=fixed,
            cwd=here,
            versions=versions if len(versions) > 1 else (),
        )

    def systemd_for(self, root: SandboxRoot | None = None) -> Systemd:
        """The version this command reproduces: ``--systemd`` when given, else the version
        ``root`` was made for, else the default; ``--fixed`` on top."""
        if len(self.versions) > 1:
            raise UsageError(
                "portablekit: --systemd takes one version here (several, comma-separated, only "
                "for 'fleet scan')",
                exit_code=USAGE_EXIT,
            )
        if self.systemd is not None:
            return self.systemd
        found = root.systemd if root is not None else Systemd()
        return dataclasses.replace(found, fixed=self.fixed or found.fixed)

    def sandbox(self, command: str = "portablekit") -> SandboxRoot:
        """The sandbox root of ``--root``/``$PORTABLEKIT_ROOT``, for :meth:`systemd_for` it.

        A directory ``sandbox init`` did not make can be read, never written (see
        :class:`~portablekit.sandbox.SandboxRoot`). Without a root: a
        :class:`~portablekit.errors.UsageError` naming ``command``.
        """
        if self.root is None:
            raise UsageError(
                f"{command}: no sandbox root given; use --root DIR (or {ROOT_ENV}). "
                "Create one with 'portablekit sandbox init DIR'.",
                exit_code=USAGE_EXIT,
            )
        try:
            found = SandboxRoot(self.root)  # reads the version the root was made for
            systemd = self.systemd_for(found)
            return found if systemd == found.systemd else SandboxRoot(self.root, systemd)
        except OSError as e:  # a parent that cannot be searched, a name too long, a loop
            raise SandboxError(
                f"{self.root}: cannot be used as a sandbox root: {e.strerror or e}"
            ) from e

    def path(self, arg: str) -> Path:
        """A path of this machine given on the line (relative to :attr:`cwd`)."""
        return self.cwd / arg

    def host_cwd(self, root: Path) -> PurePosixPath:
        """:attr:`cwd` as a path of the host ``root`` plays (``/`` when outside the root), for
        portablectl's relative image paths."""
        try:
            rel = self.cwd.resolve().relative_to(root.resolve())
        except ValueError:
            return PurePosixPath("/")
        return PurePosixPath("/", rel)

"""Image checks: everything Portable Services require of an image, as findings.

:func:`check_image` reads an image (any :class:`~portablekit.source.ImageSource`: a directory, an
in-memory tree, a raw disk image's file system) and its extensions, and returns *every* problem
as a :class:`Finding`, never just the first: what portabled refuses (``error``), what attaches
but runs badly or not at all (``warning``) and what portabled skips without a word (``info``).
Each finding names its :class:`Rule`, the path inside the image, what is wrong, how to fix it and,
where portabled (or portablectl) refuses, its exact message for the systemd version checked.
:func:`check_host_image` does the same for an image of a sandbox root, found by name or path as
portabled finds it.

The rules, by what they look at (:data:`RULES` has a line on each):

* os-release: present (``/etc/os-release``, else ``/usr/lib/os-release``), parseable, ``ID=``
  set, ``PORTABLE_SCOPE=`` (262), ``PORTABLE_PREFIXES=`` allowing the matches;
* units: at least one matching unit across all layers; per directory entry why portabled
  skipped it (name, type, prefix, hidden, shadowed, masked, empty, dangling); absolute unit
  symlinks that 252 and 257 resolve on the host; unit files systemd cannot load;
* runtime: ``/etc/resolv.conf`` and ``/etc/machine-id`` (may be empty) and the mount points
  ``/proc``, ``/sys``, ``/dev``, ``/run``, ``/tmp``, ``/var/tmp``;
* ELF executables (headers only, a bounded number of files under ``/usr/bin``, ``/usr/sbin``,
  ``/bin``, ``/sbin``, ``/usr/lib*``): their dynamic loader exists in the image, their
  architecture runs on the host;
* extensions: the extension-release file found and named right, and compatible with the base
  (``SYSEXT_SCOPE``, ``ARCHITECTURE``, ``ID``, ``VERSION_ID``/``SYSEXT_LEVEL``).

Findings are plain frozen data; :meth:`~portablekit.check.findings.Finding.to_dict` gives
JSON-ready rows (the tables layer turns them into a DataFrame). Nothing here prints, and
nothing imports pandas.

This module runs the checks and holds those of os-release, units, runtime files and ELF
executables. What they report (:class:`Severity`, :class:`Rule`, :data:`RULES`,
:class:`Finding`) lives in :mod:`portablekit.check.findings`, the extension checks
(:func:`~portablekit.check.extensions.extension_verdict`) in :mod:`portablekit.check.extensions`;
the ELF header reader is :mod:`portablekit.check.elf`.

>>> from portablekit.check.findings import Severity
>>> from portablekit.samples import sample_source
>>> findings = check_image(sample_source("broken-no-id"), "/var/lib/portables/broken-no-id")
>>> [(f.severity.value, f.rule.value) for f in findings if f.severity is not Severity.INFO]
[('error', 'os-release-no-id')]
>>> findings[0].portabled_message
'Image /var/lib/portables/broken-no-id os-release metadata lacks the ID field'
"""

from __future__ import annotations

import errno
import os
import struct
from collections.abc import Sequence
from pathlib import PurePosixPath

from ..errors import EnvFileError, ImagePathError, UnitFileError, UsageError
from ..names import derive_prefix, image_name_is_valid
from ..osrelease import EnvFile
from ..portabled.dissect import (
    ImageUnit,
    SkipReason,
    UnitCandidate,
    host_architecture,
    no_units_message,
    prefixes_message,
    read_os_release,
    scan_units,
)
from ..portabled.host import Host
from ..portabled.image import (
    Image,
    ImageKind,
    image_at_path,
    lookup_image,
    normalize_client_path,
    open_image,
)
from ..source import FileKind, ImageSource
from ..unitfile import UnitFile
from ..versions import Systemd
from .elf import ALSO_RUNS, elf_candidates, read_elf
from .extensions import check_extension
from .findings import CheckRun, Findings, Rule

__all__ = ["MOUNT_POINTS", "check_host_image", "check_image"]


#: The directories the service manager mounts API file systems and temporary directories on.
MOUNT_POINTS = tuple(
    PurePosixPath(p) for p in ("/proc", "/sys", "/dev", "/run", "/tmp", "/var/tmp")
)


# -- the images to check -------------------------------------------------------------------------


def _as_image(image: Image | str | None, source: ImageSource) -> Image:
    """An :class:`~portablekit.portabled.image.Image` for messages: given, or from a path or file
    name
    (``foo.raw`` and ``/x/foo.raw`` are raw images, names land in ``/var/lib/portables``)."""
    if isinstance(image, Image):
        return image
    text = image if image is not None else source.label
    if not text or (image is None and not text.startswith("/")):
        raise ValueError(
            f"cannot tell the image's name from {source.label!r}: pass its path or file name"
        )
    path = PurePosixPath(text if text.startswith("/") else f"/var/lib/portables/{text}")
    kind = ImageKind.RAW if path.name.endswith(".raw") else ImageKind.DIRECTORY
    return Image.from_path(path, kind)


def check_image(
    source: ImageSource,
    image: Image | str | None = None,
    *,
    matches: Sequence[str] | None = None,
    extensions: Sequence[tuple[ImageSource, Image | str]] = (),
    systemd: Systemd = Systemd(),
    host_arch: str | None = None,
    max_elf_files: int = 400,
    argument: str | None = None,
) -> Findings:
    """Check the image ``source`` (and its ``extensions``) for everything portable services need.

    ``image`` is how portabled knows it: an :class:`~portablekit.portabled.image.Image`, a host path
    (``/var/lib/portables/foo.raw``) or a file name (``foo_1.2``; it is then placed in
    ``/var/lib/portables``); by default the source's label when that is a path. It names the
    image in portabled's messages and gives the default unit prefix; ``matches`` replaces that
    prefix (as ``portablectl attach IMAGE PREFIX...`` does). ``extensions`` are ``(source,
    image)`` pairs in ``--extension`` order. ``systemd`` picks the version whose
    rules and messages apply; ``host_arch`` (systemd's spelling, default: this machine's) is
    what ``ARCHITECTURE=`` and ELF executables are compared with; at most ``max_elf_files``
    executables are read (headers only). ``argument`` is the image argument as typed, when it
    differs from ``image``: portablectl derives the default prefix from it.

    Returns the findings, errors first, then warnings, then info; within a severity base image
    first, then the extensions in order.
    """
    run = CheckRun(systemd, host_arch or host_architecture(), max_elf_files)
    img = _as_image(image, source)
    layers = [(source, img)] + [(src, _as_image(e, src)) for src, e in extensions]
    if matches is None:
        try:
            typed = argument or (image if isinstance(image, str) else str(img.path))
            matches = [derive_prefix(typed, systemd)]
        except UsageError as e:
            run.add(
                Rule.PREFIX_UNDERIVABLE,
                img,
                "",
                f"portablectl derives the unit prefix from the image name '{img.path.name}', "
                "and it has characters other than A-Z a-z 0-9 . - before the first '_'",
                "rename the image NAME or NAME_VERSION with NAME made of letters, digits, "
                "'.' and '-', or give the prefixes explicitly (portablectl attach IMAGE PREFIX)",
                e.message,
            )
    _check(run, layers, tuple(matches) if matches is not None else None)
    return Findings(sorted(run.findings, key=lambda f: f.severity.rank))


def check_host_image(
    host: Host,
    image: str,
    *,
    extensions: Sequence[str] = (),
    matches: Sequence[str] | None = None,
    host_arch: str | None = None,
    max_elf_files: int = 400,
    cwd: PurePosixPath = PurePosixPath("/"),
) -> Findings:
    """:func:`check_image` for an image of a sandbox root, named or given by path as
    ``portablectl attach IMAGE`` takes it (the default prefix is derived from ``image`` as
    typed). Raises :class:`~portablekit.errors.PortabledError` or
    :class:`~portablekit.errors.UsageError` with portabled's or portablectl's message when an
    image cannot be found or opened."""
    sd = host.systemd

    def find(arg: str) -> Image:
        if not image_name_is_valid(arg):
            arg = normalize_client_path(host, arg, cwd=cwd)
        img = lookup_image(host, arg)
        if sd.vpick:  # 256+ attach from the resolved path (links, NAME.v)
            real = image_at_path(host, str(img.path), pick=True)
            img = Image(img.name if real.path == img.path else real.name, real.path, real.kind)
        return img

    base = find(image)
    exts = [find(e) for e in extensions]
    if matches is None:
        try:
            matches = [derive_prefix(image, sd)]
        except UsageError:
            matches = None  # check_image reports it
    return check_image(
        open_image(host, base),
        base,
        argument=image,
        matches=matches,
        extensions=[(open_image(host, e), e) for e in exts],
        systemd=sd,
        host_arch=host_arch,
        max_elf_files=max_elf_files,
    )


def _check(
    run: CheckRun, layers: list[tuple[ImageSource, Image]], matches: tuple[str, ...] | None
) -> None:
    src, img = layers[0]
    os_release = _check_os_release(run, src, img)
    _check_runtime_files(run, src, img)
    releases: list[EnvFile | None] = [os_release]
    for source, ext in layers[1:]:
        releases.append(check_extension(run, source, ext, os_release))
    if matches is not None and releases[0] is not None:
        _check_prefixes(run, layers, releases, matches)
    units = _check_units(run, layers, matches or ())
    if matches is not None and not units:
        run.add(
            Rule.NO_MATCHING_UNITS,
            img,
            "",
            "no unit file in the image"
            + (" or its extensions" if len(layers) > 1 else "")
            + " matches "
            + ", ".join(f"'{m}'" for m in matches)
            + " (see the unit findings for what was skipped and why)",
            "name the unit files PREFIX.service, PREFIX-*.service or PREFIX@.service (also "
            ".socket, .target, .timer, .path) in /usr/lib/systemd/system or /etc/systemd/system,"
            " or pass the prefixes explicitly",
            no_units_message(str(img.path), [str(e.path) for _, e in layers[1:]]),
        )
    _check_unit_files(run, units)
    _check_elf(run, layers)


# -- os-release ----------------------------------------------------------------------------------


def _check_os_release(run: CheckRun, src: ImageSource, img: Image) -> EnvFile | None:
    etc = PurePosixPath("/etc/os-release")
    dangling = src.kind(etc, follow=False) is FileKind.SYMLINK and not src.exists(etc)
    try:
        found = read_os_release(src, run.systemd)
    except EnvFileError as e:
        run.add_unparsable(src, img, e, "os-release", "Invalid argument")
        return None
    except ImagePathError as e:  # a directory, a link loop, too large: portabled gets the errno
        run.add(
            Rule.OS_RELEASE_MISSING,
            img,
            e.filename or etc,
            f"the os-release file cannot be read: {e.strerror}",
            "make /usr/lib/os-release a regular file and /etc/os-release a relative symlink to it",
            os.strerror(e.errno or errno.EIO),
        )
        return None
    if found is None:
        link = (
            f"; /etc/os-release is a symlink to {_readlink(src, etc)!r}, which" if dangling else ""
        )
        run.add(
            Rule.OS_RELEASE_MISSING,
            img,
            "/usr/lib/os-release",
            "the image has neither /etc/os-release nor /usr/lib/os-release"
            + (f"{link} does not resolve inside the image" if dangling else ""),
            "add /usr/lib/os-release with at least ID= (and VERSION_ID=), and a relative "
            "symlink /etc/os-release -> ../usr/lib/os-release",
            f"Image '{img.path}' lacks os-release data, refusing.",
        )
        return None
    release, where = found
    if dangling:
        run.add(
            Rule.OS_RELEASE_LINK,
            img,
            etc,
            f"/etc/os-release is a symlink to {_readlink(src, etc)!r}, which does not resolve "
            f"inside the image; portabled falls back to {where}, but programs in the service "
            "that read /etc/os-release find nothing",
            "point it at the real file with a relative link: /etc/os-release -> "
            "../usr/lib/os-release",
        )
    if not release.get("ID"):
        run.add(
            Rule.OS_RELEASE_NO_ID,
            img,
            where,
            f"{where} does not set ID= (or sets it empty); attach and reattach refuse the image",
            "add an ID= line (lower-case, like ID=debian) to the os-release file",
            f"Image {img.path} os-release metadata lacks the ID field",
        )
    scope = release.get("PORTABLE_SCOPE")
    if run.systemd.portable_scope and scope is not None and scope != "system" and scope != "any":
        valid = scope == "user"
        run.add(
            Rule.PORTABLE_SCOPE,
            img,
            where,
            f"PORTABLE_SCOPE={scope}: "
            + (
                "the image is meant for a user's portabled, not the system's"
                if valid
                else "not one of system, user, any"
            ),
            "set PORTABLE_SCOPE=system (or any), or leave it out",
            (
                f"Image {img.path} portable scope 'user' incompatible with portabled runtime scope"
                " 'system'."
                if valid
                else f"Invalid PORTABLE_SCOPE value '{scope}' in image {img.path}."
            ),
        )
    return release


def _check_prefixes(
    run: CheckRun,
    layers: list[tuple[ImageSource, Image]],
    releases: list[EnvFile | None],
    matches: tuple[str, ...],
) -> None:
    base = releases[0]
    assert base is not None
    valid: set[str] = set(base.words("PORTABLE_PREFIXES"))
    declared = base.get("PORTABLE_PREFIXES") is not None
    for release in releases[1:]:
        if release is not None:
            valid.update(release.words("PORTABLE_PREFIXES"))
    refused = [m for m in matches if m not in valid]
    if not (declared or valid) or not refused:
        return
    img = layers[0][1]
    run.add(
        Rule.PREFIX_NOT_ALLOWED,
        img,
        "",
        "PORTABLE_PREFIXES= allows "
        + (", ".join(sorted(valid)) or "no prefix at all")
        + ", not "
        + ", ".join(f"'{m}'" for m in refused),
        "add the prefix to PORTABLE_PREFIXES= in os-release (or an extension's "
        "extension-release), or attach with one of the allowed prefixes",
        prefixes_message(matches, str(img.path), [str(e.path) for _, e in layers[1:]], valid),
    )


def _readlink(src: ImageSource, path: PurePosixPath) -> str:
    """The target of the symlink ``path`` (its parent directories resolved in the image)."""
    try:
        return src.readlink(src.resolve(path, follow=False))
    except ImagePathError:
        return "?"


# -- runtime files -------------------------------------------------------------------------------


def _describe_missing(src: ImageSource, path: PurePosixPath, want: FileKind) -> str | None:
    """Why ``path`` is not a usable ``want`` (file or directory), ``None`` if it is."""
    try:
        kind = src.kind(path)
    except ImagePathError as e:
        return f"{path} cannot be resolved ({e.strerror})"
    if kind is want:
        return None
    own = src.kind(path, follow=False)
    if own is FileKind.SYMLINK and kind is None:
        return f"{path} is a symlink to {_readlink(src, path)!r}, which does not exist in the image"
    if kind is None:
        return f"{path} does not exist"
    noun = "a directory" if want is FileKind.DIR else "a regular file"
    return f"{path} is a {kind}, not {noun}"


def _check_runtime_files(run: CheckRun, src: ImageSource, img: Image) -> None:
    for rule, name, why in (
        (Rule.RESOLV_CONF, "/etc/resolv.conf", "the host's DNS configuration"),
        (Rule.MACHINE_ID, "/etc/machine-id", "the host's machine ID"),
    ):
        path = PurePosixPath(name)
        problem = _describe_missing(src, path, FileKind.FILE)
        if problem is not None:
            run.add(
                rule,
                img,
                path,
                f"{problem}: the service manager bind-mounts {why} onto it when the service "
                "starts, which fails on a read-only image",
                f"add an empty file {name} to the image",
            )
    for path in MOUNT_POINTS:
        problem = _describe_missing(src, path, FileKind.DIR)
        if problem is not None:
            run.add(
                Rule.MOUNT_POINT,
                img,
                path,
                f"{problem}: it is a mount point when the service starts; systemd creates a "
                "missing one only in a writable image, so a read-only image fails to start",
                f"add an empty directory {path} to the image",
            )


# -- units ---------------------------------------------------------------------------------------

_SKIPS: dict[SkipReason, tuple[Rule, str, str]] = {
    SkipReason.HIDDEN: (
        Rule.UNIT_HIDDEN,
        "hidden or backup file name (leading '.', trailing '~', .dpkg-old, .rpmsave, ...): "
        "never attached",
        "remove the file from the image, or rename it if it is meant to be a unit",
    ),
    SkipReason.INVALID_NAME: (
        Rule.UNIT_INVALID_NAME,
        "not a valid unit name (a misspelt suffix?): never attached",
        "rename it NAME.service (or .socket, .target, .timer, .path), or remove it",
    ),
    SkipReason.UNIT_TYPE: (
        Rule.UNIT_TYPE,
        "portabled attaches only .service, .socket, .target, .timer and .path units; this one is "
        "never attached",
        "replace it by a setting of the service (a .mount by BindPaths=/TemporaryFileSystem=, a "
        ".slice by Slice=/resource settings), or remove it",
    ),
    SkipReason.NO_MATCH: (
        Rule.UNIT_NO_MATCH,
        "does not match {matches}: a prefix must be followed by '-', '.', '@' or the end",
        "rename the unit PREFIX.service or PREFIX-*.service, or pass its name as a prefix",
    ),
    SkipReason.DUPLICATE: (
        Rule.UNIT_SHADOWED,
        "a unit of the same name was taken from {winner}; this one is never attached",
        "remove the copy that is not meant to be attached",
    ),
    SkipReason.NOT_A_FILE: (
        Rule.UNIT_NOT_A_FILE,
        "named like a unit but not a file or symlink: never attached",
        "make it a unit file, or rename it (drop-ins go in NAME.service.d/)",
    ),
    SkipReason.UNREADABLE: (
        Rule.UNIT_DANGLING,
        "cannot be opened: {link}; portabled skips it",
        "point the symlink at a file inside the image (a relative link), or remove it",
    ),
    SkipReason.EMPTY: (
        Rule.UNIT_EMPTY,
        "empty file: portabled skips empty units",
        "give the unit its content, or remove it",
    ),
}


def _check_units(
    run: CheckRun, layers: list[tuple[ImageSource, Image]], matches: Sequence[str]
) -> list[tuple[ImageUnit, Image]]:
    """Scan every layer's unit directories as portabled does; report skipped entries."""
    accepted: list[tuple[ImageUnit, Image]] = []
    taken: dict[str, Image] = {}
    for i, (src, img) in enumerate(layers):
        try:
            units, candidates = scan_units(src, matches, layer=i, taken=frozenset(taken))
        except ImagePathError as e:  # a unit file too large to read, or unreadable
            run.add(
                Rule.UNIT_UNPARSABLE,
                img,
                e.filename or "",
                f"the unit directories cannot be read: {e}",
                "make the unit files regular files of a reasonable size",
            )
            continue
        winners = {u.name: u for u in units}
        for c in candidates:
            if c.reason is not None:
                _skipped(run, src, img, c, matches, winners, taken)
        for u in units:
            taken[u.name] = img
            accepted.append((u, img))
            _absolute_link(run, src, img, u)
    return accepted


def _skipped(
    run: CheckRun,
    src: ImageSource,
    img: Image,
    c: UnitCandidate,
    matches: Sequence[str],
    winners: dict[str, ImageUnit],
    taken: dict[str, Image],
) -> None:
    assert c.reason is not None
    path = c.directory / c.name
    kind = src.kind(path, follow=False)
    rule, message, fix = _SKIPS[c.reason]
    if c.reason is SkipReason.INVALID_NAME and kind is FileKind.DIR:
        return  # drop-in and .wants directories belong there
    if c.reason is SkipReason.EMPTY and kind is FileKind.SYMLINK:
        rule, message, fix = (
            Rule.UNIT_MASKED,
            f"masked: a symlink to {_readlink(src, path)!r}; portabled skips it",
            "remove the symlink if the unit is not meant to be part of the image, or replace it "
            "by the unit file",
        )
    winner = winners.get(c.name)
    where = (
        str(winner.path)
        if winner is not None
        else f"the image {taken[c.name].path}"
        if c.name in taken
        else "a higher-priority directory"
    )
    link = ""
    if kind is FileKind.SYMLINK:
        link = f"a symlink to {_readlink(src, path)!r}, which does not resolve inside the image"
    run.add(
        rule,
        img,
        path,
        message.format(
            matches=", ".join(f"'{m}'" for m in matches), winner=where, link=link or "unreadable"
        ),
        fix,
    )


def _absolute_link(run: CheckRun, src: ImageSource, img: Image, unit: ImageUnit) -> None:
    """252/257 open a unit through the host's root: absolute (or escaping) links go there."""
    if not unit.is_symlink or run.systemd.units_resolve_in_image:
        return
    real_dir = src.resolve(unit.directory)
    target = src.readlink(real_dir / unit.name)
    if not target.startswith("/") and not _escapes(real_dir, target):
        return
    run.add(
        Rule.UNIT_ABSOLUTE_LINK,
        img,
        unit.path,
        f"a symlink to {target!r}: portabled of systemd {run.systemd.version} opens unit files "
        "through the host's file system, so it copies the host's file of that path (or skips "
        "the unit when the host has none), not the image's",
        "use a relative symlink that stays inside the image (e.g. ../../../share/NAME/unit), or "
        "put the unit file itself there",
    )


def _escapes(directory: PurePosixPath, target: str) -> bool:
    """Whether a relative link in ``directory`` climbs above the image root."""
    depth = len(directory.parts) - 1
    for part in PurePosixPath(target).parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part != ".":
            depth += 1
    return False


def _check_unit_files(run: CheckRun, units: list[tuple[ImageUnit, Image]]) -> None:
    """Parse the attached unit files as systemd will."""
    for unit, img in units:
        try:
            UnitFile.parse(unit.data, origin=str(unit.path))
        except UnitFileError as e:
            run.add(
                Rule.UNIT_UNPARSABLE,
                img,
                unit.path,
                f"systemd cannot load this unit: {e.reason}; portabled attaches it anyway "
                "(it does not parse units), and starting it fails",
                "close the section header with ']' ([Name] on a line of its own)"
                if "section header" in e.reason
                else "split the line: systemd reads lines of at most 1 MiB",
                line=e.line,
                column=e.column,
                text=e.text,
            )


# -- ELF executables -----------------------------------------------------------------------------


def _examples(paths: Sequence[PurePosixPath]) -> str:
    shown = ", ".join(str(p) for p in paths[:3])
    return shown + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _check_elf(run: CheckRun, layers: list[tuple[ImageSource, Image]]) -> None:
    """Read the ELF headers of up to ``run.max_elf_files`` executables (all layers)."""
    budget = run.max_elf_files
    loaders: dict[str, list[tuple[int, PurePosixPath]]] = {}
    foreign: dict[str, list[tuple[int, PurePosixPath]]] = {}
    runs = {run.host_arch, *ALSO_RUNS.get(run.host_arch, ())}
    for i, (src, _) in enumerate(layers):
        for path in elf_candidates(src, budget * 20):
            if budget <= 0:
                break
            budget -= 1
            try:
                elf = read_elf(src, path)
            except (ImagePathError, struct.error):
                continue
            if elf is None:
                continue
            interp, arch = elf
            if interp is not None:
                loaders.setdefault(interp, []).append((i, path))
            if arch is not None and arch not in runs:
                foreign.setdefault(arch, []).append((i, path))
    for interp, users in loaders.items():
        target = PurePosixPath("/", interp)
        if any(_is_file(src, target) for src, _ in layers):
            continue
        problem = _describe_missing(layers[0][0], target, FileKind.FILE) or f"{target} is missing"
        first, paths = users[0][0], [p for _, p in users]
        plural = len(paths) > 1
        run.add(
            Rule.DYNAMIC_LOADER,
            layers[first][1],
            target,
            f"{_examples(paths)} {'need' if plural else 'needs'} the dynamic loader {interp} "
            f"(ELF PT_INTERP), but {problem}; {'they' if plural else 'it'} cannot start",
            "add the C library's loader and the libraries the executables link to the image "
            "(Debian: the libc6 package; with a merged /usr also the /lib64 -> usr/lib64 link), "
            "or link the executables statically",
        )
    for arch, users in foreign.items():
        first, paths = users[0][0], [p for _, p in users]
        run.add(
            Rule.ELF_ARCHITECTURE,
            layers[first][1],
            paths[0],
            f"{_examples(paths)} {'are' if len(paths) > 1 else 'is'} built for {arch}; "
            f"a {run.host_arch} host cannot run {'them' if len(paths) > 1 else 'it'}",
            f"build the image for {run.host_arch}",
        )


def _is_file(src: ImageSource, path: PurePosixPath) -> bool:
    try:
        return src.kind(path) is FileKind.FILE
    except ImagePathError:
        return False

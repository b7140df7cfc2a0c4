"""Where a fleet's images are: directories of this machine, explicit paths, and URLs.

:func:`discover` turns the sources of a scan into :class:`ImageRef` values, one per image (or
per source that could not be listed, carrying the error), cheap to pickle to a worker.

**Directories** are walked recursively. Within a directory, entries are taken as portabled's
``discover_images()`` takes them: a directory is a ``directory`` image, a regular file whose
name ends in ``.raw`` a ``raw`` image (named without the suffix), anything else is no image;
names portabled refuses (``image_name_is_valid``) are skipped, hidden names are images like
any other (portabled lists them). A ``NAME.v/`` directory (systemd.v(7)) is resolved by
portabled's own :func:`~portablekit.portabled.image.vpick` to its newest ``NAME_VERSION`` entry
(a directory tree first, then ``.raw``), which becomes the image. Because a scan recurses, a
directory is a directory image only if it looks like an operating system tree (it has ``usr/``
or ``etc/``: portabled finds os-release nowhere else); any other directory is a folder of
images and is walked, except hidden and backup names (``.git``, ``old~``), which portabled's
rules treat as not there. Symbolic links are followed as the operating system does (a
fleet is often links into a store); a link loop, a dangling link named like an image and a
directory reached twice through links become error rows naming the path.

**Explicit paths** name one image (a directory image or a raw file, whatever its suffix:
portabled's own verdict then says what it thinks of the name); a path that is neither is an
error row ("not an image").

**URLs** are read through fsspec. ``http(s)://.../NAME.raw`` is one image; a URL ending in
``/`` is a directory listed by its ``SHA256SUMS`` manifest when it has one (the convention of
systemd-sysupdate and importctl image servers: ``HASH *NAME`` or ``HASH  NAME`` per line), else
by its HTML index (nginx/Apache autoindex, ``python -m http.server``: every ``<a href>``
relative to it). Entries ending in ``.raw`` are images, ``NAME.v/`` and other subdirectories
of an index are listed in turn (at most :data:`MAX_DEPTH` deep). Directory images cannot be
read over HTTP. Any other protocol fsspec has a driver for (``s3://``, ``gs://``, ...) is
listed with the driver's ``find``; installing the driver (``s3fs``, ``gcsfs``) is the user's
choice. An unreachable server, an HTTP error or missing credentials make one error row naming
the source.
"""

from __future__ import annotations

import errno
import html.parser
import os
import re
import stat as _stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from ..names import image_name_is_valid, is_hidden_or_backup, version_compare
from ..portabled.host import Host
from ..portabled.image import vpick
from ..versions import Systemd

__all__ = [
    "MAX_DEPTH",
    "ImageRef",
    "discover",
    "is_url",
    "parse_index",
    "parse_sha256sums",
    "remote_error",
]

#: How deep a remote index is followed into subdirectories.
MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class ImageRef:
    """One image of a fleet, or one source that could not be listed.

    ``image`` is its key in every table (the path relative to its source, prefixed by the
    source's label when a scan has several sources), ``source`` the source as given, ``path``
    the path relative to the source, ``location`` what is opened (a path of this machine or a
    URL). ``name`` is portabled's image name, ``file_name`` what the image is placed as on the
    fresh host (for ``NAME.v`` the picked entry), ``kind`` ``directory`` or ``raw``, ``size``
    bytes of a raw image. ``error_type``/``error`` are set when the image cannot be analysed at
    all (the row then says why).
    """

    image: str
    source: str
    path: str
    location: str
    name: str
    file_name: str
    kind: str
    size: int | None = None
    picked_from: str | None = None
    remote: bool = False
    error_type: str | None = None
    error: str | None = None


def is_url(source: str) -> bool:
    """Whether ``source`` is a URL (``scheme://...``) rather than a path."""
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source) is not None


def _error_ref(source: str, path: str, location: str, exc: BaseException | str) -> ImageRef:
    if isinstance(exc, BaseException):
        etype, message = type(exc).__name__, _describe(exc)
    else:
        etype, message = "NotAnImage", exc
    name = PurePosixPath(path or location.rstrip("/")).name or location
    return ImageRef(
        image=path or name,
        source=source,
        path=path,
        location=location,
        name=name,
        file_name=name,
        kind="unknown",
        error_type=etype,
        error=f"{location}: {message}",
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0] if text else type(exc).__name__


# -- directories of this machine -----------------------------------------------------------------


def _is_os_tree(path: Path) -> bool:
    return os.path.isdir(path / "usr") or os.path.isdir(path / "etc")


def _walk(source: str, root: Path, systemd: Systemd) -> Iterator[ImageRef]:
    """The images below ``root``, sorted by path, with error rows for what cannot be read."""
    seen: dict[tuple[int, int], str] = {}
    try:
        st = os.stat(root)
    except OSError as e:
        yield _error_ref(source, "", str(root), e)
        return
    seen[(st.st_dev, st.st_ino)] = ""
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        directory, rel = stack.pop()
        try:
            entries = sorted(os.listdir(directory), key=os.fsencode)
        except OSError as e:
            yield _error_ref(source, rel, str(directory), e)
            continue
        folders: list[tuple[Path, str]] = []
        for entry in entries:
            p = directory / entry
            r = f"{rel}/{entry}" if rel else entry
            try:
                st = os.stat(p)
            except OSError as e:
                if e.errno == errno.ELOOP:
                    yield _error_ref(source, r, str(p), OSError(e.errno, "symbolic link loop"))
                elif os.path.islink(p) and (entry.endswith((".raw", ".v")) or "_" in entry):
                    yield _error_ref(source, r, str(p), OSError(e.errno, "dangling symbolic link"))
                elif not os.path.islink(p):
                    yield _error_ref(source, r, str(p), e)
                continue
            if _stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if entry.endswith(".v") and systemd.vpick:
                    yield _picked(source, directory, entry, r)
                elif _is_os_tree(p):
                    if image_name_is_valid(entry):
                        yield ImageRef(r, source, r, str(p), entry, entry, "directory")
                elif not is_hidden_or_backup(entry):
                    if key in seen:
                        first = seen[key] or "."
                        yield _error_ref(
                            source,
                            r,
                            str(p),
                            OSError(errno.ELOOP, f"directory loop: already scanned as {first}"),
                        )
                        continue
                    seen[key] = r
                    folders.append((p, r))
            elif _stat.S_ISREG(st.st_mode) and entry.endswith(".raw"):
                name = entry[: -len(".raw")]
                if image_name_is_valid(name):
                    yield ImageRef(r, source, r, str(p), name, entry, "raw", size=st.st_size)
        stack.extend(reversed(folders))


def _picked(source: str, directory: Path, entry: str, rel: str) -> ImageRef:
    """``NAME.v``: the newest entry, picked by portabled's own rules."""
    host = Host(directory)
    picked = vpick(host, PurePosixPath("/", entry))
    where = str(directory / entry)
    if picked is None:
        return _error_ref(
            source, rel, where, "no NAME_VERSION or NAME_VERSION.raw entry to pick (systemd.v(7))"
        )
    stem = entry[: -len(".v")]
    stem = stem[: -len(".raw")] if stem.endswith(".raw") else stem
    path = directory / entry / picked.name
    kind = "directory" if os.path.isdir(path) else "raw"
    size = None if kind == "directory" else os.stat(path).st_size
    return ImageRef(
        f"{rel}/{picked.name}",
        source,
        f"{rel}/{picked.name}",
        str(path),
        stem,
        picked.name,
        kind,
        size=size,
        picked_from=rel,
    )


def _local(source: str, path: Path, systemd: Systemd) -> Iterator[ImageRef]:
    try:
        st = os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            e = OSError(e.errno, "symbolic link loop")
        yield _error_ref(source, "", str(path), e)
        return
    entry = path.name
    if _stat.S_ISDIR(st.st_mode):
        if entry.endswith(".v") and systemd.vpick:
            ref = _picked(source, path.parent, entry, entry)
            yield ref
        elif _is_os_tree(path):
            yield ImageRef(entry, source, entry, str(path), entry, entry, "directory")
        else:
            found = False
            for ref in _walk(source, path, systemd):
                found = True
                yield ref
            if not found:
                yield _error_ref(source, "", str(path), "no images found (no directory image, "
                                 "no NAME.raw file, no NAME.v directory)")  # fmt: skip
    elif _stat.S_ISREG(st.st_mode):
        name = entry[: -len(".raw")] if entry.endswith(".raw") else entry
        yield ImageRef(entry, source, entry, str(path), name, entry, "raw", size=st.st_size)
    else:
        yield _error_ref(source, "", str(path), "not a directory or a regular file")


# -- remote --------------------------------------------------------------------------------------


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            for k, v in attrs:
                if k == "href" and v:
                    self.hrefs.append(v)


def parse_index(text: str, base: str) -> list[str]:
    """The entries of an HTML directory index at ``base``: names of the links that point
    directly below it (``NAME`` or ``NAME/``), in page order, without sort links, parents or
    links elsewhere."""
    parser = _Links()
    parser.feed(text)
    out: list[str] = []
    base_path = urlsplit(base).path
    for href in parser.hrefs:
        if href.startswith(("?", "#")) or href in ("../", "./", "/"):
            continue
        full = urlsplit(urljoin(base, href))
        if full.query or full.fragment:
            continue
        if full.netloc != urlsplit(base).netloc or not full.path.startswith(base_path):
            continue
        rest = full.path[len(base_path) :]
        name = unquote(rest)
        if not name or "/" in name.rstrip("/"):
            continue
        if name not in out:
            out.append(name)
    return out


_SUMS = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


def parse_sha256sums(text: str) -> list[str] | None:
    """The file names of a ``SHA256SUMS`` manifest (``HASH *NAME`` / ``HASH  NAME``), ``None``
    if ``text`` is not one."""
    names = []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _SUMS.match(line)
        if m is None:
            return None
        names.append(m.group(2))
    return names


def _fs(url: str, storage_options: Mapping[str, Any]) -> Any:
    import fsspec  # loaded only for remote sources

    protocol = urlsplit(url).scheme
    return fsspec.filesystem(protocol, **storage_options.get(protocol, {}))


def _http_listing(fs: Any, url: str) -> list[str]:
    try:
        data = fs.cat_file(url + "SHA256SUMS")
    except FileNotFoundError:
        data = None
    if data is not None:
        names = parse_sha256sums(data.decode("utf-8", "replace"))
        if names is not None:
            return names
    page = fs.cat_file(url).decode("utf-8", "replace")
    return parse_index(page, url)


def _pick_remote(names: Iterable[str], stem: str) -> str | None:
    """systemd.v(7) for a listed ``NAME.v/``: the newest ``STEM_VERSION.raw``."""
    best: tuple[str, str] | None = None
    for n in names:
        if n.startswith(stem + "_") and n.endswith(".raw"):
            version = n[len(stem) + 1 : -len(".raw")]
            if version and (best is None or version_compare(version, best[0]) > 0):
                best = (version, n)
    return best[1] if best else None


def _http(source: str, storage_options: Mapping[str, Any]) -> Iterator[ImageRef]:
    fs = _fs(source, storage_options)
    if not source.endswith("/"):
        name = PurePosixPath(urlsplit(source).path).name
        yield _remote_ref(fs, source, name, source, name)
        return
    todo: list[tuple[str, str, int]] = [(source, "", 0)]
    seen = {source}
    while todo:
        url, rel, depth = todo.pop(0)
        try:
            names = _http_listing(fs, url)
        except Exception as e:  # any failure of the listing is a row
            yield _error_ref(source, rel, url, remote_error(e))
            continue
        if depth and ("usr/" in names or "etc/" in names):
            message = "a directory image: over HTTP only raw images are read"
            yield _error_ref(source, rel.rstrip("/"), url, message)
            continue
        for entry in names:
            r = rel + entry
            if entry.endswith(".v/"):
                sub = urljoin(url, entry)
                try:
                    inner = _http_listing(fs, sub)
                except Exception as e:
                    yield _error_ref(source, r, sub, remote_error(e))
                    continue
                stem = entry[: -len(".v/")]
                stem = stem[: -len(".raw")] if stem.endswith(".raw") else stem
                picked = _pick_remote(inner, stem)
                if picked is None:
                    yield _error_ref(source, r, sub, "no NAME_VERSION.raw entry to pick")
                    continue
                yield _remote_ref(
                    fs, source, r + picked, urljoin(sub, picked), picked, picked_from=r
                )
            elif entry.endswith("/"):
                if is_hidden_or_backup(entry[:-1]):
                    continue  # as in a local walk: .git/, old~/ are not there
                sub = urljoin(url, entry)
                if depth + 1 <= MAX_DEPTH and sub not in seen:
                    seen.add(sub)
                    todo.append((sub, r, depth + 1))
            elif entry.endswith(".raw"):
                yield _remote_ref(fs, source, r, urljoin(url, entry), entry)


def _remote_ref(
    fs: Any, source: str, rel: str, url: str, file_name: str, picked_from: str | None = None
) -> ImageRef:
    name = file_name[: -len(".raw")] if file_name.endswith(".raw") else file_name
    return ImageRef(
        rel, source, rel, url, name, file_name, "raw", picked_from=picked_from, remote=True
    )


def remote_error(e: BaseException) -> BaseException:
    """A remote failure as an error naming what went wrong, not the library's internals."""
    chain: list[BaseException] = []
    cur: BaseException | None = e
    while cur is not None and len(chain) < 8:  # fsspec wraps what went wrong in its own errors
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    for x in chain:
        name, text = type(x).__name__, str(x)
        if name in ("NoCredentialsError", "PartialCredentialsError"):
            return PermissionError(errno.EACCES, f"no credentials for this storage ({text})")
        if "Cannot connect" in text or "ClientConnector" in name or isinstance(x, ConnectionError):
            return ConnectionError(errno.ECONNREFUSED, f"unreachable ({text.splitlines()[0]})")
    if "credential" in str(e).lower():
        return PermissionError(errno.EACCES, f"no credentials for this storage ({e})")
    if isinstance(e, FileNotFoundError) and not e.strerror:
        return FileNotFoundError(errno.ENOENT, "not found (HTTP 404, or no such object)")
    return e


def _other(source: str, storage_options: Mapping[str, Any]) -> Iterator[ImageRef]:
    try:
        fs = _fs(source, storage_options)
        protocol = urlsplit(source).scheme
        root = source[len(protocol) + 3 :]
        found = fs.find(root, detail=True) if not root.endswith(".raw") else {root: fs.info(root)}
    except Exception as e:
        if isinstance(e, ImportError):
            e = ImportError(f"no fsspec driver for {source.split(':')[0]}:// ({e})")
        yield _error_ref(source, "", source, remote_error(e))
        return
    base = root.rstrip("/")
    for key in sorted(found):
        info = found[key]
        if info.get("type") == "directory" or not key.endswith(".raw"):
            continue
        rel = key[len(base) + 1 :] if key.startswith(base + "/") else PurePosixPath(key).name
        url = f"{protocol}://{key}"
        entry = PurePosixPath(key).name
        yield ImageRef(
            rel,
            source,
            rel,
            url,
            entry[: -len(".raw")],
            entry,
            "raw",
            size=info.get("size"),
            remote=True,
        )


# -- all together --------------------------------------------------------------------------------


def _label(source: str) -> str:
    if is_url(source):
        parts = urlsplit(source)
        return PurePosixPath(parts.path).name or parts.netloc
    return Path(source).name or source


def discover(
    sources: Iterable[str | os.PathLike[str]],
    *,
    systemd: Systemd = Systemd(),
    storage_options: Mapping[str, Any] | None = None,
) -> list[ImageRef]:
    """Every image of ``sources`` (see the module docstring), in source order, then by path.

    ``systemd`` decides the naming rules of the walk (``NAME.v`` needs 256+); pass the newest
    version scanned. ``storage_options`` maps an fsspec protocol to its options
    (``{"s3": {"endpoint_url": ...}}``). Never raises for a bad source: it becomes a row.
    With several sources, each image key is prefixed by its source's label (the last path or
    URL component; repeated labels are numbered).
    """
    options = storage_options or {}
    lists: list[tuple[str, list[ImageRef]]] = []
    for src in sources:
        s = os.fspath(src)
        if is_url(s):
            scheme = urlsplit(s).scheme
            refs = list(_http(s, options) if scheme in ("http", "https") else _other(s, options))
        else:
            refs = list(_local(s, Path(s).absolute(), systemd))
        lists.append((s, refs))
    if len(lists) <= 1:
        return lists[0][1] if lists else []
    out: list[ImageRef] = []
    used: dict[str, int] = {}
    for s, refs in lists:
        label = _label(s)
        used[label] = used.get(label, 0) + 1
        if used[label] > 1:
            label = f"{label}~{used[label]}"
        for ref in refs:
            out.append(_prefixed(ref, label))
    return out


def _prefixed(ref: ImageRef, label: str) -> ImageRef:
    from dataclasses import replace

    return replace(ref, image=f"{label}/{ref.image}" if ref.path else label)

"""Remote raw images read in place: an fsspec file with a block cache, counted.

:func:`open_remote` opens a URL through fsspec (``http(s)://`` with Range requests, ``s3://``
and the rest through their drivers) as a seekable file object the raw readers of
:mod:`portablekit.raw` read like a local file. Nothing is downloaded whole: fsspec fetches
aligned blocks of :data:`BLOCK_SIZE` bytes on demand and keeps up to :data:`MAX_BLOCKS` of them
(its ``blockcache``), so the second and third systemd version judged and the image checks read
from memory. The readers themselves read only the structures a lookup needs (superblock, inode
and directory blocks of the few paths portabled reads), 26-137 KiB per inspect of a local
image (``benchmarks/bench_raw.py``); 32 KiB blocks keep what is fetched per image near that
(``benchmarks/bench_fleet.py`` prints bytes and requests per image): smaller blocks mean more
round trips, larger ones fetch bytes nobody reads.

A server that ignores Range requests would send the whole image for every read: that is an
error (:class:`RangeNotSupported`) unless the scan allows whole downloads
(``allow_download=True``), which then fetches the image once into memory.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..errors import PortableKitError
from .placed import Deadline

__all__ = ["BLOCK_SIZE", "MAX_BLOCKS", "RangeNotSupported", "RemoteFile", "open_remote"]

#: Bytes fetched per request (see the module docstring for the choice).
BLOCK_SIZE = 32 * 1024
#: Blocks kept per open image (4 MiB at most).
MAX_BLOCKS = 128


class RangeNotSupported(PortableKitError):
    """The server sends whole files only: reading in place is impossible."""


class RemoteFile(io.RawIOBase):
    """A read-only, seekable view of a remote file that counts what it fetches.

    ``bytes_fetched`` and ``requests`` count the data requests made (not the one ``info``
    request that tells the size).
    """

    def __init__(self, url: str, fobj: Any, deadline: Deadline, *, whole: bool = False) -> None:
        super().__init__()
        self.url = url
        self.name = url
        self._f = fobj
        self.deadline = deadline
        self.bytes_fetched = 0
        self.requests = 0
        self.size = int(fobj.size) if not whole else len(fobj.getbuffer())
        cache = getattr(fobj, "cache", None)
        if cache is not None and getattr(cache, "fetcher", None) is not None:
            cache.fetcher = self._counting(cache.fetcher)

    def _counting(self, fetch: Callable[[int, int], bytes]) -> Callable[[int, int], bytes]:
        def counted(start: int, end: int) -> bytes:
            self.deadline.check(self.url)
            try:
                data = fetch(start, end)
            except ValueError as e:
                if "range requests" in str(e):
                    raise RangeNotSupported(
                        f"{self.url}: the server does not support HTTP Range requests; reading "
                        f"the image in place is impossible (allow downloading whole images of "
                        f"{self.size} bytes with allow_download=True, --allow-download)"
                    ) from None
                raise
            self.requests += 1
            self.bytes_fetched += len(data)
            return data

        return counted

    def probe(self, offset: int) -> None:
        """Fetch the byte at ``offset`` directly (counted, not cached)."""
        cache = getattr(self._f, "cache", None)
        fetch = getattr(cache, "fetcher", None)
        if fetch is not None:
            fetch(offset, offset + 1)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return int(self._f.seek(offset, whence))

    def tell(self) -> int:
        return int(self._f.tell())

    def read(self, size: int = -1) -> bytes:
        return bytes(self._f.read(size))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._f.close()
            finally:
                super().close()


def open_remote(
    url: str,
    *,
    storage_options: Mapping[str, Mapping[str, Any]] | None = None,
    deadline: Deadline | None = None,
    allow_download: bool = False,
    block_size: int = BLOCK_SIZE,
) -> RemoteFile:
    """Open the remote raw image ``url`` for reading in place (see the module docstring).

    ``storage_options`` maps a protocol to its fsspec options. Raises
    :class:`RangeNotSupported` (unless ``allow_download``), :class:`FileNotFoundError`,
    :class:`PermissionError` and the driver's own errors, which the scan turns into rows.
    """
    import fsspec  # loaded only when a remote image is read

    deadline = deadline or Deadline(None)
    protocol = urlsplit(url).scheme
    opts = dict((storage_options or {}).get(protocol, {}))
    fs = fsspec.filesystem(protocol, **opts)
    f = fs.open(
        url,
        "rb",
        block_size=block_size,
        cache_type="blockcache",
        cache_options={"maxblocks": MAX_BLOCKS},
    )
    remote = RemoteFile(url, f, deadline)
    try:
        if protocol in ("http", "https") and remote.size > 1:
            # one byte at the end: a server that ignores Range fails here, before the readers
            # start (fsspec accepts a whole answer to a request from offset 0)
            remote.probe(remote.size - 1)
    except RangeNotSupported:
        remote.close()
        if not allow_download:
            raise
        deadline.check(url)
        data = fs.cat_file(url)
        whole = RemoteFile(url, io.BytesIO(data), deadline, whole=True)
        whole.requests, whole.bytes_fetched = 1, len(data)
        return whole
    except BaseException:
        remote.close()
        raise
    return remote

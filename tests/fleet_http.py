"""A real HTTP server on 127.0.0.1 for the fleet's remote tests and benchmark.

:func:`serve` serves a directory from a thread: an HTML autoindex for directories (links like
nginx's), files with or without support for ``Range: bytes=A-B`` requests, and ``500`` for any
path containing ``broken-server``. It counts the requests and bytes it sends.
"""

from __future__ import annotations

import html
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass
class Served:
    """A running server: its base ``url`` and what it sent."""

    url: str
    requests: int = 0
    bytes_sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, n: int) -> None:
        with self.lock:
            self.requests += 1
            self.bytes_sent += n


def _handler(root: Path, ranges: bool, stats: Served) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _path(self) -> Path:
            rel = unquote(urlsplit(self.path).path).lstrip("/")
            return root / rel

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def do_GET(self) -> None:
            self._serve(head=False)

        def _serve(self, head: bool) -> None:
            if "broken-server" in self.path:
                self.send_error(500, "Internal Server Error")
                stats.count(0)
                return
            p = self._path()
            if p.is_dir():
                if not self.path.endswith("/"):
                    self.send_response(301)
                    self.send_header("Location", self.path + "/")
                    self.end_headers()
                    return
                body = _index(p, urlsplit(self.path).path).encode()
                self._send(200, body, "text/html", head)
                return
            if not p.is_file():
                self.send_error(404, "Not Found")
                stats.count(0)
                return
            size = p.stat().st_size
            m = _RANGE.match(self.headers.get("Range", "")) if ranges else None
            if m is None:
                self._send(200, b"" if head else p.read_bytes(), "application/octet-stream",
                           head, size, ranges)  # fmt: skip
                return
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.end_headers()
                stats.count(0)
                return
            with open(p, "rb") as f:
                f.seek(start)
                data = f.read(end - start + 1)
            self.send_response(206)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if not head:
                self.wfile.write(data)
            stats.count(0 if head else len(data))

        def _send(
            self,
            code: int,
            body: bytes,
            ctype: str,
            head: bool,
            size: int | None = None,
            ranges: bool = False,
        ) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(size if size is not None else len(body)))
            if ranges:
                self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if not head:
                self.wfile.write(body)
            stats.count(0 if head else len(body))

    return Handler


def _index(directory: Path, path: str) -> str:
    links = ['<a href="../">../</a>']
    for name in sorted(os.listdir(directory)):
        shown = name + ("/" if (directory / name).is_dir() else "")
        links.append(f'<a href="{quote(shown)}">{html.escape(shown)}</a>')
    return (
        f"<html><head><title>Index of {html.escape(path)}</title></head><body>"
        f"<h1>Index of {html.escape(path)}</h1><hr><pre>\n" + "\n".join(links) + "\n</pre>"
        "<hr></body></html>\n"
    )


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that stops reading (as fsspec does on a server without Range support)


@contextmanager
def serve(root: Path, *, ranges: bool = True) -> Iterator[Served]:
    """Serve ``root`` on a free port of 127.0.0.1 for the ``with`` block."""
    stats = Served("")
    server = _Quiet(("127.0.0.1", 0), _handler(Path(root), ranges, stats))
    server.daemon_threads = True
    stats.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stats
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

"""Decompressors for squashfs and EROFS blocks, each with a hard bound on its output.

Every function takes the compressed bytes and ``limit``, the most output the format allows for
that block, and raises :class:`OverflowError` when the data would decode to more: a block that
"decompresses to more than it claims" is corruption, and must never become an unbounded
allocation. Other decoding failures raise :class:`ValueError`. The readers turn both into
:class:`~portablekit.errors.CorruptImageError` naming the image and the block
(:func:`decompress`).

gzip/deflate and xz/lzma come from the standard library, LZO and (without the ``lz4`` package)
LZ4 are decoded in pure Python; ``lz4`` (faster) and ``zstandard`` (required for zstd) are
imported lazily, on first use, and a missing one raises
:class:`~portablekit.errors.MissingExtraError` naming the ``portablekit[raw]`` extra.
"""

from __future__ import annotations

import importlib
import io
import lzma
import zlib
from collections.abc import Callable
from typing import Any

from ..errors import CorruptImageError, MissingExtraError
from . import lzo

__all__ = ["CODECS", "decompress", "lz4_block", "microlzma"]

EXTRA = "raw"

_modules: dict[str, Any] = {}


def _optional(module: str, package: str, *, required: bool) -> Any:
    """``module`` imported on first use; ``None`` (or MissingExtraError if ``required``)."""
    if module not in _modules:
        try:
            _modules[module] = importlib.import_module(module)
        except ImportError:
            _modules[module] = None
    mod = _modules[module]
    if mod is None and required:
        raise MissingExtraError(
            f"reading this image needs the '{package}' package: pip install 'portablekit[raw]'",
            extra=EXTRA,
        )
    return mod


def _zlib(data: bytes, limit: int, wbits: int) -> bytes:
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(data, limit)
    except zlib.error as e:
        raise ValueError(str(e)) from e
    if d.unconsumed_tail and not d.eof:
        raise OverflowError("decompresses to more than it claims")
    return out


def gzip_zlib(data: bytes, limit: int) -> bytes:
    """A zlib stream (squashfs ``gzip``)."""
    return _zlib(data, limit, 15)


def deflate_raw(data: bytes, limit: int) -> bytes:
    """A raw deflate stream (EROFS ``deflate``)."""
    return _zlib(data, limit, -15)


#: What an LZMA decoder needs beside its dictionary (liblzma: about 64 KiB), with room to spare.
_LZMA_STATE = 256 << 10


def _lzma(data: bytes, limit: int, fmt: int, window: int | None) -> bytes:
    # The stream's header declares the dictionary, and the decoder allocates it before reading
    # a byte: a corrupt header asking for 4 GiB must be refused, not allocated. No block needs
    # a dictionary larger than the window its format gives it (squashfs: the block size).
    memlimit = max(limit, window or 0, 4096) + _LZMA_STATE
    try:
        d = lzma.LZMADecompressor(fmt, memlimit=memlimit)
        out = d.decompress(data, max_length=limit)
    except lzma.LZMAError as e:
        if "limit" in str(e).lower():
            raise ValueError(
                f"its header asks for more memory than a block of this image can need "
                f"({memlimit} bytes)"
            ) from e
        raise ValueError(str(e)) from e
    except MemoryError as e:
        raise ValueError("not enough memory to decode it") from e
    if not d.eof and not d.needs_input:
        raise OverflowError("decompresses to more than it claims")
    return out


def xz(data: bytes, limit: int, window: int | None = None) -> bytes:
    """An xz container (squashfs ``xz``); ``window``: the largest dictionary a block of the
    image may use (default ``limit``)."""
    return _lzma(data, limit, lzma.FORMAT_XZ, window)


def lzma_alone(data: bytes, limit: int, window: int | None = None) -> bytes:
    """The legacy ``.lzma`` format (squashfs ``lzma``); ``window`` as for :func:`xz`."""
    return _lzma(data, limit, lzma.FORMAT_ALONE, window)


def microlzma(data: bytes, limit: int) -> bytes:
    """MicroLZMA (EROFS ``lzma``): raw LZMA1 whose first byte is the negated properties byte.

    The range coder's first byte is always zero, so MicroLZMA stores ``~props`` there instead;
    putting the zero back gives a raw LZMA1 stream the standard library decodes. The dictionary
    only needs to hold this cluster's output (clusters are independent).
    """
    if not data:
        raise ValueError("empty MicroLZMA stream")
    props = ~data[0] & 0xFF
    if props >= 9 * 5 * 5:
        raise ValueError("invalid MicroLZMA properties byte")
    lc, rest = props % 9, props // 9
    lp, pb = rest % 5, rest // 5
    # EROFS encoders use at most an 8 MiB dictionary
    dict_size = min(8 << 20, max(4096, 1 << max(limit - 1, 1).bit_length()))
    filters = [{"id": lzma.FILTER_LZMA1, "lc": lc, "lp": lp, "pb": pb, "dict_size": dict_size}]
    try:
        d = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters)
        out = d.decompress(b"\0" + data[1:], max_length=limit)
    except lzma.LZMAError as e:
        raise ValueError(str(e)) from e
    except MemoryError as e:
        raise ValueError("not enough memory to decode it") from e
    return out


def lz4_block(data: bytes, limit: int, *, partial: bool = False) -> bytes:
    """An LZ4 block (squashfs ``lz4``, EROFS ``lz4``).

    With ``partial`` decoding stops after ``limit`` bytes (EROFS reads the head of a cluster,
    or a cluster whose compressed data is followed by padding); otherwise more output than
    ``limit`` is an :class:`OverflowError`.
    """
    mod = None if partial else _optional("lz4.block", "lz4", required=False)
    if mod is not None:
        try:
            out: bytes = mod.decompress(data, uncompressed_size=limit)
        except Exception as e:  # LZ4BlockError: corrupt, or more than ``limit``
            raise ValueError(f"invalid LZ4 block or more than {limit} bytes: {e}") from e
        return out
    return _lz4_pure(data, limit, partial)


def _lz4_pure(src: bytes, limit: int, partial: bool) -> bytes:
    out = bytearray()
    n, i = len(src), 0

    def length(base: int) -> int:
        nonlocal i
        total = base
        if base == 15:
            while True:
                if i >= n:
                    raise ValueError("LZ4 length runs past the input")
                b = src[i]
                i += 1
                total += b
                if b != 255:
                    break
        return total

    while i < n:
        token = src[i]
        i += 1
        lit = length(token >> 4)
        if i + lit > n:
            raise ValueError("LZ4 literals run past the input")
        if len(out) + lit > limit:
            if partial:
                out += src[i : i + limit - len(out)]
                return bytes(out)
            raise OverflowError("decompresses to more than it claims")
        out += src[i : i + lit]
        i += lit
        if i >= n:  # the last sequence holds literals only
            break
        if partial and len(out) == limit:
            return bytes(out)
        if i + 2 > n:
            raise ValueError("LZ4 match offset runs past the input")
        off = src[i] | (src[i + 1] << 8)
        i += 2
        ml = length(token & 15) + 4
        if off == 0 or off > len(out):
            raise ValueError("LZ4 match offset points before the output")
        if len(out) + ml > limit:
            if not partial:
                raise OverflowError("decompresses to more than it claims")
            ml = limit - len(out)
        start = len(out) - off
        if off >= ml:
            out += out[start : start + ml]
        else:
            chunk = out[start:]
            reps, rest = divmod(ml, off)
            out += chunk * reps + chunk[:rest]
        if partial and len(out) >= limit:
            return bytes(out)
    return bytes(out)


def zstd(data: bytes, limit: int) -> bytes:
    """A zstd frame (squashfs and EROFS ``zstd``); needs the ``zstandard`` package."""
    mod = _optional("zstandard", "zstandard", required=True)
    try:
        with mod.ZstdDecompressor().stream_reader(io.BytesIO(data)) as r:
            out: bytes = r.read(limit + 1)
    except mod.ZstdError as e:
        raise ValueError(str(e)) from e
    if len(out) > limit:
        raise OverflowError("decompresses to more than it claims")
    return out


def lzo1x(data: bytes, limit: int) -> bytes:
    """An LZO1X block (squashfs ``lzo``), decoded in pure Python."""
    try:
        return lzo.decode_lzo1x(data, limit)
    except lzo.LzoError as e:
        if "more than" in str(e):
            raise OverflowError(str(e)) from e
        raise ValueError(str(e)) from e


#: squashfs compression ids and EROFS algorithm names → decoder
CODECS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": gzip_zlib,
    "deflate": deflate_raw,
    "xz": xz,
    "lzma": lzma_alone,
    "microlzma": microlzma,
    "lzo": lzo1x,
    "lz4": lz4_block,
    "zstd": zstd,
}


_WINDOWED: dict[str, Callable[[bytes, int, int | None], bytes]] = {
    "xz": xz,
    "lzma": lzma_alone,
}


def decompress(
    codec: str,
    data: bytes,
    limit: int,
    *,
    image: str,
    structure: str,
    exact: int | None = None,
    window: int | None = None,
) -> bytes:
    """Decode ``data`` with ``codec``: at most ``limit`` bytes, exactly ``exact`` if given.

    ``window`` is the largest dictionary a block of this image may use (squashfs: its block
    size, also for the smaller metadata blocks); an xz or lzma header asking for more is
    refused before anything is allocated. Any failure is a
    :class:`~portablekit.errors.CorruptImageError` about ``structure``.
    """
    try:
        if codec in _WINDOWED:
            out = _WINDOWED[codec](data, limit, window)
        else:
            out = CODECS[codec](data, limit)
    except OverflowError as e:
        raise CorruptImageError(
            f"{codec} data decompresses to more than the {limit} bytes it may hold",
            image=image,
            structure=structure,
        ) from e
    except ValueError as e:
        raise CorruptImageError(
            f"{codec} data does not decompress: {e}", image=image, structure=structure
        ) from e
    if exact is not None and len(out) != exact:
        raise CorruptImageError(
            f"{codec} data decompresses to {len(out)} bytes, expected {exact}",
            image=image,
            structure=structure,
        )
    return out

"""A pure-Python LZO1X decompressor (squashfs ``lzo``), so no C library is needed.

squashfs images made with ``mksquashfs -comp lzo`` store LZO1X blocks (from any of the
``lzo1x_1*`` or ``lzo1x_999`` compressors: they share one decoder). ``python-lzo`` needs
``liblzo2-dev`` to build, so we decode the format ourselves; it is slower than C, which only
matters for large files in lzo images (rare: mkosi and mksquashfs default to other compressors).

>>> decode_lzo1x(bytes([0x12, 0x41, 0x11, 0x00, 0x00]), 16)
b'A'
"""

from __future__ import annotations

__all__ = ["LzoError", "decode_lzo1x"]


class LzoError(ValueError):
    """The input is not a valid LZO1X stream, or it decodes to more than allowed."""


def _copy_match(out: bytearray, dist: int, length: int, limit: int) -> None:
    start = len(out) - dist
    if start < 0:
        raise LzoError("match distance points before the start of the output")
    if len(out) + length > limit:
        raise LzoError("decompresses to more than the block size")
    if dist >= length:
        out += out[start : start + length]
    else:  # overlapping copy: the pattern repeats
        chunk = out[start:]
        reps, rest = divmod(length, dist)
        out += chunk * reps + chunk[:rest]


def decode_lzo1x(src: bytes, limit: int) -> bytes:
    """Decode the LZO1X stream ``src``; more than ``limit`` bytes of output is an error."""
    out = bytearray()
    n = len(src)
    ip = 0

    def byte() -> int:
        nonlocal ip
        if ip >= n:
            raise LzoError("input ends in the middle of an instruction")
        ip += 1
        return src[ip - 1]

    def run_length(t: int, base: int) -> int:
        # a zero length field is extended by zero bytes (255 each) and a final non-zero byte
        nonlocal ip
        if t:
            return t
        zeros = 0
        while ip < n and src[ip] == 0:
            zeros += 1
            ip += 1
            if zeros > (limit // 255) + 2:
                raise LzoError("run length exceeds the block size")
        return zeros * 255 + base + byte()

    def literals(count: int) -> None:
        nonlocal ip
        if ip + count > n:
            raise LzoError("literal run extends beyond the input")
        if len(out) + count > limit:
            raise LzoError("decompresses to more than the block size")
        out.extend(src[ip : ip + count])
        ip += count

    # states: "top" reads an instruction that may start a literal run; "first" follows a
    # literal run (a short instruction there is a 3-byte match); "match" decodes a match
    state = "top"
    t = 0
    if n and src[0] > 17:
        ip = 1
        t = src[0] - 17
        literals(t)
        if t >= 4:
            state = "first"
        else:
            t = byte()
            state = "match"
    while True:
        if state == "top":
            t = byte()
            if t >= 16:
                state = "match"
                continue
            literals(run_length(t, 15) + 3)
            state = "first"
            continue
        if state == "first":
            t = byte()
            if t >= 16:
                state = "match"
                continue
            dist = 1 + 0x0800 + (t >> 2) + (byte() << 2)
            _copy_match(out, dist, 3, limit)
        elif state == "match":
            if t >= 64:
                dist = 1 + ((t >> 2) & 7) + (byte() << 3)
                _copy_match(out, dist, (t >> 5) + 1, limit)
            elif t >= 32:
                length = run_length(t & 31, 31) + 2
                lo = byte()
                dist = 1 + (lo >> 2) + (byte() << 6)
                _copy_match(out, dist, length, limit)
            elif t >= 16:
                high = (t & 8) << 11
                length = run_length(t & 7, 7) + 2
                lo = byte()
                dist = high + (lo >> 2) + (byte() << 6)
                if dist == 0:  # end-of-stream marker
                    if ip != n:
                        raise LzoError("data after the end-of-stream marker")
                    return bytes(out)
                _copy_match(out, dist + 0x4000, length, limit)
            else:
                dist = 1 + (t >> 2) + (byte() << 2)
                _copy_match(out, dist, 2, limit)
        # the low two bits of the byte two back give 0-3 literals after a match
        t = src[ip - 2] & 3
        if t == 0:
            state = "top"
            continue
        literals(t)
        t = byte()
        state = "match"

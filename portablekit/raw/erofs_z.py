"""EROFS compressed files: the logical-cluster map and the decoders.

A compressed file is cut into *logical clusters* (lclusters) of ``1 << lclusterbits`` bytes,
each described by an index entry (8 bytes in the *full* layout; packed 2 or 4 bytes each in the
*compact* layout). A HEAD lcluster starts a *physical cluster* (pcluster) at ``clusterofs``
inside it: one independently compressed run of blocks; NONHEAD lclusters point back to their
head (``delta[0]``) and forward to the next one (``delta[1]``), and the first NONHEAD of a big
pcluster holds its compressed block count (CBLKCNT). PLAIN heads are stored uncompressed.
The file's tail may instead be inline after the index (ztailpacking) or in the *packed inode*
shared by all files (fragments); newer images can also describe pclusters as explicit extents.

To read ``[offset, end)`` we map the lcluster holding ``end - 1`` to its pcluster extent
``[la, la + llen)``, decode that pcluster from its start and keep the needed bytes, then continue
with ``end = la`` until ``offset`` is reached (the way erofs-utils reads).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import UnsupportedImageError
from ._io import LRU, BlockCache, Reader
from .compress import deflate_raw, lz4_block, microlzma, zstd
from .erofs_format import COMPRESSED_COMPACT, INCOMPAT_LZ4_0PADDING, ErofsInode

__all__ = ["ErofsVolume", "read_compressed"]


class ErofsVolume(Protocol):
    """What decoding a compressed file needs of its EROFS file system
    (:class:`portablekit.raw.erofs.ErofsSource`)."""

    reader: Reader
    label: str
    meta: BlockCache
    blkszbits: int
    block_size: int
    incompat: int
    packed_nid: int
    zmaps: LRU[int, object]
    zdata: LRU[tuple[int, int], bytes]

    def _node(self, ref: int) -> ErofsInode: ...

    def data(self, node: ErofsInode, offset: int, size: int) -> bytes:
        """``size`` bytes of ``node``'s data from ``offset``."""
        ...


PLAIN, HEAD1, NONHEAD, HEAD2 = range(4)
D0_CBLKCNT = 1 << 11
PARTIAL_REF = 1 << 15

ADVISE_COMPACTED_2B = 0x1
ADVISE_EXTENTS = 0x1
ADVISE_BIG_PCLUSTER_1 = 0x2
ADVISE_BIG_PCLUSTER_2 = 0x4
ADVISE_INLINE_PCLUSTER = 0x8
ADVISE_INTERLACED_PCLUSTER = 0x10
ADVISE_FRAGMENT_PCLUSTER = 0x20

ALG_LZ4, ALG_LZMA, ALG_DEFLATE, ALG_ZSTD = range(4)
SHIFTED, INTERLACED = 4, 5
_ALG_NAMES = {ALG_LZ4: "lz4", ALG_LZMA: "lzma", ALG_DEFLATE: "deflate", ALG_ZSTD: "zstd"}

PCLUSTER_MAX_SIZE = 1 << 20
PCLUSTER_MAX_DSIZE = 12 << 20
EXTENT_PLEN_PARTIAL = 1 << 27
EXTENT_PLEN_MASK = (PCLUSTER_MAX_SIZE << 1) - 1


@dataclass(slots=True)
class ZInfo:
    """What the map header of one compressed inode says (read once per inode)."""

    advise: int = 0
    lclusterbits: int = 12
    algs: tuple[int, int] = (0, 0)
    idata_size: int = 0  #: ztailpacking: bytes of inline tail data
    fragmentoff: int = 0  #: fragments: offset of the tail in the packed inode
    whole_fragment: bool = False  #: the whole file lives in the packed inode
    extents: int = -1  #: number of explicit extents, or -1 for lcluster indexes
    tail_headlcn: int = -1
    tailpos: int = 0  #: ztailpacking: byte position of the inline tail data


@dataclass(slots=True)
class LCluster:
    """One decoded lcluster index entry (erofs-utils' ``maprecorder``)."""

    lcn: int = 0
    type: int = 0
    clusterofs: int = 0
    delta: list[int] = field(default_factory=lambda: [0, 0])
    pblk: int = 0
    cblks: int = 0
    partial: bool = False
    nextpackoff: int = 0


@dataclass(slots=True)
class Extent:
    """A mapped extent: logical ``[la, la + llen)`` decoded from ``plen`` bytes at ``pa``."""

    la: int
    llen: int
    pa: int = 0
    plen: int = 0
    alg: int = 0
    mapped: bool = True
    fragment: bool = False
    full: bool = False  #: the extent ends where its pcluster's data end
    partial_ref: bool = False
    headlcn: int = -1  #: the HEAD lcluster (lcluster-indexed maps)


class _Mapper:
    """Maps logical offsets of one compressed inode to extents."""

    def __init__(self, fs: ErofsVolume, node: ErofsInode) -> None:
        self.fs, self.node = fs, node
        self.compact = node.layout == COMPRESSED_COMPACT
        self.where = f"erofs inode {node.ident} compression map"
        cached = fs.zmaps.get(node.ident)
        if isinstance(cached, ZInfo):
            self.z = cached
        else:
            self.z = self._header()
            fs.zmaps.put(node.ident, self.z)

    def corrupt(self, message: str) -> Exception:
        return self.fs.reader.corrupt(self.where, message)

    def _header(self) -> ZInfo:
        fs, node = self.fs, self.node
        hpos = -(-node.tail // 8) * 8
        raw = fs.meta.pread(hpos, 8, self.where)
        z = ZInfo()
        if raw[7] >> 7:  # the whole file is in the packed inode
            z.whole_fragment = True
            z.fragmentoff = struct.unpack("<Q", raw)[0] ^ (1 << 63)
            z.advise = ADVISE_FRAGMENT_PCLUSTER
            z.tail_headlcn = 0
            return z
        lo32, advise = struct.unpack_from("<IH", raw, 0)
        z.advise = advise
        z.lclusterbits = fs.blkszbits + (raw[7] & 15)
        if z.lclusterbits > 30:
            raise self.corrupt(f"lcluster bits {z.lclusterbits}")
        if not self.compact and advise & ADVISE_EXTENTS:
            z.extents = lo32 | (struct.unpack_from("<H", raw, 6)[0] << 32)
            return z
        z.algs = (raw[6] & 15, raw[6] >> 4)
        if advise & ADVISE_FRAGMENT_PCLUSTER:
            z.fragmentoff = lo32
        elif advise & ADVISE_INLINE_PCLUSTER:
            z.idata_size = lo32 >> 16
        if self.compact and bool(advise & ADVISE_BIG_PCLUSTER_1) != bool(
            advise & ADVISE_BIG_PCLUSTER_2
        ):
            raise self.corrupt("big pcluster flags of compact indexes disagree")
        self.z = z
        if z.idata_size or advise & ADVISE_FRAGMENT_PCLUSTER:
            self.map(node.size - 1, findtail=True)
        return z

    # -- index entries ----------------------------------------------------------------------------

    def load(self, m: LCluster, lcn: int, lookahead: bool = False) -> None:
        if self.compact:
            self._load_compact(m, lcn, lookahead)
        else:
            self._load_full(m, lcn)
        if m.type != NONHEAD and m.clusterofs >= 1 << self.z.lclusterbits:
            raise self.corrupt(f"clusterofs {m.clusterofs} beyond its lcluster {lcn}")

    def _load_full(self, m: LCluster, lcn: int) -> None:
        base = -(-self.node.tail // 8) * 8 + 16
        if lcn > (self.node.size >> self.z.lclusterbits) + 1:
            raise self.corrupt(f"lcluster {lcn} beyond the end of file")
        pos = base + lcn * 8
        advise, clusterofs, u = struct.unpack("<HHI", self.fs.meta.pread(pos, 8, self.where))
        m.lcn, m.nextpackoff = lcn, pos + 8
        m.type = advise & 3
        if m.type == NONHEAD:
            m.clusterofs = 1 << self.z.lclusterbits
            d0, d1 = u & 0xFFFF, u >> 16
            if d0 & D0_CBLKCNT:
                if not self.z.advise & (ADVISE_BIG_PCLUSTER_1 | ADVISE_BIG_PCLUSTER_2):
                    raise self.corrupt("CBLKCNT without big pclusters")
                m.cblks, d0 = d0 & ~D0_CBLKCNT, 1
            m.delta = [d0, d1]
        else:
            m.partial = bool(advise & PARTIAL_REF)
            m.clusterofs, m.pblk = clusterofs, u

    def _load_compact(self, m: LCluster, lcn: int, lookahead: bool) -> None:
        z, bs_bits = self.z, self.fs.blkszbits
        ebase = -(-self.node.tail // 8) * 8 + 8
        total = (self.node.size + (1 << bs_bits) - 1) >> bs_bits
        if lcn >= total or z.lclusterbits > 14:
            raise self.corrupt(f"lcluster {lcn} beyond the index ({total})")
        m.lcn = lcn
        init4 = ((32 - ebase % 32) // 4) & 7
        c2b = 0
        if z.advise & ADVISE_COMPACTED_2B and init4 < total:
            c2b = (total - init4) // 16 * 16
        pos, shift, rel = ebase, 2, lcn
        if rel >= init4:
            pos += init4 * 4
            rel -= init4
            if rel < c2b:
                shift = 1
            else:
                pos += c2b * 2
                rel -= c2b
        pos += rel << shift
        if shift == 2:
            vcnt = 2
        elif z.lclusterbits <= 12:
            vcnt = 16
        else:
            raise UnsupportedImageError("EROFS compact 2B index with large lclusters")
        packsize = vcnt << shift
        start = pos - pos % packsize
        pack = self.fs.meta.pread(start, packsize, self.where)
        m.nextpackoff = start + packsize
        lobits = max(z.lclusterbits, 12)
        encodebits = ((packsize - 4) * 8) // vcnt
        i = (pos - start) >> shift
        padded = pack + b"\0\0\0"

        def decode(j: int) -> tuple[int, int]:
            bit = encodebits * j
            v = int.from_bytes(padded[bit // 8 : bit // 8 + 4], "little") >> (bit & 7)
            return v & ((1 << lobits) - 1), (v >> lobits) & 3

        lo, m.type = decode(i)
        big = bool(z.advise & ADVISE_BIG_PCLUSTER_1)
        if m.type == NONHEAD:
            m.clusterofs = 1 << z.lclusterbits
            if lookahead:
                d1, j, t = 0, i, NONHEAD
                while j < vcnt:
                    lo2, t = decode(j)
                    if t != NONHEAD:
                        break
                    d1 += 1
                    j += 1
                if t == NONHEAD and not lo2 & D0_CBLKCNT:
                    d1 += lo2 - 1
                m.delta[1] = d1
            if lo & D0_CBLKCNT:
                if not big:
                    raise self.corrupt("CBLKCNT without big pclusters")
                m.cblks, m.delta[0] = lo & ~D0_CBLKCNT, 1
            elif i + 1 != vcnt:
                m.delta[0] = lo
            else:  # the last entry of a pack stores delta[1]: derive delta[0] from the previous
                lo2, t = decode(i - 1)
                lo2 = 0 if t != NONHEAD else (1 if lo2 & D0_CBLKCNT else lo2)
                m.delta[0] = lo2 + 1
            return
        m.clusterofs, m.delta[0] = lo, 0
        nblk = 0 if big else 1
        while i > 0:
            i -= 1
            lo2, t = decode(i)
            if big:
                if t == NONHEAD:
                    if lo2 & D0_CBLKCNT:
                        i -= 1
                        nblk += lo2 & ~D0_CBLKCNT
                        continue
                    if lo2 <= 1:
                        raise self.corrupt("big pcluster with delta[0] <= 1")
                    i -= lo2 - 2
                    continue
                nblk += 1
            else:
                if t == NONHEAD:
                    i -= lo2
                if i >= 0:
                    nblk += 1
        m.pblk = struct.unpack_from("<I", pack, packsize - 4)[0] + nblk

    # -- mapping ----------------------------------------------------------------------------------

    def _lookback(self, m: LCluster, distance: int) -> int:
        """Walk back to the HEAD lcluster; returns its logical address."""
        while m.lcn >= distance:
            lcn = m.lcn - distance
            self.load(m, lcn)
            if m.type == NONHEAD:
                distance = m.delta[0]
                if distance == 0:
                    break
                continue
            return (lcn << self.z.lclusterbits) | m.clusterofs
        raise self.corrupt(f"bogus lookback distance {distance} at lcluster {m.lcn}")

    def _compressed_len(self, m: LCluster, headtype: int) -> int:
        z = self.z
        lcn = m.lcn + 1
        big1, big2 = z.advise & ADVISE_BIG_PCLUSTER_1, z.advise & ADVISE_BIG_PCLUSTER_2
        if (
            (headtype == HEAD1 and not big1)
            or (headtype in (PLAIN, HEAD2) and not big2)
            or (lcn << z.lclusterbits) >= self.node.size
        ):
            m.cblks = 1
        if not m.cblks:
            self.load(m, lcn)
            if m.type == NONHEAD:
                if m.delta[0] != 1 or not m.cblks:
                    raise self.corrupt(f"missing CBLKCNT at lcluster {lcn}")
            else:
                m.cblks = 1
        return int(m.cblks << self.fs.blkszbits)

    def map(self, ofs: int, findtail: bool = False) -> Extent:
        """The extent holding logical offset ``ofs``."""
        z, node, bs_bits = self.z, self.node, self.fs.blkszbits
        if z.whole_fragment:
            return Extent(0, node.size, fragment=True)
        if z.extents >= 0:
            return self._map_extents(ofs)
        fragment = bool(z.advise & ADVISE_FRAGMENT_PCLUSTER)
        ztail = z.idata_size > 0
        if fragment and not findtail and z.tail_headlcn == 0:
            return Extent(0, node.size, fragment=True)
        lcb = z.lclusterbits
        m = LCluster()
        initial = ofs >> lcb
        endoff = ofs & ((1 << lcb) - 1)
        self.load(m, initial)
        if findtail and ztail:
            z.tailpos = m.nextpackoff
        end = (m.lcn + 1) << lcb
        full = False
        if m.type != NONHEAD and endoff >= m.clusterofs:
            headtype = m.type
            la = (m.lcn << lcb) | m.clusterofs
            if ztail and end > node.size:
                end = node.size
        else:
            if m.type != NONHEAD:
                if m.lcn == 0:
                    raise self.corrupt("logical cluster 0 starts inside its data")
                end = (m.lcn << lcb) | m.clusterofs
                full = True
                m.delta[0] = 1
            la = self._lookback(m, m.delta[0])
            headtype = m.type
        ext = Extent(la, end - la, full=full, partial_ref=m.partial, headlcn=m.lcn)
        if findtail:
            z.tail_headlcn = m.lcn
            if fragment and not self.compact:
                z.fragmentoff |= m.pblk << 32
        if ztail and m.lcn == z.tail_headlcn:
            ext.pa, ext.plen = z.tailpos, z.idata_size
            if ext.pa % (1 << bs_bits) + ext.plen > 1 << bs_bits:
                raise self.corrupt("inline tail pcluster crosses a block boundary")
        elif fragment and m.lcn == z.tail_headlcn:
            ext.fragment = True
            return ext
        else:
            ext.pa = m.pblk << bs_bits
            ext.plen = self._compressed_len(m, headtype)
        if headtype == PLAIN:
            if ext.llen > ext.plen:
                raise self.corrupt("uncompressed pcluster shorter than its extent")
            ext.alg = INTERLACED if z.advise & ADVISE_INTERLACED_PCLUSTER else SHIFTED
        else:
            ext.alg = z.algs[1] if headtype == HEAD2 else z.algs[0]
        return ext

    def full_length(self, ext: Extent) -> int:
        """The logical length of ``ext``'s whole pcluster (up to the next HEAD or EOF)."""
        if ext.full or ext.headlcn < 0:
            return ext.llen
        lcb, size = self.z.lclusterbits, self.node.size
        m = LCluster()
        lcn = ext.headlcn
        while True:
            if lcn << lcb >= size:
                return size - ext.la
            self.load(m, lcn, lookahead=True)
            if m.type == NONHEAD:
                m.delta[1] = m.delta[1] or 1  # pre-1.0 mkfs wrote 0
            elif lcn != ext.headlcn:
                break
            else:
                m.delta[1] = 1
            lcn += m.delta[1]
        return (lcn << lcb) + m.clusterofs - ext.la

    def _map_extents(self, ofs: int) -> Extent:
        """Newer images (FULL layout with EXTENTS advise): explicit extent records."""
        z, fs, node = self.z, self.fs, self.node
        recsz = 4 << ((z.advise >> 1) & 3)
        pos = -(-(-(-node.tail // 8) * 8 + 8) // recsz) * recsz
        lcb = z.lclusterbits
        lend = node.size
        plen, pa = 0, 0
        if recsz <= 8:
            if recsz <= 4:
                pa_next: int | None = struct.unpack("<Q", fs.meta.pread(pos, 8, self.where))[0]
                pos += 8
                lstart = 0
            else:
                lstart = (ofs >> lcb) << lcb
                pos += (lstart >> lcb) * recsz
                pa_next = None
            steps = 0
            while lstart <= ofs:
                raw = fs.meta.pread(pos, recsz, self.where)
                plen = struct.unpack_from("<I", raw, 0)[0]
                if pa_next is not None:
                    pa = pa_next
                    pa_next += plen & EXTENT_PLEN_MASK
                else:
                    pa = struct.unpack_from("<I", raw, 4)[0]
                pos += recsz
                lstart += 1 << lcb
                steps += 1
                if steps > (node.size >> lcb) + 2:
                    raise self.corrupt("extent walk runs past the end of file")
            last = lstart >= ((lend + (1 << lcb) - 1) >> lcb) << lcb
            lend = min(lstart, lend)
            lstart -= 1 << lcb
        else:
            lstart, lo, hi = lend, 0, z.extents
            while lo < hi:
                mid = (lo + hi) // 2
                raw = fs.meta.pread(pos + mid * recsz, recsz, self.where)
                eplen, plo, phi, llo = struct.unpack_from("<IIII", raw, 0)
                la = llo | (struct.unpack_from("<I", raw, 16)[0] << 32 if recsz > 16 else 0)
                if la > ofs:
                    hi = mid
                    if la > lend:
                        raise self.corrupt("extents out of order")
                    lend = la
                else:
                    lo = mid + 1
                    if ofs == la:
                        hi = min(lo + 1, hi)
                    lstart, plen, pa = la, eplen, plo | (phi << 32)
            last = lo >= z.extents
        ext = Extent(lstart, lend - lstart, mapped=False)
        if lstart < lend:
            if last and z.advise & ADVISE_FRAGMENT_PCLUSTER:
                ext.fragment, ext.mapped = True, True
                z.fragmentoff = plen | (pa << 32 if recsz > 4 else 0)
            elif plen & EXTENT_PLEN_MASK:
                ext.mapped, ext.full = True, True
                fmt = plen >> 28
                ext.partial_ref = bool(plen & EXTENT_PLEN_PARTIAL)
                ext.plen, ext.pa = plen & EXTENT_PLEN_MASK, pa
                if fmt:
                    ext.alg = fmt - 1
                elif z.advise & ADVISE_INTERLACED_PCLUSTER and not (
                    (pa | ext.plen) & ((1 << fs.blkszbits) - 1)
                ):
                    ext.alg = INTERLACED
                else:
                    ext.alg = SHIFTED
        return ext


def _decode(
    fs: ErofsVolume, mapper: _Mapper, ext: Extent, length: int, partial: bool, where: str
) -> bytes:
    """The first ``length`` bytes a pcluster decodes to."""
    if ext.plen > PCLUSTER_MAX_SIZE or length > PCLUSTER_MAX_DSIZE:
        raise fs.reader.corrupt(where, f"pcluster of {ext.plen} -> {length} bytes is too large")
    key = (ext.pa, ext.plen)
    hit = fs.zdata.get(key)
    if hit is not None and len(hit) >= length and (partial or len(hit) == length):
        return hit[:length]
    raw = fs.reader.pread(ext.pa, ext.plen, where)
    bs = fs.block_size
    if ext.alg == SHIFTED:
        if length > ext.plen:
            raise fs.reader.corrupt(where, "uncompressed pcluster too short")
        return raw[:length]
    if ext.alg == INTERLACED:
        if length > ext.plen or ext.plen > bs:
            raise fs.reader.corrupt(where, "invalid interlaced pcluster")
        s = ext.la % bs
        right = min(bs - s, length)
        return raw[s : s + right] + raw[: length - right]
    name = _ALG_NAMES.get(ext.alg)
    if name is None:
        raise UnsupportedImageError(f"EROFS compression algorithm {ext.alg}", image=fs.label)
    margin = len(raw) - len(raw.lstrip(b"\0"))  # 0padding: data sit at the pcluster's end
    if margin >= len(raw):
        raise fs.reader.corrupt(where, "empty compressed pcluster")
    data = raw[margin:]
    try:
        if ext.alg == ALG_LZ4:
            if not fs.incompat & INCOMPAT_LZ4_0PADDING:
                # without 0padding the stream is followed by padding: decode just what we need
                out = lz4_block(data, length, partial=True)
            elif partial and margin == 0:  # a pcluster filled to the last byte
                out = lz4_block(data, length, partial=True)
            else:
                out = lz4_block(data, min(PCLUSTER_MAX_DSIZE, max(length, 255 * len(data) + 64)))
        elif ext.alg == ALG_LZMA:
            # MicroLZMA has no end marker: decode exactly the pcluster's length (all of it
            # when only part is asked for, so that the cached result serves later reads)
            whole = mapper.full_length(ext) if partial and not ext.partial_ref else length
            if not length <= whole <= PCLUSTER_MAX_DSIZE:
                raise fs.reader.corrupt(where, f"invalid pcluster length {whole}")
            out = microlzma(data, whole)
            if len(out) != whole:
                raise fs.reader.corrupt(
                    where, f"lzma pcluster decodes to {len(out)} of {whole} bytes"
                )
        else:
            # a partial read decodes the whole pcluster once (it is cached): files read in
            # pieces, and files sharing the packed inode, then cost one decode per pcluster
            decoder = deflate_raw if ext.alg == ALG_DEFLATE else zstd
            out = decoder(data, PCLUSTER_MAX_DSIZE if partial else length + 1)
    except OverflowError as e:
        raise fs.reader.corrupt(
            where, f"{name} pcluster decompresses to more than {length} bytes"
        ) from e
    except ValueError as e:
        raise fs.reader.corrupt(where, f"{name} pcluster does not decompress: {e}") from e
    if len(out) < length or (not partial and len(out) != length):
        raise fs.reader.corrupt(
            where, f"{name} pcluster decompresses to {len(out)} bytes, its extent says {length}"
        )
    fs.zdata.put(key, out)
    return out[:length]


def read_compressed(fs: ErofsVolume, node: ErofsInode, offset: int, size: int) -> bytes:
    """``size`` bytes from ``offset`` of the compressed file ``node``."""
    mapper = _Mapper(fs, node)
    where = f"erofs inode {node.ident} data"
    out = bytearray(size)
    end = offset + size
    steps = 0
    while end > offset:
        steps += 1
        if steps > (node.size >> fs.blkszbits) + 2:
            raise fs.reader.corrupt(where, "extent map does not advance")
        ext = mapper.map(end - 1)
        if ext.la >= end or (ext.la + ext.llen < end and not ext.fragment):
            raise fs.reader.corrupt(
                where, f"extent [{ext.la}, +{ext.llen}) misses offset {end - 1}"
            )
        if end < ext.la + ext.llen:
            length, trimmed = end - ext.la, True
        else:
            length, trimmed = ext.llen, False
        skip = max(0, offset - ext.la)
        dest = max(ext.la, offset) - offset
        if ext.fragment:
            packed = fs._node(fs.packed_nid)
            if packed.ident == node.ident:
                raise fs.reader.corrupt(where, "the packed inode refers to itself")
            mz = mapper.z
            chunk = fs.data(packed, mz.fragmentoff + skip, length - skip)
        elif not ext.mapped:
            chunk = bytes(length - skip)
        else:
            partial = trimmed or not ext.full or ext.partial_ref
            chunk = _decode(fs, mapper, ext, length, partial, where)[skip:]
        out[dest : dest + len(chunk)] = chunk
        end = max(ext.la, offset)
    return bytes(out)

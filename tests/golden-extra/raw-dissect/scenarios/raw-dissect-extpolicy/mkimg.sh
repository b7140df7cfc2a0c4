# Helpers sourced by the build scripts of the raw-dissect scenarios (bash, run on the host).
# Images are made with the real tools, deterministically: fixed times and UUIDs.
export PATH=/usr/sbin:/sbin:$PATH
export SOURCE_DATE_EPOCH=1700000000 E2FSPROGS_FAKE_TIME=1700000000
TMPW=$(mktemp -d)
trap 'rm -rf "$TMPW"' EXIT

# tree DIR PRETTY UNITNAME [usr]  -> os-release + one service unit; "usr" builds the tree of a
# usr partition (its root is /usr: lib/os-release, lib/systemd/system/UNIT)
tree() {
    local d=$1 pretty=$2 unit=$3 mode=${4:-root} u
    if [ "$mode" = usr ]; then u=$d; else u=$d/usr; mkdir -p "$d/etc"; fi
    mkdir -p "$u/lib/systemd/system" "$u/bin"
    printf 'PRETTY_NAME="%s"\nID=debian\nVERSION_ID="12"\n' "$pretty" > "$u/lib/os-release"
    [ "$mode" = usr ] || ln -s ../usr/lib/os-release "$d/etc/os-release"
    printf '[Unit]\nDescription=%s\n\n[Service]\nExecStart=/usr/bin/%s\n' "$unit" "${unit%.*}" > "$u/lib/systemd/system/$unit"
    printf '#!/bin/sh\n' > "$u/bin/${unit%.*}"; chmod 0755 "$u/bin/${unit%.*}"
    find "$d" -exec touch -h -d @1700000000 {} +
}
fs_ext4()   { truncate -s 4M "$2"; mkfs.ext4 -q -F -U 11111111-2222-3333-4444-555555555555 -E root_owner=0:0,hash_seed=11111111-2222-3333-4444-555555555555 -d "$1" "$2"; }
fs_squash() { env -u SOURCE_DATE_EPOCH mksquashfs "$1" "$2" -quiet -noappend -all-root -no-xattrs -mkfs-time 0 -all-time 0 -no-progress; }
fs_erofs()  { mkfs.erofs --quiet --all-root -T1700000000 -U 11111111-2222-3333-4444-555555555555 "$2" "$1"; }

# disk OUT LABEL PART...   PART = "TYPE|NAME|ATTRS|FSFILE" (GPT) or "TYPE|bootable|-|FSFILE" (dos)
# FSFILE "-" leaves the partition zeroed (1 MiB); each partition is rounded up to 1 MiB
disk() {
    local out=$1 label=$2 start=2048 script="" p typ name attrs fs sz secs extra n=0
    shift 2
    rm -f "$out"
    for p in "$@"; do
        IFS='|' read -r typ name attrs fs <<< "$p"
        if [ "$fs" = - ]; then sz=1048576; else sz=$(stat -c %s "$fs"); fi
        secs=$(( (sz + 1048575) / 1048576 * 2048 ))
        if [ "$label" = gpt ]; then
            n=$((n + 1))
            extra=", uuid=6a5f1b2c-0000-4000-8000-0000000000$(printf %02d $n), name=\"$name\""
            [ "$attrs" = - ] || extra="$extra, attrs=\"$attrs\""
        else
            extra=""; [ "$name" = bootable ] && extra=", bootable"
        fi
        script="${script}start=$start, size=$secs, type=$typ$extra"$'\n'
        start=$(( start + secs ))
    done
    truncate -s $(( (start + 2048) * 512 )) "$out"
    if [ "$label" = gpt ]; then
        printf 'label: gpt\nlabel-id: 6a5f1b2c-0000-4000-8000-000000000001\nfirst-lba: 2048\n%s' "$script" | sfdisk -q --no-reread --no-tell-kernel "$out"
    else
        printf 'label: dos\nlabel-id: 0x12345678\n%s' "$script" | sfdisk -q --no-reread --no-tell-kernel "$out"
    fi
    start=2048
    for p in "$@"; do
        IFS='|' read -r typ name attrs fs <<< "$p"
        if [ "$fs" = - ]; then sz=1048576; else sz=$(stat -c %s "$fs"); fi
        [ "$fs" = - ] || dd if="$fs" of="$out" bs=512 seek=$start conv=notrunc status=none
        start=$(( start + (sz + 1048575) / 1048576 * 2048 ))
    done
}
ROOT64=4f68bce3-e8cd-4db1-96e7-fbcaf984b709
USR64=8484680c-9521-48c6-9c11-b0720656f69e
ROOTV64=2c7357ed-ebd2-46d9-aec1-23d437ec2bf5
ROOTX86=44479540-f297-41b2-9af7-d131d5f0458a
ROOTA64=b921b045-1df0-41c3-af44-4c6f280d3fae
USRA64=b0e01050-ee5f-4390-949a-9101b17104e9
GENERIC=0fc63daf-8483-4772-8e79-3d69d8477de4
ESP=c12a7328-f81f-11d2-ba4b-00a0c93ec93b

# gptpatch IMG WHAT: damage a GPT on purpose (python3)
#   primary  - break the primary header CRC      both    - break both header CRCs
#   entries  - change an entry, keep the old entries CRC
#   overlap  - move partition 2 to start inside partition 1 (CRCs fixed)
gptpatch() {
python3 - "$1" "$2" <<'PY'
import struct, sys, zlib
path, what = sys.argv[1], sys.argv[2]
f = open(path, "r+b")
def hdr(lba):
    f.seek(lba * 512); return bytearray(f.read(92))
def put(lba, h):
    f.seek(lba * 512); f.write(h)
def fixcrc(h):
    h[16:20] = b"\0\0\0\0"; h[16:20] = struct.pack("<I", zlib.crc32(bytes(h[:92])))
p = hdr(1)
alt = struct.unpack_from("<Q", p, 32)[0]
if what in ("primary", "both"):
    p[16] ^= 0xFF; put(1, p)
if what == "both":
    b = hdr(alt); b[16] ^= 0xFF; put(alt, b)
if what in ("entries", "overlap"):
    for lba in (1, alt):
        h = hdr(lba)
        ent_lba, n, sz = struct.unpack_from("<QII", h, 72)
        f.seek(ent_lba * 512); ents = bytearray(f.read(n * sz))
        first1 = struct.unpack_from("<Q", ents, 32)[0]
        if what == "entries":
            ents[56] ^= 0x01
        else:
            struct.pack_into("<Q", ents, sz + 32, first1 + 8)
            struct.pack_into("<I", h, 88, zlib.crc32(bytes(ents)))
            fixcrc(h)
        f.seek(ent_lba * 512); f.write(ents); put(lba, h)
PY
}

# fs_fat OUT: an empty 1 MiB FAT12 file system (no dosfstools needed)
fs_fat() {
python3 - "$1" <<'PY'
import struct, sys
img = bytearray(2048 * 512)
bs = bytearray(512)
bs[0:3] = b"\xeb\x3c\x90"; bs[3:11] = b"MSWIN4.1"
struct.pack_into("<HBHBHHBHHHII", bs, 11, 512, 1, 1, 2, 512, 2048, 0xF8, 6, 32, 64, 0, 0)
struct.pack_into("<BBBI11s8s", bs, 36, 0x80, 0, 0x29, 0x12345678, b"NO NAME    ", b"FAT12   ")
bs[510:512] = b"\x55\xaa"
img[0:512] = bs
for fat in range(2):
    off = 512 * (1 + 6 * fat)
    img[off:off + 3] = b"\xf8\xff\xff"
open(sys.argv[1], "wb").write(img)
PY
}
fs_swap() { truncate -s 1M "$1"; mkswap -q -U 11111111-2222-3333-4444-555555555555 "$1" >/dev/null; }

#!/bin/bash
# Writes the raw-dissect oracle scenarios (text only) into scenarios/ next to this script.
# Record them with the oracle harness (see README.md here).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
T=$HERE/scenarios
new() { S=$T/$1; rm -rf "$S"; mkdir -p "$S"; printf '%s\n' "$2" | fold -s -w 78 > "$S/README"; cp "$HERE/mkimg.sh" "$S/mkimg.sh"; }

new raw-dissect-layouts "Partition layouts portabled accepts: GPT root+usr, usr only, read-only and growfs flags, MBR, squashfs/erofs partitions, secondary and foreign architectures, two roots of one type (label version order), native vs secondary, no-auto root next to a generic partition, root with a root-verity partition. Shows which tree is used (inspect) and the image policy 262 pins (RootImagePolicy=)."
cat > "$S/build" <<'EOF'
set -e
L=$1
. ./mkimg.sh
P=$L/var/lib/portables
mkdir -p "$P"; chmod 0700 "$P"
W=$TMPW
tree $W/ru-root "RU root" rootusr.service; rm -rf $W/ru-root/usr/*
tree $W/ru-usr "RootUsr OS" rootusr.service usr
fs_ext4 $W/ru-root $W/ru-root.img; fs_ext4 $W/ru-usr $W/ru-usr.img
disk $P/rootusr.raw gpt "$ROOT64|root-x86-64|-|$W/ru-root.img" "$USR64|usr-x86-64|-|$W/ru-usr.img"
tree $W/uo "UsrOnly OS" usronly.service usr; fs_squash $W/uo $W/uo.img
disk $P/usronly.raw gpt "$USR64|usr-x86-64|-|$W/uo.img"
tree $W/ro "ReadOnly OS" rofl.service; fs_ext4 $W/ro $W/ro.img
disk $P/rofl.raw gpt "$ROOT64|root-x86-64|GUID:60|$W/ro.img"
tree $W/gr "Growfs OS" growfl.service; fs_ext4 $W/gr $W/gr.img
disk $P/growfl.raw gpt "$ROOT64|root-x86-64|GUID:59|$W/gr.img"
tree $W/mb "MBR OS" mbr.service; fs_ext4 $W/mb $W/mb.img
disk $P/mbr.raw dos "83|bootable|-|$W/mb.img"
tree $W/gs "GPT Squash OS" gptsq.service; fs_squash $W/gs $W/gs.img
disk $P/gptsq.raw gpt "$ROOT64|root-x86-64|-|$W/gs.img"
tree $W/ge "GPT EROFS OS" gptero.service; fs_erofs $W/ge $W/ge.img
disk $P/gptero.raw gpt "$ROOT64|root-x86-64|-|$W/ge.img"
tree $W/x8 "X86 OS" xeightsix.service; fs_ext4 $W/x8 $W/x8.img
disk $P/xeightsix.raw gpt "$ROOTX86|root-x86|-|$W/x8.img"
tree $W/a6 "Arm64 OS" armonly.service; fs_ext4 $W/a6 $W/a6.img
disk $P/armonly.raw gpt "$ROOTA64|root-arm64|-|$W/a6.img"
tree $W/t1 "Two Roots 1.2" tworoots.service; fs_ext4 $W/t1 $W/t1.img
tree $W/t2 "Two Roots 1.10" tworoots.service; fs_ext4 $W/t2 $W/t2.img
disk $P/tworoots.raw gpt "$ROOT64|root-1.10|-|$W/t2.img" "$ROOT64|root-1.2|-|$W/t1.img"
tree $W/n1 "Secondary OS" native.service; fs_ext4 $W/n1 $W/n1.img
tree $W/n2 "Native OS" native.service; fs_ext4 $W/n2 $W/n2.img
disk $P/native.raw gpt "$ROOTX86|root-x86|-|$W/n1.img" "$ROOT64|root-x86-64|-|$W/n2.img"
tree $W/na1 "NoAuto Root OS" noauto.service; fs_ext4 $W/na1 $W/na1.img
tree $W/na2 "NoAuto Generic OS" noauto.service; fs_ext4 $W/na2 $W/na2.img
disk $P/noauto.raw gpt "$ROOT64|root-x86-64|GUID:63|$W/na1.img" "$GENERIC|data|-|$W/na2.img"
tree $W/rv "RootVerity OS" rootverity.service; fs_ext4 $W/rv $W/rv.img
disk $P/rootverity.raw gpt "$ROOT64|root-x86-64|-|$W/rv.img" "$ROOTV64|root-x86-64-verity|-|-"
EOF
cat > "$S/cmd" <<'EOF'
inspect rootusr
--no-reload attach rootusr
--no-reload detach rootusr
inspect usronly
--no-reload attach usronly
--no-reload detach usronly
--no-reload attach rofl
--no-reload detach rofl
--no-reload attach growfl
--no-reload detach growfl
inspect mbr
--no-reload attach mbr
--no-reload detach mbr
--no-reload attach gptsq
--no-reload detach gptsq
--no-reload attach gptero
--no-reload detach gptero
inspect xeightsix
--no-reload attach xeightsix
--no-reload detach xeightsix
inspect armonly
--no-reload attach armonly
--no-reload detach armonly
inspect tworoots
--no-reload attach tworoots
--no-reload detach tworoots
inspect native
inspect noauto
--no-reload attach noauto
--no-reload detach noauto
inspect rootverity
--no-reload attach rootverity
--no-reload detach rootverity
EOF

new raw-dissect-errors "Raw images portabled refuses: no partition table or file system (garbage, zeros), two generic partitions, only an ESP, only a root-verity partition, two bootable MBR Linux partitions, an MBR Linux partition without boot flag, a no-auto root alone, a root partition without a file system, root and usr of different architectures."
cat > "$S/build" <<'EOF'
set -e
L=$1
. ./mkimg.sh
P=$L/var/lib/portables
mkdir -p "$P"; chmod 0700 "$P"
W=$TMPW
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 7 + 3) % 251 for i in range(1 << 20)))' > $P/garbage.raw
truncate -s 4M $P/zeros.raw
tree $W/a "Err OS" twogeneric.service; fs_ext4 $W/a $W/a.img
disk $P/twogeneric.raw gpt "$GENERIC|one|-|$W/a.img" "$GENERIC|two|-|$W/a.img"
disk $P/esponly.raw gpt "$ESP|esp|-|-"
disk $P/verityonly.raw gpt "$ROOTV64|root-x86-64-verity|-|-"
disk $P/mbrtwo.raw dos "83|bootable|-|$W/a.img" "83|bootable|-|$W/a.img"
disk $P/mbrnoboot.raw dos "83|-|-|$W/a.img"
disk $P/noautoroot.raw gpt "$ROOT64|root-x86-64|GUID:63|$W/a.img"
disk $P/nofs.raw gpt "$ROOT64|root-x86-64|-|-"
disk $P/mixarch.raw gpt "$ROOT64|root-x86-64|-|$W/a.img" "$USRA64|usr-arm64|-|$W/a.img"
tree $W/g "GPT Damage OS" badprimary.service; fs_ext4 $W/g $W/g.img
for n in badprimary badboth badentries overlap; do
    disk $P/$n.raw gpt "$ROOT64|root-x86-64|-|$W/g.img" "$GENERIC|data|-|$W/g.img"
done
gptpatch $P/badprimary.raw primary; gptpatch $P/badboth.raw both
gptpatch $P/badentries.raw entries; gptpatch $P/overlap.raw overlap
tree $W/o "Other Arch OS" secother.service; fs_ext4 $W/o $W/o.img
tree $W/x "Secondary Arch OS" secother.service; fs_ext4 $W/x $W/x.img
disk $P/secother.raw gpt "$ROOTA64|root-arm64|-|$W/o.img" "$ROOTX86|root-x86|-|$W/x.img"
EOF
cat > "$S/cmd" <<'EOF'
inspect garbage
inspect zeros
inspect twogeneric
inspect esponly
inspect verityonly
inspect mbrtwo
inspect mbrnoboot
inspect noautoroot
inspect nofs
inspect mixarch
inspect badprimary
inspect badboth
inspect badentries
inspect overlap
inspect secother
EOF
new raw-dissect-more "More GPT layouts, for the image policy 262 pins and the verity rules: root with an ESP, root with home/srv/swap/var/tmp/xbootldr partitions, root+verity+signature (zeros and a JSON signature), usr+usr-verity, root+root-verity+usr."
cat > "$S/build" <<'EOF'
set -e
L=$1
. ./mkimg.sh
P=$L/var/lib/portables
mkdir -p "$P"; chmod 0700 "$P"
W=$TMPW
HOME_=933ac7e1-2eb4-4f13-b844-0e14e2aef915; SRV=3b8f8425-20e0-4f3b-907f-1a25a76f98e8
SWAP=0657fd6d-a4ab-43c4-84e5-0933c84b4f4f; VAR=4d21b016-b534-45c2-a9fb-5c16e091fd2d
TMPP=7ec6f557-3bc5-4aca-b293-16ef5df639d1; XBOOT=bc13c2ff-59e6-4262-a352-b275fd6f7172
ROOTSIG64=41092b05-9fc8-4523-994f-2def0408b176; USRV64=77ff5f63-e7b6-4633-acf4-1565b864c0e6
mkdir -p $W/empty; fs_ext4 $W/empty $W/empty.img
tree $W/re "Root ESP OS" rootesp.service; fs_ext4 $W/re $W/re.img
fs_fat $W/fat.img; fs_swap $W/swap.img
disk $P/rootesp.raw gpt "$ROOT64|root-x86-64|-|$W/re.img" "$ESP|esp|-|$W/fat.img"
tree $W/rm "Root Many OS" rootmany.service; fs_ext4 $W/rm $W/rm.img
disk $P/rootmany.raw gpt "$ROOT64|root-x86-64|-|$W/rm.img" "$HOME_|home|-|$W/empty.img" "$SRV|srv|-|$W/empty.img" "$SWAP|swap|-|$W/swap.img" "$VAR|var|-|$W/empty.img" "$TMPP|tmp|-|$W/empty.img" "$XBOOT|xbootldr|-|$W/fat.img"
tree $W/rm2 "Root Mounts OS" rootmounts.service; mkdir -p $W/rm2/home $W/rm2/srv $W/rm2/var; fs_squash $W/rm2 $W/rm2.img
mkdir -p $W/varfs/tmp; fs_ext4 $W/varfs $W/varfs.img
disk $P/rootmounts.raw gpt "$ROOT64|root-x86-64|-|$W/rm2.img" "$HOME_|home|-|$W/empty.img" "$SRV|srv|GUID:60|$W/empty.img" "$SWAP|swap|-|$W/swap.img" "$VAR|var|GUID:59|$W/varfs.img" "$TMPP|tmp|-|$W/empty.img"
tree $W/rs "Root Sig OS" rootsig.service; fs_ext4 $W/rs $W/rs.img
disk $P/rootsig.raw gpt "$ROOT64|root-x86-64|-|$W/rs.img" "$ROOTV64|root-x86-64-verity|-|-" "$ROOTSIG64|root-x86-64-verity-sig|-|-"
python3 -c 'import json,sys; d=json.dumps({"rootHash":"6a5f1b2c000040008000000000000001"+"6a5f1b2c000040008000000000000002","signature":"MIIB"+"A"*60}).encode(); sys.stdout.buffer.write(d+b"\0"*(4096-len(d)))' > $W/sig.json
tree $W/rj "Root SigJson OS" rootsigjson.service; fs_ext4 $W/rj $W/rj.img
disk $P/rootsigjson.raw gpt "$ROOT64|root-x86-64|-|$W/rj.img" "$ROOTV64|root-x86-64-verity|-|-" "$ROOTSIG64|root-x86-64-verity-sig|-|$W/sig.json"
tree $W/uv "UsrVerity OS" usrverity.service usr; fs_squash $W/uv $W/uv.img
disk $P/usrverity.raw gpt "$USR64|usr-x86-64|-|$W/uv.img" "$USRV64|usr-x86-64-verity|-|-"
tree $W/rvu "RootVerityUsr OS" rootverityusr.service usr; fs_ext4 $W/rvu $W/rvu.img
mkdir -p $W/rvr/usr $W/rvr/etc; fs_ext4 $W/rvr $W/rvr.img
disk $P/rootverityusr.raw gpt "$ROOT64|root-x86-64|-|$W/rvr.img" "$ROOTV64|root-x86-64-verity|-|-" "$USR64|usr-x86-64|-|$W/rvu.img"
tree $W/rvo "RootVerityOnly OS" rootverityonly.service; fs_squash $W/rvo $W/rvo.img
disk $P/rootverityonly.raw gpt "$ROOT64|root-x86-64|-|$W/rvo.img" "$ROOTV64|root-x86-64-verity|-|-"
tree $W/esq "ESP Squash OS" espsq.service; mkdir -p $W/esq/efi; fs_squash $W/esq $W/esq.img
disk $P/espsq.raw gpt "$ROOT64|root-x86-64|-|$W/esq.img" "$ESP|esp|-|$W/fat.img"
EOF
cat > "$S/cmd" <<'EOF'
--no-reload attach rootesp
--no-reload detach rootesp
--no-reload attach rootmany
--no-reload detach rootmany
--no-reload attach rootmounts
--no-reload detach rootmounts
inspect rootsig
inspect rootsigjson
--no-reload attach rootsigjson
--no-reload detach rootsigjson
inspect usrverity
--no-reload attach usrverity
--no-reload detach usrverity
inspect rootverityusr
--no-reload attach rootverityusr
--no-reload detach rootverityusr
--no-reload attach rootverityonly
--no-reload detach rootverityonly
--no-reload attach espsq
--no-reload detach espsq
EOF
new raw-dissect-extpolicy "Which ExtensionImagePolicy= 262 pins for several raw extensions of different layouts (squashfs file, GPT ext4 root partition, GPT squashfs usr partition) on one raw base: one policy for all extensions."
cat > "$S/build" <<'EOF'
set -e
L=$1
. ./mkimg.sh
P=$L/var/lib/portables
mkdir -p "$P"; chmod 0700 "$P"
W=$TMPW
tree $W/eb "ExtBase OS" eb.service; fs_squash $W/eb $P/eb.raw
ext() {  # ext DIR NAME [usr]
    local d=$1 n=$2 u=$1/usr/lib
    [ "${3:-}" = usr ] && u=$1/lib
    mkdir -p "$u/extension-release.d" "$u/systemd/system"
    printf 'ID=debian\nVERSION_ID=12\n' > "$u/extension-release.d/extension-release.$n"
    printf '[Unit]\nDescription=%s\n\n[Service]\nExecStart=/usr/bin/true\n' "$n" > "$u/systemd/system/eb-$n.service"
    find "$d" -exec touch -h -d @1700000000 {} +
}
ext $W/ea1 ea1; fs_squash $W/ea1 $P/ea1.raw
ext $W/ea2 ea2; fs_ext4 $W/ea2 $W/ea2.img
disk $P/ea2.raw gpt "$ROOT64|root-x86-64|-|$W/ea2.img"
ext $W/ea3 ea3 usr; fs_squash $W/ea3 $W/ea3.img
disk $P/ea3.raw gpt "$USR64|usr-x86-64|-|$W/ea3.img"
EOF
cat > "$S/cmd" <<'EOF'
--no-reload attach --extension=/var/lib/portables/ea1.raw --extension=/var/lib/portables/ea2.raw eb
--no-reload detach --extension=/var/lib/portables/ea1.raw --extension=/var/lib/portables/ea2.raw eb
--no-reload attach --extension=/var/lib/portables/ea1.raw --extension=/var/lib/portables/ea3.raw eb
--no-reload detach --extension=/var/lib/portables/ea1.raw --extension=/var/lib/portables/ea3.raw eb
--no-reload attach --extension=/var/lib/portables/ea3.raw eb
--no-reload detach --extension=/var/lib/portables/ea3.raw eb
EOF
echo "written to $T"

#!/bin/bash
# (Re)create portablekit's own oracle scenarios (recorded with the real portabled, see README).
# time by each scenario's ./build script).
#
#   make-scenarios.sh [TARGET_DIR]      default: the directory of this script
#
# Every scenario is a directory with
#   README  one-paragraph description
#   cmd     steps: portablectl arguments, or "!shell command"; in a "!" line
#           every path of the (simulated) host is written $ROOT/..., the stand-in
#           service manager's state files $STATE/... (the oracle runs the line
#           with ROOT="" and STATE=/oracle-state; a simulation with ROOT=<its
#           sandbox root>); symlink TARGETS stay plain host paths
#   root/   tree laid onto the sandbox's / (read-only overlay layer)
#   build   (optional) makes raw images: "bash build LAYER_DIR", cwd = scenario dir
#   src*/   (optional) trees the build script turns into images
#   active-units (optional) units the fake systemd1 reports as running
#   compare-calls (optional flag) also compare the calls to the fake systemd1
#   normalize-regex (optional) extra normalisation of stdout/stderr (REGEX<TAB>REPLACEMENT)
#   user-scope (optional flag) run the user instance of portabled too (systemd >= 259)
#   min-version (optional) lowest systemd major version the scenario is recorded
#           for (real-portabled.sh --all/--check skip it on older versions)
#   oracle-only (optional, holds the reason) recorded like the others, but not
#           meant to be reproduced byte for byte by a simulation
#
# Each scenario's definition is one block that starts with "#@ scenario NAME";
# "#@ common" starts shared definitions (helpers).  A block ends where the next
# "#@" line starts, so a copy of this script can leave scenarios out by dropping
# their blocks.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TARGET=${1:-$HERE}
mkdir -p "$TARGET"
TARGET=$(cd "$TARGET" && pwd)
[ -w "$TARGET" ] || { echo "make-scenarios.sh: $TARGET is not writable; pass a TARGET_DIR" >&2; exit 2; }

S=
new() {   # new NAME DESCRIPTION
    S=$TARGET/$1
    rm -rf "$S"
    mkdir -p "$S"
    printf '%s\n' "$2" | fold -s -w 78 > "$S/README"
}

steps() { printf '%s\n' "$@" > "$S/cmd"; }

# minver N: record the scenario only on systemd >= N (e.g. options 252 lacks)
minver() { echo "$1" > "$S/min-version"; }

# oracle_only REASON: the scenario is recorded like any other, but a simulation
# of portablectl is not expected to reproduce it byte for byte (it needs the
# real D-Bus peers, another user, another file system, ...): flag file
# "oracle-only" holding the reason
oracle_only() { printf '%s\n' "$1" | fold -s -w 78 > "$S/oracle-only"; }

# img PATH  -> creates $S/root/PATH, sets IMG to it; /var/lib/portables keeps the
# 0700 mode it has on Debian (the top-most overlay layer defines a directory's mode)
img() {
    IMG=$S/root$1
    mkdir -p "$IMG"
    if [ -d "$S/root/var/lib/portables" ]; then chmod 0700 "$S/root/var/lib/portables"; fi
}

# osrel DIR LINE...   /usr/lib/os-release plus the usual relative /etc/os-release symlink
osrel() {
    local d=$1; shift
    mkdir -p "$d/usr/lib" "$d/etc"
    printf '%s\n' "$@" > "$d/usr/lib/os-release"
    ln -sfn ../usr/lib/os-release "$d/etc/os-release"
}

DEBIAN=('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' 'NAME="Debian GNU/Linux"' 'VERSION_ID="12"' 'ID=debian')

# unit DIR NAME [DIRECTORY-INSIDE-IMAGE]  -- small, type-appropriate content
unit() {
    local d=$1 name=$2 sub=${3:-usr/lib/systemd/system} base=${2%.*}
    mkdir -p "$d/$sub"
    case "$name" in
        *@.service) printf '[Unit]\nDescription=%s instance %%i\n\n[Service]\nExecStart=/usr/bin/%s %%i\n' "$base" "${base%@}" ;;
        *.service)  printf '[Unit]\nDescription=%s\n\n[Service]\nExecStart=/usr/bin/%s\n\n[Install]\nWantedBy=multi-user.target\n' "$base" "$base" ;;
        *.socket)   printf '[Unit]\nDescription=%s socket\n\n[Socket]\nListenStream=/run/%s.sock\n\n[Install]\nWantedBy=sockets.target\n' "$base" "$base" ;;
        *.timer)    printf '[Unit]\nDescription=%s timer\n\n[Timer]\nOnCalendar=daily\n\n[Install]\nWantedBy=timers.target\n' "$base" ;;
        *.path)     printf '[Unit]\nDescription=%s path\n\n[Path]\nPathExists=/run/%s.trigger\n\n[Install]\nWantedBy=paths.target\n' "$base" "$base" ;;
        *.target)   printf '[Unit]\nDescription=%s target\n' "$base" ;;
        *)          printf '[Unit]\nDescription=%s\n' "$name" ;;
    esac > "$d/$sub/$name"
}

# extrel DIR NAME LINE...  -> usr/lib/extension-release.d/extension-release.NAME
extrel() {
    local d=$1 n=$2; shift 2
    mkdir -p "$d/usr/lib/extension-release.d"
    printf '%s\n' "$@" > "$d/usr/lib/extension-release.d/extension-release.$n"
}

# ---------------------------------------------------------------------------
mkbase() {
    img /var/lib/portables/base
    osrel "$IMG" "$@"
    unit "$IMG" base.service
}

#@ scenario x-unit-symlinks
new x-unit-symlinks "Unit files that are symlinks inside image ls: relative link to another unit, absolute link into the image (opened by portabled through the host's root, so it dangles unless the host has that path), absolute link to a host file, relative link climbing out of the image. inspect --cat, attach, attach --copy=symlink of a second image, detach."
img /var/lib/portables/ls
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" ls.service
ln -s ls.service "$IMG/usr/lib/systemd/system/ls-rel.service"
ln -s /usr/lib/systemd/system/ls.service "$IMG/usr/lib/systemd/system/ls-abs.service"
ln -s /etc/ls-host.service "$IMG/usr/lib/systemd/system/ls-host.service"
ln -s ../../../../../../../etc/ls-up.service "$IMG/usr/lib/systemd/system/ls-up.service"
mkdir -p "$S/root/etc"
printf '[Unit]\nDescription=host copy\n\n[Service]\nExecStart=/bin/true\n' > "$S/root/etc/ls-host.service"
printf '[Unit]\nDescription=host copy up\n\n[Service]\nExecStart=/bin/true\n' > "$S/root/etc/ls-up.service"
img /var/lib/portables/lt
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" lt.service
ln -s lt.service "$IMG/usr/lib/systemd/system/lt-rel.service"
steps 'inspect --cat ls' '--no-reload attach ls' 'is-attached ls' '--no-reload detach ls' \
      '--no-reload --copy=symlink attach lt' '--no-reload detach lt'

#@ scenario x-dropin-leftovers
new x-dropin-leftovers "Image lo (one unit, so that the order in which portabled walks units does not matter): a local drop-in next to 20-portable.conf makes detach fail after it removed everything else; a drop-in directory without its unit file is still detached; a leftover 10-profile.conf without the unit makes attach fail (without and with --force)."
img /var/lib/portables/lo
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" lo.service
steps '--no-reload attach lo' \
      '!printf "[Service]\nEnvironment=LOCAL=1\n" > $ROOT/etc/systemd/system.attached/lo.service.d/50-local.conf' \
      '--no-reload detach lo' 'is-attached lo' 'list' \
      '!rm $ROOT/etc/systemd/system.attached/lo.service.d/50-local.conf' \
      '--no-reload detach lo' '--no-reload attach lo' \
      '!rm $ROOT/etc/systemd/system.attached/lo.service' 'is-attached lo' '--no-reload detach lo' \
      '!mkdir -p $ROOT/etc/systemd/system.attached/lo.service.d && ln -s /usr/lib/systemd/portable/profile/strict/service.conf $ROOT/etc/systemd/system.attached/lo.service.d/10-profile.conf' \
      '--no-reload attach lo' '--no-reload --force attach lo' '--no-reload detach lo'

#@ scenario x-list-formats
new x-list-formats "What list shows and skips: a hidden directory image, a directory named like a raw image (dir.raw), a regular file without .raw, raw files of 1 KiB and of 6.5 MiB (USAGE column formatting), an invalid name; --no-legend; then everything removed (No images.)."
img /var/lib/portables/.hidden
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" hidden.service
img /var/lib/portables/dir.raw
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" dir.service
printf 'not an image\n' > "$S/root/var/lib/portables/plain.img"
cat > "$S/build" <<EOF
set -e
L=\$1
mkdir -p "\$L/var/lib/portables"
chmod 0700 "\$L/var/lib/portables"
head -c 1024 /dev/zero > "\$L/var/lib/portables/small.raw"
head -c 6815744 /dev/zero > "\$L/var/lib/portables/mid.raw"
head -c 1572864 /dev/zero > "\$L/var/lib/portables/onehalf.raw"
EOF
steps 'list' '--no-legend list' 'inspect .hidden' 'inspect dir.raw' \
      '!rm -rf $ROOT/var/lib/portables/.hidden $ROOT/var/lib/portables/dir.raw $ROOT/var/lib/portables/plain.img $ROOT/var/lib/portables/small.raw $ROOT/var/lib/portables/mid.raw $ROOT/var/lib/portables/onehalf.raw' \
      'list' '--no-legend list'

#@ scenario x-prefix-rules
new x-prefix-rules "Prefix derivation from the image argument: a dotted directory name, a name with two underscores, a path with a trailing slash, a name portablectl cannot turn into a prefix (with @); explicit prefixes of which one matches nothing; --quiet."
img /var/lib/portables/my.image
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" my.image.service
unit "$IMG" my.service
img /var/lib/portables/pa_b_1
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" pa.service
unit "$IMG" pa_b.service
img /var/lib/portables/ts
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" ts.service
img /var/lib/portables/at@x
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" at.service
steps 'inspect my.image' 'inspect pa_b_1' 'inspect /var/lib/portables/ts/' \
      '--no-reload attach /var/lib/portables/ts/' 'is-attached /var/lib/portables/ts/' \
      'is-attached /var/lib/portables/ts' '--no-reload detach /var/lib/portables/ts/' \
      '--no-reload detach ts' 'inspect at@x' 'inspect at@x at' \
      'inspect pa_b_1 nothing pa' '--quiet --no-reload attach pa_b_1' '--quiet --no-reload detach pa_b_1'

#@ scenario x-portable-prefixes-edge
new x-portable-prefixes-edge "PORTABLE_PREFIXES edge cases: a value of only quoted whitespace (declared but empty: every match refused), an empty assignment (not declared), an extension that declares prefixes on a base that does not."
img /var/lib/portables/pw
osrel "$IMG" "${DEBIAN[@]}" 'PORTABLE_PREFIXES=" "'
unit "$IMG" pw.service
img /var/lib/portables/pe
osrel "$IMG" "${DEBIAN[@]}" 'PORTABLE_PREFIXES='
unit "$IMG" pe.service
mkbase "${DEBIAN[@]}"
img /var/lib/portables/pxe
extrel "$IMG" pxe 'ID=debian' 'VERSION_ID=12' 'PORTABLE_PREFIXES=base-pxe'
unit "$IMG" base-pxe.service
steps '--no-reload attach pw' 'inspect pw' '--no-reload attach pe' '--no-reload detach pe' \
      '--no-reload attach --extension=/var/lib/portables/pxe base' \
      '--no-reload attach --extension=/var/lib/portables/pxe base base-pxe' \
      '--no-reload attach --extension=/var/lib/portables/pxe base base base-pxe' \
      '--no-reload detach --extension=/var/lib/portables/pxe base'

#@ scenario x-custom-profile
new x-custom-profile "Custom profiles: /etc/systemd/portable/profile/custom with service.conf and socket.conf, an /etc override of the built-in 'default', a profile given only as a dangling symlink, --profile=help."
img /var/lib/portables/cp
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" cp.service
unit "$IMG" cp.socket
unit "$IMG" cp.timer
mkdir -p "$S/root/etc/systemd/portable/profile/custom" "$S/root/etc/systemd/portable/profile/default" "$S/root/run/systemd/portable/profile/ghost"
printf '[Service]\nPrivateTmp=yes\n' > "$S/root/etc/systemd/portable/profile/custom/service.conf"
printf '[Socket]\nFreeBind=yes\n' > "$S/root/etc/systemd/portable/profile/custom/socket.conf"
printf '# local default\n[Service]\nProtectSystem=full\n' > "$S/root/etc/systemd/portable/profile/default/service.conf"
ln -s /nonexistent/service.conf "$S/root/run/systemd/portable/profile/ghost/service.conf"
steps '--profile=help list' '--no-reload --profile=custom attach cp' '--no-reload detach cp' \
      '--no-reload attach cp' '--no-reload detach cp' '--no-reload --copy=copy attach cp' \
      '--no-reload detach cp' '--no-reload --profile=ghost attach cp' '--no-reload detach cp'

#@ scenario x-extension-edge
new x-extension-edge "Extension edge cases: two extensions with the same name from different directories, the same extension twice, an extension by image name, ID_LIKE on the base, SYSEXT_LEVEL deciding instead of VERSION_ID, ARCHITECTURE=x86-64, an extension-release file that is a symlink."
img /var/lib/portables/ub
osrel "$IMG" 'PRETTY_NAME="Ubuntu"' 'ID=ubuntu' 'ID_LIKE=debian' 'VERSION_ID=24.04'
unit "$IMG" ub.service
img /var/lib/portables/ubext
extrel "$IMG" ubext 'ID=debian' 'VERSION_ID=24.04'
unit "$IMG" ub-ext.service
img /var/lib/portables/lv
osrel "$IMG" "${DEBIAN[@]}" 'SYSEXT_LEVEL=2'
unit "$IMG" lv.service
img /var/lib/portables/lvext
extrel "$IMG" lvext 'ID=debian' 'VERSION_ID=99' 'SYSEXT_LEVEL=2' 'ARCHITECTURE=x86-64'
unit "$IMG" lv-ext.service
for d in /opt/a/dup /opt/b/dup; do
    img $d
    extrel "$IMG" dup 'ID=debian' 'VERSION_ID=12'
    unit "$IMG" lv-dup.service
done
img /var/lib/portables/lnk
mkdir -p "$IMG/usr/lib/extension-release.d"
printf 'ID=debian\nVERSION_ID=12\n' > "$IMG/usr/lib/extension-release.d/real"
ln -s real "$IMG/usr/lib/extension-release.d/extension-release.lnk"
unit "$IMG" lv-lnk.service
steps '--no-reload attach --extension=ubext ub' '--no-reload detach --extension=ubext ub' \
      '--no-reload attach --extension=/var/lib/portables/lvext lv' 'is-attached --extension=lvext lv' \
      '--no-reload detach --extension=/var/lib/portables/lvext lv' \
      '--no-reload attach --extension=/opt/a/dup --extension=/opt/b/dup lv' \
      '--no-reload attach --extension=/opt/a/dup --extension=/opt/a/dup lv' \
      '--no-reload attach --extension=/var/lib/portables/lnk lv' 'inspect --extension=lnk lv' \
      '--no-reload detach --extension=/var/lib/portables/lnk lv'

#@ scenario x-os-release-parse
new x-os-release-parse "os-release syntax as portabled reads it: quotes, escapes, a continuation line, comments (one ending in a backslash, which swallows the next line up to systemd 253), a key without value, an image whose ID is only set on a swallowed line, and one with ID= empty."
img /var/lib/portables/q
mkdir -p "$IMG/usr/lib" "$IMG/etc"
printf '%s\n' '# leading comment' 'PRETTY_NAME="Quoted \"OS\" $HOME"' "NAME='single quoted'" 'ID=qos  ' \
    'VERSION_ID=1\' '.2' '; semicolon comment' 'PORTABLE_PRETTY_NAME=a"b"c' 'EMPTY=' > "$IMG/usr/lib/os-release"
ln -s ../usr/lib/os-release "$IMG/etc/os-release"
unit "$IMG" q.service
img /var/lib/portables/sw
mkdir -p "$IMG/usr/lib"
printf '%s\n' 'PRETTY_NAME="Swallow"' '# comment with a backslash \' 'ID=swos' > "$IMG/usr/lib/os-release"
unit "$IMG" sw.service
img /var/lib/portables/ne
mkdir -p "$IMG/usr/lib"
printf '%s\n' 'PRETTY_NAME="No ID"' 'ID=' 'VERSION_ID=3' > "$IMG/usr/lib/os-release"
unit "$IMG" ne.service
steps 'inspect --cat q' '--no-reload attach q' '--no-reload detach q' 'inspect sw' \
      '--no-reload attach sw' '--no-reload detach sw' 'inspect ne' '--no-reload attach ne'

#@ scenario x-runtime-mix
new x-runtime-mix "Persistent and runtime attachments side by side: rm attached with --runtime, pm persistently; states, list, detach in the wrong and the right scope, an image attached both ways."
img /var/lib/portables/rm
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" rm.service
img /var/lib/portables/pm
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" pm.service
steps '--no-reload --runtime attach rm' '--no-reload attach pm' 'is-attached rm' 'is-attached pm' 'list' \
      '--no-reload --runtime detach pm' '--no-reload detach rm' '--no-reload --runtime attach pm' \
      'is-attached pm' '--no-reload detach pm' 'is-attached pm' '--no-reload --runtime detach pm' \
      '--no-reload --runtime detach rm' 'list'

#@ scenario x-links
new x-links "The /etc/portables link step: a link of that name already there (pointing elsewhere) stops it silently; detach then removes what is there; an extension whose link exists stops the base's link."
img /var/lib/portables/fl
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" fl.service
img /var/lib/portables/other
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" other.service
mkdir -p "$S/root/etc/portables"
ln -s /var/lib/portables/other "$S/root/etc/portables/fl"
mkbase "${DEBIAN[@]}"
img /var/lib/portables/lx
extrel "$IMG" lx 'ID=debian' 'VERSION_ID=12'
unit "$IMG" base-lx.service
ln -s /nonexistent "$S/root/etc/portables/lx"
steps '--no-reload attach fl' 'list' 'is-attached fl' '--no-reload detach fl' 'list' \
      '--no-reload attach --extension=/var/lib/portables/lx base' '--no-reload detach --extension=/var/lib/portables/lx base'

#@ scenario x-instances
new x-instances "Templates and instances: image inst ships inst@.service and inst@a.service; the host has /etc/systemd/system/host@.service so an image instance host@b.service exists on the host; running instances of an attached template."
img /var/lib/portables/inst
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" inst@.service
unit "$IMG" inst@a.service
img /var/lib/portables/host
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" host@b.service
mkdir -p "$S/root/etc/systemd/system"
printf '[Service]\nExecStart=/bin/true %%i\n' > "$S/root/etc/systemd/system/host@.service"
# portabled walks units in hash order: which of two active units a refusal names varies
printf '%s\t%s\n' "Unit file 'inst@a?\\.service' is active" "Unit file '<inst@.service|inst@a.service>' is active" > "$S/normalize-regex"
steps '--no-reload attach inst' 'is-attached inst' '!echo "inst@zzz.service active" > $STATE/active-units' \
      'is-attached inst' '--no-reload detach inst' '!echo "inst@a.service deactivating" > $STATE/active-units' \
      '--no-reload detach inst' '!: > $STATE/active-units' '--no-reload detach inst' \
      '--no-reload attach host' '--no-reload --force attach host' '--no-reload detach host'

#@ scenario x-unit-file-states
new x-unit-file-states "Which unit-file states count as enabled for is-attached: a mask in /etc/systemd/system, an alias symlink, a wants link in /run (runtime), a requires link."
img /var/lib/portables/us
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" us.service
unit "$IMG" us-two.service
steps '--no-reload attach us' 'is-attached us' \
      '!ln -s /dev/null $ROOT/etc/systemd/system/us.service' 'is-attached us' \
      '!rm $ROOT/etc/systemd/system/us.service && mkdir -p $ROOT/run/systemd/system/multi-user.target.wants && ln -s /etc/systemd/system.attached/us-two.service $ROOT/run/systemd/system/multi-user.target.wants/us-two.service' \
      'is-attached us' \
      '!rm -r $ROOT/run/systemd/system/multi-user.target.wants && mkdir -p $ROOT/etc/systemd/system/default.target.requires && ln -s /etc/systemd/system.attached/us.service $ROOT/etc/systemd/system/default.target.requires/us.service' \
      'is-attached us' '!rm -r $ROOT/etc/systemd/system/default.target.requires' \
      '!ln -s /etc/systemd/system.attached/us.service $ROOT/etc/systemd/system/us-alias.service' \
      'is-attached us' '!rm $ROOT/etc/systemd/system/us-alias.service' '--no-reload detach us'

#@ scenario x-names-paths
new x-names-paths "Matching image names and paths: an image of the same name in another directory (/opt/o/nm vs /var/lib/portables/nm), is-attached/detach by a relative path, by a path with a trailing slash, by a deleted image's path, versions on both sides."
img /var/lib/portables/nm_1
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" nm.service
img /opt/o/nm
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" nm-other.service
steps '--no-reload attach nm_1' 'is-attached /opt/o/nm' 'is-attached nm' 'is-attached nm_2' \
      'is-attached var/lib/portables/nm_1' 'is-attached /var/lib/portables/nm_1/' \
      '--no-reload detach /opt/o/nm' '!rm -rf $ROOT/var/lib/portables/nm_1' 'is-attached /var/lib/portables/nm_1' \
      'list' '--no-reload detach /var/lib/portables/nm_1'

#@ scenario x-reattach-variants
new x-reattach-variants "reattach variants: by path with --force and another profile, adding an extension, with --runtime (nothing attached at runtime), of a versioned image by its other version's path, after the image lost a unit."
img /var/lib/portables/rv_1
osrel "$IMG" "${DEBIAN[@]}" 'IMAGE_VERSION=1'
unit "$IMG" rv.service
unit "$IMG" rv-old.service
img /var/lib/portables/rv_2
osrel "$IMG" "${DEBIAN[@]}" 'IMAGE_VERSION=2'
unit "$IMG" rv.service
unit "$IMG" rv-new.socket
img /var/lib/portables/rvx
extrel "$IMG" rvx 'ID=debian' 'VERSION_ID=12'
unit "$IMG" rv-ext.service
steps '--no-reload attach /var/lib/portables/rv_1' '--no-reload --force --profile=strict reattach /var/lib/portables/rv_1' \
      '--no-reload reattach /var/lib/portables/rv_2' 'is-attached rv_1' 'is-attached /var/lib/portables/rv_2' \
      '--no-reload --runtime reattach /var/lib/portables/rv_2' \
      '--no-reload reattach --extension=/var/lib/portables/rvx /var/lib/portables/rv_2' \
      'is-attached --extension=/var/lib/portables/rvx /var/lib/portables/rv_2' 'list' \
      '--no-reload detach --extension=/var/lib/portables/rvx /var/lib/portables/rv_2' 'list'

#@ scenario x-extension-layers
new x-extension-layers "Two directory extensions e1 and e2 on base lb: a unit in both (the earlier extension wins), a unit in base and e2 (the base wins); detach with the extensions in the wrong order, with one missing, after the extension image was deleted; state queries by one extension only; list."
img /var/lib/portables/lb
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" lb.service
unit "$IMG" lb-shared.service
for e in e1 e2; do
    img /var/lib/portables/$e
    extrel "$IMG" $e 'ID=debian' 'VERSION_ID=12'
    unit "$IMG" lb-$e.service
    mkdir -p "$IMG/usr/lib/systemd/system"
    printf '[Unit]\nDescription=both from %s\n\n[Service]\nExecStart=/usr/bin/both\n' $e > "$IMG/usr/lib/systemd/system/lb-both.service"
    printf '[Unit]\nDescription=shared from %s\n\n[Service]\nExecStart=/usr/bin/shared\n' $e > "$IMG/usr/lib/systemd/system/lb-shared.service"
done
steps '--no-reload attach --extension=/var/lib/portables/e1 --extension=/var/lib/portables/e2 lb' \
      'is-attached /var/lib/portables/e2' 'is-attached --extension=/var/lib/portables/e2 lb' 'list' \
      '--no-reload detach --extension=/var/lib/portables/e2 --extension=/var/lib/portables/e1 lb' \
      '--no-reload detach --extension=/var/lib/portables/e1 lb' \
      '!rm -rf $ROOT/var/lib/portables/e2' 'list' \
      '--no-reload detach --extension=/var/lib/portables/e1 --extension=/var/lib/portables/e2 /var/lib/portables/lb' \
      'list'

#@ scenario x-copy-ext
new x-copy-ext "Copy modes with extensions: --copy=symlink links units of directory layers (base and extension) into the images; --copy=copy copies the profile for every service; --runtime with an extension; --force with a directory base and a directory extension."
img /var/lib/portables/cx
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" cx.service
unit "$IMG" cx.timer
img /var/lib/portables/cxe
extrel "$IMG" cxe 'ID=debian' 'VERSION_ID=12' 'SYSEXT_ID=cxe' 'SYSEXT_VERSION_ID=4' 'CONFEXT_ID=cxc'
unit "$IMG" cx-e.service
steps '--no-reload --copy=symlink attach --extension=/var/lib/portables/cxe cx' \
      '--no-reload detach --extension=/var/lib/portables/cxe cx' \
      '--no-reload --copy=copy --runtime attach --extension=/var/lib/portables/cxe cx' \
      'is-attached --extension=/var/lib/portables/cxe cx' \
      '--no-reload --runtime detach --extension=/var/lib/portables/cxe cx' \
      '--no-reload --force attach --extension=/var/lib/portables/cxe cx' \
      '--no-reload --force detach --extension=/var/lib/portables/cxe cx'

#@ scenario x-multi-attach
new x-multi-attach "Two images attached at once (ma, mb) plus mc at runtime: is-attached of each and of a name nobody attached, detach one of them by name (in 257 every name matches every image), runtime scope, list."
for n in ma mb mc; do
    img /var/lib/portables/$n
    osrel "$IMG" "${DEBIAN[@]}"
    unit "$IMG" $n.service
done
steps '--no-reload attach ma' '--no-reload attach mb' '--no-reload --runtime attach mc' 'is-attached ma' \
      'is-attached mc' 'is-attached zz' 'is-attached /var/lib/portables/mb' 'list' \
      '--no-reload detach mb' 'list' '--no-reload detach ma' '--no-reload --runtime detach mc' 'list'

#@ scenario x-scope-values
new x-scope-values "PORTABLE_SCOPE values (checked by 262): quoted system, an empty value, any, and user/system words together."
for spec in 'sa:PORTABLE_SCOPE="system"' 'sb:PORTABLE_SCOPE=' 'sc:PORTABLE_SCOPE=any' 'sd:PORTABLE_SCOPE="system user"'; do
    n=${spec%%:*}
    img /var/lib/portables/$n
    osrel "$IMG" "${DEBIAN[@]}" "${spec#*:}"
    unit "$IMG" $n.service
done
steps '--no-reload attach sa' '--no-reload detach sa' '--no-reload attach sb' '--no-reload detach sb' \
      '--no-reload attach sc' '--no-reload detach sc' '--no-reload attach sd' '--no-reload detach sd'

# ---------------------------------------------------------------------------
# Round 2: rules of the enabled state, the exists-on-host check, unit directories inside images,
# client-side os-release parsing, search-path entries that are not directories, client texts,
# .v version picking, raw extensions with an os-release, and the image management verbs.

#@ scenario x-enabled-attached-wants
new x-enabled-attached-wants "Install links INSIDE /etc/systemd/system.attached (what 'portablectl --enable' of the portable flag would create): a multi-user.target.wants/ link, a .requires/ link and an .upholds/ link next to the attached unit files of image ew. Do is-attached and list say enabled? What does detach remove (the .wants directories keep system.attached alive), and can the image be attached again with the dangling links still there?"
img /var/lib/portables/ew
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" ew.service
unit "$IMG" ew-two.service
steps '--no-reload attach ew' 'is-attached ew' \
      '!mkdir -p $ROOT/etc/systemd/system.attached/multi-user.target.wants && ln -s /etc/systemd/system.attached/ew.service $ROOT/etc/systemd/system.attached/multi-user.target.wants/ew.service' \
      'is-attached ew' 'list' \
      '!mkdir -p $ROOT/etc/systemd/system.attached/default.target.requires $ROOT/etc/systemd/system.attached/default.target.upholds && ln -s ../ew-two.service $ROOT/etc/systemd/system.attached/default.target.requires/ew-two.service && ln -s /etc/systemd/system.attached/ew-two.service $ROOT/etc/systemd/system.attached/default.target.upholds/ew-two.service' \
      'is-attached ew' '--no-reload detach ew' 'is-attached ew' 'list' \
      '--no-reload attach ew' 'is-attached ew' '--no-reload detach ew'

#@ scenario x-enabled-attached-alias
new x-enabled-attached-alias "Alias symlinks INSIDE /etc/systemd/system.attached next to the attached unit ea.service: a relative alias ea-alias.service -> ea.service and an absolute one ea-abs.service -> /etc/systemd/system.attached/ea.service. is-attached/list before and after; detach (the aliases carry no drop-in marker, so they are not portabled's: are they left, does detach fail, does system.attached survive?); attach again with the now dangling aliases."
img /var/lib/portables/ea
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" ea.service
steps '--no-reload attach ea' 'is-attached ea' \
      '!ln -s ea.service $ROOT/etc/systemd/system.attached/ea-alias.service && ln -s /etc/systemd/system.attached/ea.service $ROOT/etc/systemd/system.attached/ea-abs.service' \
      'is-attached ea' 'list' '--no-reload detach ea' 'is-attached ea' 'list' \
      '--no-reload attach ea' 'is-attached ea' '--no-reload detach ea'

#@ scenario x-enabled-host-install
new x-enabled-host-install "Install links in the host's configuration directories: image eh (eh.service, eh-b.service, eh-c.service) attached persistently and image er (er.service) attached with --runtime. One link at a time: /etc/systemd/system/multi-user.target.wants, /run/systemd/system/multi-user.target.wants, an .upholds/ link, a .wants link whose target is not the attached file, for both attachments; is-attached and list each time; detach with the links still present (they are left dangling)."
img /var/lib/portables/eh
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" eh.service
unit "$IMG" eh-b.service
unit "$IMG" eh-c.service
img /var/lib/portables/er
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" er.service
W=/etc/systemd/system/multi-user.target.wants
RW=/run/systemd/system/multi-user.target.wants
steps '--no-reload attach eh' '--no-reload --runtime attach er' 'is-attached eh' 'is-attached er' \
      "!ln -s /etc/systemd/system.attached/eh-b.service \$ROOT$W/eh-b.service && ln -s /run/systemd/system.attached/er.service \$ROOT$W/er.service" \
      'is-attached eh' 'is-attached er' 'list' \
      "!rm \$ROOT$W/eh-b.service \$ROOT$W/er.service && mkdir -p \$ROOT$RW && ln -s /etc/systemd/system.attached/eh.service \$ROOT$RW/eh.service && ln -s /run/systemd/system.attached/er.service \$ROOT$RW/er.service" \
      'is-attached eh' 'is-attached er' 'list' \
      "!rm -r \$ROOT$RW && mkdir -p \$ROOT/etc/systemd/system/multi-user.target.upholds && ln -s /etc/systemd/system.attached/eh-c.service \$ROOT/etc/systemd/system/multi-user.target.upholds/eh-c.service" \
      'is-attached eh' \
      "!rm -r \$ROOT/etc/systemd/system/multi-user.target.upholds && ln -s /opt/elsewhere/eh.service \$ROOT$W/eh.service && ln -s /opt/elsewhere/er.service \$ROOT$W/er.service" \
      'is-attached eh' 'is-attached er' 'list' '--no-reload detach eh' '--no-reload --runtime detach er' 'list'

#@ scenario x-enabled-host-states
new x-enabled-host-states "Other unit-file states of an attached unit, set up in the host's configuration directories: a runtime mask in /run/systemd/system (masked-runtime), an alias symlink in /run/systemd/system, a symlink /etc/systemd/system/el.service to a file outside the unit path (linked), a plain copy /etc/systemd/system/el.service (its own [Install], no links: disabled), and the same mask/alias for a --runtime attachment (er). is-attached and list after each change; detach at the end."
img /var/lib/portables/el
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" el.service
img /var/lib/portables/er
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" er.service
mkdir -p "$S/root/opt/outside"
printf '[Unit]\nDescription=outside copy\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n' > "$S/root/opt/outside/el.service"
steps '--no-reload attach el' '--no-reload --runtime attach er' \
      '!ln -s /dev/null $ROOT/run/systemd/system/el.service && ln -s /dev/null $ROOT/run/systemd/system/er.service' \
      'is-attached el' 'is-attached er' 'list' \
      '!rm $ROOT/run/systemd/system/el.service $ROOT/run/systemd/system/er.service && ln -s /etc/systemd/system.attached/el.service $ROOT/run/systemd/system/el-alias.service && ln -s /run/systemd/system.attached/er.service $ROOT/run/systemd/system/er-alias.service' \
      'is-attached el' 'is-attached er' \
      '!rm $ROOT/run/systemd/system/el-alias.service $ROOT/run/systemd/system/er-alias.service && ln -s /opt/outside/el.service $ROOT/etc/systemd/system/el.service' \
      'is-attached el' 'list' \
      '!rm $ROOT/etc/systemd/system/el.service && cp $ROOT/opt/outside/el.service $ROOT/etc/systemd/system/el.service' \
      'is-attached el' '!rm $ROOT/etc/systemd/system/el.service' \
      '--no-reload detach el' '--no-reload --runtime detach er'

#@ common
# hostentry DIR NAME KIND   an entry NAME in the host directory DIR (laid by root/):
#   file     a unit file              empty    an empty file
#   link     symlink to a file outside the unit path (/opt/hostunits/NAME)
#   rel      relative symlink to NAME-real.service in the same directory
#   dangling symlink to /nonexistent/NAME
#   mask     symlink to /dev/null
#   dir      a directory (holding one file, so that git keeps it)
#   dirlink  symlink to the directory /opt/hostdir
hostentry() {
    local d=$S/root$1 n=$2 k=$3
    mkdir -p "$d"
    case "$k" in
        file)     printf '[Unit]\nDescription=host %s\n\n[Service]\nExecStart=/bin/true\n' "$n" > "$d/$n" ;;
        empty)    : > "$d/$n" ;;
        link)     mkdir -p "$S/root/opt/hostunits"
                  printf '[Unit]\nDescription=outside %s\n\n[Service]\nExecStart=/bin/true\n' "$n" > "$S/root/opt/hostunits/$n"
                  ln -s "/opt/hostunits/$n" "$d/$n" ;;
        rel)      printf '[Unit]\nDescription=real %s\n\n[Service]\nExecStart=/bin/true\n' "$n" > "$d/${n%.service}-real.service"
                  ln -s "${n%.service}-real.service" "$d/$n" ;;
        dangling) ln -s "/nonexistent/$n" "$d/$n" ;;
        mask)     ln -s /dev/null "$d/$n" ;;
        dir)      mkdir -p "$d/$n"; printf 'not a unit\n' > "$d/$n/README" ;;
        dirlink)  mkdir -p "$S/root/opt/hostdir"; printf 'not a unit\n' > "$S/root/opt/hostdir/README"
                  ln -s /opt/hostdir "$d/$n" ;;
    esac
}

# hostcase PREFIX HOSTDIR KIND...   one image PREFIX<k> (unit PREFIX<k>.service) per kind, the
# host entry of that kind in HOSTDIR; appends one attach step per image to the array STEPS
hostcase() {
    local p=$1 dir=$2 k n; shift 2
    for k in "$@"; do
        n=$p${k:0:1}${k: -1}
        img /var/lib/portables/$n
        osrel "$IMG" "${DEBIAN[@]}"
        unit "$IMG" $n.service
        hostentry "$dir" $n.service "$k"
        STEPS+=("--no-reload attach $n")
    done
}
KINDS=(file empty link rel dangling mask dir dirlink)

#@ scenario x-hostexists-etc
new x-hostexists-etc "The exists-on-host check for /etc/systemd/system: one image per kind of host entry named like its unit: a unit file (hefe), an empty file (heey), a symlink to a file outside the unit path (helk), a relative symlink to another file of that directory (herl), a dangling symlink (hedg), a /dev/null mask (hemk), a directory (hedr), a symlink to a directory (hedk). Which attach says 'exists on the host already', which fails with ELOOP ('Failed to determine whether unit ... exists on the host'), which attaches; then the attached ones are listed and detached."
STEPS=()
hostcase he /etc/systemd/system "${KINDS[@]}"
steps "${STEPS[@]}" 'list'

#@ scenario x-hostexists-run
new x-hostexists-run "The exists-on-host check for /run/systemd/system (runtime configuration): the same eight kinds of host entries as x-hostexists-etc (file, empty file, symlink to a file, relative symlink, dangling symlink, /dev/null mask, directory, symlink to a directory), one image each (hr..); attach each persistently, then --runtime attach of the mask case."
STEPS=()
hostcase hr /run/systemd/system "${KINDS[@]}"
steps "${STEPS[@]}" '--no-reload --runtime attach hrmk' 'list'

#@ scenario x-hostexists-usrlib
new x-hostexists-usrlib "The exists-on-host check for the vendor directory /usr/lib/systemd/system (on the Debian hosts /lib is a symlink to usr/lib, so /lib/systemd/system is the same directory): the eight kinds of host entries of x-hostexists-etc, one image each (hu..)."
STEPS=()
hostcase hu /usr/lib/systemd/system "${KINDS[@]}"
steps "${STEPS[@]}" 'list'

#@ scenario x-hostexists-usrlocal
new x-hostexists-usrlocal "The exists-on-host check for /usr/local/lib/systemd/system: the eight kinds of host entries of x-hostexists-etc, one image each (hl..)."
STEPS=()
hostcase hl /usr/local/lib/systemd/system "${KINDS[@]}"
steps "${STEPS[@]}" 'list'

#@ scenario x-hostexists-control
new x-hostexists-control "The exists-on-host check for the control directories /etc/systemd/system.control (images hc..) and /run/systemd/system.control (images hk..): a unit file, a symlink to a file, a dangling symlink, a /dev/null mask, a directory and a symlink to a directory in each."
STEPS=()
hostcase hc /etc/systemd/system.control file link dangling mask dir dirlink
hostcase hk /run/systemd/system.control file link dangling mask dir dirlink
steps "${STEPS[@]}"

#@ scenario x-hostexists-transient
new x-hostexists-transient "The exists-on-host check for the directories PID 1 and generators write: /run/systemd/transient (images ht..), /run/systemd/generator (hg..), /run/systemd/generator.early (hy..), /run/systemd/generator.late (hz..): a unit file, a symlink to a file, a dangling symlink and a /dev/null mask in each."
STEPS=()
hostcase ht /run/systemd/transient file link dangling mask
hostcase hg /run/systemd/generator file link dangling mask
hostcase hy /run/systemd/generator.early file link dangling mask
hostcase hz /run/systemd/generator.late file link dangling mask
steps "${STEPS[@]}"

#@ scenario x-hostexists-attached
new x-hostexists-attached "Entries named like an image's unit already inside the attached directories before anything is attached: /etc/systemd/system.attached (images ha..: a unit file, an empty file, a symlink to a file, a dangling symlink, a /dev/null mask, a directory, a symlink to a directory) and /run/systemd/system.attached (images hb..: file, dangling symlink, mask), attached persistently; then one --runtime attach per /run case and a --force attach over the /etc file."
STEPS=()
hostcase ha /etc/systemd/system.attached file empty link dangling mask dir dirlink
hostcase hb /run/systemd/system.attached file dangling mask
steps "${STEPS[@]}" '--no-reload --runtime attach hbfe' '--no-reload --runtime attach hbdg' '--no-reload --runtime attach hbmk' \
      '--no-reload --force attach hafe' 'list'

#@ scenario x-hostexists-instances
new x-hostexists-instances "Templates and instances in the exists-on-host check: the images ship the instance units tia@x.service .. tif@x.service; the host has the TEMPLATE of each in /etc/systemd/system as a unit file (tia@), a symlink to a file (tib@), a dangling symlink (tic@), a /dev/null mask (tid@), and in /run/systemd/system as a dangling symlink (tie@), plus the INSTANCE tif@x.service itself as a dangling symlink; image tg ships the template tg@.service while the host has only the instance tg@y.service as a dangling symlink."
STEPS=()
for t in tia:file tib:link tic:dangling tid:mask tie:dangling; do
    n=${t%%:*}
    img /var/lib/portables/$n
    osrel "$IMG" "${DEBIAN[@]}"
    unit "$IMG" "$n@x.service"
    case $n in tie) hostentry /run/systemd/system "$n@.service" "${t#*:}" ;; *) hostentry /etc/systemd/system "$n@.service" "${t#*:}" ;; esac
    STEPS+=("--no-reload attach $n")
done
img /var/lib/portables/tif
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" tif@x.service
hostentry /etc/systemd/system tif@x.service dangling
img /var/lib/portables/tg
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" tg@.service
hostentry /etc/systemd/system tg@y.service dangling
steps "${STEPS[@]}" '--no-reload attach tif' '--no-reload attach tg' 'list'


#@ common
SQ='-quiet -noappend -all-root -no-xattrs -mkfs-time 0 -all-time 0 -no-progress'
# mksrc DIR PRETTY UNIT...   an OS tree (os-release + units) for a raw image made by ./build
mksrc() {
    local d=$1 pretty=$2; shift 2
    osrel "$d" "PRETTY_NAME=\"$pretty\"" 'ID=debian' 'VERSION_ID="12"'
    for u in "$@"; do unit "$d" "$u"; done
}
# unitfrom DIR NAME SUBDIR   a unit whose Description names the directory it lies in
unitfrom() {
    mkdir -p "$1/$3"
    printf '[Unit]\nDescription=%s from /%s\n\n[Service]\nExecStart=/usr/bin/true\n' "$2" "$3" > "$1/$3/$2"
}
# precedence_tree DIR PREFIX   one unit per pair of unit directories inside an image
precedence_tree() {
    local d=$1 p=$2 pair u a b
    for pair in lib:lib/systemd/system:usr/lib/systemd/system \
                etc:etc/systemd/system:usr/lib/systemd/system \
                local:usr/local/lib/systemd/system:usr/lib/systemd/system \
                loclib:usr/local/lib/systemd/system:lib/systemd/system \
                run:run/systemd/system:etc/systemd/system \
                ctl:etc/systemd/system.control:etc/systemd/system \
                rctl:run/systemd/system.control:etc/systemd/system.control \
                tr:run/systemd/transient:etc/systemd/system \
                early:run/systemd/generator.early:etc/systemd/system \
                att:etc/systemd/system.attached:run/systemd/system \
                ratt:run/systemd/system.attached:run/systemd/generator \
                gen:run/systemd/generator:usr/local/lib/systemd/system \
                late:run/systemd/generator.late:lib/systemd/system; do
        IFS=: read -r u a b <<< "$pair"
        unitfrom "$d" "$p-$u.service" "$a"
        unitfrom "$d" "$p-$u.service" "$b"
    done
    : > "$d/etc/systemd/system/$p-empty.service"
    unitfrom "$d" "$p-empty.service" usr/lib/systemd/system
    unitfrom "$d" "$p-only.service" lib/systemd/system
}

#@ scenario x-imgdirs-precedence
new x-imgdirs-precedence "Unit directories inside a directory image, per version: image pd has one unit per pair of unit directories (each copy's Description names its directory): /lib vs /usr/lib, /etc vs /usr/lib, /usr/local/lib vs /usr/lib and vs /lib, /run vs /etc, system.control (etc and run), transient, generator.early/generator/generator.late, system.attached (etc and run); an empty file in /etc/systemd/system over a real one in /usr/lib; a unit only in /lib. inspect --cat shows which copy wins, attach shows the source path copied. Image pm is merged-usr (lib -> usr/lib): which path the copy names."
img /var/lib/portables/pd
osrel "$IMG" "${DEBIAN[@]}"
precedence_tree "$IMG" pd
img /var/lib/portables/pm
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" pm.service
ln -s usr/lib "$IMG/lib"
steps 'inspect --cat pd' '--no-reload attach pd' '--no-reload detach pd' 'inspect --cat pm' '--no-reload attach pm' '--no-reload detach pm'

#@ scenario x-imgdirs-precedence-raw
new x-imgdirs-precedence-raw "The tree of x-imgdirs-precedence (one unit per pair of unit directories) as a squashfs RAW image pr.raw: is the choice the same as for a directory image? inspect --cat, attach (raw units are copied without a source path), detach."
precedence_tree "$S/src-pr" pr
osrel "$S/src-pr" "${DEBIAN[@]}"
cat > "$S/build" <<BUILD
set -e
L=\$1
mkdir -p "\$L/var/lib/portables"
chmod 0700 "\$L/var/lib/portables"
mksquashfs src-pr "\$L/var/lib/portables/pr.raw" $SQ
BUILD
steps 'inspect --cat pr' '--no-reload attach pr' '--no-reload detach pr'

#@ scenario x-imgdirs-unit-dir
new x-imgdirs-unit-dir "Directories named like units inside image ud: ud-d.service is a directory in usr/lib/systemd/system (next to the plain ud.service); ud-e.service is a directory in etc/systemd/system of the image and a unit file in usr/lib/systemd/system (does the directory occupy the name?). inspect and attach with explicit prefixes, one case at a time, and with the default prefix; what is left after each attach; detach."
img /var/lib/portables/ud
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" ud.service
mkdir -p "$IMG/usr/lib/systemd/system/ud-d.service" "$IMG/etc/systemd/system/ud-e.service"
printf 'not a unit\n' > "$IMG/usr/lib/systemd/system/ud-d.service/README"
printf 'not a unit\n' > "$IMG/etc/systemd/system/ud-e.service/README"
unitfrom "$IMG" ud-e.service usr/lib/systemd/system
steps 'inspect ud' 'inspect ud ud-d' 'inspect --cat ud ud-e' '--no-reload attach ud ud-d' '--no-reload attach ud ud-e' \
      '--no-reload detach ud' '--no-reload attach ud' 'is-attached ud' '--no-reload detach ud'

#@ scenario x-imgdirs-unit-dirlink
new x-imgdirs-unit-dirlink "Unit-named symlinks to directories inside image ul (262 skips them; 252 and 257 fail with 'Is a directory'): ul-l.service -> ../../../share/ul-dir (a directory in the image), ul-h.service -> /etc (absolute: opened through the host's root, a host directory), ul-m.service a symlink to a directory in the image's etc/systemd/system shadowing a unit file in usr/lib/systemd/system. inspect and attach one unit at a time with explicit prefixes (ul.service alone as a control), is-attached/list after a failed attach, what the failed attach leaves behind, detach; attach of ul.service alone among the leftovers. (Attaching all units at once is left out: which bad unit is hit first, and whether ul.service was attached before it, follows portabled's hash order.)"
img /var/lib/portables/ul
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" ul.service
mkdir -p "$IMG/usr/share/ul-dir" "$IMG/etc/systemd/system"
printf 'not a unit\n' > "$IMG/usr/share/ul-dir/README"
ln -s ../../../share/ul-dir "$IMG/usr/lib/systemd/system/ul-l.service"
ln -s /etc "$IMG/usr/lib/systemd/system/ul-h.service"
ln -s ../../../usr/share/ul-dir "$IMG/etc/systemd/system/ul-m.service"
unitfrom "$IMG" ul-m.service usr/lib/systemd/system
steps 'inspect ul ul.service' 'inspect ul ul-l' 'inspect ul ul-h' 'inspect --cat ul ul-m' 'inspect ul' \
      '--no-reload attach ul ul-l' 'is-attached ul' 'list' '--no-reload detach ul' \
      '--no-reload attach ul ul-h' '--no-reload detach ul' \
      '--no-reload attach ul ul-m' '--no-reload detach ul' \
      '--no-reload attach ul ul.service' 'is-attached ul' 'list' '--no-reload detach ul'

#@ scenario x-imgdirs-unit-dirlink-raw
new x-imgdirs-unit-dirlink-raw "The unit-named symlink to a directory inside a squashfs RAW image uk.raw (uk.service plus uk-l.service -> ../../../share/uk-dir): inspect and attach of each unit alone and of both, what is left behind, detach."
mksrc "$S/src-uk" "UK OS" uk.service
mkdir -p "$S/src-uk/usr/share/uk-dir"
printf 'not a unit\n' > "$S/src-uk/usr/share/uk-dir/README"
ln -s ../../../share/uk-dir "$S/src-uk/usr/lib/systemd/system/uk-l.service"
cat > "$S/build" <<BUILD
set -e
L=\$1
mkdir -p "\$L/var/lib/portables"
chmod 0700 "\$L/var/lib/portables"
mksquashfs src-uk "\$L/var/lib/portables/uk.raw" $SQ
BUILD
steps 'inspect uk uk.service' 'inspect uk uk-l' 'inspect uk' '--no-reload attach uk uk-l' 'is-attached uk' \
      '--no-reload detach uk' '--no-reload attach uk' 'is-attached uk' '--no-reload detach uk'

#@ common
# osrel_raw DIR LINE...   like osrel, but the lines may carry bytes that are not valid UTF-8
# (written with printf %s, so $'\xff' in a line reaches the file as it is)
osrel_raw() {
    local d=$1; shift
    mkdir -p "$d/usr/lib" "$d/etc"
    printf '%s\n' "$@" > "$d/usr/lib/os-release"
    ln -sfn ../usr/lib/os-release "$d/etc/os-release"
}

#@ scenario x-utf8-osrel-inspect
new x-utf8-osrel-inspect "os-release values that are not valid UTF-8, as portablectl inspect (which parses the os-release it gets from the daemon itself) and attach see them: an invalid byte in PRETTY_NAME (ua), in PORTABLE_PRETTY_NAME (ub), in a key portablectl does not print (uc, HOME_URL, an invalid two-byte sequence), in a comment line (ud), in a key name (ue), valid multi-byte UTF-8 as a control (uf), an invalid PRETTY_NAME overridden by a later valid one (ug). inspect and inspect --cat, then attach of each kind."
img /var/lib/portables/ua
osrel_raw "$IMG" $'PRETTY_NAME="Deb\xffian"' 'ID=debian' 'VERSION_ID=12'
unit "$IMG" ua.service
img /var/lib/portables/ub
osrel_raw "$IMG" 'PRETTY_NAME="Debian"' $'PORTABLE_PRETTY_NAME="Port\xfeable"' 'ID=debian' 'VERSION_ID=12'
unit "$IMG" ub.service
img /var/lib/portables/uc
osrel_raw "$IMG" 'PRETTY_NAME="Debian"' 'ID=debian' $'HOME_URL="http://x/\xc3\x28"' 'VERSION_ID=12'
unit "$IMG" uc.service
img /var/lib/portables/ud
osrel_raw "$IMG" $'# comm\xffent' 'PRETTY_NAME="Debian"' 'ID=debian' 'VERSION_ID=12'
unit "$IMG" ud.service
img /var/lib/portables/ue
osrel_raw "$IMG" 'PRETTY_NAME="Debian"' $'X\xffKEY=1' 'ID=debian' 'VERSION_ID=12'
unit "$IMG" ue.service
img /var/lib/portables/uf
osrel_raw "$IMG" $'PRETTY_NAME="D\xc3\xa9bian \xe2\x98\x83"' $'PORTABLE_PRETTY_NAME="\xc3\xbc"' 'ID=debian' 'VERSION_ID=12'
unit "$IMG" uf.service
img /var/lib/portables/ug
osrel_raw "$IMG" $'PRETTY_NAME="\xff"' 'PRETTY_NAME="Later"' 'ID=debian' 'VERSION_ID=12'
unit "$IMG" ug.service
steps 'inspect ua' 'inspect --cat ua' 'inspect ub' 'inspect uc' 'inspect ud' 'inspect ue' 'inspect uf' 'inspect ug' \
      'inspect /var/lib/portables/ua' '--no-reload attach ua' '--no-reload attach ub' '--no-reload attach uc' \
      '--no-reload attach ud' '--no-reload attach ue' '--no-reload attach uf' 'list' \
      '--no-reload detach ud' '--no-reload detach uf'

#@ scenario x-utf8-osrel-extension
new x-utf8-osrel-extension "Invalid UTF-8 in extension-release files: base ubase is clean; extension xu1 has an invalid byte in PORTABLE_PRETTY_NAME, xu2 in SYSEXT_PRETTY_NAME (shown by 257/262 only), xu3 in a key nobody prints; xu4 is clean. inspect --extension (plain and --cat), attach --extension, detach."
img /var/lib/portables/ubase
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" ubase.service
img /var/lib/portables/xu1
mkdir -p "$IMG/usr/lib/extension-release.d"
printf '%s\n' 'ID=debian' 'VERSION_ID=12' $'PORTABLE_PRETTY_NAME="Ext\xff"' > "$IMG/usr/lib/extension-release.d/extension-release.xu1"
unit "$IMG" ubase-x1.service
img /var/lib/portables/xu2
mkdir -p "$IMG/usr/lib/extension-release.d"
printf '%s\n' 'ID=debian' 'VERSION_ID=12' $'SYSEXT_PRETTY_NAME="Sys\xfe"' > "$IMG/usr/lib/extension-release.d/extension-release.xu2"
unit "$IMG" ubase-x2.service
img /var/lib/portables/xu3
mkdir -p "$IMG/usr/lib/extension-release.d"
printf '%s\n' 'ID=debian' 'VERSION_ID=12' $'OTHER="\xc3\x28"' > "$IMG/usr/lib/extension-release.d/extension-release.xu3"
unit "$IMG" ubase-x3.service
img /var/lib/portables/xu4
extrel "$IMG" xu4 'ID=debian' 'VERSION_ID=12'
unit "$IMG" ubase-x4.service
steps 'inspect --extension=xu1 ubase' 'inspect --cat --extension=xu1 ubase' 'inspect --extension=xu2 ubase' \
      'inspect --extension=xu3 ubase' 'inspect --extension=xu4 --extension=xu1 ubase' \
      '--no-reload attach --extension=/var/lib/portables/xu1 ubase' \
      '--no-reload attach --extension=/var/lib/portables/xu3 ubase' \
      '--no-reload attach --extension=/var/lib/portables/xu4 ubase' \
      '--no-reload detach --extension=/var/lib/portables/xu4 ubase'

#@ scenario x-utf8-osrel-raw
new x-utf8-osrel-raw "Invalid UTF-8 in the os-release of a squashfs RAW image (ur.raw, PRETTY_NAME) and of a directory image found through an /etc/portables symlink (/etc/portables/uv -> /opt/uv, PORTABLE_PRETTY_NAME): the name under which portablectl reports the file, inspect plain and --cat, attach."
mkdir -p "$S/src-ur"
osrel_raw "$S/src-ur" $'PRETTY_NAME="Raw\xff OS"' 'ID=debian' 'VERSION_ID=12'
unit "$S/src-ur" ur.service
img /opt/uv
osrel_raw "$IMG" 'PRETTY_NAME="Linked"' $'PORTABLE_PRETTY_NAME="uv\xfe"' 'ID=debian' 'VERSION_ID=12'
unit "$IMG" uv.service
mkdir -p "$S/root/etc/portables"
ln -s /opt/uv "$S/root/etc/portables/uv"
cat > "$S/build" <<BUILD
set -e
L=\$1
mkdir -p "\$L/var/lib/portables"
chmod 0700 "\$L/var/lib/portables"
mksquashfs src-ur "\$L/var/lib/portables/ur.raw" $SQ
BUILD
steps 'inspect ur' 'inspect --cat ur' '--no-reload attach ur' 'inspect uv' 'inspect /opt/uv' '--no-reload attach uv'

#@ scenario x-searchpath-etc-file
new x-searchpath-etc-file "/etc/portables is a regular file (the first directory of the search path, where attach puts its image links): image sp in /var/lib/portables. list, inspect by name, attach by name and by path (the /etc/portables/sp link cannot be made), is-attached, list, inspect after attach, detach by name (the link cannot be removed: first error remembered, the rest carries on), is-attached, attach --runtime (links go to /run/portables) and detach --runtime."
img /var/lib/portables/sp
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" sp.service
mkdir -p "$S/root/etc"
printf 'not a directory\n' > "$S/root/etc/portables"
steps 'list' 'inspect sp' '--no-reload attach sp' 'is-attached sp' 'list' 'inspect sp' '--no-reload detach sp' \
      'is-attached sp' 'list' '--no-reload attach /var/lib/portables/sp' 'is-attached /var/lib/portables/sp' \
      '--no-reload detach /var/lib/portables/sp' '--no-reload --runtime attach sp' 'is-attached sp' \
      '--no-reload --runtime detach sp' 'list'

#@ scenario x-searchpath-run-file
new x-searchpath-run-file "/run/portables is a regular file: image sr in /var/lib/portables. list, inspect, attach --runtime (its image link goes to /run/portables), is-attached, list, detach --runtime; persistent attach/detach as a control."
img /var/lib/portables/sr
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" sr.service
mkdir -p "$S/root/run"
printf 'not a directory\n' > "$S/root/run/portables"
steps 'list' 'inspect sr' '--no-reload --runtime attach sr' 'is-attached sr' 'list' '--no-reload --runtime detach sr' \
      'is-attached sr' '--no-reload attach sr' 'list' '--no-reload detach sr' 'list'

#@ scenario x-searchpath-varlib-file
new x-searchpath-varlib-file "/var/lib/portables is a regular file: images sl in /usr/local/lib/portables and su in /usr/lib/portables (later in the search path), image so outside (/opt/so). list, inspect by name, attach by name and by path, is-attached, detach."
img /usr/local/lib/portables/sl
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" sl.service
img /usr/lib/portables/su
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" su.service
img /opt/so
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" so.service
mkdir -p "$S/root/var/lib"
printf 'not a directory\n' > "$S/root/var/lib/portables"
steps 'list' 'inspect sl' 'inspect su' '--no-reload attach sl' '--no-reload attach /opt/so' 'is-attached sl' 'is-attached /opt/so' \
      'list' '--no-reload detach sl' '--no-reload detach /opt/so' 'inspect nosuch' 'list'

#@ scenario x-searchpath-varlib-link
new x-searchpath-varlib-link "/var/lib/portables is a symlink to a regular file (/opt/plain): image sv in /usr/lib/portables. list, inspect, attach, is-attached, list, detach; then the link is replaced by a symlink to a directory holding an image (/opt/pool/sw) and everything again."
img /usr/lib/portables/sv
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" sv.service
img /opt/pool/sw
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" sw.service
printf 'not a directory\n' > "$S/root/opt/plain"
mkdir -p "$S/root/var/lib"
ln -s /opt/plain "$S/root/var/lib/portables"
steps 'list' 'inspect sv' '--no-reload attach sv' 'is-attached sv' 'list' '--no-reload detach sv' \
      '!rm $ROOT/var/lib/portables && ln -s /opt/pool $ROOT/var/lib/portables' \
      'list' 'inspect sw' '--no-reload attach sw' 'is-attached sw' 'list' '--no-reload detach sw'

#@ scenario x-searchpath-dangling
new x-searchpath-dangling "Dangling symlinks in the search path: /usr/lib/portables -> /nonexistent and /etc/portables -> /nonexistent/links (attach has to create its image link inside it); /usr/local/lib/portables is a regular file. Image sd in /var/lib/portables: list, inspect, attach, is-attached, list, detach, is-attached; then the regular file is removed, leaving only the dangling links: list and a lookup of a missing name."
img /var/lib/portables/sd
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" sd.service
mkdir -p "$S/root/usr/lib" "$S/root/usr/local/lib" "$S/root/etc"
ln -s /nonexistent "$S/root/usr/lib/portables"
ln -s /nonexistent/links "$S/root/etc/portables"
printf 'not a directory\n' > "$S/root/usr/local/lib/portables"
steps 'list' 'inspect sd' '--no-reload attach sd' 'is-attached sd' 'list' '--no-reload detach sd' 'is-attached sd' 'inspect nosuch' \
      '!rm $ROOT/usr/local/lib/portables' 'list' 'inspect nosuch'

#@ scenario x-searchpath-etc-dirlink
new x-searchpath-etc-dirlink "/etc/portables is a symlink to a directory (/opt/links, which already holds a link so -> /opt/so): image sy in /var/lib/portables. list (images found through the link), inspect so, attach sy (its link is created through the symlink), attach so, is-attached, list, detach both (links removed through the symlink)."
img /var/lib/portables/sy
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" sy.service
img /opt/so
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" so.service
mkdir -p "$S/root/opt/links" "$S/root/etc"
ln -s /opt/so "$S/root/opt/links/so"
ln -s /opt/links "$S/root/etc/portables"
steps 'list' 'inspect so' '--no-reload attach sy' '--no-reload attach so' 'is-attached sy' 'is-attached so' 'list' \
      '--no-reload detach sy' '--no-reload detach so' 'list'

#@ scenario x-cli-help
new x-cli-help "portablectl's own help text per version: --help, -h, the help verb (also with an argument). --version is in x-cli-version."
steps '--help' '-h' 'help' 'help list'

#@ scenario x-cli-version
new x-cli-version "portablectl --version per version (the Debian build's version string and compile-time feature list), also after a verb and with another option."
steps '--version' 'list --version' '--no-legend --version'

#@ scenario x-cli-arity
new x-cli-arity "Every verb with too few and too many arguments (portablectl checks the counts before talking to portabled): list, attach, detach, reattach, inspect, is-attached, read-only, remove, set-limit."
steps 'list extra' 'attach' 'detach' 'reattach' 'inspect' 'is-attached' 'is-attached a b' 'read-only' 'read-only a b c' \
      'remove' 'set-limit' 'set-limit a b c'

#@ scenario x-cli-options
new x-cli-options "Client-side option and verb errors per version: an unknown verb, unknown long and short options (before and after the verb), options that lack their argument (--profile, --copy, --extension, -H, -M), --copy=help and invalid --copy= values, --profile=help and an invalid profile name, -j, --user/--system (262 knows them; without a session bus --user cannot connect), and no verb at all (list is the default). --json is in x-cli-json."
img /var/lib/portables/co
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" co.service
steps 'frobnicate' '--frob list' '-z list' 'list --frob' 'list -z' '--profile' '--copy' 'attach --extension' '-H' '-M' \
      '--copy=help' '--copy=bogus attach co' '--copy= attach co' '--copy=help attach co' '--profile=help' \
      '--profile=../x attach co' '--profile=a/b attach co' '-j list' \
      '--user list' '--system list' '--no-legend' '-q'

#@ scenario x-cli-json
new x-cli-json "--json in every recorded version: --json=short, --json=pretty after the verb, an invalid --json value, --json without a value, --json=off; -j is in x-cli-options. (portablekit's own --json exists only where it does not emulate portablectl.)"
img /var/lib/portables/cj
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" cj.service
steps '--json=short list' 'list --json=pretty' '--json=bogus list' '--json list' '--json=off list' '--json=short inspect cj'

#@ scenario x-cli-inspect-force
new x-cli-inspect-force "inspect --force without --extension (the semantics doc says no unit files are printed) per version, with --cat, with explicit prefixes, with -, and with an --extension as the counter-case; is-attached --force."
img /var/lib/portables/fi
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" fi.service
unit "$IMG" fi-two.service
img /var/lib/portables/fie
extrel "$IMG" fie 'ID=debian' 'VERSION_ID=12'
unit "$IMG" fi-ext.service
steps 'inspect fi' 'inspect --force fi' 'inspect --force --cat fi' 'inspect --force fi fi-two' 'inspect --force fi -' \
      'inspect --force --extension=fie fi' 'inspect --force --cat --extension=fie fi' 'is-attached --force fi'

#@ scenario x-cli-names
new x-cli-names "Image arguments portablectl or portabled refuse or cannot find: a name matching an entry of the working directory (etc: the ambiguity warning, also with --quiet), missing names for every verb, an empty argument, a missing relative path, a missing absolute path (attach/inspect need it, detach/is-attached do not), a name starting with .#, a name with a space, an overlong name, a name portablectl cannot turn into a prefix, the pool directory itself (no os-release), and the all-units match '-' with attach, inspect and detach."
img /var/lib/portables/cn
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" cn.service
LONG=$(printf 'n%.0s' $(seq 1 300))
steps 'inspect etc' '--quiet inspect etc' 'inspect nosuch' '--no-reload attach nosuch' '--no-reload detach nosuch' \
      'is-attached nosuch' '--no-reload reattach nosuch' "inspect ''" "is-attached ''" 'inspect ./nosuch' \
      '--no-reload attach /nonexistent/x' '--no-reload detach /nonexistent/x' 'is-attached /nonexistent/x' \
      'inspect .#cn' "inspect 'a b'" "inspect $LONG" 'inspect nosuch.raw' '--no-reload attach at@x' \
      'inspect /var/lib/portables' '--no-reload attach cn -' 'inspect cn -' '--no-reload detach cn -'

#@ common
# ventry DIR.v NAME_N   a directory image NAME_N inside a .v directory (unit NAME.service)
ventry() {
    local v=$1 e=$2
    osrel "$v/$e" "${DEBIAN[@]}" "IMAGE_VERSION=${e##*_}"
    unit "$v/$e" "${e%_*}.service"
    echo "# ${e}" >> "$v/$e/usr/lib/systemd/system/${e%_*}.service"
}

#@ scenario x-vpick-newest-file
new x-vpick-newest-file "systemd.v version picking with a wrong-type newest entry: /var/lib/portables/va.v holds the directory images va_1/ and va_2/ and a regular FILE va_3 (the newest version). 257 picks the newest entry before checking its type ('Wrong medium type', and list leaves va out); 262 skips it and uses va_2; 252 has no .v support (va.v is a directory without os-release). list, inspect by path and by name, attach by path, is-attached, list, detach."
img /var/lib/portables/va.v
ventry "$IMG" va_1
ventry "$IMG" va_2
printf 'not an image\n' > "$IMG/va_3"
steps 'list' 'inspect /var/lib/portables/va.v' 'inspect va' '--no-reload attach /var/lib/portables/va.v' \
      'is-attached /var/lib/portables/va.v' 'list' '--no-reload detach /var/lib/portables/va.v'

#@ scenario x-vpick-only-wrong
new x-vpick-only-wrong "systemd.v directories without a usable entry: vo.v holds only a regular file vo_1; vn.v holds only a README (no NAME_VERSION entry at all); vp.v holds a directory image vp_1/ plus a file vp_0 that is OLDER (a wrong-type entry that is not the newest). list, inspect by path and by name, attach by path of each."
img /var/lib/portables/vo.v
printf 'not an image\n' > "$IMG/vo_1"
img /var/lib/portables/vn.v
printf 'no versions here\n' > "$IMG/README"
img /var/lib/portables/vp.v
ventry "$IMG" vp_1
printf 'not an image\n' > "$IMG/vp_0"
steps 'list' 'inspect /var/lib/portables/vo.v' 'inspect vo' '--no-reload attach /var/lib/portables/vo.v' \
      'inspect /var/lib/portables/vn.v' 'inspect vn' 'inspect /var/lib/portables/vp.v' 'inspect vp' \
      '--no-reload attach /var/lib/portables/vp.v' 'list' '--no-reload detach /var/lib/portables/vp.v'

#@ scenario x-vpick-several-wrong
new x-vpick-several-wrong "systemd.v directories whose newest entries are of other kinds: vs.v (vs_1/ directory image, files vs_2 and vs_3), vl.v (vl_1/ directory image, vl_2 a symlink to vl_1), vk.v (vk_1/ directory image, vk_2 a dangling symlink), vm.v (vm_1/ directory image, vm_2 a symlink to a regular file). list, inspect by path of each, attach and detach of the symlinked one."
img /var/lib/portables/vs.v
ventry "$IMG" vs_1
printf 'not an image\n' > "$IMG/vs_2"
printf 'not an image\n' > "$IMG/vs_3"
img /var/lib/portables/vl.v
ventry "$IMG" vl_1
ln -s vl_1 "$IMG/vl_2"
img /var/lib/portables/vk.v
ventry "$IMG" vk_1
ln -s /nonexistent/vk_2 "$IMG/vk_2"
img /var/lib/portables/vm.v
ventry "$IMG" vm_1
printf 'not an image\n' > "$IMG/plain"
ln -s plain "$IMG/vm_2"
steps 'list' 'inspect /var/lib/portables/vs.v' 'inspect /var/lib/portables/vl.v' 'inspect /var/lib/portables/vk.v' \
      'inspect /var/lib/portables/vm.v' 'inspect vs' 'inspect vl' '--no-reload attach /var/lib/portables/vl.v' 'list' \
      '--no-reload detach /var/lib/portables/vl.v'

#@ scenario x-vpick-raw-wrong
new x-vpick-raw-wrong "systemd.v picking among RAW entries: /var/lib/portables/vr.raw.v holds the squashfs image vr_1.raw and a DIRECTORY vr_2.raw/ (an OS tree; the newest entry, of the wrong type for a .raw.v); /var/lib/portables/vq.v holds the squashfs image vq_1.raw and a directory image vq_2/. list, inspect by path and by name, attach/detach by path."
mksrc "$S/src-vr" "VR OS 1" vr.service
mksrc "$S/src-vq" "VQ OS 1" vq.service
img /var/lib/portables/vr.raw.v/vr_2.raw
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" vr.service
img /var/lib/portables/vq.v
ventry "$IMG" vq_2
cat > "$S/build" <<BUILD
set -e
L=\$1
mkdir -p "\$L/var/lib/portables/vr.raw.v" "\$L/var/lib/portables/vq.v"
chmod 0700 "\$L/var/lib/portables"
mksquashfs src-vr "\$L/var/lib/portables/vr.raw.v/vr_1.raw" $SQ
mksquashfs src-vq "\$L/var/lib/portables/vq.v/vq_1.raw" $SQ
BUILD
steps 'list' 'inspect /var/lib/portables/vr.raw.v' 'inspect vr' '--no-reload attach /var/lib/portables/vr.raw.v' \
      '--no-reload detach /var/lib/portables/vr.raw.v' 'inspect /var/lib/portables/vq.v' 'inspect vq' \
      '--no-reload attach /var/lib/portables/vq.v' 'list' '--no-reload detach /var/lib/portables/vq.v'

#@ scenario x-vpick-extension-wrong
new x-vpick-extension-wrong "A systemd.v extension with a wrong-type newest entry: base vx (directory image) and extension directory xv.v holding the extension xv_1/ and a regular file xv_2. inspect and attach with --extension=/var/lib/portables/xv.v, is-attached, detach."
img /var/lib/portables/vx
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" vx.service
img /var/lib/portables/xv.v/xv_1
extrel "$IMG" xv 'ID=debian' 'VERSION_ID=12'
unit "$IMG" vx-ext.service
printf 'not an image\n' > "$S/root/var/lib/portables/xv.v/xv_2"
steps 'inspect --extension=/var/lib/portables/xv.v vx' '--no-reload attach --extension=/var/lib/portables/xv.v vx' \
      'is-attached --extension=/var/lib/portables/xv.v vx' 'list' '--no-reload detach --extension=/var/lib/portables/xv.v vx'

#@ common
# rawext_scenario FORMAT   base directory image rb plus four raw extensions made with FORMAT
# (squashfs, ext4, erofs, gpt = one ext4 partition typed x86-64 root in a GPT disk):
#   xa  usr/lib/os-release AND extension-release.xa     xb  usr/lib/os-release only
#   xc  a regular etc/os-release AND extension-release.xc   xd  extension-release.xd only
rawext_scenario() {
    local fmt=$1 x
    img /var/lib/portables/rb
    osrel "$IMG" "${DEBIAN[@]}"
    unit "$IMG" rb.service
    for x in xa xb xc xd; do mkdir -p "$S/src-$x"; unit "$S/src-$x" rb-$x.service; done
    osrel "$S/src-xa" 'PRETTY_NAME="XA OS"' 'ID=debian' 'VERSION_ID=12'
    extrel "$S/src-xa" xa 'ID=debian' 'VERSION_ID=12'
    osrel "$S/src-xb" 'PRETTY_NAME="XB OS"' 'ID=debian' 'VERSION_ID=12'
    mkdir -p "$S/src-xc/etc"
    printf '%s\n' 'PRETTY_NAME="XC OS"' 'ID=debian' 'VERSION_ID=12' > "$S/src-xc/etc/os-release"
    extrel "$S/src-xc" xc 'ID=debian' 'VERSION_ID=12'
    extrel "$S/src-xd" xd 'ID=debian' 'VERSION_ID=12'
    cat > "$S/build" <<BUILD
set -e
export PATH=/usr/sbin:/sbin:\$PATH SOURCE_DATE_EPOCH=1700000000 E2FSPROGS_FAKE_TIME=1700000000
L=\$1
mkdir -p "\$L/var/lib/portables"
chmod 0700 "\$L/var/lib/portables"
tmp=\$(mktemp -d)
trap 'rm -rf "\$tmp"' EXIT
mkfs_ext4() { truncate -s 4M "\$2"; mkfs.ext4 -q -F -U 11111111-2222-3333-4444-555555555555 -E root_owner=0:0,hash_seed=11111111-2222-3333-4444-555555555555 -d "\$1" "\$2"; }
for x in xa xb xc xd; do
    cp -a src-\$x "\$tmp/\$x"
    find "\$tmp/\$x" -exec touch -h -d @1700000000 {} +
    out="\$L/var/lib/portables/\$x.raw"
    case $fmt in
        squashfs) env -u SOURCE_DATE_EPOCH mksquashfs "\$tmp/\$x" "\$out" $SQ ;;
        ext4)     mkfs_ext4 "\$tmp/\$x" "\$out" ;;
        erofs)    mkfs.erofs --quiet --all-root -T1700000000 -U 11111111-2222-3333-4444-555555555555 "\$out" "\$tmp/\$x" ;;
        gpt)      mkfs_ext4 "\$tmp/\$x" "\$tmp/\$x.part"
                  truncate -s 6M "\$out"
                  printf 'label: gpt\nlabel-id: 6a5f1b2c-0000-4000-8000-000000000001\nfirst-lba: 2048\nstart=2048, size=8192, type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709, uuid=6a5f1b2c-0000-4000-8000-000000000002, name="root-x86-64"\n' | sfdisk -q --no-reread --no-tell-kernel "\$out"
                  dd if="\$tmp/\$x.part" of="\$out" bs=512 seek=2048 conv=notrunc status=none ;;
    esac
done
BUILD
    STEPS=()
    for x in xa xb xc xd; do
        STEPS+=("inspect --extension=/var/lib/portables/$x.raw rb" "--no-reload attach --extension=/var/lib/portables/$x.raw rb"
                "--no-reload detach --extension=/var/lib/portables/$x.raw rb")
    done
    steps "${STEPS[@]}" '--no-reload --force attach --extension=/var/lib/portables/xb.raw rb' \
          '--no-reload --force detach --extension=/var/lib/portables/xb.raw rb' 'inspect xa' 'inspect xd'
}

#@ scenario x-rawext-osrel-squashfs
new x-rawext-osrel-squashfs "RAW extensions that also carry an os-release, as squashfs images, on the directory base rb: xa.raw has usr/lib/os-release and extension-release.xa, xb.raw only usr/lib/os-release, xc.raw a regular etc/os-release and extension-release.xc, xd.raw only extension-release.xd (the control). inspect/attach/detach with each, --force with xb, and inspect of xa and xd as base images."
rawext_scenario squashfs

#@ scenario x-rawext-osrel-ext4
new x-rawext-osrel-ext4 "The extensions of x-rawext-osrel-squashfs (os-release and extension-release, os-release only, etc/os-release and extension-release, extension-release only) as plain ext4 file system images."
rawext_scenario ext4

#@ scenario x-rawext-osrel-erofs
new x-rawext-osrel-erofs "The extensions of x-rawext-osrel-squashfs (os-release and extension-release, os-release only, etc/os-release and extension-release, extension-release only) as EROFS images."
rawext_scenario erofs

#@ scenario x-rawext-osrel-gpt
new x-rawext-osrel-gpt "The extensions of x-rawext-osrel-squashfs (os-release and extension-release, os-release only, etc/os-release and extension-release, extension-release only) as GPT disk images with one ext4 partition typed x86-64 root."
rawext_scenario gpt

#@ scenario x-imgmgmt-dir
new x-imgmgmt-dir "The image management verbs on directory images in /var/lib/portables (md1, md2, md3): read-only no on an image that is not read-only, an invalid boolean, a missing image; remove of a detached image, of a missing one, of several names at once (the first exists), of an attached image; set-limit for the pool and for an image with valid and invalid sizes and of a missing image; read-only while attached (252/257 resolve the name to the /etc/portables link and fail with ELOOP, 262 tries the immutable flag, which the oracle's overlayfs refuses); detach and remove (remove clears the flag itself). Whether the immutable flag got set anyway is left to the oracle-only x-imgmgmt-dir-chattr."
for n in md1 md2 md3; do
    img /var/lib/portables/$n
    osrel "$IMG" "${DEBIAN[@]}"
    unit "$IMG" $n.service
done
steps 'read-only md1 no' 'read-only md1 bogus' 'read-only nosuch' 'read-only nosuch no' \
      'remove md2' 'list' 'remove md2' 'remove md3 nosuch' 'list' \
      'set-limit 1G' 'set-limit md1 1G' 'set-limit md1 bogus' 'set-limit md1 -' 'set-limit -' 'set-limit md1 infinity' \
      'set-limit nosuch 1G' '--no-reload attach md1' 'read-only md1' 'remove md1' 'set-limit md1 1G' \
      '--no-reload detach md1' 'remove md1' 'list'

#@ scenario x-imgmgmt-dir-chattr
new x-imgmgmt-dir-chattr "read-only on a directory image sets the immutable flag (chattr +i). On the oracle's overlayfs the first attempt fails with 'Operation not supported' and still leaves the flag set (list then says RO yes; an lsattr on the host confirmed it): the lower layer's ext4 'e' flag cannot be carried over to the upper tmpfs. Later calls succeed. read-only/list alternating, then remove (which clears the flag before deleting)."
oracle_only "The immutable flag of a directory image depends on the file system holding it: the oracle's overlayfs refuses the first chattr with EOPNOTSUPP but sets the flag; a sandbox directory has no such layering."
img /var/lib/portables/mc
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" mc.service
steps 'read-only mc' 'list' 'read-only mc no' 'list' 'read-only mc yes' 'list' '--no-reload attach mc' 'read-only mc no' \
      '--no-reload detach mc' 'list' 'remove mc' 'list'

#@ scenario x-imgmgmt-raw
new x-imgmgmt-raw "The image management verbs on squashfs RAW images mr1.raw and mr2.raw in /var/lib/portables: read-only (for a raw image this is the file mode) and back, list (RO column), remove, set-limit, and the same while mr1 is attached."
mksrc "$S/src-mr1" "MR OS 1" mr1.service
mksrc "$S/src-mr2" "MR OS 2" mr2.service
cat > "$S/build" <<BUILD
set -e
L=\$1
mkdir -p "\$L/var/lib/portables"
chmod 0700 "\$L/var/lib/portables"
mksquashfs src-mr1 "\$L/var/lib/portables/mr1.raw" $SQ
mksquashfs src-mr2 "\$L/var/lib/portables/mr2.raw" $SQ
BUILD
steps 'list' 'read-only mr1' 'list' 'read-only mr1 no' 'list' 'read-only mr2 yes' 'remove mr2' 'list' 'set-limit mr1 1G' \
      '--no-reload attach mr1' 'read-only mr1' 'list' 'remove mr1' 'read-only mr1 no' '--no-reload detach mr1' 'remove mr1' 'list'

#@ scenario x-imgmgmt-links
new x-imgmgmt-links "The image management verbs on images found through links: /etc/portables/ml -> /opt/images/ml (directory image), /etc/portables/mk.raw -> /opt/images/mk.raw (a raw file), /run/portables/mj -> /opt/images/mj (directory image). list, read-only of the raw one (its file mode), list, read-only no, read-only of the directory ones (252/257 refuse the link with ELOOP; 262 resolves it and tries the immutable flag, refused on the oracle's overlayfs; no list afterwards, see x-imgmgmt-dir-chattr), remove of each (252/257 remove the link, 262 the image it points to), list."
for n in ml mj; do
    img /opt/images/$n
    osrel "$IMG" "${DEBIAN[@]}"
    unit "$IMG" $n.service
done
mksrc "$S/src-mk" "MK OS" mk.service
mkdir -p "$S/root/etc/portables" "$S/root/run/portables"
ln -s /opt/images/ml "$S/root/etc/portables/ml"
ln -s /opt/images/mk.raw "$S/root/etc/portables/mk.raw"
ln -s /opt/images/mj "$S/root/run/portables/mj"
cat > "$S/build" <<BUILD
set -e
L=\$1
mkdir -p "\$L/opt/images"
mksquashfs src-mk "\$L/opt/images/mk.raw" $SQ
BUILD
steps 'list' 'read-only mk' 'list' 'read-only mk no' 'read-only ml' 'read-only mj' 'remove ml' 'remove mk' 'remove mj' 'list'

#@ scenario x-imgmgmt-vendor
new x-imgmgmt-vendor "The image management verbs on images in the vendor directories, which list shows read-only: /usr/lib/portables/mu and /usr/local/lib/portables/mv (directory images). read-only yes/no, remove, set-limit, list."
img /usr/lib/portables/mu
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" mu.service
img /usr/local/lib/portables/mv
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" mv.service
steps 'list' 'read-only mu' 'read-only mu no' 'read-only mv no' 'remove mu' 'remove mv' 'set-limit mu 1G' 'list'

#@ scenario x-imgmgmt-user
new x-imgmgmt-user "The image management verbs in the user scope (new in 259): portablectl --user on the image uu in ~/.local/state/portables (PORTABLE_SCOPE=user): list, read-only, remove, set-limit."
oracle_only "Needs the user instance (systemd-portabled --user on root's session bus) and a second service manager; recorded on 262 only."
minver 259
touch "$S/user-scope"
img /root/.local/state/portables/uu
osrel "$IMG" "${DEBIAN[@]}" 'PORTABLE_SCOPE=user'
unit "$IMG" uu.service usr/lib/systemd/user
img /root/.local/state/portables/uw
osrel "$IMG" "${DEBIAN[@]}" 'PORTABLE_SCOPE=user'
unit "$IMG" uw.service usr/lib/systemd/user
steps '--user list' '--user read-only uu' '--user read-only uu no' '--user set-limit 1G' '--user set-limit uu 1G' \
      '--user remove uw' '--user list' '--user --no-reload attach uu' '--user remove uu' '--user --no-reload detach uu' \
      '--user remove uu' '--user list'

#@ scenario x-cli-inspect-nomatch
new x-cli-inspect-nomatch "inspect and attach when no unit matches: nm1 ships only other.service, nm2 declares PORTABLE_PREFIXES=pfx-a and ships pfx-a.service, nm3 declares two prefixes (pa pb) and ships pa.service and pb-x.service, nm4 declares zz and ships only other4.service. inspect (also --quiet and --cat) with the derived prefix (262's portablectl then also asks portabled for the image's os-release, which leaves /run/systemd/nspawn/locks behind, and retries with the image's PORTABLE_PREFIXES), with an explicit prefix that matches nothing, with one that matches; attach likewise."
img /var/lib/portables/nm1
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" other.service
img /var/lib/portables/nm2
osrel "$IMG" "${DEBIAN[@]}" 'PORTABLE_PREFIXES=pfx-a'
unit "$IMG" pfx-a.service
img /var/lib/portables/nm3
osrel "$IMG" "${DEBIAN[@]}" 'PORTABLE_PREFIXES="pa pb"'
unit "$IMG" pa.service
unit "$IMG" pb-x.service
img /var/lib/portables/nm4
osrel "$IMG" "${DEBIAN[@]}" 'PORTABLE_PREFIXES=zz'
unit "$IMG" other4.service
steps 'inspect nm1 nosuch' 'inspect nm2 nosuch' '--no-reload attach nm1' 'inspect nm1' 'inspect nm2' 'inspect nm1 other' \
      '--quiet inspect nm2' 'inspect --cat nm2' 'inspect nm3' 'inspect nm4' \
      '--no-reload attach nm2' '--no-reload attach nm2 pfx-a' 'is-attached nm2' '--no-reload detach nm2'

# ---------------------------------------------------------------------------
# Round 3: more shapes of the same rules (enabled state, exists-on-host, unit directories,
# os-release parsing in the client, search directories, portablectl's texts, .v picking, raw
# extensions, image management).

#@ common
# unitx DIR NAME INSTALL-LINES...   a service whose [Install] section is given line by line
# (no lines: no [Install] section at all)
unitx() {
    local d=$1 n=$2; shift 2
    mkdir -p "$d/usr/lib/systemd/system"
    {
        printf '[Unit]\nDescription=%s\n\n[Service]\nExecStart=/usr/bin/true\n' "$n"
        if [ $# -gt 0 ]; then printf '\n[Install]\n'; printf '%s\n' "$@"; fi
    } > "$d/usr/lib/systemd/system/$n"
}
# plainimg NAME [UNIT...]   a directory image /var/lib/portables/NAME with Debian's os-release
plainimg() {
    local n=$1; shift
    img /var/lib/portables/$n
    osrel "$IMG" "${DEBIAN[@]}"
    if [ $# -eq 0 ]; then set -- "$n.service"; fi
    for u in "$@"; do unit "$IMG" "$u"; done
}
# sqbuild SRC OUT...   a build script making squashfs images: pairs of src dir and path below /
sqbuild() {
    {
        printf 'set -e\nL=$1\nmkdir -p "$L/var/lib/portables"\nchmod 0700 "$L/var/lib/portables"\n'
        while [ $# -gt 0 ]; do
            printf 'mkdir -p "$L%s"\n' "$(dirname "$2")"
            printf 'mksquashfs %s "$L%s" %s\n' "$1" "$2" "$SQ"
            shift 2
        done
    } > "$S/build"
}

#@ scenario x-enabled-runtime-links
new x-enabled-runtime-links "Install links inside /run/systemd/system.attached (everything below /run is runtime configuration to systemd's install logic): a .wants link there for the persistently attached erl and for the runtime-attached err, then an alias symlink next to err's unit. is-attached by path (257's name bug stays out of the way) and list after each change, detach with the links in place."
plainimg erl
plainimg err
steps '--no-reload attach erl' '--no-reload --runtime attach err' \
      '!mkdir -p $ROOT/run/systemd/system.attached/multi-user.target.wants && ln -s /etc/systemd/system.attached/erl.service $ROOT/run/systemd/system.attached/multi-user.target.wants/erl.service' \
      'is-attached /var/lib/portables/erl' 'is-attached /var/lib/portables/err' 'list' \
      '!rm $ROOT/run/systemd/system.attached/multi-user.target.wants/erl.service && ln -s ../err.service $ROOT/run/systemd/system.attached/multi-user.target.wants/err.service' \
      'is-attached /var/lib/portables/erl' 'is-attached /var/lib/portables/err' \
      '!rm -r $ROOT/run/systemd/system.attached/multi-user.target.wants && ln -s err.service $ROOT/run/systemd/system.attached/err-alias.service' \
      'is-attached /var/lib/portables/err' 'list' '--no-reload detach erl' '--no-reload --runtime detach err' 'list'

#@ scenario x-enabled-install-kinds
new x-enabled-install-kinds "What an attached unit's own [Install] section does to its state: ia.service has only Also= (systemd calls that indirect), ib.service has no [Install] (static), ic.service has Alias=ic-other.service and WantedBy=, it@.service is a template with DefaultInstance=one. After attaching: is-attached of each; then an alias link /etc/systemd/system/ic-other.service (a name Alias= declares) and /etc/systemd/system/ib-nope.service (a name nothing declares); .wants links in /etc/systemd/system to the template's instances it@one.service (the default instance) and it@two.service."
img /var/lib/portables/ia
osrel "$IMG" "${DEBIAN[@]}"
unitx "$IMG" ia.service 'Also=ib.service'
img /var/lib/portables/ib
osrel "$IMG" "${DEBIAN[@]}"
unitx "$IMG" ib.service
img /var/lib/portables/ic
osrel "$IMG" "${DEBIAN[@]}"
unitx "$IMG" ic.service 'Alias=ic-other.service' 'WantedBy=multi-user.target'
img /var/lib/portables/it
osrel "$IMG" "${DEBIAN[@]}"
unitx "$IMG" it@.service 'WantedBy=multi-user.target' 'DefaultInstance=one'
steps '--no-reload attach ia' '--no-reload attach ib' '--no-reload attach ic' '--no-reload attach it' \
      'is-attached /var/lib/portables/ia' 'is-attached /var/lib/portables/ib' 'is-attached /var/lib/portables/ic' \
      'is-attached /var/lib/portables/it' \
      '!ln -s /etc/systemd/system.attached/ic.service $ROOT/etc/systemd/system/ic-other.service && ln -s /etc/systemd/system.attached/ib.service $ROOT/etc/systemd/system/ib-nope.service' \
      'is-attached /var/lib/portables/ic' 'is-attached /var/lib/portables/ib' \
      '!ln -s /etc/systemd/system.attached/it@.service $ROOT/etc/systemd/system/multi-user.target.wants/it@two.service' \
      'is-attached /var/lib/portables/it' \
      '!rm $ROOT/etc/systemd/system/multi-user.target.wants/it@two.service && ln -s /etc/systemd/system.attached/it@.service $ROOT/etc/systemd/system/multi-user.target.wants/it@one.service' \
      'is-attached /var/lib/portables/it' 'list' \
      '!rm $ROOT/etc/systemd/system/ic-other.service $ROOT/etc/systemd/system/ib-nope.service $ROOT/etc/systemd/system/multi-user.target.wants/it@one.service' \
      '--no-reload detach ia' '--no-reload detach ib' '--no-reload detach ic' '--no-reload detach it'

#@ scenario x-enabled-config-dirs
new x-enabled-config-dirs "Install links for the attached ec.service in the other directories of the unit search path, one place at a time: /etc/systemd/system.control, /run/systemd/system.control, /run/systemd/generator, /usr/local/lib/systemd/system and /usr/lib/systemd/system (each a link in ec-test.target.wants, a target nothing else uses); then an empty file /etc/systemd/system/ec.service (an empty unit file is a mask to systemd). is-attached after each, detach."
plainimg ec
W=ec-test.target.wants/ec.service
steps '--no-reload attach ec' \
      "!mkdir -p \$ROOT/etc/systemd/system.control/ec-test.target.wants && ln -s /etc/systemd/system.attached/ec.service \$ROOT/etc/systemd/system.control/$W" \
      'is-attached ec' \
      "!rm -r \$ROOT/etc/systemd/system.control && mkdir -p \$ROOT/run/systemd/system.control/ec-test.target.wants && ln -s /etc/systemd/system.attached/ec.service \$ROOT/run/systemd/system.control/$W" \
      'is-attached ec' \
      "!rm -r \$ROOT/run/systemd/system.control && mkdir -p \$ROOT/run/systemd/generator/ec-test.target.wants && ln -s /etc/systemd/system.attached/ec.service \$ROOT/run/systemd/generator/$W" \
      'is-attached ec' \
      "!rm -r \$ROOT/run/systemd/generator && mkdir -p \$ROOT/usr/local/lib/systemd/system/ec-test.target.wants && ln -s /etc/systemd/system.attached/ec.service \$ROOT/usr/local/lib/systemd/system/$W" \
      'is-attached ec' \
      "!rm -r \$ROOT/usr/local/lib/systemd/system/ec-test.target.wants && mkdir -p \$ROOT/usr/lib/systemd/system/ec-test.target.wants && ln -s /etc/systemd/system.attached/ec.service \$ROOT/usr/lib/systemd/system/$W" \
      'is-attached ec' \
      "!rm \$ROOT/usr/lib/systemd/system/$W && : > \$ROOT/etc/systemd/system/ec.service" \
      'is-attached ec' 'list' '!rm $ROOT/etc/systemd/system/ec.service' '--no-reload detach ec'

#@ scenario x-enabled-copy-symlink
new x-enabled-copy-symlink "The enabled state of units attached with --copy=symlink (the attached unit file is then a link into the image): es is attached that way, ek copied; a .wants link in /etc/systemd/system for each; then a dangling symlink named like each unit in /run/systemd/system.attached (which makes a copied unit count as enabled). is-attached by path and list after each change, detach."
plainimg es
plainimg ek
steps '--no-reload --copy=symlink attach es' '--no-reload attach ek' 'is-attached /var/lib/portables/es' \
      '!ln -s /etc/systemd/system.attached/es.service $ROOT/etc/systemd/system/multi-user.target.wants/es.service' \
      'is-attached /var/lib/portables/es' \
      '!rm $ROOT/etc/systemd/system/multi-user.target.wants/es.service && mkdir -p $ROOT/run/systemd/system.attached && ln -s /nonexistent/es.service $ROOT/run/systemd/system.attached/es.service && ln -s /nonexistent/ek.service $ROOT/run/systemd/system.attached/ek.service' \
      'is-attached /var/lib/portables/es' 'is-attached /var/lib/portables/ek' 'list' \
      '!rm -r $ROOT/run/systemd/system.attached' '--no-reload detach es' '--no-reload detach ek'

#@ scenario x-enabled-lookup-errors
new x-enabled-lookup-errors "Attached units whose name the install logic cannot follow on the host: the runtime-attached ez with a dangling symlink /etc/systemd/system/ez.service (it comes before /run/systemd/system.attached in the unit path), then a directory of that name there; the persistently attached ey with a directory /etc/systemd/system/ey.service. is-attached, list and detach."
plainimg ez
plainimg ey
steps '--no-reload --runtime attach ez' '--no-reload attach ey' \
      '!ln -s /nonexistent/ez.service $ROOT/etc/systemd/system/ez.service' \
      'is-attached /var/lib/portables/ez' 'list' \
      '!rm $ROOT/etc/systemd/system/ez.service && mkdir $ROOT/etc/systemd/system/ez.service $ROOT/etc/systemd/system/ey.service' \
      'is-attached /var/lib/portables/ez' 'is-attached /var/lib/portables/ey' 'list' \
      '--no-reload --runtime detach ez' '--no-reload detach ey' '!rmdir $ROOT/etc/systemd/system/ez.service $ROOT/etc/systemd/system/ey.service' 'list'

#@ scenario x-hostexists-chains
new x-hostexists-chains "Chains of symbolic links named like the image's unit on the host: /usr/lib/systemd/system/hcb.service -> /opt/l1/hcb.service -> /opt/hostunits/hcb.service (a link to a link to a file); hcc.service -> an empty file (an empty unit file is a mask); hcd.service -> hcd-missing.service (an alias inside the unit path to a name that does not exist); /usr/local/lib/systemd/system/hch.service -> /usr/lib/systemd/system/hch.service (a file there); in /etc/systemd/system hce.service -> an empty file and hcf.service -> ../../../usr/lib/systemd/system/hcf-real.service. One attach per image, then list and detach of what got attached."
mkdir -p "$S/root/opt/l1" "$S/root/opt/hostunits" "$S/root/usr/lib/systemd/system" "$S/root/usr/local/lib/systemd/system" "$S/root/etc/systemd/system"
printf '[Unit]\nDescription=outside hcb\n\n[Service]\nExecStart=/bin/true\n' > "$S/root/opt/hostunits/hcb.service"
ln -s /opt/hostunits/hcb.service "$S/root/opt/l1/hcb.service"
ln -s /opt/l1/hcb.service "$S/root/usr/lib/systemd/system/hcb.service"
: > "$S/root/opt/hostunits/empty.service"
ln -s /opt/hostunits/empty.service "$S/root/usr/lib/systemd/system/hcc.service"
ln -s hcd-missing.service "$S/root/usr/lib/systemd/system/hcd.service"
printf '[Unit]\nDescription=host hch\n\n[Service]\nExecStart=/bin/true\n' > "$S/root/usr/lib/systemd/system/hch.service"
ln -s /usr/lib/systemd/system/hch.service "$S/root/usr/local/lib/systemd/system/hch.service"
ln -s /opt/hostunits/empty.service "$S/root/etc/systemd/system/hce.service"
printf '[Unit]\nDescription=host hcf\n\n[Service]\nExecStart=/bin/true\n' > "$S/root/usr/lib/systemd/system/hcf-real.service"
ln -s ../../../usr/lib/systemd/system/hcf-real.service "$S/root/etc/systemd/system/hcf.service"
STEPS=()
for n in hcb hcc hcd hch hce hcf; do plainimg $n; STEPS+=("--no-reload attach $n"); done
steps "${STEPS[@]}" 'list' '--no-reload detach hcd'

#@ scenario x-hostexists-order
new x-hostexists-order "Which directory of the host's unit path decides the exists-on-host check when several hold the unit's name: hoa has a dangling symlink in /usr/local/lib/systemd/system and a unit file in /usr/lib/systemd/system; hob a directory in /usr/local/lib and a file in /usr/lib; hoc a file in /usr/local/lib and a dangling symlink in /etc/systemd/system; hod a dangling symlink in /run/systemd/transient and a file in /etc/systemd/system; hoe a /dev/null mask in /usr/lib and a file in /etc/systemd/system. One attach each, list, detach of what got attached."
for d in /usr/local/lib/systemd/system /usr/lib/systemd/system /etc/systemd/system /run/systemd/transient; do mkdir -p "$S/root$d"; done
hostentry /usr/local/lib/systemd/system hoa.service dangling
hostentry /usr/lib/systemd/system hoa.service file
hostentry /usr/local/lib/systemd/system hob.service dir
hostentry /usr/lib/systemd/system hob.service file
hostentry /usr/local/lib/systemd/system hoc.service file
hostentry /etc/systemd/system hoc.service dangling
hostentry /run/systemd/transient hod.service dangling
hostentry /etc/systemd/system hod.service file
hostentry /usr/lib/systemd/system hoe.service mask
hostentry /etc/systemd/system hoe.service file
STEPS=()
for n in hoa hob hoc hod hoe; do plainimg $n; STEPS+=("--no-reload attach $n"); done
steps "${STEPS[@]}" 'list' '--no-reload detach hoa' '--no-reload detach hod'

#@ scenario x-hostexists-templates
new x-hostexists-templates "Templates on the host for an image whose unit is an instance (ta@x.service and so on), beyond x-hostexists-instances: the template as a directory in /usr/lib/systemd/system (tda), as a symlink there to a file elsewhere (tlb), as an empty file in /usr/local/lib/systemd/system (tec); the instance itself as a file in /usr/lib (tfd); the instance as a dangling symlink in /usr/lib while /etc/systemd/system holds the template as a file (tgq). One attach each, list, detach of what got attached."
mkdir -p "$S/root/usr/lib/systemd/system" "$S/root/usr/local/lib/systemd/system" "$S/root/etc/systemd/system" "$S/root/opt/hostunits"
mkdir -p "$S/root/usr/lib/systemd/system/tda@.service"; printf 'not a unit\n' > "$S/root/usr/lib/systemd/system/tda@.service/README"
printf '[Unit]\nDescription=outside tlb\n\n[Service]\nExecStart=/bin/true %%i\n' > "$S/root/opt/hostunits/tlb@.service"
ln -s /opt/hostunits/tlb@.service "$S/root/usr/lib/systemd/system/tlb@.service"
: > "$S/root/usr/local/lib/systemd/system/tec@.service"
printf '[Unit]\nDescription=host tfd x\n\n[Service]\nExecStart=/bin/true\n' > "$S/root/usr/lib/systemd/system/tfd@x.service"
ln -s /nonexistent/tgq@x.service "$S/root/usr/lib/systemd/system/tgq@x.service"
printf '[Unit]\nDescription=host tgq\n\n[Service]\nExecStart=/bin/true %%i\n' > "$S/root/etc/systemd/system/tgq@.service"
STEPS=()
for n in tda tlb tec tfd tgq; do
    img /var/lib/portables/$n
    osrel "$IMG" "${DEBIAN[@]}"
    unit "$IMG" "$n@x.service"
    STEPS+=("--no-reload attach $n")
done
steps "${STEPS[@]}" 'list'

#@ scenario x-hostexists-force-reattach
new x-hostexists-force-reattach "What --force and reattach do where the exists-on-host check fails: hf with a symlink /etc/systemd/system/hf.service -> /opt/hostunits/hf.service (ELOOP), hg with a directory /etc/systemd/system/hg.service (EISDIR). attach (refused), --force attach, reattach, detach of each."
mkdir -p "$S/root/etc/systemd/system"
hostentry /etc/systemd/system hf.service link
hostentry /etc/systemd/system hg.service dir
plainimg hf
plainimg hg
steps '--no-reload attach hf' '--no-reload --force attach hf' '--no-reload reattach hf' 'is-attached hf' '--no-reload detach hf' \
      '--no-reload attach hg' '--no-reload --force attach hg' '--no-reload reattach hg' '--no-reload detach hg'

#@ scenario x-imgdirs-dirlink-copy
new x-imgdirs-dirlink-copy "The unit-named symlink to a directory (um-l.service -> ../../../share/um-dir inside image um) with the copy modes: --copy=symlink links the unit file instead of reading it, --copy=copy reads it; with um.service alone as the control. attach, is-attached, what is left, detach."
plainimg um
mkdir -p "$IMG/usr/share/um-dir"
printf 'not a unit\n' > "$IMG/usr/share/um-dir/README"
ln -s ../../../share/um-dir "$IMG/usr/lib/systemd/system/um-l.service"
steps '--no-reload --copy=symlink attach um um-l' 'is-attached um' '--no-reload detach um' \
      '--no-reload --copy=copy attach um um-l' 'is-attached um' '--no-reload detach um' \
      '--no-reload --copy=symlink attach um um.service' '--no-reload detach um'

#@ scenario x-imgdirs-dirlink-extension
new x-imgdirs-dirlink-extension "A unit-named symlink to a directory in an EXTENSION: directory base eb (eb.service) with the directory extension xe (eb-e.service and eb-l.service -> ../../../share/dir), and with the squashfs extension xk.raw (eb-k.service and eb-m.service -> ../../../share/dir). inspect and attach with each extension, with the bad unit as explicit prefix and with the good one only; detach."
plainimg eb
img /var/lib/portables/xe
extrel "$IMG" xe 'ID=debian' 'VERSION_ID=12'
unit "$IMG" eb-e.service
mkdir -p "$IMG/usr/share/dir"; printf 'not a unit\n' > "$IMG/usr/share/dir/README"
ln -s ../../../share/dir "$IMG/usr/lib/systemd/system/eb-l.service"
mkdir -p "$S/src-xk/usr/share/dir"
extrel "$S/src-xk" xk 'ID=debian' 'VERSION_ID=12'
unit "$S/src-xk" eb-k.service
printf 'not a unit\n' > "$S/src-xk/usr/share/dir/README"
ln -s ../../../share/dir "$S/src-xk/usr/lib/systemd/system/eb-m.service"
sqbuild src-xk /var/lib/portables/xk.raw
steps 'inspect --extension=/var/lib/portables/xe eb' 'inspect --extension=/var/lib/portables/xe eb eb-e' \
      '--no-reload attach --extension=/var/lib/portables/xe eb eb-l' 'is-attached --extension=/var/lib/portables/xe eb' \
      '--no-reload detach --extension=/var/lib/portables/xe eb' \
      '--no-reload attach --extension=/var/lib/portables/xe eb eb-e' '--no-reload detach --extension=/var/lib/portables/xe eb' \
      'inspect --extension=/var/lib/portables/xk.raw eb' 'inspect --extension=/var/lib/portables/xk.raw eb eb-k' \
      '--no-reload attach --extension=/var/lib/portables/xk.raw eb' 'list' \
      '--no-reload detach --extension=/var/lib/portables/xk.raw eb'

#@ scenario x-imgdirs-odd-entries
new x-imgdirs-odd-entries "Unit directory entries of image uo that are not plain unit files: uo-dang.service a dangling symlink, uo-null.service -> /dev/null, uo-empty.service an empty file, uo-lempty.service a symlink to an empty file, uo-lfile.service a relative symlink to a unit file outside the unit directories (usr/share/uo-real), uo-abs.service an absolute symlink to /usr/share/uo-real (inside the image to 262, on the host to 252/257, where /usr/share/uo-real exists as another file). inspect --cat, attach, detach."
plainimg uo
mkdir -p "$IMG/usr/share" "$S/root/usr/share"
d="$IMG/usr/lib/systemd/system"
ln -s /nonexistent/uo-dang.service "$d/uo-dang.service"
ln -s /dev/null "$d/uo-null.service"
: > "$d/uo-empty.service"
: > "$IMG/usr/share/empty"
ln -s ../../../share/empty "$d/uo-lempty.service"
printf '[Unit]\nDescription=uo real (image)\n\n[Service]\nExecStart=/usr/bin/true\n' > "$IMG/usr/share/uo-real"
ln -s ../../../share/uo-real "$d/uo-lfile.service"
ln -s /usr/share/uo-real "$d/uo-abs.service"
printf '[Unit]\nDescription=uo real (host)\n\n[Service]\nExecStart=/usr/bin/true\n' > "$S/root/usr/share/uo-real"
steps 'inspect --cat uo' '--no-reload attach uo' 'is-attached uo' '--no-reload detach uo'

#@ scenario x-utf8-osrel-lines
new x-utf8-osrel-lines "The line number of portablectl's UTF-8 warning is systemd's own count (one more than the assignment's line in a plain file): an invalid PRETTY_NAME after two empty lines (la), after two comment lines (lb), after a double-quoted value spanning two lines (lc), after a value continued with a backslash (ld), as the last line without a final newline (le), after a line without '=' (lf), in a single-quoted value (lg). inspect of each (the client's warning), inspect --cat of le."
for n in la lb lc ld le lf lg; do
    img /var/lib/portables/$n
    mkdir -p "$IMG/usr/lib" "$IMG/etc"
    ln -s ../usr/lib/os-release "$IMG/etc/os-release"
    unit "$IMG" $n.service
done
o=usr/lib/os-release
printf '\n\nPRETTY_NAME="la\xff"\nID=debian\n' > "$S/root/var/lib/portables/la/$o"
printf '# one\n# two\nPRETTY_NAME="lb\xff"\nID=debian\n' > "$S/root/var/lib/portables/lb/$o"
printf 'ID=debian\nNAME="two\nlines"\nPRETTY_NAME="lc\xff"\n' > "$S/root/var/lib/portables/lc/$o"
printf 'ID=debian\nNAME=con\\\ntinued\nPRETTY_NAME="ld\xff"\n' > "$S/root/var/lib/portables/ld/$o"
printf 'ID=debian\nVERSION_ID=12\nPRETTY_NAME="le\xff"' > "$S/root/var/lib/portables/le/$o"
printf 'ID=debian\nJUNK\nPRETTY_NAME="lf\xff"\n' > "$S/root/var/lib/portables/lf/$o"
printf "ID=debian\nPRETTY_NAME='lg\xff'\n" > "$S/root/var/lib/portables/lg/$o"
steps 'inspect la' 'inspect lb' 'inspect lc' 'inspect ld' 'inspect le' 'inspect lf' 'inspect lg' 'inspect --cat le'

#@ scenario x-utf8-osrel-ext-raw
new x-utf8-osrel-ext-raw "Invalid UTF-8 in a RAW extension's extension-release (squashfs xq.raw, byte 0xff in PORTABLE_PRETTY_NAME) and in a directory extension's comment line (xn: harmless) and key name (xo), on the clean directory base qb. inspect (also --cat), attach, detach with each."
plainimg qb
mkdir -p "$S/src-xq/usr/lib/extension-release.d"
printf 'ID=debian\nVERSION_ID=12\nPORTABLE_PRETTY_NAME="Raw\xff"\n' > "$S/src-xq/usr/lib/extension-release.d/extension-release.xq"
unit "$S/src-xq" qb-q.service
sqbuild src-xq /var/lib/portables/xq.raw
img /var/lib/portables/xn
mkdir -p "$IMG/usr/lib/extension-release.d"
printf '# comm\xffent\nID=debian\nVERSION_ID=12\n' > "$IMG/usr/lib/extension-release.d/extension-release.xn"
unit "$IMG" qb-n.service
img /var/lib/portables/xo
mkdir -p "$IMG/usr/lib/extension-release.d"
printf 'ID=debian\nVERSION_ID=12\nK\xffEY=1\n' > "$IMG/usr/lib/extension-release.d/extension-release.xo"
unit "$IMG" qb-o.service
steps 'inspect --extension=/var/lib/portables/xq.raw qb' 'inspect --cat --extension=/var/lib/portables/xq.raw qb' \
      '--no-reload attach --extension=/var/lib/portables/xq.raw qb' \
      'inspect --extension=/var/lib/portables/xn qb' '--no-reload attach --extension=/var/lib/portables/xn qb' \
      '--no-reload detach --extension=/var/lib/portables/xn qb' \
      'inspect --extension=/var/lib/portables/xo qb' '--no-reload attach --extension=/var/lib/portables/xo qb'

#@ scenario x-searchpath-run-dirlink
new x-searchpath-run-dirlink "/run/portables is a symlink to the directory /opt/rlinks, which already holds ry -> /opt/imgs/ry: list, inspect ry by name (the image path names the resolved directory on 252/257), runtime attach of /opt/imgs/rx (its image link is made through the symlink), list, is-attached, runtime detach of both, list."
for n in rx ry; do
    img /opt/imgs/$n
    osrel "$IMG" "${DEBIAN[@]}"
    unit "$IMG" $n.service
done
mkdir -p "$S/root/opt/rlinks" "$S/root/run"
ln -s /opt/imgs/ry "$S/root/opt/rlinks/ry"
ln -s /opt/rlinks "$S/root/run/portables"
steps 'list' 'inspect ry' '--no-reload --runtime attach /opt/imgs/rx' 'list' 'is-attached rx' \
      '--no-reload --runtime attach ry' 'list' '--no-reload --runtime detach /opt/imgs/rx' '--no-reload --runtime detach ry' 'list'

#@ scenario x-searchpath-usrlib-file
new x-searchpath-usrlib-file "/usr/lib/portables (the last search directory) is a regular file: list, inspect/attach/detach of the image uf in /var/lib/portables (found before the broken directory), inspect of a missing name, and the image management verbs on a missing name (read-only, remove, set-limit)."
plainimg uf
mkdir -p "$S/root/usr/lib"
printf 'not a directory\n' > "$S/root/usr/lib/portables"
steps 'list' 'inspect uf' 'inspect nosuch' '--no-reload attach uf' 'is-attached uf' '--no-reload detach uf' \
      'read-only nosuch' 'remove nosuch' 'set-limit nosuch 1G' 'read-only uf no' 'list'

#@ scenario x-searchpath-chained-links
new x-searchpath-chained-links "Search directories behind chains of links: /etc/portables -> /opt/l1 -> /opt/l2 (a directory holding so -> /opt/so), /var/lib/portables -> ../opt/pool (a relative link; the pool holds the directory image sw). list, inspect of both by name, attach/is-attached/detach of both."
img /opt/so
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" so.service
img /opt/pool/sw
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" sw.service
mkdir -p "$S/root/opt/l2" "$S/root/etc" "$S/root/var/lib"
ln -s /opt/so "$S/root/opt/l2/so"
ln -s /opt/l2 "$S/root/opt/l1"
ln -s /opt/l1 "$S/root/etc/portables"
ln -s ../../opt/pool "$S/root/var/lib/portables"
steps 'list' 'inspect so' 'inspect sw' '--no-reload attach so' '--no-reload attach sw' 'list' 'is-attached so' \
      '--no-reload detach so' '--no-reload detach sw' 'list'

#@ scenario x-searchpath-run-file-detach
new x-searchpath-run-file-detach "/run/portables is a regular file: runtime attach of /var/lib/portables/rq by path (no image link can be made), is-attached, runtime detach (257/262 remember the failing link removal and fail at the end), is-attached; then a persistent attach and detach by path, which never look at /run/portables."
plainimg rq
mkdir -p "$S/root/run"
printf 'not a directory\n' > "$S/root/run/portables"
steps '--no-reload --runtime attach /var/lib/portables/rq' 'is-attached /var/lib/portables/rq' \
      '--no-reload --runtime detach /var/lib/portables/rq' 'is-attached /var/lib/portables/rq' \
      '--no-reload attach /var/lib/portables/rq' '--no-reload detach /var/lib/portables/rq'

#@ scenario x-searchpath-imgmgmt
new x-searchpath-imgmgmt "The image management verbs when /etc/portables is a regular file: by name (the lookup fails), by absolute path of the image mp in /var/lib/portables (read-only no, set-limit, remove), list."
plainimg mp
plainimg mq
mkdir -p "$S/root/etc"
printf 'not a directory\n' > "$S/root/etc/portables"
steps 'read-only mp no' 'remove mp' 'set-limit mp 1G' 'read-only /var/lib/portables/mp no' \
      'set-limit /var/lib/portables/mp 1G' 'remove /var/lib/portables/mp' '!ls $ROOT/var/lib/portables' 'list'

#@ scenario x-cli-getopt
new x-cli-getopt "More of portablectl's option parsing per version: an abbreviated long option (--no-leg), an ambiguous one (--no), a flag given an argument (--quiet=1), clustered short options with an attached argument (-qpstrict), a separate option argument (--profile strict), -- before the verb, --help and --version after other options and before each other, --copy=help before and after an unknown option, an unknown long option with a value (--frob=x), an invalid profile as a short option's argument, an empty --extension=."
plainimg cg
steps '--no-leg list' '--no list' '--quiet=1 list' '-qpstrict inspect cg' '--profile strict inspect cg' '-- inspect cg' \
      'list --help' '--version --help' '--help --version' '--copy=help --frob' '--frob --copy=help' \
      '--frob=x list' '-pfoo/bar inspect cg' '--extension= inspect cg'

#@ scenario x-cli-verb-args
new x-cli-verb-args "Arguments the image management verbs parse or pass on: read-only of the squashfs image cb.raw with the booleans ON, t, 0 and maybe (a raw image's read-only flag is its file mode); read-only of a relative path and of an empty name, remove '' (252/257 send them to portabled as they are, 262 normalizes them first); set-limit sizes 1.5G, '1G 512M', none, 512, -1, 10%, 1Q and ''; detach and is-attached with a missing --extension path."
plainimg ca
mksrc "$S/src-cb" "CB OS" cb.service
sqbuild src-cb /var/lib/portables/cb.raw
steps 'read-only cb ON' 'list' 'read-only cb t' 'read-only cb 0' 'read-only cb maybe' 'list' 'read-only ./ca' "read-only ''" \
      "remove ''" 'set-limit ca 1.5G' "set-limit ca '1G 512M'" 'set-limit ca none' 'set-limit ca 512' 'set-limit ca -1' \
      'set-limit ca 10%' 'set-limit ca 1Q' "set-limit ca ''" \
      '--no-reload detach --extension=/nonexistent/x ca' 'is-attached --extension=/nonexistent/x ca' 'list'

#@ scenario x-vpick-version-order
new x-vpick-version-order "Version order inside a .v directory: vo.v holds the directory images vo_1.9, vo_1.10, vo_1.2~rc1 and vo_1.2^post (~ sorts before everything, ^ after). list, inspect by name and by path, attach by path, list, detach."
for v in 1.9 1.10 1.2~rc1 1.2^post; do ventry "$S/root/var/lib/portables/vo.v" "vo_$v"; done
chmod 0700 "$S/root/var/lib/portables"
steps 'list' 'inspect vo' 'inspect /var/lib/portables/vo.v' '--no-reload attach /var/lib/portables/vo.v' 'list' \
      '--no-reload detach /var/lib/portables/vo.v'

#@ scenario x-vpick-raw-in-plain-v
new x-vpick-raw-in-plain-v "A plain NAME.v directory that holds only raw images: rv.v with the squashfs images rv_1.raw and rv_2.raw. list, inspect by name and by path, attach by path, is-attached, list, detach."
mksrc "$S/src-rv1" "RV OS 1" rv.service
mksrc "$S/src-rv2" "RV OS 2" rv.service
sqbuild src-rv1 /var/lib/portables/rv.v/rv_1.raw src-rv2 /var/lib/portables/rv.v/rv_2.raw
steps 'list' 'inspect rv' 'inspect /var/lib/portables/rv.v' '--no-reload attach /var/lib/portables/rv.v' \
      'is-attached /var/lib/portables/rv.v' 'list' '--no-reload detach /var/lib/portables/rv.v'

#@ scenario x-vpick-extension-raw
new x-vpick-extension-raw "A versioned RAW extension: xr.raw.v holds the squashfs extensions xr_1.raw and xr_2.raw (extension-release.xr, so 257+ match it without the version), on the directory base vb. inspect and attach with --extension=/var/lib/portables/xr.raw.v, is-attached, list, detach."
plainimg vb
for v in 1 2; do
    mkdir -p "$S/src-xr$v"
    extrel "$S/src-xr$v" xr 'ID=debian' 'VERSION_ID=12' "SYSEXT_VERSION_ID=$v"
    unit "$S/src-xr$v" vb-x.service
done
sqbuild src-xr1 /var/lib/portables/xr.raw.v/xr_1.raw src-xr2 /var/lib/portables/xr.raw.v/xr_2.raw
steps 'inspect --extension=/var/lib/portables/xr.raw.v vb' '--no-reload attach --extension=/var/lib/portables/xr.raw.v vb' \
      'is-attached --extension=/var/lib/portables/xr.raw.v vb' 'list' '--no-reload detach --extension=/var/lib/portables/xr.raw.v vb'

#@ scenario x-rawext-osrel-variants
new x-rawext-osrel-variants "More RAW (squashfs) extensions on the directory base rc: ya has etc/os-release -> ../usr/lib/os-release with usr/lib/os-release and extension-release.ya; yb an EMPTY usr/lib/os-release and extension-release.yb; yc usr/lib/os-release -> ../../etc/os-release (a regular file) and extension-release.yc; yd no release file at all; ye only extension-release.other (a name that does not match; --force accepts it for raw extensions). inspect and attach/detach with each, --force with ye, inspect of yd as a base image."
plainimg rc
for x in ya yb yc yd ye; do mkdir -p "$S/src-$x"; unit "$S/src-$x" rc-$x.service; done
osrel "$S/src-ya" 'PRETTY_NAME="YA OS"' 'ID=debian' 'VERSION_ID=12'
extrel "$S/src-ya" ya 'ID=debian' 'VERSION_ID=12'
mkdir -p "$S/src-yb/usr/lib"; : > "$S/src-yb/usr/lib/os-release"
extrel "$S/src-yb" yb 'ID=debian' 'VERSION_ID=12'
mkdir -p "$S/src-yc/etc" "$S/src-yc/usr/lib"
printf '%s\n' 'PRETTY_NAME="YC OS"' 'ID=debian' > "$S/src-yc/etc/os-release"
ln -s ../../etc/os-release "$S/src-yc/usr/lib/os-release"
extrel "$S/src-yc" yc 'ID=debian' 'VERSION_ID=12'
extrel "$S/src-ye" other 'ID=debian' 'VERSION_ID=12'
sqbuild src-ya /var/lib/portables/ya.raw src-yb /var/lib/portables/yb.raw src-yc /var/lib/portables/yc.raw \
        src-yd /var/lib/portables/yd.raw src-ye /var/lib/portables/ye.raw
STEPS=()
for x in ya yb yc yd ye; do
    STEPS+=("inspect --extension=/var/lib/portables/$x.raw rc" "--no-reload attach --extension=/var/lib/portables/$x.raw rc"
            "--no-reload detach --extension=/var/lib/portables/$x.raw rc")
done
steps "${STEPS[@]}" '--no-reload --force attach --extension=/var/lib/portables/ye.raw rc' \
      '--no-reload --force detach --extension=/var/lib/portables/ye.raw rc' 'inspect yd'

#@ scenario x-rawext-base-noosrel
new x-rawext-base-noosrel "RAW base images without the os-release a base needs: zb.raw holds only units, zc.raw an etc/os-release that is a dangling symlink. inspect and attach of each (252/257 say the image lacks os-release data, 262 reports the dissection's errno), list."
mkdir -p "$S/src-zb" "$S/src-zc/etc"
unit "$S/src-zb" zb.service
unit "$S/src-zc" zc.service
ln -s /nonexistent/os-release "$S/src-zc/etc/os-release"
sqbuild src-zb /var/lib/portables/zb.raw src-zc /var/lib/portables/zc.raw
steps 'inspect zb' '--no-reload attach zb' 'inspect zc' '--no-reload attach zc' 'list'

#@ scenario x-imgmgmt-settings
new x-imgmgmt-settings "What remove deletes besides the image: the directory image ms with ms.nspawn in /etc/systemd/nspawn, in /run/systemd/nspawn and next to the image, and ms.roothash, ms.usrhash, ms.verity next to it; the squashfs image mt.raw with mt.nspawn, mt.roothash, mt.usrhash, mt.verity, mt.roothash.p7s, mt.usrhash.p7s, mt.usr.verity, mt.verity.sig, mt.conf and mt.raw.nspawn next to it. remove each, list."
plainimg ms
mkdir -p "$S/root/etc/systemd/nspawn" "$S/root/run/systemd/nspawn"
for f in /etc/systemd/nspawn/ms.nspawn /run/systemd/nspawn/ms.nspawn /var/lib/portables/ms.nspawn /var/lib/portables/ms.roothash \
         /var/lib/portables/ms.usrhash /var/lib/portables/ms.verity \
         /var/lib/portables/mt.nspawn /var/lib/portables/mt.roothash /var/lib/portables/mt.usrhash /var/lib/portables/mt.verity \
         /var/lib/portables/mt.roothash.p7s /var/lib/portables/mt.usrhash.p7s /var/lib/portables/mt.usr.verity \
         /var/lib/portables/mt.verity.sig /var/lib/portables/mt.conf /var/lib/portables/mt.raw.nspawn; do
    printf 'settings\n' > "$S/root$f"
done
chmod 0700 "$S/root/var/lib/portables"
mksrc "$S/src-mt" "MT OS" mt.service
sqbuild src-mt /var/lib/portables/mt.raw
steps 'remove ms' 'remove mt' 'list'

#@ scenario x-imgmgmt-paths
new x-imgmgmt-paths "The image management verbs with other image arguments: absolute paths (mo in /opt/images, outside the search path; mp in /var/lib/portables), the versioned directory mv.v by name and by path, the hidden image .mh, and a raw image by its file name mr.raw. read-only no, set-limit, remove; list."
img /opt/images/mo
osrel "$IMG" "${DEBIAN[@]}"
unit "$IMG" mo.service
plainimg mp
plainimg .mh mh.service
for v in 1 2; do ventry "$S/root/var/lib/portables/mv.v" "mv_$v"; done
chmod 0700 "$S/root/var/lib/portables"
mksrc "$S/src-mr" "MR OS" mr.service
sqbuild src-mr /var/lib/portables/mr.raw
steps 'list' 'read-only /opt/images/mo no' 'set-limit /opt/images/mo 1G' 'remove /opt/images/mo' \
      'read-only mv no' 'set-limit /var/lib/portables/mv.v 1G' 'remove mv' 'list' 'remove /var/lib/portables/mv.v' \
      'read-only .mh no' 'remove .mh' 'read-only mr.raw' 'list' 'remove mr.raw' 'remove /var/lib/portables/mp' 'list'

#@ scenario x-imgmgmt-raw-modes
new x-imgmgmt-raw-modes "read-only of raw images with other file modes: m6.raw 0600, m4.raw 0640, mx.raw 0755, mr.raw 0444 (already read-only). list, read-only of each, list, read-only no of each, list."
for n in m6 m4 mx mr; do mksrc "$S/src-$n" "$n OS" $n.service; done
sqbuild src-m6 /var/lib/portables/m6.raw src-m4 /var/lib/portables/m4.raw src-mx /var/lib/portables/mx.raw src-mr /var/lib/portables/mr.raw
printf 'chmod 0600 "$L/var/lib/portables/m6.raw"\nchmod 0640 "$L/var/lib/portables/m4.raw"\nchmod 0755 "$L/var/lib/portables/mx.raw"\nchmod 0444 "$L/var/lib/portables/mr.raw"\n' >> "$S/build"
steps 'list' 'read-only m6' 'read-only m4' 'read-only mx' 'read-only mr' 'list' \
      'read-only m6 no' 'read-only m4 no' 'read-only mx no' 'read-only mr no' 'list'

#@ scenario x-imgmgmt-remove-states
new x-imgmgmt-remove-states "remove of images in other attached states: rr attached at runtime only; the extension image xs while attached with the base rs; rs through the path of its link /etc/portables/rs; the image rd whose unit file was removed by hand (only its drop-in directory is left). detach and remove afterwards; list."
plainimg rr
plainimg rs
plainimg rd
img /var/lib/portables/xs
extrel "$IMG" xs 'ID=debian' 'VERSION_ID=12'
unit "$IMG" rs-x.service
steps '--no-reload --runtime attach rr' 'remove rr' '--no-reload --runtime detach rr' \
      '--no-reload attach --extension=/var/lib/portables/xs rs' 'remove xs' 'remove /etc/portables/rs' \
      '--no-reload detach --extension=/var/lib/portables/xs rs' \
      '--no-reload attach rd' '!rm $ROOT/etc/systemd/system.attached/rd.service' 'remove rd' 'is-attached rd' \
      '--no-reload detach rd' 'remove rr' 'remove xs' 'list'

#@ scenario x-special-files
new x-special-files "--copy=mixed of a directory image holding a FIFO and a UNIX socket (made by the build script): portabled's tree copy makes them as nodes in /etc/portables/sf, with their modes, and detach removes the copy. A second image gets its own copy next to it; list shows both."
minver 257
for n in sf sg; do
    img /var/lib/portables/$n
    osrel "$IMG" "${DEBIAN[@]}"
    unit "$IMG" $n.service
done
cat > "$S/build" <<EOF
set -e
L=\$1
for n in sf sg; do
    mkdir -p "\$L/var/lib/portables/\$n/run/sub"
    mkfifo -m 0640 "\$L/var/lib/portables/\$n/run/fifo"
    # bound by a relative name: a socket path may be at most 107 bytes long
    (cd "\$L/var/lib/portables/\$n/run/sub" && python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock")')
    chmod 0755 "\$L/var/lib/portables/\$n/run/sub/sock"
done
chmod 0700 "\$L/var/lib/portables"
EOF
steps '--no-reload --copy=mixed attach sf' 'is-attached sf' '--no-reload --copy=mixed attach sg' 'list' \
      '--no-reload detach sf' '--no-reload detach sg' 'list'

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

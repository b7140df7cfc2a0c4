#!/bin/bash
# Install the Debian packages portablekit's tests need, if they are missing:
# squashfs-tools, erofs-utils, e2fsprogs and fdisk build the raw sample and scenario images.
# Extra package names can be passed as arguments.
set -euo pipefail
# extra package names may be given as arguments (e.g. python3-venv)
need=("$@")
command -v mksquashfs >/dev/null 2>&1 || need+=(squashfs-tools)
command -v mkfs.erofs >/dev/null 2>&1 || [ -x /usr/sbin/mkfs.erofs ] || need+=(erofs-utils)
command -v mkfs.ext4 >/dev/null 2>&1 || [ -x /usr/sbin/mkfs.ext4 ] || need+=(e2fsprogs)
command -v sfdisk >/dev/null 2>&1 || [ -x /usr/sbin/sfdisk ] || need+=(fdisk)
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
SUDO=
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install-tools: missing ${need[*]} and not root (no sudo); install them with apt" >&2
        exit 1
    fi
fi
echo "install-tools: installing ${need[*]}" >&2
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"

"""The image management verbs: ``read-only``, ``remove`` and ``set-limit``, as plans.

portabled carries them out with ``discover-image.c``: the image is looked up like any other
(:func:`~portablekit.portabled.image.lookup_image`), an image below ``/usr`` is *vendor* and
refused with ``EROFS``, and the image is locked (:func:`plan_image_lock`: the lock directories
``/run/systemd/nspawn/locks`` stay behind) before anything changes.

* ``read-only`` of a raw image changes its file mode (``(mode & 0444) | 0200`` to make it
  writable again), following a link to the image; of a directory image it sets the file
  system's immutable flag, which a sandbox root cannot hold: the verb is refused with
  ``EOPNOTSUPP`` as on a file system without the flag (unsetting it succeeds and changes
  nothing). The flag is set on the image path without following a link, so an image reached
  through an ``/etc/portables`` link (252/257 keep that path) fails with ``ELOOP``.
* ``remove`` refuses an image that is not detached, then deletes it (the link itself where the
  image path is a link) and its settings files ``NAME.nspawn`` (in ``/etc/systemd/nspawn``,
  ``/run/systemd/nspawn`` and next to the image) and its verity files next to it
  (``NAME.roothash``; 262 also ``.usrhash``, ``.verity`` and the ``.p7s`` signatures).
* ``set-limit`` sets a btrfs quota: only subvolumes have one, and a sandbox root has none, so
  every image is refused with ``EOPNOTSUPP`` (after the vendor check), the pool (262) with
  ``Quota is only supported on btrfs.``.

>>> OpKind.CHMOD.removes
False
"""

from __future__ import annotations

import errno
from pathlib import PurePosixPath

from ..errors import ImagePathError, PortabledError
from ..source import FileKind
from .host import Host
from .image import Image, ImageKind, lookup_image
from .plan import Op, OpKind, Plan
from .state import ImageState, image_state

__all__ = [
    "LOCK_DIR",
    "plan_image_lock",
    "plan_read_only",
    "plan_remove",
    "pool_limit_error",
    "set_limit_error",
]

#: Where ``image_path_lock()`` keeps its global lock files (made 0700, its parent 0755).
LOCK_DIR = PurePosixPath("/run/systemd/nspawn/locks")


def plan_image_lock(host: Host, verb: str = "lock", image: str = "") -> Plan:
    """The directories an image lock leaves behind, as a plan (empty when they exist):
    ``/run/systemd/nspawn`` (0755) and ``/run/systemd/nspawn/locks`` (0700)."""
    ops = []
    for d in (*reversed(LOCK_DIR.parents), LOCK_DIR):
        if d != PurePosixPath("/") and host.kind(d) is None:
            ops.append(Op(OpKind.MKDIR, d, mode=0o700 if d == LOCK_DIR else 0o755))
    return Plan(verb, image, tuple(ops))


def _is_vendor(image: Image) -> bool:
    """``IMAGE_IS_VENDOR()``: the image lives below ``/usr``."""
    return image.path == PurePosixPath("/usr") or PurePosixPath("/usr") in image.path.parents


def _lookup(host: Host, name_or_path: str, verb: str) -> Image | Plan:
    """The image a management verb acts on: a name is searched (a ``NAME.v`` directory picks
    its entry), a path is taken as it is (a ``.v`` directory is then a directory image)."""
    try:
        return lookup_image(host, name_or_path, pick=False)
    except PortabledError as e:
        return Plan(verb, name_or_path, error=e)


def _locked(host: Host, image: Image, verb: str) -> tuple[Op, ...]:
    """The lock's directories, if the image can be stat()ed (a global lock is taken then)."""
    try:
        host.resolve(image.path)
    except ImagePathError:
        return ()
    if host.kind(image.path) is None:
        return ()
    return plan_image_lock(host, verb, str(image.path)).ops


def plan_read_only(host: Host, name_or_path: str, read_only: bool = True) -> Plan:
    """``portablectl read-only NAME [BOOL]`` (``MarkImageReadOnly``)."""
    found = _lookup(host, name_or_path, "read-only")
    if isinstance(found, Plan):
        return found
    img, path = found, str(found.path)
    hidden = img.name.startswith(".") and host.systemd.hidden_images_read_only
    if _is_vendor(img) or hidden:
        return Plan("read-only", path, error=PortabledError.from_errno(errno.EROFS))
    ops = _locked(host, img, "read-only")
    if img.kind.is_tree:
        if host.kind(img.path, follow=False) is FileKind.SYMLINK:
            # the immutable flag is set on the path itself, opened with O_NOFOLLOW
            return Plan("read-only", path, ops, error=PortabledError.from_errno(errno.ELOOP))
        if read_only:  # a sandbox root's file system holds no immutable flag
            return Plan(
                "read-only",
                path,
                ops,
                error=PortabledError.from_errno(
                    errno.EOPNOTSUPP, detail="the immutable flag cannot be set in a sandbox root"
                ),
            )
        return Plan("read-only", path, ops)
    if img.kind is ImageKind.RAW:
        real = host.resolve(img.path)
        mode = host.fs.lstat(real).mode
        new = (mode & 0o444) | (0 if read_only else 0o200)
        if new != mode:
            ops += (Op(OpKind.CHMOD, real, mode=new),)
        return Plan("read-only", path, ops)
    return Plan(
        "read-only",
        path,
        ops,
        error=PortabledError.from_errno(
            errno.EOPNOTSUPP, detail="a block device's read-only flag cannot be set in a sandbox"
        ),
    )


def plan_remove(host: Host, name_or_path: str) -> Plan:
    """``portablectl remove NAME`` (``RemoveImage``) of one image."""
    found = _lookup(host, name_or_path, "remove")
    if isinstance(found, Plan):
        return found
    img, path = found, str(found.path)
    try:
        state = image_state(host, path)
    except PortabledError as e:
        return Plan("remove", path, error=e)
    if state is not ImageState.DETACHED:
        return Plan(
            "remove",
            path,
            error=PortabledError.errno_message(
                errno.EBUSY, f"Image '{path}' is not detached, refusing."
            ),
        )
    if _is_vendor(img):
        return Plan("remove", path, error=PortabledError.from_errno(errno.EROFS))
    ops = list(_locked(host, img, "remove"))
    k = host.kind(img.path, follow=False)
    if img.kind.is_tree and k is FileKind.DIR:
        ops.append(Op(OpKind.REMOVE_TREE, img.path))
    elif not (img.kind is ImageKind.BLOCK and PurePosixPath("/dev") in img.path.parents):
        ops.append(Op(OpKind.UNLINK, img.path))
    aux = f"{img.name}.nspawn"
    suffixes = host.systemd.removed_image_auxiliaries
    for p in (
        PurePosixPath("/etc/systemd/nspawn") / aux,
        PurePosixPath("/run/systemd/nspawn") / aux,
        img.path.parent / aux,
        *(img.path.parent / f"{img.name}{suffix}" for suffix in suffixes),
    ):
        try:
            if host.kind(p, follow=False) not in (None, FileKind.DIR):
                ops.append(Op(OpKind.UNLINK, p))
        except ImagePathError:
            continue
    return Plan("remove", path, tuple(ops))


def set_limit_error(host: Host, name_or_path: str) -> PortabledError:
    """``portablectl set-limit NAME SIZE`` (``SetImageLimit``): always refused in a sandbox."""
    try:
        img = lookup_image(host, name_or_path, pick=False)
    except PortabledError as e:
        return e
    if _is_vendor(img):
        return PortabledError.from_errno(errno.EROFS)
    return PortabledError.from_errno(
        errno.EOPNOTSUPP, detail=f"{img.path}: quotas exist on btrfs subvolumes only"
    )


def pool_limit_error() -> PortabledError:
    """``portablectl set-limit SIZE`` (262, ``SetPoolLimit``): the pool is not on btrfs."""
    return PortabledError(
        "Quota is only supported on btrfs.",
        dbus_error="org.freedesktop.DBus.Error.NotSupported",
        errno=errno.EOPNOTSUPP,
        detail="/var/lib/portables: quotas exist on btrfs only",
    )

"""From a row of a fleet table back to the image: the host it was judged on.

:func:`placed_host` opens one image of a scan again and places it on a fresh host of a version,
as the scan did, so the portablectl simulation, the image checks and the widgets can look at it
(``ImageExplorer(fleet.host("hosts/a/foo_1.2.raw"))``).
"""

from __future__ import annotations

from ..versions import Systemd
from .placed import CachingSource, DirectoryTree, PlacedHost, Templates
from .sources import ImageRef

__all__ = ["placed_host"]

_TEMPLATES: Templates | None = None


def placed_host(ref: ImageRef, systemd: Systemd) -> PlacedHost:
    """A fresh host of ``systemd`` with the image of ``ref`` at ``/var/lib/portables/FILE``.

    The image stays open as long as the host is used. Raises
    :class:`~portablekit.errors.ImagePathError` or :class:`OSError` when it cannot be opened,
    :class:`ValueError` for a row that is no image.
    """
    global _TEMPLATES
    if ref.error_type is not None:
        raise ValueError(f"{ref.image}: no image to open ({ref.error})")
    if _TEMPLATES is None:
        _TEMPLATES = Templates()
    if ref.kind == "directory":
        label = f"/var/lib/portables/{ref.file_name}"
        tree = CachingSource(DirectoryTree(ref.location, label))
        return _TEMPLATES.place(systemd, ref.file_name, tree=tree)
    if ref.remote:
        from .remote import open_remote

        remote = open_remote(ref.location)
        return _TEMPLATES.place(systemd, ref.file_name, file=remote, size=remote.size)  # type: ignore[arg-type]
    f = open(ref.location, "rb")  # noqa: SIM115 - kept open for the host's lifetime
    size = f.seek(0, 2)
    return _TEMPLATES.place(systemd, ref.file_name, file=f, size=size)

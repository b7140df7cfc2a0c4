"""Whole trees through descriptors: copying a directory image (``--copy=mixed``) and removing a
tree, never following a link, every change through :data:`~portablekit.sandbox.fs.SYSCALLS`.

Both walk with a stack of descriptors instead of recursion (an image may be deep), and report
the entry that failed as ``OSError.filename``: the ``where`` given plus its path below the
tree. A copy makes FIFOs, sockets and device nodes as nodes, as portabled's tree copy does,
instead of reading them (reading ``/dev/zero`` would never end).
"""

from __future__ import annotations

import errno
import os
import stat as _stat
from collections.abc import Iterator

from .fs import O_READ_DIR, O_READ_FILE, SYSCALLS, lstat_at

__all__ = ["copy_file", "copy_tree", "make_node", "remove_tree"]


def _err(err: int, where: str) -> OSError:
    return OSError(err, os.strerror(err), where)


_CHUNK = 1 << 20


def _open_dir_for_removal(parent: int, name: str, where: str) -> int:
    fd = os.open(name, O_READ_DIR, dir_fd=parent)
    try:
        mode = os.fstat(fd).st_mode
        if mode & 0o700 != 0o700:  # a read-only directory of an image copy: ours to remove
            SYSCALLS.fchmod(fd, _stat.S_IMODE(mode) | 0o700, where)
    except BaseException:
        os.close(fd)
        raise
    return fd


def remove_tree(parent: int, name: str, where: str = "") -> None:
    """Remove ``name`` and, for a directory, everything below it, never following a link
    (nothing is done if it is missing)."""
    st = lstat_at(parent, name)
    if st is None:
        return
    if not _stat.S_ISDIR(st.st_mode):
        SYSCALLS.unlink(name, parent)
        return
    top = _open_dir_for_removal(parent, name, where)
    stack: list[tuple[int, str, int, Iterator[str], str]] = [
        (parent, name, top, iter(os.listdir(top)), where)
    ]
    try:
        while stack:
            pfd, dname, dfd, names, dwhere = stack[-1]
            for n in names:
                sub_where = f"{dwhere}/{n}"
                sst = lstat_at(dfd, n)
                if sst is None:
                    continue
                if _stat.S_ISDIR(sst.st_mode):
                    sub = _open_dir_for_removal(dfd, n, sub_where)
                    stack.append((dfd, n, sub, iter(os.listdir(sub)), sub_where))
                    break
                SYSCALLS.unlink(n, dfd)
            else:
                stack.pop()
                os.close(dfd)
                SYSCALLS.rmdir(dname, pfd)
    finally:
        for _, _, dfd, _, _ in stack:
            os.close(dfd)


def _times(st: os.stat_result) -> tuple[int, int]:
    return (st.st_atime_ns, st.st_mtime_ns)


def copy_file(
    src_fd: int, dst_dir: int, name: str, where: str = "", *, mode: int | None = None
) -> None:
    """Copy the open regular file ``src_fd`` to the new file ``name`` (holes, times and
    extended attributes kept where the file system allows; the mode too, unless ``mode``)."""
    st = os.fstat(src_fd)
    out = SYSCALLS.create(name, dst_dir)
    try:
        _copy_data(src_fd, out, st.st_size, where)
        _copy_xattrs(src_fd, out, where)
        SYSCALLS.fchmod(out, _stat.S_IMODE(st.st_mode) if mode is None else mode, where)
        SYSCALLS.futimes(out, _times(st), where)
    finally:
        os.close(out)


def _copy_data(src: int, dst: int, size: int, where: str) -> None:
    """Copy ``size`` bytes keeping holes: disk images are mostly holes, and ``list`` reports the
    space a raw image really takes."""
    pos = 0
    while pos < size:
        try:
            data_at = os.lseek(src, pos, os.SEEK_DATA)
        except OSError:  # only holes left (ENXIO), or no SEEK_DATA support
            break
        try:
            hole_at = os.lseek(src, data_at, os.SEEK_HOLE)
        except OSError:
            hole_at = size
        at = data_at
        while at < hole_at:
            chunk = os.pread(src, min(hole_at - at, _CHUNK), at)
            if not chunk:
                break
            SYSCALLS.pwrite(dst, chunk, at, where)
            at += len(chunk)
        pos = hole_at
    SYSCALLS.ftruncate(dst, size, where)


def _copy_xattrs(src: int, dst: int, where: str) -> None:
    try:
        names = os.listxattr(src)
    except OSError:
        return
    for attr in names:
        try:
            SYSCALLS.setxattr(dst, attr, os.getxattr(src, attr), where)
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.ENODATA, errno.EACCES):
                raise


def make_node(dst_dir: int, name: str, st: os.stat_result, where: str = "") -> None:
    """Create a FIFO, socket or device node like ``st`` (type, mode, device number), as
    portabled's tree copy does; device nodes need the privilege to make them."""
    SYSCALLS.mknod(name, _stat.S_IFMT(st.st_mode) | 0o600, st.st_rdev, dst_dir)
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dst_dir)
    try:
        if _stat.S_IFMT(os.fstat(fd).st_mode) != _stat.S_IFMT(st.st_mode):
            raise _err(errno.EEXIST, where)  # not the node just made
        SYSCALLS.chmod_path_fd(fd, _stat.S_IMODE(st.st_mode), where)
    finally:
        os.close(fd)
    SYSCALLS.lutimes(name, _times(st), dst_dir)


def copy_tree(src_dir: int, dst_parent: int, name: str, where: str = "") -> None:
    """Copy the directory open as ``src_dir`` to the new directory ``name`` of ``dst_parent``:
    directories, files (holes kept), links as links, FIFOs, sockets and device nodes as nodes,
    with modes and times; links are never followed. ``OSError.filename`` names the entry that
    failed, as ``where`` plus its path below the tree."""
    top_st = os.fstat(src_dir)
    SYSCALLS.mkdir(name, 0o700, dst_parent)
    top = os.open(name, O_READ_DIR, dir_fd=dst_parent)
    src_top = os.open(".", O_READ_DIR, dir_fd=src_dir)
    stack: list[tuple[int, int, os.stat_result, Iterator[str], str]] = [
        (src_top, top, top_st, iter(sorted(os.listdir(src_top), key=os.fsencode)), where)
    ]
    try:
        while stack:
            sfd, dfd, dst_st, names, dwhere = stack[-1]
            for n in names:
                sub = f"{dwhere}/{n}"
                try:
                    st = os.stat(n, dir_fd=sfd, follow_symlinks=False)
                    if _stat.S_ISDIR(st.st_mode):
                        s2 = os.open(n, O_READ_DIR, dir_fd=sfd)
                        try:
                            SYSCALLS.mkdir(n, 0o700, dfd)
                            d2 = os.open(n, O_READ_DIR, dir_fd=dfd)
                        except BaseException:
                            os.close(s2)
                            raise
                        listing = iter(sorted(os.listdir(s2), key=os.fsencode))
                        stack.append((s2, d2, st, listing, sub))
                        break
                    if _stat.S_ISREG(st.st_mode):
                        f = os.open(n, O_READ_FILE, dir_fd=sfd)
                        try:
                            if not _stat.S_ISREG(os.fstat(f).st_mode):
                                raise _err(errno.EINVAL, sub)  # swapped meanwhile
                            copy_file(f, dfd, n, sub)
                        finally:
                            os.close(f)
                    elif _stat.S_ISLNK(st.st_mode):
                        SYSCALLS.symlink(os.readlink(n, dir_fd=sfd), n, dfd)
                        SYSCALLS.lutimes(n, _times(st), dfd)
                    else:
                        make_node(dfd, n, st, sub)
                except OSError as e:
                    if e.filename is None or e.filename == n:
                        raise _err(e.errno or errno.EIO, sub) from None
                    raise
            else:
                stack.pop()
                SYSCALLS.fchmod(dfd, _stat.S_IMODE(dst_st.st_mode), dwhere)
                SYSCALLS.futimes(dfd, _times(dst_st), dwhere)
                os.close(sfd)
                os.close(dfd)
    finally:
        for sfd, dfd, _, _, _ in stack:
            os.close(sfd)
            os.close(dfd)

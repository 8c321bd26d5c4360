"""A folder replaced whole: filled beside it under a private name, then
swapped in with one rename, so readers see the old folder or the new one,
never a mix and (where the system swaps in one step) never nothing.

Several builds may write the same folder at once: each fills its own staging
folder, and the last one to finish is the one left. Each build holds an
``flock`` on its staging folder for as long as it lives. The kernel drops the
lock when the build and its forked writers end, however they end, so a free
lock proves the owner dead: a build removes the leftovers whose lock is free,
never those of a build still running. (A pid in the name would not prove it:
pids are reused, and another container's pids are not ours.)
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import glob
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from calfeed import libc

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP}
# flock on a folder where the file system keeps no such locks (NFS emulates
# them with write locks, which a folder opened for reading cannot take).
_NO_LOCKS = {errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP}
# Enough for any number of builds racing for one folder; a loop never spins for good.
ATTEMPTS = 100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux renameat2); False where the system
    or the file system cannot."""
    if libc.renameat2 is None:
        return False
    if libc.renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(second))


def _names(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the folder open as ``fd``."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _lock(path: Path, wait: bool, owner: bool = True) -> int | None:
    """A descriptor holding the folder's lock; None if the folder is gone,
    or (without ``wait``) if a live process holds the lock. Where the file
    system keeps no locks on folders (NFS may not), an ``owner`` goes on
    without one, and anyone else gets None: nothing proves the owner dead."""
    for _ in range(ATTEMPTS):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except OSError as error:
            if error.errno not in _NO_LOCKS or not owner:
                os.close(fd)
            if error.errno not in _NO_LOCKS:
                raise
            if not owner:
                return None
        # The name may have moved to another folder while we waited.
        if _names(fd, path):
            return fd
        os.close(fd)
        if not wait:
            return None
    raise OSError(errno.EAGAIN, "the folder kept changing while calfeed tried to lock it", str(path))


def remove_leftovers(out: Path) -> list[Path]:
    """Remove the staging and retired folders beside ``out`` that builds
    which died left behind; the ones removed."""
    removed = []
    pattern = glob.escape(str(out.parent / f".{out.name}."))
    for leftover in sorted(glob.glob(pattern + "new-*") + glob.glob(pattern + "old-*")):
        fd = _lock(Path(leftover), wait=False, owner=False)
        if fd is None:  # its build is running (or another build removes it right now)
            continue
        try:
            shutil.rmtree(leftover, ignore_errors=True)
            removed.append(Path(leftover))
        finally:
            os.close(fd)
    return removed


class Staging:
    """A new, locked folder beside ``out`` to fill (dead builds' leftovers
    removed first); ``put_in_place()`` swaps it for ``out``. Used as a context
    manager: on the way out the folder is removed unless it was put in place,
    and the locks are released."""

    def __init__(self, out: Path):
        self.out = out
        remove_leftovers(out)
        self._locks: list[int] = []
        self._placed = False
        for _ in range(ATTEMPTS):
            path = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
            fd = _lock(path, wait=False)
            if fd is not None:
                self.path = path
                self._locks.append(fd)
                return
            # A build removing leftovers took it in the instant before we
            # locked it, and removes it: make another.
        raise OSError(errno.EAGAIN, "no staging folder could be kept", str(out.parent))

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        try:
            if not self._placed:
                shutil.rmtree(self.path, ignore_errors=True)
        finally:
            for fd in self._locks:
                os.close(fd)
            self._locks.clear()

    def put_in_place(self) -> None:
        """Make the staging folder ``out``, and remove what ``out`` was."""
        self.path.chmod(0o755)  # mkdtemp made it private
        retired = self._swap()
        self._placed = True
        # It is ``out`` now, no leftover: a build swapping next need not wait
        # until the old site is removed.
        os.close(self._locks.pop(0))
        for path in retired:
            shutil.rmtree(path, ignore_errors=True)

    def _swap(self) -> list[Path]:
        """Swap, holding the lock of the folder that ``out`` was (another
        build swapping at the same moment waits for it, and it stays locked
        under its retired name until removed); the retired folders."""
        retired: list[Path] = []
        for attempt in range(ATTEMPTS):
            fd = _lock(self.out, wait=True)
            if fd is None:  # nothing there yet
                try:
                    os.rename(self.path, self.out)
                    return retired
                except OSError as error:
                    if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                        raise
                    continue  # another build put its site there first: swap with it
            self._locks.append(fd)
            try:
                if _exchange(self.path, self.out):
                    return [*retired, self.path]  # the staging name now holds the old site
            except FileNotFoundError:
                continue
            # No swap in one step here: move the old site aside, then put ours
            # in its place; in between, ``out`` is missing.
            aside = self.out.with_name(f".{self.out.name}.old-{self.path.name.rsplit('-', 1)[-1]}-{attempt}")
            os.rename(self.out, aside)
            retired.append(aside)
        raise OSError(errno.EAGAIN, "other builds kept replacing the folder", str(self.out))

"""When a save of events.toml is over, as the kernel tells it (inotify).

A save ends when the writer closes the file (``IN_CLOSE_WRITE``: a write in
several chunks fires ``IN_MODIFY`` many times and this once) or renames a
finished file onto it (``IN_MOVED_TO``: editors and calfeed's own editor
save so). With that, a reload need not wait for the file to stay unchanged
for a while. Where no such signal exists (no inotify, a network file system,
whose other machines' writes fire nothing here) ``Saves.over`` is never
true and the store keeps waiting for the file to settle.

The folders are watched rather than the file, since a save by rename puts a
new file there; for a symlinked events.toml both the link's folder and the
target's are watched. One inotify instance per process (a user may open
only 128), shared by every file it watches, made again in a forked child.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import weakref
from pathlib import Path

log = logging.getLogger("calfeed")

try:
    if sys.platform != "linux":
        raise ImportError("inotify is Linux's")
    from inotify_simple import INotify, flags
except ImportError:  # another platform: the store waits for the file to settle
    INotify = None  # type: ignore[assignment,misc]

# Mounts whose files other machines may write: their writes fire nothing here.
REMOTE_FILE_SYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "virtiofs", "ceph", "glusterfs", "lustre", "afs", "ncpfs", "coda", "gfs2", "ocfs2"}
)

if INotify is not None:
    _OVER = flags.CLOSE_WRITE | flags.MOVED_TO
    _WRITING = flags.MODIFY | flags.CREATE | flags.DELETE | flags.MOVED_FROM
    _MASK = _OVER | _WRITING | flags.ONLYDIR


def file_system(path: str) -> str | None:
    """The type of the file system holding ``path`` (``ext4``, ``nfs4``,
    ``fuse.sshfs``...), from /proc/self/mountinfo; None where unknown."""
    real = os.path.realpath(path)
    best, kind = "", None
    try:
        lines = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        fields, _, rest = line.partition(" - ")
        parts = fields.split(" ")
        if len(parts) < 5 or not rest:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda octal: chr(int(octal.group(1), 8)), parts[4])  # \040 for a space
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, rest.split(" ")[0]
    return kind


def signals_saves(folder: str) -> bool:
    """Whether the kernel tells of every save in ``folder``: not on a network
    file system nor through FUSE (sshfs and the like), whose changes made
    elsewhere fire no event here."""
    kind = file_system(folder)
    return kind is not None and kind not in REMOTE_FILE_SYSTEMS and not kind.startswith("fuse")


class _Kernel:
    """This process's inotify instance, and who listens to which file."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.inotify = INotify(nonblocking=True)  # close-on-exec: a command the editor runs inherits nothing
        self.listeners: dict[tuple[int, str], weakref.WeakSet[Saves]] = {}
        self.lock = threading.Lock()

    def watch(self, saves: Saves, folder: str, name: str) -> None:
        watch = self.inotify.add_watch(folder, _MASK)
        self.listeners.setdefault((watch, name), weakref.WeakSet()).add(saves)

    def unwatch(self, saves: Saves) -> None:
        """``saves`` no longer listens to the files it listened to."""
        for listeners in self.listeners.values():
            listeners.discard(saves)

    def drain(self) -> None:
        """Hand every event read so far to its listeners (never blocks)."""
        with self.lock:
            for event in self.inotify.read(timeout=0):
                if event.mask & flags.Q_OVERFLOW:  # events were lost: no save is known to be over
                    for listeners in self.listeners.values():
                        for saves in listeners:
                            saves.lost(watched=True)
                elif event.mask & flags.IGNORED:  # the folder went away: watch it again when it is back
                    for key in [key for key in self.listeners if key[0] == event.wd]:
                        for saves in self.listeners.pop(key):
                            saves.lost(watched=False)
                else:
                    for saves in self.listeners.get((event.wd, event.name), ()):
                        saves.told(event.mask)


_kernel: _Kernel | None = None
_kernel_lock = threading.Lock()


def _this_process() -> _Kernel | None:
    """The instance of this process: one inherited through a fork is the
    parent's (its events would be shared), so it is closed and made anew."""
    global _kernel
    with _kernel_lock:
        if _kernel is not None and _kernel.pid != os.getpid():
            _kernel.inotify.close()
            _kernel = None
        if _kernel is None and INotify is not None:
            try:
                _kernel = _Kernel()
            except OSError as error:  # no instance to spare (128 a user): wait for files to settle
                log.warning("calfeed: no inotify (%s); a save is served once the file has settled", error)
                return None
        return _kernel


class Saves:
    """What the kernel said about one file's saves since ``forget``."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._kernel: _Kernel | None = None  # the instance it listens to, once watching
        self._names: set[tuple[str, str]] = set()
        self._over = False
        self.heard = 0  # events heard about the file: a load trusts the signal only if none came while it read

    def _folders(self) -> set[tuple[str, str]]:
        """(folder, name) of the file and, when it is a symlink, of its target."""
        return {os.path.split(os.path.abspath(self.path)), os.path.split(os.path.realpath(self.path))}

    def _watching(self) -> bool:
        """Watch the file's folders in this process's instance, unless they
        are watched already. False when nothing heard so far can be trusted."""
        kernel = _this_process()
        names = self._folders()
        if kernel is not None and kernel is self._kernel:
            if names == self._names:
                return True
            # Relinked: the link's own event (heard by the watches so far) counts.
            kernel.drain()
            kept = self._over
        else:
            kept = False
        self._kernel, self._over = None, False
        if kernel is None or not all(signals_saves(folder) for folder, _ in names):
            return False
        kernel.unwatch(self)
        try:
            for folder, name in names:
                kernel.watch(self, folder, name)
        except OSError as error:  # a folder gone, or no watch to spare
            log.warning("calfeed: cannot watch %s (%s); a save is served once the file has settled", self.path, error)
            return False
        self._kernel, self._names, self._over = kernel, names, kept
        return True

    def over(self) -> bool:
        """True when, since ``forget``, a save of the file ended (closed after
        writing, or renamed into place) and nothing has written it since."""
        if not self._watching():
            return False
        self._kernel.drain()
        return self._over

    def forget(self) -> None:
        """The version on disk is taken: only a later save counts."""
        if self._watching():
            self._kernel.drain()
        self._over = False

    def told(self, mask: int) -> None:
        self._over = bool(mask & _OVER)
        self.heard += 1

    def lost(self, watched: bool) -> None:
        """Events were lost; with ``watched`` False the watch itself is gone."""
        self._over = False
        self.heard += 1
        if not watched:
            self._kernel = None

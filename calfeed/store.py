"""The last good calendar of one events.toml, reloaded when the file changes.

Each worker process decides on its own, from the file's metadata, so every
worker of every server reaches the same version without talking to the others.
A changed file is served once its save is over: at once when the kernel said
so (``calfeed.watch``: closed after writing, or renamed into place), else once
it has stopped changing for ``settle`` seconds; and only as read at that
version. An editor's save caught half-way (truncate, then write) is never
served, and a bad edit leaves the last good calendar in service.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from threading import Lock
from typing import NamedTuple

from calfeed import forked, ical, libc, loading
from calfeed.errors import CalendarErrors, Problem
from calfeed.forked import Forked
from calfeed.model import Calendar
from calfeed.published import Published
from calfeed.reuse import EventReuse, fingerprint
from calfeed.timezones import UTC
from calfeed.validation import build_calendar
from calfeed.watch import Saves

log = logging.getLogger("calfeed")

# Settling plus a load must fit in the contract's two seconds.
SETTLE_SECONDS = 0.75
# A child still loading after this long is stopped, and the worker loads itself.
LOAD_TIMEOUT = 60.0

LoadResult = Published | CalendarErrors


class Read(NamedTuple):
    """One reading of the file, and what it gave."""

    signature: tuple | None  # None when the file could not be read
    digest: bytes | None
    result: LoadResult


@dataclass(frozen=True)
class Snapshot:
    """What /healthz reports."""

    events: int
    loaded_at: datetime
    error: str | None


def _release_free_memory() -> None:
    """Hand freed heap memory back to the system (glibc keeps it otherwise:
    about 20 MiB per worker after a few edits of a 10,000-event file)."""
    if libc.malloc_trim is not None:
        libc.malloc_trim(0)


def _fingerprint_of(path: str) -> bytes | None:
    try:
        return fingerprint(Path(path).read_bytes())
    except OSError:
        return None


def _signature(stat: os.stat_result) -> tuple:
    return stat.st_mtime_ns, stat.st_size, stat.st_ino, stat.st_ctime_ns


class CalendarStore:
    """Serves ``current()``: the newest good version of the file.

    A change is loaded in a child process (``forked``) as soon as a request
    sees it, and put in service once the file has settled: an edit costs the
    settle time rather than the settle time plus a load that grows with the
    calendar, and the worker keeps no garbage from parsing. ``warm`` is
    called on each new version in the process that loads it, before it
    serves (the web app compiles its main feed there).
    """

    def __init__(
        self,
        path: str | Path,
        base_url: str | None = None,
        settle: float = SETTLE_SECONDS,
        clock: Callable[[], float] = time.time,
        warm: Callable[[Published], object] | None = None,
        signal: bool = True,
    ):
        self.path = str(path)
        self.base_url = base_url
        self.settle = settle
        self.clock = clock
        self.warm = warm
        # Watched before the first read: a save made while it loads is heard.
        self._saves = Saves(self.path) if signal else None
        if self._saves is not None:
            self._saves.forget()
        self._lock = Lock()  # one thread deciding at a time
        self._pending: tuple | None = None
        self._pending_since = 0.0
        self._loading: tuple[tuple | None, Forked | None] | None = None
        self._reuse = EventReuse()
        self._published: Published | None = None
        self.error: str | None = None
        read = self._load(self._start(None))
        if read is None or isinstance(read.result, CalendarErrors):
            raise read.result if read else CalendarErrors(self.path, [Problem("the file changed while being read", code="file-changed")])
        self._seen, self._published = read.signature, read.result
        self.loaded_at = self._now()
        # The zones' rules and each series' last date, kept by caches here
        # that every later loading process inherits instead of working them
        # out again (a tenth of a reload at 10,000 events).
        ical.head(self._published.calendar, self._published.calendar.events)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _read(self, settled: tuple | None = None) -> Read | None:
        """Read and compile the file. None when it is no longer the version
        that ``settled`` (a new save began) or changed while being read."""
        try:
            before = os.stat(self.path)
            raw = Path(self.path).read_bytes()
            after = os.stat(self.path)
        except OSError as error:
            return Read(None, None, CalendarErrors(self.path, [Problem(f"cannot read the file: {error.strerror}", code="unreadable-file")]))
        if _signature(before) != _signature(after) or settled is not None and _signature(before) != settled:
            return None
        signature, digest = _signature(after), fingerprint(raw)
        try:
            calendar = build_calendar(loading.decode(raw, self.path, fingerprints=True), self.base_url, self._reuse)
            published = Published(calendar, previous=self._published)
            if self.warm is not None:
                self.warm(published)
            return Read(signature, digest, published)
        except CalendarErrors as errors:
            return Read(signature, digest, errors)
        except Exception as error:  # a bug must not take the last good calendar down
            log.exception("calfeed: cannot load %s", self.path)
            return Read(signature, digest, CalendarErrors(self.path, [Problem(f"cannot load the file: {error!r}", code="internal-error")]))

    def _start(self, signature: tuple | None) -> tuple[tuple | None, Forked | None]:
        """Begin loading ``signature`` in a child process, where one can be
        made; without one, ``_load`` reads the file in this process."""
        if not forked.available():
            return signature, None
        try:
            return signature, Forked(lambda: (self._read(signature), self._reuse), shared=self._reuse.events)
        except OSError as error:  # no process to spare: the worker loads itself
            log.warning("calfeed: cannot start a loading process (%s)", error)
            return signature, None

    def _load(self, started: tuple[tuple | None, Forked | None]) -> Read | None:
        """The result of a load begun by ``_start``; read here when the child failed."""
        signature, child = started
        if child is not None:
            try:
                read, reuse = child.result(timeout=LOAD_TIMEOUT)
            except forked.ForkFailed as failure:
                log.warning("calfeed: %s; loading %s in the worker itself", failure, self.path)
            else:
                if read is not None and isinstance(read.result, Published):
                    self._reuse = reuse
                return read
        return self._read(signature)

    def current(self) -> Published:
        """The calendar to serve now: a changed file starts loading when a
        request first sees it, and serves once its save is over (that request
        waits for the load) or, without word from the kernel, once it has
        settled."""
        try:
            stat = os.stat(self.path)
        except OSError as error:
            self._fail(CalendarErrors(self.path, [Problem(f"cannot read the file: {error.strerror}", code="unreadable-file")]))
            return self._published
        signature = _signature(stat)
        if signature == self._seen or not self._lock.acquire(blocking=False):
            return self._published
        try:
            # Asked after the stat: a save begun before it has been heard of.
            over = self._saves is not None and self._saves.over()
            heard = self._saves.heard if over else 0
            now = self.clock()
            if signature != self._pending:
                self._pending, self._pending_since = signature, now
            quiet_on_disk = now - stat.st_mtime >= self.settle
            quiet_here = now - self._pending_since >= self.settle  # survives clock skew
            if self._loading is not None and self._loading[0] != signature:
                if self._loading[1] is not None:
                    self._loading[1].cancel()
                self._loading = None
            if self._loading is None:
                self._loading = self._start(signature)
            if over or quiet_on_disk or quiet_here:
                started, self._loading = self._loading, None
                read = self._load(started)
                if read is not None and read.digest is not None and read.digest != _fingerprint_of(self.path):
                    # Read before the save was over (its size and times already
                    # final, as they can be for a moment): read it again.
                    read = self._read(signature)
                if over and not (quiet_on_disk or quiet_here) and not (self._saves.over() and self._saves.heard == heard):
                    # Written again while it loaded (its stat may have been the
                    # start of a new save, heard of only now): not this version.
                    read = None
                if read is not None:
                    self._install(signature, read.result)
        finally:
            self._lock.release()
        return self._published

    def accept(self, calendar: Calendar, raw: bytes) -> bool:
        """Serve at once a calendar this process has just written and checked
        (the editor's save), without waiting for the file to settle. Nothing
        happens when the file no longer holds ``raw`` (changed again since):
        the usual reload takes over. True when installed."""
        with self._lock:
            try:
                before = os.stat(self.path)
                on_disk = Path(self.path).read_bytes()
                after = os.stat(self.path)
            except OSError:
                return False
            if _signature(before) != _signature(after) or fingerprint(on_disk) != fingerprint(raw):
                return False
            published = Published(calendar, previous=self._published)
            if self.warm is not None:
                self.warm(published)
            if self._loading is not None and self._loading[1] is not None:
                self._loading[1].cancel()
            self._loading = self._pending = None
            self._install(_signature(after), published)
        return True

    def _install(self, signature: tuple, loaded: LoadResult) -> None:
        if self._saves is not None:
            self._saves.forget()
        if isinstance(loaded, Published):
            # The version first: a thread that sees the new signature as seen
            # must find the new calendar.
            self._published, self.loaded_at, self.error = loaded, self._now(), None
            self._seen = signature
            _release_free_memory()  # the replaced version's feeds, megabytes each
            log.info("calfeed: loaded %s (%d events)", self.path, len(loaded.calendar.events))
        else:
            self._seen = signature
            self._fail(loaded)

    def _fail(self, errors: CalendarErrors) -> None:
        report = errors.report()
        if report != self.error:
            log.error("calfeed: keeping the last good calendar; %s", report)
        self.error = report

    def snapshot(self) -> Snapshot:
        return Snapshot(len(self._published.calendar.events), self.loaded_at, self.error)

"""The last good calendar of one events.toml, reloaded when the file changes.

Each worker process decides on its own, from the file's metadata, so every
worker of every server reaches the same version without talking to the others.
A changed file is read only once it has stopped changing for ``settle``
seconds: an editor's save caught half-way (truncate, then write) is never
loaded, and a bad edit leaves the last good calendar in service.
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

from calfeed import loading
from calfeed.errors import CalendarErrors, Problem
from calfeed.published import Published
from calfeed.timezones import UTC
from calfeed.validation import build_calendar

log = logging.getLogger("calfeed")

# Settling plus a load must fit in the contract's two seconds.
SETTLE_SECONDS = 0.75


@dataclass(frozen=True)
class Snapshot:
    """What /healthz reports."""

    events: int
    loaded_at: datetime
    error: str | None


def _signature(stat: os.stat_result) -> tuple:
    return stat.st_mtime_ns, stat.st_size, stat.st_ino, stat.st_ctime_ns


class CalendarStore:
    """Serves ``current()``: the newest good version of the file."""

    def __init__(
        self,
        path: str | Path,
        base_url: str | None = None,
        settle: float = SETTLE_SECONDS,
        clock: Callable[[], float] = time.time,
    ):
        self.path = str(path)
        self.base_url = base_url
        self.settle = settle
        self.clock = clock
        self._lock = Lock()
        self._pending: tuple | None = None
        self._pending_since = 0.0
        self.error: str | None = None
        published = self._read()
        if isinstance(published, CalendarErrors):
            raise published
        self._published, self.loaded_at = published, self._now()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _read(self, settled: tuple | None = None) -> Published | CalendarErrors | None:
        """Read and compile the file; None when it is no longer the version
        that ``settled`` (a new save began) or changed while being read."""
        try:
            before = os.stat(self.path)
            raw = Path(self.path).read_bytes()
            after = os.stat(self.path)
        except OSError as error:
            self._seen = None
            return CalendarErrors(self.path, [Problem(f"cannot read the file: {error.strerror}")])
        if _signature(before) != _signature(after) or settled is not None and _signature(before) != settled:
            return None
        self._seen = _signature(after)
        try:
            return Published(build_calendar(loading.decode(raw, self.path), self.base_url))
        except CalendarErrors as errors:
            return errors
        except Exception as error:  # a bug must not take the last good calendar down
            log.exception("calfeed: cannot load %s", self.path)
            return CalendarErrors(self.path, [Problem(f"cannot load the file: {error!r}")])

    def current(self) -> Published:
        """The calendar to serve now, reloading first if the file has settled."""
        try:
            stat = os.stat(self.path)
        except OSError as error:
            self._fail(CalendarErrors(self.path, [Problem(f"cannot read the file: {error.strerror}")]))
            return self._published
        signature = _signature(stat)
        if signature == self._seen:
            return self._published
        now = self.clock()
        if signature != self._pending:
            self._pending, self._pending_since = signature, now
        quiet_on_disk = now - stat.st_mtime >= self.settle
        quiet_here = now - self._pending_since >= self.settle  # survives clock skew
        if (quiet_on_disk or quiet_here) and self._lock.acquire(blocking=False):
            try:
                self._reload(signature)
            finally:
                self._lock.release()
        return self._published

    def _reload(self, settled: tuple) -> None:
        result = self._read(settled)
        if isinstance(result, Published):
            self._published, self.loaded_at, self.error = result, self._now(), None
            log.info("calfeed: loaded %s (%d events)", self.path, len(result.calendar.events))
        elif isinstance(result, CalendarErrors):
            self._fail(result)

    def _fail(self, errors: CalendarErrors) -> None:
        report = errors.report()
        if report != self.error:
            log.error("calfeed: keeping the last good calendar; %s", report)
        self.error = report

    def snapshot(self) -> Snapshot:
        return Snapshot(len(self._published.calendar.events), self.loaded_at, self.error)

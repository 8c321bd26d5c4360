"""One calendar version's feeds, each compiled once and kept as bytes.

The web app and ``calfeed build`` both take their bodies from here, so a
static build and a running server give identical files.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from threading import Lock

from calfeed import forked, ical, libc
from calfeed.model import Calendar, Event
from calfeed.occurrences import select
from calfeed.reuse import fingerprint

# Distinct filter combinations kept compiled; a client cannot grow it further.
FEED_CACHE_SIZE = 128
# Other answers kept (pages, events.json, embed lists), most recently asked
# first: at most this many, and at most this many bytes (a month page of a
# large calendar is 170 kB, its sitemap more than a megabyte).
KEPT_SIZE = 64
KEPT_BYTES = 4 * 2**20
# Making a body this large leaves megabytes of freed heap (a month page of
# 10,000 events, a sitemap) that glibc would keep: it is handed back (0.3 ms).
TRIM_AFTER = 64 * 2**10
GZIP_LEVEL = 6
# The whole feed is gzipped in segments that end after an event whose UID's
# CRC-32 is a multiple of this (some 64 events, 50 kB, on average): the ends
# depend on the events, not on byte offsets, so an edit changes the segments
# around it only, and a reload recompresses those alone.
SEGMENT_EVENTS = 64
# deflate looks back 32 kB: each segment is compressed with the 32 kB before
# it as a preset dictionary (as pigz does), so the pieces join into one
# stream that compresses as well as a single pass (within 1%).
WINDOW = 32 * 2**10
# A gzip member's header (RFC 1952) with no name and mtime 0, as gzip.compress
# writes it: the same bytes on every machine and at every hour.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_LAST_BLOCK = b"\x03\x00"  # an empty final deflate block
# From this many VEVENTs to compile on, a second process compiles half of them
# where a second core is free: a large calendar's first load, build and check
# take half the time to compile (10,000 events: 0.5 s alone). A reload
# compiles only the events an edit changed, in one process.
COMPILE_IN_TWO_FROM = 2000
# A child that has not answered by then is left, and its half compiled here.
COMPILE_TIMEOUT = 120.0


def compile_vevents(events: list[Event], stamp: datetime) -> list[bytes]:
    """The VEVENTs of ``events``, in order: bytes equal to ``ical.vevent``'s,
    however many processes made them."""
    if len(events) < COMPILE_IN_TWO_FROM:
        return [ical.vevent(event, stamp) for event in events]
    half = len(events) // 2
    first, second = forked.both(
        lambda: [ical.vevent(event, stamp) for event in events[:half]],
        lambda: [ical.vevent(event, stamp) for event in events[half:]],
        timeout=COMPILE_TIMEOUT,
    )
    return first + second


class Segments:
    """Where a whole feed's gzip segments end, and each compressed segment of
    it once made, to lend to the next version's feed."""

    def __init__(self, ends: list[int], earlier: Segments | None):
        self.ends = ends
        # Lent only when compressed, so that versions never gzipped do not chain up.
        self._earlier = earlier if earlier is not None and earlier.gzipped else None
        self.gzipped = b""
        self._packed: dict[bytes, tuple[int, int]] = {}

    def compress(self, data: bytes) -> bytes:
        """``data`` as one gzip member, byte for byte the same whether its
        segments are compressed here or taken from the earlier version."""
        earlier, view = self._earlier, memoryview(data)
        parts, position, start = [GZIP_HEADER], len(GZIP_HEADER), 0
        for end in self.ends:
            window = view[max(0, start - WINDOW) : start]
            key = fingerprint(window) + fingerprint(view[start:end])
            where = earlier._packed.get(key) if earlier is not None else None
            if where is not None:
                piece: bytes | memoryview = memoryview(earlier.gzipped)[where[0] : where[1]]
            else:
                packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, **({"zdict": window} if start else {}))
                piece = packer.compress(view[start:end]) + packer.flush(zlib.Z_FULL_FLUSH)
            self._packed[key] = (position, position + len(piece))
            parts.append(piece)
            position, start = position + len(piece), end
        parts += [_LAST_BLOCK, struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)]
        self.gzipped, self._earlier = b"".join(parts), None
        return self.gzipped


@dataclass
class Body:
    """A response body with its strong ETag; gzip is made once, on first use
    (in segments when ``segments`` says where: the whole feed)."""

    data: bytes
    segments: Segments | None = field(default=None, repr=False)
    etag: str = field(init=False)
    _gzipped: bytes | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.etag = '"' + hashlib.sha256(self.data).hexdigest()[:32] + '"'

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gzip"'

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:
            if self.segments is not None:
                self._gzipped = self.segments.compress(self.data)
            else:  # mtime=0: the same bytes on every machine and at every hour
                self._gzipped = gzip.compress(self.data, compresslevel=GZIP_LEVEL, mtime=0)
        return self._gzipped


@dataclass(frozen=True)
class FeedFilter:
    """Which events a feed holds: any of the categories, at any of the places."""

    categories: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()

    def path(self, extension: str = "ics") -> str:
        """The URL path the feed is published at; one filter, one path. The
        RSS and Atom of a filter (``extension`` "rss" or "atom") sit beside
        its iCalendar feed, the whole calendar's at /feed.rss and /feed.atom.

        >>> FeedFilter(frozenset({"webinar"})).path()
        '/categories/webinar.ics'
        >>> FeedFilter(frozenset({"b", "a"}), frozenset({"x"})).path()
        '/calendar.ics?category=a&category=b&place=x'
        >>> FeedFilter(places=frozenset({"x"})).path("atom"), FeedFilter().path("rss")
        ('/places/x.atom', '/feed.rss')
        """
        if len(self.categories) == 1 and not self.places:
            return f"/categories/{next(iter(self.categories))}.{extension}"
        if len(self.places) == 1 and not self.categories:
            return f"/places/{next(iter(self.places))}.{extension}"
        query = [f"category={c}" for c in sorted(self.categories)]
        query += [f"place={p}" for p in sorted(self.places)]
        whole = "/calendar.ics" if extension == "ics" else f"/feed.{extension}"
        return whole + ("?" + "&".join(query) if query else "")


@dataclass(frozen=True)
class _Compiled:
    """Where each event's VEVENT lies in a compiled whole-calendar feed:
    event ``i`` is ``data[starts[i]:starts[i + 1]]``."""

    data: bytes
    stamp: datetime
    events: tuple[Event, ...]
    starts: array
    segments: Segments

    @cached_property
    def _positions(self) -> dict[int, int]:
        """Each event's position in the feed, by identity: made once, for every
        filtered feed and event file that takes VEVENTs from this one."""
        return {id(event): i for i, event in enumerate(self.events)}

    def vevents(self, events: tuple[Event, ...], stamp: datetime) -> list[bytes | memoryview]:
        """The VEVENTs of ``events``: views of this feed for the events it
        holds (the same objects, so the same definitions), compiled for the rest."""
        known = self._positions if stamp == self.stamp else {}
        view = memoryview(self.data)
        made = iter(compile_vevents([event for event in events if id(event) not in known], stamp))
        found: list[bytes | memoryview] = []
        for event in events:
            i = known.get(id(event))
            found.append(next(made) if i is None else view[self.starts[i] : self.starts[i + 1]])
        return found


class Published:
    """The feeds of one loaded calendar.

    ``previous``, the version this one replaces, lends the VEVENTs of the
    events the edit left alone (validation hands over the same Event objects
    for unchanged [[events]] tables): a reload recompiles only what changed.
    """

    def __init__(self, calendar: Calendar, previous: Published | None = None):
        self.calendar = calendar
        self.last_modified: datetime = calendar.last_modified or ical.DEFAULT_STAMP
        self._feeds: OrderedDict[tuple, Body] = OrderedDict()
        self._events: dict[str, Body] = {}
        self._kept: OrderedDict[tuple, Body] = OrderedDict()
        self._kept_bytes = 0
        self._lock = Lock()
        # Until this version compiles its own whole feed (then it is replaced).
        self._compiled: _Compiled | None = previous._compiled if previous else None
        self._opening: bytes | None = None  # of the events' files, made on first use

    def __getstate__(self) -> dict:
        """Pickled with its compiled feeds (a store loads in a child process)."""
        return {key: value for key, value in vars(self).items() if key != "_lock"}

    def __setstate__(self, state: dict) -> None:
        vars(self).update(state)
        self._lock = Lock()

    def since(self, today: date) -> date | None:
        """The first day a feed keeps, by ``past_days``; None keeps every event."""
        if self.calendar.past_days is None:
            return None
        return today - timedelta(days=self.calendar.past_days)

    def _title(self, selection: FeedFilter) -> str | None:
        names = [c.name for c in self.calendar.categories if c.slug in selection.categories]
        names += [p.name for p in self.calendar.places if p.slug in selection.places]
        return " + ".join(names) or None

    def feed(self, selection: FeedFilter, today: date) -> Body:
        """The feed of the events ``selection`` picks, as of ``today``."""
        since = self.since(today)
        key = (selection, since)
        with self._lock:
            if key in self._feeds:
                self._feeds.move_to_end(key)
                return self._feeds[key]
        events = select(self.calendar, selection.categories, selection.places, since)
        whole = not selection.categories and not selection.places
        body = Body(*self._compile(events, self._title(selection), self.calendar.base_url + selection.path(), whole))
        with self._lock:
            self._feeds[key] = body
            while len(self._feeds) > FEED_CACHE_SIZE:
                self._feeds.popitem(last=False)
        return body

    def _compile(self, events: tuple[Event, ...], title: str | None, source: str, whole: bool) -> tuple[bytes, Segments | None]:
        """``ical.feed``'s bytes, with VEVENTs reused from the last whole feed
        compiled; and for a whole feed, where its gzip segments end."""
        stamp = ical.stamp(self.calendar)
        compiled = self._compiled
        vevents = compiled.vevents(events, stamp) if compiled else compile_vevents(list(events), stamp)
        head = ical.head(self.calendar, events, title, source)
        data = b"".join([head, *vevents, ical.FOOTER])
        if whole:  # lent to the filtered feeds and to the next version
            starts = array("q", [len(head)])
            ends = []
            for event, part in zip(events, vevents):
                starts.append(starts[-1] + len(part))
                if zlib.crc32(event.uid.encode()) % SEGMENT_EVENTS == 0:
                    ends.append(starts[-1])
            ends.append(len(data))
            segments = Segments(ends, compiled.segments if compiled else None)
            self._compiled = _Compiled(data, stamp, events, starts, segments)
            return data, segments
        return data, None

    def kept(self, key: tuple, make: Callable[[], bytes]) -> Body:
        """The body ``make`` gives, made once for ``key`` in this version (the
        key holds everything the body depends on, the present minute included)."""
        with self._lock:
            body = self._kept.get(key)
            if body is not None:
                self._kept.move_to_end(key)
                return body
        body = Body(make())
        if len(body.data) >= TRIM_AFTER and libc.malloc_trim is not None:
            libc.malloc_trim(0)
        with self._lock:
            replaced = self._kept.pop(key, None)  # made meanwhile by another thread
            self._kept_bytes += len(body.data) - (len(replaced.data) if replaced else 0)
            self._kept[key] = body
            # The newest stays, whatever its size: it is the answer being given.
            while len(self._kept) > KEPT_SIZE or (self._kept_bytes > KEPT_BYTES and len(self._kept) > 1):
                self._kept_bytes -= len(self._kept.popitem(last=False)[1].data)
        return body

    def event_feed(self, event: Event) -> Body:
        """One event as a calendar file to download."""
        with self._lock:
            body = self._events.get(event.id)
        if body is None:
            body = Body(self._download(event))
            with self._lock:
                self._events[event.id] = body
        return body

    def _download(self, event: Event) -> bytes:
        """``ical.feed(calendar, (event,), subscribed=False)``'s bytes, with the
        opening lines made once per version and the VEVENT taken from the
        whole feed when it holds it (a build makes 10,000 of these files)."""
        if self._opening is None:
            self._opening = ical.opening(self.calendar, subscribed=False)
        stamp = ical.stamp(self.calendar)
        compiled = self._compiled
        vevent = compiled.vevents((event,), stamp)[0] if compiled is not None else ical.vevent(event, stamp)
        return b"".join([self._opening, ical.zones((event,)), vevent, ical.FOOTER])

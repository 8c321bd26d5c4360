"""The occurrence engine: events → dated occurrences in a window.

Recurrences are expanded in wall-clock time (naive local date-times, as
RFC 5545 defines them) and only then given their zone, so a weekly 18:00 in
Rome stays 18:00 on both sides of every DST change. dateutil is never handed
a pytz zone, whose first offset would stick to every occurrence. A local time
that a DST change skips or repeats takes the offset before the change
(zoneinfo's ``fold=0``), as RFC 5545 says.

Every expansion is bounded whatever the file says: a walk of a rule looks
at no more than ``MAX_WALK`` dates (a window far from the first date is
reached by starting the rule whole periods later), a listing returns at most
``MAX_PER_EVENT`` occurrences of an event, and the last date of a series is
looked for among its first ``MAX_DATES`` only (validation refuses longer ones).
"""

from __future__ import annotations

import heapq
import os
import sys
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import islice

from dateutil.rrule import rrule, rrulestr

from calfeed import timezones
from calfeed.model import Calendar, Event, When
from calfeed.rrules import MAX_COUNT, WEEKDAYS
from calfeed.timezones import UTC

MAX_PER_EVENT = 1000
# How far ahead a listing of what is to come looks (the pages, /events.json).
HORIZON = timedelta(days=5 * 366)
# The most dates a series may have: as many as COUNT may ask for (an event
# every day for 27 years); no calendar client shows more to anyone.
MAX_DATES = MAX_COUNT
# The most dates one walk of a rule looks at, those before its window included.
MAX_WALK = 2 * MAX_DATES + 2
# The end of time for an endless rule: the last year events.toml accepts.
FOREVER = datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC)


@dataclass(frozen=True)
class Occurrence:
    """One dated instance of an event (an override carries its own fields)."""

    event: Event
    start: When
    end: When | None  # exclusive, as DTEND; None: no DTEND

    def instant(self, zone: tzinfo) -> datetime:
        return instant(self.start, zone)


def instant(value: When, zone: tzinfo) -> datetime:
    """A start as an instant; an all-day date starts at midnight in ``zone``."""
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), zone)


def naive(value: When) -> datetime:
    """Wall-clock time of a local date-time, or midnight of a date."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.combine(value, time())


def _from_naive(event: Event, local: datetime) -> When:
    if not isinstance(event.start, datetime):
        return local.date()
    return local.replace(tzinfo=event.start.tzinfo, fold=0)


def length(event: Event) -> timedelta | None:
    """How long each occurrence lasts: exact time, or whole days."""
    if event.end is None:
        return None
    if isinstance(event.start, datetime):
        return event.end.astimezone(UTC) - event.start.astimezone(UTC)
    return event.end - event.start


def end_of(occurrence: Occurrence | Event) -> When:
    """When an occurrence (or a single event) is over, exclusive as DTEND: its
    ``end``; without one, a timed event ends as it starts and an all-day one
    with its day.

    >>> end_of(Event("a", "a@x", "A", date(2021, 12, 1)))
    datetime.date(2021, 12, 2)
    """
    if occurrence.end is not None:
        return occurrence.end
    start = occurrence.start
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def end_instant(occurrence: Occurrence | Event, zone: tzinfo) -> datetime:
    """``end_of`` as an instant: an all-day end is midnight in ``zone``."""
    return instant(end_of(occurrence), zone)


def local_day(moment: date | datetime, zone: tzinfo) -> date:
    """The calendar day of ``moment`` in ``zone`` (a date is its own day)."""
    return moment.astimezone(zone).date() if isinstance(moment, datetime) else moment


def last_day_of(occurrence: Occurrence | Event, zone: tzinfo) -> date:
    """The last calendar day, in ``zone``, an occurrence takes place on: for an
    all-day one the day before its end, the ``end`` events.toml writes.

    >>> last_day_of(Event("a", "a@x", "A", date(2021, 12, 1), date(2021, 12, 3)), UTC)
    datetime.date(2021, 12, 2)
    """
    start, end = occurrence.start, end_of(occurrence)
    if not isinstance(start, datetime):
        return end - timedelta(days=1)
    if end == start:
        return start.astimezone(zone).date()
    # An event ending at midnight does not touch the next day.
    return (end.astimezone(zone) - timedelta(microseconds=1)).date()


def series_end(event: Event, start: When) -> When | None:
    span = length(event)
    if span is None:
        return None
    if isinstance(start, datetime):
        return (start.astimezone(UTC) + span).astimezone(start.tzinfo)
    return start + span


@lru_cache(maxsize=8192)
def _dateutil_rule(text: str, start: datetime, until: datetime | None) -> rrule:
    rule = rrulestr(text, dtstart=start, cache=True)  # later windows reuse the dates found
    return rule.replace(until=until) if until is not None else rule


if hasattr(os, "register_at_fork"):
    # Each cached rule carries a lock; one held by another thread at a fork
    # would never be released in the child (a store's loading process).
    os.register_at_fork(after_in_child=_dateutil_rule.cache_clear)


def rule_of(event: Event) -> rrule | None:
    """The event's RRULE as dateutil expands it, in naive wall-clock time."""
    recurrence = event.recurrence
    if recurrence is None or recurrence.rule is None:
        return None
    return _dateutil_rule(recurrence.rule.text, naive(event.start), _until(event))


def _until(event: Event) -> datetime | None:
    """The series' UNTIL in its own wall-clock time, as dateutil takes it."""
    until = event.recurrence.until
    if isinstance(until, datetime):
        return until.astimezone(event.start.tzinfo).replace(tzinfo=None)
    if isinstance(until, date):
        return datetime.combine(until, time())
    return None


def _walk(event: Event, low: datetime | None, high: datetime | None) -> Iterator[datetime]:
    """Naive wall-clock starts from ``low`` to ``high`` (inclusive; None is
    unbounded), in order, rdates merged in and exdates left out."""
    recurrence = event.recurrence
    first = naive(event.start)
    if recurrence is None:
        if (low is None or first >= low) and (high is None or first <= high):
            yield first
        return
    rule = rule_of(event)
    if rule is not None and low is not None:
        rule = _closer(event, rule, low)
    # Counted from the rule's (moved) start, so that a window far from it
    # costs at most MAX_WALK dates, as dateutil's xafter would not.
    generated = iter([first]) if rule is None else (m for m in islice(rule, MAX_WALK) if low is None or m >= low)
    extra = sorted(m for m in map(naive, recurrence.rdates) if low is None or m >= low)
    skipped = set(map(naive, recurrence.exdates))
    previous = None
    for moment in heapq.merge(generated, extra):
        if high is not None and moment > high:
            return
        if moment != previous and moment not in skipped and (low is None or moment >= low):
            yield moment
        previous = moment


def _closer(event: Event, rule: rrule, low: datetime) -> rrule:
    """The same rule started whole periods later, just before ``low``, so that
    a window years after the first date is not reached by walking every date
    in between. Only where that cannot change the dates: no COUNT (it counts
    from the first date), no BYSETPOS, and a start that exists in every period
    (HOURLY, DAILY and WEEKLY periods are exact in wall-clock time; months
    and years are moved by whole months when the day is at most the 28th)."""
    parts = dict(event.recurrence.rule.parts)
    if "COUNT" in parts or "BYSETPOS" in parts:
        return rule
    first = naive(event.start)
    interval = int(parts.get("INTERVAL", "1"))
    freq = parts["FREQ"]
    if freq in ("HOURLY", "DAILY", "WEEKLY"):
        period = {"HOURLY": timedelta(hours=1), "DAILY": timedelta(days=1), "WEEKLY": timedelta(days=7)}[freq] * interval
        skipped = (low - first) // period - 1
        return rule.replace(dtstart=first + skipped * period) if skipped > 0 else rule
    if first.day > 28:
        return rule
    months = interval * (12 if freq == "YEARLY" else 1)
    skipped = ((low.year - first.year) * 12 + low.month - first.month) // months - 1
    if skipped <= 0:
        return rule
    year, month = divmod(first.month - 1 + skipped * months, 12)
    return rule.replace(dtstart=first.replace(year=first.year + year, month=month + 1))


def starts(event: Event, low: datetime | None = None, high: datetime | None = None, limit: int = MAX_PER_EVENT) -> list[datetime]:
    """The first ``limit`` naive wall-clock starts from ``low`` to ``high``."""
    return list(islice(_walk(event, low, high), limit))


def is_bounded(event: Event) -> bool:
    """Whether the event has a last date (told from its rule's parts, unparsed)."""
    recurrence = event.recurrence
    if recurrence is None or recurrence.rule is None or recurrence.until is not None:
        return True
    return "COUNT" in dict(recurrence.rule.parts)


@lru_cache(maxsize=65536)  # a reload's loading process inherits the worker's: unchanged series are not walked again
def last_start(event: Event) -> datetime | None:
    """The wall-clock start of the last occurrence; None for an endless rule,
    or for one with more than MAX_DATES dates (treated as endless: only a
    series that bypassed validation can have one)."""
    if not is_bounded(event):
        return None
    candidates = [naive(event.start), *map(naive, event.recurrence.rdates if event.recurrence else ())]
    rule = rule_of(event)
    if rule is not None:
        dates = list(islice(rule, MAX_DATES + 1))
        if len(dates) > MAX_DATES:
            return None
        candidates += dates[-1:]
    candidates += [naive(o.start) for o in event.overrides]
    return max(candidates)


# Wall-clock length a period of each frequency can have, at most.
_LONGEST_PERIOD = {
    "HOURLY": timedelta(hours=1), "DAILY": timedelta(days=1), "WEEKLY": timedelta(days=7),
    "MONTHLY": timedelta(days=31), "YEARLY": timedelta(days=366),
}


def last_start_bound(event: Event) -> datetime | None:
    """A wall-clock time no earlier than ``last_start`` of a bounded series,
    known without walking its rule: the rule's UNTIL, or for a COUNT where
    every period of the rule holds a date (no BYxxx part but a WEEKLY rule's
    plain weekdays; a monthly or yearly day no later than the 28th), COUNT
    periods after the start. None when only the walk can tell.

    >>> from calfeed.model import Recurrence
    >>> from calfeed.rrules import parse_rule
    >>> def series(rule):
    ...     return Event("a", "a@x", "A", datetime(2024, 1, 31, 18), recurrence=Recurrence(parse_rule(rule)))
    >>> last_start(series("FREQ=WEEKLY;BYDAY=WE,FR;COUNT=3")), last_start_bound(series("FREQ=WEEKLY;BYDAY=WE,FR;COUNT=3"))
    (datetime.datetime(2024, 2, 7, 18, 0), datetime.datetime(2024, 2, 21, 18, 0))
    >>> last_start_bound(series("FREQ=MONTHLY;COUNT=3")) is None  # the 31st: not every month has one
    True
    """
    recurrence = event.recurrence
    first = naive(event.start)
    found = [first, *map(naive, recurrence.rdates), *(naive(o.start) for o in event.overrides)]
    if recurrence.rule is not None:
        parts = dict(recurrence.rule.parts)
        reach = _until(event) if recurrence.until is not None else _counted_reach(parts, first)
        if reach is None:
            return None
        found.append(reach)
    return max(found)


def _counted_reach(parts: dict[str, str], first: datetime) -> datetime | None:
    """Where COUNT periods of a rule in which each period holds a date end."""
    freq, others = parts["FREQ"], parts.keys() - {"FREQ", "COUNT", "INTERVAL", "WKST"}
    plain_weekdays = freq == "WEEKLY" and others == {"BYDAY"} and set(parts["BYDAY"].split(",")) <= set(WEEKDAYS)
    if not (plain_weekdays or not others) or freq in ("MONTHLY", "YEARLY") and first.day > 28:
        return None
    try:
        return first + _LONGEST_PERIOD[freq] * (int(parts["COUNT"]) * int(parts.get("INTERVAL", "1")))
    except OverflowError:  # past the year 9999: the walk tells
        return None


@lru_cache(maxsize=65536)
def last_day(event: Event, zone: tzinfo) -> date | None:
    """The last calendar day, in ``zone``, on which the event takes place;
    None when it recurs without end."""
    last = last_start(event)
    if last is None:
        return None
    start = _from_naive(event, last)
    return last_day_of(Occurrence(event, start, series_end(event, start)), zone)


def last_instant(event: Event) -> datetime:
    """Until when a VTIMEZONE must be right for this event."""
    last = last_start(event)
    if last is None:
        return FOREVER
    start = _from_naive(event, last)
    return end_instant(Occurrence(event, start, series_end(event, start)), UTC)


def _stream(event: Event, after: datetime, before: datetime, zone: tzinfo, ongoing: bool = True) -> Iterator[Occurrence]:
    """The event's occurrences in the window, lazily and in time order; with
    ``ongoing`` False, only those that start at ``after`` or later."""
    if event.recurrence is None:
        single = Occurrence(event, event.start, event.end)
        if _overlaps(single, after, before, zone, ongoing):
            yield single
        return
    moved = {naive(o.recurrence_id) for o in event.overrides}
    span = length(event) or timedelta(0)
    local_zone = event.start.tzinfo if isinstance(event.start, datetime) else zone
    low = (after - span - timedelta(days=2)).astimezone(local_zone).replace(tzinfo=None)
    high = (before + timedelta(days=2)).astimezone(local_zone).replace(tzinfo=None)

    def regular() -> Iterator[Occurrence]:
        # The walk starts a little early (an occurrence may still be running
        # at ``after``): it looks at a bounded number of dates in all.
        for moment in islice(_walk(event, low, high), 2 * MAX_PER_EVENT):
            if moment not in moved:
                start = _from_naive(event, moment)
                occurrence = Occurrence(event, start, series_end(event, start))
                if _overlaps(occurrence, after, before, zone, ongoing):
                    yield occurrence

    changed = sorted(
        (o for o in (Occurrence(o, o.start, o.end) for o in event.overrides) if _overlaps(o, after, before, zone, ongoing)),
        key=lambda o: o.instant(zone),
    )
    yield from heapq.merge(regular(), changed, key=lambda o: o.instant(zone)) if changed else regular()


@lru_cache(maxsize=65536)
def _reach(event: Event, zone: tzinfo) -> tuple[datetime, datetime | None]:
    """The earliest start and the latest end of any occurrence of a series,
    as instants; None for an endless rule."""
    recurrence = event.recurrence
    earliest = min(instant(w, zone) for w in (event.start, *recurrence.rdates, *(o.start for o in event.overrides)))
    last = last_start(event)
    if last is None:
        return earliest, None
    start = _from_naive(event, last)
    ends = [end_instant(Occurrence(event, start, series_end(event, start)), zone)]
    ends += [end_instant(o, zone) for o in event.overrides]
    return earliest, max(ends)


def _within_reach(event: Event, after: datetime, before: datetime, zone: tzinfo) -> bool:
    """Whether a series may have an occurrence in the window: one that does
    not is skipped without walking its rule (a month page of a calendar with
    a thousand series meets a few hundred of them)."""
    earliest, latest = _reach(event, zone)
    return earliest < before and (latest is None or latest >= after)


def expand(event: Event, after: datetime, before: datetime, zone: tzinfo, limit: int = MAX_PER_EVENT) -> list[Occurrence]:
    """Occurrences (overrides in place of the ones they replace) that end
    after ``after`` and start before ``before``, in time order."""
    return list(islice(_stream(event, after, before, zone), min(limit, MAX_PER_EVENT)))


def _overlaps(occurrence: Occurrence | Event, after: datetime, before: datetime, zone: tzinfo, ongoing: bool = True) -> bool:
    """Whether an occurrence (or a single event, its one occurrence) falls in the window."""
    start = instant(occurrence.start, zone)
    if not ongoing:
        return after <= start < before
    end = end_instant(occurrence, zone)
    return start < before and (end > after or end == start >= after)


class Selection(tuple):
    """Events ``select`` picked from one calendar version, kept with it.

    A listing over a selection finds its single events by bisecting their
    start instants, and knows how far each series reaches, from indexes made
    on first use: a page or ``/events.json`` of 10,000 events then looks only
    at the events near its window.
    """

    def _index(self, zone: tzinfo) -> tuple[tuple[Event, ...], array, float, tuple]:
        """Single events by (start, id), their starts as POSIX seconds, the
        longest one's length in seconds, and each series with its reach."""
        indexes = self.__dict__.setdefault("indexes", {})
        index = indexes.get(zone)
        if index is None:
            singles = tuple(sorted((e for e in self if e.recurrence is None), key=lambda e: (instant(e.start, zone), e.id)))
            starts = array("d", (instant(e.start, zone).timestamp() for e in singles))
            longest = max((_seconds(e, zone) for e in singles), default=0.0)
            series = tuple((e, *_reach(e, zone)) for e in self if e.recurrence is not None)
            index = indexes[zone] = (singles, starts, longest, series)
        return index

    def near(self, after: datetime, before: datetime, zone: tzinfo, ongoing: bool) -> Iterator[Event]:
        """The single events that may fall in the window (in time order),
        then the series that may reach into it."""
        singles, starts, longest, series = self._index(zone)
        # A second to spare on each side: the exact test follows.
        low = after.timestamp() - (longest if ongoing else 0.0) - 1.0
        yield from singles[bisect_left(starts, low) : bisect_left(starts, before.timestamp() + 1.0)]
        for event, earliest, latest in series:
            if earliest < before and (latest is None or latest >= after):
                yield event

    def series_from(self, day: datetime, zone: tzinfo) -> tuple[array, tuple[Event, ...]]:
        """The series with an occurrence still running at ``day`` (a
        midnight) or later, by the start of the first such occurrence, and
        those starts as POSIX seconds: made once a day, kept for the last
        day asked (a listing of any later moment that day needs no earlier
        series). Walking each series once a day spares every request."""
        kept = self.__dict__.get("firsts")
        if kept is not None and kept[0] == (day, zone):
            return kept[1]
        _, _, _, series = self._index(zone)
        found = []
        for event, _, latest in series:
            if latest is None or latest >= day:
                first = next(_stream(event, day, FOREVER, zone), None)
                if first is not None:
                    found.append((first.instant(zone).timestamp(), event.id, event))
        found.sort(key=lambda item: item[:2])
        index = (array("d", (item[0] for item in found)), tuple(item[2] for item in found))
        self.__dict__["firsts"] = ((day, zone), index)
        return index

    def first_start(self, zone: tzinfo) -> datetime | None:
        """The earliest start of any occurrence; None when nothing is selected."""
        singles, _, _, series = self._index(zone)
        firsts = [earliest for _, earliest, _ in series]
        if singles:
            firsts.append(instant(singles[0].start, zone))
        return min(firsts, default=None)


def _seconds(event: Event, zone: tzinfo) -> float:
    """How long a single event lasts (a date without an end: its whole day)."""
    return (end_instant(event, zone) - instant(event.start, zone)).total_seconds()


def listing(
    events: tuple[Event, ...], after: datetime, before: datetime, zone: tzinfo, limit: int, ongoing: bool = True,
    daily: bool = False,
) -> list[Occurrence]:
    """The first ``limit`` occurrences of all ``events`` in the window, in
    time order: those still running at ``after`` too, unless ``ongoing`` is False.

    With ``daily`` (for a listing from the present moment, asked every
    minute), a Selection's series are joined in the order of their first
    date of the day (``Selection.series_from``) only when the listing
    reaches that date: a few dozen are walked, not thousands.
    """
    def order(occurrence: Occurrence) -> tuple:
        return occurrence.instant(zone), occurrence.event.id

    if daily and isinstance(events, Selection):
        return _listing_by_day(events, after, before, zone, limit, ongoing)

    candidates = events.near(after, before, zone, ongoing) if isinstance(events, Selection) else events
    singles, series = [], []
    for event in candidates:
        if event.recurrence is None:
            # Filtered before an Occurrence is made: most events happen once.
            if _overlaps(event, after, before, zone, ongoing):
                singles.append(Occurrence(event, event.start, event.end))
        elif isinstance(events, Selection) or _within_reach(event, after, before, zone):
            series.append(_stream(event, after, before, zone, ongoing))
    singles.sort(key=order)
    merged = heapq.merge(singles, *series, key=order)
    return list(islice(merged, limit))


def _listing_by_day(events: Selection, after: datetime, before: datetime, zone: tzinfo, limit: int, ongoing: bool) -> list[Occurrence]:
    """``listing`` of a Selection, its series joined in when they can come next."""
    def singles() -> Iterator[Occurrence]:
        for event in events.near(after, before, zone, ongoing):
            if event.recurrence is not None:
                return  # ``near`` gives the single events first
            if _overlaps(event, after, before, zone, ongoing):
                yield Occurrence(event, event.start, event.end)

    heap: list[tuple] = []
    count = 0

    def push(stream: Iterator[Occurrence]) -> None:
        nonlocal count
        occurrence = next(stream, None)
        if occurrence is not None:
            heapq.heappush(heap, (occurrence.instant(zone).timestamp(), occurrence.event.id, count, occurrence, stream))
            count += 1

    push(singles())
    midnight = datetime.combine(after.astimezone(zone).date(), time(), zone)
    firsts, series = events.series_from(midnight, zone)
    end, waiting, found = before.timestamp(), 0, []
    while len(found) < limit:
        # A series whose first date of the day is no later than the next
        # occurrence found so far may come first: it joins.
        while waiting < len(series) and firsts[waiting] < end and (not heap or firsts[waiting] <= heap[0][0]):
            push(_stream(series[waiting], after, before, zone, ongoing))
            waiting += 1
        if not heap:
            break
        *_, occurrence, stream = heapq.heappop(heap)
        found.append(occurrence)
        push(stream)
    return found


@dataclass(frozen=True)
class Entry:
    """An event as a list shows it once: a series whole, at one date."""

    event: Event  # as events.toml has it: its id names the page, its rule is said in words
    next: Occurrence  # the date shown (a moved date carries its own fields)


# Dates of a series looked at for one that is not cancelled.
NEXT_LOOK = 10


def entries(
    events: Selection, after: datetime, before: datetime, zone: tzinfo, limit: int, known: dict[str, Occurrence | None] | None = None
) -> list[Entry]:
    """The first ``limit`` events with a date in the window (one still
    running at ``after`` too), each once, nearest first: a single event at
    its date, a series at its next date not cancelled among its next
    ``NEXT_LOOK`` (else its next one). ``known``, given for several
    selections of one calendar and the same window, keeps each series' date
    found, by event id, for the next selection that has the series.

    Series are looked at in the order of their first occurrence of the day
    (``Selection.series_from``), which no later date can precede: once
    ``limit`` events are found before that, the rest cannot be among the
    nearest, so a calendar of thousands of series walks a few dozen.
    """
    found, singles = [], 0
    for event in events.near(after, before, zone, True):
        if event.recurrence is not None:
            break  # ``near`` gives the single events first
        # Single events come in time order: those after the first
        # ``limit`` cannot be among the nearest.
        if singles == limit:
            break
        if _overlaps(event, after, before, zone):
            found.append(Entry(event, Occurrence(event, event.start, event.end)))
            singles += 1
    midnight = datetime.combine(after.astimezone(zone).date(), time(), zone)
    firsts, series = events.series_from(midnight, zone)
    # The ``limit``-th nearest start found so far: a series whose first
    # start of the day is later cannot enter.
    bound = [-entry.next.instant(zone).timestamp() for entry in found]
    heapq.heapify(bound)
    for earliest, event in zip(firsts, series):
        if earliest >= before.timestamp() or (len(bound) >= limit and earliest > -bound[0]):
            break
        if known is not None and event.id in known:
            first = known[event.id]
        else:
            first = None
            for occurrence in islice(_stream(event, after, before, zone), NEXT_LOOK):
                first = first or occurrence
                if occurrence.event.status != "cancelled":
                    first = occurrence
                    break
            if known is not None:
                known[event.id] = first
        if first is not None:
            found.append(Entry(event, first))
            heapq.heappush(bound, -first.instant(zone).timestamp())
            if len(bound) > limit:
                heapq.heappop(bound)
    found.sort(key=lambda entry: (entry.next.instant(zone), entry.event.id))
    return found[:limit]


# A window of ``ended`` holding more occurrences than this is halved; the
# first window is a week, and each one after twice the one before.
WINDOW_CAP, FIRST_WINDOW = 1000, timedelta(days=7)


def ended(events: Selection, moment: datetime, zone: tzinfo, limit: int) -> list[Occurrence]:
    """The ``limit`` occurrences over by ``moment`` that started last, the
    latest first.

    Windows walk back from ``moment`` by start, each twice as long as the one
    before (halved when it holds more than ``WINDOW_CAP``), so the page of a
    calendar with years of events looks only at its last weeks.
    """
    first = events.first_start(zone)
    found: list[Occurrence] = []
    high, span = moment, FIRST_WINDOW
    while first is not None and high > first and len(found) < limit:
        low = max(high - span, first)
        # A window of a second cannot be halved further: it is taken whole.
        cap = WINDOW_CAP if span > timedelta(seconds=1) else sys.maxsize
        window = listing(events, low, high, zone, cap, ongoing=False)
        if len(window) == cap:
            span /= 2
            continue
        found += reversed([o for o in window if end_instant(o, zone) <= moment])
        high, span = low, span * 2
    return found[:limit]


# Selections kept per calendar version; a client cannot grow them further.
SELECTIONS_KEPT = 64


def _positions(calendar: Calendar, kind: str) -> dict[str, array]:
    """Where in ``calendar.events`` the events of each category's or place's
    slug are (``kind`` "categories" or "places"), found once per version: a
    site has a feed, RSS and Atom for each, and each looked at every event."""
    key = "positions of " + kind
    found = calendar.derived.get(key)
    if found is None:
        found = {}
        for position, event in enumerate(calendar.events):
            slugs = [c.slug for c in event.categories] if kind == "categories" else [event.place.slug] if event.place else []
            for slug in slugs:
                found.setdefault(slug, array("i")).append(position)
        calendar.derived[key] = found
    return found


def select(
    calendar: Calendar,
    categories: frozenset[str] = frozenset(),
    places: frozenset[str] = frozenset(),
    since: date | None = None,
) -> Selection:
    """The events in any of ``categories`` (slugs) and at any of ``places``
    (slugs), that still take place on ``since`` or later; empty sets select
    all. The same question to the same version gives the same Selection."""
    kept = calendar.derived.setdefault("selections", OrderedDict())
    key = (categories, places, since)
    found = kept.get(key)
    if found is not None:
        return found
    cal_zone = timezones.zone(calendar.timezone)

    def recent(event: Event) -> bool:
        day = last_day(event, cal_zone)
        return day is None or day >= since

    chosen: set[int] | None = None  # positions in calendar.events
    for slugs, kind in ((categories, "categories"), (places, "places")):
        if slugs:  # the index only where it is asked: a whole feed needs none
            index = _positions(calendar, kind)
            found_here = set().union(*(index.get(slug, ()) for slug in slugs))
            chosen = found_here if chosen is None else chosen & found_here
    candidates = calendar.events if chosen is None else [calendar.events[i] for i in sorted(chosen)]
    found = kept[key] = Selection(event for event in candidates if since is None or recent(event))
    while len(kept) > SELECTIONS_KEPT:
        try:
            kept.popitem(last=False)
        except KeyError:  # emptied by another thread meanwhile
            break
    return found


# A series with this many occurrences in a span is walked per window instead:
# far below the walks' caps, so the span's pass sees all a window's walk would.
SPAN_DENSE = MAX_PER_EVENT // 2


def _span_index(events: Selection, span: tuple[datetime, datetime], zone: tzinfo) -> tuple[dict, tuple[Event, ...]]:
    """The selection's series occurrences in ``span``, walked once: by each
    local month they touch, in ``listing`` order; and the series too dense to
    keep, walked per window. Kept for the last span asked (it moves with the day)."""
    kept = events.__dict__.get("span")
    if kept is not None and kept[0] == (span, zone):
        return kept[1]
    after, before = span
    by_month: dict[tuple[int, int], list[Occurrence]] = {}
    dense = []
    for event in events.near(after, before, zone, True):
        if event.recurrence is None:
            continue
        found = list(islice(_stream(event, after, before, zone), SPAN_DENSE))
        if len(found) == SPAN_DENSE:
            dense.append(event)
            continue
        for occurrence in found:
            first = local_day(occurrence.start, zone)
            last = max(last_day_of(occurrence, zone), first)
            for month in range(first.year * 12 + first.month - 1, last.year * 12 + last.month):
                by_month.setdefault(divmod(month, 12), []).append(occurrence)
    for found in by_month.values():
        found.sort(key=lambda o: (o.instant(zone), o.event.id))  # stable: a series' own order stays
    index = ({month: tuple(found) for month, found in by_month.items()}, tuple(dense))
    events.__dict__["span"] = ((span, zone), index)
    return index


def span_listing(events: Selection, after: datetime, before: datetime, zone: tzinfo, limit: int, span: tuple[datetime, datetime]) -> list[Occurrence]:
    """``listing`` of a window inside ``span`` (ongoing occurrences included):
    the series are walked once for the whole span, not once per window, so
    the month pages of a version share one walk."""
    def order(occurrence: Occurrence) -> tuple:
        return occurrence.instant(zone), occurrence.event.id

    by_month, dense = _span_index(events, span, zone)
    singles, seen, kept = [], set(), []
    for event in events.near(after, before, zone, True):
        if event.recurrence is not None:
            break  # ``near`` gives the single events first
        if _overlaps(event, after, before, zone):
            singles.append(Occurrence(event, event.start, event.end))
    first, last = local_day(after, zone), local_day(before, zone)
    for month in range(first.year * 12 + first.month - 1, last.year * 12 + last.month):
        for occurrence in by_month.get(divmod(month, 12), ()):
            if id(occurrence) not in seen and _overlaps(occurrence, after, before, zone):
                seen.add(id(occurrence))
                kept.append(occurrence)
    singles.sort(key=order)
    kept.sort(key=order)
    streams = [_stream(event, after, before, zone) for event in dense if _within_reach(event, after, before, zone)]
    return list(islice(heapq.merge(singles, kept, *streams, key=order), limit))

"""Calendar model → iCalendar bytes (RFC 5545, with RFC 7986 properties).

The content lines are written here rather than through icalendar's
``Component.to_ical`` so that the bytes depend only on the model: the same
events.toml gives the same feed on every machine, in every process. Folding
counts octets and never splits a UTF-8 character.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from urllib.parse import urlsplit

from calfeed.model import Calendar, Event, Organizer, Place, Recurrence
from calfeed.occurrences import is_bounded, last_instant, last_start_bound, length, naive
from calfeed.timezones import UTC, UTC_ZONE_NAME, is_utc_name, vtimezone_lines

PRODID = "-//calfeed//calfeed 0.1//EN"
DEFAULT_STAMP = datetime(2000, 1, 1, tzinfo=UTC)
_LINE_OCTETS = 75


def escape_text(text: str) -> str:
    r"""A TEXT value with backslash, semicolon, comma and newline escaped.

    >>> escape_text("Sala 1, piano terra; ingresso\nlibero \\ gratuito")
    'Sala 1\\, piano terra\\; ingresso\\nlibero \\\\ gratuito'
    """
    return (
        text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    )


# As many octets as fit, up to 75 (74 after the space that starts a
# continuation line), and no fewer than make whole characters: the
# match backs off over UTF-8 continuation bytes (0x80-0xBF).
_FIRST_PIECE = re.compile(rb"(?s).{1,%d}(?![\x80-\xbf])" % _LINE_OCTETS)
_NEXT_PIECE = re.compile(rb"(?s).{1,%d}(?![\x80-\xbf])" % (_LINE_OCTETS - 1))


def _folded(data: bytes) -> bytes:
    """One encoded content line, CRLF-terminated, folded at 75 octets
    without splitting a UTF-8 character."""
    if len(data) <= _LINE_OCTETS:
        return data + b"\r\n"
    first = _FIRST_PIECE.match(data).group()
    return b"\r\n ".join([first, *_NEXT_PIECE.findall(data, len(first))]) + b"\r\n"


def folded(lines: list[str]) -> bytes:
    r"""Content lines as folded bytes; the short ones, nearly all, without a
    call each (a feed of 10,000 events has 160,000 lines).

    >>> [len(line) for line in folded(["SUMMARY:" + "à" * 40, "STATUS:CONFIRMED"]).split(b"\r\n")]
    [74, 15, 16, 0]
    """
    return b"".join(
        [data + b"\r\n" if len(data) <= _LINE_OCTETS else _folded(data) for data in map(str.encode, lines)]
    )


# DATE and DATE-TIME values (calfeed's years have four digits); formatting
# the fields is three times as fast as strftime, and a feed has 30,000.
_DATE = "%04d%02d%02d"
_TIME = "%04d%02d%02dT%02d%02d%02d"


def _local(moment: datetime) -> str:
    return _TIME % (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def utc_value(moment: datetime) -> str:
    """A DATE-TIME in UTC (``20211201T170000Z``), as Google Calendar's links take it too."""
    return _local(moment.astimezone(UTC)) + "Z"


@lru_cache(maxsize=1024)
def _tzid(zone: tzinfo | None) -> str | None:
    """The TZID the times of a zone are written with (UTC's as
    ``UTC_ZONE_NAME``); None for a fixed offset (or none)."""
    key = getattr(zone, "key", None)
    return UTC_ZONE_NAME if key is not None and is_utc_name(key) else key


def _when(name: str, value: date | datetime) -> str:
    """DTSTART, DTEND, RDATE...: a DATE, a UTC instant, or a local time with
    the TZID of its zone."""
    if not isinstance(value, datetime):
        return f"{name};VALUE=DATE:{_DATE % (value.year, value.month, value.day)}"
    tzid = _tzid(value.tzinfo)
    if tzid is None:
        return f"{name}:{utc_value(value)}"
    return f"{name};TZID={tzid}:{_local(value)}"


def _rrule(recurrence: Recurrence) -> str:
    until = recurrence.until
    if isinstance(until, datetime):
        return recurrence.rule.with_until(utc_value(until))
    return recurrence.rule.with_until(_DATE % (until.year, until.month, until.day) if until else None)


def _parameter(text: str) -> str:
    r"""A parameter value: quoted when it holds , ; or : (DQUOTE and line
    breaks are not allowed in one).

    >>> _parameter('Sala "A"'), _parameter("Via Roma 1,\n10100 Torino")
    ("Sala 'A'", '"Via Roma 1, 10100 Torino"')
    """
    text = text.replace('"', "'").replace("\r\n", "\n").replace("\r", "\n").replace("\n", " ")
    return f'"{text}"' if any(c in text for c in ",;:") else text


def _duration(length: timedelta) -> str:
    """
    >>> _duration(timedelta(hours=6)), _duration(timedelta(days=1, minutes=30))
    ('PT6H', 'P1DT30M')
    """
    days, seconds = length.days, length.seconds
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "" if days else "T0S")


def _description(event: Event) -> str | None:
    """The event's text, followed by its online and attachment links, which
    Google Calendar and Outlook show only there."""
    parts = [event.description.strip()] if event.description and event.description.strip() else []
    links = [f"Online: {url}" for url in event.online] + list(event.attachments)
    if links:
        parts.append("\n".join(links))
    return "\n\n".join(parts) or None


# Apple Calendar's geofence around a place, in metres: a building and its door.
APPLE_RADIUS = 70


def _structured_location(place: Place) -> str:
    """Apple's X-APPLE-STRUCTURED-LOCATION: Apple Calendar and Maps show the
    place as a pin (with travel time) instead of searching for LOCATION's text."""
    latitude, longitude = place.geo or (0.0, 0.0)
    address = f";X-ADDRESS={_parameter(place.address)}" if place.address else ""
    return (
        f"X-APPLE-STRUCTURED-LOCATION;VALUE=URI{address};X-APPLE-RADIUS={APPLE_RADIUS}"
        f";X-TITLE={_parameter(place.name)}:geo:{latitude:.6f},{longitude:.6f}"
    )


@lru_cache(maxsize=1024)  # most events are at one of a few places
def _place_lines(place: Place) -> bytes:
    """LOCATION, and GEO with Apple's pin where the place has coordinates."""
    lines = [f"LOCATION:{escape_text(text)}"] if (text := place.location_text()) else []
    if place.geo:
        latitude, longitude = place.geo
        lines += [f"GEO:{latitude:.6f};{longitude:.6f}", _structured_location(place)]
    return folded(lines)


@lru_cache(maxsize=1024)
def _organizer_line(organizer: Organizer) -> bytes:
    name = f";CN={_parameter(organizer.name)}" if organizer.name else ""
    return folded([f"ORGANIZER{name}:mailto:{organizer.email}"])


def _add_vevent(event: Event, stamp: datetime, pieces: list[bytes]) -> None:
    """Add the VEVENT of one event to ``pieces``, folded; the lines of its
    place and organizer, which many events share, folded once."""
    updated = utc_value(event.updated) if event.updated else None
    lines = ["BEGIN:VEVENT", f"UID:{escape_text(event.uid)}", f"DTSTAMP:{updated or utc_value(stamp)}"]
    if event.recurrence_id is not None:
        lines.append(_when("RECURRENCE-ID", event.recurrence_id))
    lines.append(_when("DTSTART", event.start))
    if event.end is not None:
        lines.append(_when("DTEND", event.end))
    if event.recurrence is not None:
        if event.recurrence.rule is not None:
            lines.append(f"RRULE:{_rrule(event.recurrence)}")
        lines += [_when("RDATE", moment) for moment in event.recurrence.rdates]
        lines += [_when("EXDATE", moment) for moment in event.recurrence.exdates]
    lines.append(f"SUMMARY:{escape_text(event.title)}")
    if description := _description(event):
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    if event.place:
        pieces += [folded(lines), _place_lines(event.place)]
        lines = []
    elif event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    if event.categories:
        lines.append("CATEGORIES:" + ",".join([escape_text(c.name) for c in event.categories]))
    lines += [f"STATUS:{event.status.upper()}", f"SEQUENCE:{event.sequence}"]
    if updated:
        lines.append(f"LAST-MODIFIED:{updated}")
    if event.organizer and event.organizer.email:
        pieces += [folded(lines), _organizer_line(event.organizer)]
        lines = []
    for url in event.online:
        label = _parameter(urlsplit(url).hostname or url)
        lines.append(f"CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL={label}:{url}")
    lines += [f"ATTACH:{url}" for url in event.attachments]
    if event.image:
        lines.append(f"IMAGE;VALUE=URI;DISPLAY=BADGE:{event.image}")
    lines.append("END:VEVENT")
    pieces.append(folded(lines))


# How far, either way, an instant's wall-clock time in its zone can be
# from the wall-clock time an offset change leaves it at (offsets span 26 hours).
_CLOCK_MARGIN = timedelta(days=2)


def _zone_ranges(events: tuple[Event, ...]) -> dict[str, tuple[datetime, datetime]]:
    """For each TZID the events use, the earliest and latest instant it must cover.

    A bounded series' last instant takes a walk of its rule: it is looked
    for only when the series can move its zone's range, that is when a
    bound known without the walk (``last_start_bound``) reaches past the
    latest instant found so far, or its start is near the earliest. Each
    zone's instants are kept in the events' order (the last instants in
    their places) and taken whole by min and max, so that equal ones
    resolve as they always have.
    """
    found: dict[tzinfo, list[datetime]] = {}
    series: list[tuple[Event, list[datetime], int]] = []  # a series, its zone's instants, its last instant's place
    for event in events:
        for part in (event, *event.overrides):
            moments = [part.start, part.end, part.recurrence_id]
            if part.recurrence is not None:
                moments += [*part.recurrence.rdates, *part.recurrence.exdates]
            for moment in moments:
                if isinstance(moment, datetime):
                    found.setdefault(moment.tzinfo, []).append(moment)
            # An endless series' last instant is FOREVER, in UTC; an all-day
            # one's a UTC midnight; in a fixed offset, none has a TZID.
            zoned = isinstance(part.start, datetime) and _tzid(part.start.tzinfo) is not None
            if part.recurrence is not None and zoned and is_bounded(part):
                listed = found[part.start.tzinfo]
                series.append((part, listed, len(listed)))
    _add_last_instants(series)
    ranges: dict[str, tuple[datetime, datetime]] = {}
    for moments in found.values():
        tzid = _tzid(moments[0].tzinfo)
        if tzid is not None:
            low, high = min(moments), max(moments)
            if tzid in ranges:  # UTC's names: one TZID
                low, high = min(ranges[tzid][0], low), max(ranges[tzid][1], high)
            ranges[tzid] = (low, high)
    return dict(sorted(ranges.items()))


def _add_last_instants(series: list[tuple[Event, list[datetime], int]]) -> None:
    """Put the last instant of each series that can move its zone's range
    into that zone's instants, at its place."""
    zones = {id(listed): listed for _, listed, _ in series}
    extremes = {key: (min(listed), max(listed)) for key, listed in zones.items()}
    scored = []
    for order, (part, listed, place) in enumerate(series):
        bound, span = last_start_bound(part), length(part) or timedelta(0)
        reach = None if bound is None else bound + max(span, timedelta(0)) + _CLOCK_MARGIN
        floor = naive(part.start) + min(span, timedelta(0)) - _CLOCK_MARGIN
        scored.append((reach, floor, order, part, listed, place))
    # Those with no bound, then the farthest-reaching: the latest instant
    # grows at once, and the rest fall short of it.
    scored.sort(key=lambda item: (item[0] is None, item[0] or datetime.min), reverse=True)
    added = []
    for reach, floor, order, part, listed, place in scored:
        low, high = extremes[id(listed)]
        # Within one zone instants compare by wall clock: those the margin
        # keeps apart cannot be the earliest or the latest.
        if reach is not None and reach < high.replace(tzinfo=None) and floor > low.replace(tzinfo=None):
            continue
        last = last_instant(part)
        if last.tzinfo is part.start.tzinfo:  # else FOREVER: a rule with too many dates
            extremes[id(listed)] = (min(low, last), max(high, last))
            added.append((place, order, listed, last))
    for place, _, listed, last in sorted(added, key=lambda item: item[:2], reverse=True):
        listed.insert(place, last)


FOOTER = b"END:VCALENDAR\r\n"


def stamp(calendar: Calendar) -> datetime:
    """The DTSTAMP of events with no ``updated`` of their own."""
    return calendar.last_modified or DEFAULT_STAMP


def head(
    calendar: Calendar,
    events: tuple[Event, ...],
    title: str | None = None,
    source: str | None = None,
    subscribed: bool = True,
) -> bytes:
    """A VCALENDAR's opening lines and one VTIMEZONE per zone ``events`` use.

    A file to download (``subscribed`` False) leaves out what describes a
    calendar to subscribe to: its name (Outlook opens a file with
    X-WR-CALNAME as a new calendar, instead of adding the event), description
    and refresh interval.
    """
    return b"".join([opening(calendar, title, source, subscribed), zones(events)])


def opening(calendar: Calendar, title: str | None = None, source: str | None = None, subscribed: bool = True) -> bytes:
    """``head``'s lines before the VTIMEZONEs: the same for every event's
    file of a calendar version, so ``published`` makes them once for all."""
    name = calendar.name if title is None else f"{calendar.name}: {title}"
    refresh = _duration(calendar.refresh)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    if subscribed:
        lines += [f"NAME:{escape_text(name)}", f"X-WR-CALNAME:{escape_text(name)}"]
    if subscribed and calendar.description:
        lines += [
            f"DESCRIPTION:{escape_text(calendar.description)}",
            f"X-WR-CALDESC:{escape_text(calendar.description)}",
        ]
    lines += [
        f"X-WR-TIMEZONE:{calendar.timezone}",
        f"URL:{calendar.base_url}/",
    ]
    if source:
        lines.append(f"SOURCE;VALUE=URI:{source}")
    if subscribed:
        lines += [f"REFRESH-INTERVAL;VALUE=DURATION:{refresh}", f"X-PUBLISHED-TTL:{refresh}"]
    return folded(lines)


def zones(events: tuple[Event, ...]) -> bytes:
    """``head``'s VTIMEZONEs: one per zone ``events`` use, covering their instants."""
    return b"".join([_vtimezone(vtimezone_lines(tzid, earliest, latest)) for tzid, (earliest, latest) in _zone_ranges(events).items()])


@lru_cache(maxsize=1024)  # most events of a calendar share one VTIMEZONE: each event's file has it
def _vtimezone(lines: tuple[str, ...]) -> bytes:
    return folded(list(lines))


def vevent(event: Event, stamp: datetime) -> bytes:
    """One event and its overrides, as folded VEVENT components."""
    pieces: list[bytes] = []
    for part in (event, *event.overrides):
        _add_vevent(part, stamp, pieces)
    return b"".join(pieces)


def feed(
    calendar: Calendar,
    events: tuple[Event, ...],
    title: str | None = None,
    source: str | None = None,
    subscribed: bool = True,
) -> bytes:
    """A whole VCALENDAR for ``events``: header, one VTIMEZONE per zone used
    (before the events), then the events in time order.

    ``title`` names a filtered feed; ``source`` is the URL it is served at;
    ``subscribed`` False makes a file to download (see ``head``).
    ``published.Published`` puts the same parts together, reusing the
    VEVENTs of events an edit did not change.
    """
    moment = stamp(calendar)
    return b"".join([head(calendar, events, title, source, subscribed), *(vevent(e, moment) for e in events), FOOTER])

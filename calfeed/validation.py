"""Parsed events.toml → a validated ``model.Calendar``, collecting every error.

Each table is checked in full even after a problem is found, so an editor
sees every mistake of the file in one run of ``calfeed check``.
"""

from __future__ import annotations

import difflib
import hashlib
import pickle
import re
from dataclasses import replace
from functools import lru_cache
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from icalendar.prop import vDuration

from calfeed import loading
from calfeed.errors import CalendarErrors, Problem
from calfeed.model import Calendar, Category, Event, Organizer, Place, Recurrence, When
from calfeed.occurrences import naive, rule_of, series_end, starts
from calfeed.rrules import RuleError, parse_rule
from calfeed.slugs import SLUG_PATTERN, is_slug, slugify
from calfeed.timezones import UTC, LocalTimeError, localize, zone, zone_names

DEFAULT_TIMEZONE = "Europe/Rome"
DEFAULT_REFRESH = timedelta(hours=6)
LANGUAGES = ("it", "en")
STATUSES = ("confirmed", "tentative", "cancelled")
# Years a calendar can use; beyond them date arithmetic (and the tz database) ends.
FIRST_YEAR, LAST_YEAR = 1900, 2199
MAX_PAST_DAYS = 36500

TOP_KEYS = ("calendar", "places", "events")
CALENDAR_KEYS = (
    "name", "description", "timezone", "base_url", "language", "refresh", "past_days", "organizer",
)
PLACE_KEYS = ("name", "address", "geo", "url")
ORGANIZER_KEYS = ("name", "email")
EVENT_KEYS = (
    "id", "title", "start", "end", "duration", "timezone", "place", "location", "categories",
    "description", "url", "online", "attachments", "image", "organizer", "rrule", "exdates",
    "rdates", "status", "sequence", "updated", "uid", "overrides",
)
OVERRIDE_KEYS = (
    "recurrence_id", "title", "start", "end", "duration", "place", "location", "categories",
    "description", "url", "online", "attachments", "image", "organizer", "status", "sequence", "updated",
)

# Control characters other than tab and newline (\r\n became \n on reading).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


def _kind(value: Any) -> str:
    """How TOML would call a value's type, for messages."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, datetime):
        return "a date-time"
    return {
        str: "text", int: "a whole number", float: "a number", date: "a date",
        time: "a time of day", list: "a list", dict: "a table",
    }.get(type(value), type(value).__name__)


def is_http_url(text: str) -> bool:
    """Whether text is an absolute http or https URL.

    >>> is_http_url("https://www.labsus.org/x"), is_http_url("javascript:alert(1)")
    (True, False)
    """
    if any(c.isspace() for c in text) or _CONTROL.search(text) or "\\" in text:
        return False
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host)


def _unknown(kind: str, name: str, allowed: list[str] | tuple[str, ...]) -> str:
    """"unknown key "titel"; did you mean "title"?" and what is allowed."""
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    hint = f'; did you mean "{close[0]}"?' if close else "."
    return f'unknown {kind} "{name}"{hint} Allowed: {", ".join(allowed)}'


class _Table:
    """One TOML table being checked: reports problems with its place.

    An inline table inside a field (``organizer = { ... }``) reports its
    problems on that field, through ``owner``.
    """

    def __init__(self, checker: _Checker, table: tuple, where: str | None, data: dict, owner: str | None = None):
        self.checker, self.table, self.where, self.data, self.owner = checker, table, where, data, owner
        self.index = table[1] if table[:1] == ("events",) else None  # an override sets its event's

    def error(self, field: str | None, message: str, code: str = "invalid", data: dict | None = None) -> None:
        if self.owner:
            field, message = self.owner, f"{field} {message}" if field else message
        line = self.checker.source.lines.line(self.table, field)
        self.checker.problems.append(Problem(message, self.where, field, line, code, data or {}, self.index))

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in allowed:
                self.error(None if self.owner else key, _unknown("key", key, allowed))

    def value(self, key: str, kinds: tuple[type, ...], wanted: str, required: bool = False) -> Any:
        value = self.data.get(key)
        if value is None:
            if required:
                self.error(key, f"missing; {key} is required ({wanted})")
            return None
        if not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
            self.error(key, f"must be {wanted}, not {_kind(value)}")
            return None
        return value

    def text(self, key: str, required: bool = False, one_line: bool = False, value: Any = None) -> str | None:
        text = value if value is not None else self.value(key, (str,), "text in quotes", required)
        if text is None:
            return None
        if match := _CONTROL.search(text):
            self.error(key, f"contains the control character U+{ord(match.group()):04X}; only tabs and line breaks are allowed")
            return None
        if one_line and "\n" in text:
            self.error(key, "must be one line of text")
            return None
        if required and not text.strip():
            self.error(key, "must not be empty")
            return None
        return text

    def url(self, key: str, value: Any = None, required: bool = False) -> str | None:
        text = self.text(key, value=value, one_line=True, required=required)
        if text is not None and not is_http_url(text):
            self.error(key, f'"{text[:100]}" is not a web address; only http:// and https:// URLs are allowed')
            return None
        return text

    def urls(self, key: str) -> tuple[str, ...]:
        items = self.value(key, (list,), "a list of URLs in quotes")
        found = []
        for item in items or []:
            if not isinstance(item, str):
                self.error(key, f"must be a list of URLs in quotes, found {_kind(item)}")
            elif (url := self.url(key, value=item)) is not None:
                found.append(url)
        return tuple(found)

    def whole(self, key: str, minimum: int = 0, maximum: int = 2**31 - 1) -> int | None:
        number = self.value(key, (int,), "a whole number")
        if number is not None and not minimum <= number <= maximum:
            self.error(key, f"must be from {minimum} to {maximum}, not {number}")
            return None
        return number

    def duration(self, key: str) -> timedelta | None:
        text = self.text(key, one_line=True)
        if text is None:
            return None
        try:
            length = vDuration.from_ical(text)
        except Exception:
            length = None
        if not isinstance(length, timedelta) or length <= timedelta(0):
            self.error(key, f'"{text}" is not a positive ISO 8601 duration such as "PT1H30M", "P1D" or "P1W"')
            return None
        return length

    def zone_name(self, key: str, default: str | None) -> str | None:
        name = self.text(key, one_line=True)
        if name is None:
            return default
        if name not in zone_names():
            close = difflib.get_close_matches(name, sorted(zone_names()), n=1)
            hint = f'; did you mean "{close[0]}"?' if close else "."
            self.error(key, f'unknown time zone "{name}"{hint} Use an IANA name such as "Europe/Rome"')
            return None
        return name

    def organizer(self, key: str) -> Organizer | None:
        data = self.value(key, (dict,), 'a table such as { name = "Labsus", email = "info@example.org" }')
        if data is None:
            return None
        inner = _Table(self.checker, self.table, self.where, data, owner=key)
        inner.check_keys(ORGANIZER_KEYS)
        name = inner.text("name", one_line=True)
        email = inner.text("email", one_line=True)
        if email is not None and not _EMAIL.match(email):
            self.error(key, f'"{email}" is not an e-mail address such as info@example.org')
            email = None
        return Organizer(name, email) if name or email else None


class _Checker:
    def __init__(self, source: loading.Source):
        self.source = source
        self.problems: list[Problem] = []
        self.overrides_seen = 0  # [[events.overrides]] are numbered across the file


def _moment(table: _Table, key: str, tz_name: str | None, value: Any = None) -> date | datetime | None:
    """A TOML date or date-time as the model holds it: a date, an aware
    datetime in the zone for a local time, or UTC for an offset time."""
    value = table.data.get(key) if value is None else value
    if isinstance(value, date) and not FIRST_YEAR <= value.year <= LAST_YEAR:
        table.error(key, f"{value} is out of range; calfeed takes years {FIRST_YEAR} to {LAST_YEAR}")
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        if tz_name is None:
            return None  # the zone itself is wrong, and already reported
        try:
            return localize(value, zone(tz_name))
        except LocalTimeError as error:
            table.error(key, str(error))
            return None
    if isinstance(value, date):
        return value
    if isinstance(value, time):
        table.error(key, f"{value} has no date; write a date-time such as 2021-12-01T18:00:00")
    else:
        table.error(key, f"must be a date (2021-12-01) or a date-time (2021-12-01T18:00:00), not {_kind(value)}")
    return None


def _calendar(checker: _Checker, data: Any, base_url_override: str | None) -> dict:
    """The [calendar] settings; when the table is missing they take their
    defaults, so that the events are still checked."""
    if not isinstance(data, dict):
        where = _Table(checker, (), None, {})
        if data is None:
            where.error(None, "[calendar] table is missing; it needs at least name and base_url")
        else:
            where.error("calendar", f"must be a table ([calendar]), not {_kind(data)}")
        return {
            "name": None, "description": None, "timezone": DEFAULT_TIMEZONE, "base_url": None,
            "language": "it", "refresh": DEFAULT_REFRESH, "past_days": None, "organizer": None,
        }
    table = _Table(checker, ("calendar",), "[calendar]", data)
    table.check_keys(CALENDAR_KEYS)
    name = table.text("name", required=True, one_line=True)
    base_url = base_url_override or table.url("base_url", required=True)
    if base_url_override and not is_http_url(base_url_override):
        table.error("base_url", f'CALFEED_BASE_URL "{base_url_override}" is not an http(s) URL')
        base_url = None
    language = table.text("language", one_line=True) or "it"
    if language not in LANGUAGES:
        table.error("language", f'"{language}" is not available; use "it" or "en"')
    refresh = table.duration("refresh") if "refresh" in data else DEFAULT_REFRESH
    if refresh is not None and refresh > timedelta(days=31):
        table.error("refresh", "must be at most 31 days (P31D); clients poll at least that often")
        refresh = None
    return {
        "name": name,
        "description": table.text("description"),
        "timezone": table.zone_name("timezone", DEFAULT_TIMEZONE),
        "base_url": base_url.rstrip("/") if base_url else None,
        "language": language,
        "refresh": refresh,
        "past_days": table.whole("past_days", maximum=MAX_PAST_DAYS),
        "organizer": table.organizer("organizer"),
    }


def _places(checker: _Checker, data: Any) -> dict[str, Place]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        _Table(checker, (), None, {}).error("places", f"must be tables such as [places.bagni-pubblici], not {_kind(data)}")
        return {}
    places = {}
    for slug, raw in data.items():
        table = _Table(checker, ("places", slug), f'place "{slug}"', raw if isinstance(raw, dict) else {})
        if not is_slug(slug):
            table.error(None, f'"{slug}" is not a valid slug: lower-case letters, digits and "-", starting with a letter or digit (e.g. "bagni-pubblici")')
        if not isinstance(raw, dict):
            table.error(None, f"must be a table with at least a name, not {_kind(raw)}")
            continue
        table.check_keys(PLACE_KEYS)
        name = table.text("name", required=True, one_line=True)
        geo = raw.get("geo")
        if geo is not None:
            if (
                not isinstance(geo, list) or len(geo) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in geo)
                or not (-90 <= geo[0] <= 90 and -180 <= geo[1] <= 180)
            ):
                table.error("geo", "must be [latitude, longitude] in degrees, e.g. [45.0907, 7.6913]")
                geo = None
            else:
                geo = (float(geo[0]), float(geo[1]))
        place = Place(slug, name or slug, table.text("address"), geo, table.url("url"))
        places[slug] = place
    return places


def _label(raw: dict, index: int) -> str:
    """How messages name an event: its id when it has one, and its position."""
    ident = raw.get("id")
    if isinstance(ident, str) and ident and not _CONTROL.search(ident):
        return f'event "{ident[:80]}" (#{index + 1})'
    return f"event #{index + 1}"


def _times(table: _Table, raw: dict, tz_name: str | None, start: When | None = None) -> tuple[When | None, When | None]:
    """start, and the exclusive end (DTEND) from end or duration; an override
    passes the ``start`` it inherits when it gives none of its own."""
    if "start" in raw:
        start = _moment(table, "start", tz_name)
    elif start is None:
        table.error("start", "missing; start is required (a date or a date-time)")
    end = None
    if "end" in raw and "duration" in raw:
        table.error("duration", "give either end or duration, not both")
    elif "end" in raw:
        end = _moment(table, "end", tz_name)
        if end is not None and start is not None:
            if isinstance(start, datetime) != isinstance(end, datetime):
                wanted = "a date-time" if isinstance(start, datetime) else "a date (all-day events end on a day)"
                table.error("end", f"must be {wanted}, like start")
                end = None
            elif isinstance(start, datetime):
                end = end.astimezone(start.tzinfo)  # DTEND is written in DTSTART's zone
                if end <= start:
                    table.error("end", f"{raw['end'].isoformat()} is not after start {start.isoformat()}; an event must end after it starts")
                    end = None
            elif end < start:
                table.error("end", f"{end} is before start {start}; for an all-day event end is the last day, inclusive")
                end = None
            else:
                end = end + timedelta(days=1)
        else:
            end = None
    elif "duration" in raw:
        length = table.duration("duration")
        if length is not None and length > timedelta(days=366 * 10):
            table.error("duration", f"{raw['duration']} is longer than ten years; is it a typo?")
        elif length is not None and start is not None:
            if isinstance(start, datetime):
                # Days are calendar days (same wall-clock time), the rest exact.
                end = (start + timedelta(days=length.days)).astimezone(UTC)
                end = (end + timedelta(seconds=length.seconds)).astimezone(start.tzinfo)
            elif length.seconds:
                table.error("duration", f"{raw['duration']} is not whole days; an all-day event lasts whole days (P1D, P2D)")
            else:
                end = start + timedelta(days=length.days)
    return start, end


def _details(table: _Table, raw: dict, places: dict[str, Place], tz_name: str | None) -> dict[str, Any]:
    """The descriptive fields present in ``raw``, checked, as Event keywords."""
    found: dict[str, Any] = {}
    if "title" in raw:
        found["title"] = table.text("title", required=True, one_line=True) or ""
    if "place" in raw:
        slug = table.text("place", one_line=True)
        found["place"] = places.get(slug) if slug is not None else None
        if slug is not None and found["place"] is None:
            known = ", ".join(sorted(places)) or "none defined"
            close = difflib.get_close_matches(slug, sorted(places), n=1)
            hint = f' did you mean "{close[0]}"?' if close else ""
            table.error("place", f'unknown place "{slug}";{hint} places in this file: {known}')
    if "location" in raw:
        found["location"] = table.text("location")
        if "place" in raw:
            table.error("location", "give either place or location, not both")
    if "categories" in raw:
        categories: list[Category] = []
        for name in table.value("categories", (list,), "a list of names in quotes") or []:
            if not isinstance(name, str):
                table.error("categories", f"must be a list of names in quotes, found {_kind(name)}")
                continue
            name = table.text("categories", value=name, one_line=True)
            if name is None:
                continue
            if not slugify(name):
                table.error("categories", f'"{name}" has no letters or digits to make its URL from')
            elif (category := _category(name.strip())) not in categories:
                categories.append(category)
        found["categories"] = tuple(categories)
    if "status" in raw:
        found["status"] = table.text("status", one_line=True) or "confirmed"
        if found["status"] not in STATUSES:
            table.error("status", f'"{found["status"]}" is not a status; use one of: {", ".join(STATUSES)}')
    if "updated" in raw:
        updated = _moment(table, "updated", tz_name)
        if updated is not None and not isinstance(updated, datetime):
            table.error("updated", "must be a date-time, e.g. 2021-11-20T10:00:00")
            updated = None
        found["updated"] = updated.astimezone(UTC) if updated else None
    for key in ("description",):
        if key in raw:
            found[key] = table.text(key)
    for key in ("url", "image"):
        if key in raw:
            found[key] = table.url(key)
    for key in ("online", "attachments"):
        if key in raw:
            found[key] = table.urls(key)
    if "organizer" in raw:
        found["organizer"] = table.organizer("organizer")
    if "sequence" in raw:
        found["sequence"] = table.whole("sequence") or 0
    return found


def _event(checker: _Checker, raw: dict, index: int, calendar: dict, places: dict[str, Place], host: str) -> Event | None:
    table = _Table(checker, ("events", index), _label(raw, index), raw)
    before = len(checker.problems)
    table.check_keys(EVENT_KEYS)
    ident = table.text("id", required=True, one_line=True)
    if ident is not None and not is_slug(ident):
        table.error("id", f'"{ident}" is not a valid id: lower-case letters, digits and "-", starting with a letter or digit, at most 80 characters (pattern {SLUG_PATTERN.pattern})')
    if "title" not in raw:
        table.error("title", "missing; title is required (text in quotes)")
    tz_name = table.zone_name("timezone", calendar["timezone"])
    start, end = _times(table, raw, tz_name)
    details = _details(table, raw, places, tz_name)
    details.setdefault("organizer", calendar["organizer"])
    uid = table.text("uid", one_line=True)
    event = Event(
        id=ident or "",
        uid=uid or f"{ident}@{host}",
        title=details.pop("title", ""),
        start=start,
        end=end,
        timezone=tz_name if isinstance(start, datetime) and start.tzinfo is not UTC else None,
        **details,
    )
    if start is not None and any(key in raw for key in ("rrule", "rdates", "exdates")):
        event = _recurrence(table, raw, event)
    if "overrides" in raw and start is not None:
        event = replace(event, overrides=_overrides(checker, table, raw, event, places, tz_name))
    return event if len(checker.problems) == before else None


def _show(moment: datetime) -> str:
    return moment.isoformat() if moment.time() != time() else moment.date().isoformat()


def _not_a_date_of(series: Event, moment: When) -> tuple[str, dict] | None:
    """None when ``moment`` starts an occurrence of the series, else what to say (message, data)."""
    local = naive(moment)
    if starts(series, local, local):
        return None
    rule = rule_of(series)
    near = [m for m in (rule.before(local), rule.after(local)) if m] if rule else []
    near += [naive(r) for r in series.recurrence.rdates]
    near = sorted(set(near), key=lambda m: abs(m - local))[:2]
    listed = " or ".join(_show(m) for m in sorted(near)) or "none"
    iso = (lambda m: m.isoformat()) if isinstance(series.start, datetime) else (lambda m: m.date().isoformat())
    data = {"value": iso(local), "nearest": [iso(m) for m in sorted(near)]}
    return f"{_show(local)} is not a date of the series; the nearest are {listed}", data


def _dates(table: _Table, key: str, event: Event, values: list | None = None) -> tuple[When, ...]:
    """exdates, rdates (or a recurrence_id): of the same kind as start, in its zone."""
    if values is None:
        values = table.value(key, (list,), "a list of dates or date-times") or []
    found = []
    for value in values:
        if isinstance(value, date) and isinstance(value, datetime) != isinstance(event.start, datetime):
            wanted = "date-times like start (2021-12-08T18:00:00)" if isinstance(event.start, datetime) else "dates like start (2021-12-08)"
            table.error(key, f"{value.isoformat()} is not allowed here; give {wanted}")
            continue
        if isinstance(value, datetime) and value.tzinfo is None and isinstance(event.start, datetime):
            # A date of the series may fall in a DST gap or overlap: it is
            # named by its wall-clock time, read as RFC 5545 reads the rule's.
            moment = value.replace(tzinfo=event.start.tzinfo, fold=0)
        else:
            moment = _moment(table, key, event.timezone, value=value)
        if moment is None:
            continue
        found.append(moment.astimezone(event.start.tzinfo) if isinstance(moment, datetime) else moment)
    return tuple(found)


def _until(table: _Table, written: date | datetime, event: Event) -> date | datetime | None:
    """UNTIL as the feed carries it: a date for an all-day series, else a UTC
    instant (a date includes that whole day; a local time is in the event's zone)."""
    start = event.start
    if not isinstance(start, datetime):
        if isinstance(written, datetime):
            table.error("rrule", f"UNTIL={written.isoformat()}: an all-day series ends on a date, e.g. UNTIL=2022-06-29")
            return None
        until = written
    else:
        local = datetime.combine(written, time(23, 59, 59)) if not isinstance(written, datetime) else written
        try:
            until = local if local.tzinfo else localize(local, start.tzinfo)
        except LocalTimeError as error:
            table.error("rrule", f"UNTIL: {error}")
            return None
        until = until.astimezone(UTC)
    if until < start:
        table.error("rrule", f"UNTIL={written.isoformat()} is before start {start.isoformat()}")
        return None
    return until


def _recurrence(table: _Table, raw: dict, event: Event) -> Event:
    """The event with its rrule, rdates and exdates checked and attached."""
    if isinstance(event.start, datetime) and event.timezone is None:
        table.error("start", "a series follows wall-clock time: write start without an offset (e.g. 2021-12-01T18:00:00), and timezone if it is not the calendar's")
        return event
    rule = until = None
    text = table.text("rrule", one_line=True) if "rrule" in raw else None
    if text is not None:
        try:
            rule = parse_rule(text)
        except RuleError as error:
            table.error("rrule", f"{error}")
    if rule is not None and rule.until is not None:
        until = _until(table, rule.until, event)
        rule = rule if until is not None else None
    series = replace(event, recurrence=Recurrence(rule, until, (), _dates(table, "rdates", event)))
    if rule is not None:
        try:
            first = rule_of(series)[0]
        except IndexError:
            table.error("rrule", "the rule gives no dates at all; check BYMONTHDAY, BYMONTH and the like")
            return event
        except ValueError as error:
            table.error("rrule", f"{error}")
            return event
        if first != naive(event.start):
            table.error(
                "start",
                f"{_show(naive(event.start))} ({naive(event.start):%A}) is not a date of the rule {text}; "
                f"start the series on its first date, {_show(first)}",
                "start-not-first-date", {"first": first.isoformat() if isinstance(event.start, datetime) else first.date().isoformat()},
            )
            return event
    exdates = _dates(table, "exdates", series)
    if exdates and rule is None and not series.recurrence.rdates:
        table.error("exdates", "leave out dates of a series: this event has no rrule or rdates")
        return event
    for moment in exdates:
        if stray := _not_a_date_of(series, moment):
            table.error("exdates", stray[0], "not-a-date-of-series", stray[1])
    return replace(series, recurrence=replace(series.recurrence, exdates=exdates))


def _overrides(checker: _Checker, table: _Table, raw: dict, series: Event, places: dict[str, Place], tz_name: str | None) -> tuple[Event, ...]:
    """[[events.overrides]]: single dates of the series moved, changed or cancelled."""
    items = raw["overrides"]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        table.error("overrides", "must be [[events.overrides]] tables")
        return ()
    if series.recurrence is None:
        table.error("overrides", "overrides change single dates of a series; this event has no rrule or rdates")
        return ()
    found: dict[datetime, Event] = {}
    for position, item in enumerate(items):
        inner = _Table(checker, ("events.overrides", checker.overrides_seen), f"{table.where}, override #{position + 1}", item)
        checker.overrides_seen += 1
        inner.index = table.index
        inner.check_keys(OVERRIDE_KEYS)
        if "recurrence_id" not in item:
            inner.error("recurrence_id", "missing; give the original start of the date this override changes")
            continue
        original = _dates(inner, "recurrence_id", series, [item["recurrence_id"]])
        if not original:
            continue
        (original,) = original
        if stray := _not_a_date_of(series, original):
            inner.error("recurrence_id", stray[0], "not-a-date-of-series", stray[1])
            continue
        if naive(original) in found:
            inner.error("recurrence_id", f"{_show(naive(original))} is changed by an earlier override too")
            continue
        start, end = _times(inner, item, tz_name, start=original)
        if start is not None and "end" not in item and "duration" not in item:
            end = series_end(series, start)  # same length as the others
        changes = _details(inner, item, places, tz_name)
        if "location" in changes:
            changes.setdefault("place", None)  # a new location replaces the series' place
        if "place" in item:
            changes.setdefault("location", None)
        timezone = getattr(start.tzinfo, "key", None) if isinstance(start, datetime) else None
        found[naive(original)] = replace(
            series, start=start, end=end, timezone=timezone, recurrence=None, overrides=(), recurrence_id=original, **changes
        )
    return tuple(found[key] for key in sorted(found))


@lru_cache(maxsize=4096)
def _category(name: str) -> Category:
    """One Category object per name, shared by the events that use it."""
    return Category(name)


def _digest(value: Any) -> bytes:
    """A fingerprint of parsed TOML: equal fingerprints, equal values."""
    return hashlib.blake2b(pickle.dumps(value, protocol=5), digest_size=16).digest()


class EventReuse:
    """The events of the last good version, by the fingerprint of their
    [[events]] table: a reload re-checks only the tables that changed, as long
    as the tables they depend on ([calendar], [places], the base URL) did not."""

    def __init__(self) -> None:
        self.context: bytes | None = None
        self.events: dict[bytes, Event] = {}

    def known(self, context: bytes) -> dict[bytes, Event]:
        return self.events if context == self.context else {}

    def keep(self, context: bytes, events: dict[bytes, Event]) -> None:
        self.context, self.events = context, events


def build_calendar(source: loading.Source, base_url: str | None = None, reuse: EventReuse | None = None) -> Calendar:
    """Check parsed TOML and build the calendar; raise every problem at once.

    ``reuse`` carries the checked events from one load of a file to the next.
    """
    checker = _Checker(source)
    top = _Table(checker, (), None, source.data)
    top.check_keys(TOP_KEYS)
    calendar = _calendar(checker, source.data.get("calendar"), base_url)
    places = _places(checker, source.data.get("places"))
    raw_events = source.data.get("events", [])
    if not isinstance(raw_events, list) or not all(isinstance(e, dict) for e in raw_events):
        top.error("events", "must be a list of [[events]] tables")
        raw_events = []
    events: list[Event] = []
    host = urlsplit(calendar["base_url"]).hostname if calendar["base_url"] else "calfeed.invalid"
    context = _digest((source.data.get("calendar"), source.data.get("places"), base_url)) if reuse else b""
    known = reuse.known(context) if reuse else {}
    checked: dict[bytes, Event] = {}
    for index, raw in enumerate(raw_events):
        fingerprint = _digest(raw) if reuse else b""
        event = known.get(fingerprint)
        if event is None:
            event = _event(checker, raw, index, calendar, places, host)
        else:  # keeps the file-wide numbering of overrides in later errors
            checker.overrides_seen += len(raw.get("overrides", ()))
        if event is not None:
            events.append(event)
            checked[fingerprint] = event
    seen_ids: dict[str, int] = {}
    seen_uids: dict[str, int] = {}
    for index, raw in enumerate(raw_events):
        ident, uid = raw.get("id"), raw.get("uid")
        table = _Table(checker, ("events", index), _label(raw, index), raw)
        repeated_id = isinstance(ident, str) and ident in seen_ids
        if repeated_id:
            table.error("id", f'duplicate id "{ident}": event #{seen_ids[ident] + 1} has it too; ids must be unique')
        if isinstance(ident, str):
            seen_ids.setdefault(ident, index)
        if isinstance(uid, str) or isinstance(ident, str) and not repeated_id:
            uid = uid if isinstance(uid, str) else f"{ident}@{host}"  # the default UID
            if uid in seen_uids:
                table.error("uid", f'duplicate UID "{uid}": event #{seen_uids[uid] + 1} has it too; UIDs must be unique')
            seen_uids.setdefault(uid, index)
    if checker.problems:
        raise CalendarErrors(source.path, checker.problems)
    if reuse:
        reuse.keep(context, checked)
    categories = {c: c for e in events for c in e.categories}
    return Calendar(
        name=calendar["name"],
        base_url=calendar["base_url"],
        timezone=calendar["timezone"],
        description=calendar["description"],
        language=calendar["language"],
        refresh=calendar["refresh"],
        past_days=calendar["past_days"],
        places=tuple(places.values()),
        events=tuple(sorted(events, key=_start_key)),
        categories=tuple(sorted(categories, key=lambda c: c.slug)),
    )


def _start_key(event: Event) -> tuple:
    """Events in time order; all-day events at the start of their day (UTC)."""
    start = event.start if isinstance(event.start, datetime) else datetime.combine(event.start, time(), UTC)
    return start.astimezone(UTC), event.id


def load_calendar(path: str | Path, base_url: str | None = None) -> Calendar:
    """Read, parse and validate events.toml: the one way into a Calendar.

    ``base_url`` (from CALFEED_BASE_URL) overrides ``[calendar].base_url``.
    """
    return build_calendar(loading.read(path), base_url)

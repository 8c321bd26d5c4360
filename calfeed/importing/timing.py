"""The times of an iCalendar event → the times of events.toml: which zone an
event is kept in, wall-clock times where the instant allows them, rules
with their UNTIL, and dates of a series.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from datetime import timezone as fixed_offset
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from dateutil.rrule import rrule, rrulestr
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from calfeed.importing.report import Report
from calfeed.occurrences import naive
from calfeed.timezones import UTC, UTC_ZONE_NAME, LocalTimeError, current_rules, is_utc_name, localize, zone, zone_names



@dataclass
class Timing:
    """How the source's times become events.toml values."""

    target: str  # the calendar's zone

    def zone_of(self, value: datetime, tzid: str | None = None) -> str | None:
        """The IANA zone a date-time is written in (a Windows name mapped to
        its IANA zone); None for UTC and for zones known by offsets only."""
        key = getattr(value.tzinfo, "key", None) or WINDOWS_TO_OLSON.get(tzid or "") or tzid
        if key not in zone_names() or value.utcoffset() == timedelta(0) and is_utc_name(key):
            return None
        return key

    def local(self, value: datetime, name: str) -> datetime | None:
        """Wall-clock time in zone ``name`` if it names the instant exactly once."""
        moment = value.astimezone(zone(name)).replace(tzinfo=None)
        try:
            localize(moment, zone(name))
        except LocalTimeError:
            return None
        return moment

    def value(self, value: date | datetime, name: str) -> date | datetime:
        """A start, end or date of an event kept in zone ``name``: local when
        the instant allows it, else the instant with its offset."""
        if not isinstance(value, datetime):
            return value
        if value.tzinfo is None:  # floating: wall-clock time, read in the zone
            return value
        return self.local(value, name) or value.astimezone(zone(name))


def file_zone(value: date | datetime) -> tzinfo | None:
    """The zone of a date-time when the file's VTIMEZONE defines it: icalendar
    reads one whose TZID is no IANA name (Windows names such as "Romance
    Standard Time", custom TZIDs) by the file's own rules; ``conversion.standard``
    does the same for IANA TZIDs, which icalendar would look up."""
    zone_info = value.tzinfo if isinstance(value, datetime) else None
    if zone_info is None or zone_info is UTC or isinstance(zone_info, (ZoneInfo, fixed_offset)):
        return None
    return zone_info


def _same_clock(first: str, second: str, since: datetime) -> bool:
    """Whether two zones show the same time from ``since`` on (Outlook's
    "W. Europe Standard Time" is Europe/Berlin, which Rome's clocks match)."""
    def shape(name: str):
        rules = current_rules(name)
        if rules is None:
            return None, None
        return rules.since, [(r.month, r.weekday, r.first_day, r.at, r.offset_before, r.offset_after) for r in rules.rules]

    (first_since, first_rules), (second_since, second_rules) = shape(first), shape(second)
    return (
        first_rules is not None and first_rules == second_rules
        and max(first_since, second_since) <= since.year
        and since.astimezone(zone(first)).utcoffset() == since.astimezone(zone(second)).utcoffset()
    )


def _in_utc(value: datetime, tzid: str | None) -> bool:
    """Whether a date-time is written in UTC (``Z``, or a TZID naming UTC)."""
    key = getattr(value.tzinfo, "key", None) or ("UTC" if value.tzinfo is UTC else None)
    return value.utcoffset() == timedelta(0) and is_utc_name(key or tzid or "")


def wall_day(value: datetime, target: str) -> date:
    """The day a date-time names in an all-day series: its date on its own
    clock (Exchange writes the organiser's midnight with the organiser's
    TZID), a UTC time's on the calendar's clock (Google writes the calendar's
    midnight in UTC).

    >>> sydney = datetime(2026, 5, 26, 0, 0, tzinfo=zone("Australia/Sydney"))
    >>> wall_day(sydney, "Europe/Rome"), wall_day(sydney.astimezone(UTC), "Europe/Rome")
    (datetime.date(2026, 5, 26), datetime.date(2026, 5, 25))
    """
    if value.tzinfo is None or not _in_utc(value, None):
        return value.date()
    return value.astimezone(zone(target)).date()


def zone_for(component, timing: Timing, report: Report | None = None, label: str = "") -> str:
    """The zone an event is kept in: the calendar's, unless its DTSTART names
    another zone whose clocks differ. A one-off event in UTC is an instant,
    written in the calendar's zone; a series in UTC follows UTC's clock."""
    start = component.decoded("DTSTART")
    if isinstance(start, datetime) and start.tzinfo is not None:
        tzid = component["DTSTART"].params.get("TZID")
        named = timing.zone_of(start, tzid)
        if named is None and "RRULE" in component and _in_utc(start, tzid) and _ever_shifts(timing.target, start):
            if report is not None:
                report.notes.append(f'{label}: a series in UTC; kept on UTC\'s clock (timezone = "{UTC_ZONE_NAME}"), since '
                                    f"{timing.target}'s clock differs from UTC's on some of its dates")
            return UTC_ZONE_NAME
        if named is None or named == timing.target or _same_clock(named, timing.target, start):
            return timing.target
        return named
    return timing.target


def _ever_shifts(name: str, since: datetime) -> bool:
    """Whether zone ``name`` is ever off UTC from ``since`` on (a change of rules included)."""
    return current_rules(name) is not None or since.astimezone(zone(name)).utcoffset() != timedelta(0)


def rule_texts(
    component, start: date | datetime, zone_name: str, report: Report, label: str, clock: tzinfo | None = None
) -> list[str]:
    """Every RRULE as events.toml writes it: UNTIL in the event's wall-clock
    time (``clock``'s when given; a date for an all-day series, also when the
    source wrote UNTIL=...Z)."""
    rules = component.get("RRULE")
    if rules is None:
        return []
    texts = []
    for rule in rules if isinstance(rules, list) else [rules]:
        if not dict(rule):
            continue  # an empty "RRULE:" (CalendarLabs' holiday calendars): no rule, as clients read it
        texts.append(_rule_text(rule, start, clock or zone(zone_name)))
        until = dict(rule).get("UNTIL", [None])[0]
        if isinstance(until, datetime) and not isinstance(start, datetime):
            read = re.search(r"UNTIL=([0-9-]+)", texts[-1]).group(1)
            report.notes.append(f"{label}: UNTIL {until.isoformat()} is a date-time in an all-day series; read as {read}")
    return texts


def _rule_text(rule, start: date | datetime, clock: tzinfo) -> str:
    text_parts = []
    for key, values in dict(rule).items():
        if key == "UNTIL":
            until = values[0]
            if isinstance(until, datetime):
                if until.tzinfo is None:
                    until = until.replace(tzinfo=clock)
                local = until.astimezone(clock).replace(tzinfo=None)
                text_parts.append(f"UNTIL={local.isoformat()}" if isinstance(start, datetime) else f"UNTIL={local.date().isoformat()}")
            else:
                text_parts.append(f"UNTIL={until.isoformat()}")
            continue
        text_parts.append(icalendar.prop.vRecur({key: values}).to_ical().decode())
    return ";".join(text_parts)


def rule_dates(text: str, start: date | datetime) -> rrule:
    """The wall-clock starts of one rule written by ``rule_texts``, from ``start``
    (a date UNTIL of a timed series includes that whole day, as in events.toml;
    a start off the rule is one of its COUNT).

    >>> list(rule_dates("FREQ=DAILY;UNTIL=2025-03-05", datetime(2025, 3, 4, 18, 0)))[-1]
    datetime.datetime(2025, 3, 5, 18, 0)
    >>> [d.day for d in rule_dates("FREQ=WEEKLY;BYDAY=MO;COUNT=3", datetime(2025, 3, 4, 18, 0))]
    [10, 17]
    """
    def basic(match: re.Match) -> str:
        until = match.group(1).replace("-", "").replace(":", "")
        return f"UNTIL={until}" + ("T235959" if "T" not in until and isinstance(start, datetime) else "")

    rule = rrulestr(re.sub(r"UNTIL=([0-9T:-]+)", basic, text), dtstart=naive(start))
    count = re.search(r"(?:^|;)COUNT=(\d+)", text)
    if count and next(iter(rule), None) != naive(start):  # RFC 5545: DTSTART is the first of COUNT, also off the rule
        rule = rule.replace(count=int(count.group(1)) - 1)
    return rule


def is_bounded(text: str) -> bool:
    """Whether a rule has an end (COUNT or UNTIL)."""
    return bool(re.search(r"(^|;)(COUNT|UNTIL)=", text))


def like_start(value: date | datetime, start: date | datetime, rules: list[rrule]) -> list[date | datetime]:
    """A date of a series (EXDATE, RDATE, RECURRENCE-ID, already in the event's
    zone) in the form of its start, as clients match them: a date-time names
    its day in an all-day series; a date in a timed series names the series'
    starts on that day (its time of day when no rule has one there)."""
    if not isinstance(start, datetime):
        return [value.date() if isinstance(value, datetime) else value]
    if not isinstance(value, datetime):
        day = datetime.combine(value, time())
        found = {moment for rule in rules for moment in rule.between(day, day + timedelta(days=1), inc=False)}
        if naive(start).date() == value:
            found.add(naive(start))
        found = sorted(found) or [datetime.combine(value, naive(start).time())]
        return [moment.replace(tzinfo=start.tzinfo) for moment in found]
    if start.tzinfo is None and value.tzinfo is not None:
        return [value.replace(tzinfo=None)]
    return [value]


def dates_of(component, name: str) -> list[date | datetime]:
    """Every date of the RDATE or EXDATE properties (a PERIOD by its start)."""
    values = component.get(name)
    if values is None:
        return []
    found = []
    for value in values if isinstance(values, list) else [values]:
        for item in value.dts:
            moment = item.dt
            found.append(moment[0] if isinstance(moment, tuple) else moment)  # a PERIOD: its start
    return found


def period_ends(component) -> dict[datetime, datetime]:
    """The end of each RDATE written as a PERIOD (start/end or start/duration), by its start."""
    values = component.get("RDATE")
    ends = {}
    for value in values if isinstance(values, list) else [values] if values is not None else []:
        for item in value.dts:
            if isinstance(item.dt, tuple):
                begins, until = item.dt
                ends[begins] = until if isinstance(until, datetime) else begins + until
    return ends


def times_of(component, timing: Timing, zone_name: str, label: str, report: Report) -> dict[str, Any]:
    """start, and end or duration where they say something (events.toml's
    all-day end is the last day)."""
    start = component.decoded("DTSTART")
    fields: dict[str, Any] = {}
    fields["start"] = timing.value(start, zone_name)
    if "DTEND" in component:
        end = component.decoded("DTEND")
        if not isinstance(start, datetime) and isinstance(end, datetime):
            end = _end_day(end, label, report)
        elif isinstance(start, datetime) and not isinstance(end, datetime):
            report.notes.append(f"{label}: DTEND {end.isoformat()} is a date in a timed event; the end was left out: check it")
            end = None
        if end is not None and not isinstance(start, datetime):
            if end > start + timedelta(days=1):
                fields["end"] = end - timedelta(days=1)  # events.toml's end is the last day
            elif end < start + timedelta(days=1):
                report.notes.append(f"{label}: DTEND {end.isoformat()} is not after DTSTART {start.isoformat()}; read as one whole day")
        elif end is not None:
            if end.tzinfo is None and start.tzinfo is not None:
                end = end.replace(tzinfo=start.tzinfo)
            if instant(end, zone_name) > instant(start, zone_name):
                fields["end"] = timing.value(end, zone_name)
            elif instant(end, zone_name) < instant(start, zone_name):
                report.notes.append(f"{label}: DTEND is before DTSTART; the end was left out")
    elif "DURATION" in component:
        length = component.decoded("DURATION")
        if length > timedelta(0):
            fields["duration"] = icalendar.prop.vDuration(length).to_ical().decode()
    return fields


def _end_day(end: datetime, label: str, report: Report) -> date:
    """The end of an all-day event written as a date-time (as some servers
    write it): midnight on its own clock ends the day before, any later time
    ends that day."""
    wall = end.replace(tzinfo=None)
    day = wall.date() if wall.time() == time() else wall.date() + timedelta(days=1)
    report.notes.append(f"{label}: DTEND {end.isoformat()} is a date-time in an all-day event; read as ending with {(day - timedelta(days=1)).isoformat()}")
    return day


def instant(value: date | datetime, zone_name: str) -> datetime:
    """A start or end as a UTC instant, for sorting and comparing (floating: in ``zone_name``)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(zone_name))
    return value.astimezone(UTC)


def length_of(fields: dict[str, Any]) -> timedelta | None:
    """How long an event lasts, where start and end are of one kind."""
    start, end = fields.get("start"), fields.get("end")
    if end is None:
        return None
    if not isinstance(start, datetime):
        return end - start
    return end - start if (start.tzinfo is None) == (end.tzinfo is None) else None

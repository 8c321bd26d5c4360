"""A series: rrule, UNTIL, rdates, exdates and [[events.overrides]].

Every part is checked on its own even when another is wrong (a bad start
does not hide a bad BYDAY); only what needs the whole series (whether an
exdate is one of its dates) waits for the parts it depends on, and says so.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from dateutil.rrule import rrulestr

from calfeed.model import Event, Place, Recurrence, When
from calfeed.occurrences import MAX_DATES, MAX_WALK, naive, rule_of, series_end, starts
from calfeed.rrules import Rule, RuleError, parse_rule
from calfeed.timezones import UTC, LocalTimeError, localize
from calfeed.validation.details import details
from calfeed.validation.fields import OVERRIDE_KEYS, Checker, Table, kind, plain
from calfeed.validation.times import in_range, moment, show, times


# The parts that choose days; with FREQ=DAILY or HOURLY each day is kept or
# dropped by them alone (ordinal BYDAY such as 1MO belongs to longer periods).
_DAY_PARTS = ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYDAY")


def _no_day_matches(rule: Rule, start: When) -> bool:
    """Whether no day from ``start`` on passes the rule's day parts
    (``FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30``): dateutil would look for a
    first date hour by hour up to the year 9999 (9 s); a yearly walk of the
    same days finds out in a fraction of a second."""
    parts = dict(rule.parts)
    if parts["FREQ"] not in ("DAILY", "HOURLY") or any(c.isdigit() for c in parts.get("BYDAY", "")):
        return False
    days = [f"{key}={parts[key]}" for key in _DAY_PARTS if key in parts]
    if not days:
        return False
    probe = rrulestr(";".join(["FREQ=YEARLY", *days]), dtstart=naive(start).replace(hour=0, minute=0, second=0))
    return next(iter(probe), None) is None


def _nearest(series: Event, local: datetime) -> list[datetime]:
    """The dates of the series just before and just after ``local``, found
    by bounded walks (widening windows before it), never a full expansion."""
    after = starts(series, local, None, limit=1)
    before: list[datetime] = []
    for days in (1, 31, 366, 4 * 366):  # near first: a walk has a bounded length
        before = starts(series, local - timedelta(days=days), local - timedelta(microseconds=1), limit=MAX_WALK)
        if before:
            break
    return before[-1:] + after


def _not_a_date_of(table: Table, key: str, series: Event, moment: When) -> bool:
    """Report ``moment`` unless it starts an occurrence of the series; whether it did."""
    local = naive(moment)
    if starts(series, local, local):
        return True
    near = _nearest(series, local)
    listed = " or ".join(show(m) for m in near) or "none"
    table.error(
        key, f"{show(local)} is not a date of the series; the nearest are {listed}",
        "not-a-date-of-series", value=show(local), nearest=[show(m) for m in near],
    )
    return False


def _not_compared(table: Table, key: str, because: str) -> None:
    table.error(
        key, f"not compared with the series, because {because}; check it again once that is fixed",
        "not-compared", because=because,
    )


def dates(table: Table, key: str, start: When | None, tz_name: str | None, values: list | None = None) -> tuple[When, ...]:
    """exdates, rdates (or a recurrence_id): of the same kind as ``start``, in
    its zone; each checked on its own, even when ``start`` is wrong (None:
    then the dates found are only those that are right on their own)."""
    if values is None:
        values = table.value(key, (list,), "a list of dates or date-times") or []
    found = []
    for value in values:
        if start is not None and isinstance(value, date) and isinstance(value, datetime) != isinstance(start, datetime):
            wanted = "date-times like start (2021-12-08T18:00:00)" if isinstance(start, datetime) else "dates like start (2021-12-08)"
            table.error(
                key, f"{value.isoformat()} is not allowed here; give {wanted}",
                "wrong-type", value=value.isoformat(), found=kind(value), expected=wanted,
            )
            continue
        if key != "rdates" and isinstance(value, datetime) and value.tzinfo is None:
            # exdates and recurrence_id name dates of the series, which may
            # fall in a DST gap or overlap: read as RFC 5545 reads the rule's.
            found_moment = value if in_range(table, key, value) else None
            if found_moment is not None and start is not None:
                found_moment = value.replace(tzinfo=start.tzinfo, fold=0)
        else:  # an rdate is a time of its own, refused in a gap or overlap as start is
            found_moment = moment(table, key, tz_name, value=value)
        if found_moment is None:
            continue
        in_zone = start is not None and isinstance(found_moment, datetime)
        found.append(found_moment.astimezone(start.tzinfo) if in_zone else found_moment)
    return tuple(found)


def _until(table: Table, written: date | datetime, start: When) -> date | datetime | None:
    """UNTIL as the feed carries it: a date for an all-day series, else a UTC
    instant (a date includes that whole day; a local time is in the event's zone)."""
    if not isinstance(start, datetime):
        if isinstance(written, datetime):
            table.error(
                "rrule", f"UNTIL={written.isoformat()}: an all-day series ends on a date, e.g. UNTIL=2022-06-29",
                "bad-until", value=written.isoformat(),
            )
            return None
        until = written
    else:
        local = datetime.combine(written, time(23, 59, 59)) if not isinstance(written, datetime) else written
        try:
            until = local if local.tzinfo else localize(local, start.tzinfo)
        except LocalTimeError as error:
            table.error("rrule", f"UNTIL: {error}", "bad-until", value=written.isoformat())
            return None
        until = until.astimezone(UTC)
    if until < start:
        table.error(
            "rrule", f"UNTIL={written.isoformat()} is before start {start.isoformat()}",
            "until-before-start", value=written.isoformat(), start=start.isoformat(),
        )
        return None
    return until


def _at_most(series: Event, endless: bool) -> int | None:
    """How many dates the series can have at most (in its first year when
    ``endless``), known without a walk; None when only a walk can tell. A
    rule of days (DAILY or longer, no BYHOUR, BYMINUTE or BYSECOND) gives at
    most one date a day, at the start's time."""
    recurrence = series.recurrence
    parts = dict(recurrence.rule.parts)
    if "COUNT" in parts:
        return int(parts["COUNT"]) + len(recurrence.rdates)
    if parts["FREQ"] in ("HOURLY", "MINUTELY", "SECONDLY") or any(f"BY{unit}" in parts for unit in ("HOUR", "MINUTE", "SECOND")):
        return None
    last = recurrence.until.date() if isinstance(recurrence.until, datetime) else recurrence.until
    days = 367 if endless else (last - naive(series.start).date()).days + 2  # a day's slack for UTC's date
    return days + len(recurrence.rdates)


def _too_many(table: Table, series: Event) -> None:
    """Refuse a series no client could use: more than MAX_DATES dates in all,
    or (without an end) in its first year; counted by a walk that stops there
    (not needed when the rule's shape already bounds it, as it nearly always does)."""
    first = naive(series.start)
    endless = series.recurrence.until is None and "COUNT" not in dict(series.recurrence.rule.parts)
    high = first + timedelta(days=366) if endless else None
    bound = _at_most(series, endless)
    if bound is not None and bound <= MAX_DATES:
        return
    if len(starts(series, None, high, limit=MAX_DATES + 1)) > MAX_DATES:
        within = " in its first year" if endless else ""
        table.error(
            "rrule", f"the series has more than {MAX_DATES} dates{within}; calfeed takes at most {MAX_DATES} "
            "(an event every day for 27 years); use a longer period, fewer BY parts or an earlier UNTIL",
            "too-many-dates", limit=MAX_DATES,
        )


def recurrence(table: Table, raw: dict, event: Event, tz_name: str | None) -> tuple[Event, str | None]:
    """The event with its rrule, rdates and exdates checked and attached, and
    why its dates cannot be compared with the series (None when they can).

    ``event.start`` is None when start is wrong: each part is still checked
    on its own."""
    start = event.start
    broken = "start is wrong" if start is None else None
    if isinstance(start, datetime) and event.timezone is None:
        table.error(
            "start", "a series follows wall-clock time: write start without an offset (e.g. 2021-12-01T18:00:00), "
            "and timezone if it is not the calendar's",
            "offset-start-in-series", value=plain(raw.get("start")),
        )
        start, broken = None, "start has an offset"
    rule = until = None
    text = table.text("rrule", one_line=True) if "rrule" in raw else None
    if text is not None:
        try:
            rule = parse_rule(text)
        except RuleError as error:
            table.error("rrule", f"{error}", "bad-rrule", value=plain(text), reason=str(error))
    if "rrule" in raw and rule is None:
        broken = broken or "rrule is wrong"
    if rule is not None and rule.until is not None and start is not None:
        until = _until(table, rule.until, start)
        if until is None:
            rule, broken = None, broken or "UNTIL is wrong"
    given = table.data.get("rdates")
    rdates = dates(table, "rdates", start, tz_name)
    series = replace(event, recurrence=Recurrence(rule, until, (), rdates))
    if rule is not None and start is not None:
        try:
            if _no_day_matches(rule, start):
                raise IndexError(0)
            first = rule_of(series)[0]
        except IndexError:
            table.error("rrule", "the rule gives no dates at all; check BYMONTHDAY, BYMONTH and the like", "empty-rule", value=plain(text))
            first = None
        except ValueError as error:
            table.error("rrule", f"{error}", "bad-rrule", value=plain(text), reason=str(error))
            first = None
        if first is None:
            broken = broken or "rrule is wrong"
        elif first != naive(start):
            table.error(
                "start",
                f"{show(naive(start))} ({naive(start):%A}) is not a date of the rule {text}; "
                f"start the series on its first date, {show(first)}",
                "start-not-first-date", value=show(naive(start)), first=show(first),
            )
            broken = broken or "start is not the rule's first date"
        else:
            _too_many(table, series)
    if isinstance(given, list) and len(rdates) != len(given):
        broken = broken or "rdates has a mistake"
    exdates = dates(table, "exdates", start, tz_name)
    if exdates and "rrule" not in raw and not table.data.get("rdates"):
        table.error("exdates", "leave out dates of a series: this event has no rrule or rdates", "not-a-series")
    elif exdates and broken:
        _not_compared(table, "exdates", broken)
    elif exdates:
        for moment_ in exdates:
            _not_a_date_of(table, "exdates", series, moment_)
    return replace(series, recurrence=replace(series.recurrence, exdates=exdates)), broken


def overrides(
    checker: Checker, table: Table, raw: dict, series: Event, broken: str | None,
    places: dict[str, Place], tz_name: str | None,
) -> tuple[Event, ...]:
    """[[events.overrides]]: single dates of the series moved, changed or
    cancelled; each checked on its own, even when the series is ``broken``."""
    items = raw["overrides"]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        table.error("overrides", "must be [[events.overrides]] tables", "wrong-type", found=kind(items), expected="[[events.overrides]] tables")
        return ()
    if not any(key in raw for key in ("rrule", "rdates")):
        table.error("overrides", "overrides change single dates of a series; this event has no rrule or rdates", "not-a-series")
        broken = broken or "the event is not a series"
    start = None if broken else series.start
    found: dict[datetime, Event] = {}
    for position, item in enumerate(items):
        inner = Table(checker, ("events.overrides", checker.overrides_seen), f"{table.where}, override #{position + 1}", item, index=table.index)
        checker.overrides_seen += 1
        inner.check_keys(OVERRIDE_KEYS)
        original = None
        if "recurrence_id" not in item:
            inner.error(
                "recurrence_id", "missing; give the original start of the date this override changes",
                "missing-field", expected="the original start of a date of the series",
            )
        else:
            given = dates(inner, "recurrence_id", start, tz_name, [item["recurrence_id"]])
            if broken and given:
                _not_compared(inner, "recurrence_id", broken)
            elif given and _not_a_date_of(inner, "recurrence_id", series, given[0]):
                original = given[0]
                if naive(original) in found:
                    inner.error(
                        "recurrence_id", f"{show(naive(original))} is changed by an earlier override too",
                        "duplicate-override", value=show(naive(original)),
                    )
                    original = None
        # Its own fields are checked whatever became of recurrence_id.
        new_start, end = times(inner, item, tz_name, start=original, inherited=True)
        if new_start is not None and "end" not in item and "duration" not in item:
            end = series_end(series, new_start)  # same length as the others
        changes = details(inner, item, places, tz_name)
        if original is None or new_start is None:
            continue
        if "location" in changes:
            changes.setdefault("place", None)  # a new location replaces the series' place
        if "place" in item:
            changes.setdefault("location", None)
        timezone = getattr(new_start.tzinfo, "key", None) if isinstance(new_start, datetime) else None
        found[naive(original)] = replace(
            series, start=new_start, end=end, timezone=timezone, recurrence=None, overrides=(), recurrence_id=original, **changes
        )
    return tuple(found[key] for key in sorted(found))

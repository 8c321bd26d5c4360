"""Moments of an event: start, end or duration, and the zone they are read in.

A local date-time becomes an aware datetime in the event's zone here, and a
wall-clock time that a DST change skips or repeats is refused, so the rest of
calfeed never meets an ambiguous time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from calfeed.model import When
from calfeed.timezones import UTC, LocalTimeError, localize, zone
from calfeed.validation.fields import Table, kind, plain

# Years a calendar can use; beyond them date arithmetic (and the tz database) ends.
FIRST_YEAR, LAST_YEAR = 1900, 2199
MAX_DURATION = timedelta(days=366 * 10)


def show(moment: datetime) -> str:
    """A naive wall-clock time as ISO text; midnight (an all-day date) as a date."""
    return moment.isoformat() if moment.time() != time() else moment.date().isoformat()


def dst_error(table: Table, key: str, local: datetime, tz: Any, error: LocalTimeError) -> None:
    """Report a wall-clock time in a DST gap ("dst-gap") or overlap ("dst-overlap")."""
    first = local.replace(tzinfo=tz, fold=0)
    gap = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local
    table.error(key, str(error), "dst-gap" if gap else "dst-overlap", value=local.isoformat(), zone=tz.key)


def shared(table: Table, when: When | None) -> When | None:
    """One object for equal moments of the file (same zone, same fold)."""
    if when is None:
        return None
    return table.checker.shared(when, ("moment", when, getattr(when, "tzinfo", None), getattr(when, "fold", 0)))


def in_range(table: Table, key: str, value: date) -> bool:
    """Whether a date or date-time is in the years calfeed takes (else reported)."""
    if FIRST_YEAR <= value.year <= LAST_YEAR:
        return True
    table.error(
        key, f"{value} is out of range; calfeed takes years {FIRST_YEAR} to {LAST_YEAR}",
        "date-out-of-range", value=value.isoformat(), first_year=FIRST_YEAR, last_year=LAST_YEAR,
    )
    return False


def moment(table: Table, key: str, tz_name: str | None, value: Any = None) -> date | datetime | None:
    """A TOML date or date-time as the model holds it: a date, an aware
    datetime in the zone for a local time, or UTC for an offset time."""
    value = table.data.get(key) if value is None else value
    if isinstance(value, date) and not in_range(table, key, value):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        if tz_name is None:
            return None  # the zone itself is wrong, and already reported
        try:
            return localize(value, zone(tz_name))
        except LocalTimeError as error:
            dst_error(table, key, value, zone(tz_name), error)
            return None
    if isinstance(value, date):
        return value
    if isinstance(value, time):
        table.error(
            key, f"{value} has no date; write a date-time such as 2021-12-01T18:00:00",
            "wrong-type", value=plain(value), found=kind(value), expected="a date or a date-time",
        )
    else:
        table.error(
            key, f"must be a date (2021-12-01) or a date-time (2021-12-01T18:00:00), not {kind(value)}",
            "wrong-type", value=plain(value), found=kind(value), expected="a date or a date-time",
        )
    return None


def times(
    table: Table, raw: dict, tz_name: str | None, start: When | None = None, inherited: bool = False
) -> tuple[When | None, When | None]:
    """start, and the exclusive end (DTEND) from end or duration; an override
    passes the ``start`` it inherits when it gives none of its own
    (``inherited``: None when that date is wrong, and already reported)."""
    if "start" in raw:
        start = moment(table, "start", tz_name)
    elif start is None and not inherited:
        table.error("start", "missing; start is required (a date or a date-time)", "missing-field", expected="a date or a date-time")
    end = None
    if "end" in raw and "duration" in raw:
        table.error("duration", "give either end or duration, not both", "conflicting-fields", fields=["end", "duration"])
    elif "end" in raw:
        end = moment(table, "end", tz_name)
        if end is not None and start is not None:
            if isinstance(start, datetime) != isinstance(end, datetime):
                wanted = "a date-time" if isinstance(start, datetime) else "a date (all-day events end on a day)"
                table.error("end", f"must be {wanted}, like start", "wrong-type", value=plain(raw["end"]), found=kind(raw["end"]), expected=wanted)
                end = None
            elif isinstance(start, datetime):
                end = end.astimezone(start.tzinfo)  # DTEND is written in DTSTART's zone
                if end <= start:
                    table.error(
                        "end", f"{raw['end'].isoformat()} is not after start {start.isoformat()}; an event must end after it starts",
                        "end-before-start", value=raw["end"].isoformat(), start=start.isoformat(),
                    )
                    end = None
            elif end < start:
                table.error(
                    "end", f"{end} is before start {start}; for an all-day event end is the last day, inclusive",
                    "end-before-start", value=end.isoformat(), start=start.isoformat(),
                )
                end = None
            else:
                end = end + timedelta(days=1)
        else:
            end = None
    elif "duration" in raw:
        length = table.duration("duration")
        if length is not None and length > MAX_DURATION:
            table.error(
                "duration", f"{raw['duration']} is longer than ten years; is it a typo?",
                "duration-too-long", value=plain(raw["duration"]), maximum="P3660D",
            )
        elif length is not None and start is not None:
            if isinstance(start, datetime):
                # Days are calendar days (same wall-clock time), the rest exact.
                end = (start + timedelta(days=length.days)).astimezone(UTC)
                end = (end + timedelta(seconds=length.seconds)).astimezone(start.tzinfo)
            elif length.seconds:
                table.error(
                    "duration", f"{raw['duration']} is not whole days; an all-day event lasts whole days (P1D, P2D)",
                    "duration-not-whole-days", value=plain(raw["duration"]),
                )
            else:
                end = start + timedelta(days=length.days)
    return shared(table, start), shared(table, end)

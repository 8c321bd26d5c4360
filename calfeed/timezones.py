"""Zones from the pinned tzdata package: local times and compact VTIMEZONEs.

zoneinfo on its own reads the machine's /usr/share/zoneinfo first, so two
machines could disagree; every zone here is loaded from the ``tzdata`` package
pinned in pyproject.toml instead. pytz is not used: its tables end in 2037.
"""

from __future__ import annotations

import calendar
import importlib.resources
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from itertools import compress, repeat
from operator import ne
from zoneinfo import ZoneInfo

UTC = timezone.utc
# UTC's names in the tz database, each also under "Etc/".
_UTC_NAMES = frozenset({"UTC", "UCT", "GMT", "Zulu", "Universal", "Greenwich", "GMT0", "GMT+0", "GMT-0"})
# The one name calfeed writes for UTC's clock (a feed's TZID, an import's
# timezone): readers that apply X-WR-TIMEZONE as Google does (the
# x-wr-timezone library, recurring-ical-events through it) move a time whose
# zone is called "UTC" into the calendar's zone, so a weekly series at 10:00
# UTC would come out at 10:00 Rome time, an hour off all summer; they leave
# Etc/GMT (tzname "GMT") alone.
UTC_ZONE_NAME = "Etc/GMT"


def is_utc_name(name: str) -> bool:
    """Whether ``name`` is one of UTC's names in the tz database.

    >>> is_utc_name("UTC"), is_utc_name("Etc/Zulu"), is_utc_name("Europe/London")
    (True, True, False)
    """
    return name.removeprefix("Etc/") in _UTC_NAMES
# Beyond the last rule change tzdata lists, zoneinfo follows the zone's POSIX
# rule; years up to this one are checked against the RRULE pair we emit.
RULE_CHECKED_UNTIL = 2100
_OLDEST_YEAR = 1850
_DAY = 86400


class LocalTimeError(ValueError):
    """A wall-clock time that names no instant, or two."""


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every IANA zone name the pinned tzdata knows."""
    listing = importlib.resources.files("tzdata").joinpath("zones").read_text()
    return frozenset(listing.split())


class PinnedZone(ZoneInfo):
    """A zone read from the pinned tzdata; pickled by name, so a calendar
    loaded in a child process comes back with the same zone objects."""

    def __reduce__(self) -> tuple:
        return zone, (self.key,)


@lru_cache(maxsize=None)
def zone(name: str) -> ZoneInfo:
    """The zone ``name`` as the pinned tzdata defines it.

    >>> zone("Europe/Rome").utcoffset(datetime(2045, 7, 1))
    datetime.timedelta(seconds=7200)
    """
    if name not in zone_names():
        raise KeyError(name)
    resource = importlib.resources.files("tzdata.zoneinfo").joinpath(*name.split("/"))
    with resource.open("rb") as handle:
        return PinnedZone.from_file(handle, key=name)


@dataclass(frozen=True)
class Transition:
    """A change of offset (or of zone abbreviation) at instant ``at`` (UTC)."""

    at: datetime
    offset_before: timedelta
    offset_after: timedelta
    name: str
    dst: bool

    @property
    def local_before(self) -> datetime:
        """The wall-clock time at which it happens, as clocks showed it before."""
        return (self.at + self.offset_before).replace(tzinfo=None)

    @property
    def local_after(self) -> datetime:
        return (self.at + self.offset_after).replace(tzinfo=None)


def _state(tz: ZoneInfo, timestamp: int) -> tuple:
    moment = datetime.fromtimestamp(timestamp, tz)
    return moment.utcoffset(), moment.tzname(), bool(moment.dst())


@lru_cache(maxsize=4096)
def year_transitions(name: str, year: int) -> tuple[Transition, ...]:
    """The transitions zoneinfo reports from 1 January of ``year`` (UTC) up to
    and including 1 January of the next year, found to the second."""
    tz = zone(name)
    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    stop = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    # The state of each day at once (a zone's rules are checked over a century of years).
    stamps = [*range(start, stop, _DAY), stop]
    moments = list(map(datetime.fromtimestamp, stamps, repeat(tz)))
    states = list(zip(map(datetime.utcoffset, moments), map(datetime.tzname, moments), map(bool, map(datetime.dst, moments))))
    found = []
    for day in compress(range(1, len(states)), map(ne, states, states[1:])):
        previous = states[day - 1]
        low, high = stamps[day - 1], stamps[day]  # state(low) is old, state(high) is new
        while high - low > 1:
            middle = (low + high) // 2
            if _state(tz, middle) == previous:
                low = middle
            else:
                high = middle
        offset, abbreviation, dst = _state(tz, high)
        found.append(Transition(datetime.fromtimestamp(high, UTC), previous[0], offset, abbreviation, dst))
    return tuple(found)


def _transition_before(name: str, moment: datetime) -> Transition | None:
    """The last transition at or before ``moment``: the one in force then."""
    for year in range(moment.year, _OLDEST_YEAR - 1, -1):
        earlier = [t for t in year_transitions(name, year) if t.at <= moment]
        if earlier:
            return earlier[-1]
    return None


def transition_near(tz: ZoneInfo, local: datetime) -> Transition:
    """The transition whose gap or overlap contains the wall-clock time ``local``."""
    candidates = [
        t
        for year in (local.year - 1, local.year, local.year + 1)
        for t in year_transitions(tz.key, year)
    ]
    return min(candidates, key=lambda t: abs(t.local_before - local))


def localize(local: datetime, tz: ZoneInfo) -> datetime:
    """The instant a wall-clock time names in ``tz``; a time in a spring-forward
    gap or a fall-back overlap is an error naming both readings.

    >>> localize(datetime(2021, 12, 1, 18), zone("Europe/Rome")).isoformat()
    '2021-12-01T18:00:00+01:00'
    >>> localize(datetime(2022, 3, 27, 2, 30), zone("Europe/Rome"))
    Traceback (most recent call last):
    ...
    calfeed.timezones.LocalTimeError: 2022-03-27T02:30:00 does not exist in Europe/Rome (clocks jump from 02:00 to 03:00); write 2022-03-27T01:30:00+01:00 or 2022-03-27T03:30:00+02:00
    """
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    readings = sorted(
        moment.astimezone(UTC).astimezone(tz).isoformat() for moment in (first, second)
    )
    change = transition_near(tz, local)
    shown = f"{local.isoformat()} {{}} in {tz.key} (clocks {{}} from {change.local_before:%H:%M} to {change.local_after:%H:%M})"
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local:
        raise LocalTimeError(
            shown.format("does not exist", "jump") + f"; write {readings[0]} or {readings[1]}"
        )
    first_reading, second_reading = (m.isoformat() for m in (first, second))
    raise LocalTimeError(
        shown.format("happens twice", "go back")
        + f"; write {first_reading} (the first) or {second_reading} (the second)"
    )


@dataclass(frozen=True)
class YearlyRule:
    """A transition that happens every year on one weekday of a 7-day window."""

    month: int
    weekday: int  # Monday is 0
    first_day: int
    at: time  # wall-clock time before the change
    offset_before: timedelta
    offset_after: timedelta
    name: str
    dst: bool

    def onset(self, year: int) -> datetime:
        """The wall-clock time (before the change) of this year's transition."""
        day = next(
            d
            for d in range(self.first_day, self.first_day + 7)
            if date(year, self.month, d).weekday() == self.weekday
        )
        return datetime.combine(date(year, self.month, day), self.at)

    def rrule(self) -> str:
        """The RRULE value, in the plainest form clients know.

        >>> YearlyRule(3, 6, 25, time(2), timedelta(hours=1), timedelta(hours=2),
        ...            "CEST", True).rrule()
        'FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU'
        """
        weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[self.weekday]
        month_length = 31 if self.month in (1, 3, 5, 7, 8, 10, 12) else 30
        if self.month != 2 and self.first_day == month_length - 6:
            return f"FREQ=YEARLY;BYMONTH={self.month};BYDAY=-1{weekday}"
        if (self.first_day - 1) % 7 == 0:
            nth = (self.first_day - 1) // 7 + 1
            return f"FREQ=YEARLY;BYMONTH={self.month};BYDAY={nth}{weekday}"
        days = ",".join(str(d) for d in range(self.first_day, self.first_day + 7))
        return f"FREQ=YEARLY;BYMONTH={self.month};BYDAY={weekday};BYMONTHDAY={days}"


@dataclass(frozen=True)
class CurrentRules:
    """The zone's yearly rules, holding every year from ``since`` onward."""

    rules: tuple[YearlyRule, ...]
    since: int


def _shape(transition: Transition) -> tuple:
    local = transition.local_before
    return (
        local.month,
        local.weekday(),
        local.time(),
        transition.offset_before,
        transition.offset_after,
        transition.name,
        transition.dst,
    )


@lru_cache(maxsize=None)
def current_rules(name: str) -> CurrentRules | None:
    """The yearly rules the zone follows now, derived from zoneinfo's own
    transitions; None when it keeps one offset all year.

    >>> rome = current_rules("Europe/Rome")
    >>> rome.since, [rule.rrule() for rule in rome.rules]
    (1996, ['FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU'])
    """
    last = year_transitions(name, RULE_CHECKED_UNTIL)
    if not last:
        return None
    shapes = [_shape(t) for t in last]
    days = [[t.local_before.day] for t in last]
    since = RULE_CHECKED_UNTIL
    while since > _OLDEST_YEAR:
        earlier = year_transitions(name, since - 1)
        if [_shape(t) for t in earlier] != shapes:
            break
        spans = [seen + [t.local_before.day] for seen, t in zip(days, earlier)]
        if any(max(span) - min(span) > 6 for span in spans):
            break
        days, since = spans, since - 1
    rules = tuple(
        YearlyRule(*shape[:2], min(span), *shape[2:]) for shape, span in zip(shapes, days)
    )
    if any(rule.first_day + 6 > calendar.monthrange(2001, rule.month)[1] for rule in rules):
        return None  # not a weekday-of-the-month rule (Cairo's "Thursday 24:00")
    return CurrentRules(rules, since)


def _offset(delta: timedelta) -> str:
    """An offset as iCalendar writes it.

    >>> _offset(timedelta(hours=-4, minutes=-30)), _offset(timedelta(seconds=2996))
    ('-0430', '+004956')
    """
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


def _observance(
    kind: str, start: datetime, before: timedelta, after: timedelta, name: str, rrule: str | None
) -> list[str]:
    lines = [f"BEGIN:{kind}", f"DTSTART:{start:%Y%m%dT%H%M%S}"]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    lines += [f"TZOFFSETFROM:{_offset(before)}", f"TZOFFSETTO:{_offset(after)}"]
    lines += [f"TZNAME:{name}", f"END:{kind}"]
    return lines


# VTIMEZONEs made, by what makes their lines; a build asks one for each event's file.
_VTIMEZONES: dict[tuple, tuple[str, ...]] = {}
_VTIMEZONES_KEPT = 4096


def vtimezone_lines(name: str, earliest: datetime, latest: datetime) -> tuple[str, ...]:
    """A VTIMEZONE (unfolded content lines) valid for every instant from
    ``earliest`` to ``latest``: the zone's current yearly rules as an RRULE
    pair, and one dated observance per earlier transition the range needs.

    The lines depend on ``earliest`` only through the transition in force
    then (or on ``earliest`` itself, before any), and on ``latest`` through
    its year and the transition in force then: ranges alike share them.
    """
    in_force = _transition_before(name, earliest)
    key = (name, in_force or earliest, _transition_before(name, latest), latest.year)
    lines = _VTIMEZONES.get(key)
    if lines is None:
        if len(_VTIMEZONES) >= _VTIMEZONES_KEPT:
            _VTIMEZONES.clear()
        lines = _VTIMEZONES[key] = tuple(_vtimezone_lines(name, earliest, latest, in_force))
    return lines


def _vtimezone_lines(name: str, earliest: datetime, latest: datetime, in_force: Transition | None) -> list[str]:
    tz = zone(name)
    rules = current_rules(name)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{name}", f"X-LIC-LOCATION:{name}"]
    if in_force is None:
        # Older than any transition: one observance from a date before earliest.
        offset = earliest.astimezone(tz).utcoffset()
        opening = datetime(min(1970, earliest.year), 1, 1)
        lines += _observance("STANDARD", opening, offset, offset, earliest.astimezone(tz).tzname(), None)
    # A change at 00:00 UTC on 1 January is listed with the year before.
    first_year = in_force.at.year - 1 if in_force else earliest.year
    use_rules = rules is not None and rules.since <= latest.year
    dated_until = max(rules.since, first_year) if use_rules else latest.year + 1
    for year in range(first_year, dated_until):
        for t in year_transitions(name, year):
            # A change of name alone is left out: clients need offsets, and
            # dateutil-based readers mistime an overlap that follows one.
            renamed_only = t.offset_after == t.offset_before and t is not in_force
            if (in_force is None or t.at >= in_force.at) and t.at <= latest and not renamed_only:
                kind = "DAYLIGHT" if t.offset_after > t.offset_before else "STANDARD"
                lines += _observance(kind, t.local_before, t.offset_before, t.offset_after, t.name, None)
    if use_rules:
        larger = max(rule.offset_after for rule in rules.rules)
        for rule in rules.rules:
            kind = "DAYLIGHT" if rule.offset_after == larger and len(rules.rules) > 1 else "STANDARD"
            lines += _observance(
                kind, rule.onset(dated_until), rule.offset_before, rule.offset_after, rule.name, rule.rrule()
            )
    lines.append("END:VTIMEZONE")
    return lines

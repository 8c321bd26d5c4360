"""Comparing a real calendar with calfeed's feed after `calfeed import`.

The oracle is icalendar + recurring-ical-events, on both sides: the source
file as written, and the feed calfeed serves for the imported events.toml.
Both are read as RFC 5545 says (``CalendarQuery`` directly, without the
X-WR-TIMEZONE rewrite that ``recurring_ical_events.of`` applies): a
difference between the strict reading and Google's X-WR-TIMEZONE reading is
then a difference the import must name, not one the oracle hides.

The window runs from a day before the file's earliest date to three years
after its latest finite one (DTSTART, DTEND, RDATE, EXDATE, RECURRENCE-ID,
UNTIL); within it, at most ``PER_TITLE`` occurrences of each title are
compared (the first ones), which bounds endless series.
"""

from __future__ import annotations

import itertools
import re
import tomllib
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import icalendar
from click.testing import CliRunner
from recurring_ical_events import CalendarQuery

from calfeed.cli import cli
from calfeed.published import FeedFilter, Published
from calfeed.timezones import zone
from calfeed.validation import load_calendar

UTC = timezone.utc
PER_TITLE = 200
YEARS_AFTER = 3
_UNTITLED = ("(senza titolo)", "(untitled)")


@dataclass(frozen=True)
class Occurrence:
    start: date | datetime  # a UTC instant, or an all-day date
    end: date | datetime
    title: str
    status: str
    uid: str


@dataclass
class Comparison:
    only_source: list[Occurrence]
    only_feed: list[Occurrence]
    report: str
    toml: str


def vevent_lines(data: bytes) -> list[int]:
    """The line number where each VEVENT begins, in file order."""
    return [n for n, line in enumerate(data.splitlines(), start=1) if line.strip().upper() == b"BEGIN:VEVENT"]


def _moments(component) -> list[date | datetime]:
    found = []
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE"):
        values = component.get(name)
        for value in values if isinstance(values, list) else [values] if values is not None else []:
            for item in getattr(value, "dts", [value]):
                moment = item.dt
                found.append(moment[0] if isinstance(moment, tuple) else moment)
    rules = component.get("RRULE")
    for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        found += [u for u in rule.get("UNTIL", []) if isinstance(u, (date, datetime))]
    return found


_FILES = itertools.count()
_IANA = zoneinfo.available_timezones()


def own_zones(data: bytes) -> bytes:
    """The file with each VTIMEZONE whose TZID is no IANA name renamed for this
    reading alone. icalendar reads such a TZID (a Windows name, a custom one)
    by the first VTIMEZONE of that name it met in the process: another file's,
    with other rules, would decide this file's instants. IANA names keep
    their name, and icalendar's reading of them by the tz database."""
    suffix = f" (file {next(_FILES)})".encode()
    for tzid in set(re.findall(rb"^TZID:(.+?)\r?$", data, flags=re.MULTILINE)):
        if tzid.decode("utf-8", "replace") in _IANA:
            continue
        renamed = (tzid + suffix).replace(b"\\", b"\\\\")
        data = re.sub(rb"TZID([:=])" + re.escape(tzid) + rb"(?=[;:\r\n])", rb"TZID\1" + renamed, data)
    return data


def window(calendar: icalendar.Calendar) -> tuple[datetime, datetime]:
    """A day before the file's earliest date, to YEARS_AFTER after its latest finite one."""
    moments = []
    for component in calendar.walk("VEVENT"):
        for moment in _moments(component):
            if not isinstance(moment, datetime):
                moment = datetime.combine(moment, time())
            moments.append(moment.replace(tzinfo=None) if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None))
    return (min(moments) - timedelta(days=1)).replace(tzinfo=UTC), (max(moments) + timedelta(days=365 * YEARS_AFTER)).replace(tzinfo=UTC)


def _instant(value: date | datetime, floating_zone: str) -> date | datetime:
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:  # floating: the wall clock of the calendar's zone, as the import reads it
        value = value.replace(tzinfo=zone(floating_zone))
    return value.astimezone(UTC)


def occurrences(calendar: icalendar.Calendar, span: tuple[datetime, datetime], floating_zone: str) -> list[Occurrence]:
    """The calendar's occurrences in ``span``, read strictly (no X-WR-TIMEZONE
    rewrite), the first PER_TITLE of each title."""
    found = CalendarQuery(calendar).between(*span)
    found = sorted(found, key=lambda o: _instant(o.start, floating_zone).isoformat() if isinstance(o.start, datetime) else o.start.isoformat())
    kept, per_title = [], defaultdict(int)
    for o in found:
        title = str(o.get("SUMMARY", "")).strip()
        per_title[title] += 1
        if per_title[title] <= PER_TITLE:
            status = str(o.get("STATUS", "CONFIRMED")).lower()
            kept.append(Occurrence(_instant(o.start, floating_zone), _instant(o.end, floating_zone), title, status, str(o.get("UID", ""))))
    return kept


def compare(source: Path, folder: Path) -> Comparison:
    """Import ``source`` with the command line, serve its feed, and compare occurrences."""
    out = folder / "events.toml"
    result = CliRunner().invoke(cli, ["import", str(source), "--out", str(out), "--base-url", "https://eventi.example.org"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    imported = load_calendar(out)
    feed = icalendar.Calendar.from_ical(Published(imported).feed(FeedFilter(), date(2000, 1, 1)).data)
    original = icalendar.Calendar.from_ical(own_zones(source.read_bytes()))
    span = window(original)
    theirs = occurrences(original, span, imported.timezone)
    ours = occurrences(feed, span, imported.timezone)
    key = lambda o: (o.start, o.end, o.title if o.title not in _UNTITLED else "", o.status)  # noqa: E731
    our_keys, their_keys = {key(o) for o in ours}, {key(o) for o in theirs}
    return Comparison(
        [o for o in theirs if key(o) not in our_keys], [o for o in ours if key(o) not in their_keys],
        result.stdout, out.read_text(encoding="utf-8"),
    )


def unexplained(source: Path, comparison: Comparison) -> list[Occurrence]:
    """The differing occurrences whose source event the report does not name
    (by its VEVENT's line and its UID or title)."""
    data = source.read_bytes()
    lines = vevent_lines(data)
    by_uid, by_title = defaultdict(list), defaultdict(list)
    for line, component in zip(lines, icalendar.Calendar.from_ical(data).walk("VEVENT")):
        by_uid[str(component.get("UID", ""))].append(line)
        by_title[str(component.get("SUMMARY", "")).strip()].append(line)
    report = comparison.report.splitlines()
    missing = []
    for o in [*comparison.only_source, *comparison.only_feed]:
        uid = re.sub(r"-rrule\d+$", "", o.uid)
        title = "" if o.title in _UNTITLED else o.title
        candidates = by_uid.get(uid) or by_title.get(title, [])
        named = any(
            note.strip().startswith(f"- line {line}:") and (uid and uid in note or title and title[:50] in note)
            for note in report for line in candidates
        )
        if not named:
            missing.append(o)
    return missing


def toml_data(comparison: Comparison) -> dict:
    return tomllib.loads(comparison.toml)

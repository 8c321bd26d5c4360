"""Issue 15, property-based: source calendars of every awkward kind, generated,
imported with ``calfeed import``, served by calfeed's feed, and compared with
icalendar + recurring_ical_events reading the source.

The generator writes each calendar twice. The *source* is what an exporter
writes: series in zones other than the calendar's (both hemispheres, UTC,
floating), VTIMEZONEs the file defines (Windows names, custom TZIDs, IANA names
with other rules than the tz database's), several RRULEs, all-day series whose
UNTIL, EXDATE or RECURRENCE-ID are date-times, EXDATEs in other forms than the
series', changed dates without their series, events without a title. The
*meant* copy, read only by the oracle, says the same with every EXDATE,
RECURRENCE-ID and UNTIL in the series' own form (the generator knows which
date each one names) and with IANA-named VTIMEZONEs renamed, since icalendar
looks an IANA TZID up in the tz database instead of reading the file's rules
(see ``as_the_file_defines``). So the oracle never has to guess what an odd
form means; that reading is the importer's job, judged here.

The window covers the DST changes of both hemispheres in every example (the
dates run from 2025 to 2027). The property: the feed calfeed serves has
exactly the source's occurrences (start and end instants or dates, title,
status), and every kind that needs a word is named in the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from calfeed.importing import import_calendar
from calfeed.published import FeedFilter, Published
from calfeed.timezones import zone
from calfeed.validation import load_calendar
from test_importing import _key, as_the_file_defines

UTC = timezone.utc
ROME = zone("Europe/Rome")
WINDOW = (datetime(2024, 12, 1, tzinfo=UTC), datetime(2027, 7, 1, tzinfo=UTC))
IANA = ["Europe/Rome", "America/New_York", "Australia/Sydney", "America/Santiago", "Pacific/Auckland"]
# Yearly rules as VTIMEZONEs write them: (standard, daylight, DST begins, DST ends), each change (month, BYDAY, hour).
RULES = {
    "Europe/Rome": ("+0100", "+0200", (3, "-1SU", 2), (10, "-1SU", 3)),
    "America/New_York": ("-0500", "-0400", (3, "2SU", 2), (11, "1SU", 2)),
    "Australia/Sydney": ("+1000", "+1100", (10, "1SU", 2), (4, "1SU", 3)),
    "Pacific/Auckland": ("+1200", "+1300", (9, "-1SU", 2), (4, "1SU", 3)),
}
# What a file may call each zone: a Windows name, the IANA name (an export with its own rules), a custom TZID.
NAMES = {
    "Europe/Rome": ["W. Europe Standard Time", "Romance Standard Time", "Europe/Rome", "Ufficio Torino"],
    "America/New_York": ["Eastern Standard Time", "America/New_York", "Sede di New York"],
    "Australia/Sydney": ["AUS Eastern Standard Time", "Australia/Sydney"],
    "Pacific/Auckland": ["New Zealand Standard Time", "Pacific/Auckland"],
}
# Other days a file's rule may name for a change: each differs from the tz database in some years or all.
OTHER_DAYS = ["-1SU", "4SU", "2SU", "1SU"]


@dataclass
class FileZone:
    """A VTIMEZONE the file defines, and the zone it gives its times."""

    tzid: str
    standard: str
    daylight: str | None
    begins: tuple
    ends: tuple

    def text(self) -> list[str]:
        def change(kind: str, month: int, day: str, hour: int, before: str, after: str) -> list[str]:
            return [f"BEGIN:{kind}", f"DTSTART:16010101T{hour:02d}0000", f"RRULE:FREQ=YEARLY;BYMONTH={month};BYDAY={day}",
                    f"TZOFFSETFROM:{before}", f"TZOFFSETTO:{after}", f"END:{kind}"]

        lines = ["BEGIN:VTIMEZONE", f"TZID:{self.tzid}"]
        if self.daylight is None:
            lines += change("STANDARD", 1, "1SU", 0, self.standard, self.standard)
        else:
            lines += change("DAYLIGHT", *self.begins, self.standard, self.daylight)
            lines += change("STANDARD", *self.ends, self.daylight, self.standard)
        return [*lines, "END:VTIMEZONE"]

    def tzinfo(self):
        vtimezone = icalendar.Timezone.from_ical("\r\n".join(self.text()) + "\r\n")
        return vtimezone.to_tz(lookup_tzid=False)


@dataclass
class Clock:
    """How an event's times are written: in an IANA zone, a zone the file
    defines, UTC, floating, or as dates."""

    kind: str  # "iana", "file", "utc", "floating", "date"
    name: str = ""
    file_zone: FileZone | None = None

    @property
    def tzinfo(self):
        if self.kind == "iana":
            return ZoneInfo(self.name)
        if self.kind == "file":
            return self.file_zone.tzinfo()
        return UTC if self.kind == "utc" else ROME  # floating: the calendar's zone

    def write(self, prop: str, moment: datetime | date) -> str:
        """``prop`` at wall-clock ``moment`` of this clock."""
        if self.kind == "date":
            return f"{prop};VALUE=DATE:{moment:%Y%m%d}"
        if self.kind in ("iana", "file"):
            tzid = self.name if self.kind == "iana" else self.file_zone.tzid
            return f"{prop};TZID={tzid}:{moment:%Y%m%dT%H%M%S}"
        return f"{prop}:{moment:%Y%m%dT%H%M%S}" + ("Z" if self.kind == "utc" else "")

    def instant(self, moment: datetime) -> datetime:
        return moment.replace(tzinfo=self.tzinfo).astimezone(UTC)


FORMS_TIMED = ["same", "utc", "floating", "date", "other-zone"]
FORMS_FLOATING = ["same", "date", "calendar-zone"]
FORMS_ALL_DAY = ["same", "floating", "calendar-zone", "utc-midnight", "utc-of-calendar-midnight", "other-zone-midnight"]


def written_as(form: str, prop: str, moment: datetime | date, clock: Clock) -> str:
    """``prop`` naming the series' date ``moment`` in another form than the
    series', as exporters write it; each names exactly that date as clients
    read it (an instant; a wall-clock time of the event's zone; a day)."""
    if form == "same":
        return clock.write(prop, moment)
    wall = moment if isinstance(moment, datetime) else datetime.combine(moment, time())  # an all-day date: its midnight
    simple = {
        "date": f"{prop};VALUE=DATE:{wall:%Y%m%d}",
        "calendar-zone": f"{prop};TZID=Europe/Rome:{wall:%Y%m%dT%H%M%S}",
        "floating": f"{prop}:{wall:%Y%m%dT%H%M%S}",
        "utc-midnight": f"{prop}:{wall:%Y%m%dT%H%M%S}Z",
        "utc-of-calendar-midnight": f"{prop}:{wall.replace(tzinfo=ROME).astimezone(UTC):%Y%m%dT%H%M%S}Z",
        "other-zone-midnight": f"{prop};TZID=Australia/Sydney:{wall:%Y%m%dT%H%M%S}",  # Exchange: the organiser's midnight
    }
    if form in simple:
        return simple[form]
    instant = clock.instant(moment)
    santiago = instant.astimezone(ZoneInfo("America/Santiago")).replace(tzinfo=None)
    if form == "utc" or clock_reads(santiago, ZoneInfo("America/Santiago")) != instant:
        return f"{prop}:{instant:%Y%m%dT%H%M%S}Z"
    return f"{prop};TZID=America/Santiago:{santiago:%Y%m%dT%H%M%S}"


def clock_reads(wall: datetime, zone_info) -> datetime | None:
    """The one instant a wall-clock time names in a zone; None in a skipped or repeated hour."""
    early, late = wall.replace(tzinfo=zone_info, fold=0), wall.replace(tzinfo=zone_info, fold=1)
    if early.utcoffset() != late.utcoffset():
        return None
    return early.astimezone(UTC)


@dataclass
class Source:
    """One generated calendar: the file as written, and as meant (for the oracle)."""

    written: list[str] = field(default_factory=list)
    meant: list[str] = field(default_factory=list)
    zones: dict[str, FileZone] = field(default_factory=dict)
    expected_notes: list[tuple[str, str]] = field(default_factory=list)  # (event's title, words of its report line)
    iana_used: set[str] = field(default_factory=lambda: {"Europe/Rome", "America/Santiago", "Australia/Sydney"})

    def both(self, *lines: str) -> None:
        self.written += lines
        self.meant += lines

    def ics(self, lines: list[str]) -> bytes:
        zones = [line for z in self.zones.values() for line in z.text()]
        return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//calfeed tests//props//EN", *zones, *lines,
                            "END:VCALENDAR", ""]).encode()


@st.composite
def clocks(draw, source: Source, all_day_allowed: bool = True) -> Clock:
    kind = draw(st.sampled_from(["iana", "file", "utc", "floating", *(["date"] if all_day_allowed else [])]))
    if kind == "iana":
        name = draw(st.sampled_from(IANA))
        if name in source.zones:  # the file defines this name already: read by its rules
            return Clock("file", file_zone=source.zones[name])
        source.iana_used.add(name)
        return Clock("iana", name)
    if kind != "file":
        return Clock(kind)
    base = draw(st.sampled_from(sorted(RULES)))
    # An IANA name already read by the tz database (or used by the odd forms below) is not redefined.
    tzid = draw(st.sampled_from([name for name in NAMES[base] if name in source.zones or name not in source.iana_used]))
    if tzid not in source.zones:
        standard, daylight, begins, ends = RULES[base]
        variant = draw(st.sampled_from(["same", "same", "begins", "ends", "no-dst"]))
        if variant == "begins":
            begins = (begins[0], draw(st.sampled_from(OTHER_DAYS)), begins[2])
        elif variant == "ends":
            ends = (ends[0], draw(st.sampled_from(OTHER_DAYS)), ends[2])
        source.zones[tzid] = FileZone(tzid, standard, None if variant == "no-dst" else daylight, begins, ends)
    return Clock("file", file_zone=source.zones[tzid])


def _rule_text(freq: str, extra: str, ending: str) -> str:
    return ";".join(part for part in (f"FREQ={freq}", extra, ending) if part)


@st.composite
def events(draw, source: Source, number: int) -> None:
    """One event (a series with its changed dates, or a one-off), or changed dates without their series."""
    clock = draw(clocks(source))
    all_day = clock.kind == "date"
    day = draw(st.dates(date(2025, 1, 1), date(2026, 6, 30)))
    first = datetime.combine(day, time(0) if all_day else time(draw(st.integers(6, 19)), draw(st.sampled_from([0, 30]))))
    title = None if draw(st.integers(0, 7)) == 0 else f"Evento {number}"
    status = draw(st.sampled_from([None, "CONFIRMED", "TENTATIVE", "CANCELLED"]))
    uid = f"evento-{number}@props.example.org"
    length = timedelta(days=draw(st.integers(1, 3))) if all_day else timedelta(minutes=30 * draw(st.integers(1, 6)))

    def times(start: datetime) -> list[str]:
        start_value = start.date() if all_day else start
        lines = [clock.write("DTSTART", start_value)]
        if draw(st.booleans()):
            lines.append(clock.write("DTEND", (start + length).date() if all_day else start + length))
        elif not all_day:
            lines.append(f"DURATION:PT{length.seconds // 60}M")
        return lines

    def texts(summary: str | None, state: str | None) -> list[str]:
        return [*([f"SUMMARY:{summary}"] if summary else []), *([f"STATUS:{state}"] if state else [])]

    kind = draw(st.sampled_from(["series", "series", "series", "one-off", "orphans"]))
    if kind == "one-off":
        source.both("BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T000000Z", *times(first), *texts(title, status), "END:VEVENT")
    rules_written, rules_meant, dates = [], [], {first}
    if kind == "series":
        for _ in range(draw(st.integers(1, 3))):
            freq = draw(st.sampled_from(["DAILY", "WEEKLY", "WEEKLY", "MONTHLY"]))
            extra = draw(st.sampled_from(["", "INTERVAL=2", "BYDAY=MO,WE,FR" if freq == "WEEKLY" else "", "BYDAY=TU,SA" if freq == "WEEKLY" else ""]))
            count = draw(st.integers(1, 30 if freq == "DAILY" else 60))
            ending = draw(st.sampled_from(["count", "until"] + (["endless"] if freq != "DAILY" else [])))
            basic = _rule_text(freq, extra, "")
            found = list(islice(rrulestr(basic, dtstart=first), count))
            if ending == "count":
                # RFC 5545: "DTSTART always counts as the first occurrence", also off the rule
                # (recurring_ical_events, through dateutil, counts the rule's dates only).
                kept = count - (found[0] != first)
                rules_written.append(_rule_text(freq, extra, f"COUNT={count}"))
                if kept:
                    rules_meant.append(_rule_text(freq, extra, f"COUNT={kept}"))
                dates |= set(found[:kept])
            elif ending == "until":
                last = found[-1]
                meant = f"{last:%Y%m%d}" if all_day else (f"{last:%Y%m%dT%H%M%S}" if clock.kind == "floating" else f"{clock.instant(last):%Y%m%dT%H%M%S}Z")
                written = meant
                if all_day and draw(st.booleans()):  # Google: UNTIL=...Z in an all-day rule
                    form = draw(st.sampled_from(["utc-midnight", "utc-of-calendar-midnight"]))
                    written = re.sub(r"^\w+:", "", written_as(form, "X", last.date(), clock))
                    source.expected_notes.append((title or "(senza titolo)", "UNTIL "))
                rules_written.append(_rule_text(freq, extra, f"UNTIL={written}"))
                rules_meant.append(_rule_text(freq, extra, f"UNTIL={meant}"))
                dates |= set(found)
            else:
                rules_written.append(basic)
                rules_meant.append(basic)
                dates |= set(rrulestr(basic, dtstart=first).between(first, WINDOW[1].replace(tzinfo=None), inc=True))
        if len(rules_written) > 1:
            source.expected_notes.append((title or "(senza titolo)", "RRULE #2"))
    ordered = sorted(dates)
    picked = draw(st.lists(st.sampled_from(ordered), max_size=3, unique=True)) if len(ordered) > 1 else []
    forms = FORMS_ALL_DAY if all_day else FORMS_FLOATING if clock.kind == "floating" else FORMS_TIMED
    moved = picked[: draw(st.integers(0, len(picked)))]
    removed = [d for d in picked if d not in moved]

    def named(moment: datetime, prop: str) -> tuple[str, str]:
        value = moment.date() if all_day else moment
        form = draw(st.sampled_from(forms))
        if form == "date" and prop == "RECURRENCE-ID":
            form = "same"
        written = written_as(form, prop, value, clock)
        if all_day and form != "same":  # a changed date's report line bears its own title
            source.expected_notes.append((f"Evento {number} (spostato)" if prop == "RECURRENCE-ID" else title or "(senza titolo)", f"{prop} "))
        return written, clock.write(prop, value)

    if kind == "series":
        exdates = [named(d, "EXDATE") for d in removed]
        head = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T000000Z", *times(first)]
        tail = [*texts(title, status), "END:VEVENT"]
        source.written += [*head, *(f"RRULE:{r}" for r in rules_written), *(w for w, _ in exdates), *tail]
        source.meant += [*head, *(f"RRULE:{r}" for r in rules_meant), *(m for _, m in exdates), *tail]
    if kind == "orphans":
        moved = [first + timedelta(days=7 * n) for n in range(draw(st.integers(1, 2)))]
        source.expected_notes += [(f"Evento {number} (spostato)", "of a series not in the source")] * len(moved)
    for original in moved:
        shift = timedelta(days=draw(st.integers(-2, 2))) + (timedelta() if all_day else timedelta(hours=draw(st.integers(-3, 3))))
        written, meant = named(original, "RECURRENCE-ID")
        changed = texts(f"Evento {number} (spostato)", draw(st.sampled_from([None, "CANCELLED"])))
        lines = [*times(original + shift), *changed, "END:VEVENT"]
        source.written += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T000000Z", written, *lines]
        source.meant += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T000000Z", meant, *lines]
    if title is None and kind != "orphans":
        source.expected_notes.append(("(senza titolo)", "no title (SUMMARY) in the source"))


@st.composite
def calendars(draw) -> Source:
    source = Source()
    for number in range(draw(st.integers(1, 3))):
        draw(events(source, number))
    return source


def _occurrences(data: bytes) -> list[tuple]:
    """What recurring_ical_events reads in a calendar over the window (floating times in Rome)."""
    found = recurring_ical_events.of(icalendar.Calendar.from_ical(data)).between(*WINDOW)
    return sorted((
        _key(o.start, o.end, str(o.get("SUMMARY", "")).strip() or "(senza titolo)", str(o.get("STATUS", "confirmed")), ROME)
        for o in found
    ), key=repr)


def assert_carried(source: Source, folder: Path) -> None:
    """Import the written file, serve the result, compare with the meant file's occurrences."""
    path = folder / "source.ics"
    path.write_bytes(source.ics(source.written))
    out = folder / "events.toml"
    report = import_calendar(str(path), out, base_url="https://eventi.example.org")
    text = report.summary()
    expected = _occurrences(as_the_file_defines(source.ics(source.meant)))
    served = _occurrences(Published(load_calendar(out)).feed(FeedFilter(), date(2020, 1, 1)).data)
    missing = [o for o in expected if o not in served]
    extra = [o for o in served if o not in expected]
    assert not missing and not extra, f"only in the source: {missing}\nonly in calfeed's feed: {extra}\n{text}"
    assert served == expected
    for title, words in source.expected_notes:
        assert [line for line in text.splitlines() if f'"{title}' in line and words in line], f"no report line for {title}: {words}\n{text}"


def _vevent(uid: str, *lines: str) -> list[str]:
    return ["BEGIN:VEVENT", f"UID:{uid}@props.example.org", "DTSTAMP:20250101T000000Z", *lines, "END:VEVENT"]


def _kind(written: list[str], meant: list[str] | None = None, zones: tuple = (), notes: tuple = ()) -> Source:
    """An explicit example: the file as written, as meant (by hand), and the report lines it needs."""
    return Source(written, meant or written, {z.tzid: z for z in zones}, list(notes))


# Zones the file defines with rules other than the tz database's: the US rule
# under a European Windows name; Sydney's start a week late (2SU: other dates
# in some years only); New York's rules before 2007 under its IANA name.
ROMANCE_US = FileZone("Romance Standard Time", "+0100", "+0200", (3, "2SU", 2), (11, "1SU", 2))
SYDNEY_LATE = FileZone("AUS Eastern Standard Time", "+1000", "+1100", (10, "2SU", 2), (4, "1SU", 3))
NEW_YORK_OLD = FileZone("America/New_York", "-0500", "-0400", (4, "1SU", 2), (10, "-1SU", 2))
TORINO_1970S = FileZone("Ufficio Torino", "+0100", "+0200", (5, "-1SU", 0), (9, "-1SU", 0))  # Rome's rules of 1966-1979
KINDS = {
    "other zones": _kind([
        *_vevent("sydney", "SUMMARY:Training", "DTSTART;TZID=Australia/Sydney:20250303T093000", "DURATION:PT1H",
                 "RRULE:FREQ=WEEKLY;BYDAY=MO,FR;UNTIL=20251231T000000Z"),
        *_vevent("santiago", "SUMMARY:Ensayo", "DTSTART;TZID=America/Santiago:20250301T190000", "DURATION:PT2H", "RRULE:FREQ=WEEKLY"),
        *_vevent("auckland", "SUMMARY:Hui", "DTSTART;TZID=Pacific/Auckland:20250320T080000", "DTEND;TZID=Pacific/Auckland:20250320T090000",
                 "RRULE:FREQ=MONTHLY;BYDAY=3TH")]),
    "UTC": _kind(_vevent("utc", "SUMMARY:Stand-up", "DTSTART:20250303T083000Z", "DURATION:PT15M", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE"),
                 notes=(("Stand-up", "a series in UTC"),)),
    "file zones": _kind([
        *_vevent("coro", "SUMMARY:Coro", "DTSTART;TZID=Romance Standard Time:20250303T180000", "DURATION:PT2H", "RRULE:FREQ=WEEKLY"),
        *_vevent("bush", "SUMMARY:Bushwalk", "DTSTART;TZID=AUS Eastern Standard Time:20250302T080000", "DURATION:PT4H",
                 "RRULE:FREQ=WEEKLY;BYDAY=SU"),
        *_vevent("board", "SUMMARY:Board", "DTSTART;TZID=America/New_York:20250305T170000", "DURATION:PT1H",
                 "RRULE:FREQ=WEEKLY;BYDAY=WE;COUNT=90"),
        *_vevent("sportello", "SUMMARY:Sportello", "DTSTART;TZID=Ufficio Torino:20250304T100000", "DURATION:PT1H",
                 "RRULE:FREQ=WEEKLY;BYDAY=TU", "EXDATE;TZID=Ufficio Torino:20250603T100000"),
        *_vevent("sportello", "SUMMARY:Sportello (spostato)", "RECURRENCE-ID;TZID=Ufficio Torino:20250527T100000",
                 "DTSTART;TZID=Ufficio Torino:20250528T100000", "DURATION:PT1H")],
        zones=(ROMANCE_US, SYDNEY_LATE, NEW_YORK_OLD, TORINO_1970S),
        notes=(("Coro", "as the file defines it differs"), ("Bushwalk", "as the file defines it differs"),
               ("Board", "as the file defines it differs"), ("Sportello", "as the file defines it differs"))),
    "several rules": _kind(_vevent(
        "corso", "SUMMARY:Corso", "DTSTART;TZID=Europe/Rome:20250304T180000", "DURATION:PT90M", "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=10",
        "RRULE:FREQ=MONTHLY;BYDAY=3SA", "RRULE:FREQ=WEEKLY;BYDAY=TH;UNTIL=20250410T170000Z", "EXDATE;TZID=Europe/Rome:20250419T180000"),
        notes=(("Corso", "RRULE #2"), ("Corso", "RRULE #3"))),
    "all-day date-times": _kind([
        *_vevent("mercatino", "SUMMARY:Mercatino", "DTSTART;VALUE=DATE:20250307", "RRULE:FREQ=WEEKLY;UNTIL=20251024T220000Z",
                 "EXDATE;TZID=Australia/Sydney:20250321T000000", "EXDATE:20250404T000000Z"),
        *_vevent("mercatino", "SUMMARY:Mercatino (spostato)", "RECURRENCE-ID:20250328T000000", "DTSTART;VALUE=DATE:20250329")], [
        *_vevent("mercatino", "SUMMARY:Mercatino", "DTSTART;VALUE=DATE:20250307", "RRULE:FREQ=WEEKLY;UNTIL=20251025",
                 "EXDATE;VALUE=DATE:20250321", "EXDATE;VALUE=DATE:20250404"),
        *_vevent("mercatino", "SUMMARY:Mercatino (spostato)", "RECURRENCE-ID;VALUE=DATE:20250328", "DTSTART;VALUE=DATE:20250329")],
        notes=(("Mercatino", "UNTIL "), ("Mercatino", "EXDATE 2025-03-21"), ("Mercatino (spostato)", "RECURRENCE-ID "))),
    "exdate forms": _kind(
        _vevent("prove", "SUMMARY:Prove", "DTSTART;TZID=Europe/Rome:20250304T180000", "DURATION:PT2H", "RRULE:FREQ=WEEKLY;COUNT=40",
                "EXDATE:20250311T170000Z", "EXDATE:20250318T180000", "EXDATE;VALUE=DATE:20250325",
                "EXDATE;TZID=America/Santiago:20251104T140000"),
        _vevent("prove", "SUMMARY:Prove", "DTSTART;TZID=Europe/Rome:20250304T180000", "DURATION:PT2H", "RRULE:FREQ=WEEKLY;COUNT=40",
                *(f"EXDATE;TZID=Europe/Rome:2025{day}T180000" for day in ("0311", "0318", "0325", "1104"))),
        notes=(("Prove", "EXDATE 2025-03-25 is a date in a timed series"),)),
    "changed dates without series": _kind([
        *_vevent("riunione", "SUMMARY:Riunione (spostata)", "RECURRENCE-ID;TZID=Europe/Rome:20250312T170000",
                 "DTSTART;TZID=Europe/Rome:20250313T170000", "DURATION:PT1H"),
        *_vevent("riunione", "SUMMARY:Riunione (spostata)", "RECURRENCE-ID:20251029T160000Z", "DTSTART:20251030T160000Z",
                 "DURATION:PT1H", "STATUS:CANCELLED")],
        notes=(("Riunione (spostata)", "of a series not in the source"),)),
    "untitled": _kind([*_vevent("festa", "DTSTART;VALUE=DATE:20250425"),
                       *_vevent("pulizie", "SUMMARY:", "DTSTART;TZID=Europe/Rome:20250405T090000", "DURATION:PT3H",
                                "RRULE:FREQ=MONTHLY;BYDAY=1SA;COUNT=12")],
                      notes=(("(senza titolo)", "no title (SUMMARY) in the source"),)),
}


SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@SETTINGS
@given(calendars())
@example(KINDS['other zones'])
@example(KINDS['UTC'])
@example(KINDS['file zones'])
@example(KINDS['several rules'])
@example(KINDS['all-day date-times'])
@example(KINDS['exdate forms'])
@example(KINDS['changed dates without series'])
@example(KINDS['untitled'])
def test_every_occurrence_of_the_source_is_served_after_import(tmp_path_factory, source):
    assert_carried(source, tmp_path_factory.mktemp("props"))


# --------------------------------------------------------------------------- what the properties found


def _imported(folder: Path, *lines: str) -> tuple[list[tuple], str]:
    """The occurrences calfeed serves after importing one VEVENT, and the report."""
    source = Source(written=["BEGIN:VEVENT", "UID:trovato@props.example.org", "DTSTAMP:20250101T000000Z", "SUMMARY:Trovato",
                             *lines, "END:VEVENT"])
    path, out = folder / "source.ics", folder / "events.toml"
    path.write_bytes(source.ics(source.written))
    report = import_calendar(str(path), out, base_url="https://eventi.example.org")
    return _occurrences(Published(load_calendar(out)).feed(FeedFilter(), date(2020, 1, 1)).data), report.summary()


def test_an_off_rule_start_with_count_1_is_the_only_date(tmp_path):
    """RFC 5545: DTSTART always counts as the first occurrence, so COUNT=1 gives
    DTSTART alone (a Wednesday, for a rule of Tuesdays and Saturdays). Found
    by the property: the import also served Saturday 4 January."""
    served, report = _imported(tmp_path, "DTSTART:20250101T060000Z", "DURATION:PT30M", "RRULE:FREQ=WEEKLY;BYDAY=TU,SA;COUNT=1")
    assert served == [(datetime(2025, 1, 1, 6, 0, tzinfo=UTC), datetime(2025, 1, 1, 6, 30, tzinfo=UTC), "Trovato", "confirmed")]
    assert 'line 4: "Trovato": DTSTART is off the rule; with COUNT=1 the old start is the rule\'s only date; the rule was dropped' in report


def test_an_off_rule_start_with_exdates_is_repaired_not_left_out(tmp_path):
    """The checker leaves the exdates of a series with an off-rule start "not
    compared"; the import repaired the start and still left the event out.
    RFC 5545's dates: Wednesday 1 (DTSTART), Saturday 4 (removed), Tuesday 7."""
    served, report = _imported(tmp_path, "DTSTART:20250101T060000Z", "DURATION:PT30M", "RRULE:FREQ=WEEKLY;BYDAY=TU,SA;COUNT=3",
                               "EXDATE:20250104T060000Z")
    assert [o[0] for o in served] == [datetime(2025, 1, 1, 6, 0, tzinfo=UTC), datetime(2025, 1, 7, 6, 0, tzinfo=UTC)]
    assert "left out" not in report


def test_an_all_day_date_time_in_another_zone_names_its_own_date(tmp_path):
    """Exchange writes an all-day series' EXDATE and RECURRENCE-ID as the
    organiser's midnight with the organiser's TZID: Sydney's midnight of
    Tuesday 27 May is Monday afternoon in Rome, and the import removed and
    moved Mondays that no one had touched."""
    served, report = _imported(
        tmp_path, "DTSTART;VALUE=DATE:20250519", "RRULE:FREQ=DAILY;COUNT=10", "EXDATE;TZID=Australia/Sydney:20250527T000000",
        "END:VEVENT", "BEGIN:VEVENT", "UID:trovato@props.example.org", "DTSTAMP:20250101T000000Z", "SUMMARY:Trovato (spostato)",
        "RECURRENCE-ID;TZID=Australia/Sydney:20250521T000000", "DTSTART;VALUE=DATE:20250601")
    days = {day: "Trovato" for day in range(19, 29) if day not in (21, 27)}
    assert [(o[0], o[2]) for o in served] == sorted(
        [(date(2025, 5, day), title) for day, title in days.items()] + [(date(2025, 6, 1), "Trovato (spostato)")])
    assert "EXDATE 2025-05-27T00:00:00+10:00 is a date-time in an all-day series; read as 2025-05-27" in report
    assert "RECURRENCE-ID 2025-05-20T16:00:00 is a date-time in an all-day series; read as 2025-05-21" in report


def test_a_changed_date_takes_nothing_from_its_series(tmp_path):
    """A RECURRENCE-ID component replaces its occurrence whole: a cancelled
    series' moved date without STATUS is not cancelled, and an all-day moved
    date without DTEND lasts one day, not the series' three."""
    served, _ = _imported(
        tmp_path, "DTSTART;VALUE=DATE:20250505", "DTEND;VALUE=DATE:20250508", "RRULE:FREQ=WEEKLY;COUNT=2", "STATUS:CANCELLED",
        "END:VEVENT", "BEGIN:VEVENT", "UID:trovato@props.example.org", "DTSTAMP:20250101T000000Z", "SUMMARY:Trovato",
        "RECURRENCE-ID;VALUE=DATE:20250512", "DTSTART;VALUE=DATE:20250513")
    assert sorted(served) == [(date(2025, 5, 5), date(2025, 5, 8), "Trovato", "cancelled"),
                              (date(2025, 5, 13), date(2025, 5, 14), "Trovato", "confirmed")]


def test_a_changed_all_day_date_as_long_as_its_series_keeps_that_length(tmp_path):
    served, _ = _imported(
        tmp_path, "DTSTART;VALUE=DATE:20250505", "DTEND;VALUE=DATE:20250508", "RRULE:FREQ=WEEKLY;COUNT=2",
        "END:VEVENT", "BEGIN:VEVENT", "UID:trovato@props.example.org", "DTSTAMP:20250101T000000Z", "SUMMARY:Trovato",
        "RECURRENCE-ID;VALUE=DATE:20250512", "DTSTART;VALUE=DATE:20250513", "DTEND;VALUE=DATE:20250516")
    assert sorted(served) == [(date(2025, 5, 5), date(2025, 5, 8), "Trovato", "confirmed"),
                              (date(2025, 5, 13), date(2025, 5, 16), "Trovato", "confirmed")]


def test_a_changed_date_in_another_zone_than_its_series_is_read_on_the_series_clock(tmp_path):
    """A series in UTC (kept on UTC's clock) whose changed date is written in
    UTC too: its RECURRENCE-ID and new times were read on Rome's clock (the
    changed date alone would be an instant kept in the calendar's zone), so
    the override named no date of the series and the whole series was left out."""
    served, report = _imported(
        tmp_path, "DTSTART:20251028T180000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=4",
        "END:VEVENT", "BEGIN:VEVENT", "UID:trovato@props.example.org", "DTSTAMP:20250101T000000Z", "SUMMARY:Trovato (spostato)",
        "RECURRENCE-ID:20251030T180000Z", "DTSTART:20251101T190000Z", "DURATION:PT1H",
        "END:VEVENT", "BEGIN:VEVENT", "UID:trovato@props.example.org", "DTSTAMP:20250101T000000Z", "SUMMARY:Trovato (spostato)",
        "RECURRENCE-ID:20251031T180000", "DTSTART:20251101T200000Z", "DURATION:PT1H")  # a floating RECURRENCE-ID: UTC's clock
    assert "left out" not in report
    starts = [(o[0], o[2]) for o in served]
    assert starts == [(datetime(2025, 10, day, 18, 0, tzinfo=UTC), "Trovato") for day in (28, 29)] + [
        (datetime(2025, 11, 1, hour, 0, tzinfo=UTC), "Trovato (spostato)") for hour in (19, 20)]


def test_an_off_rule_start_counts_in_each_rules_count(tmp_path):
    """RFC 5545 counts DTSTART as the first of a COUNT, also off the rule, in
    each rule (RFC 2445 allowed several). Sunday 26 April with Mondays
    COUNT=2 and Wednesdays COUNT=3: the 26th, Monday 27, Wednesdays 29 and 6 May."""
    served, report = _imported(tmp_path, "DTSTART:20260426T063000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2",
                               "RRULE:FREQ=WEEKLY;BYDAY=WE;COUNT=3")
    assert [o[0].date() for o in served] == [date(2026, 4, 26), date(2026, 4, 27), date(2026, 4, 29), date(2026, 5, 6)]
    assert "RRULE #2 (FREQ=WEEKLY;BYDAY=WE;COUNT=3) carried as 2 rdates of the same event; its COUNT includes DTSTART" in report


def test_a_date_that_several_rules_give_is_served_once(tmp_path):
    """Saturday 4 July is a date of the endless second rule (Tuesdays and
    Saturdays, carried as an event of its own) and of the short third one
    (every other day, carried as rdates): it was served twice."""
    served, _ = _imported(tmp_path, "DTSTART;VALUE=DATE:20260602", "RRULE:FREQ=DAILY;UNTIL=20260701",
                          "RRULE:FREQ=WEEKLY;BYDAY=TU,SA", "RRULE:FREQ=DAILY;INTERVAL=2;UNTIL=20260710")
    july = [o[0] for o in served if date(2026, 7, 1) <= o[0] <= date(2026, 7, 11)]
    assert sorted(july) == [date(2026, 7, day) for day in (1, 2, 4, 6, 7, 8, 10, 11)]


def test_an_exdate_removes_its_date_from_every_rule(tmp_path):
    """Sunday 26 January is a date of the second and of the third rule (both
    carried as rdates); the EXDATE removed it from the second only."""
    served, _ = _imported(tmp_path, "DTSTART:20250121T163000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;BYDAY=TU,SA;COUNT=3",
                          "RRULE:FREQ=DAILY;UNTIL=20250128T163000", "RRULE:FREQ=DAILY;UNTIL=20250127T163000",
                          "EXDATE;VALUE=DATE:20250126")
    assert [o[0].astimezone(ROME).day for o in served] == [21, 22, 23, 24, 25, 27, 28]


def test_a_custom_tzid_is_read_by_this_files_rules_not_by_an_earlier_files(tmp_path):
    """icalendar keeps the VTIMEZONEs it met by TZID for the whole process: a
    server importing a second file whose "Ufficio" is three hours east of
    UTC read it by the first file's +12:00. Each import reads its own file."""
    served = []
    for offset, folder in (("+1200", tmp_path / "first"), ("+0300", tmp_path / "second")):
        folder.mkdir()
        source = Source(written=["BEGIN:VEVENT", "UID:ufficio@props.example.org", "DTSTAMP:20250101T000000Z", "SUMMARY:Ufficio",
                                 "DTSTART;TZID=Ufficio:20260311T063000", "DURATION:PT1H", "END:VEVENT"],
                        zones={"Ufficio": FileZone("Ufficio", offset, None, (), ())})
        (folder / "source.ics").write_bytes(source.ics(source.written))
        import_calendar(str(folder / "source.ics"), folder / "events.toml", base_url="https://eventi.example.org")
        served += [o[0] for o in _occurrences(Published(load_calendar(folder / "events.toml")).feed(FeedFilter(), date(2020, 1, 1)).data)]
    assert served == [datetime(2026, 3, 10, 18, 30, tzinfo=UTC), datetime(2026, 3, 11, 3, 30, tzinfo=UTC)]


def test_a_changed_dtstart_off_the_first_rule_stays_with_its_series(tmp_path):
    """Wednesday 10 December is DTSTART, off the first rule (Tuesdays and
    Saturdays) but a date of the endless second one (the 10th of each month):
    its changed date went to the second rule's event, which starts in January,
    and the whole series was left out."""
    served, report = _imported(
        tmp_path, "DTSTART;VALUE=DATE:20251210", "RRULE:FREQ=WEEKLY;BYDAY=TU,SA;UNTIL=20251220", "RRULE:FREQ=MONTHLY",
        "END:VEVENT", "BEGIN:VEVENT", "UID:trovato@props.example.org", "DTSTAMP:20250101T000000Z", "SUMMARY:Trovato (spostato)",
        "RECURRENCE-ID;VALUE=DATE:20251210", "DTSTART;VALUE=DATE:20251211")
    assert "left out" not in report
    december = sorted((o[0], o[2]) for o in served if o[0] < date(2026, 1, 1))
    assert december == [(date(2025, 12, 11), "Trovato (spostato)"), *((date(2025, 12, day), "Trovato") for day in (13, 16, 20))]



def test_the_report_names_the_first_date_not_compared_and_the_first_one_off(tmp_path):
    """An endless series in a zone the file defines, whose rules keep
    disagreeing with the IANA zone's: its changed dates are written for 5000
    dates (here fewer than 10 years: two a day), and the report names the
    date from which on its dates follow the IANA zone (2025-03-03T10:00 plus
    5000 times 12 hours), the first of them that is off (the last Sunday of
    March 2032, summer time in Rome and not in the file: 10:00 there is 11:00
    in Rome), and what to do. It said "after 2035-03-01" before: wrong by three years."""
    source = Source(written=["BEGIN:VEVENT", "UID:turni@props.example.org", "DTSTAMP:20250101T000000Z", "SUMMARY:Turni",
                             "DTSTART;TZID=Ufficio Torino:20250303T100000", "DURATION:PT1H", "RRULE:FREQ=HOURLY;INTERVAL=12",
                             "END:VEVENT"], zones={"Ufficio Torino": TORINO_1970S})
    (tmp_path / "source.ics").write_bytes(source.ics(source.written))
    report = import_calendar(str(tmp_path / "source.ics"), tmp_path / "events.toml", base_url="https://eventi.example.org").summary()
    assert ('line 19: "Turni" (turni@props.example.org): time zone "Ufficio Torino" as the file defines it differs from the tz '
            "database's Europe/Rome on ") in report
    assert ("; its dates from 2032-01-06T10:00 on (after 10 years or 5000 dates) were not compared and follow Europe/Rome's clock; "
            "the first one off is 2032-03-28T10:00, which the file puts at 2032-03-28T11:00 on that clock: add such dates as "
            "[[events.overrides]] at the file's times, or end the series before it") in report


def test_an_exdate_of_a_short_rule_also_removes_that_date_from_an_endless_one(tmp_path):
    """Wednesday 14 October is a date of the short monthly rule (carried as
    rdates, where the EXDATE was used up) and of the endless third rule
    (carried as an event of its own, which still served it)."""
    served, _ = _imported(tmp_path, "DTSTART:20260614T073000Z", "DURATION:PT30M", "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2",
                          "RRULE:FREQ=MONTHLY;COUNT=6", "RRULE:FREQ=WEEKLY;BYDAY=WE", "EXDATE:20261014T073000Z")
    october = sorted(o[0].day for o in served if o[0].month == 10 and o[0].year == 2026)
    assert october == [7, 21, 28]


def test_a_changed_date_of_a_short_rule_stays_with_its_series(tmp_path):
    """7 August is a date of the short third rule (rdates of the series) and
    of the endless second one (an event of its own, which leaves it out): its
    changed date went to the second rule's event, and the series was left out."""
    served, report = _imported(
        tmp_path, "DTSTART;VALUE=DATE:20260407", "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=2", "RRULE:FREQ=MONTHLY",
        "RRULE:FREQ=MONTHLY;COUNT=6", "END:VEVENT", "BEGIN:VEVENT", "UID:trovato@props.example.org", "DTSTAMP:20250101T000000Z",
        "SUMMARY:Trovato (spostato)", "RECURRENCE-ID;VALUE=DATE:20260807", "DTSTART;VALUE=DATE:20260805")
    assert "left out" not in report
    summer = sorted((o[0], o[2]) for o in served if date(2026, 7, 1) <= o[0] < date(2026, 10, 1))
    assert summer == [(date(2026, 7, 7), "Trovato"), (date(2026, 8, 5), "Trovato (spostato)"), (date(2026, 9, 7), "Trovato")]


def test_an_off_rule_start_with_count_1_in_a_zone_the_file_defines_is_kept(tmp_path):
    """A custom TZID whose rules differ from the calendar's on DTSTART, a rule
    that DTSTART is off with COUNT=1: the date mended to the file's instant
    was a changed date of a series that no longer had a rule, and the event
    was left out. 10:30 at -05:00 is 15:30 UTC (by hand)."""
    source = Source(written=["BEGIN:VEVENT", "UID:sede@props.example.org", "DTSTAMP:20250101T000000Z", "SUMMARY:Sede",
                             "DTSTART;TZID=Sede di New York:20250130T103000", "DTEND;TZID=Sede di New York:20250130T110000",
                             "RRULE:FREQ=WEEKLY;BYDAY=TU,SA;COUNT=1", "END:VEVENT"],
                    zones={"Sede di New York": FileZone("Sede di New York", "-0500", None, (), ())})
    (tmp_path / "source.ics").write_bytes(source.ics(source.written))
    report = import_calendar(str(tmp_path / "source.ics"), tmp_path / "events.toml", base_url="https://eventi.example.org").summary()
    served = _occurrences(Published(load_calendar(tmp_path / "events.toml")).feed(FeedFilter(), date(2020, 1, 1)).data)
    assert "left out" not in report
    assert served == [(datetime(2025, 1, 30, 15, 30, tzinfo=UTC), datetime(2025, 1, 30, 16, 0, tzinfo=UTC), "Sede", "confirmed")]

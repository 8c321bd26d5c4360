"""The occurrence engine, checked against oracles that share none of its code:
recurring-ical-events reading calfeed's own feed, and a plain wall-clock
expansion localised with zoneinfo."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from calfeed import loading, occurrences
from calfeed.errors import CalendarErrors
from calfeed.model import Event, Recurrence
from calfeed.occurrences import MAX_PER_EVENT, NEXT_LOOK, Entry, entries, expand, last_start, listing, select
from calfeed.published import FeedFilter, Published
from calfeed.rrules import parse_rule
from calfeed.timezones import LocalTimeError, localize, zone
from calfeed.validation import build_calendar

UTC = timezone.utc
ROME = zone("Europe/Rome")
HEADER = '[calendar]\nname = "Prova"\nbase_url = "https://eventi.example.org"\n'


def calendar_of(body: str, header: str = HEADER):
    return build_calendar(loading.parse(header + textwrap.dedent(body), "events.toml"))


def feed_of(calendar) -> bytes:
    return Published(calendar).feed(FeedFilter(), date(2000, 1, 1)).data


def engine_starts(calendar, after: datetime, before: datetime) -> list[datetime | date]:
    return [o.start for e in calendar.events for o in expand(e, after, before, ROME)]


def oracle_starts(body: bytes, after: datetime, before: datetime) -> list:
    parsed = icalendar.Calendar.from_ical(body)
    return [o.DTSTART for o in recurring_ical_events.of(parsed).between(after, before)]


def utc(values) -> list:
    return sorted(v.astimezone(UTC) if isinstance(v, datetime) else v for v in values)


WEEKLY = """
    [[events]]
    id = "corso"
    title = "Corso del mercoledì"
    start = 2022-02-02T18:00:00
    end = 2022-02-02T19:30:00
    rrule = "FREQ=WEEKLY;BYDAY=WE;UNTIL=2022-11-30"
"""


def test_weekly_18_00_in_rome_on_both_sides_of_dst():
    calendar = calendar_of(WEEKLY)
    starts = engine_starts(calendar, datetime(2022, 1, 1, tzinfo=UTC), datetime(2023, 1, 1, tzinfo=UTC))
    # Written by hand: 17:00 UTC in winter, 16:00 UTC from 27 March to 30 October.
    assert starts[7].astimezone(UTC) == datetime(2022, 3, 23, 17, 0, tzinfo=UTC)
    assert starts[8].astimezone(UTC) == datetime(2022, 3, 30, 16, 0, tzinfo=UTC)
    assert starts[38].astimezone(UTC) == datetime(2022, 10, 26, 16, 0, tzinfo=UTC)
    assert starts[39].astimezone(UTC) == datetime(2022, 11, 2, 17, 0, tzinfo=UTC)
    assert {s.astimezone(ROME).time() for s in starts} == {time(18, 0)}
    assert starts[-1].date() == date(2022, 11, 30)  # UNTIL as a date includes that day
    body = feed_of(calendar)
    assert b"RRULE:FREQ=WEEKLY;BYDAY=WE;UNTIL=20221130T225959Z\r\n" in body  # UTC, as RFC 5545 wants
    assert utc(oracle_starts(body, datetime(2022, 1, 1), datetime(2023, 1, 1))) == utc(starts)


def test_count_counts_before_exdates():
    calendar = calendar_of("""
        [[events]]
        id = "dieci"
        title = "Dieci volte"
        start = 2022-03-20T09:00:00
        rrule = "FREQ=DAILY;COUNT=10"
        exdates = [2022-03-27T09:00:00]
    """)
    starts = engine_starts(calendar, datetime(2022, 1, 1, tzinfo=UTC), datetime(2023, 1, 1, tzinfo=UTC))
    assert len(starts) == 9
    assert date(2022, 3, 27) not in {s.date() for s in starts}
    assert starts[-1] == datetime(2022, 3, 29, 9, 0, tzinfo=ROME)
    assert utc(oracle_starts(feed_of(calendar), datetime(2022, 1, 1), datetime(2023, 1, 1))) == utc(starts)


def test_overrides_move_and_cancel_single_dates():
    calendar = calendar_of(WEEKLY + """
        [[events.overrides]]
        recurrence_id = 2022-03-30T18:00:00
        status = "cancelled"

        [[events.overrides]]
        recurrence_id = 2022-05-04T18:00:00
        start = 2022-05-05T17:00:00
        title = "Corso (giovedì)"
    """)
    (series,) = calendar.events
    found = {o.start: o for o in expand(series, datetime(2022, 3, 1, tzinfo=UTC), datetime(2022, 6, 1, tzinfo=UTC), ROME)}
    assert datetime(2022, 5, 4, 18, tzinfo=ROME) not in found
    moved = found[datetime(2022, 5, 5, 17, tzinfo=ROME)]
    assert moved.event.title == "Corso (giovedì)" and moved.end == datetime(2022, 5, 5, 18, 30, tzinfo=ROME)
    assert found[datetime(2022, 3, 30, 18, tzinfo=ROME)].event.status == "cancelled"
    parsed = icalendar.Calendar.from_ical(feed_of(calendar))
    seen = {o.DTSTART: (str(o["SUMMARY"]), str(o.get("STATUS"))) for o in recurring_ical_events.of(parsed).between((2022, 3, 1), (2022, 6, 1))}
    assert seen[datetime(2022, 5, 5, 17, tzinfo=ZoneInfo("Europe/Rome"))] == ("Corso (giovedì)", "CONFIRMED")
    assert seen[datetime(2022, 3, 30, 18, tzinfo=ZoneInfo("Europe/Rome"))][1] == "CANCELLED"
    assert datetime(2022, 5, 4, 18, tzinfo=ZoneInfo("Europe/Rome")) not in seen


def test_all_day_series_keep_dates():
    calendar = calendar_of("""
        [[events]]
        id = "festa"
        title = "Festa del quartiere"
        start = 2022-06-11
        end = 2022-06-12
        rrule = "FREQ=YEARLY;UNTIL=2025-06-11"
    """)
    body = feed_of(calendar)
    assert b"RRULE:FREQ=YEARLY;UNTIL=20250611\r\n" in body
    starts = engine_starts(calendar, datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
    assert starts == [date(2022, 6, 11), date(2023, 6, 11), date(2024, 6, 11), date(2025, 6, 11)]
    assert oracle_starts(body, datetime(2020, 1, 1), datetime(2030, 1, 1)) == starts


def test_a_local_time_skipped_by_dst_takes_the_offset_before():
    """RFC 5545: 02:30 on the spring-forward night is read with the old offset."""
    calendar = calendar_of("""
        [[events]]
        id = "notte"
        title = "Turno di notte"
        start = 2022-03-25T02:30:00
        rrule = "FREQ=DAILY;COUNT=4"
    """)
    starts = engine_starts(calendar, datetime(2022, 3, 1, tzinfo=UTC), datetime(2022, 4, 1, tzinfo=UTC))
    assert [s.astimezone(UTC).hour for s in starts] == [1, 1, 1, 0]  # 27 March: 01:30 UTC = 03:30 CEST


def test_endless_rules_are_bounded():
    calendar = calendar_of("""
        [[events]]
        id = "sempre"
        title = "Ogni giorno"
        start = 2022-01-01T10:00:00
        rrule = "FREQ=DAILY"
    """)
    (event,) = calendar.events
    found = expand(event, datetime(2022, 1, 1, tzinfo=UTC), datetime(2199, 1, 1, tzinfo=UTC), ROME)
    assert len(found) == MAX_PER_EVENT
    assert len(listing(calendar.events, datetime(2030, 1, 1, tzinfo=UTC), datetime(2199, 1, 1, tzinfo=UTC), ROME, 50)) == 50
    assert b"BEGIN:VTIMEZONE" in feed_of(calendar)


def test_past_days_keeps_a_series_while_it_has_recent_dates():
    calendar = calendar_of("""
        [[events]]
        id = "finito"
        title = "Finito nel 2021"
        start = 2021-01-06T18:00:00
        rrule = "FREQ=WEEKLY;COUNT=10"

        [[events]]
        id = "in-corso"
        title = "Fino a giugno 2022"
        start = 2021-01-06T18:00:00
        rrule = "FREQ=WEEKLY;UNTIL=2022-06-29"

        [[events]]
        id = "senza-fine"
        title = "Senza fine"
        start = 2019-01-02T18:00:00
        rrule = "FREQ=MONTHLY"
    """, header=HEADER + "past_days = 30\n")
    kept = select(calendar, since=date(2022, 6, 1))
    assert [e.id for e in kept] == ["senza-fine", "in-corso"]


# --- property-based: generated rules around DST changes ------------------------

ZONES = ["Europe/Rome", "Europe/London", "America/New_York", "Australia/Sydney"]


@st.composite
def series(draw):
    name = draw(st.sampled_from(ZONES))
    year = draw(st.integers(2019, 2032))
    # Start within three weeks of a DST change in either hemisphere.
    anchor = draw(st.sampled_from([date(year, 3, 25), date(year, 10, 28), date(year, 4, 3), date(year, 11, 3)]))
    day = anchor + timedelta(days=draw(st.integers(-21, 7)))
    moment = datetime.combine(day, time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45]))))
    freq = draw(st.sampled_from(["DAILY", "WEEKLY"]))
    interval = draw(st.integers(1, 3))
    count = draw(st.integers(1, 25))
    skipped = draw(st.sets(st.integers(1, count - 1), max_size=3)) if count > 1 else set()
    ending = draw(st.sampled_from(["COUNT", "UNTIL date", "UNTIL date-time"]))
    return name, moment, freq, interval, count, sorted(skipped), ending


@settings(max_examples=200, deadline=None)
@given(series())
def test_generated_series_agree_with_both_oracles(case):
    name, start, freq, interval, count, skipped, ending = case
    try:
        localize(start, zone(name))
    except LocalTimeError:
        assume(False)
    step = timedelta(days=interval * (7 if freq == "WEEKLY" else 1))
    walls = [start + k * step for k in range(count)]  # the plain wall-clock expansion
    exdates = [walls[k] for k in skipped]
    toml_dates = ", ".join(d.isoformat() for d in exdates)
    if ending == "COUNT":
        end_part = f"COUNT={count}"
    elif ending == "UNTIL date":
        end_part = f"UNTIL={walls[-1].date().isoformat()}"  # includes that whole day
    else:
        try:
            localize(walls[-1], zone(name))
        except LocalTimeError:
            assume(False)
        end_part = f"UNTIL={walls[-1].isoformat()}"
    calendar = calendar_of(f"""
        [[events]]
        id = "serie"
        title = "Serie"
        timezone = "{name}"
        start = {start.isoformat()}
        duration = "PT1H"
        rrule = "FREQ={freq};INTERVAL={interval};{end_part}"
        exdates = [{toml_dates}]
    """)
    expected = [w.replace(tzinfo=ZoneInfo(name)).astimezone(UTC) for w in walls if w not in exdates]
    after, before = datetime(2018, 1, 1, tzinfo=UTC), datetime(2035, 1, 1, tzinfo=UTC)
    ours = utc(engine_starts(calendar, after, before))
    assert ours == expected
    assert utc(oracle_starts(feed_of(calendar), after, before)) == expected


@settings(max_examples=150, deadline=None)
@given(
    freq=st.sampled_from(["DAILY", "WEEKLY"]),
    interval=st.integers(1, 4),
    days=st.sets(st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), max_size=3),
    first=st.dates(date(2019, 1, 1), date(2024, 12, 31)),
    offset=st.integers(0, 3000),
    width=st.integers(1, 120),
)
def test_a_late_window_gives_the_dates_a_full_walk_gives(freq, interval, days, first, offset, width):
    """Windows years after the first date are reached by starting the rule
    later (whole periods); that must not change a single date."""
    byday = f";BYDAY={','.join(sorted(days))}" if days and freq == "WEEKLY" else ""
    start = datetime.combine(first, time(18, 0))
    rule = f"FREQ={freq};INTERVAL={interval}{byday}"
    if byday and start.strftime("%a")[:2].upper() not in days:
        assume(False)  # the first date must be one of the rule's
    calendar = calendar_of(f"""
        [[events]]
        id = "serie"
        title = "Serie"
        start = {start.isoformat()}
        rrule = "{rule}"
    """)
    (event,) = calendar.events
    after = datetime.combine(first + timedelta(days=offset), time(), UTC)
    before = after + timedelta(days=width)
    walked = [m for m in recurring_ical_events.of(icalendar.Calendar.from_ical(feed_of(calendar))).between(after, before)]
    assert [o.start for o in expand(event, after, before, ROME)] == sorted(m.DTSTART for m in walked)


@settings(max_examples=30, deadline=None)
@given(
    freq=st.sampled_from(["HOURLY", "MONTHLY", "YEARLY"]),
    interval=st.integers(1, 5),
    first=st.datetimes(datetime(2019, 1, 1), datetime(2024, 12, 31)),
    offset=st.integers(0, 3000),
    width=st.integers(1, 60),
)
@example(freq="HOURLY", interval=1, first=datetime(2019, 9, 16), offset=33, width=20)  # through the autumn overlap
def test_a_late_window_of_hours_months_or_years_gives_the_dates_a_full_walk_gives(freq, interval, first, offset, width):
    """Hourly, monthly and yearly rules too are started whole periods later
    for a late window (months only from a day that every month has)."""
    start = first.replace(minute=first.minute // 15 * 15, second=0, microsecond=0)
    if freq == "HOURLY":
        offset = offset % 60  # the oracle walks every hour from the start
    try:
        calendar = calendar_of(f"""
            [[events]]
            id = "serie"
            title = "Serie"
            start = {start.isoformat()}
            duration = "PT30M"
            rrule = "FREQ={freq};INTERVAL={interval}"
        """)
    except CalendarErrors:
        assume(False)  # a start in a DST gap or overlap
    (event,) = calendar.events
    after = datetime.combine(start.date() + timedelta(days=offset), time(), UTC)
    before = after + (timedelta(hours=width * 10) if freq == "HOURLY" else timedelta(days=width * 30))
    walked = recurring_ical_events.of(icalendar.Calendar.from_ical(feed_of(calendar))).between(after, before)
    # Compared as UTC instants: Python never finds two zones' datetimes in a
    # repeated hour equal (PEP 495), even when they are the same instant.
    ours = [o.start.astimezone(UTC) for o in expand(event, after, before, ROME)]
    assert ours == sorted(m.DTSTART.astimezone(UTC) for m in walked)


def test_the_last_date_of_a_series_longer_than_any_file_may_have_is_not_looked_for():
    """A series that bypassed validation (1.5 million hourly dates) is treated
    as endless instead of expanded to its end by every compile."""
    (event,) = calendar_of("""
        [[events]]
        id = "ogni-ora"
        title = "Ogni ora"
        start = 2022-01-01T10:00:00
        rrule = "FREQ=HOURLY;COUNT=3"
    """).events
    endless = replace(event, recurrence=replace(event.recurrence, rule=parse_rule("FREQ=HOURLY"), until=datetime(2199, 12, 31, tzinfo=UTC)))
    assert last_start(endless) is None
    assert last_start(event) == datetime(2022, 1, 1, 12, 0)


def test_a_date_in_the_dst_gap_can_be_overridden_by_its_wall_clock_time():
    calendar = calendar_of("""
        [[events]]
        id = "notte"
        title = "Turno di notte"
        start = 2022-03-25T02:30:00
        rrule = "FREQ=DAILY;COUNT=4"
        exdates = [2022-03-26T02:30:00]

        [[events.overrides]]
        recurrence_id = 2022-03-27T02:30:00
        status = "cancelled"
    """)
    (event,) = calendar.events
    (override,) = event.overrides
    assert override.recurrence_id.astimezone(UTC) == datetime(2022, 3, 27, 1, 30, tzinfo=UTC)
    assert b"RECURRENCE-ID;TZID=Europe/Rome:20220327T023000\r\n" in feed_of(calendar)


@st.composite
def events_and_window(draw):
    """Single events of every shape (timed, with and without an end, all-day
    over several days, with a UTC offset) and a few series, with a window."""
    blocks = []
    for n in range(draw(st.integers(1, 25))):
        day = date(2030, 1, 1) + timedelta(days=draw(st.integers(0, 60)))
        kind = draw(st.sampled_from(["timed", "open", "all-day", "days", "offset"]))
        hour = draw(st.integers(0, 22))
        block = f'[[events]]\nid = "e{n}"\ntitle = "E{n}"\n'
        if kind == "timed":
            block += f"start = {day}T{hour:02d}:00:00\nend = {day}T{hour + 1:02d}:30:00\n"
        elif kind == "open":
            block += f"start = {day}T{hour:02d}:15:00\n"
        elif kind == "all-day":
            block += f"start = {day}\n"
        elif kind == "days":
            block += f"start = {day}\nend = {day + timedelta(days=draw(st.integers(1, 20)))}\n"
        else:
            block += f"start = {day}T{hour:02d}:00:00Z\nend = {day}T{hour:02d}:45:00Z\n"
        blocks.append(block)
    for n in range(draw(st.integers(0, 3))):
        day = date(2030, 1, 1) + timedelta(days=draw(st.integers(0, 60)))
        blocks.append(f'[[events]]\nid = "s{n}"\ntitle = "S{n}"\nstart = {day}T18:00:00\nrrule = "FREQ=DAILY;COUNT={draw(st.integers(1, 30))}"\n')
    after = datetime(2030, 1, 1, tzinfo=ROME) + timedelta(hours=draw(st.integers(0, 24 * 70)))
    before = after + timedelta(hours=draw(st.integers(1, 24 * 30)))
    return "\n".join(blocks), after, before


@settings(max_examples=200, deadline=None)
@given(events_and_window(), st.booleans(), st.integers(1, 60))
def test_a_listing_over_a_selection_is_the_listing_of_every_event(case, ongoing, limit):
    """Listings over ``select`` use an index of starts; they must list what a
    look at every event lists."""
    body, after, before = case
    calendar = calendar_of(body)
    chosen = select(calendar)
    assert chosen is select(calendar)  # kept with the version
    everyone = listing(tuple(calendar.events), after, before, ROME, limit, ongoing)
    assert listing(chosen, after, before, ROME, limit, ongoing) == everyone
    assert listing(chosen, after, before, ROME, limit, ongoing, daily=True) == everyone


def reference_entries(calendar, after: datetime, before: datetime, limit: int) -> list[Entry]:
    """The rule of ``entries`` applied to every event, one by one: its first
    date in the window not cancelled among its next NEXT_LOOK, else its first."""
    found = []
    for event in calendar.events:
        dates = expand(event, after, before, ROME, NEXT_LOOK)
        if dates:
            found.append(Entry(event, next((o for o in dates if o.event.status != "cancelled"), dates[0])))
    found.sort(key=lambda entry: (entry.next.instant(ROME), entry.event.id))
    return found[:limit]


@settings(max_examples=150, deadline=None)
@given(events_and_window(), st.integers(1, 40), st.integers(0, 30))
def test_entries_over_a_selection_are_those_of_every_event_one_by_one(case, limit, hours):
    """``entries`` looks at series in the order of their first date of the
    day and stops early; it must find what a look at every event finds, at
    several moments of one day and the next."""
    body, after, before = case
    calendar = calendar_of(body)
    chosen = select(calendar)
    for moment in (after, after + timedelta(hours=hours), after + timedelta(minutes=1)):
        assert entries(chosen, moment, before + (moment - after), ROME, limit) == reference_entries(
            calendar, moment, before + (moment - after), limit
        )


def test_entries_walk_only_the_series_that_can_be_nearest(monkeypatch):
    """A list of the next five events of a calendar of 400 weekly series
    (and a listing of its next twenty dates) walks a few of them once the
    day's order is known, not all 400."""
    calendar = calendar_of("".join(
        f'[[events]]\nid = "s{n:03d}"\ntitle = "S{n}"\nstart = {date(2030, 1, 1) + timedelta(days=n % 7)}T{8 + n % 12:02d}:00:00\n'
        f'rrule = "FREQ=WEEKLY;COUNT=60"\n\n'
        for n in range(400)
    ))
    chosen = select(calendar)
    morning = datetime(2030, 6, 3, 7, 0, tzinfo=ROME)
    expected = reference_entries(calendar, morning + timedelta(hours=3), morning + timedelta(days=400), 5)
    entries(chosen, morning, morning + timedelta(days=400), ROME, 5)
    walked = []
    real = occurrences._stream
    monkeypatch.setattr(occurrences, "_stream", lambda event, *args, **kw: walked.append(event) or real(event, *args, **kw))
    later = morning + timedelta(hours=3)  # the same day
    assert entries(chosen, later, later + timedelta(days=400), ROME, 5) == expected
    assert len(walked) <= 40
    walked.clear()
    found = listing(chosen, later, later + timedelta(days=400), ROME, 20, daily=True)
    assert len(walked) <= 60
    assert found == listing(tuple(calendar.events), later, later + timedelta(days=400), ROME, 20)


@st.composite
def counted_rules(draw):
    """A start and a COUNT rule of any frequency whose BYxxx parts hold the
    start (so that it is the rule's first date, as validation wants)."""
    start = datetime(2021, 1, 1, 18) + timedelta(days=draw(st.integers(0, 4 * 366)))
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}", f"INTERVAL={draw(st.integers(1, 3))}", f"COUNT={draw(st.integers(1, 12))}"]
    weekdays = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    if draw(st.booleans()):
        days = {weekdays[start.weekday()]} | draw(st.sets(st.sampled_from(weekdays), max_size=3))
        parts.append("BYDAY=" + ",".join(sorted(days)))
    if freq != "WEEKLY" and draw(st.booleans()):
        parts.append("BYMONTHDAY=" + ",".join(map(str, sorted({start.day} | draw(st.sets(st.integers(1, 31), max_size=2))))))
    if draw(st.booleans()):
        parts.append("BYMONTH=" + ",".join(map(str, sorted({start.month} | draw(st.sets(st.integers(1, 12), max_size=2))))))
    return start, ";".join(parts)


@settings(max_examples=300, deadline=None)
@given(counted_rules())
@example((datetime(2018, 10, 31, 18), "FREQ=MONTHLY;COUNT=4"))  # November and February have no 31st
@example((datetime(2019, 1, 2, 18), "FREQ=DAILY;BYDAY=WE;COUNT=5"))  # one day of seven
def test_the_bound_of_a_last_date_is_never_before_it(case):
    """``last_start_bound`` (the VTIMEZONE's range skips walking series with
    it) against the last date recurring-ical-events finds in the same rule."""
    start, rule = case
    component = icalendar.Calendar.from_ical(
        f"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:{start:%Y%m%dT%H%M%S}\r\nRRULE:{rule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    last = max(o["DTSTART"].dt for o in recurring_ical_events.of(component).between(date(2018, 1, 1), date(2100, 1, 1)))
    event = Event("a", "a@x", "A", start, recurrence=Recurrence(parse_rule(rule)))
    bound = occurrences.last_start_bound(event)
    assert bound is None or bound >= last



def _filtered_calendar():
    """Events in every mix of two categories and two places, none, or both."""
    tables = []
    for n in range(24):
        categories = [["Musica"], ["Laboratori"], ["Musica", "Laboratori"], []][n % 4]
        place = ["sala", "cortile", None][n % 3]
        tables.append(
            f'[[events]]\nid = "e{n}"\ntitle = "Evento {n}"\nstart = 2025-03-{n + 1:02d}T18:00:00\n'
            f"categories = {categories!r}\n".replace("'", '"') + (f'place = "{place}"\n' if place else "")
        )
    head = '[calendar]\nname = "Prova"\nbase_url = "https://example.org"\n[places.sala]\nname = "Sala"\n[places.cortile]\nname = "Cortile"\n'
    return build_calendar(loading.parse(head + "".join(tables), "events.toml"))


@given(
    st.frozensets(st.sampled_from(["musica", "laboratori", "teatro"])),
    st.frozensets(st.sampled_from(["sala", "cortile", "piazza"])),
)
def test_a_selection_holds_the_events_of_any_category_at_any_place_in_calendar_order(categories, places):
    calendar = _filtered_calendar()
    wanted = [
        e.id for e in calendar.events
        if (not categories or {c.slug for c in e.categories} & categories)
        and (not places or (e.place is not None and e.place.slug in places))
    ]
    assert [e.id for e in occurrences.select(calendar, categories, places)] == wanted

"""Round trips: what calfeed publishes, `calfeed import` reads back the same;
what another publisher's feed says, calfeed serves the same after import."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from calfeed import loading
from calfeed.importing import import_calendar
from calfeed.occurrences import expand
from calfeed.published import FeedFilter, Published
from calfeed.timezones import LocalTimeError, localize, zone
from calfeed.validation import build_calendar, load_calendar

UTC = timezone.utc
ROME = zone("Europe/Rome")
ZONES = ["Europe/Rome", "Europe/London", "America/New_York", "Australia/Sydney"]
WINDOW = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC))
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@st.composite
def event_toml(draw, index: int) -> str:
    name = draw(st.sampled_from(ZONES))
    all_day = draw(st.booleans())
    day = draw(st.dates(date(2021, 1, 1), date(2029, 12, 31)))
    lines = ["[[events]]", f'id = "e{index}"', f'title = "Evento {index} à, è; \\\\ fine"']
    if all_day:
        lines.append(f"start = {day.isoformat()}")
        if draw(st.booleans()):
            lines.append(f"end = {(day + timedelta(days=draw(st.integers(0, 3)))).isoformat()}")
    else:
        start = datetime.combine(day, time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30]))))
        try:
            localize(start, zone(name))
        except LocalTimeError:
            assume(False)
        lines += [f'timezone = "{name}"', f"start = {start.isoformat()}", f'duration = "PT{draw(st.integers(1, 5))}H"']
    if draw(st.booleans()):
        freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY"]))
        ending = draw(st.sampled_from([f"COUNT={draw(st.integers(1, 20))}", f"UNTIL={(day + timedelta(days=draw(st.integers(0, 200)))).isoformat()}", ""]))
        lines.append(f'rrule = "FREQ={freq}' + (f";{ending}" if ending else "") + '"')
    if draw(st.booleans()):
        lines.append(f'categories = {draw(st.lists(st.sampled_from(["Webinar", "Città aperta", "Feste"]), min_size=1, max_size=2, unique=True))!r}'.replace("'", '"'))
    if draw(st.booleans()):
        lines.append('location = "Piazza Vittorio, Torino"')
    lines.append(f'status = "{draw(st.sampled_from(["confirmed", "tentative", "cancelled"]))}"')
    lines.append('description = "Riga uno\\n\\nRiga due, con virgole; e punti"')
    return "\n".join(lines) + "\n"


@st.composite
def calendars(draw) -> str:
    count = draw(st.integers(1, 4))
    return '[calendar]\nname = "Prova"\nbase_url = "https://eventi.example.org"\n\n' + "\n".join(draw(event_toml(i)) for i in range(count))


def _summary(calendar) -> dict:
    """What a subscriber sees of each event: times as instants, texts, rules."""
    out = {}
    for event in calendar.events:
        occurrences = [(o.start.astimezone(UTC) if isinstance(o.start, datetime) else o.start) for o in expand(event, *WINDOW, ROME)]
        out[event.uid] = (
            event.title, event.description, [c.name for c in event.categories], event.status,
            event.location_text, occurrences,
        )
    return out


@SETTINGS
@given(calendars())
def test_import_of_calfeeds_own_feed_gives_back_the_same_events(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("roundtrip")
    original = build_calendar(loading.parse(text, "events.toml"))
    feed = folder / "calendar.ics"
    feed.write_bytes(Published(original).feed(FeedFilter(), date(2020, 1, 1)).data)
    out = folder / "imported.toml"
    import_calendar(str(feed), out, base_url="https://eventi.example.org")
    assert _summary(load_calendar(out)) == _summary(original)


# --- feeds as other publishers write them --------------------------------------


@st.composite
def foreign_feeds(draw) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Someone else//EN")
    calendar.add("version", "2.0")
    for n in range(draw(st.integers(1, 3))):
        event = icalendar.Event()
        event.add("uid", f"{n}@elsewhere.example.com")
        event.add("summary", f"Altro {n}")
        event.add("dtstamp", datetime(2022, 1, 1, tzinfo=UTC))
        name = draw(st.sampled_from(ZONES + ["UTC"]))
        day = draw(st.dates(date(2021, 1, 1), date(2029, 12, 31)))
        start = datetime.combine(day, time(draw(st.integers(0, 23)), 0))
        if name == "UTC":
            begins = start.replace(tzinfo=UTC)
        else:
            try:
                localize(start, zone(name))
            except LocalTimeError:
                assume(False)
            begins = start.replace(tzinfo=ZoneInfo(name))
        event.add("dtstart", begins)
        event.add("dtend", begins + timedelta(hours=draw(st.integers(1, 3))))
        if draw(st.booleans()):
            rule = {"FREQ": draw(st.sampled_from(["DAILY", "WEEKLY"])), "COUNT": draw(st.integers(2, 15))}
            event.add("rrule", rule)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


@SETTINGS
@given(foreign_feeds())
def test_occurrences_survive_import(tmp_path_factory, body):
    folder = tmp_path_factory.mktemp("foreign")
    feed = folder / "feed.ics"
    feed.write_bytes(body)
    out = folder / "events.toml"
    import_calendar(str(feed), out, base_url="https://eventi.example.org")
    imported = load_calendar(out)
    ours = sorted(o.start.astimezone(UTC) for e in imported.events for o in expand(e, *WINDOW, ROME))
    theirs = sorted(o.DTSTART.astimezone(UTC) for o in recurring_ical_events.of(icalendar.Calendar.from_ical(body)).between(*WINDOW))
    assert ours == theirs
    rebuilt = icalendar.Calendar.from_ical(Published(imported).feed(FeedFilter(), date(2020, 1, 1)).data)
    again = sorted(o.DTSTART.astimezone(UTC) for o in recurring_ical_events.of(rebuilt).between(*WINDOW))
    assert again == theirs

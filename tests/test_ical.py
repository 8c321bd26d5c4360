"""The feeds as calendar clients read them: two independent parsers, instants
compared with UTC times written by hand, and the raw bytes checked line by line."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

import icalendar
import pytest
import recurring_ical_events
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import parse_both

UTC = timezone.utc

DST_CALENDAR = """
[[events]]
id = "inverno"
title = "Prima del cambio di marzo"
start = 2022-03-26T18:00:00
end = 2022-03-26T19:30:00

[[events]]
id = "primavera"
title = "Dopo il cambio di marzo"
start = 2022-03-27T18:00:00
duration = "PT1H30M"

[[events]]
id = "estate"
title = "Prima del cambio di ottobre"
start = 2022-10-29T18:00:00
end = 2022-10-29T19:30:00

[[events]]
id = "autunno"
title = "Dopo il cambio di ottobre"
start = 2022-10-30T18:00:00
end = 2022-10-30T19:30:00

[[events]]
id = "notte"
title = "Across the October change"
start = 2022-10-30T01:30:00
end = 2022-10-30T03:30:00

[[events]]
id = "con-offset"
title = "Offset time"
start = 2022-05-04T09:00:00-04:00
end = 2022-05-04T10:00:00-04:00

[[events]]
id = "londra"
title = "London"
timezone = "Europe/London"
start = 2022-07-01T18:00:00
end = 2022-07-01T19:00:00

[[events]]
id = "futuro"
title = "2045"
start = 2045-07-12T18:00:00
end = 2045-07-12T19:00:00

[[events]]
id = "festa"
title = "Festa"
start = 2022-06-11
end = 2022-06-12

[[events]]
id = "giornata"
title = "Un giorno"
start = 2022-09-03
"""

# Written by hand: Rome is UTC+1 in winter, UTC+2 in summer; the change is at
# 01:00 UTC on the last Sunday of March and October.
EXPECTED_UTC = {
    "inverno": (datetime(2022, 3, 26, 17, 0), datetime(2022, 3, 26, 18, 30)),
    "primavera": (datetime(2022, 3, 27, 16, 0), datetime(2022, 3, 27, 17, 30)),
    "estate": (datetime(2022, 10, 29, 16, 0), datetime(2022, 10, 29, 17, 30)),
    "autunno": (datetime(2022, 10, 30, 17, 0), datetime(2022, 10, 30, 18, 30)),
    "notte": (datetime(2022, 10, 29, 23, 30), datetime(2022, 10, 30, 2, 30)),
    "con-offset": (datetime(2022, 5, 4, 13, 0), datetime(2022, 5, 4, 14, 0)),
    "londra": (datetime(2022, 7, 1, 17, 0), datetime(2022, 7, 1, 18, 0)),
    "futuro": (datetime(2045, 7, 12, 16, 0), datetime(2045, 7, 12, 17, 0)),
}


@pytest.fixture
def dst_feed(make_client):
    return make_client(DST_CALENDAR).get("/calendar.ics").data


def _uid_key(uid: str) -> str:
    return uid.split("@")[0]


def test_instants_match_hand_written_utc_in_both_parsers(dst_feed):
    first, second = parse_both(dst_feed)
    seen_first = {
        _uid_key(str(e["UID"])): (e.DTSTART, e.DTEND)
        for e in first.walk("VEVENT")
    }
    seen_second = {_uid_key(e.uid): (e.dtstart, e.dtend) for e in second.events}
    for uid, (start, end) in EXPECTED_UTC.items():
        for seen in (seen_first, seen_second):
            got_start, got_end = seen[uid]
            assert got_start.astimezone(UTC).replace(tzinfo=None) == start, uid
            assert got_end.astimezone(UTC).replace(tzinfo=None) == end, uid


def test_offsets_read_from_the_feeds_own_vtimezone(dst_feed):
    """Offsets computed from the VTIMEZONE text, not from the zone's name."""
    first, _ = parse_both(dst_feed)
    zones = {str(tz["TZID"]): tz.to_tz(lookup_tzid=False) for tz in first.walk("VTIMEZONE")}
    assert set(zones) == {"Europe/Rome", "Europe/London"}
    for event in first.walk("VEVENT"):
        uid = _uid_key(str(event["UID"]))
        start = event["DTSTART"]
        tzid = start.params.get("TZID")
        if uid in EXPECTED_UTC and tzid:
            local = start.dt.replace(tzinfo=None)
            assert local.replace(tzinfo=zones[tzid]).astimezone(UTC).replace(tzinfo=None) == EXPECTED_UTC[uid][0], uid


def test_local_times_keep_tzid_and_offset_times_are_utc(dst_feed):
    text = dst_feed.decode()
    assert "DTSTART;TZID=Europe/Rome:20220327T180000\r\n" in text
    assert "DTEND;TZID=Europe/Rome:20220327T193000\r\n" in text
    assert "DTSTART:20220504T130000Z\r\n" in text
    assert "DTSTART;TZID=Europe/London:20220701T180000\r\n" in text


def test_all_day_events(dst_feed):
    first, second = parse_both(dst_feed)
    by_uid = {_uid_key(str(e["UID"])): e for e in first.walk("VEVENT")}
    assert by_uid["festa"].DTSTART == date(2022, 6, 11)
    assert by_uid["festa"].DTEND == date(2022, 6, 13)  # end is inclusive in events.toml
    assert "DTEND" not in by_uid["giornata"]  # one day, as RFC 5545 says
    second_by_uid = {_uid_key(e.uid): e for e in second.events}
    assert second_by_uid["festa"].dtstart == date(2022, 6, 11)
    assert second_by_uid["giornata"].end == date(2022, 9, 4)


def test_one_vtimezone_per_zone_before_the_events(dst_feed):
    text = dst_feed.decode()
    assert text.count("BEGIN:VTIMEZONE") == 2
    assert text.rindex("END:VTIMEZONE") < text.index("BEGIN:VEVENT")
    used = set(re.findall(r";TZID=([^:;]+)", text))
    declared = set(re.findall(r"\r\nTZID:([^\r]+)", text))
    assert used == declared == {"Europe/Rome", "Europe/London"}


def _unfolded_lines(body: bytes) -> list[bytes]:
    return body.replace(b"\r\n ", b"").split(b"\r\n")


def test_raw_bytes_crlf_folding_and_utf8(client):
    body = client.get("/calendar.ics").data
    assert body.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert b"\r" not in body.replace(b"\r\n", b"")
    lines = body.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    assert any(len(line) == 75 or len(line) == 74 for line in lines)  # long lines were folded
    for line in lines:
        line.decode("utf-8")  # no UTF-8 character split across a fold
    assert "PROSSIMITÀ".encode() in b"".join(_unfolded_lines(body))


def test_calendar_properties(client):
    text = client.get("/calendar.ics").data.decode()
    for line in [
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-TIMEZONE:Europe/Rome",
        "REFRESH-INTERVAL;VALUE=DURATION:PT6H",
        "X-PUBLISHED-TTL:PT6H",
        "NAME:Case del Quartiere e Patti di collaborazione",
        "X-WR-CALNAME:Case del Quartiere e Patti di collaborazione",
    ]:
        assert f"\r\n{line}\r\n" in text
    assert "\r\nPRODID:" in text and "\r\nX-WR-CALDESC:Webinar\\, assemblee" in text


def test_the_seed_webinar(client):
    first, _ = parse_both(client.get("/events/generare-prossimita.ics").data)
    event = first.walk("VEVENT")[0]
    assert str(event["UID"]) == "generare-prossimita@eventi.casedelquartiere.example.org"
    assert event.DTSTART.astimezone(UTC) == datetime(2021, 12, 1, 17, 0, tzinfo=UTC)
    assert event.DTEND.astimezone(UTC) == datetime(2021, 12, 1, 18, 30, tzinfo=UTC)
    assert [str(c) for c in event.categories] == ["Webinar", "Patti di collaborazione"]
    assert str(event["SUMMARY"]).startswith("GENERARE PROSSIMITÀ. Quali (possibili)")
    assert "Case del Quartiere" in str(event["DESCRIPTION"])
    assert "Online: https://www.youtube.com/@labsus" in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == "mailto:redazione@labsus.example.org"
    assert event["ORGANIZER"].params["CN"] == "Labsus"
    conferences = [str(c) for c in event.get("CONFERENCE")]
    assert conferences == ["https://www.facebook.com/labsus", "https://www.youtube.com/@labsus"]
    assert str(event["ATTACH"]).endswith("programma-generare-prossimita.pdf")
    assert event["STATUS"] == "CONFIRMED" and event["SEQUENCE"] == 0
    assert event["DTSTAMP"].dt == datetime(2021, 11, 20, 9, 0, tzinfo=UTC)  # updated, 10:00 in Rome
    assert event["LAST-MODIFIED"].dt == datetime(2021, 11, 20, 9, 0, tzinfo=UTC)


def test_places_give_location_and_geo(client):
    first, second = parse_both(client.get("/events/corso-riparazione-biciclette.ics").data)
    event = first.walk("VEVENT")[0]
    assert str(event["LOCATION"]) == "Bagni Pubblici di via Agliè, Via Agliè 9, 10154 Torino"
    assert (event["GEO"].latitude, event["GEO"].longitude) == (45.0907, 7.6913)
    assert second.events[0].geo.lat == pytest.approx(45.0907)


def apple_locations(body: bytes) -> tuple[list, list]:
    """X-APPLE-STRUCTURED-LOCATION of each VEVENT, as icalendar and as ``ical`` read it."""
    first, second = parse_both(body)
    by_icalendar = [event.get("X-APPLE-STRUCTURED-LOCATION") for event in first.walk("VEVENT")]
    by_ical = [[x for x in event.extras if x.name == "x-apple-structured-location"] for event in second.events]
    return by_icalendar, by_ical


def test_places_with_coordinates_give_apple_a_structured_location(client):
    (found,), ((extra,),) = apple_locations(client.get("/events/corso-riparazione-biciclette.ics").data)
    assert str(found) == "geo:45.090700,7.691300"
    assert dict(found.params) == {
        "VALUE": "URI", "X-ADDRESS": "Via Agliè 9, 10154 Torino", "X-APPLE-RADIUS": "70", "X-TITLE": "Bagni Pubblici di via Agliè",
    }
    assert extra.value == "geo:45.090700,7.691300"
    assert {p.name: p.values for p in extra.params}["X-ADDRESS"] == ["Via Agliè 9, 10154 Torino"]
    # A place without coordinates, and free text, have LOCATION only.
    for event_id in ("festa-casa-quartiere-latina", "pulizia-parco-dora", "generare-prossimita"):
        by_icalendar, by_ical = apple_locations(client.get(f"/events/{event_id}.ics").data)
        assert by_icalendar == [None] and by_ical == [[]], event_id


def test_structured_location_parameters_survive_quotes_and_line_breaks(make_client):
    client = make_client(
        """
        [places.sala]
        name = 'Sala "Gialla": primo piano'
        address = "Via Roma 1;\\n10100 Torino"
        geo = [45.07, 7.68]

        [[events]]
        id = "x"
        title = "X"
        start = 2022-01-01T10:00:00
        place = "sala"
        """
    )
    (found,), ((extra,),) = apple_locations(client.get("/calendar.ics").data)
    assert found.params["X-TITLE"] == "Sala 'Gialla': primo piano"
    assert found.params["X-ADDRESS"] == "Via Roma 1; 10100 Torino"
    assert {p.name: p.values for p in extra.params}["X-TITLE"] == ["Sala 'Gialla': primo piano"]
    assert str(found) == "geo:45.070000,7.680000"


def test_a_single_event_download_is_not_a_calendar_to_subscribe_to(client):
    """Outlook opens a file naming a calendar (X-WR-CALNAME) as a new calendar;
    without it, it adds the event to the user's own."""
    body = client.get("/events/assemblea-rete-case-quartiere.ics").data
    first, second = parse_both(body)
    for name in ("X-WR-CALNAME", "NAME", "X-WR-CALDESC", "DESCRIPTION", "REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
        assert name not in first, name
    assert first["METHOD"] == "PUBLISH" and len(first.walk("VTIMEZONE")) == 1
    assert [str(e["UID"]) for e in first.walk("VEVENT")] == ["assemblea-rete-case-quartiere@eventi.casedelquartiere.example.org"]
    assert second.events[0].summary == "Assemblea della Rete delle Case del Quartiere"
    whole, _ = parse_both(client.get("/calendar.ics").data)
    assert str(whole["X-WR-CALNAME"]) == "Case del Quartiere e Patti di collaborazione"


def test_cancelled_event_is_kept_with_its_status(client):
    first, second = parse_both(client.get("/calendar.ics").data)
    cancelled = [e for e in first.walk("VEVENT") if e["STATUS"] == "CANCELLED"]
    by_uid = {str(e["UID"]).split("@")[0]: e for e in cancelled}
    assert sorted(by_uid) == ["cineforum-bagni-pubblici", "sportello-patti-latina"]
    assert by_uid["cineforum-bagni-pubblici"]["SEQUENCE"] == 1
    # One date of a series, cancelled by an override.
    assert by_uid["sportello-patti-latina"]["RECURRENCE-ID"].dt.astimezone(UTC) == datetime(2022, 6, 1, 15, 0, tzinfo=UTC)


def test_image_and_url_properties(client):
    first, _ = parse_both(client.get("/events/festa-casa-quartiere-latina.ics").data)
    event = first.walk("VEVENT")[0]
    assert str(event["IMAGE"]).endswith("locandina-festa-latina.jpg")
    assert event["IMAGE"].params["VALUE"] == "URI"


def test_dtstamp_falls_back_to_newest_updated_then_2000(make_client):
    body = make_client("""
        [[events]]
        id = "a"
        title = "A"
        start = 2022-01-10T10:00:00
        updated = 2022-01-05T12:00:00

        [[events]]
        id = "b"
        title = "B"
        start = 2022-01-11T10:00:00
    """).get("/calendar.ics").data
    first, _ = parse_both(body)
    stamps = {str(e["UID"]).split("@")[0]: e["DTSTAMP"].dt for e in first.walk("VEVENT")}
    assert stamps == {"a": datetime(2022, 1, 5, 11, tzinfo=UTC), "b": datetime(2022, 1, 5, 11, tzinfo=UTC)}
    bare = make_client('[[events]]\nid = "c"\ntitle = "C"\nstart = 2022-01-11T10:00:00\n').get("/calendar.ics").data
    assert b"DTSTAMP:20000101T000000Z\r\n" in bare


HOSTILE = "Festa\r\nBEGIN:VEVENT\r\nUID:evil\r\nEND:VEVENT; con, virgole\\ e \"virgolette\""


def test_text_cannot_inject_properties_or_components(make_client):
    body = make_client(f'''
        [[events]]
        id = "festa"
        title = "Festa, grande; davvero"
        description = """{HOSTILE.replace(chr(92), chr(92) * 2).replace('"', chr(92) + '"')}"""
        location = "Piazza\\nBEGIN:VALARM"
        categories = ["A,B", "C;D"]
        start = 2022-06-11T10:00:00
    ''').get("/calendar.ics").data
    lines = _unfolded_lines(body)
    assert lines.count(b"BEGIN:VEVENT") == 1
    assert not any(line.startswith((b"UID:evil", b"BEGIN:VALARM")) for line in lines)
    first, second = parse_both(body)
    (event,) = first.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Festa, grande; davvero"
    assert str(event["DESCRIPTION"]) == HOSTILE.replace("\r\n", "\n")
    assert str(event["LOCATION"]) == "Piazza\nBEGIN:VALARM"
    assert [str(c) for c in event.categories] == ["A,B", "C;D"]
    assert second.events[0].summary == "Festa, grande; davvero"


def test_control_characters_are_refused_not_served(write_events):
    from calfeed.errors import CalendarErrors
    from calfeed.validation import load_calendar

    path = write_events('[[events]]\nid = "x"\ntitle = "a\\u0000b"\nstart = 2022-01-01\n')
    with pytest.raises(CalendarErrors) as error:
        load_calendar(path)
    assert "control character U+0000" in str(error.value)


def test_same_file_same_bytes_in_a_new_process(tmp_path):
    """Another process (another worker, another machine) compiles the same bytes."""
    import subprocess
    import sys

    script = (
        "from calfeed import create_app; import sys; "
        "c = create_app({'EVENTS': 'events.toml'}).test_client(); "
        "r = c.get('/calendar.ics'); sys.stdout.write(r.headers['ETag'] + ' ' + str(len(r.data)))"
    )
    from conftest import ROOT

    runs = {
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60, env={"PATH": "/usr/bin:/bin", "TZ": tz}).stdout
        for tz in ("UTC", "America/Los_Angeles")
    }
    assert len(runs) == 1


def test_mixed_local_start_and_offset_end(make_client):
    body = make_client("""
        [[events]]
        id = "misto"
        title = "Local start, offset end"
        start = 2022-07-01T18:00:00
        end = 2022-07-01T17:00:00Z
    """).get("/calendar.ics").data
    first, second = parse_both(body)
    (event,) = first.walk("VEVENT")
    assert event.DTEND.astimezone(UTC) == datetime(2022, 7, 1, 17, 0, tzinfo=UTC)
    assert second.events[0].dtend.astimezone(UTC) == datetime(2022, 7, 1, 17, 0, tzinfo=UTC)
    assert b"DTEND;TZID=Europe/Rome:20220701T190000\r\n" in body


@pytest.mark.parametrize("zone_name", ["UTC", "Etc/UTC"])
def test_a_series_in_utc_keeps_utcs_clock_for_readers_that_apply_x_wr_timezone(make_client, zone_name):
    """Google-style readers move times of a zone named "UTC" into X-WR-TIMEZONE's
    zone; recurring-ical-events does so by default (through x-wr-timezone)."""
    body = make_client(f"""
        [[events]]
        id = "riunione-utc"
        title = "Riunione in UTC"
        start = 2026-01-05T10:00:00
        end = 2026-01-05T11:00:00
        timezone = "{zone_name}"
        rrule = "FREQ=WEEKLY;COUNT=30"
    """).get("/calendar.ics").data
    calendar = icalendar.Calendar.from_ical(body)
    dates = recurring_ical_events.of(calendar).between(date(2026, 1, 1), date(2026, 8, 1))
    starts = sorted(o["DTSTART"].dt.astimezone(UTC) for o in dates)
    # Written by hand: every Monday at 10:00 UTC, winter and summer alike.
    assert starts[0] == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert datetime(2026, 6, 22, 10, 0, tzinfo=UTC) in starts  # Rome is at +02:00 then
    assert {s.time() for s in starts} == {time(10, 0)} and len(starts) == 30
    first, second = parse_both(body)
    assert [e.dtstart.astimezone(UTC) for e in second.events] == [datetime(2026, 1, 5, 10, 0, tzinfo=UTC)]


# Text an editor could type: any character but the control ones calfeed refuses.
_typed = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters=[chr(c) for c in [*range(0, 9), *range(11, 32), *range(127, 160)]]),
    min_size=1,
    max_size=300,
)


@settings(max_examples=150, deadline=None)
@given(title=_typed.filter(lambda t: "\n" not in t and t.strip()), description=_typed)
def test_any_typed_text_reads_back_unchanged(title, description):
    from calfeed.model import Calendar, Event
    from calfeed.ical import feed

    event = Event(id="x", uid="x@example.org", title=title, description=description, start=date(2022, 1, 1))
    calendar = Calendar(name="Prova", base_url="https://example.org", timezone="Europe/Rome", events=(event,))
    body = feed(calendar, calendar.events)
    lines = body.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")
    first, second = parse_both(body)
    (parsed,) = first.walk("VEVENT")
    assert str(parsed["SUMMARY"]) == title
    assert second.events[0].summary == title
    if description.strip():
        assert str(parsed["DESCRIPTION"]) == description.strip()


# Written by hand: São Paulo kept summer time (UTC-2) from 4 November 2018 to
# 17 February 2019, its last; UTC-3 before and after. Each series starts in
# summer and its last date (or its end) falls after the change, later than
# the single events of the zone (the last two days before it): only the
# series carry the range there.
_WEDNESDAY = "start = 2018-11-07T18:00:00\n"
SAO_PAULO_SERIES = {
    "weekly-count": (_WEDNESDAY + 'rrule = "FREQ=WEEKLY;BYDAY=WE;COUNT=17"', datetime(2019, 2, 27, 18)),
    "weekly-until": (_WEDNESDAY + 'rrule = "FREQ=WEEKLY;BYDAY=WE,FR;UNTIL=2019-02-27"', datetime(2019, 2, 27, 18)),
    "every-second-week": (_WEDNESDAY + 'rrule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE;COUNT=9"', datetime(2019, 3, 6, 18)),
    "daily-count": (_WEDNESDAY + 'rrule = "FREQ=DAILY;INTERVAL=10;COUNT=13"', datetime(2019, 3, 1, 18)),
    "daily-on-wednesdays": (_WEDNESDAY + 'rrule = "FREQ=DAILY;BYDAY=WE;COUNT=17"', datetime(2019, 2, 27, 18)),
    "some-months": (_WEDNESDAY + 'rrule = "FREQ=MONTHLY;BYDAY=1WE;BYMONTH=11,3;COUNT=2"', datetime(2019, 3, 6, 18)),
    "monthly-31st": ('start = 2018-12-31T18:00:00\nrrule = "FREQ=MONTHLY;COUNT=3"', datetime(2019, 3, 31, 18)),
    "rdate-last": (
        _WEDNESDAY + 'rrule = "FREQ=WEEKLY;COUNT=3"\nrdates = [2019-02-10T18:00:00]\nduration = "P10D"', datetime(2019, 2, 20, 17)
    ),
    "long-occurrences": (_WEDNESDAY + 'rrule = "FREQ=WEEKLY;COUNT=3"\nduration = "P100D"', datetime(2019, 3, 1, 17)),
    # The series' length taken from a date moved later, which is itself short.
    "moved-later": (
        _WEDNESDAY + 'rrule = "FREQ=WEEKLY;COUNT=3"\nduration = "P10D"\n[[events.overrides]]\n'
        "recurrence_id = 2018-11-14T18:00:00\nstart = 2019-02-10T18:00:00\nend = 2019-02-10T19:00:00",
        datetime(2019, 2, 20, 18),
    ),
}


@pytest.mark.parametrize("name", SAO_PAULO_SERIES)
def test_a_series_ending_after_the_other_events_extends_its_vtimezone(make_client, name):
    """The feed's own VTIMEZONE (read by icalendar, not looked up by name)
    gives the series' last date the offset of its day."""
    rule, last = SAO_PAULO_SERIES[name]
    body = make_client("""
        [[events]]
        id = "before"
        title = "Before summer time"
        timezone = "America/Sao_Paulo"
        start = 2018-11-01T10:00:00

        [[events]]
        id = "summer"
        title = "Two days before the change"
        timezone = "America/Sao_Paulo"
        start = 2019-02-15T10:00:00

        [[events]]
        id = "series"
        title = "Series"
        timezone = "America/Sao_Paulo"
    """ + rule).get("/calendar.ics").data
    first, _ = parse_both(body)
    (vtimezone,) = first.walk("VTIMEZONE")
    tz = vtimezone.to_tz(lookup_tzid=False)
    assert last.replace(tzinfo=tz).astimezone(UTC) == (last + timedelta(hours=3)).replace(tzinfo=UTC)
    summer = datetime(2018, 12, 12, 18)
    assert summer.replace(tzinfo=tz).astimezone(UTC) == (summer + timedelta(hours=2)).replace(tzinfo=UTC)

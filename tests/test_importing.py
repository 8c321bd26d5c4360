"""``calfeed import``: an .ics file or an http(s) feed → a valid, readable events.toml.

- The corpus under tests/data/import/ is written by hand in the shape each
  publisher emits: Google Calendar export, Outlook export (a European and a
  US Windows zone), Gancio, WordPress Events Manager, The Events Calendar,
  Apple Calendar export, Thunderbird export, and a file of real-world
  oddities (duplicate UIDs, an event without UID, a TZID no zone knows).
  Each is imported through the command line into tmp_path; the file written
  must pass ``load_calendar`` and its occurrences over two years (calfeed's
  ``occurrences.expand``) must equal, as UTC instants, those of the original
  as icalendar + recurring_ical_events expand it. Floating times are read as
  wall-clock time in the calendar's zone on both sides.
- Readable facts: local times without offset, places made from repeated
  LOCATIONs, categories kept, rules kept as rules, overrides present; and the
  report names what could not be carried over: nothing is silently dropped.
- A bad source gets one clear error and writes nothing; with --merge the
  existing file keeps its bytes.
- URL import against feeds served on 127.0.0.1: a good one, a slow one, a
  stalling one, one answering 500, one answering an HTML page, a refused port.
  The server and every wait are bounded; the server is always shut down.
- --merge keeps hand edits and ids, adds only new events, and a second run of
  the same import changes nothing.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import threading
import time
import tomllib
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

import icalendar
import pytest
import recurring_ical_events
from click.testing import CliRunner, Result

from calfeed.errors import CalendarErrors, Problem
from calfeed.importing import report as ics_report
from calfeed.importing import source as ics_source
from calfeed.importing.conversion import Imported as Converted
from calfeed.importing.repair import repaired
from calfeed.cli import cli
from calfeed.model import Calendar
from calfeed.occurrences import expand
from calfeed.published import FeedFilter, Published
from calfeed.timezones import zone
from calfeed.validation import load_calendar

CORPUS = Path(__file__).resolve().parent / "data" / "import"
UTC = timezone.utc
# Two years around the corpus dates (all of them in 2025-2026).
AFTER = datetime(2025, 1, 1, tzinfo=UTC)
BEFORE = datetime(2027, 1, 1, tzinfo=UTC)

FILES = sorted(path.name for path in CORPUS.glob("*.ics"))

HAND_WRITTEN = """\
# The calendar of the Casa, edited by hand.
[calendar]
name = "Casa del Quartiere"
timezone = "Europe/Rome"
base_url = "https://eventi.example.org"

[places.casa]
name = "Casa del Quartiere"
address = "Via Morgari 14, Torino"

[[events]]
id = "apertura"
title = "Apertura straordinaria"   # scritto a mano
start = 2025-02-01T10:00:00
end = 2025-02-01T12:00:00
place = "casa"
"""


# --------------------------------------------------------------------------- helpers


def invoke(*args) -> Result:
    return CliRunner().invoke(cli, ["import", *map(str, args)])


def no_crash(result: Result) -> None:
    """The command ended by itself (exit 0 or a clean exit 1), not with a traceback."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        pytest.fail(f"calfeed import crashed instead of answering:\n{trace}")
    assert "Traceback" not in result.output


@dataclass
class Imported:
    out: Path
    text: str
    data: dict
    calendar: Calendar
    report: str

    def events(self, title: str) -> list[dict]:
        return [e for e in self.data["events"] if e["title"] == title]

    def event(self, title: str) -> dict:
        (found,) = self.events(title)
        return found

    def notes(self, *words: str) -> list[str]:
        """Report lines that contain every one of ``words``."""
        return [line for line in self.report.splitlines() if all(w in line for w in words)]


def import_file(source: Path | str, tmp_path: Path, *options, name: str = "events.toml") -> Imported:
    out = tmp_path / name
    result = invoke(source, "--out", out, *options)
    no_crash(result)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    return Imported(out, text, tomllib.loads(text), load_calendar(out), result.stdout)


def _instant(value: date | datetime, local_zone) -> date | datetime:
    """A start or end compared as a UTC instant; a floating time is wall-clock
    time in the calendar's zone; a date stays a date."""
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_zone)
    return value.astimezone(UTC)


def _key(start, end, title: str, status: str, local_zone) -> tuple:
    """One occurrence, compared whole; lists of them are sorted by repr (dates
    and date-times do not compare with each other)."""
    if end is None:  # no DTEND: an instant, or one whole day
        end = start if isinstance(start, datetime) else start + timedelta(days=1)
    return _instant(start, local_zone), _instant(end, local_zone), title, status.lower()


_RENAMED = itertools.count()


def as_the_file_defines(data: bytes) -> bytes:
    """The file with every VTIMEZONE given a TZID of its own, so that
    icalendar reads its times by the file's rules (RFC 5545): it reads an IANA
    name by the tz database's rules for that name, and any other name by the
    first VTIMEZONE of that name it met in the process (another file's)."""
    suffix = f" (as file {next(_RENAMED)} defines it)".encode()
    for tzid in set(re.findall(rb"^TZID:(.+?)\r?$", data, flags=re.MULTILINE)):
        renamed = (tzid + suffix).replace(b"\\", b"\\\\")
        data = re.sub(rb"TZID([:=])" + re.escape(tzid) + rb"(?=[;:\r\n])", rb"TZID\1" + renamed, data)
    return data


def original_occurrences(path: Path, zone_name: str) -> list[tuple]:
    """The source as icalendar + recurring_ical_events expand it.

    Two VEVENTs with the same UID and no RECURRENCE-ID are two events of the
    file (the importer keeps both and reports it); recurring_ical_events would
    keep only one, so the copy handed to it gives the later ones their own UID.

    X-WR-TIMEZONE is taken out of that copy: it changes no instant written in
    UTC, and floating times are read in the calendar's zone anyway (which is
    X-WR-TIMEZONE's unless --timezone says otherwise). recurring_ical_events
    applies it with x_wr_timezone, which writes 01:30Z on 26 October 2025 as
    02:30 Europe/Rome and loses which 02:30 (fold): an hour would vanish.
    """
    source = icalendar.Calendar.from_ical(as_the_file_defines(path.read_bytes()))
    source.pop("X-WR-TIMEZONE", None)
    seen: Counter = Counter()
    for vevent in source.walk("VEVENT"):
        if "UID" in vevent and "RECURRENCE-ID" not in vevent:
            uid = str(vevent["UID"])
            seen[uid] += 1
            if seen[uid] > 1:
                vevent["UID"] = f"{uid}#duplicate-{seen[uid]}"
    local_zone = zone(zone_name)
    return sorted((
        # An event without a title is carried with the placeholder title (calendars in Italian here).
        _key(o.start, o.end, str(o.get("SUMMARY", "")).strip() or "(senza titolo)", str(o.get("STATUS", "confirmed")), local_zone)
        for o in recurring_ical_events.of(source).between(AFTER, BEFORE)
    ), key=repr)


def imported_occurrences(calendar: Calendar) -> list[tuple]:
    local_zone = zone(calendar.timezone)
    return sorted((
        _key(o.start, o.end, o.event.title, o.event.status, local_zone)
        for event in calendar.events
        for o in expand(event, AFTER, BEFORE, local_zone)
    ), key=repr)


def assert_same_occurrences(source: Path, result: Imported) -> None:
    expected = original_occurrences(source, result.calendar.timezone)
    found = imported_occurrences(result.calendar)
    missing = [o for o in expected if o not in found]
    extra = [o for o in found if o not in expected]
    assert not missing and not extra, f"{source.name}: occurrences differ\n  only in the source: {missing}\n  only in the import: {extra}"
    assert found == expected


# --------------------------------------------------------------------------- the corpus


def test_the_corpus_is_there_and_realistic():
    assert {
        "google.ics", "outlook.ics", "outlook-eastern.ics", "gancio.ics", "events-manager.ics",
        "the-events-calendar.ics", "apple.ics", "thunderbird.ics", "oddities.ics",
    } <= set(FILES)
    google = (CORPUS / "google.ics").read_bytes()
    assert google.count(b"\r\n") == google.count(b"\n"), "Google exports CRLF"
    assert b"\r\n " in google, "Google folds long lines"
    assert max(len(line) for line in google.split(b"\r\n")) <= 75


@pytest.mark.parametrize("name", FILES)
def test_each_feed_imports_to_a_valid_file_with_the_same_occurrences(name, tmp_path):
    result = import_file(CORPUS / name, tmp_path)
    assert result.calendar.events
    assert_same_occurrences(CORPUS / name, result)


ROME_FEEDS = ["google.ics", "outlook.ics", "gancio.ics", "events-manager.ics", "the-events-calendar.ics", "thunderbird.ics", "oddities.ics"]
TIMES = re.compile(r"^(start|end|recurrence_id|exdates|rdates) = (.*)$")


@pytest.mark.parametrize("name", ROME_FEEDS)
def test_times_in_rome_are_written_as_local_times(name, tmp_path):
    """Every time of these feeds is a Europe/Rome time (a TZID, a Windows
    name with Rome's offsets, or UTC): each is written as an editor writes it,
    a local date-time without offset and without a per-event zone; only a
    time in the hour that happens twice needs its offset."""
    result = import_file(CORPUS / name, tmp_path)
    assert result.data["calendar"]["timezone"] == "Europe/Rome"
    for line in result.text.splitlines():
        assert not line.startswith("timezone = ") or line == 'timezone = "Europe/Rome"', line
        if (match := TIMES.match(line)) and "2025-10-26T02:" not in line:
            assert not re.search(r"(Z|[+-]\d\d:\d\d)\b", match.group(2)), line


DROPPED = ("VALARM", "ATTENDEE", "RESOURCES", "CONTACT", "COMMENT")


@pytest.mark.parametrize("name", FILES)
def test_every_source_event_is_carried_over_or_reported(name, tmp_path):
    """Each VEVENT becomes an [[events]] or an [[events.overrides]] table, and
    what events.toml cannot hold (alarms, attendees...) is named in the report
    next to the event it belongs to."""
    result = import_file(CORPUS / name, tmp_path)
    source = icalendar.Calendar.from_ical((CORPUS / name).read_bytes())
    vevents = source.walk("VEVENT")
    written = len(result.data["events"]) + sum(len(e.get("overrides", [])) for e in result.data["events"])
    split = len(result.notes("RRULE #", "second event"))  # a further RRULE carried as an event of its own
    # Dates of a series where the file's own VTIMEZONE and the IANA zone disagree, kept as changed dates.
    mended = sum(int(n) for n in re.findall(r"as the file defines it differs from the tz database's \S+ on (\d+) dates", result.report))
    assert written == len(vevents) + split + mended
    for vevent in vevents:
        lost = [p for p in DROPPED if p in vevent or p == "VALARM" and vevent.walk("VALARM")]
        uid = str(vevent.get("UID", "")).strip()
        title = str(vevent.get("SUMMARY", "")).strip()[:40]
        about = [line for line in result.report.splitlines() if uid and uid in line or title in line]
        for prop in lost:
            assert any(prop in line for line in about), f"{title}: {prop} dropped without a word in the report"


def test_google_export(tmp_path):
    result = import_file(CORPUS / "google.ics", tmp_path)
    data, text = result.data, result.text
    assert data["calendar"]["name"] == "Casa del Quartiere San Salvario"
    assert data["calendar"]["timezone"] == "Europe/Rome"
    assert data["calendar"]["description"].startswith("Attività, corsi e incontri")
    # Local times in Europe/Rome, without an offset, also for the UTC times of single events.
    assembly = result.event("Assemblea dei soci")
    assert assembly["start"] == datetime(2025, 4, 12, 10, 0) and assembly["end"] == datetime(2025, 4, 12, 12, 0)
    assert "timezone" not in assembly
    assert 'start = 2025-04-12T10:00:00\n' in text
    # The rule is kept as a rule (one event, not one per week), with its exdate and two overrides.
    (course,) = result.events("Corso di italiano per stranieri")
    assert course["uid"] == "7kq2m4p9r1s3t5v7x9z1b3d5f7@google.com"
    assert course["start"] == datetime(2025, 3, 4, 18, 30) and course["end"] == datetime(2025, 3, 4, 20, 0)
    assert course["rrule"].startswith("FREQ=WEEKLY") and "BYDAY=TU" in course["rrule"] and "UNTIL=" in course["rrule"]
    assert course["exdates"] == [datetime(2025, 4, 22, 18, 30)]
    overrides = {o["recurrence_id"]: o for o in course["overrides"]}
    assert set(overrides) == {datetime(2025, 5, 13, 18, 30), datetime(2025, 6, 3, 18, 30)}
    assert overrides[datetime(2025, 5, 13, 18, 30)]["start"] == datetime(2025, 5, 15, 19, 0)
    assert overrides[datetime(2025, 5, 13, 18, 30)]["title"] == "Corso di italiano per stranieri (giovedì)"
    assert sum("Corso di italiano" in e["title"] for e in data["events"]) == 1
    # A place from the LOCATION repeated by four events; a one-off stays free text.
    (slug,) = [s for s, p in data["places"].items() if p["name"] == "Casa del Quartiere"]
    assert data["places"][slug]["address"] == "Via Morgari 14, 10125 Torino TO, Italia"
    for title in ("Corso di italiano per stranieri", "Assemblea dei soci", "Cena sociale del primo venerdì"):
        assert result.event(title)["place"] == slug
    assert result.event("Festa di via Morgari")["location"] == "Via Morgari, Torino"
    # All-day events: end is the last day, inclusive.
    assert result.event("Festa di via Morgari")["start"] == date(2025, 6, 7)
    assert result.event("Festa di via Morgari")["end"] == date(2025, 6, 8)
    assert result.event("Chiusura estiva")["end"] == date(2025, 8, 24)
    assert result.event("Compleanno della Casa")["rrule"] == "FREQ=YEARLY;UNTIL=2030-09-20"
    assert result.event("Cena sociale del primo venerdì")["rrule"] == "FREQ=MONTHLY;BYDAY=1FR"
    # Descriptions unfolded and unescaped, paragraphs kept.
    assert course["description"].startswith("Corso gratuito di lingua italiana per persone straniere, livello A2.")
    assert "\n\nPortare un quaderno" in course["description"]
    assert result.notes("Corso di italiano per stranieri", "VALARM")
    assert result.notes("Riunione online del comitato", "ATTENDEE")


def test_google_event_in_the_repeated_hour_keeps_its_end(tmp_path):
    """00:30Z-01:30Z on 26 October 2025 is 02:30 CEST to 02:30 CET: both ends
    are in the hour that happens twice, so both are written with an offset,
    and the hour-long event still lasts an hour."""
    result = import_file(CORPUS / "google.ics", tmp_path)
    event = result.event("Letture nella notte del cambio d'ora")
    assert event["start"] == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    assert "end" in event or "duration" in event, "DTEND was dropped without a word"
    (loaded,) = [e for e in result.calendar.events if e.title == event["title"]]
    assert loaded.end is not None and loaded.end - loaded.start == timedelta(hours=1)


def test_google_changed_location_of_one_date_is_shown_for_that_date(tmp_path):
    """The 3 June lesson moved to the park: its LOCATION must be the park, not
    the series' place."""
    result = import_file(CORPUS / "google.ics", tmp_path)
    (course,) = [e for e in result.calendar.events if e.title == "Corso di italiano per stranieri"]
    (park,) = [o for o in course.overrides if o.recurrence_id.date() == date(2025, 6, 3)]
    assert park.location_text == "Parco del Valentino, Torino"


def test_outlook_export(tmp_path):
    result = import_file(CORPUS / "outlook.ics", tmp_path)
    data = result.data
    assert data["calendar"]["name"] == "Calendario"
    # "W. Europe Standard Time" has the offsets of Rome: plain local times.
    desk = result.event("Sportello famiglie")
    assert desk["start"] == datetime(2025, 3, 4, 18, 0) and desk["end"] == datetime(2025, 3, 4, 19, 30)
    assert "BYDAY=TU" in desk["rrule"] and "FREQ=WEEKLY" in desk["rrule"]
    assert desk["exdates"] == [datetime(2025, 4, 15, 18, 0)]
    (moved,) = desk["overrides"]
    assert moved["recurrence_id"] == datetime(2025, 5, 6, 18, 0) and moved["start"] == datetime(2025, 5, 6, 17, 0)
    assert desk["description"].startswith("Sportello gratuito di ascolto")
    assert desk["place"] in data["places"] and data["places"][desk["place"]]["name"] == "Sala riunioni"
    assert result.event("Formazione volontari")["place"] == desk["place"]
    holiday = result.event("Festa della Repubblica - sede chiusa")
    assert holiday["start"] == date(2025, 6, 2) and holiday.get("end", date(2025, 6, 2)) == date(2025, 6, 2)
    assert result.event("Formazione volontari")["end"] == date(2025, 9, 17)
    assert not any(key.startswith("x-") for e in data["events"] for key in e)
    assert result.notes("Sportello famiglie", "VALARM")


def test_outlook_windows_zone_other_than_the_calendars_keeps_its_own_clock(tmp_path):
    """"Eastern Standard Time" is New York: a weekly noon call there is at
    noon New York time every week, also in the March weeks when New York has
    changed to summer time and Rome has not."""
    result = import_file(CORPUS / "outlook-eastern.ics", tmp_path)
    call = result.event("Weekly call with Turin")
    assert call.get("timezone") == "America/New_York"
    assert call["start"] == datetime(2025, 2, 25, 12, 0)
    assert_same_occurrences(CORPUS / "outlook-eastern.ics", result)


def test_gancio(tmp_path):
    result = import_file(CORPUS / "gancio.ics", tmp_path)
    data = result.data
    dinner = result.event("Cena benefit per la palestra popolare")
    # UTC-only source: written as local times in the calendar's zone, without offset.
    assert data["calendar"]["timezone"] == "Europe/Rome"
    assert dinner["start"] == datetime(2025, 3, 15, 20, 0) and dinner["end"] == datetime(2025, 3, 15, 23, 0)
    assert "timezone" not in dinner
    assert result.event("Assemblea cittadina sul diritto all'abitare")["start"] == datetime(2025, 3, 29, 18, 0)
    assert result.event("Proiezione: Le mani sulla città")["start"] == datetime(2025, 4, 5, 20, 0)
    # Places from the repeated LOCATIONs; the one-off stays free text.
    assert len(data["places"]) == 2
    assert dinner["place"] == result.event("Proiezione: Le mani sulla città")["place"]
    assert data["places"][dinner["place"]]["name"].startswith("Cecco Rivolta")
    assert {e["place"] for e in result.events("Ciclofficina popolare")} == {
        s for s, p in data["places"].items() if p["name"].startswith("Giardino Pellegrino")
    }
    assert result.event("Concerto di fine anno")["location"] == "Spazio Popolare Neruda, Corso Ciriè 7, Torino"
    assert dinner["categories"] == ["cena", "benefit", "palestra popolare"]
    assert dinner["url"] == "https://gancio.cisti.example.org/event/cena-benefit-per-la-palestra-popolare"
    image = "https://gancio.cisti.example.org/media/5f1c2e7a9b.jpg"
    assert dinner.get("image") == image or image in dinner.get("attachments", [])
    assert "end" not in result.event("Proiezione: Le mani sulla città")


def test_wordpress_events_manager(tmp_path):
    result = import_file(CORPUS / "events-manager.ics", tmp_path)
    data = result.data
    talk = result.event("Generare prossimità: i patti di collaborazione")
    assert talk["start"] == datetime(2025, 3, 20, 17, 30) and "timezone" not in talk
    assert talk["categories"] == ["Patti di collaborazione", "Incontri"]
    assert talk["url"] == "https://www.labsus.example.org/events/generare-prossimita/"
    assert "con Labsus" in talk["description"] and "Ingresso libero; prenotazione consigliata." in talk["description"]
    assert result.event("La cura dei beni comuni, un anno dopo")["place"] == talk["place"]
    place = data["places"][talk["place"]]
    assert place["name"] == "Bagni Pubblici di via Agliè"
    assert place["address"] == "Via Agliè 9, Torino, TO, 10154"
    assert place["geo"] == [45.0907, 7.6913]
    # After the VTIMEZONE placed at the end, and across the October change.
    assert result.event("Webinar: amministrazione condivisa")["start"] == datetime(2025, 10, 29, 18, 0)
    assert result.event("Giornate dei beni comuni")["end"] == date(2025, 5, 18)


def test_the_events_calendar(tmp_path):
    result = import_file(CORPUS / "the-events-calendar.ics", tmp_path)
    data = result.data
    assert data["calendar"]["name"] == "Rete delle Case del Quartiere"
    bikes = result.event("Laboratorio di riparazione biciclette")
    assert bikes["start"] == datetime(2025, 4, 5, 16, 0) and "timezone" not in bikes
    assert bikes["categories"] == ["Laboratori", "Mobilità sostenibile"]
    assert bikes["organizer"] == {"name": "Cascina Roccafranca", "email": "info@cascinaroccafranca.example.org"}
    assert bikes["updated"] == datetime(2025, 3, 15, 12, 0, tzinfo=UTC)
    assert "Porta la tua bici, impariamo insieme" in bikes["description"]
    place = data["places"][bikes["place"]]
    assert place == {"name": "Cascina Roccafranca", "address": "Via Edoardo Rubino 45, Torino, 10137, Italia", "geo": [45.0416, 7.6339]}
    assert {e.get("place") for e in data["events"]} == {bikes["place"], None}
    party = result.event("Festa delle Case del Quartiere")
    assert party["start"] == date(2025, 5, 24) and party.get("end", party["start"]) == date(2025, 5, 24)
    assert result.event("Cinema in Cascina: Io capitano")["start"] == datetime(2025, 11, 25, 21, 0)


def test_geo_of_a_one_off_location_is_kept_or_reported(tmp_path):
    """Events Manager gives "Giornate dei beni comuni" a GEO at a LOCATION used
    once: events.toml holds coordinates only on a place, so the importer must
    make one or say that the coordinates were left out."""
    result = import_file(CORPUS / "events-manager.ics", tmp_path)
    days = result.event("Giornate dei beni comuni")
    kept = "place" in days and result.data["places"][days["place"]].get("geo") == [45.085, 7.671]
    assert kept or result.notes("Giornate dei beni comuni", "GEO")


def test_descriptions_are_plain_text(tmp_path):
    """events.toml descriptions are plain text (CONTRACT.md): Gancio's HTML
    and the entities WordPress leaves in DESCRIPTION are not shown to readers
    as markup."""
    gancio = import_file(CORPUS / "gancio.ics", tmp_path, name="gancio.toml")
    dinner = gancio.event("Cena benefit per la palestra popolare")["description"]
    assert "<p>" not in dinner and "Cena vegana a offerta libera" in dinner
    wordpress = import_file(CORPUS / "events-manager.ics", tmp_path)
    talk = wordpress.event("Generare prossimità: i patti di collaborazione")["description"]
    assert "&amp;" not in talk and "Labsus & Comune di Torino" in talk


def test_apple_calendar_export(tmp_path):
    result = import_file(CORPUS / "apple.ics", tmp_path)
    data = result.data
    assert data["calendar"]["name"] == "Orto condiviso" and data["calendar"]["timezone"] == "Europe/Rome"
    # Floating times: the wall-clock time, in the calendar's zone.
    watering = result.event("Turno di annaffiatura")
    assert watering["start"] == datetime(2025, 5, 6, 19, 0) and "timezone" not in watering
    assert watering["rrule"] == "FREQ=WEEKLY;COUNT=10"
    assert result.event("Semina di primavera")["url"] == "https://www.ortobaltea.example.org/semina"
    # All-day without DTEND: one day.
    compost = result.event("Consegna del compost")
    assert compost["start"] == date(2025, 6, 1) and "end" not in compost and "duration" not in compost
    assert result.event("Orto chiuso per lavori")["end"] == date(2025, 7, 5)
    # TZID without a VTIMEZONE: an IANA name, kept as the event's zone.
    webinar = result.event("Webinar con gli orti urbani di New York")
    assert webinar["timezone"] == "America/New_York" and webinar["start"] == datetime(2025, 9, 16, 12, 0)
    assert result.event("Festa del raccolto")["start"] == datetime(2025, 10, 19, 10, 0)
    assert {result.event(t)["place"] for t in ("Turno di annaffiatura", "Semina di primavera", "Festa del raccolto")} == set(data["places"])
    assert result.notes("Turno di annaffiatura", "VALARM")


def test_floating_times_follow_the_chosen_zone(tmp_path):
    result = import_file(CORPUS / "apple.ics", tmp_path, "--timezone", "Europe/London")
    assert result.data["calendar"]["timezone"] == "Europe/London"
    watering = result.event("Turno di annaffiatura")
    assert watering["start"] == datetime(2025, 5, 6, 19, 0) and "timezone" not in watering
    (loaded,) = [e for e in result.calendar.events if e.title == "Turno di annaffiatura"]
    assert loaded.start.utcoffset() == timedelta(hours=1)  # 19:00 in London (BST)
    assert result.event("Festa del raccolto")["timezone"] == "Europe/Rome"
    assert_same_occurrences(CORPUS / "apple.ics", result)


def test_thunderbird_export(tmp_path):
    result = import_file(CORPUS / "thunderbird.ics", tmp_path)
    visits = result.event("Visite guidate all'archivio")
    assert visits["rdates"] == [datetime(2025, 4, 5, 10, 0), datetime(2025, 5, 10, 10, 0), datetime(2025, 11, 8, 10, 0)]
    yoga = result.event("Yoga nel cortile")
    assert yoga["exdates"] == [datetime(2025, 6, 10, 7, 0), datetime(2025, 6, 17, 7, 0)]
    (cancelled,) = yoga["overrides"]
    assert cancelled["recurrence_id"] == datetime(2025, 7, 1, 7, 0) and cancelled["status"] == "cancelled"
    assert result.event("Gruppo di lettura")["rrule"].startswith("FREQ=MONTHLY")


def test_real_world_oddities_are_handled_and_reported(tmp_path):
    result = import_file(CORPUS / "oddities.ics", tmp_path)
    # Two events with one UID: both kept, the second without that UID, and said.
    first, second = result.event("Pulizia del parco"), result.event("Pulizia del parco (maggio)")
    assert first["uid"] == "pulizia-parco@comitato.example.org" and "uid" not in second
    assert result.notes("pulizia-parco@comitato.example.org", "second event")
    # No UID: imported, and said.
    assert "uid" not in result.event("Incontro con la circoscrizione")
    assert result.notes("Incontro con la circoscrizione", "UID")
    # DURATION kept; a URL without scheme, the alarm and the attendee named.
    race = result.event("Corsa non competitiva")
    assert race["duration"] == "PT2H30M" and "url" not in race
    assert result.notes("Corsa non competitiva", "www.comitato.example.org/corsa")
    assert result.notes("Corsa non competitiva", "VALARM") and result.notes("Corsa non competitiva", "ATTENDEE")
    assert result.event("Orto aperto")["rrule"] == "FREQ=WEEKLY;COUNT=6;BYDAY=TU,TH"
    # A TZID no zone knows: read as the calendar's zone, and said.
    assert result.event("Torneo di calcetto")["start"] == datetime(2025, 6, 14, 16, 0)
    assert result.notes("Ora solare del Comitato"), "the unknown TZID is not mentioned in the report"


def test_an_unknown_tzid_without_x_wr_timezone_is_reported(tmp_path):
    text = (CORPUS / "oddities.ics").read_bytes().replace(b"X-WR-TIMEZONE:Europe/Rome\r\n", b"")
    (tmp_path / "source.ics").write_bytes(text)
    result = import_file(tmp_path / "source.ics", tmp_path)
    assert result.notes("Torneo di calcetto", "Ora solare del Comitato")


def _calendar_with(*lines: str) -> bytes:
    body = "\r\n".join(lines)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Comitato//Prova//IT\r\n"
        "BEGIN:VEVENT\r\nUID:buono@example.org\r\nDTSTAMP:20250101T000000Z\r\n"
        "DTSTART;TZID=Europe/Rome:20250301T180000\r\nSUMMARY:Evento buono\r\nEND:VEVENT\r\n"
        f"BEGIN:VEVENT\r\nUID:strano@example.org\r\nDTSTAMP:20250101T000000Z\r\n{body}\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    ).encode()


ONE_ODD_EVENT = {
    # Google keeps EXDATEs of an old time after the series is moved.
    "stale-exdate": ("SUMMARY:Corso", "DTSTART;TZID=Europe/Rome:20250304T183000", "RRULE:FREQ=WEEKLY;COUNT=5",
                     "EXDATE;TZID=Europe/Rome:20250311T180000"),
    # RFC 5545: DTSTART is always the first occurrence, on the rule's days or not.
    "dtstart-off-the-rule": ("SUMMARY:Gruppo di lettura", "DTSTART;TZID=Europe/Rome:20250220T210000",
                             "DTEND;TZID=Europe/Rome:20250220T223000", "RRULE:FREQ=MONTHLY;UNTIL=20250925T190000Z;BYDAY=-1TH"),
    "floating-time-in-the-dst-gap": ("SUMMARY:Notte", "DTSTART:20250330T023000", "DTEND:20250330T040000"),
    "count-and-until": ("SUMMARY:Corso", "DTSTART;TZID=Europe/Rome:20250304T183000",
                        "RRULE:FREQ=WEEKLY;COUNT=3;UNTIL=20250401T000000Z"),
    "dtend-before-dtstart": ("SUMMARY:Rovescio", "DTSTART;TZID=Europe/Rome:20250304T183000",
                             "DTEND;TZID=Europe/Rome:20250304T173000"),
    "repeated-summary": ("SUMMARY:Doppio", "SUMMARY:Doppione", "DTSTART;TZID=Europe/Rome:20250304T183000"),
    "rdate-period": ("SUMMARY:Periodi", "DTSTART;TZID=Europe/Rome:20250304T183000",
                     "RDATE;VALUE=PERIOD:20250320T170000Z/PT1H"),
    "broken-date": ("SUMMARY:Data rotta", "DTSTART:2025-13-45"),
    "broken-rrule": ("SUMMARY:Regola rotta", "DTSTART;TZID=Europe/Rome:20250304T183000", "RRULE:FREQ=SOMETIMES"),
}


@pytest.mark.parametrize("case", ONE_ODD_EVENT)
def test_one_odd_event_is_handled_or_reported_and_does_not_sink_the_rest(case, tmp_path):
    """Real feeds carry these; each such event is carried over, or left out
    with its name in the report, while the rest of the feed is imported."""
    (tmp_path / "source.ics").write_bytes(_calendar_with(*ONE_ODD_EVENT[case]))
    out = tmp_path / "events.toml"
    result = invoke(tmp_path / "source.ics", "--out", out)
    no_crash(result)
    assert result.exit_code == 0, result.output
    calendar = load_calendar(out)
    assert "Evento buono" in [e.title for e in calendar.events]
    assert "vText(" not in out.read_text(encoding="utf-8")
    title = ONE_ODD_EVENT[case][0].removeprefix("SUMMARY:")
    carried = [e for e in calendar.events if e.uid == "strano@example.org"]
    if case in ("stale-exdate", "dtstart-off-the-rule"):
        # Nothing lost here: the occurrences are those of the source.
        assert carried
        expected = original_occurrences(tmp_path / "source.ics", calendar.timezone)
        assert imported_occurrences(calendar) == expected
    elif case == "dtend-before-dtstart":
        assert carried and carried[0].end is None
        assert any(title in line and "DTEND" in line for line in result.stdout.splitlines()), "DTEND dropped without a word"
    else:
        changed = [line for line in result.stdout.splitlines() if title in line or "strano@example.org" in line]
        assert carried or changed


def test_a_series_changed_date_without_its_series_is_imported_as_a_dated_event(tmp_path):
    source = _calendar_with("SUMMARY:Solo una data", "RECURRENCE-ID;TZID=Europe/Rome:20250304T183000",
                            "DTSTART;TZID=Europe/Rome:20250305T183000")
    (tmp_path / "source.ics").write_bytes(source)
    result = import_file(tmp_path / "source.ics", tmp_path)
    assert result.event("Solo una data")["start"] == datetime(2025, 3, 5, 18, 30)
    assert result.notes("strano@example.org", "line 10:", "one-off event")


def _series(**fields) -> Converted:
    return Converted({"title": "Corso", **fields})


def test_the_repair_reads_problem_codes_not_their_wording():
    """The checker's messages may be reworded (or translated): the repair
    works from code, data and index alone."""
    stale = _series(start=datetime(2025, 3, 4, 18, 30), rrule="FREQ=WEEKLY;COUNT=5",
                    exdates=[datetime(2025, 3, 11, 18, 0), datetime(2025, 3, 18, 18, 30)])
    moved = _series(start=datetime(2025, 2, 20, 21, 0), end=datetime(2025, 2, 20, 22, 30), rrule="FREQ=MONTHLY;BYDAY=-1TH")
    day = _series(start=date(2025, 3, 4), rrule="FREQ=WEEKLY;COUNT=3", exdates=[date(2025, 3, 5)])
    night = _series(start=datetime(2025, 3, 4, 0, 0), rrule="FREQ=WEEKLY;COUNT=3",
                    exdates=[datetime(2025, 3, 5, 0, 0), datetime(2025, 3, 6, 0, 0), datetime(2025, 3, 11, 0, 0)])
    unfixable = _series(start=datetime(2025, 3, 4, 18, 30))
    problems = [  # the file merged into holds 2 events: these are its tables #2 to #6
        Problem("…", field="exdates", code="not-a-date-of-series", data={"value": "2025-03-11T18:00:00"}, index=2),
        Problem("…", field="start", code="start-not-first-date", data={"first": "2025-02-27T21:00:00"}, index=3),
        Problem("…", field="exdates", code="not-a-date-of-series", data={"value": "2025-03-05"}, index=4),
        # Midnight named in full, or by its date alone.
        Problem("…", field="exdates", code="not-a-date-of-series", data={"value": "2025-03-05T00:00:00"}, index=5),
        Problem("…", field="exdates", code="not-a-date-of-series", data={"value": "2025-03-06"}, index=5),
        Problem("a reason", field="end", code="end-before-start", index=6),
    ]
    report = ics_report.Report()
    kept = repaired([stale, moved, day, night, unfixable], CalendarErrors("events.toml", problems), 2, report)
    assert kept == [stale, moved, day, night]
    assert stale.fields["exdates"] == [datetime(2025, 3, 18, 18, 30)]
    assert night.fields["exdates"] == [datetime(2025, 3, 11, 0, 0)]
    assert moved.fields["start"] == datetime(2025, 2, 27, 21, 0) and moved.fields["end"] == datetime(2025, 2, 27, 22, 30)
    assert moved.fields["rdates"] == [datetime(2025, 2, 20, 21, 0)]
    assert "exdates" not in day.fields
    assert [line for line in report.notes if "left out" in line and "a reason" in line]
    with pytest.raises(ics_report.ImportFailed):  # a problem outside the imported events: nothing to leave out
        repaired([stale], CalendarErrors("events.toml", [Problem("…", where="[calendar]", field="name")]), 0, report)


# --------------------------------------------------------------------------- issue 15: kinds of wrong dates
# Each file was written by hand for calfeed; each test fails if the kind is
# not carried. The oracle is recurring_ical_events over the source and over
# the feed calfeed serves for the imported file.


def served_occurrences(result: Imported) -> list[tuple]:
    """The feed calfeed serves for the imported file, as recurring_ical_events expands it."""
    body = Published(result.calendar).feed(FeedFilter(), date(2020, 1, 1)).data
    local_zone = zone(result.calendar.timezone)
    return sorted((
        _key(o.start, o.end, str(o.get("SUMMARY", "")).strip(), str(o.get("STATUS", "confirmed")), local_zone)
        for o in recurring_ical_events.of(icalendar.Calendar.from_ical(body)).between(AFTER, BEFORE)
    ), key=repr)


KINDS = {
    # file: (occurrences the source has in the window, report lines as (event, source line, action))
    "several-rrules.ics": (12 + 42, [
        ("Corso di italiano", "line 7:", "RRULE #2 (FREQ=WEEKLY;BYDAY=TH;UNTIL=2025-04-10T19:00:00) carried as 5 rdates"),
        ("Mercato contadino", "line 17:", "RRULE #2 (FREQ=MONTHLY;BYDAY=3SA) has no end"),
        ("Mercato contadino", "line 17:", "carried as a second event with UID mercato@vanchiglia.example.org-rrule2"),
    ]),
    "allday-datetimes.ics": (11, [
        ("Mercatino dei libri", "line 21:", "UNTIL 2025-04-25T00:00:00+00:00 is a date-time in an all-day series; read as 2025-04-25"),
        ("Mercatino dei libri", "line 21:", "EXDATE 2025-03-21T00:00:00+01:00 is a date-time in an all-day series; read as 2025-03-21"),
        ("Mercatino dei libri (sabato)", "line 30:", "RECURRENCE-ID 2025-03-28T00:00:00 is a date-time in an all-day series; read as 2025-03-28"),
        ("Letture per bambini", "line 38:", "EXDATE 2025-06-09T00:00:00 is a date-time in an all-day series; read as 2025-06-09"),
    ]),
    "orphan-instances.ics": (3, [
        ("Riunione di coordinamento", "line 7:", "RECURRENCE-ID 2025-03-12T17:00:00) of a series not in the source; imported as a one-off event"),
        ("Riunione di coordinamento", "line 16:", "RECURRENCE-ID 2025-04-09T17:00:00) of a series not in the source; imported as a one-off event"),
    ]),
    "exdate-forms.ics": (4, [
        ("Prove del coro", "line 7:", "EXDATE 2025-03-25 is a date in a timed series; read as 2025-03-25T18:00:00"),
        ("Prove del coro", "line 7:", "EXDATE 2025-04-08T19:00:00 removed, it matches no date of the series"),
    ]),
    "other-zones.ics": (30 + 40, [
        ("Daily stand-up (UTC)", "line 6:", 'a series in UTC; kept on UTC\'s clock (timezone = "Etc/GMT")'),
    ]),
    "file-zones.ics": (12 + 38 + 20 + 1, [
        ("Prove del coro", "line 60:", 'time zone "Romance Standard Time" as the file defines it differs from the tz database\'s Europe/Rome on 3 dates '
         "(2025-03-10T18:00, 2025-03-24T18:00, 2025-10-27T18:00); the series follows Europe/Rome's clock and those dates were "
         "written as changed dates at the file's times"),
        ("Sportello casa", "line 77:", 'time zone "Ufficio Torino" as the file defines it differs from the tz database\'s Europe/Rome on 30 dates'),
        ("Sportello casa", "line 77:", "its dates from 2035-05-07T10:00 on (after 10 years or 5000 dates) were not compared and follow "
         "Europe/Rome's clock; the first one off is 2035-05-07T10:00, which the file puts at 2035-05-07T11:00 on that clock: "
         "add such dates as [[events.overrides]] at the file's times, or end the series before it"),
        ("Assemblea", "line 85:", '2025-03-20T21:00 in time zone "Romance Standard Time" as the file defines it is 2025-03-20T20:00 '
         "in the tz database's Europe/Rome; the instant was kept"),
    ]),
    "untitled.ics": (3, [
        ("(senza titolo)", "line 7:", 'no title (SUMMARY) in the source; kept on 2025-04-25 with the title "(senza titolo)"'),
        ("(senza titolo)", "line 13:", 'no title (SUMMARY) in the source; kept on 2025-06-02 with the title "(senza titolo)"'),
    ]),
}


@pytest.mark.parametrize("name", KINDS)
def test_each_kind_is_served_with_the_sources_occurrences(name, tmp_path):
    result = import_file(CORPUS / name, tmp_path)
    expected = original_occurrences(CORPUS / name, "Europe/Rome")
    assert len(expected) == KINDS[name][0]  # the oracle sees the file as written
    served = served_occurrences(result)
    assert [o for o in expected if o not in served] == [] and [o for o in served if o not in expected] == []
    assert served == expected


@pytest.mark.parametrize("name", KINDS)
def test_each_kind_is_named_in_the_report_with_its_event_line_and_action(name, tmp_path):
    result = import_file(CORPUS / name, tmp_path)
    for title, line, action in KINDS[name][1]:
        assert result.notes(f'{line} "{title}"', action), f"no report line for {title} at {line}: {action}\n{result.report}"


def test_a_series_in_another_zone_keeps_its_zone(tmp_path):
    """A weekday series follows its own zone's clock: in Rome the UTC one
    would move by an hour at the end of March, the Sydney one would land on
    other weekdays (Monday 09:30 in Sydney is Sunday evening in Rome)."""
    result = import_file(CORPUS / "other-zones.ics", tmp_path)
    utc, sydney = result.event("Daily stand-up (UTC)"), result.event("Training (Sydney)")
    # Etc/GMT: UTC's clock under a name that readers applying X-WR-TIMEZONE leave alone.
    assert utc["timezone"] == "Etc/GMT" and utc["start"] == datetime(2025, 3, 3, 8, 30)
    assert sydney["timezone"] == "Australia/Sydney" and sydney["start"] == datetime(2025, 3, 3, 9, 30)


def test_a_zone_the_file_defines_is_kept_as_its_iana_zone_where_they_agree(tmp_path):
    """The file's "W. Europe Standard Time" has today's European rules: the
    series stays a plain series on Rome's clock, with nothing to report. The
    file's "Romance Standard Time" has the US rule: the dates between the two
    March Sundays and the last week of October keep the file's times (written
    by hand: 18:00 at +02:00 is 17:00 in Rome)."""
    result = import_file(CORPUS / "file-zones.ics", tmp_path)
    council = result.event("Consiglio di quartiere")
    assert "timezone" not in council and "overrides" not in council and council["start"] == datetime(2025, 3, 4, 18, 0)
    assert not result.notes("Consiglio di quartiere")
    choir = result.event("Prove del coro")
    assert "timezone" not in choir and choir["start"] == datetime(2025, 3, 3, 18, 0)
    moved = {o["recurrence_id"]: o.get("start") for o in choir["overrides"]}
    assert moved == {datetime(2025, 3, 17, 18, 0): None, **{
        datetime(2025, 3, day, 18, 0): datetime(2025, 3, day, 17, 0) for day in (10, 24)},
        datetime(2025, 10, 27, 18, 0): datetime(2025, 10, 27, 17, 0)}


def test_an_iana_tzid_is_read_by_the_files_own_vtimezone(tmp_path):
    """An export of 2018 names America/Sao_Paulo with Brazil's summer time,
    which the tz database ends in 2019: the author's calendar showed 19:00 at
    -02:00 from November to February, and so does calfeed's feed. The oracle
    reads the file's VTIMEZONE under another name (``as_the_file_defines``:
    icalendar looks IANA names up in the tz database instead)."""
    source = CORPUS / "old-rules.ics"
    expected = original_occurrences(source, "Europe/Rome")
    assert (datetime(2025, 12, 3, 21, 0, tzinfo=UTC), datetime(2025, 12, 3, 23, 0, tzinfo=UTC),
            "Incontro mensile (online)", "confirmed") in expected  # 19:00 at -02:00, by hand
    result = import_file(source, tmp_path)
    served = served_occurrences(result)
    assert [o for o in expected if o not in served] == [] and [o for o in served if o not in expected] == []
    assert result.event("Incontro mensile (online)")["timezone"] == "America/Sao_Paulo"
    assert result.notes('line 23: "Incontro mensile (online)"', 'time zone "America/Sao_Paulo" as the file defines it differs from '
                        "the tz database's America/Sao_Paulo on 32 dates (2019-11-06T19:00, 2019-12-04T19:00, 2020-01-01T19:00, ...)",
                        "its dates from 2028-10-04T19:00 on (after 10 years or 5000 dates) were not compared and follow "
                        "America/Sao_Paulo's clock; the first one off is 2028-12-06T19:00, which the file puts at 2028-12-06T18:00 "
                        "on that clock: add such dates as [[events.overrides]] at the file's times, or end the series before it")
    assert result.notes('line 31: "Festa di fine anno (online)"', '2025-12-13T18:00 in time zone "America/Sao_Paulo" as the file '
                        "defines it is 2025-12-13T17:00 in the tz database's America/Sao_Paulo; the instant was kept")


def test_a_time_the_clock_skips_is_no_disagreement_between_same_rules(tmp_path):
    """01:30 does not exist in London on 30 March 2025: icalendar's reading
    of the file's VTIMEZONE and the tz database place it differently, but
    the rules are the same, so the series stays a plain series."""
    vtimezone = [
        "BEGIN:VTIMEZONE", "TZID:Europe/London",
        "BEGIN:DAYLIGHT", "DTSTART:20190331T010000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "TZOFFSETFROM:+0000", "TZOFFSETTO:+0100", "END:DAYLIGHT",
        "BEGIN:STANDARD", "DTSTART:20191027T020000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "TZOFFSETFROM:+0100", "TZOFFSETTO:+0000", "END:STANDARD", "END:VTIMEZONE",
    ]
    data = _calendar_with("SUMMARY:Turno di notte", "DTSTART;TZID=Europe/London:20250328T013000",
                          "DTEND;TZID=Europe/London:20250328T023000", "RRULE:FREQ=DAILY;COUNT=6")
    (tmp_path / "source.ics").write_bytes(data.replace(b"BEGIN:VEVENT", "\r\n".join(vtimezone).encode() + b"\r\nBEGIN:VEVENT", 1))
    result = import_file(tmp_path / "source.ics", tmp_path)
    assert "overrides" not in result.event("Turno di notte") and not result.notes("as the file defines it")


def test_a_date_exdate_of_a_timed_series_removes_that_days_occurrence(tmp_path):
    result = import_file(CORPUS / "exdate-forms.ics", tmp_path)
    assert result.event("Prove del coro")["exdates"] == [
        datetime(2025, 3, 11, 18, 0), datetime(2025, 3, 18, 18, 0), datetime(2025, 3, 25, 18, 0), datetime(2025, 4, 1, 18, 0)]


def test_a_zoned_exdate_of_a_floating_series_matches_its_wall_clock(tmp_path):
    """recurring_ical_events reads a floating series with a zoned EXDATE in
    UTC; calendar clients read floating times in the calendar's zone, as
    calfeed does: 05:00Z is 07:00 in Rome, so 7 May is removed (dates by hand)."""
    (tmp_path / "source.ics").write_bytes(_calendar_with(
        "SUMMARY:Yoga al parco", "DTSTART:20250505T070000", "DTEND:20250505T080000", "RRULE:FREQ=DAILY;COUNT=5",
        "EXDATE;TZID=Europe/Rome:20250506T070000", "EXDATE:20250507T050000Z"))
    result = import_file(tmp_path / "source.ics", tmp_path)
    days = [o[0] for o in served_occurrences(result) if o[2] == "Yoga al parco"]
    rome = zone("Europe/Rome")
    assert days == [datetime(2025, 5, day, 7, 0, tzinfo=rome).astimezone(UTC) for day in (5, 8, 9)]


def test_an_english_calendar_gets_the_english_placeholder_title(tmp_path):
    out = tmp_path / "events.toml"
    out.write_text(HAND_WRITTEN.replace('timezone = "Europe/Rome"', 'timezone = "Europe/Rome"\nlanguage = "en"'), encoding="utf-8")
    result = invoke(CORPUS / "untitled.ics", "--out", out, "--merge")
    no_crash(result)
    assert result.exit_code == 0, result.output
    titles = [e.title for e in load_calendar(out).events]
    assert titles.count("(untitled)") == 2 and "(senza titolo)" not in titles
    assert '"(untitled)"' in result.stdout


# --------------------------------------------------------------------------- bad sources

GOOGLE = (CORPUS / "google.ics").read_bytes()
HTML_PAGE = b"""<!DOCTYPE html>
<html lang="it"><head><title>404 Pagina non trovata</title></head>
<body><h1>Pagina non trovata</h1><p>Il calendario che cerchi non esiste.</p></body></html>
"""
BAD_FILES = {
    "csv-export": b"Subject,Start Date,Start Time,End Date,End Time,All Day Event,Location\r\n"
                  b"Assemblea dei soci,04/12/2025,10:00 AM,04/12/2025,12:00 PM,False,Casa del Quartiere\r\n",
    "json": b'{"events": [{"title": "Assemblea", "start": "2025-04-12T10:00:00"}]}',
    "empty": b"",
    "truncated-mid-line": GOOGLE[: len(GOOGLE) // 2],
    "truncated-after-an-event": GOOGLE[: GOOGLE.rindex(b"END:VEVENT") + len(b"END:VEVENT\r\n")],
    "html-error-page": HTML_PAGE,
    "png-image": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
    "vcard": b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Casa del Quartiere\r\nEND:VCARD\r\n",
}


@pytest.fixture
def existing(tmp_path) -> Path:
    path = tmp_path / "existing.toml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    return path


def assert_one_clear_error(result: Result, *words: str) -> str:
    no_crash(result)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one message, got:\n{result.stderr}"
    assert lines[0].startswith("calfeed import: ")
    for word in words:
        assert word in lines[0]
    assert not result.stdout.strip()
    return lines[0]


def assert_nothing_written(folder: Path, before: dict[str, bytes]) -> None:
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert after == before, "files were written or changed"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("merge", [False, True], ids=["new-file", "merge"])
@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_gets_one_error_and_writes_nothing(case, merge, tmp_path, existing):
    source = tmp_path / f"source-{case}.ics"
    source.write_bytes(BAD_FILES[case])
    before = _files(tmp_path)
    out = existing if merge else tmp_path / "events.toml"
    result = invoke(source, "--out", out, *(["--merge"] if merge else []))
    assert_one_clear_error(result, str(source))
    assert_nothing_written(tmp_path, before)


@pytest.mark.parametrize("merge", [False, True], ids=["new-file", "merge"])
def test_a_huge_file_is_refused(merge, tmp_path, existing):
    source = tmp_path / "huge.ics"
    with open(source, "wb") as handle:
        handle.write(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n")
        handle.write(b"X-FILLER:" + b"x" * 66 + b"\r\n")
        handle.truncate(ics_source.MAX_BYTES + 1024)
    before = _files(tmp_path)
    out = existing if merge else tmp_path / "events.toml"
    started = time.monotonic()
    result = invoke(source, "--out", out, *(["--merge"] if merge else []))
    assert_one_clear_error(result, "MB")
    assert time.monotonic() - started < 10
    assert_nothing_written(tmp_path, before)


def test_a_missing_file(tmp_path):
    result = invoke(tmp_path / "nowhere.ics", "--out", tmp_path / "events.toml")
    assert_one_clear_error(result, "nowhere.ics")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_out_is_not_overwritten_without_merge(tmp_path, existing):
    result = invoke(CORPUS / "google.ics", "--out", existing)
    assert_one_clear_error(result, "--merge")
    assert existing.read_text(encoding="utf-8") == HAND_WRITTEN


def test_merge_needs_an_existing_valid_file(tmp_path):
    result = invoke(CORPUS / "google.ics", "--out", tmp_path / "events.toml", "--merge")
    assert_one_clear_error(result)
    assert list(tmp_path.iterdir()) == []
    broken = tmp_path / "broken.toml"
    broken.write_text(HAND_WRITTEN.replace('title = "Apertura straordinaria"', 'titel = "Apertura"'), encoding="utf-8")
    before = broken.read_bytes()
    result = invoke(CORPUS / "google.ics", "--out", broken, "--merge")
    no_crash(result)
    assert result.exit_code == 1 and "titel" in result.stderr
    assert broken.read_bytes() == before


def test_an_unknown_zone_is_refused(tmp_path):
    result = invoke(CORPUS / "google.ics", "--out", tmp_path / "events.toml", "--timezone", "Europe/Atlantis")
    assert_one_clear_error(result, "Europe/Atlantis")
    assert list(tmp_path.iterdir()) == []


def test_an_out_in_a_missing_folder_gets_one_clear_error(tmp_path):
    result = invoke(CORPUS / "google.ics", "--out", tmp_path / "no-such-folder" / "events.toml")
    assert_one_clear_error(result, "no-such-folder")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- URLs


class FeedServer:
    """Feeds on 127.0.0.1 on a free port; every wait bounded by ``stop``."""

    def __init__(self):
        self.stop = threading.Event()
        self.requests: list[str] = []
        self.hosts: list[str] = []  # the Host header of each request
        self.headers_sent = threading.Event()
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def send(self, status: int, body: bytes, kind: str = "text/calendar; charset=utf-8"):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802 - http.server's name
                server_self.requests.append(self.path)
                server_self.hosts.append(self.headers.get("Host", ""))
                try:
                    if self.path == "/feed.ics":
                        self.send(200, GOOGLE)
                    elif self.path.startswith("/redirect?to="):
                        self.send_response(302)
                        self.send_header("Location", unquote(self.path.removeprefix("/redirect?to=")))
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    elif self.path == "/loop.ics":
                        self.send_response(302)
                        self.send_header("Location", "/loop.ics")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    elif self.path == "/trickle-headers.ics":  # a header byte each 0.3 s, for 8 s
                        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                        for _ in range(27):
                            if server_self.stop.wait(0.3):
                                break
                            self.wfile.write(b"x")
                            self.wfile.flush()
                        server_self.headers_sent.set()
                        self.wfile.write(b"\r\nContent-Length: %d\r\n\r\n" % len(GOOGLE) + GOOGLE)
                        self.close_connection = True
                    elif self.path == "/moved.ics":
                        self.send_response(301)
                        self.send_header("Location", "/feed.ics")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    elif self.path == "/slow.ics":
                        server_self.stop.wait(10)  # longer than the import waits
                        self.send(200, GOOGLE)
                    elif self.path == "/stalls.ics":
                        self.send_response(200)
                        self.send_header("Content-Type", "text/calendar")
                        self.send_header("Content-Length", str(len(GOOGLE)))
                        self.end_headers()
                        self.wfile.write(GOOGLE[:2000])
                        self.wfile.flush()
                        server_self.stop.wait(10)
                    elif self.path == "/cut.ics":  # the connection drops half-way
                        self.send_response(200)
                        self.send_header("Content-Type", "text/calendar")
                        self.send_header("Content-Length", str(len(GOOGLE)))
                        self.end_headers()
                        self.wfile.write(GOOGLE[: len(GOOGLE) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                    elif self.path == "/trickle.ics":  # a byte now and then, never a 1 s pause
                        self.send_response(200)
                        self.send_header("Content-Type", "text/calendar")
                        self.send_header("Content-Length", str(len(GOOGLE)))
                        self.end_headers()
                        deadline = time.monotonic() + 3
                        for offset in range(0, len(GOOGLE), 40):
                            if server_self.stop.wait(0.3) or time.monotonic() > deadline:
                                break
                            self.wfile.write(GOOGLE[offset : offset + 40])
                            self.wfile.flush()
                        self.close_connection = True
                    elif self.path == "/error.ics":
                        self.send(500, b"Internal Server Error", "text/plain")
                    elif self.path == "/login.ics":
                        self.send(200, HTML_PAGE, "text/html; charset=utf-8")
                    elif self.path == "/huge.ics":
                        self.send(200, b"BEGIN:VCALENDAR\r\n" + b"X-FILLER:xxxxxxxx\r\n" * 20000)
                    else:
                        self.send(404, b"Not Found", "text/plain")
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def feeds(monkeypatch):
    monkeypatch.setattr(ics_source, "TIMEOUT_SECONDS", 1)
    server = FeedServer()
    try:
        yield server
    finally:
        server.close()


def test_import_from_a_url_gives_the_same_file_as_from_the_file(feeds, tmp_path):
    from_url = import_file(feeds.url("/feed.ics"), tmp_path, "--allow-private", name="from-url.toml")
    from_file = import_file(CORPUS / "google.ics", tmp_path, name="from-file.toml")
    assert from_url.text == from_file.text
    assert feeds.requests == ["/feed.ics"]


def test_import_follows_a_redirect(feeds, tmp_path):
    result = import_file(feeds.url("/moved.ics"), tmp_path, "--allow-private")
    assert len(result.calendar.events) == 8


@pytest.mark.parametrize("merge", [False, True], ids=["new-file", "merge"])
@pytest.mark.parametrize(
    "path, words",
    [
        ("/slow.ics", ("timed out",)),
        ("/stalls.ics", ()),
        ("/trickle.ics", ()),
        ("/cut.ics", ()),
        ("/error.ics", ("500",)),
        ("/missing.ics", ("404",)),
        ("/login.ics", ("web page",)),
    ],
)
def test_a_failing_url_gets_one_error_and_writes_nothing(feeds, path, words, merge, tmp_path, existing):
    before = _files(tmp_path)
    out = existing if merge else tmp_path / "events.toml"
    started = time.monotonic()
    result = invoke(feeds.url(path), "--out", out, "--allow-private", *(["--merge"] if merge else []))
    elapsed = time.monotonic() - started
    assert_one_clear_error(result, feeds.url(path), *words)
    assert elapsed < 2.5, f"the import waited {elapsed:.1f} s with a 1 s timeout"
    assert_nothing_written(tmp_path, before)


def test_a_huge_download_is_refused(feeds, monkeypatch, tmp_path):
    monkeypatch.setattr(ics_source, "MAX_BYTES", 100_000)
    result = invoke(feeds.url("/huge.ics"), "--out", tmp_path / "events.toml", "--allow-private")
    assert_one_clear_error(result, feeds.url("/huge.ics"))
    assert list(tmp_path.iterdir()) == []


def test_a_refused_connection(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/calendar.ics"
    result = invoke(url, "--out", tmp_path / "events.toml", "--allow-private")
    assert_one_clear_error(result, url)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- which addresses


@pytest.mark.parametrize(
    "address, public",
    [
        ("127.0.0.1", False), ("127.8.9.10", False), ("10.1.2.3", False), ("172.16.5.4", False),
        ("192.168.1.1", False), ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False),
        ("224.0.0.251", False), ("239.255.255.250", False), ("240.0.0.1", False), ("255.255.255.255", False),
        ("::1", False), ("::", False), ("fe80::1", False), ("fc00::1", False), ("fd12:3456::1", False),
        ("fec0::1", False), ("ff02::1", False), ("ff0e::1", False),
        ("::ffff:127.0.0.1", False), ("::ffff:169.254.169.254", False), ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::1", False), ("2002:a9fe:a9fe::1", False),  # 6to4 of 127.0.0.1, 169.254.169.254
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("8.8.8.8", True), ("93.184.215.14", True), ("151.101.1.69", True), ("2606:4700:4700::1111", True),
        ("2a00:1450:4002:402::200e", True), ("::ffff:8.8.8.8", True), ("64:ff9b::808:808", True),
    ],
)
def test_which_addresses_are_public(address, public):
    """Written by hand from RFC 6890 and the IANA special-purpose registries."""
    assert (ics_source.private_kind(address) is None) == public


@pytest.fixture
def resolver(monkeypatch):
    """getaddrinfo answering made-up names with loopback addresses (no DNS
    traffic, no traffic off this machine); other names pass through."""
    real = socket.getaddrinfo
    names: dict[str, list[str]] = {}
    calls: list[str] = []  # each name asked; "...: answered" once a slow one answers
    release = threading.Event()

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return real(host, port, *args, **kwargs)
        calls.append(host)
        if names[host] == ["slow"]:
            release.wait(30)  # a DNS server that does not answer
            names[host] = ["127.0.0.1"]
            calls.append(f"{host}: answered")
        address = names[host][min(len(calls), len(names[host])) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield names, calls
    release.set()


def only_127_0_0_1_is_public(monkeypatch):
    """Stands for a public server while every byte stays on this machine."""
    monkeypatch.setattr(ics_source, "private_kind", lambda address: None if address == "127.0.0.1" else "private")


def test_a_feed_on_a_private_address_needs_allow_private(feeds, tmp_path):
    out = tmp_path / "events.toml"
    line = assert_one_clear_error(invoke(feeds.url("/feed.ics"), "--out", out), feeds.url("/feed.ics"))
    assert "127.0.0.1" in line and "loopback" in line and "--allow-private" in line
    assert feeds.requests == [], "the import connected before refusing"
    assert list(tmp_path.iterdir()) == []
    assert len(import_file(feeds.url("/feed.ics"), tmp_path, "--allow-private").calendar.events) == 8


@pytest.mark.parametrize("target", ["http://intranet.example:{port}/feed.ics", "http://127.0.0.2:{port}/feed.ics"])
def test_a_redirect_to_a_private_address_is_refused(target, feeds, resolver, monkeypatch, tmp_path):
    names, _ = resolver
    names["intranet.example"] = ["127.0.0.2"]
    only_127_0_0_1_is_public(monkeypatch)
    target = target.format(port=feeds.server.server_address[1])
    url = feeds.url("/redirect?to=" + quote(target, safe=""))
    line = assert_one_clear_error(invoke(url, "--out", tmp_path / "events.toml"), url)
    assert target in line and "127.0.0.2" in line and "--allow-private" in line
    assert len(feeds.requests) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1:{port}/feed.ics", "gopher://127.0.0.1:{port}/"])
def test_a_redirect_to_another_scheme_is_refused(target, feeds, tmp_path):
    target = target.format(port=feeds.server.server_address[1])
    url = feeds.url("/redirect?to=" + quote(target, safe=""))
    line = assert_one_clear_error(invoke(url, "--out", tmp_path / "events.toml", "--allow-private"), url)
    assert "only http and https" in line
    assert len(feeds.requests) == 1
    assert list(tmp_path.iterdir()) == []


def test_redirects_are_bounded(feeds, tmp_path):
    url = feeds.url("/loop.ics")
    assert_one_clear_error(invoke(url, "--out", tmp_path / "events.toml", "--allow-private"), url, "redirects")
    assert len(feeds.requests) == ics_source.MAX_REDIRECTS + 1
    assert list(tmp_path.iterdir()) == []


def test_the_connection_goes_to_the_address_checked(feeds, resolver, monkeypatch, tmp_path):
    """A second DNS answer (rebinding) cannot redirect the connection: the
    host is resolved once, and the connection goes to the address checked."""
    names, calls = resolver
    names["feeds.example"] = ["127.0.0.1", "127.0.0.2"]  # the second answer is private
    only_127_0_0_1_is_public(monkeypatch)
    port = feeds.server.server_address[1]
    result = import_file(f"http://feeds.example:{port}/feed.ics", tmp_path)
    assert len(result.calendar.events) == 8
    assert calls == ["feeds.example"]
    assert feeds.hosts == [f"feeds.example:{port}"]  # the server still sees the name


def test_a_dns_lookup_that_never_answers_is_cut_by_the_deadline(feeds, resolver, tmp_path):
    names, calls = resolver
    names["slow-dns.example"] = ["slow"]  # answers after 30 s; the import waits 1 s in all
    url = f"http://slow-dns.example:{feeds.server.server_address[1]}/feed.ics"
    assert_one_clear_error(invoke(url, "--out", tmp_path / "events.toml", "--allow-private"), url, "timed out", "slow-dns.example")
    assert calls == ["slow-dns.example"], "the import waited for the DNS answer"
    assert feeds.requests == []
    assert list(tmp_path.iterdir()) == []


def test_headers_trickling_in_are_cut_by_the_deadline(feeds, tmp_path):
    """Each byte comes within the socket's timeout: only the deadline of the
    whole download ends the wait, long before the server is done."""
    url = feeds.url("/trickle-headers.ics")
    assert_one_clear_error(invoke(url, "--out", tmp_path / "events.toml", "--allow-private"), url, "timed out")
    assert not feeds.headers_sent.is_set(), "the import waited for the whole trickle"
    assert list(tmp_path.iterdir()) == []


def test_a_fifo_as_source_is_refused_rather_than_waited_for(tmp_path):
    fifo = tmp_path / "feed.ics"
    os.mkfifo(fifo)
    results: list[Result] = []
    worker = threading.Thread(target=lambda: results.append(invoke(fifo, "--out", tmp_path / "events.toml")), daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():  # blocked opening the FIFO: a writer that closes at once lets it go
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(30)
        pytest.fail("the import waited for a writer on the FIFO")
    assert_one_clear_error(results[0], str(fifo), "FIFO")
    assert [p.name for p in tmp_path.iterdir()] == ["feed.ics"]


@pytest.mark.parametrize(
    "address, words",
    [
        ("ftp://127.0.0.1/feed.ics", ("only http and https",)),
        ("file:///etc/hostname", ("only http and https",)),
        ("webcal://127.0.0.1/feed.ics", ("https://127.0.0.1/feed.ics",)),  # what a subscribe button links to
    ],
)
def test_addresses_other_than_http_are_refused(address, words, tmp_path):
    assert_one_clear_error(invoke(address, "--out", tmp_path / "events.toml"), address, *words)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_as_source_is_refused(tmp_path):
    (tmp_path / "feeds").mkdir()
    assert_one_clear_error(invoke(tmp_path / "feeds", "--out", tmp_path / "events.toml"), "feeds", "folder")


# --------------------------------------------------------------------------- --merge

NEW_EVENT = (
    b"BEGIN:VEVENT\r\nDTSTART:20251206T150000Z\r\nDTEND:20251206T180000Z\r\nDTSTAMP:20251101T081522Z\r\n"
    b"UID:4r5t6y7u8i9o0p1a2s3d4f5g6h@google.com\r\nSUMMARY:Mercatino di Natale\r\n"
    b"LOCATION:Casa del Quartiere\\, Via Morgari 14\\, 10125 Torino TO\\, Italia\r\nEND:VEVENT\r\n"
)


def test_merge_keeps_hand_edits_and_ids_and_adds_only_new_events(tmp_path):
    first = import_file(CORPUS / "google.ics", tmp_path, "--base-url", "https://casa.example.org")
    # The editor renames an id-bearing event, adds a comment and an event of her own.
    edited = first.text.replace('title = "Assemblea dei soci"', 'title = "Assemblea dei soci 2025 (sala grande)"')
    edited = edited.replace("[[events]]\nid = \"chiusura-estiva\"", "# ferie: confermate dal direttivo\n[[events]]\nid = \"chiusura-estiva\"")
    edited += '\n[[events]]\nid = "pulizie-di-primavera"\ntitle = "Pulizie di primavera"\nstart = 2025-03-22\n'
    first.out.write_text(edited, encoding="utf-8")
    ids_before = {e.uid: e.id for e in load_calendar(first.out).events}

    feed = tmp_path / "feed.ics"
    feed.write_bytes(GOOGLE.replace(b"END:VCALENDAR", NEW_EVENT + b"END:VCALENDAR"))
    result = invoke(feed, "--out", first.out, "--merge")
    no_crash(result)
    assert result.exit_code == 0, result.output
    merged_text = first.out.read_text(encoding="utf-8")
    assert merged_text.startswith(edited.rstrip("\n")), "the hand-edited text is not kept as it was"
    merged = load_calendar(first.out)
    ids_after = {e.uid: e.id for e in merged.events}
    assert {uid: ids_after[uid] for uid in ids_before} == ids_before
    assert set(ids_after) - set(ids_before) == {"4r5t6y7u8i9o0p1a2s3d4f5g6h@google.com"}
    assert len(merged.events) == len(ids_before) + 1
    (market,) = [e for e in merged.events if e.title == "Mercatino di Natale"]
    assert market.place is not None and market.place.slug == "casa-del-quartiere"  # the existing place, reused
    assert len(merged.places) == len(first.calendar.places)
    assert "Assemblea dei soci 2025 (sala grande)" in [e.title for e in merged.events]
    assert "imported 1 events" in result.stdout


@pytest.mark.parametrize("feed", ["google.ics", "outlook.ics", "apple.ics"])
def test_merging_the_same_feed_again_changes_nothing(feed, tmp_path):
    """Every event is already there (same UID): not a byte changes, and the
    ids stay those of the first import."""
    first = import_file(CORPUS / feed, tmp_path)
    for _ in range(2):
        again = invoke(CORPUS / feed, "--out", first.out, "--merge")
        no_crash(again)
        assert again.exit_code == 0, again.output
        assert "imported 0 events" in again.stdout
        assert [(e.uid, e.id) for e in load_calendar(first.out).events] == [(e.uid, e.id) for e in first.calendar.events]
        assert first.out.read_text(encoding="utf-8") == first.text


def test_merge_into_a_hand_written_file(tmp_path, existing):
    # The editor already copied the assembly by hand, with her own id, and has
    # a place of her own under the slug the import would make.
    existing.write_text(
        HAND_WRITTEN.replace("[places.casa]", "[places.casa-del-quartiere]").replace('place = "casa"', 'place = "casa-del-quartiere"').replace(
            'name = "Casa del Quartiere"\naddress', 'name = "Casa del Quartiere (sede)"\naddress'
        )
        + '\n[[events]]\nid = "assemblea-2025"\ntitle = "Assemblea"\nstart = 2025-04-12T10:00:00\n'
        'uid = "3m0b9cql1t8h2o0v6j5k4d7f2a@google.com"\n',
        encoding="utf-8",
    )
    before = existing.read_text(encoding="utf-8")
    result = invoke(CORPUS / "google.ics", "--out", existing, "--merge")
    no_crash(result)
    assert result.exit_code == 0, result.output
    assert existing.read_text(encoding="utf-8").startswith(before.rstrip("\n"))
    merged = load_calendar(existing)
    assert [e.id for e in merged.events if e.uid == "3m0b9cql1t8h2o0v6j5k4d7f2a@google.com"] == ["assemblea-2025"]
    assert merged.place("casa-del-quartiere").name == "Casa del Quartiere (sede)"
    (course,) = [e for e in merged.events if e.title == "Corso di italiano per stranieri"]
    assert course.place.name == "Casa del Quartiere" and course.place.slug != "casa-del-quartiere"
    assert len(merged.events) == 2 + 7  # her two, and the seven other events of the feed
    assert merged.timezone == "Europe/Rome"


def test_merge_twice_changes_nothing_for_events_without_uid(tmp_path, existing):
    """oddities.ics has an event without UID and a second event with a taken
    UID: a re-import must recognise them, not add them again."""
    first = invoke(CORPUS / "oddities.ics", "--out", existing, "--merge")
    no_crash(first)
    assert first.exit_code == 0, first.output
    once = existing.read_text(encoding="utf-8")
    count = len(load_calendar(existing).events)
    second = invoke(CORPUS / "oddities.ics", "--out", existing, "--merge")
    no_crash(second)
    assert second.exit_code == 0, second.output
    assert len(load_calendar(existing).events) == count, "the re-import added the same events again"
    assert existing.read_text(encoding="utf-8") == once


def test_a_merge_whose_new_events_are_all_left_out_changes_nothing(tmp_path, existing):
    feed = tmp_path / "feed.ics"
    feed.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:doppio@example.org\r\n"
        b"DTSTAMP:20250101T000000Z\r\nSUMMARY:Corso\r\nDTSTART;TZID=Europe/Rome:20250304T183000\r\n"
        b"RRULE:FREQ=WEEKLY;COUNT=3;UNTIL=20250401T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = invoke(feed, "--out", existing, "--merge")
    no_crash(result)
    assert result.exit_code == 0, result.output
    assert "imported 0 events" in result.stdout and "Corso" in result.stdout
    assert existing.read_text(encoding="utf-8") == HAND_WRITTEN


def test_merge_through_a_symlink_writes_to_its_target(tmp_path):
    """An events.toml kept elsewhere (a git checkout) and linked into the
    site stays linked: the import replaces the target, atomically, with the
    target's permissions, and leaves no temporary file behind."""
    (tmp_path / "repo").mkdir()
    (tmp_path / "site").mkdir()
    target = tmp_path / "repo" / "events.toml"
    target.write_text(HAND_WRITTEN, encoding="utf-8")
    target.chmod(0o640)
    link = tmp_path / "site" / "events.toml"
    link.symlink_to(Path("..") / "repo" / "events.toml")
    result = invoke(CORPUS / "google.ics", "--out", link, "--merge")
    no_crash(result)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(Path("..") / "repo" / "events.toml")
    text = target.read_text(encoding="utf-8")
    assert text.startswith(HAND_WRITTEN.rstrip("\n")) and "Assemblea dei soci" in text
    assert len(load_calendar(link).events) == 1 + 8
    assert target.stat().st_mode & 0o777 == 0o640
    # Beside the target: the file, and the lock the editor's saves share (never removed).
    assert sorted(p.name for p in (tmp_path / "repo").iterdir()) == [".events.toml.lock", "events.toml"]
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == ["events.toml"]


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    """Readable by the server's user like any file the editor saves (0666
    less the umask), not the 0600 of a temporary file."""
    umask = os.umask(0o022)
    os.umask(umask)
    result = import_file(CORPUS / "google.ics", tmp_path)
    assert result.out.stat().st_mode & 0o777 == 0o666 & ~umask


# --------------------------------------------------------------------------- packaging


def test_the_importers_libraries_are_runtime_dependencies():
    """calfeed/importing/ imports x_wr_timezone: a plain ``pip install
    calfeed`` (without the test extra, which brings it through
    recurring-ical-events) must install it too, or ``calfeed import`` fails."""
    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    names = {re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-") for requirement in project["project"]["dependencies"]}
    assert "icalendar" in names
    assert "x-wr-timezone" in names


def test_an_import_waits_for_an_editors_save_and_merges_into_its_result(tmp_path, existing):
    """The import takes the browser editor's lock: it reads the file only
    once a save is over, so neither the save nor the import is lost."""
    from calfeed.importing import import_calendar
    from calfeed.writer import locked

    done: list[object] = []
    with locked(existing):
        worker = threading.Thread(target=lambda: done.append(import_calendar(str(CORPUS / "google.ics"), existing, merge=True)))
        worker.start()
        worker.join(1.0)
        assert worker.is_alive() and not done, "the import did not wait for the lock"
        saved = HAND_WRITTEN.replace('title = "Apertura straordinaria"', 'title = "Apertura straordinaria (salvata)"')
        existing.write_text(saved, encoding="utf-8")  # the editor's save, made under the lock
    worker.join(60)
    assert done, "the import did not finish once the lock was free"
    text = existing.read_text(encoding="utf-8")
    assert text.startswith(saved.rstrip("\n")), "the editor's save was lost"
    assert len(load_calendar(existing).events) > len(tomllib.loads(saved)["events"])

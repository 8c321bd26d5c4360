"""`calfeed import` on real calendars that no one on this project wrote.

tests/data/corpus/ holds the public test data of open-source calendar
libraries and apps (icalendar, recurring-ical-events, ical.js, the `ical`
package, KCalendarCore): Google, Outlook/Office 365, Apple, Thunderbird,
KOrganizer, Evolution, WordPress and holiday-site exports among them.
SOURCES.toml names each file's repository, commit, path and licence.

For each file, icalendar + recurring-ical-events expand the source and the
feed calfeed serves for the imported events.toml (see tests/corpus.py for
the window and the strict reading): the occurrences must be equal, or every
differing one must belong to an event the import's report names by its
source line and its UID or title. Files in DIFFERING are the ones where the
source says something events.toml cannot hold as written; every other file
must come through with no difference at all.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from corpus import compare, unexplained

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
FILES = sorted(str(path.relative_to(CORPUS)) for path in CORPUS.glob("*/*.ics"))

# Files whose occurrences differ from the feed's, each difference named in the report.
DIFFERING = {
    "ical/calendar_labs_same_day_dtend.ics": "an all-day DTEND equal to DTSTART, read as one whole day",
    "icalendar/example.ics": "all-day DTENDs equal to DTSTART, read as one whole day",
    "recurring-ical-events/Germany_Holidays.ics": "all-day DTENDs equal to DTSTART, read as one whole day",
    "ical/rrule-exdate-mismatch.ics": "an all-day DTEND equal to DTSTART; date-time EXDATEs matching no date",
    "ical/unknown_value_proton_mail.ics": "a title with a line break, written on one line",
    "recurring-ical-events/issue_201_mixed_datetime_and_date.ics": "an all-day event with a date-time DTEND",
    "recurring-ical-events/issue_201_test_matrix.ics": "every mix of date and date-time DTSTART/DTEND, untitled",
    "recurring-ical-events/fablab_cottbus.ics": "a Europe/Berlin VTIMEZONE an hour off the tz database",
    "recurring-ical-events/issue_148_ignored_exdate.ics": "two series with one UID",
    "recurring-ical-events/issue_28_rrule_with_UTC_endinginZ.ics": "Outlook's all-day UNTIL at 23:00Z read as the next day",
    "recurring-ical-events/issue_75_range_parameter.ics": "RANGE=THISANDFUTURE, which events.toml cannot hold: left out",
    "icalendar/issue_156_RDATE_with_PERIOD_TZID_khal.ics": "no UID (the oracle keeps one copy per UID)",
    "kcalendarcore/KOrganizer_3.2.ics": "a DTSTART off its rule with COUNT: RFC 5545 counts it, dateutil does not",
    "recurring-ical-events/multiple_rrule.ics": "a DTSTART off its second rule with COUNT: RFC 5545 counts it, dateutil does not",
}


def test_every_file_has_its_source_and_licence():
    sources = tomllib.loads((CORPUS / "SOURCES.toml").read_text(encoding="utf-8"))
    assert sorted(sources) == FILES
    licences = {path.stem for path in (CORPUS / "LICENSES").glob("*.txt")}
    for name, entry in sources.items():
        assert entry["repository"].startswith("https://github.com/") and len(entry["commit"]) == 40, name
        assert entry["path"].endswith(Path(name).name) and entry["licence"] in licences, name
    assert len(FILES) >= 30 and set(DIFFERING) <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_each_real_calendar_is_served_as_written_or_named_in_the_report(name, tmp_path):
    source = CORPUS / name
    comparison = compare(source, tmp_path)
    silent = unexplained(source, comparison)
    assert not silent, f"{name}: differs from the source without a word in the report:\n" + "\n".join(map(str, silent)) + f"\n{comparison.report}"
    if name not in DIFFERING:
        assert not comparison.only_source and not comparison.only_feed, f"{name}: {comparison.only_source} {comparison.only_feed}"


@pytest.mark.parametrize("name", sorted(DIFFERING))
def test_the_differing_files_still_differ(name, tmp_path):
    """DIFFERING lists no file that now comes through whole (it would hide a regression there)."""
    comparison = compare(CORPUS / name, tmp_path)
    assert comparison.only_source or comparison.only_feed


# --- the importer fixes the corpus showed -------------------------------------


@pytest.mark.parametrize("name", [
    "ical/rrule-rdate-period.ics", "recurring-ical-events/issue_113_period_in_rdate.ics",
    "icalendar/rfc_7265_appendix_example_2_ical.ics",
])
def test_an_rdate_period_keeps_its_own_end(name, tmp_path):
    """RDATE;VALUE=PERIOD:...T0200/...T0400 lasts two hours even if the event lasts one."""
    comparison = compare(CORPUS / name, tmp_path)
    assert not comparison.only_source and not comparison.only_feed
    assert "is a period of another length than the event's; carried as a changed date with that end" in comparison.report


def test_a_date_made_all_day_in_a_timed_series_lasts_its_day(tmp_path):
    """Thunderbird: one date of an hourly series turned into an all-day event
    (DTSTART;VALUE=DATE:20190310, DTEND;VALUE=DATE:20190311)."""
    comparison = compare(CORPUS / "recurring-ical-events/recurring_events_changed_duration.ics", tmp_path)
    assert not comparison.only_source and not comparison.only_feed
    assert "recurrence_id = 2019-03-10T02:00:00\nstart = 2019-03-10\nend = 2019-03-10\n" in comparison.toml


def test_an_empty_rrule_is_no_rule(tmp_path):
    """CalendarLabs' holiday calendars write "RRULE:" with nothing after it:
    every holiday was left out, now each is there on its day."""
    comparison = compare(CORPUS / "recurring-ical-events/Germany_Holidays.ics", tmp_path)
    assert comparison.toml.count("[[events]]") == 34
    assert "left out" not in comparison.report


@pytest.mark.parametrize(("name", "line", "said"), [
    ("recurring-ical-events/issue_201_mixed_datetime_and_date.ics", "line 2:",
     "DTEND 2023-08-17T00:00:00+00:00 is a date-time in an all-day event; read as ending with 2023-08-16"),
    ("ical/calendar_labs_same_day_dtend.ics", "line 8:", "DTEND 2025-12-08 is not after DTSTART 2025-12-08; read as one whole day"),
    ("recurring-ical-events/issue_201_test_matrix.ics", "line 52:", "DTEND 2000-01-02 is a date in a timed event; the end was left out"),
    ("ical/unknown_value_proton_mail.ics", "line 4:", "the title (SUMMARY) has line breaks; written on one line"),
])
def test_an_end_or_title_that_cannot_be_carried_is_named(name, line, said, tmp_path):
    comparison = compare(CORPUS / name, tmp_path)
    assert [note for note in comparison.report.splitlines() if f"- {line}" in note and said in note], comparison.report
    if "all-day event" in said:  # carried: the whole span of days, not one day
        assert "end = 2023-08-16" in comparison.toml


def test_a_dtstart_given_twice_is_reported_not_a_crash(tmp_path):
    """icalendar's pacific_fiji.ics (not in the corpus: the oracle cannot read
    it) has two DTSTARTs in its event; the import crashed with a traceback."""
    source = tmp_path / "twice.ics"
    source.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\nBEGIN:VEVENT\r\nUID:fiji@example.org\r\nDTSTAMP:20140829T000000Z\r\n"
        b"DTSTART:20140829T080000Z\r\nDTSTART:20140829T100000Z\r\nSUMMARY:an event\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    from click.testing import CliRunner

    from calfeed.cli import cli
    result = CliRunner().invoke(cli, ["import", str(source), "--out", str(tmp_path / "events.toml")])
    assert result.exit_code == 0, result.output
    assert 'line 4: "an event" (fiji@example.org): DTSTART given twice; the first (2014-08-29T08:00:00+00:00) was kept: check its times' in result.output


def test_an_organizer_address_calfeed_refuses_leaves_only_the_address_out(tmp_path):
    """KOrganizer writes ORGANIZER:MAILTO:nobody@nowhere; every event of the
    file was left out for it."""
    comparison = compare(CORPUS / "kcalendarcore/KOrganizer_3.2.ics", tmp_path)
    assert comparison.toml.count("[[events]]") == 4
    assert "left out, calfeed cannot serve it" not in comparison.report
    assert 'line 4: "Holladiho": ORGANIZER "nobody@nowhere" is not an e-mail address; the address was left out' in comparison.report
    assert "COUNT includes the old start, as RFC 5545 counts it" in comparison.report

"""VTIMEZONEs checked against the tz database itself.

The offsets are read from the VTIMEZONE text by icalendar's
``to_tz(lookup_tzid=False)`` (dateutil's VTIMEZONE reader): with the default
lookup it would fetch the zone by name and compare zoneinfo with itself.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import tomllib
import zoneinfo
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from calfeed.timezones import (
    UTC,
    LocalTimeError,
    localize,
    vtimezone_lines,
    year_transitions,
    zone,
)
from conftest import ROOT

ZONES = ["Europe/Rome", "Europe/London", "America/New_York", "Australia/Sydney"]


def _read_vtimezone(lines: list[str]):
    text = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:test", *lines, "END:VCALENDAR", ""])
    component = icalendar.Calendar.from_ical(text).walk("VTIMEZONE")[0]
    return component, component.to_tz(lookup_tzid=False)


@pytest.mark.parametrize("name", ZONES)
def test_vtimezone_matches_tz_database_every_hour_around_every_transition(name):
    earliest = datetime(1960, 1, 1, tzinfo=UTC)
    latest = datetime(2060, 12, 31, tzinfo=UTC)
    _, from_text = _read_vtimezone(vtimezone_lines(name, earliest, latest))
    truth = ZoneInfo(name)
    checked = 0
    for year in range(1960, 2061):
        for transition in year_transitions(name, year):
            for hours in range(-3, 4):
                moment = transition.at + timedelta(hours=hours)
                assert moment.astimezone(from_text).utcoffset() == moment.astimezone(truth).utcoffset(), moment
                checked += 1
    assert checked > 1000  # about two transitions a year for a century


@pytest.mark.parametrize("name", ZONES)
def test_vtimezone_is_an_rrule_pair_for_recent_years(name):
    component, _ = _read_vtimezone(
        vtimezone_lines(name, datetime(2021, 12, 1, tzinfo=UTC), datetime(2060, 1, 1, tzinfo=UTC))
    )
    observances = component.subcomponents
    assert sorted(o.name for o in observances) == ["DAYLIGHT", "STANDARD"]
    assert all("RRULE" in o and "RDATE" not in o for o in observances)


def test_rome_rules_are_the_eu_ones():
    component, _ = _read_vtimezone(
        vtimezone_lines("Europe/Rome", datetime(2021, 12, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC))
    )
    rules = {o.name: (dict(o["RRULE"]), o["TZOFFSETTO"].to_ical()) for o in component.subcomponents}
    assert rules == {
        "DAYLIGHT": ({"FREQ": ["YEARLY"], "BYMONTH": [3], "BYDAY": ["-1SU"]}, "+0200"),
        "STANDARD": ({"FREQ": ["YEARLY"], "BYMONTH": [10], "BYDAY": ["-1SU"]}, "+0100"),
    }


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        (datetime(2045, 7, 1, 18), datetime(2045, 7, 1, 16)),  # pytz would say +01:00
        (datetime(2045, 1, 10, 18), datetime(2045, 1, 10, 17)),
        (datetime(1965, 7, 1, 18), datetime(1965, 7, 1, 17)),  # Italy had no DST in 1965
        (datetime(1966, 7, 1, 18), datetime(1966, 7, 1, 16)),
    ],
)
def test_far_years_read_back_from_the_vtimezone(local, utc):
    moment = localize(local, zone("Europe/Rome"))
    assert moment.astimezone(UTC).replace(tzinfo=None) == utc
    _, from_text = _read_vtimezone(vtimezone_lines("Europe/Rome", moment, moment))
    assert moment.astimezone(from_text).replace(tzinfo=None) == local


def test_zone_without_dst_gets_a_single_observance():
    component, _ = _read_vtimezone(
        vtimezone_lines("Asia/Tokyo", datetime(2021, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))
    )
    assert [o.name for o in component.subcomponents] == ["STANDARD"]
    assert component.subcomponents[0]["TZOFFSETTO"].to_ical() == "+0900"


def test_zones_come_from_the_pinned_tzdata_package(tmp_path):
    """Zones are read from the tzdata package, never from the machine's zone
    files: with a search path whose Europe/Rome is Tokyo's data, Rome keeps
    Rome's offsets. And the installed tzdata is the version pyproject pins."""
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"tzdata=={importlib.metadata.version('tzdata')}" in pins

    impostor = tmp_path / "Europe" / "Rome"
    impostor.parent.mkdir()
    impostor.write_bytes((importlib.resources.files("tzdata.zoneinfo") / "Asia" / "Tokyo").read_bytes())
    assert ZoneInfo.no_cache("Europe/Rome").key  # sanity: the real search path has Rome
    zoneinfo.reset_tzpath([str(tmp_path)])
    ZoneInfo.clear_cache()
    zone.cache_clear()
    try:
        assert ZoneInfo.no_cache("Europe/Rome").utcoffset(datetime(2030, 1, 1)) == timedelta(hours=9)
        rome = zone("Europe/Rome")
        assert rome.utcoffset(datetime(2030, 1, 1)) == timedelta(hours=1)
        assert rome.utcoffset(datetime(2030, 7, 1)) == timedelta(hours=2)
    finally:
        zoneinfo.reset_tzpath()
        ZoneInfo.clear_cache()
        zone.cache_clear()
    with pytest.raises(KeyError):
        zone("Europe/Atlantis")


def test_gap_names_both_readings():
    with pytest.raises(LocalTimeError) as error:
        localize(datetime(2022, 3, 27, 2, 30), zone("Europe/Rome"))
    message = str(error.value)
    assert "does not exist in Europe/Rome" in message
    assert "02:00 to 03:00" in message
    assert "2022-03-27T01:30:00+01:00" in message and "2022-03-27T03:30:00+02:00" in message


def test_overlap_names_both_readings():
    with pytest.raises(LocalTimeError) as error:
        localize(datetime(2022, 10, 30, 2, 30), zone("Europe/Rome"))
    message = str(error.value)
    assert "happens twice in Europe/Rome" in message
    assert "2022-10-30T02:30:00+02:00" in message and "2022-10-30T02:30:00+01:00" in message


@pytest.mark.parametrize(
    ("name", "moment"),
    [
        ("Africa/Sao_Tome", datetime(2010, 6, 1, 12, tzinfo=UTC)),  # last change at 00:00 UTC, 1 January
        ("Africa/Cairo", datetime(2199, 6, 1, 12, tzinfo=UTC)),  # "Thursday 24:00" is no weekday rule
    ],
)
def test_awkward_zones_still_get_a_usable_vtimezone(name, moment):
    component, from_text = _read_vtimezone(vtimezone_lines(name, moment, moment))
    assert component.subcomponents
    assert moment.astimezone(from_text).utcoffset() == moment.astimezone(ZoneInfo(name)).utcoffset()


@pytest.mark.parametrize("name", [*ZONES, "Africa/Casablanca", "Australia/Lord_Howe"])
def test_a_vtimezone_kept_for_one_range_is_right_for_the_next(name):
    """Ranges that share a VTIMEZONE get the kept one; a range that starts
    or ends across a transition, or in another year, gets its own."""
    from calfeed import timezones

    tz = ZoneInfo(name)
    edges = [t.at for year in (1995, 2011, 2024, 2025, 2026) for t in timezones.year_transitions(name, year)]
    moments = sorted({(at + timedelta(seconds=step)).astimezone(tz) for at in edges for step in (-1, 0, 1)})
    moments += [datetime(2025, 12, 31, 23, 30, tzinfo=tz), datetime(2026, 1, 1, 0, 30, tzinfo=tz)]
    ranges = [(low, high) for low in moments[::3] for high in moments if low <= high]
    kept = [timezones.vtimezone_lines(name, low, high) for low, high in ranges]
    for (low, high), lines in zip(ranges, kept):
        timezones._VTIMEZONES.clear()
        assert lines == timezones.vtimezone_lines(name, low, high), (low, high)

"""Shared fixtures: the sample calendar, small calendars written per test,
and two independent parsers that read back what calfeed serves."""

from __future__ import annotations

import textwrap
from pathlib import Path

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from calfeed import create_app

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "events.toml"
DATA = Path(__file__).resolve().parent / "data"

HEADER = """\
[calendar]
name = "Prova"
base_url = "https://eventi.example.org"
"""


@pytest.fixture
def app():
    return create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def write_events(tmp_path):
    """Write an events.toml (dedented; the [calendar] header added unless the
    text has its own) and return its path."""

    def write(body: str, name: str = "events.toml", header: bool = True) -> Path:
        text = textwrap.dedent(body)
        if header and "[calendar]" not in text:
            text = HEADER + text
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_client(write_events):
    """A test client for a calendar given as TOML text."""

    def make(body: str, **config):
        path = write_events(body)
        return create_app({"EVENTS": str(path), **config}).test_client()

    return make


def parse_both(body: bytes) -> tuple[icalendar.Calendar, object]:
    """The feed as read by icalendar and by the stricter ``ical`` package;
    both must accept it."""
    first = icalendar.Calendar.from_ical(body)
    second = IcsCalendarStream.calendar_from_ics(body.decode("utf-8"))
    return first, second

"""Shared fixtures: the sample calendar, small calendars written per test,
and two independent parsers that read back what calfeed serves."""

from __future__ import annotations

import textwrap
from html.parser import HTMLParser
from pathlib import Path

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from calfeed import create_app
from servers import Server

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


class Page(HTMLParser):
    """What a reader sees of an HTML page: its text, links, and elements."""

    VOID = {"meta", "link", "img", "br", "input", "hr", "source"}

    def __init__(self, markup: str | bytes):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.links: list[tuple[str, str]] = []
        self._texts: list[str] = []
        self._open_links: list[tuple[str, list[str]]] = []
        self._skip = 0
        self.feed(markup.decode("utf-8") if isinstance(markup, bytes) else markup)
        self.text = " ".join(" ".join(self._texts).split())

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "a":
            self._open_links.append((attributes.get("href", ""), []))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == "a" and self._open_links:
            href, words = self._open_links.pop()
            self.links.append((" ".join(" ".join(words).split()), href))

    def handle_data(self, data):
        if self._skip:
            return
        self._texts.append(data)
        for _, words in self._open_links:
            words.append(data)

    def href(self, text: str) -> str:
        """The target of the first link whose text contains ``text``."""
        return next(href for words, href in self.links if text in words)

    def all(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]


@pytest.fixture
def start_server(tmp_path_factory):
    """Start gunicorn on an events.toml (tests/servers.py); stopped at the end."""
    servers: list[Server] = []

    def start(events: Path) -> Server:
        server = Server(events, tmp_path_factory.mktemp("gunicorn-logs"))
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()

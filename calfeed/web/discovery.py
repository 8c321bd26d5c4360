"""What search engines read first: ``/robots.txt`` and the sitemap.

``/sitemap.xml`` is a sitemap index (sitemaps.org) naming child sitemaps:
one of the lists, then the events' pages ``PER_SITEMAP`` at a time in
events.toml order, so a child is made from its slice of events alone and
its size does not grow with the calendar (as WordPress and Yoast split
theirs). The editor appends new events, so adding one changes only the last
child. Everything depends only on the calendar (a page's ``lastmod`` is its
event's ``updated``), so every worker and ``calfeed build`` give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from xml.etree import ElementTree

from calfeed.model import Calendar, Event
from calfeed.timezones import UTC

# Yoast's size; sitemaps.org allows 50,000, but a child this small costs a
# crawler and the server little, and the index names as many as needed.
PER_SITEMAP = 1_000
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
LISTS = ("/", "/month", "/past")
LISTS_PATH = "/sitemap-pages.xml"
ElementTree.register_namespace("", SITEMAP_NS)


def _lastmod(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _newest(events: Iterable[Event]) -> datetime | None:
    """When these events' pages last changed: their newest ``updated``, overrides included."""
    return max((part.updated for event in events for part in (event, *event.overrides) if part.updated), default=None)


def events_sitemaps(calendar: Calendar) -> int:
    """How many children list the events' pages (none for no events)."""
    return -(-len(calendar.events) // PER_SITEMAP)


def events_path(number: int) -> str:
    """The address of the ``number``-th events child, from 1."""
    return f"/sitemap-events-{number}.xml"


def _slice(calendar: Calendar, number: int) -> tuple[Event, ...]:
    return calendar.events[(number - 1) * PER_SITEMAP : number * PER_SITEMAP]


def _document(tag: str, item: str, entries: Iterable[tuple[str, datetime | None]], base_url: str) -> bytes:
    """``<tag>`` holding one ``<item>`` with ``<loc>`` and, when known, ``<lastmod>`` per entry."""
    root = ElementTree.Element(f"{{{SITEMAP_NS}}}{tag}")
    for path, moment in entries:
        element = ElementTree.SubElement(root, f"{{{SITEMAP_NS}}}{item}")
        ElementTree.SubElement(element, f"{{{SITEMAP_NS}}}loc").text = base_url + path
        if lastmod := _lastmod(moment):
            ElementTree.SubElement(element, f"{{{SITEMAP_NS}}}lastmod").text = lastmod
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def sitemap_index(calendar: Calendar) -> bytes:
    """The children: the lists' (``lastmod`` the calendar's), then the
    events' (``lastmod`` the newest of their pages'). Its one walk of every
    event is made once per version."""
    children = [(LISTS_PATH, calendar.last_modified)]
    for number in range(1, events_sitemaps(calendar) + 1):
        children.append((events_path(number), _newest(_slice(calendar, number))))
    return _document("sitemapindex", "sitemap", children, calendar.base_url)


def lists_sitemap(calendar: Calendar) -> bytes:
    """``/``, ``/month`` and ``/past``, each with the newest ``updated`` in the file."""
    return _document("urlset", "url", [(path, calendar.last_modified) for path in LISTS], calendar.base_url)


def events_sitemap(calendar: Calendar, number: int) -> bytes:
    """The ``number``-th child of event pages, from 1 to ``events_sitemaps``."""
    pages = [(f"/events/{event.id}", _newest((event,))) for event in _slice(calendar, number)]
    return _document("urlset", "url", pages, calendar.base_url)


def robots(calendar: Calendar) -> bytes:
    """Every public page may be crawled, the proposal form and the editor's
    login page included (public pages, and a blocked page cannot be checked
    for search); the rest of the editor may not. The narrower rule comes
    first: Google takes the longest matching rule, but crawlers of the 1994
    rules (and Python's robotparser) the first."""
    return (
        "User-agent: *\n"
        "Allow: /edit/login\n"
        "Disallow: /edit/\n"
        "Allow: /\n"
        "\n"
        f"Sitemap: {calendar.base_url}/sitemap.xml\n"
    ).encode()

"""What search engines read first: ``/robots.txt`` and ``/sitemap.xml``.

Both depend only on the calendar (a page's ``lastmod`` is its event's
``updated``), so every worker and ``calfeed build`` give the same bytes.
"""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree

from calfeed.model import Calendar, Event
from calfeed.timezones import UTC

# A sitemap file holds at most 50,000 URLs (sitemaps.org); events past that
# many are left out rather than split into a sitemap index.
MAX_URLS = 50_000
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
LISTS = ("/", "/month", "/past")
ElementTree.register_namespace("", SITEMAP_NS)


def _lastmod(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _updated(event: Event) -> datetime | None:
    """When the event's page last changed: its newest ``updated``, overrides included."""
    stamps = [part.updated for part in (event, *event.overrides) if part.updated]
    return max(stamps, default=None)


def sitemap(calendar: Calendar) -> bytes:
    """The public pages: the lists, then every event's page (events.toml order)."""
    root = ElementTree.Element(f"{{{SITEMAP_NS}}}urlset")
    pages = [(path, calendar.last_modified) for path in LISTS]
    pages += [(f"/events/{event.id}", _updated(event)) for event in calendar.events]
    for path, moment in pages[:MAX_URLS]:
        url = ElementTree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        ElementTree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = calendar.base_url + path
        if lastmod := _lastmod(moment):
            ElementTree.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = lastmod
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


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

"""The feeds: iCalendar of the whole calendar, its filters and single
events; RSS and Atom of the upcoming events at the same filters; the
sitemap and robots.txt for search engines."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, abort

from calfeed.published import FeedFilter, Published
from calfeed.web import discovery
from calfeed.web.http import checked, current_calendar, event_or_404, feed_response, pinned_today, selection, today
from calfeed.web.syndication import TYPES, syndication

bp = Blueprint("feeds", __name__)
XML = "application/xml; charset=utf-8"


def compile_main_feed(published: Published, config: Mapping) -> None:
    """Compile /calendar.ics and its gzip before a version serves, so the
    first poll after an edit is answered from bytes."""
    published.feed(FeedFilter(), pinned_today(config, published)).gzipped


def _filtered(chosen: FeedFilter | None = None) -> Response:
    published = current_calendar()
    chosen = selection(published) if chosen is None else checked(chosen, published)
    return feed_response(published.feed(chosen, today(published)), published)


@bp.get("/calendar.ics")
def calendar_ics() -> Response:
    return _filtered()


@bp.get("/categories/<slug>.ics")
def category_ics(slug: str) -> Response:
    return _filtered(FeedFilter(categories=frozenset({slug})))


@bp.get("/places/<slug>.ics")
def place_ics(slug: str) -> Response:
    return _filtered(FeedFilter(places=frozenset({slug})))


@bp.get("/events/<event_id>.ics")
def event_ics(event_id: str) -> Response:
    published = current_calendar()
    event = event_or_404(published, event_id)
    return feed_response(published.event_feed(event), published, filename=f"{event_id}.ics")


def _syndicated(kind: str, chosen: FeedFilter | None = None) -> Response:
    published = current_calendar()
    chosen = selection(published) if chosen is None else checked(chosen, published)
    day = today(published)
    body = published.kept((kind, chosen, day), lambda: syndication(published, chosen, day, kind))
    return feed_response(body, published, TYPES[kind])


@bp.get("/feed.<any(rss, atom):kind>")
def feed(kind: str) -> Response:
    """RSS 2.0 or Atom of the upcoming events, with the ``.ics`` filters."""
    return _syndicated(kind)


@bp.get("/categories/<slug>.<any(rss, atom):kind>")
def category_feed(slug: str, kind: str) -> Response:
    return _syndicated(kind, FeedFilter(categories=frozenset({slug})))


@bp.get("/places/<slug>.<any(rss, atom):kind>")
def place_feed(slug: str, kind: str) -> Response:
    return _syndicated(kind, FeedFilter(places=frozenset({slug})))


@bp.get("/sitemap.xml")
def sitemap_xml() -> Response:
    """The index of the sitemaps, for search engines."""
    published = current_calendar()
    body = published.kept(("sitemap",), lambda: discovery.sitemap_index(published.calendar))
    return feed_response(body, published, XML)


@bp.get(discovery.LISTS_PATH)
def lists_sitemap_xml() -> Response:
    published = current_calendar()
    body = published.kept(("sitemap", "lists"), lambda: discovery.lists_sitemap(published.calendar))
    return feed_response(body, published, XML)


@bp.get("/sitemap-events-<number>.xml")
def events_sitemap_xml(number: str) -> Response:
    """One child of event pages; 404 past the last, and for any spelling of
    its number but the index's ("01" would be a second address of a child)."""
    published = current_calendar()
    calendar = published.calendar
    canonical = number.isascii() and number.isdigit() and len(number) <= 9 and number == str(int(number))
    if not canonical or not 1 <= int(number) <= discovery.events_sitemaps(calendar):
        abort(404)
    body = published.kept(("sitemap", "events", int(number)), lambda: discovery.events_sitemap(calendar, int(number)))
    return feed_response(body, published, XML)


@bp.get("/robots.txt")
def robots_txt() -> Response:
    published = current_calendar()
    body = published.kept(("robots",), lambda: discovery.robots(published.calendar))
    return feed_response(body, published, "text/plain; charset=utf-8")

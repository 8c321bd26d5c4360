"""The iCalendar feeds: the whole calendar, its filters, and single events."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response

from calfeed.published import FeedFilter, Published
from calfeed.web.http import checked, current_calendar, event_or_404, feed_response, pinned_today, selection, today

bp = Blueprint("feeds", __name__)


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

"""The iCalendar feeds: the whole calendar, its filters, and single events."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from calfeed.published import FeedFilter
from calfeed.web.http import current_calendar, feed_response, today

bp = Blueprint("feeds", __name__)


def _filtered(selection: FeedFilter) -> Response:
    published = current_calendar()
    calendar = published.calendar
    for slug in selection.categories:
        if calendar.category(slug) is None:
            abort(404, description=f'No category "{slug}" in this calendar.')
    for slug in selection.places:
        if calendar.place(slug) is None:
            abort(404, description=f'No place "{slug}" in this calendar.')
    return feed_response(published.feed(selection, today(published)), published)


@bp.get("/calendar.ics")
def calendar_ics() -> Response:
    categories = frozenset(request.args.getlist("category"))
    places = frozenset(request.args.getlist("place"))
    return _filtered(FeedFilter(categories, places))


@bp.get("/categories/<slug>.ics")
def category_ics(slug: str) -> Response:
    return _filtered(FeedFilter(categories=frozenset({slug})))


@bp.get("/places/<slug>.ics")
def place_ics(slug: str) -> Response:
    return _filtered(FeedFilter(places=frozenset({slug})))


@bp.get("/events/<event_id>.ics")
def event_ics(event_id: str) -> Response:
    published = current_calendar()
    event = published.calendar.event(event_id)
    if event is None:
        abort(404, description=f'No event "{event_id}" in this calendar.')
    return feed_response(published.event_feed(event), published, filename=f"{event_id}.ics")

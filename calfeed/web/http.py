"""Feed responses: caching headers, conditional requests, gzip and CORS."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import NoReturn

from flask import Response, abort, current_app, request
from werkzeug.http import http_date

from calfeed.model import Event
from calfeed.published import Body, FeedFilter, Published
from calfeed.store import CalendarStore
from calfeed.timezones import UTC, zone
from calfeed.web.i18n import message

CALENDAR_TYPE = "text/calendar; charset=utf-8"


def store() -> CalendarStore:
    return current_app.extensions["calfeed"]


def current_calendar() -> Published:
    """The calendar every view serves: reloaded if events.toml changed."""
    return store().current()


def today(published: Published) -> date:
    """Today in the calendar's zone (``TODAY`` in the config pins it for tests)."""
    return pinned_today(current_app.config, published)


def pinned_today(config: Mapping, published: Published) -> date:
    """``today`` for a caller outside a request (the feeds' fast path)."""
    pinned = config.get("TODAY")
    if pinned:
        return date.fromisoformat(str(pinned))
    return datetime.now(zone(published.calendar.timezone)).date()


def selection(published: Published) -> FeedFilter:
    """The ``?category=`` and ``?place=`` filters of the request; 404 for a
    slug the calendar does not have. Repeating a filter means any of them."""
    # An empty value is the filter form's "all".
    categories = frozenset(v for v in request.args.getlist("category") if v)
    places = frozenset(v for v in request.args.getlist("place") if v)
    return checked(FeedFilter(categories, places), published)


def refuse(published: Published, status: int, key: str, **blanks: object) -> NoReturn:
    """Stop the request with ``status`` and the message ``key`` of
    ``i18n.STRINGS``, in the calendar's language."""
    abort(status, description=message(published.calendar.language, key, **blanks))


def limit_of(published: Published, default: int, maximum: int) -> int:
    """The request's ``?limit=``, from 1 to ``maximum``; 400 for any other value."""
    text = request.args.get("limit", str(default))
    # isdigit() alone takes "²", which int() refuses.
    if not (text.isascii() and text.isdigit() and len(text) <= 4) or not 1 <= int(text) <= maximum:
        refuse(published, 400, "bad_limit", maximum=maximum, value=text[:40])
    return int(text)


def event_or_404(published: Published, event_id: str) -> Event:
    """The calendar's event with this id; 404 when it has none."""
    event = published.calendar.event(event_id)
    if event is None:
        refuse(published, 404, "no_event", id=event_id)
    return event


def checked(chosen: FeedFilter, published: Published) -> FeedFilter:
    calendar = published.calendar
    for slug in sorted(chosen.categories):
        if calendar.category(slug) is None:
            refuse(published, 404, "no_category", slug=slug)
    for slug in sorted(chosen.places):
        if calendar.place(slug) is None:
            refuse(published, 404, "no_place", slug=slug)
    return chosen


def now(published: Published) -> datetime:
    """The present minute (the start of the pinned ``TODAY`` in tests).

    Listings count "now" by the minute, so an answer made from it holds for
    the whole minute and is kept for it (``Published.kept``).
    """
    if current_app.config.get("TODAY"):
        return datetime.combine(today(published), time(), zone(published.calendar.timezone))
    return datetime.now(UTC).replace(second=0, microsecond=0)


def matches(header: str, body: Body) -> bool:
    """Whether an If-None-Match header names this body (weak comparison)."""
    if header.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return body.etag in tags or body.gzip_etag in tags


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0  # werkzeug applies q-values and "*"


def feed_response(
    body: Body, published: Published, content_type: str = CALENDAR_TYPE, filename: str | None = None
) -> Response:
    """A cacheable response for ``body``: 304 when the client has it already,
    gzip when asked, the same headers on every worker and machine."""
    gzipped = _accepts_gzip()
    last_modified = published.last_modified.replace(microsecond=0)
    headers = {
        "ETag": body.gzip_etag if gzipped else body.etag,
        "Last-Modified": http_date(last_modified),
        "Cache-Control": f"public, max-age={int(published.calendar.refresh.total_seconds())}",
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
    }
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:  # wins over If-Modified-Since (RFC 9110)
        not_modified = matches(if_none_match, body)
    else:
        since = request.if_modified_since
        not_modified = since is not None and last_modified <= since
    if not_modified:
        return Response(status=304, headers=headers)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
        return Response(body.gzipped, content_type=content_type, headers=headers)
    return Response(body.data, content_type=content_type, headers=headers)

"""QR codes (SVG, by segno) for noticeboards: a feed's subscribe address, or
an event's page."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, abort

from calfeed.published import Body, FeedFilter, Published
from calfeed.web.http import checked, current_calendar, feed_response, selection
from calfeed.web.links import page_url, subscribe_links

bp = Blueprint("qr", __name__)
SVG_TYPE = "image/svg+xml"


def qr_svg(text: str, title: str) -> bytes:
    """A QR code of ``text``, as a small standalone SVG."""
    code = segno.make(text, error="m")
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, xmldecl=False, title=title)
    return out.getvalue()


def qr_path(chosen: FeedFilter) -> str:
    """Where the QR code of a feed is served: its path under /qr, as .svg.

    >>> qr_path(FeedFilter(frozenset({"webinar"})))
    '/qr/categories/webinar.svg'
    """
    path, _, query = chosen.path().partition("?")
    return "/qr" + path.removesuffix(".ics") + ".svg" + (f"?{query}" if query else "")


def _feed_qr(published: Published, chosen: FeedFilter) -> Response:
    links = subscribe_links(published.calendar, chosen.path(), published.calendar.name)
    return feed_response(Body(qr_svg(links["webcal"], published.calendar.name)), published, SVG_TYPE)


@bp.get("/qr/calendar.svg")
def calendar_qr() -> Response:
    published = current_calendar()
    return _feed_qr(published, selection(published))


@bp.get("/qr/categories/<slug>.svg")
def category_qr(slug: str) -> Response:
    published = current_calendar()
    return _feed_qr(published, checked(FeedFilter(categories=frozenset({slug})), published))


@bp.get("/qr/places/<slug>.svg")
def place_qr(slug: str) -> Response:
    published = current_calendar()
    return _feed_qr(published, checked(FeedFilter(places=frozenset({slug})), published))


@bp.get("/events/<event_id>/qr.svg")
def event_qr(event_id: str) -> Response:
    published = current_calendar()
    event = published.calendar.event(event_id)
    if event is None:
        abort(404, description=f'No event "{event_id}" in this calendar.')
    return feed_response(Body(qr_svg(page_url(published.calendar, event.id), event.title)), published, SVG_TYPE)

"""/events.json: occurrences for partner sites' scripts, cached like the feeds."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, request

from calfeed import timezones
from calfeed.occurrences import HORIZON, Occurrence, last_day_of, listing, select
from calfeed.published import Published
from calfeed.web.http import current_calendar, feed_response, limit_of, now, refuse, selection, today
from calfeed.web.links import google_event_link, ics_url, page_url

bp = Blueprint("api", __name__)

DEFAULT_LIMIT, MAX_LIMIT = 50, 500


def _day(published: Published, name: str) -> date | None:
    text = request.args.get(name)
    if text is None:
        return None
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 2199:
        refuse(published, 400, "bad_day", name=name, value=text[:40])
    return day


def _moment(value: date | datetime) -> str:
    return value.isoformat()


def occurrence_json(occurrence: Occurrence, published: Published) -> dict[str, Any]:
    """One occurrence as partner sites read it."""
    calendar = published.calendar
    event = occurrence.event
    start, end = occurrence.start, occurrence.end
    if not isinstance(start, datetime):
        end = last_day_of(occurrence, timezones.zone(calendar.timezone))  # as in events.toml
    place = event.place
    return {
        "id": event.id,
        "uid": event.uid,
        "title": event.title,
        "start": _moment(start),
        "end": _moment(end) if end is not None else None,
        "all_day": not isinstance(start, datetime),
        "status": event.status,
        "categories": [c.name for c in event.categories],
        "place": {
            "slug": place.slug, "name": place.name, "address": place.address,
            "geo": list(place.geo) if place.geo else None,
        } if place else None,
        "location": event.location_text,
        "url": event.url,
        "online": list(event.online),
        "page_url": page_url(calendar, event.id),
        "ics_url": ics_url(calendar, event.id),
        "google_url": google_event_link(occurrence, calendar, page_url(calendar, event.id)),
    }


def occurrences_body(
    published: Published, events, after: datetime, before: datetime, limit: int, ongoing: bool, daily: bool = False
) -> bytes:
    """The JSON document; ``daily`` for a listing from the present moment (``listing``)."""
    zone = timezones.zone(published.calendar.timezone)
    found = listing(events, after, before, zone, limit, ongoing, daily)
    document = {"events": [occurrence_json(o, published) for o in found]}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


@bp.get("/events.json")
def events_json() -> Response:
    published = current_calendar()
    chosen = selection(published)
    limit = limit_of(published, DEFAULT_LIMIT, MAX_LIMIT)
    first, last = _day(published, "from"), _day(published, "to")
    zone = timezones.zone(published.calendar.timezone)
    daily = first is None and last is None  # from now on: asked again every minute
    if daily:
        after, ongoing = now(published), True
        before = after + HORIZON
    else:
        first = first or today(published)
        last = last or first + HORIZON
        if last < first:
            refuse(published, 400, "bad_range", last=last, first=first)
        after, ongoing = datetime.combine(first, time(), zone), False
        before = datetime.combine(last + timedelta(days=1), time(), zone)

    def answer() -> bytes:
        events = select(published.calendar, chosen.categories, chosen.places)
        return occurrences_body(published, events, after, before, limit, ongoing, daily)

    body = published.kept(("events.json", chosen, after, before, limit, ongoing), answer)
    return feed_response(body, published, content_type="application/json")

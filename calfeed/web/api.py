"""/events.json: occurrences for partner sites' scripts, cached like the feeds."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, request

from calfeed import timezones
from calfeed.occurrences import HORIZON, Entry, Occurrence, entries, last_day_of, listing, select
from calfeed.published import Published
from calfeed.web.http import current_calendar, feed_response, limit_of, now, refuse, selection, today
from calfeed.web.i18n import STRINGS, rule_words, strings
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


def entry_json(entry: Entry, published: Published) -> dict[str, Any]:
    """An event listed once: its date shown, and a series' rule in words in
    every language calfeed speaks (a partner's page may speak either)."""
    zone = timezones.zone(published.calendar.timezone)
    found = occurrence_json(entry.next, published)
    found["repeats"] = {
        language: rule_words(entry.event, zone, language) or strings(language)["list_repeats"] for language in STRINGS
    } if entry.event.recurrence else None
    return found


def _dumped(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def occurrences_body(
    published: Published, events, after: datetime, before: datetime, limit: int, ongoing: bool, daily: bool = False
) -> bytes:
    """The JSON document; ``daily`` for a listing from the present moment (``listing``)."""
    zone = timezones.zone(published.calendar.timezone)
    found = listing(events, after, before, zone, limit, ongoing, daily)
    return _dumped({"events": [occurrence_json(o, published) for o in found]})


def entries_body(published: Published, events, after: datetime, before: datetime, limit: int) -> bytes:
    """``?series=once``: each event once, as ``/`` and ``/embed`` list them,
    with the calendar's zone to write their dates in."""
    calendar = published.calendar
    found = entries(events, after, before, timezones.zone(calendar.timezone), limit)
    return _dumped({"events": [entry_json(e, published) for e in found], "timezone": calendar.timezone})


def _once(published: Published) -> bool:
    text = request.args.get("series", "every")
    if text not in ("every", "once"):
        refuse(published, 400, "wc_bad_series", value=text[:40])
    return text == "once"


@bp.get("/events.json")
def events_json() -> Response:
    published = current_calendar()
    chosen = selection(published)
    limit = limit_of(published, DEFAULT_LIMIT, MAX_LIMIT)
    once = _once(published)
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
        if once:
            return entries_body(published, events, after, before, limit)
        return occurrences_body(published, events, after, before, limit, ongoing, daily)

    body = published.kept(("events.json", chosen, after, before, limit, ongoing, once), answer)
    return feed_response(body, published, content_type="application/json")

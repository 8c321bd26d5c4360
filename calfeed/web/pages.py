"""The HTML pages: upcoming and past events, one event, and the embed."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from types import SimpleNamespace
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from functools import lru_cache
from itertools import groupby
from typing import NamedTuple

from babel.dates import format_date
from flask import Blueprint, Response, current_app, render_template, request
from markupsafe import Markup

from calfeed import timezones
from calfeed.model import Event
from calfeed.occurrences import HORIZON, Entry, Occurrence, Selection, ended, entries, expand, last_day_of, local_day, naive, select
from calfeed.published import Body, FeedFilter, Published
from calfeed.web import component
from calfeed.web.http import current_calendar, event_or_404, feed_response, limit_of, now, selection
from calfeed.web.proposals import proposals_open
from calfeed.web.hues import CSS as HUE_CSS, hue
from calfeed.web.qr import qr_path
from calfeed.web.i18n import clock, hours, long_date, rule_words, strings, when
from calfeed.web.links import (
    google_event_link,
    map_link,
    outlook_event_link,
    page_url,
    subscribe_links,
)

bp = Blueprint("pages", __name__)

PAGE_LIMIT, HOME_LIMIT, EMBED_LIMIT, NEXT_DATES = 100, 30, 10, 10
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")


SERVICES = {"youtube": "YouTube", "youtu": "YouTube", "facebook": "Facebook", "zoom": "Zoom", "meet": "Google Meet", "teams": "Microsoft Teams", "jit": "Jitsi Meet", "instagram": "Instagram"}


def service_name(url: str) -> str:
    """A button label for a streaming or meeting link.

    >>> service_name("https://www.youtube.com/@labsus"), service_name("https://example.org/live")
    ('YouTube', 'example.org')
    """
    host = url.split("/")[2].removeprefix("www.")
    return SERVICES.get(host.split(".")[0], host)


@lru_cache(maxsize=256)  # an event's page and its printable page show the same: a build makes both in turn
def paragraphs(text: str | None) -> Markup:
    """Plain text as HTML paragraphs, with its web addresses made links."""
    if not text:
        return Markup("")
    blocks = [block.strip() for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    out = []
    for block in blocks:
        escaped = html.escape(block)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        out.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return Markup("\n".join(out))


@lru_cache(maxsize=8192)  # a site has a few thousand days, and Babel takes ~7 µs a part
def date_block(day: date, language: str) -> tuple[str, str, str]:
    """A day as the pages' date blocks show it: weekday, day number and
    month, the names abbreviated as CLDR writes them.

    >>> date_block(date(2021, 12, 1), "it"), date_block(date(2021, 12, 1), "en")
    (('mer', '1', 'dic'), ('Wed', '1', 'Dec'))
    """
    return tuple(format_date(day, part, locale=language) for part in ("EEE", "d", "MMM"))


def _days(found: list[Entry], published: Published) -> list[tuple[str, list[Entry]]]:
    zone = timezones.zone(published.calendar.timezone)
    language = published.calendar.language
    return [
        (long_date(key, language), list(group)) for key, group in groupby(found, key=lambda e: local_day(e.next.start, zone))
    ]


def end_value(occurrence: Occurrence, zone: tzinfo) -> str | None:
    """An occurrence's end for machines (JSON-LD, microformats): the instant,
    or for an all-day one its last day, as events.toml writes it; None
    without an end."""
    end = occurrence.end
    if end is None:
        return None
    return (end if isinstance(end, datetime) else last_day_of(occurrence, zone)).isoformat()


@lru_cache(maxsize=None)  # a few languages; made once, not for each of a build's 20,000 pages
def _strings(language: str) -> SimpleNamespace:
    # Attributes, not a dict: {{ t.copy }} must not find dict.copy.
    return SimpleNamespace(**strings(language))


def page_context(published: Published, **extra) -> dict:
    calendar = published.calendar
    zone = timezones.zone(calendar.timezone)
    return {
        "calendar": calendar,
        "t": _strings(calendar.language),
        "lang": calendar.language,
        "when": lambda occurrence: when(occurrence, zone, calendar.language),
        "hours": lambda occurrence: hours(occurrence, zone, calendar.language),
        "clock": lambda occurrence: clock(occurrence.start.astimezone(zone), calendar.language),
        "end_value": lambda occurrence: end_value(occurrence, zone),
        # A series' rule in words, else that it repeats (its next date is beside it).
        "repeats": lambda event: rule_words(event, zone, calendar.language) or strings(calendar.language)["list_repeats"],
        "service_name": service_name,
        "block": lambda occurrence: date_block(local_day(occurrence.start, zone), calendar.language),
        "hue": hue,
        "hue_css": HUE_CSS,
        **extra,
    }


def _filter_name(published: Published, chosen: FeedFilter) -> str:
    names = [c.name for c in published.calendar.categories if c.slug in chosen.categories]
    names += [p.name for p in published.calendar.places if p.slug in chosen.places]
    return f"{published.calendar.name}: {' + '.join(names)}" if names else published.calendar.name


def _upcoming(published: Published, chosen: FeedFilter, limit: int) -> list[Entry]:
    """The first ``limit`` events to come, each once (a series at its next date)."""
    events = select(published.calendar, chosen.categories, chosen.places)
    after = now(published)
    return entries(events, after, after + HORIZON, timezones.zone(published.calendar.timezone), limit)


def kept_page(published: Published, page: tuple, moment: datetime | date, make: Callable[[], str]) -> Response:
    """The page ``make`` renders, made once per version for ``page`` (the
    view and its arguments: ``calfeed build`` asks every page in one request
    context), this request's query (the links carry it), the proposals'
    state and ``moment`` (the minute, or the day, the page depends on)."""
    key = ("page", *page, request.query_string, proposals_open(), moment)
    body = published.kept(key, lambda: make().encode())
    return Response(body.data, content_type="text/html; charset=utf-8")


@bp.get("/")
def index() -> Response:
    """Upcoming events by day, the filters, and the ways to subscribe."""
    published = current_calendar()
    chosen = selection(published)
    path = chosen.path()
    query = request.query_string.decode("utf-8", "replace")
    embed_src = published.calendar.base_url + "/embed" + (f"?{query}" if query else "")
    return kept_page(published, ("index",), now(published), lambda: render_template(
        "index.html",
        **page_context(
            published,
            days=_days(_upcoming(published, chosen, HOME_LIMIT), published),
            once=True,
            chosen=chosen,
            links=subscribe_links(published.calendar, path, _filter_name(published, chosen)),
            qr_src=qr_path(chosen),
            category_feeds=[
                ("category", c, subscribe_links(published.calendar, f"/categories/{c.slug}.ics", f"{published.calendar.name}: {c.name}"))
                for c in published.calendar.categories
            ],
            place_feeds=[
                ("place", p, subscribe_links(published.calendar, f"/places/{p.slug}.ics", f"{published.calendar.name}: {p.name}"))
                for p in published.calendar.places
            ],
            component_code=component.snippet(published.calendar, chosen, query, _filter_name(published, chosen)),
            component_preview=Markup(component.element("/", chosen, published.calendar.language, "/" + (f"?{query}" if query else ""), _filter_name(published, chosen))),
            component_script=Markup(component.script_tag(component.PATH)),
            embed_code=f'<iframe src="{html.escape(embed_src)}" title="{html.escape(_filter_name(published, chosen))}" width="100%" height="480" style="border:0"></iframe>',
        ),
    ))


@bp.get("/past")
def past() -> Response:
    """Events that have ended, the most recent first."""
    published = current_calendar()
    chosen = selection(published)
    moment = now(published)

    def page() -> str:
        events = select(published.calendar, chosen.categories, chosen.places)
        found = ended(events, moment, timezones.zone(published.calendar.timezone), PAGE_LIMIT)
        # Every ended date, a series' too: what took place, not what repeats.
        days = _days([Entry(o.event, o) for o in found], published)
        return render_template("past.html", **page_context(published, days=days, chosen=chosen, once=False))

    return kept_page(published, ("past",), moment, page)


def _part(published: Published, name: str) -> Markup:
    """A template part that every event page of this version shows alike
    (the masthead, the feeds' links): rendered once, not for each of a
    build's 20,000 pages (a quarter of an event page's rendering)."""
    body = published.kept(("part", name, proposals_open()), lambda: render_template(name, **page_context(published)).encode())
    return Markup(body.data.decode())


class _Showing(NamedTuple):
    """What an event's page and its printable page show alike."""

    shown: Occurrence  # the date shown: the next one, else the last
    upcoming: tuple[Occurrence, ...]  # the next dates
    when: str  # the shown date in words
    summary: str  # the same with the place after it: the pages' description
    description: Markup  # the event's description, as paragraphs


def _showing(event: Event, published: Published) -> _Showing:
    calendar = published.calendar
    return _shown(event, now(published), timezones.zone(calendar.timezone), calendar.language)


@lru_cache(maxsize=256)  # an event's page and its printable page show the same: a build makes both in turn
def _shown(event: Event, moment: datetime, zone: tzinfo, language: str) -> _Showing:
    upcoming = tuple(expand(event, moment, moment + HORIZON, zone, NEXT_DATES + 1))
    if upcoming:
        shown = upcoming[0]
    elif event.recurrence is None:  # its one date, over or beyond the horizon: no walk back needed
        shown = Occurrence(event, event.start, event.end)
    else:
        latest = ended(Selection((event,)), moment, zone, 1)
        shown = latest[0] if latest else Occurrence(event, event.start, event.end)
    words = when(shown, zone, language)
    where = shown.event.location_text
    return _Showing(shown, upcoming, words, f"{words} — {where}" if where else words, paragraphs(shown.event.description))


def _render(name: str, published: Published, **extra: object) -> str:
    """A page rendered by Jinja alone, without Flask's context processors:
    the event pages use nothing they add (the request, ``g``, the proposals
    link, which only the masthead shows, rendered apart), and running them
    was a sixth of a page's rendering, which a build does 20,000 times."""
    return current_app.jinja_env.get_template(name).render(page_context(published, **extra))


_SCHEMA = "https://schema.org/"
# "Via Agliè 9, 10154 Torino": the street, then a postal code and a town.
_POSTAL = re.compile(r"^(?P<street>.+),\s*(?P<code>\d{4,6})\s+(?P<town>[^,\d][^,]*)$")


@lru_cache(maxsize=1024)  # a place's address is on each of its events' pages
def postal_address(text: str) -> dict:
    """A schema.org PostalAddress from an address written on one line: the
    street, postal code and town when it ends in "<code> <town>", else the
    whole text as the street (one dict for equal texts: never change it).

    >>> postal_address("Via Agliè 9, 10154 Torino")["addressLocality"]
    'Torino'
    >>> postal_address("Parco Dora, ingresso di via Borgaro")["streetAddress"]
    'Parco Dora, ingresso di via Borgaro'
    """
    line = " ".join(text.split())
    match = _POSTAL.match(line)
    if match is None:
        return {"@type": "PostalAddress", "streetAddress": line}
    return {
        "@type": "PostalAddress",
        "streetAddress": match["street"],
        "postalCode": match["code"],
        "addressLocality": match["town"],
    }


def _locations(event: Event) -> list[dict]:
    """Where the event is, for search engines: the place (or free-text
    location) as a Place with its address, then its online link."""
    found = []
    if event.place:
        place = {"@type": "Place", "name": event.place.name, "address": postal_address(event.place.address or event.place.name)}
        if event.place.geo:
            place["geo"] = {"@type": "GeoCoordinates", "latitude": event.place.geo[0], "longitude": event.place.geo[1]}
        if event.place.url:
            place["url"] = event.place.url
        found.append(place)
    elif event.location:
        found.append({"@type": "Place", "name": event.location, "address": postal_address(event.location)})
    if event.online:
        found.append({"@type": "VirtualLocation", "url": event.online[0]})
    return found


def _json_ld(occurrence: Occurrence, published: Published, url: str) -> Markup:
    """The schema.org Event of the date the page shows, with what Google's
    event results ask for: a moved date is EventRescheduled with its
    previousStartDate; place and online link give the attendance mode."""
    event = occurrence.event
    zone = timezones.zone(published.calendar.timezone)
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "startDate": occurrence.start.isoformat(),
        "url": url,
        "eventStatus": _SCHEMA + "EventScheduled",
    }
    original = event.recurrence_id
    if event.status == "cancelled":
        data["eventStatus"] = _SCHEMA + "EventCancelled"
    elif original is not None and naive(original) != naive(occurrence.start):
        data["eventStatus"] = _SCHEMA + "EventRescheduled"
        data["previousStartDate"] = original.isoformat()
    if occurrence.end:  # an all-day event's endDate is its last day
        data["endDate"] = end_value(occurrence, zone)
    locations = _locations(event)
    physical = any(place["@type"] == "Place" for place in locations)
    if locations:
        data["location"] = locations[0] if len(locations) == 1 else locations
        mode = "Mixed" if physical and event.online else "Online" if event.online else "Offline"
        data["eventAttendanceMode"] = f"{_SCHEMA}{mode}EventAttendanceMode"
    if event.description:
        data["description"] = event.description.strip()
    if event.image:
        data["image"] = [event.image]
    if event.organizer and event.organizer.name:
        data["organizer"] = {"@type": "Organization", "name": event.organizer.name}
    # No "<" at all inside the script element: "</script>" would end it early,
    # and "<!--<script" (typed in a title) would make the parser swallow the page.
    return Markup(json.dumps(data, ensure_ascii=False).replace("<", "\\u003c"))


@bp.get("/events/<event_id>")
def event_page(event_id: str) -> str:
    """One event, as an events site shows it."""
    published = current_calendar()
    calendar = published.calendar
    event = event_or_404(published, event_id)
    showing = _showing(event, published)
    shown = showing.shown
    url = page_url(calendar, event.id)
    zone = timezones.zone(calendar.timezone)
    return _render(
        "event.html",
        published,
        event=shown.event,
        shown=shown,
        # Worked out here, not called from the template: a call there costs
        # Jinja's checks of the function each time.
        datebox=date_block(local_day(shown.start, zone), calendar.language),
        start_value=shown.start.isoformat(),
        end=end_value(shown, zone),
        shown_when=showing.when,
        summary=showing.summary,
        masthead=_part(published, "_masthead.html"),
        alternates=_part(published, "_alternates.html"),
        next_dates=showing.upcoming if event.recurrence else (),
        page_url=url,
        ics_url=f"/events/{event.id}.ics",
        google_url=google_event_link(shown, calendar, url),
        outlook_url=outlook_event_link(shown, url),
        map_url=map_link(*event.place.geo) if event.place and event.place.geo else None,
        description=showing.description,
        json_ld=_json_ld(shown, published, url),
        rule=rule_words(event, zone, calendar.language),
    )


@bp.get("/events/<event_id>/print")
def print_page(event_id: str) -> str:
    """An A4 page for a neighbourhood house's noticeboard, with a QR code."""
    published = current_calendar()
    showing = _showing(event_or_404(published, event_id), published)
    return _render(
        "print.html",
        published,
        event=showing.shown.event,
        shown=showing.shown,
        shown_when=showing.when,
        summary=showing.summary,
        description=showing.description,
        alternates=_part(published, "_alternates.html"),
    )


STATIC = Path(__file__).parent.parent / "static"
SCRIPT = Body((STATIC / "calfeed.js").read_bytes())
ICON = Body((STATIC / "favicon.svg").read_bytes())


@bp.get("/static/calfeed.js")
def script() -> Response:
    """The copy buttons' script (the pages work without it)."""
    return feed_response(SCRIPT, current_calendar(), "text/javascript; charset=utf-8")


@bp.get("/favicon.svg")
def icon() -> Response:
    """The tab's icon; every page links it, so browsers do not ask for a
    missing ``/favicon.ico`` (a 404 in the console of every page)."""
    return feed_response(ICON, current_calendar(), "image/svg+xml")


@bp.get("/embed")
def embed() -> Response:
    """A small list for partner sites' iframes; with ``?propose=1`` a link
    to the proposals form too, while it takes proposals."""
    published = current_calendar()
    chosen = selection(published)
    limit = limit_of(published, EMBED_LIMIT, PAGE_LIMIT)
    propose = request.args.get("propose") == "1" and proposals_open()

    def answer() -> bytes:
        found = _upcoming(published, chosen, limit)
        return render_template("embed.html", **page_context(published, found=found, chosen=chosen, propose=propose)).encode()

    body = published.kept(("embed", chosen, limit, now(published), propose), answer)
    return Response(body.data, content_type="text/html; charset=utf-8")

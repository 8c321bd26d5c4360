"""The site's pages as bytes without HTTP, for ``calfeed build``: the build
asks for a URL path and gets what the app answers for it, so the build itself
knows nothing of Flask and cannot drift from the server."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, timedelta

from flask import Flask
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from calfeed.model import Calendar, Event
from calfeed.published import Published
from calfeed.web import component, discovery, pages, qr, syndication
from calfeed.web.links import page_url
from calfeed.web.month import month_range

MAX_MONTHS = 240


class Site:
    """The app's pages, rendered by the code a request runs, minus the request.

    Pages are asked for inside ``rendering()``: one request context for "/"
    serves them all (the build's pages have no query string), where the test
    client cost about a millisecond a page.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.today = date.fromisoformat(str(app.config["TODAY"]))
        self._urls = app.url_map.bind("localhost")

    @contextmanager
    def rendering(self) -> Iterator[Published]:
        """Inside: the calendar the pages show; the feeds share the items of
        events in several of them."""
        with self.app.test_request_context("/"), syndication.sharing():
            yield self.app.extensions["calfeed"].current()

    def paths(self, calendar: Calendar) -> list[str]:
        """Every page, JSON, image, RSS and Atom URL of the site but the
        iCalendar feeds and each event's files, which the build asks for apart."""
        paths = ["/", "/past", "/embed", "/events.json", "/month", "/qr/calendar.svg", "/static/calfeed.js", "/favicon.svg", component.PATH]
        paths += ["/sitemap.xml", discovery.LISTS_PATH, "/robots.txt", "/feed.rss", "/feed.atom"]
        paths += [discovery.events_path(number) for number in range(1, discovery.events_sitemaps(calendar) + 1)]
        paths += [f"/{family}/{s.slug}.{kind}" for family, found in (("categories", calendar.categories), ("places", calendar.places)) for s in found for kind in ("rss", "atom")]
        paths += self._months(calendar)
        paths += [f"/qr/categories/{c.slug}.svg" for c in calendar.categories]
        paths += [f"/qr/places/{p.slug}.svg" for p in calendar.places]
        return paths

    def _months(self, calendar: Calendar) -> list[str]:
        """The month pages the month view links to."""
        first, last = month_range(calendar, self.today)
        found = []
        while first <= last and len(found) < MAX_MONTHS:
            found.append(f"/month/{first:%Y-%m}")
            first = (first + timedelta(days=32)).replace(day=1)
        return found

    def page(self, path: str) -> bytes:
        """The body the app answers for ``path``."""
        endpoint, arguments = self._urls.match(path, method="GET")
        return self._body(self.app.view_functions[endpoint](**arguments))

    def not_found(self) -> bytes:
        """The page the app answers for an unknown path."""
        return self._body(self.app.handle_user_exception(NotFound()))

    # An event's files come from the functions its views answer with: a
    # view's response headers, which a static file does not keep, cost as
    # much as the page.
    def event_page(self, event: Event) -> bytes:
        return pages.event_page(event.id).encode()

    def print_page(self, event: Event) -> bytes:
        return pages.print_page(event.id).encode()

    def event_qr(self, calendar: Calendar, event: Event) -> bytes:
        return qr.event_qr_svg(calendar, event)

    def event_url(self, calendar: Calendar, event: Event) -> str:
        """The address an event's QR code holds."""
        return page_url(calendar, event.id)

    def settings(self) -> Mapping[str, object]:
        """The app's settings: what, besides the calendar and the day, the
        pages may depend on (``buildcache`` keys the pages by them)."""
        return self.app.config

    def _body(self, answer: ResponseReturnValue) -> bytes:
        return self.app.make_response(answer).get_data()

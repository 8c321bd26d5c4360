"""The feeds' fast path: calendar apps' polls answered without Flask's request
machinery, with the status, headers and body Flask gave the same question.

Thousands of calendar apps poll the same few URLs every few hours, so for
``/calendar.ics``, ``/categories/<slug>.ics`` and ``/places/<slug>.ics``
(no query string, GET) each distinct answer — this version's body, gzip or
not, 200 or 304 — is made once by the Flask views and then replayed. Anything
else (a query, HEAD, If-Modified-Since alone, q-values in Accept-Encoding, an
unknown slug) goes to Flask, which stays the one place answers are defined.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from threading import Lock
from weakref import WeakKeyDictionary

from flask import Flask

from calfeed.published import Body, FeedFilter, Published
from calfeed.web.http import matches, pinned_today

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


@dataclass(frozen=True)
class Reply:
    etag: str  # of the body it was made for: a feed's body changes with the day
    status: str
    headers: list[tuple[str, str]]
    body: bytes


def _feed_filter(path: str, published: Published) -> FeedFilter | None:
    """The filter a plain feed path names; None for any other path or a slug
    the calendar lacks (Flask answers those)."""
    if path == "/calendar.ics":
        return FeedFilter()
    family, _, name = path[1:].partition("/")
    if not name.endswith(".ics") or "/" in name:
        return None
    slug = name[:-4]
    calendar = published.calendar
    if family == "categories" and calendar.category(slug) is not None:
        return FeedFilter(categories=frozenset({slug}))
    if family == "places" and calendar.place(slug) is not None:
        return FeedFilter(places=frozenset({slug}))
    return None


def _gzip_wanted(header: str | None) -> bool | None:
    """Whether Accept-Encoding asks for gzip; None when it carries q-values,
    which only werkzeug's full parser weighs."""
    if not header:
        return False
    if ";" in header:
        return None
    codings = {coding.strip().lower() for coding in header.split(",")}
    return "gzip" in codings or "*" in codings


class FeedFastPath:
    """WSGI middleware in front of the Flask app (``app.wsgi_app``)."""

    def __init__(self, app: Flask, flask_wsgi: WSGIApp):
        self.app = app
        self.flask_wsgi = flask_wsgi
        self._replies: WeakKeyDictionary[Published, dict[tuple, Reply]] = WeakKeyDictionary()
        self._lock = Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        question = self._question(environ)
        if question is None:
            return self.flask_wsgi(environ, start_response)
        published, key, etag = question
        reply = self._replies.get(published, {}).get(key)
        if reply is None or reply.etag != etag:
            return self._ask_flask(environ, start_response, published, key, etag)
        start_response(reply.status, list(reply.headers))
        return [reply.body]

    def _question(self, environ: dict) -> tuple[Published, tuple, str] | None:
        """What a plain feed request asks: the version, a key for its reply
        (one per path, encoding and status, so the replies kept stay few), and
        the ETag its body has today; None when Flask must answer it."""
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
            return None
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is None and "HTTP_IF_MODIFIED_SINCE" in environ:
            return None
        gzipped = _gzip_wanted(environ.get("HTTP_ACCEPT_ENCODING"))
        if gzipped is None:
            return None
        path = environ.get("PATH_INFO", "")
        published = self.app.extensions["calfeed"].current()
        chosen = _feed_filter(path, published)
        if chosen is None:
            return None
        body: Body = published.feed(chosen, pinned_today(self.app.config, published))
        not_modified = if_none_match is not None and matches(if_none_match, body)
        etag = body.gzip_etag if gzipped else body.etag
        return published, (path, gzipped, not_modified), etag

    def _ask_flask(
        self, environ: dict, start_response: Callable, published: Published, key: tuple, etag: str
    ) -> Iterable[bytes]:
        """Answer through Flask, keeping the answer when it is a feed's."""
        answered: list = []

        def remember(status: str, headers: list[tuple[str, str]], exc_info=None):
            answered[:] = [status, list(headers)]
            return start_response(status, headers, exc_info)

        chunks = self.flask_wsgi(environ, remember)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status, headers = answered
        # Flask may have reloaded a newer version meanwhile: keep only this one's answer.
        if status.startswith(("200 ", "304 ")) and ("ETag", etag) in headers:
            with self._lock:
                self._replies.setdefault(published, {})[key] = Reply(etag, status, headers, body)
        return [body]

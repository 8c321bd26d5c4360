"""Nothing a client can send breaks the service or reads what it should not:
headers on pages, no stack traces, and a fuzz of generated requests."""

from __future__ import annotations

import socket
import threading
from urllib.parse import quote
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder, run_wsgi_app

from conftest import SAMPLE, Page
from calfeed import create_app


@pytest.fixture(scope="module")
def client():
    return create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"}).test_client()


@pytest.mark.parametrize("url", ["/", "/past", "/events/generare-prossimita", "/month/2021-12", "/nope"])
def test_pages_carry_a_policy_and_cannot_be_framed(client, url):
    headers = client.get(url).headers
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_partner_sites_may_frame_the_embed(client):
    headers = client.get("/embed").headers
    assert "frame-ancestors *" in headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in headers


def test_feeds_and_json_are_not_sniffed(client):
    for url in ("/calendar.ics", "/events.json", "/qr/calendar.svg"):
        assert client.get(url).headers["X-Content-Type-Options"] == "nosniff"


def test_an_unexpected_error_shows_no_stack_trace(monkeypatch):
    app = create_app({"EVENTS": str(SAMPLE)})
    assert not app.debug

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr("calfeed.web.pages.render_template", broken)
    response = app.test_client().get("/")
    assert response.status_code == 500
    assert b"secret detail" not in response.data and b"Traceback" not in response.data


# --- bytes that are not UTF-8 -------------------------------------------------


def wsgi_get(app, path: str, raw_query: bytes) -> tuple[int, bytes]:
    """A GET through the app's WSGI callable with the query's raw bytes in
    QUERY_STRING as PEP 3333 says servers pass them: one character each (latin-1)."""
    environ = EnvironBuilder(path=path).get_environ()
    environ["QUERY_STRING"] = raw_query.decode("latin-1")
    body, status, _ = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), b"".join(body)


@pytest.mark.parametrize("path", ["/", "/past", "/embed", "/month", "/events.json", "/calendar.ics", "/qr/calendar.svg", "/nope"])
@pytest.mark.parametrize("raw", [b"category=\xff\xfe", b"limit=\xe9", b"x=caf\xe9&category=webinar"])
def test_a_query_of_bytes_that_are_not_utf8_is_a_bad_request(client, path, raw):
    status, body = wsgi_get(client.application, path, raw)
    assert status == 400, (path, raw)
    if path == "/events.json":
        assert b"UTF-8" in body
    else:
        assert "400 Richiesta non valida" in Page(body).text


def test_wsgiref_passes_raw_bytes_and_gets_a_400(client):
    """The standard library's server hands the raw bytes of the request line to
    the app, where gunicorn would have refused them first."""

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", 0, client.application, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as connection:
            connection.sendall(b"GET /?category=caf\xe9 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert answer.startswith(b"HTTP/1.0 400 "), answer[:200]


# --- generated requests -------------------------------------------------------

SEGMENTS = st.sampled_from([
    "", "calendar.ics", "events", "categories", "places", "qr", "month", "embed", "past", "static",
    "healthz", "events.json", "generare-prossimita", "generare-prossimita.ics", "webinar.ics", "..", ".",
    "%2e%2e", "%2F", "..%2f..%2fetc%2fpasswd", "etc", "passwd", "2021-12", "9999-99", "print", "qr.svg",
    "%00", "%ff%fe", "calfeed.js", "wsgi.py", "events.toml", "~root", "a" * 300, "calendar.svg",
    "feed.rss", "feed.atom", "webinar.rss", "bagni-pubblici.atom", "sitemap.xml", "robots.txt",
    "sitemap-events-1.xml", "sitemap-events-01.xml",
])
# Whole paths of the site, so that the fuzz reaches each view with its queries.
PATHS = st.sampled_from(["/", "/past", "/embed", "/month", "/month/2021-12", "/events.json", "/calendar.ics",
                         "/qr/calendar.svg", "/feed.rss", "/events/generare-prossimita", "/nope.json",
                         "/feed.atom", "/categories/webinar.rss", "/places/bagni-pubblici.atom", "/sitemap.xml", "/robots.txt",
                         "/sitemap-pages.xml", "/sitemap-events-1.xml"])
# The fuzz's calendar has 60 categories more, with long names: enough of them
# in one filter make a feed address too long for a QR code.
LONG_NAMES = [f"Categoria numero {n} per provare i codici QR" for n in range(60)]
LONG_SLUGS = [f"categoria-numero-{n}-per-provare-i-codici-qr" for n in range(60)]
KEYS = st.sampled_from(["category", "place", "from", "to", "limit", "x", "category[]", ""])
VALUES = st.one_of(
    st.sampled_from(["webinar", "bagni-pubblici", "2021-12-01", "2021-02-30", "-1", "0", "500", "501",
                     "99999999999999999999", "9" * 5000, "²", "٣", "", "%00", "%ff", "../../etc/passwd", "x" * 5000]),
    st.text(max_size=40),
)
# Pieces of /etc/passwd, of events.toml and of the code: a page may only show
# one when the request itself carried it (a 404 names what was asked for).
SECRETS = (b"root:x:0:0", b"[calendar]", b"[[events]]", b"import sys")
METHODS = st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "PROPFIND"])
HEADERS = st.dictionaries(
    st.sampled_from(["If-None-Match", "If-Modified-Since", "Accept-Encoding", "Range", "Accept-Language", "Cookie", "X-Forwarded-For"]),
    st.one_of(st.sampled_from(['"x"', "*", "W/", "gzip;q=abc", "Mon, 99 Foo 2021", "bytes=0-1,5-", ""]), st.text(
        st.characters(min_codepoint=32, max_codepoint=126), max_size=60)),
    max_size=3,
)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    """The sample calendar with 60 long categories more."""
    path = tmp_path_factory.mktemp("fuzz") / "events.toml"
    extra = "".join(
        f'\n[[events]]\nid = "lunga-{n}"\ntitle = "L{n}"\nstart = 2022-01-01T10:00:00\ncategories = ["{name}"]\n'
        for n, name in enumerate(LONG_NAMES)
    )
    path.write_text(SAMPLE.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return create_app({"EVENTS": str(path), "TODAY": "2021-11-25"})


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    path=st.one_of(st.lists(SEGMENTS, max_size=5).map(lambda s: "/" + "/".join(s).lstrip("/")), PATHS),  # no "//x"
    query=st.lists(st.tuples(KEYS, VALUES), max_size=6),
    filters=st.integers(0, len(LONG_SLUGS)),
    raw=st.lists(st.tuples(KEYS, st.binary(max_size=8)), max_size=2),
    method=METHODS,
    headers=HEADERS,
)
@example(path="/", query=[("category", "[calendar]")], filters=0, raw=[], method="GET", headers={})  # echoed by the 404, not leaked
@example(path="/qr/calendar.svg", query=[], filters=60, raw=[], method="GET", headers={})  # too long for a QR code
@example(path="/", query=[], filters=0, raw=[("x", b"\xff")], method="GET", headers={})  # not UTF-8
def test_no_generated_request_gets_a_server_error(fuzzed, path, query, filters, raw, method, headers):
    """Requests go through a WSGI environ as servers make it (the test client
    would encode the query): ``raw`` values are bytes put there unquoted."""
    pairs = query + [("category", slug) for slug in LONG_SLUGS[:filters]]
    query_string = "&".join([f"{quote(k)}={quote(v)}" for k, v in pairs] + [f"{quote(k)}=" + v.decode("latin-1") for k, v in raw])
    environ = EnvironBuilder(path=path, method=method, headers=headers).get_environ()
    environ["QUERY_STRING"] = query_string
    chunks, status, _ = run_wsgi_app(fuzzed, environ, buffered=True)
    code = int(status.split()[0])
    assert code < 500, (method, path, query_string, headers)
    body = b"".join(chunks)
    asked = " ".join([path, *(f"{k}={v}" for k, v in query), *(v.decode("latin-1") for _, v in raw), *headers.values()]).encode()
    leaked = [secret for secret in SECRETS if secret in body and secret not in asked]
    assert not leaked, (method, path, query_string, headers)


def test_filter_combinations_cannot_grow_the_cache_without_bound(write_events):
    from calfeed.published import FEED_CACHE_SIZE

    categories = "\n".join(f'[[events]]\nid = "e{n}"\ntitle = "E"\nstart = 2030-01-01\ncategories = ["c{n}"]\n' for n in range(12))
    app = create_app({"EVENTS": str(write_events(categories)), "TODAY": "2029-12-01"})
    client = app.test_client()
    served = 0
    for a in range(12):
        for b in range(12):
            for c in range(0, 12, 4):
                if client.get(f"/calendar.ics?category=c{a}&category=c{b}&category=c{c}").status_code == 200:
                    served += 1
    assert served == 12 * 12 * 3
    assert len(app.extensions["calfeed"].current()._feeds) <= FEED_CACHE_SIZE


def test_huge_queries_are_refused_or_bounded(client):
    long_value = "x" * 100_000
    assert client.get(f"/calendar.ics?category={long_value}").status_code == 404
    assert client.get("/events.json?limit=" + "9" * 5000).status_code == 400
    many = "&".join(["category=webinar"] * 5000)
    assert client.get(f"/events.json?{many}").status_code == 200

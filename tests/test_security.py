"""Nothing a client can send breaks the service or reads what it should not:
headers on pages, no stack traces, and a fuzz of generated requests."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import SAMPLE
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


# --- generated requests -------------------------------------------------------

SEGMENTS = st.sampled_from([
    "", "calendar.ics", "events", "categories", "places", "qr", "month", "embed", "past", "static",
    "healthz", "events.json", "generare-prossimita", "generare-prossimita.ics", "webinar.ics", "..", ".",
    "%2e%2e", "%2F", "..%2f..%2fetc%2fpasswd", "etc", "passwd", "2021-12", "9999-99", "print", "qr.svg",
    "%00", "%ff%fe", "calfeed.js", "wsgi.py", "events.toml", "~root", "a" * 300,
])
KEYS = st.sampled_from(["category", "place", "from", "to", "limit", "x", "category[]", ""])
VALUES = st.one_of(
    st.sampled_from(["webinar", "bagni-pubblici", "2021-12-01", "2021-02-30", "-1", "0", "500", "501",
                     "99999999999999999999", "9" * 5000, "", "%00", "%ff", "../../etc/passwd", "x" * 5000]),
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


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    segments=st.lists(SEGMENTS, max_size=5),
    query=st.lists(st.tuples(KEYS, VALUES), max_size=6),
    method=METHODS,
    headers=HEADERS,
)
@example(segments=[], query=[("category", "[calendar]")], method="GET", headers={})  # echoed by the 404, not leaked
def test_no_generated_request_gets_a_server_error(client, segments, query, method, headers):
    path = "/" + "/".join(segments).lstrip("/")  # the test client reads "//x" as a host
    query_string = "&".join(f"{quote(k)}={quote(v)}" for k, v in query)
    response = client.open(path, method=method, query_string=query_string, headers=headers)
    assert response.status_code < 500, (method, path, query_string, headers)
    body = response.get_data()
    asked = " ".join([path, *(f"{k}={v}" for k, v in query), *headers.values()]).encode()
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

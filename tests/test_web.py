"""The HTTP contract of the feeds, through Flask's test client."""

from __future__ import annotations

import gzip
from xml.etree import ElementTree

import pytest
from werkzeug.http import http_date, parse_date

from conftest import Page, parse_both


def _uids(body: bytes) -> list[str]:
    first, _ = parse_both(body)
    return sorted(str(e["UID"]).split("@")[0] for e in first.walk("VEVENT"))


def test_feed_headers(client):
    response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=21600"  # refresh = PT6H
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["ETag"].startswith('"')
    # Last-Modified is the newest `updated`, an override's (2022-11-20T09:00 in Rome).
    assert response.headers["Last-Modified"] == "Sun, 20 Nov 2022 08:00:00 GMT"
    assert "Content-Disposition" not in response.headers


def test_event_download(client):
    response = client.get("/events/generare-prossimita.ics")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="generare-prossimita.ics"'
    assert b"\r\nMETHOD:PUBLISH\r\n" in response.data
    assert _uids(response.data) == ["generare-prossimita"]


def test_if_none_match_gives_304(client):
    etag = client.get("/calendar.ics").headers["ETag"]
    response = client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    assert response.headers["ETag"] == etag
    assert client.get("/calendar.ics", headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get("/calendar.ics", headers={"If-None-Match": '"other"'}).status_code == 200


def test_if_modified_since(client):
    last_modified = client.get("/calendar.ics").headers["Last-Modified"]
    assert client.get("/calendar.ics", headers={"If-Modified-Since": last_modified}).status_code == 304
    earlier = http_date(parse_date(last_modified).timestamp() - 1)
    assert client.get("/calendar.ics", headers={"If-Modified-Since": earlier}).status_code == 200


def test_if_none_match_wins_over_if_modified_since(client):
    last_modified = client.get("/calendar.ics").headers["Last-Modified"]
    response = client.get(
        "/calendar.ics", headers={"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
    )
    assert response.status_code == 200


def test_gzip_when_asked(client):
    plain = client.get("/calendar.ics")
    zipped = client.get("/calendar.ics", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    again = client.get("/calendar.ics", headers={"Accept-Encoding": "gzip"})
    assert again.data == zipped.data  # mtime=0: the same bytes every time
    assert client.get("/calendar.ics", headers={"Accept-Encoding": "gzip;q=0"}).data == plain.data
    assert client.get(
        "/calendar.ics", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}
    ).status_code == 304


def test_head(client):
    get = client.get("/calendar.ics")
    head = client.head("/calendar.ics")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == get.headers["ETag"]
    assert int(head.headers["Content-Length"]) == len(get.data)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/categories/webinar.ics", ["generare-prossimita"]),
        ("/calendar.ics?category=webinar", ["generare-prossimita"]),
        ("/categories/citta-aperta.ics", ["corso-riparazione-biciclette", "pulizia-parco-dora"]),
        (
            "/calendar.ics?category=webinar&category=feste",
            ["festa-casa-quartiere-latina", "generare-prossimita"],
        ),
        ("/places/bagni-pubblici.ics", ["cineforum-bagni-pubblici", "corso-riparazione-biciclette"]),
        ("/calendar.ics?category=corsi&place=bagni-pubblici", ["corso-riparazione-biciclette"]),
        ("/calendar.ics?place=bagni-pubblici&place=cascina-roccafranca", ["assemblea-rete-case-quartiere", "cineforum-bagni-pubblici", "corso-riparazione-biciclette"]),
    ],
)
def test_filters(client, url, expected):
    response = client.get(url)
    assert response.status_code == 200
    assert _uids(response.data) == expected


def test_stable_url_and_query_give_the_same_bytes(client):
    assert client.get("/categories/webinar.ics").data == client.get("/calendar.ics?category=webinar").data
    assert client.get("/calendar.ics?category=a&category=b").status_code == 404
    body = client.get("/categories/webinar.ics").data
    assert b"X-WR-CALNAME:Case del Quartiere e Patti di collaborazione: Webinar\r\n" in body


@pytest.mark.parametrize(
    "url",
    [
        "/events/nope.ics",
        "/categories/nope.ics",
        "/places/nope.ics",
        "/calendar.ics?category=nope",
        "/calendar.ics?place=nope",
        "/nope",
        "/events/..%2F..%2Fetc%2Fpasswd.ics",
        "/calendar.ics?category=%ff%fe",
    ],
)
def test_unknown_things_are_404_pages(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert b"404" in response.data and b"Traceback" not in response.data


ONE_EVENT = """
    [calendar]
    name = "Eventi"
    base_url = "https://eventi.example.org"
    {language}

    [[events]]
    id = "festa"
    title = "Festa"
    start = 2030-01-01T10:00:00
"""
# What each language's pages and JSON say, written by hand: (path, status, title, text).
ERRORS = {
    "it": [
        ("/events/nope", 404, "404 Pagina non trovata", 'Nessun evento "nope" in questo calendario.'),
        ("/nope", 404, "404 Pagina non trovata", "Questa pagina non esiste"),
        ("/month/2300-01", 404, "404 Pagina non trovata", "Nessuna pagina per questo mese"),
        ("/embed?limit=0", 400, "400 Richiesta non valida", "limit deve essere un numero intero da 1 a 100, non '0'"),
    ],
    "en": [
        ("/events/nope", 404, "404 Page not found", 'No event "nope" in this calendar.'),
        ("/nope", 404, "404 Page not found", "This page does not exist"),
        ("/month/2300-01", 404, "404 Page not found", "No page for this month"),
        ("/embed?limit=0", 400, "400 Bad request", "limit must be a whole number from 1 to 100, not '0'"),
    ],
}
JSON_ERRORS = {
    "it": [("/events.json?category=nope", 404, 'Nessuna categoria "nope" in questo calendario.'),
           ("/events.json?from=2030-02-01&to=2030-01-01", 400, "to (2030-01-01) è prima di from (2030-02-01)"),
           ("/nope.json", 404, "Questa pagina non esiste")],
    "en": [("/events.json?category=nope", 404, 'No category "nope" in this calendar.'),
           ("/events.json?from=2030-02-01&to=2030-01-01", 400, "to (2030-01-01) is before from (2030-02-01)"),
           ("/nope.json", 404, "This page does not exist")],
}


@pytest.mark.parametrize("language", ["it", "en"])
def test_error_pages_and_json_errors_speak_the_calendars_language(make_client, language):
    setting = 'language = "en"' if language == "en" else ""  # Italian is the default
    client = make_client(ONE_EVENT.format(language=setting), TODAY="2029-12-01")
    for path, status, title, text in ERRORS[language]:
        response = client.get(path)
        page = Page(response.data)
        assert response.status_code == status and page.all("html", lang=language), path
        assert title in page.text and text in page.text, (path, page.text)
        assert "Not Found" not in page.text and "Bad Request" not in page.text, path  # werkzeug's words
    for path, status, text in JSON_ERRORS[language]:
        response = client.get(path)
        assert response.status_code == status and text in response.get_json()["error"], path
    wrong = Page(client.post("/events/festa").data).text
    assert ("405 Metodo non consentito" if language == "it" else "405 Method not allowed") in wrong


def test_wrong_method_is_not_a_server_error_and_says_which_are_allowed(client):
    for method, path in [("POST", "/calendar.ics"), ("DELETE", "/events/generare-prossimita.ics"), ("PUT", "/"), ("POST", "/events.json")]:
        response = client.open(path, method=method)
        assert response.status_code == 405, path
        # RFC 9110, 15.5.6: a 405 names the methods the resource takes.
        assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "HEAD"}, path


def test_healthz(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["events"] == 8 and body["error"] is None
    assert body["loaded_at"].endswith("+00:00")


def test_past_days_drops_old_events(make_client):
    calendar = """
        [calendar]
        name = "Prova"
        base_url = "https://eventi.example.org"
        past_days = 30

        [[events]]
        id = "vecchio"
        title = "Finito da 31 giorni"
        start = 2022-01-01T10:00:00

        [[events]]
        id = "recente"
        title = "Finito da 30 giorni"
        start = 2022-01-02
        end = 2022-01-02

        [[events]]
        id = "futuro"
        title = "Futuro"
        start = 2022-03-01T10:00:00
    """
    client = make_client(calendar, TODAY="2022-02-01")
    assert _uids(client.get("/calendar.ics").data) == ["futuro", "recente"]
    # A single event stays downloadable from its page.
    assert client.get("/events/vecchio.ics").status_code == 200


def test_base_url_from_the_environment(write_events, monkeypatch):
    from calfeed import create_app

    monkeypatch.setenv("CALFEED_BASE_URL", "https://calendario.example.net")
    app = create_app({"EVENTS": str(write_events('[[events]]\nid = "x"\ntitle = "X"\nstart = 2022-01-01\n'))})
    body = app.test_client().get("/calendar.ics").data
    assert b"UID:x@calendario.example.net\r\n" in body


def test_the_client_address_comes_from_trusted_proxies_only(tmp_path):
    """Behind nginx (CALFEED_TRUSTED_PROXIES=1) the address the login limits count is
    the client's from X-Forwarded-For; without a trusted proxy the header is
    ignored, since any client could write it."""
    from flask import request

    from calfeed import create_app
    from conftest import SAMPLE

    seen: list[str | None] = []
    for proxies, expected in (("1", "203.0.113.7"), ("0", "127.0.0.1")):
        app = create_app({"EVENTS": str(SAMPLE), "TRUSTED_PROXIES": proxies})
        app.before_request(lambda: seen.append(request.remote_addr))
        app.test_client().get("/healthz", headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert seen[-1] == expected


def test_every_page_names_its_icon_which_is_served(client):
    """Browsers ask for /favicon.ico when a page names no icon: a 404 in the
    console of every page (Lighthouse's best-practices audit counts it)."""
    for path in ["/", "/past", "/month", "/embed", "/events/generare-prossimita", "/events/generare-prossimita/print", "/nope"]:
        icons = Page(client.get(path).data).all("link", rel="icon")
        assert [icon["href"] for icon in icons] == ["/favicon.svg"], path
    icon = client.get("/favicon.svg")
    assert icon.status_code == 200 and icon.content_type == "image/svg+xml"
    assert ElementTree.fromstring(icon.data).tag == "{http://www.w3.org/2000/svg}svg"

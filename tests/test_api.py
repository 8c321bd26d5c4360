"""/events.json as partner sites' scripts read it."""

from __future__ import annotations

import gzip
import json

import pytest

from conftest import SAMPLE
from calfeed import create_app


@pytest.fixture
def api():
    return create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"}).test_client()


def test_one_day(api):
    response = api.get("/events.json?from=2021-12-01&to=2021-12-01")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    (item,) = response.get_json()["events"]
    assert item["id"] == "generare-prossimita"
    assert item["uid"] == "generare-prossimita@eventi.casedelquartiere.example.org"
    assert item["start"] == "2021-12-01T18:00:00+01:00" and item["end"] == "2021-12-01T19:30:00+01:00"
    assert item["all_day"] is False and item["status"] == "confirmed"
    assert item["categories"] == ["Webinar", "Patti di collaborazione"]
    assert item["online"] == ["https://www.facebook.com/labsus", "https://www.youtube.com/@labsus"]
    assert item["page_url"] == "https://eventi.casedelquartiere.example.org/events/generare-prossimita"
    assert item["ics_url"].endswith("/events/generare-prossimita.ics")
    assert "dates=20211201T170000Z%2F20211201T183000Z" in item["google_url"]


def test_all_day_end_is_the_last_day(api):
    (item,) = api.get("/events.json?from=2022-06-11&to=2022-06-11").get_json()["events"]
    assert item["start"] == "2022-06-11" and item["end"] == "2022-06-12" and item["all_day"] is True
    assert item["place"] == {"slug": "casa-quartiere-latina", "name": "Casa di Quartiere Latina", "address": "Via Sezze, 04100 Latina", "geo": None}


def test_occurrences_of_a_series_with_its_changes(api):
    items = api.get("/events.json?from=2022-05-25&to=2022-06-08&place=casa-quartiere-latina").get_json()["events"]
    assert [(i["start"], i["status"]) for i in items] == [
        ("2022-05-25T17:00:00+02:00", "confirmed"),
        ("2022-06-01T17:00:00+02:00", "cancelled"),
        ("2022-06-08T17:00:00+02:00", "confirmed"),
    ]
    moved = api.get("/events.json?from=2022-12-06&to=2022-12-07").get_json()["events"]
    assert [(i["start"], i["title"]) for i in moved] == [("2022-12-06T17:00:00+01:00", "Sportello Patti di collaborazione (martedì)")]


def test_default_is_upcoming_and_limit(api):
    items = api.get("/events.json?limit=3").get_json()["events"]
    assert [i["id"] for i in items] == ["generare-prossimita", "assemblea-rete-case-quartiere", "sportello-patti-latina"]
    assert len(api.get("/events.json").get_json()["events"]) == 50
    # Upcoming looks five years ahead: the weekly series gives some 260 dates.
    many = api.get("/events.json?limit=500").get_json()["events"]
    assert 250 < len(many) < 270 and many[-1]["start"] < "2026-11-26"


def test_series_once_lists_each_event_once_with_its_rule_in_words(api):
    """What /, /embed and the web component list: a series once, at its next
    date, its rule in both languages, the zone to write dates in."""
    every = api.get("/events.json?limit=50").get_json()
    assert [i["id"] for i in every["events"]].count("sportello-patti-latina") > 10
    assert "timezone" not in every and all("repeats" not in i for i in every["events"])  # unchanged without it
    once = api.get("/events.json?series=once&limit=50").get_json()
    ids = [i["id"] for i in once["events"]]
    assert ids[:3] == ["generare-prossimita", "assemblea-rete-case-quartiere", "sportello-patti-latina"]
    assert len(ids) == len(set(ids)) == 8  # the sample's eight events
    assert once["timezone"] == "Europe/Rome"
    series = once["events"][2]
    assert series["start"] == "2022-01-12T17:00:00+01:00"
    assert series["repeats"] == {"it": "ogni mercoledì, 17:00–19:00", "en": "every Wednesday, 17:00–19:00"}
    assert once["events"][0]["repeats"] is None
    assert [i["id"] for i in api.get("/events.json?series=once&limit=2&category=patti-di-collaborazione").get_json()["events"]] == [
        "generare-prossimita", "sportello-patti-latina",
    ]


def test_filters(api):
    items = api.get("/events.json?category=webinar&category=feste&from=2021-01-01&to=2023-01-01").get_json()["events"]
    assert [i["id"] for i in items] == ["generare-prossimita", "festa-casa-quartiere-latina"]


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ("from=yesterday", 400, "from deve essere un giorno"),
        ("to=2021-13-01", 400, "to deve essere un giorno"),
        ("from=2022-01-02&to=2022-01-01", 400, "è prima di from"),
        ("limit=0", 400, "limit deve essere"),
        ("limit=501", 400, "limit deve essere"),
        ("limit=abc", 400, "limit deve essere"),
        ("limit=%C2%B2", 400, "limit deve essere"),  # "²", a digit to str.isdigit
        ("limit=%D9%A3", 400, "limit deve essere"),  # an Arabic-Indic 3
        ("category=nope", 404, 'Nessuna categoria "nope"'),
        ("place=nope", 404, 'Nessun luogo "nope"'),
        ("series=one", 400, "series deve essere once o every, non 'one'"),
    ],
)
def test_bad_values_get_a_json_error(api, query, status, says):
    response = api.get("/events.json?" + query)
    assert response.status_code == status
    assert says in response.get_json()["error"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_caching_like_the_feeds(api):
    response = api.get("/events.json?from=2021-12-01&to=2022-12-31")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=21600"
    assert api.get("/events.json?from=2021-12-01&to=2022-12-31", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    zipped = api.get("/events.json?from=2021-12-01&to=2022-12-31", headers={"Accept-Encoding": "gzip"})
    assert json.loads(gzip.decompress(zipped.data)) == response.get_json()


def test_an_answer_is_made_once_per_version_and_minute(monkeypatch):
    """Partner pages poll the same question: it is answered from the bytes
    made the first time, the same bytes a fresh answer would have."""
    from calfeed.web import api as api_module

    app = create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"})
    client = app.test_client()
    made = []
    answer = api_module.occurrences_body

    def counted(*args, **kwargs):
        made.append(args[2:])
        return answer(*args, **kwargs)

    monkeypatch.setattr(api_module, "occurrences_body", counted)
    questions = ["/events.json", "/events.json?limit=2", "/events.json?from=2022-01-01&to=2022-12-31", "/events.json?category=webinar"]
    first = [client.get(q).data for q in questions]
    again = [client.get(q).data for q in questions]
    assert again == first and len(made) == len(questions)
    assert client.get("/embed").data == client.get("/embed").data
    fresh = create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"}).test_client()
    assert [fresh.get(q).data for q in questions] == first


def test_answers_kept_are_bounded_in_count_and_bytes():
    """Answers kept for a version hold at most KEPT_SIZE bodies and
    KEPT_BYTES bytes, whatever clients ask (here more than both)."""
    from calfeed.published import KEPT_BYTES, KEPT_SIZE

    app = create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"})
    client = app.test_client()
    asked = 0
    for limit in range(1, KEPT_SIZE + 30):
        reply = client.get(f"/events.json?limit={limit}")
        assert reply.status_code == 200
        asked += len(reply.data)
    kept = app.extensions["calfeed"].current()._kept
    assert asked > KEPT_BYTES
    assert len(kept) <= KEPT_SIZE
    assert sum(len(body.data) for body in kept.values()) <= KEPT_BYTES

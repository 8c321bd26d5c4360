"""The feeds' fast path replays, byte for byte, what Flask answers."""

from __future__ import annotations

import itertools

import pytest
from werkzeug.test import Client

from calfeed import create_app
from conftest import SAMPLE

PATHS = ["/calendar.ics", "/categories/webinar.ics", "/places/bagni-pubblici.ics"]
ENCODINGS = [None, "gzip", "gzip, deflate, br, zstd", "*", "identity", "br"]


@pytest.fixture
def counted_app():
    """The app, with a count of the requests its Flask part answered."""
    app = create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"})
    fast = app.wsgi_app
    calls = []

    def flask_part(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return fast_flask(environ, start_response)

    fast_flask, fast.flask_wsgi = fast.flask_wsgi, flask_part
    return app, fast_flask, calls


def _answer(response) -> tuple:
    return response.status, sorted(response.headers.to_wsgi_list()), response.get_data()


def test_replayed_answers_are_flasks(counted_app):
    app, flask_wsgi, calls = counted_app
    fast, slow = app.test_client(), Client(flask_wsgi)
    for path, encoding in itertools.product(PATHS, ENCODINGS):
        headers = {"Accept-Encoding": encoding} if encoding else {}
        etag = slow.get(path, headers=headers).headers["ETag"]
        for if_none_match in (None, etag, '"other"', f'"other", W/{etag}', "*"):
            asked = dict(headers, **({"If-None-Match": if_none_match} if if_none_match else {}))
            expected = _answer(slow.get(path, headers=asked))
            assert expected[0] in ("200 OK", "304 NOT MODIFIED")
            for _ in range(2):  # the first is Flask's own answer, the second its replay
                assert _answer(fast.get(path, headers=asked)) == expected, (path, asked)
    # Flask answered each distinct question once (gzip or not, 200 or 304), and
    # every other request was a replay.
    assert sorted(calls) == sorted(PATHS * 4)


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/calendar.ics?category=webinar", {}),
        ("/categories/no-such-category.ics", {}),
        ("/places/bagni-pubblici.ics", {"Accept-Encoding": "gzip;q=0"}),
        ("/calendar.ics", {"If-Modified-Since": "Sun, 20 Nov 2022 08:00:00 GMT"}),
        ("/events/generare-prossimita.ics", {}),
    ],
)
def test_other_questions_go_to_flask(counted_app, path, headers):
    app, flask_wsgi, calls = counted_app
    fast, slow = app.test_client(), Client(flask_wsgi)
    for _ in range(2):
        assert _answer(fast.get(path, headers=headers)) == _answer(slow.get(path, headers=headers))
    assert len(calls) == 2


def test_head_goes_to_flask(counted_app):
    app, _, calls = counted_app
    response = app.test_client().head("/calendar.ics")
    assert response.status_code == 200 and response.get_data() == b""
    assert calls == ["/calendar.ics"]


def test_an_edit_is_served_past_the_replays(write_events):
    path = write_events(
        """
        [[events]]
        id = "primo"
        title = "Primo"
        start = 2030-01-01T10:00:00
        """
    )
    client = create_app({"EVENTS": str(path), "RELOAD_SETTLE": 0}).test_client()
    assert b"SUMMARY:Primo" in client.get("/calendar.ics").data
    assert b"SUMMARY:Primo" in client.get("/calendar.ics").data
    path.write_text(path.read_text().replace('"Primo"', '"Secondo"'))
    body = client.get("/calendar.ics").data
    assert b"SUMMARY:Secondo" in body and b"SUMMARY:Primo" not in body


def test_replies_kept_stay_few_as_the_days_pass(write_events):
    """With past_days the feed changes with the day: each day's answer is
    Flask's, and the replies kept do not pile up while the version serves."""
    days = "\n".join(
        f'[[events]]\nid = "giorno-{n}"\ntitle = "Giorno {n}"\nstart = 2030-01-{n:02d}T18:00:00\n' for n in range(1, 25)
    )
    path = write_events('[calendar]\nname = "Prova"\nbase_url = "https://eventi.example.org"\npast_days = 1\n' + days)
    app = create_app({"EVENTS": str(path), "TODAY": "2030-01-01"})
    fast, slow = app.test_client(), Client(app.wsgi_app.flask_wsgi)
    bodies = set()
    for day in range(1, 21):
        app.config["TODAY"] = f"2030-01-{day:02d}"
        for headers in ({}, {"Accept-Encoding": "gzip"}):
            for _ in range(2):
                answer = _answer(fast.get("/calendar.ics", headers=headers))
                assert answer == _answer(slow.get("/calendar.ics", headers=headers))
            bodies.add(answer[2])
    assert len(bodies) == 2 * 19  # from the third day on, one event ages out each day
    published = app.extensions["calfeed"].current()
    assert len(app.wsgi_app._replies[published]) == 2  # today's, plain and gzip

"""Hostile text in events.toml: feeds stay valid, pages show it as text."""

from __future__ import annotations

import pytest

from conftest import Page, parse_both

HOSTILE = "<b>bold</b><img src=x onerror=alert(1)><script>alert(1)</script>\"'&amp; \u202egnp.exe\u202c"
BIG = ("Lorem ipsum dolor sit amet, città àèìòù — " * 2500)[:100_000]


@pytest.fixture
def hostile_toml():
    escaped = HOSTILE.replace("\\", "\\\\").replace('"', '\\"')
    return f'''
        [places.luogo]
        name = "{escaped}"
        address = "{escaped}"
        geo = [45.0, 7.6]

        [[events]]
        id = "ostile"
        title = "{escaped}"
        description = "{escaped}\\n\\nhttps://example.org/?q=<script>"
        place = "luogo"
        categories = ["{escaped}"]
        online = ["https://example.org/live?a=1&b=<x>"]
        organizer = {{ name = "{escaped}", email = "a@example.org" }}
        start = 2030-01-01T10:00:00
        end = 2030-01-01T11:00:00

        [[events]]
        id = "lungo"
        title = "Lungo"
        description = "{BIG}"
        start = 2030-01-02T10:00:00
    '''


@pytest.fixture
def hostile(make_client, hostile_toml):
    return make_client(hostile_toml, TODAY="2029-12-01")


# /past is read a month after the events, when both have ended; every other
# page before them, when they are upcoming.
@pytest.mark.parametrize(
    ("url", "today"),
    [
        ("/", "2029-12-01"),
        ("/events/ostile", "2029-12-01"),
        ("/events/ostile/print", "2029-12-01"),
        ("/embed", "2029-12-01"),
        ("/month/2030-01", "2029-12-01"),
        ("/past", "2030-02-01"),
    ],
)
def test_pages_show_hostile_text_as_text(make_client, hostile_toml, url, today):
    body = make_client(hostile_toml, TODAY=today).get(url).data
    page = Page(body)
    tags = {tag for tag, _ in page.elements}
    assert "b" not in tags
    assert [i for i in page.all("img") if not i["src"].startswith("/")] == []
    assert all(s.get("src", "").startswith("/static/") or s.get("type") == "application/ld+json" for s in page.all("script"))
    for _, href in page.links:
        assert href.startswith(("/", "https://", "http://", "webcal://", "mailto:")), href
    assert "<b>bold</b>" in page.text  # shown as the characters it is
    assert b"&lt;b&gt;bold&lt;/b&gt;" in body
    if not url.startswith("/events/"):
        # Listed, not only named by the filters (the category is hostile too).
        assert any(href.endswith("/events/ostile") and "<b>bold</b>" in text for text, href in page.links), page.links


def test_feed_stays_valid_with_hostile_and_huge_text(hostile):
    body = hostile.get("/calendar.ics").data
    lines = body.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    first, second = parse_both(body)
    events = {str(e["UID"]).split("@")[0]: e for e in first.walk("VEVENT")}
    assert str(events["ostile"]["SUMMARY"]) == HOSTILE
    assert str(events["lungo"]["DESCRIPTION"]) == BIG.strip()
    assert len(second.events) == 2
    assert [line for line in body.replace(b"\r\n ", b"").split(b"\r\n") if line.startswith(b"BEGIN:")].count(b"BEGIN:VEVENT") == 2


def test_json_carries_text_unchanged(hostile):
    (item,) = hostile.get("/events.json?from=2030-01-01&to=2030-01-01").get_json()["events"]
    assert item["title"] == HOSTILE and item["place"]["name"] == HOSTILE


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:x", "file:///etc/passwd", "//example.org/x"])
def test_only_web_addresses_are_accepted(write_events, bad):
    from calfeed.errors import CalendarErrors
    from calfeed.validation import load_calendar

    path = write_events(f'[[events]]\nid = "x"\ntitle = "X"\nstart = 2030-01-01\nurl = "{bad}"\n')
    with pytest.raises(CalendarErrors, match="only http:// and https:// URLs are allowed"):
        load_calendar(path)

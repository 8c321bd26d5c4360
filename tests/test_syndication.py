"""RSS 2.0 and Atom, as a feed reader sees them: feedparser (a reader's own
parser) and lxml (the elements each spec requires) read what is served."""

from __future__ import annotations

import gzip
import time

import feedparser
import pytest
from lxml import etree

from calfeed import create_app
from calfeed.build import build_site
from calfeed.web.site import Site
from conftest import SAMPLE, Page

BASE = "https://eventi.casedelquartiere.example.org"
ATOM = "{http://www.w3.org/2005/Atom}"
FEEDS = ["/feed.rss", "/feed.atom", "/categories/patti-di-collaborazione.rss", "/places/casa-quartiere-latina.atom"]


def read(response) -> feedparser.FeedParserDict:
    """The feed as a reader gets it: well-formed, no fault of any kind."""
    assert response.status_code == 200, response.data[:300]
    parsed = feedparser.parse(response.data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def links(parsed) -> list[str]:
    return [entry.link for entry in parsed.entries]


def entry(parsed, event_id: str):
    (found,) = [e for e in parsed.entries if e.link == f"{BASE}/events/{event_id}"]
    return found


def summary_text(entry) -> str:
    return Page(entry.summary).text


@pytest.mark.parametrize("path", FEEDS)
def test_feeds_parse_strictly_and_have_the_required_elements(client, path):
    response = client.get(path)
    parsed = read(response)
    root = etree.fromstring(response.data)
    assert parsed.entries
    if path.endswith(".rss"):
        assert parsed.version == "rss20"
        assert response.content_type == "application/rss+xml; charset=utf-8"
        channel = root.find("channel")
        for name in ("title", "link", "description"):
            assert channel.findtext(name), name
        for item in channel.findall("item"):
            assert item.findtext("title") and item.findtext("link") and item.findtext("guid")
            assert item.findtext("pubDate")
    else:
        assert parsed.version == "atom10"
        assert response.content_type == "application/atom+xml; charset=utf-8"
        for name in ("id", "title", "updated", "author/" + ATOM + "name"):
            assert root.findtext(ATOM + name), name
        assert root.find(ATOM + "link[@rel='self']").get("href") == BASE + path
        for item in root.findall(ATOM + "entry"):
            for name in ("id", "title", "updated"):
                assert item.findtext(ATOM + name), name
            assert item.find(ATOM + "link").get("href").startswith(BASE + "/events/")
    assert parsed.feed.title.startswith("Case del Quartiere e Patti di collaborazione")
    # The feed's date is the newest `updated` in the file (2022-11-20 10:00 in Rome), not the clock.
    assert parsed.feed.updated_parsed == time.struct_time((2022, 11, 20, 8, 0, 0, 6, 324, 0))


def test_an_item_links_the_event_page_and_says_date_and_place(client):
    parsed = read(client.get("/feed.rss"))
    item = entry(parsed, "assemblea-rete-case-quartiere")
    assert item.title == "Assemblea della Rete delle Case del Quartiere"
    assert item.id == f"{BASE}/events/assemblea-rete-case-quartiere"
    text = summary_text(item)
    assert "Martedì 14 dicembre 2021, 17:30–19:30" in text
    assert "Cascina Roccafranca, Via Edoardo Rubino 45, 10137 Torino" in text
    assert [tag.term for tag in item.tags] == ["Assemblea"]
    assert item.published_parsed[:6] == (2021, 11, 25, 8, 0, 0)  # its `updated`, 09:00 in Rome
    online = summary_text(entry(parsed, "generare-prossimita"))
    assert "Online: https://www.youtube.com/@labsus" in online


def test_a_series_is_one_item_with_its_next_date_and_rule(client, make_client):
    parsed = read(client.get("/feed.atom"))
    assert links(parsed).count(f"{BASE}/events/sportello-patti-latina") == 1
    assert len(links(parsed)) == len(set(links(parsed)))
    text = summary_text(entry(parsed, "sportello-patti-latina"))
    assert "Mercoledì 12 gennaio 2022, 17:00–19:00" in text
    assert "Ogni mercoledì" in text
    # On Thursday 26 May 2022 the next Wednesday (1 June) is cancelled: the item shows 8 June.
    later = create_app({"EVENTS": str(SAMPLE), "TODAY": "2022-05-26"}).test_client()
    text = summary_text(entry(read(later.get("/feed.rss")), "sportello-patti-latina"))
    assert "Mercoledì 8 giugno 2022, 17:00–19:00" in text and "1 giugno" not in text
    series = """
        [[events]]
        id = "corso"
        title = "Corso"
        start = 2022-01-03T17:00:00
        duration = "PT1H"
        rrule = "FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=2022-06-30"
        """
    text = summary_text(read(make_client(series, TODAY="2022-01-05").get("/feed.rss")).entries[0])
    assert "Giovedì 6 gennaio 2022, 17:00–18:00" in text
    assert "Ogni lunedì e giovedì, 17:00–18:00, fino al 30 giugno 2022" in text
    english = '[calendar]\nname = "Test"\nbase_url = "https://e.example.org"\nlanguage = "en"\n' + series
    text = summary_text(read(make_client(english, TODAY="2022-01-05").get("/feed.rss")).entries[0])
    assert "Thursday 6 January 2022, 17:00–18:00" in text
    assert "Every Monday and Thursday, 17:00–18:00, until 30 June 2022" in text


def test_a_rule_without_words_shows_the_next_date_only(make_client):
    client = make_client(
        """
        [[events]]
        id = "fine-mese"
        title = "Fine mese"
        start = 2022-01-31T17:00:00
        rrule = "FREQ=MONTHLY;BYMONTHDAY=-1"
        """,
        TODAY="2022-02-05",
    )
    (item,) = read(client.get("/feed.atom")).entries
    assert Page(item.summary).text == "Lunedì 28 febbraio 2022, 17:00"


def test_only_what_has_not_ended_is_in_the_feed(make_client):
    client = make_client(
        """
        [[events]]
        id = "ieri"
        title = "Ieri"
        start = 2022-03-01T10:00:00
        [[events]]
        id = "stamattina"
        title = "Stamattina"
        start = 2022-03-02T08:00:00
        end = 2022-03-02T09:00:00
        [[events]]
        id = "fra-un-anno-e-mezzo"
        title = "Lontano"
        start = 2023-09-01T10:00:00
        [[events]]
        id = "annullato"
        title = "Concerto"
        start = 2022-03-05T21:00:00
        status = "cancelled"
        """,
        TODAY="2022-03-02",
    )
    parsed = read(client.get("/feed.rss"))
    assert [e.title for e in parsed.entries] == ["Stamattina", "Annullato: Concerto"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?category=webinar", {"generare-prossimita"}),
        ("?category=webinar&category=assemblea", {"generare-prossimita", "assemblea-rete-case-quartiere"}),
        ("?category=patti-di-collaborazione&place=casa-quartiere-latina", {"sportello-patti-latina", "laboratorio-patti-latina"}),
    ],
)
def test_filters_pick_the_events_of_the_ics_filters(client, query, expected):
    for kind in ("rss", "atom"):
        parsed = read(client.get(f"/feed.{kind}{query}"))
        assert set(links(parsed)) == {f"{BASE}/events/{e}" for e in expected}


def test_stable_urls_are_the_query_filters(client):
    assert links(read(client.get("/categories/corsi.rss"))) == links(read(client.get("/feed.rss?category=corsi")))
    assert links(read(client.get("/places/bagni-pubblici.atom"))) == links(read(client.get("/feed.atom?place=bagni-pubblici")))
    assert set(links(read(client.get("/places/bagni-pubblici.atom")))) == {f"{BASE}/events/corso-riparazione-biciclette", f"{BASE}/events/cineforum-bagni-pubblici"}
    for path in ("/categories/nope.rss", "/places/nope.atom", "/feed.rss?category=nope", "/feed.xml", "/categories/corsi.json"):
        assert client.get(path).status_code == 404, path


def test_caching_headers_conditional_requests_and_gzip(client):
    first = client.get("/feed.rss")
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert first.headers["Cache-Control"] == "public, max-age=21600"
    assert first.headers["Last-Modified"] == "Sun, 20 Nov 2022 08:00:00 GMT"
    etag = first.headers["ETag"]
    assert client.get("/feed.rss", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/feed.rss", headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304
    assert client.get("/feed.atom", headers={"If-None-Match": etag}).status_code == 200
    zipped = client.get("/feed.rss", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["ETag"] != etag
    assert gzip.decompress(zipped.data) == first.data
    assert client.head("/feed.atom").status_code == 200
    # Another process on the same file and day: the same bytes and ETag.
    again = create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"}).test_client().get("/feed.rss")
    assert (again.data, again.headers["ETag"]) == (first.data, etag)


@pytest.mark.parametrize("path", ["/", "/?place=bagni-pubblici", "/past", "/month", "/month/2021-12", "/events/generare-prossimita",
                                  "/events/generare-prossimita/print", "/embed?category=corsi"])
def test_every_public_page_points_feed_readers_to_its_feeds(client, path):
    page = Page(client.get(path).data)
    kinds = {"application/rss+xml": "rss20", "application/atom+xml": "atom10"}
    found = [link for link in page.all("link", rel="alternate") if link.get("type") in kinds]
    assert sorted(link["type"] for link in found) == sorted(kinds)
    for link in found:
        assert read(client.get(link["href"])).version == kinds[link["type"]]


def test_build_writes_the_feeds_as_served(tmp_path, client):
    written = build_site(Site(create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"})), tmp_path / "site", workers=1)
    feeds = [name for name in written if name.endswith((".rss", ".atom"))]
    assert len(feeds) == 2 * (1 + 7 + 3)
    for name in feeds:
        assert (tmp_path / "site" / name).read_bytes() == client.get("/" + name).data, name


def test_each_calendar_and_filter_gets_its_own_items(make_client, client):
    """RSS and Atom of one feed share their items: never with another feed,
    nor with another calendar asked the same feed on the same day."""
    other = make_client(
        """
        [[events]]
        id = "altro"
        title = "Altro"
        start = 2021-12-01T17:00:00
        """,
        TODAY="2021-11-25",  # the day of ``client``'s calendar
    )
    mine = links(read(client.get("/feed.rss")))
    theirs = links(read(other.get("/feed.atom")))
    assert [link.rsplit("/", 1)[-1] for link in theirs] == ["altro"]
    assert links(read(client.get("/feed.atom"))) == mine
    assert set(links(read(client.get("/categories/corsi.atom")))) < set(mine)


def test_a_feeds_rss_and_atom_are_the_same_in_either_order():
    """The entries made for one kind are written again as the other: each
    file is the one made alone, with its own address and items."""
    config = {"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"}
    path = "/categories/patti-di-collaborazione"
    first, second = create_app(config).test_client(), create_app(config).test_client()
    rss_then_atom = [first.get(path + ".rss").data, first.get(path + ".atom").data]
    atom_then_rss = [second.get(path + ".atom").data, second.get(path + ".rss").data]
    assert rss_then_atom == atom_then_rss[::-1]
    rss, atom = (feedparser.parse(body) for body in rss_then_atom)
    assert links(rss) == links(atom) and links(rss)
    assert atom.feed.id == BASE + path + ".atom"
    assert [link.href for link in rss.feed.links if link.rel == "self"] == [BASE + path + ".rss"]


HOSTILE = """\
[calendar]
name = "Tom & Jerry's <b>\\"calendario\\"</b> ]]> — città 😀"
base_url = "https://eventi.example.org"
description = "Line one\\n\\tindented & <i>odd</i> 'quotes' \\"double\\" \\u2028 end"

[places.sala-a]
name = "Sala \\"A\\" & <co>"
address = "Via Po' 1 > 2"

[[events]]
id = "uno"
title = "<script>alert('x')</script> & \\"quoted\\" ]]> Ünïcödé ✓"
start = 2030-01-05T18:00:00
duration = "PT2H"
place = "sala-a"
categories = ["Arte & \\"Cultura\\" <x>", "Tab\\tIn name ' é"]
description = "First <p> & paragraph\\n\\nSecond\\twith tab, \\"quotes\\" and 'apostrophes' ]]> 😀"
online = ["https://example.org/a?b=1&c=<2>"]

[[events]]
id = "due"
title = "Serie > settimanale"
start = 2030-01-02T09:00:00
duration = "PT1H"
rrule = "FREQ=WEEKLY;COUNT=5"
location = "Altrove & co"
categories = ["Arte & \\"Cultura\\" <x>"]
updated = 2029-12-01T10:00:00

[[events]]
id = "tre"
title = "Annullato"
status = "cancelled"
start = 2030-02-01
"""


def feedgen_bytes(published, chosen, day, kind) -> bytes:
    """The feed as feedgen 1.0.0 writes it from the same items (how calfeed
    made its feeds before writing them itself): the bytes to keep."""
    from feedgen.feed import FeedGenerator

    from calfeed import timezones
    from calfeed.web.links import page_url
    from calfeed.web.syndication import _text, _title, upcoming
    from calfeed.occurrences import select

    calendar = published.calendar
    names = [c.name for c in calendar.categories if c.slug in chosen.categories]
    names += [p.name for p in calendar.places if p.slug in chosen.places]
    title = f"{calendar.name}: {' + '.join(names)}" if names else calendar.name
    own = calendar.base_url + chosen.path(kind)
    feed = FeedGenerator()
    feed.id(own)
    feed.title(title)
    feed.description(calendar.description or title)
    query = "&".join([f"category={c}" for c in sorted(chosen.categories)] + [f"place={p}" for p in sorted(chosen.places)])
    feed.link(href=own, rel="self")
    feed.link(href=calendar.base_url + "/" + (f"?{query}" if query else ""), rel="alternate")
    feed.language(calendar.language)
    feed.author({"name": calendar.name})
    feed.generator("calfeed")
    feed.updated(published.last_modified)
    zone = timezones.zone(calendar.timezone)
    for item in upcoming(select(calendar, chosen.categories, chosen.places), day, zone):
        url = page_url(calendar, item.event.id)
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(_title(item, published))
        entry.link(href=url, rel="alternate")
        entry.summary(_text(item, published), type="html")
        stamp = item.next.event.updated or item.event.updated or published.last_modified
        entry.updated(stamp)
        entry.published(stamp)
        for category in item.event.categories:
            entry.category(term=category.name)
    return feed.rss_str(pretty=True) if kind == "rss" else feed.atom_str(pretty=True)


@pytest.mark.parametrize("events", [HOSTILE, SAMPLE], ids=["hostile", "sample"])
def test_feeds_are_byte_for_byte_what_feedgen_writes(write_events, events):
    """calfeed writes RSS and Atom itself; every byte stays feedgen's, so
    readers' cached copies and ETags survive the change."""
    from calfeed.published import FeedFilter
    from calfeed.web.syndication import syndication

    path = write_events(HOSTILE, header=False) if events is HOSTILE else events
    day = "2030-01-01" if events is HOSTILE else "2021-11-25"
    app = create_app({"EVENTS": str(path), "TODAY": day})
    site = Site(app)
    with site.rendering() as published:
        calendar = published.calendar
        chosen = [FeedFilter()] + [FeedFilter(categories=frozenset({c.slug})) for c in calendar.categories]
        chosen += [FeedFilter(places=frozenset({p.slug})) for p in calendar.places]
        chosen += [FeedFilter(categories=frozenset(c.slug for c in calendar.categories[:2]), places=frozenset(p.slug for p in calendar.places[:1]))]
        for selection in chosen:
            for kind in ("rss", "atom"):
                expected = feedgen_bytes(published, selection, site.today, kind)
                assert syndication(published, selection, site.today, kind) == expected, (selection, kind)
    served = app.test_client().get("/feed.atom")
    assert served.data == feedgen_bytes(published, FeedFilter(), site.today, "atom")
    if events is HOSTILE:
        parsed = read(served)
        assert parsed.feed.title == "Tom & Jerry's <b>\"calendario\"</b> ]]> — città 😀"
        assert [e.title for e in parsed.entries][:2] == ["Serie > settimanale", "<script>alert('x')</script> & \"quoted\" ]]> Ünïcödé ✓"]
        assert [t.term for t in parsed.entries[1].tags] == ['Arte & "Cultura" <x>', "Tab\tIn name ' é"]


def test_a_character_xml_cannot_hold_is_left_out_of_the_feeds(make_client):
    """U+FFFE passes validation, but XML has no such character: the feeds
    leave it out and stay readable (feedgen's lxml refused the whole feed)."""
    client = make_client(
        """
        [[events]]
        id = "strano"
        title = "Stra\\ufffeno\\uffff"
        start = 2030-01-05T18:00:00
        description = "Te\\ufffesto"
        """,
        TODAY="2030-01-01",
    )
    for path in ("/feed.rss", "/feed.atom"):
        response = client.get(path)
        etree.fromstring(response.data)
        (item,) = read(response).entries
        assert item.title == "Strano"
        assert "Testo" in summary_text(item)

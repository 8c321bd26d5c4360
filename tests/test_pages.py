"""The pages as a reader sees them: parsed HTML, not string matching."""

from __future__ import annotations

import json
import zoneinfo
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import SAMPLE, Page
from calfeed import create_app


@pytest.fixture
def site():
    """The sample calendar as seen on 25 November 2021, a week before the webinar."""
    return create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"}).test_client()


def test_the_webinar_page(site):
    page = Page(site.get("/events/generare-prossimita").data)
    assert "GENERARE PROSSIMITÀ. Quali (possibili) connessioni" in page.text
    assert "Mercoledì 1 dicembre 2021, 18:00–19:30" in page.text
    google = urlsplit(page.href("Aggiungi a Google Calendar"))
    query = parse_qs(google.query)
    assert google.netloc == "calendar.google.com"
    assert query["action"] == ["TEMPLATE"]
    assert query["dates"] == ["20211201T170000Z/20211201T183000Z"]
    assert query["ctz"] == ["Europe/Rome"]
    assert "Case del Quartiere" in query["details"][0]
    assert page.href("Scarica l'evento (.ics)") == "/events/generare-prossimita.ics"
    assert page.href("YouTube") == "https://www.youtube.com/@labsus"
    assert page.href("Facebook") == "https://www.facebook.com/labsus"
    assert page.href("Webinar") == "/?category=webinar"
    assert page.href("programma-generare-prossimita.pdf").endswith(".pdf")
    outlook = parse_qs(urlsplit(page.href("Aggiungi a Outlook")).query)
    assert outlook["startdt"] == ["2021-12-01T17:00:00Z"] and outlook["enddt"] == ["2021-12-01T18:30:00Z"]


def test_event_page_metadata_for_sharing(site):
    page = Page(site.get("/events/generare-prossimita").data)
    og = {m["property"]: m["content"] for m in page.all("meta") if "property" in m}
    assert og["og:title"].startswith("GENERARE PROSSIMITÀ")
    assert og["og:url"] == "https://eventi.casedelquartiere.example.org/events/generare-prossimita"
    markup = site.get("/events/generare-prossimita").data.decode()
    ld = json.loads(markup.split('<script type="application/ld+json">')[1].split("</script>")[0])
    assert ld["@type"] == "Event" and ld["startDate"] == "2021-12-01T18:00:00+01:00"
    assert ld["location"]["@type"] == "VirtualLocation"


def test_place_with_map_and_without(site):
    page = Page(site.get("/events/corso-riparazione-biciclette").data)
    assert "Bagni Pubblici di via Agliè" in page.text and "Via Agliè 9, 10154 Torino" in page.text
    assert page.href("OpenStreetMap").startswith("https://www.openstreetmap.org/?mlat=45.0907&mlon=7.6913")
    assert "Sabato 26 marzo 2022, 15:00–18:00" in page.text
    latina = Page(site.get("/events/festa-casa-quartiere-latina").data)
    assert "Mappa non disponibile" in latina.text
    assert "Sabato 11 giugno 2022 – Domenica 12 giugno 2022" in latina.text  # all-day, end inclusive


def test_cancelled_event_is_marked(site):
    page = Page(site.get("/events/cineforum-bagni-pubblici").data)
    assert "Annullato" in page.text
    assert page.all("main", **{"class": "cancelled"})


def test_recurring_event_lists_its_next_dates(site):
    page = Page(site.get("/events/sportello-patti-latina").data)
    assert "Prossime date" in page.text
    assert "Mercoledì 12 gennaio 2022, 17:00–19:00" in page.text  # the series starts in January
    assert "Mercoledì 19 gennaio 2022, 17:00–19:00" in page.text


def test_home_lists_upcoming_events_by_day(site):
    page = Page(site.get("/").data)
    assert "Prossimi eventi" in page.text
    text = page.text
    assert text.index("Mercoledì 1 dicembre 2021") < text.index("GENERARE PROSSIMITÀ")
    assert page.href("GENERARE PROSSIMITÀ") == "/events/generare-prossimita"


# --- a series once, at its next date, with its rule in words --------------------


def list_entries(markup: bytes, list_path: str = "//ul[@class='events']/li") -> list[dict]:
    """Each entry of a page's list as lxml finds it: its day heading (the
    heading before its list), time, title, link and rule, by the HTML's structure."""
    from lxml import html

    found = []
    for item in html.fromstring(markup).xpath(list_path):
        heading = item.xpath("preceding::*[self::h2 or self::h3][1]")
        time = item.xpath(".//*[contains(concat(' ', @class, ' '), ' dt-start ')]")[0]
        (link,) = item.xpath(".//a[contains(concat(' ', @class, ' '), ' p-name ')]")
        repeats = item.xpath(".//*[@class='repeats']")
        found.append({
            "day": heading[0].text_content().strip() if heading else None,
            "time": " ".join(time.text_content().split()),
            "title": link.text_content().strip(),
            "href": link.get("href"),
            "repeats": repeats[0].text_content().strip() if repeats else None,
        })
    return found


EMBED_LIST = "//ul/li"


def test_home_shows_a_weekly_series_once_at_its_next_date_with_its_rule(site):
    found = list_entries(site.get("/").data)
    series = [e for e in found if e["title"] == "Sportello Patti di collaborazione"]
    assert series == [{"day": "Mercoledì 12 gennaio 2022", "time": "17:00–19:00", "title": "Sportello Patti di collaborazione",
                       "href": "/events/sportello-patti-latina", "repeats": "ogni mercoledì, 17:00–19:00"}]
    # Each of the sample's eight events once; the one-off webinar as before, with no rule.
    assert sorted(e["href"] for e in found) == sorted(set(e["href"] for e in found)) and len(found) == 8
    (webinar,) = [e for e in found if e["href"] == "/events/generare-prossimita"]
    assert (webinar["day"], webinar["time"], webinar["repeats"]) == ("Mercoledì 1 dicembre 2021", "18:00–19:30", None)
    # On Thursday 26 May 2022 the next Wednesday (1 June) is cancelled: the series shows 8 June.
    later = create_app({"EVENTS": str(SAMPLE), "TODAY": "2022-05-26"}).test_client()
    (series,) = [e for e in list_entries(later.get("/").data) if e["href"] == "/events/sportello-patti-latina"]
    assert series["day"] == "Mercoledì 8 giugno 2022"


def test_embed_shows_a_weekly_series_once_at_its_next_date_with_its_rule(site):
    found = list_entries(site.get("/embed").data, EMBED_LIST)
    series = [e for e in found if e["title"] == "Sportello Patti di collaborazione"]
    assert [(e["time"], e["repeats"]) for e in series] == [("Mercoledì 12 gennaio 2022, 17:00–19:00", "ogni mercoledì, 17:00–19:00")]
    assert len(found) == 8 and len({e["href"] for e in found}) == 8
    (webinar,) = [e for e in found if e["title"].startswith("GENERARE")]
    assert (webinar["time"], webinar["repeats"]) == ("Mercoledì 1 dicembre 2021, 18:00–19:30", None)


SERIES = """
    [[events]]
    id = "corso"
    title = "Corso"
    start = 2022-01-03T17:00:00
    duration = "PT1H"
    rrule = "FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=2022-06-30"

    [[events]]
    id = "mercato"
    title = "Mercato"
    start = 2022-01-08T08:00:00
    end = 2022-01-08T13:00:00
    rrule = "FREQ=MONTHLY;BYDAY=2SA"

    [[events]]
    id = "strano"
    title = "Strano"
    start = 2022-01-31T21:00:00
    rrule = "FREQ=MONTHLY;BYMONTHDAY=-1"

    [[events]]
    id = "concerto"
    title = "Concerto"
    start = 2022-01-07T21:00:00
"""
ENGLISH = '[calendar]\nname = "Events"\nbase_url = "https://events.example.org"\nlanguage = "en"\n'


@pytest.mark.parametrize(("language", "expected"), [
    ("it", {
        "Corso": ("Giovedì 6 gennaio 2022", "17:00–18:00", "ogni lunedì e giovedì, 17:00–18:00, fino al 30 giugno 2022"),
        "Concerto": ("Venerdì 7 gennaio 2022", "21:00", None),
        "Mercato": ("Sabato 8 gennaio 2022", "08:00–13:00", "il secondo sabato del mese, 08:00–13:00"),
        "Strano": ("Lunedì 31 gennaio 2022", "21:00", "si ripete"),  # no words for the last day of a month
    }),
    ("en", {
        "Corso": ("Thursday 6 January 2022", "17:00–18:00", "every Monday and Thursday, 17:00–18:00, until 30 June 2022"),
        "Concerto": ("Friday 7 January 2022", "21:00", None),
        "Mercato": ("Saturday 8 January 2022", "08:00–13:00", "the second Saturday of every month, 08:00–13:00"),
        "Strano": ("Monday 31 January 2022", "21:00", "repeats"),
    }),
])
def test_series_in_words_on_home_embed_and_event_page(make_client, language, expected):
    client = make_client((ENGLISH if language == "en" else "") + SERIES, TODAY="2022-01-05")
    home = list_entries(client.get("/").data)
    assert {e["title"]: (e["day"], e["time"], e["repeats"]) for e in home} == expected
    assert [e["title"] for e in home] == ["Corso", "Concerto", "Mercato", "Strano"]  # nearest first
    embed = {e["title"]: (e["time"], e["repeats"]) for e in list_entries(client.get("/embed").data, EMBED_LIST)}
    assert embed == {title: (f"{day}, {time}", words) for title, (day, time, words) in expected.items()}
    # The event page says the rule too, beside "Si ripete"/"Repeats"; a rule without words is not said.
    label = {"it": "Si ripete", "en": "Repeats"}[language]
    for title, (_, _, words) in expected.items():
        page = Page(client.get(f"/events/{title.lower()}").data)
        if words in (None, "si ripete", "repeats"):
            assert label not in page.text, title
        else:
            assert f"{label} {words}" in page.text, title


def test_count_limits_count_events_not_dates(make_client):
    """Two daily series and forty one-off events: the home page's thirty
    entries and the embed's ten are events, each once."""
    events = [SERIES.split("[[events]]")[0]]
    for n, hour in enumerate((9, 10)):
        events.append(f'[[events]]\nid = "daily{n}"\ntitle = "Daily {n}"\nstart = 2022-01-05T{hour:02}:00:00\nrrule = "FREQ=DAILY"\n')
    for n in range(40):
        events.append(f'[[events]]\nid = "one{n:02}"\ntitle = "One {n}"\nstart = 2022-02-{1 + n // 2:02}T18:{n % 2:02}:00\n')
    client = make_client("\n".join(events), TODAY="2022-01-05")
    home = [e["href"].removeprefix("/events/") for e in list_entries(client.get("/").data)]
    assert home == ["daily0", "daily1"] + [f"one{n:02}" for n in range(28)]
    embed = [e["href"].rsplit("/", 1)[1] for e in list_entries(client.get("/embed").data, EMBED_LIST)]
    assert embed == ["daily0", "daily1"] + [f"one{n:02}" for n in range(8)]
    assert len(list_entries(client.get("/embed?limit=3").data, EMBED_LIST)) == 3


def test_the_month_still_shows_every_date_of_a_series(site):
    from lxml import html

    tree = html.fromstring(site.get("/month/2022-01").data)
    days = [int(cell.xpath("string(.//span[@class='number'])")) for cell in tree.xpath("//table[@class='month']//td")
            if cell.xpath(".//a[@href='/events/sportello-patti-latina']") and "other" not in cell.get("class", "")]
    assert days == [12, 19, 26]  # the Wednesdays of January 2022 from the series' first date


def test_past_lists_every_ended_date_of_a_series(make_client):
    client = make_client(SERIES, TODAY="2022-01-25")
    found = list_entries(client.get("/past").data)
    corso = [e["day"] for e in found if e["title"] == "Corso"]
    assert corso == ["Lunedì 24 gennaio 2022", "Giovedì 20 gennaio 2022", "Lunedì 17 gennaio 2022", "Giovedì 13 gennaio 2022",
                     "Lunedì 10 gennaio 2022", "Giovedì 6 gennaio 2022", "Lunedì 3 gennaio 2022"]
    assert all(e["repeats"] is None for e in found)


# --- h-event microformats, read by a microformats parser ------------------------


def h_events(client, path: str) -> list[dict]:
    """The page's h-events as mf2py reads them (relative URLs resolved)."""
    import mf2py

    items = mf2py.parse(doc=client.get(path).data.decode(), url="https://eventi.casedelquartiere.example.org" + path)["items"]
    assert all(item["type"] == ["h-event"] for item in items)
    return [item["properties"] for item in items]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_lists_carry_h_events(site):
    base = "https://eventi.casedelquartiere.example.org/events/"
    for path in ("/", "/embed"):
        found = h_events(site, path)
        assert len(found) == 8, path
        webinar, assemblea, sportello = found[:3]
        assert webinar["name"] == ["GENERARE PROSSIMITÀ. Quali (possibili) connessioni tra Case del Quartiere e Patti di collaborazione?"]
        assert webinar["url"] == [base + "generare-prossimita"]
        assert _instant(webinar["start"][0]) == datetime(2021, 12, 1, 17, tzinfo=timezone.utc)
        assert _instant(webinar["start"][0]).utcoffset().total_seconds() == 3600  # with its offset, not floating
        assert _instant(webinar["end"][0]) == datetime(2021, 12, 1, 18, 30, tzinfo=timezone.utc)
        assert "location" not in webinar  # online only
        assert assemblea["location"] == ["Cascina Roccafranca"]
        assert sportello["name"] == ["Sportello Patti di collaborazione"] and sportello["url"] == [base + "sportello-patti-latina"]
        assert _instant(sportello["start"][0]) == datetime(2022, 1, 12, 16, tzinfo=timezone.utc)
        festa = next(p for p in found if p["url"] == [base + "festa-casa-quartiere-latina"])
        assert (festa["start"], festa["end"]) == (["2022-06-11"], ["2022-06-12"])  # all-day: the last day, as events.toml
        summer = next(p for p in found if p["url"] == [base + "cineforum-bagni-pubblici"])
        assert _instant(summer["start"][0]).utcoffset().total_seconds() == 7200  # summer time in Rome


def test_the_event_page_is_an_h_event(site):
    (bici,) = h_events(site, "/events/corso-riparazione-biciclette")
    assert bici["name"] == ["Ciclofficina: impara a riparare la tua bici"]
    assert bici["url"] == ["https://eventi.casedelquartiere.example.org/events/corso-riparazione-biciclette"]
    assert _instant(bici["start"][0]) == datetime(2022, 3, 26, 14, tzinfo=timezone.utc)
    assert _instant(bici["end"][0]) == datetime(2022, 3, 26, 17, tzinfo=timezone.utc)
    assert bici["location"] == ["Bagni Pubblici di via Agliè"]
    (parco,) = h_events(site, "/events/pulizia-parco-dora")
    assert parco["location"] == ["Parco Dora, ingresso di via Borgaro, Torino"]  # a location written as text


def test_home_subscribe_panel(site):
    page = Page(site.get("/").data)
    assert page.href("Apple Calendar") == "webcal://eventi.casedelquartiere.example.org/calendar.ics"
    google = parse_qs(urlsplit(page.href("Google Calendar")).query)
    assert google["cid"] == ["webcal://eventi.casedelquartiere.example.org/calendar.ics"]
    outlook = parse_qs(urlsplit(page.href("Outlook.com")).query)
    assert outlook["url"] == ["https://eventi.casedelquartiere.example.org/calendar.ics"]
    assert urlsplit(page.href("Microsoft 365")).netloc == "outlook.office.com"
    (field,) = page.all("input", id="feed-url")
    assert field["value"] == "https://eventi.casedelquartiere.example.org/calendar.ics"


def test_home_filters_and_their_feed(site):
    page = Page(site.get("/?category=webinar").data)
    assert "GENERARE PROSSIMITÀ" in page.text and "Sportello" not in page.text
    assert page.href("Apple Calendar") == "webcal://eventi.casedelquartiere.example.org/categories/webinar.ics"
    (selected,) = [o for o in page.all("option") if "selected" in o]
    assert selected["value"] == "webinar"
    (code,) = page.all("textarea", id="embed-code")
    assert site.get("/?category=nope").status_code == 404


def test_embed_snippet_is_ready_to_paste(site):
    markup = site.get("/?place=bagni-pubblici").data.decode()
    page = Page(markup)
    snippet = Page(markup.split('id="embed-code" rows="3" readonly>')[1].split("</textarea>")[0].replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&"))
    (frame,) = snippet.all("iframe")
    assert frame["src"] == "https://eventi.casedelquartiere.example.org/embed?place=bagni-pubblici"
    assert page.text


def test_embed_lists_a_few_events_opening_in_a_new_tab(site):
    page = Page(site.get("/embed?limit=3").data)
    links = [a for a in page.all("a") if "/events/" in a.get("href", "")]
    assert len(links) == 3
    assert all(a["target"] == "_blank" and "noopener" in a["rel"] for a in links)
    # Self-contained: it loads nothing (its feeds' alternate links load nothing either).
    assert all(link["rel"] == "alternate" for link in page.all("link")) and not page.all("script")
    assert site.get("/embed?limit=0").status_code == 400
    webinars = Page(site.get("/embed?category=webinar").data)
    assert "GENERARE PROSSIMITÀ" in webinars.text and "Sportello" not in webinars.text


def test_past_events(site):
    later = create_app({"EVENTS": str(SAMPLE), "TODAY": "2022-07-20"}).test_client()
    page = Page(later.get("/past").data)
    text = page.text
    assert "Eventi passati" in text
    assert text.index("Cineforum all'aperto") < text.index("GENERARE PROSSIMITÀ")  # most recent first
    assert "Laboratorio sui Patti" not in text  # October, still to come


def _past_ids(client) -> list[str]:
    return [href.removeprefix("/events/") for _, href in Page(client.get("/past").data).links if href.startswith("/events/")]


def test_past_events_of_a_large_calendar_start_with_the_latest(make_client):
    """6,000 ended events, three a day back from 19 June 2030, written from
    the latest (p0000, 18:00 on the 19th) back; one still running is left out."""
    events = []
    for n in range(6000):
        day, hour = date(2030, 6, 19) - timedelta(days=n // 3), (18, 14, 10)[n % 3]
        events.append(f'[[events]]\nid = "p{n:04d}"\ntitle = "P{n}"\nstart = {day}T{hour}:00:00\nduration = "PT1H"\n')
    events.append('[[events]]\nid = "running"\ntitle = "Running"\nstart = 2030-06-19T20:00:00\nend = 2030-06-22T20:00:00\n')
    client = make_client("\n".join(events), TODAY="2030-06-20")
    assert _past_ids(client) == [f"p{n:04d}" for n in range(100)]


def test_past_events_with_series_and_all_day_events(make_client):
    client = make_client("""
        [[events]]
        id = "weekly"
        title = "Weekly"
        start = 2020-01-01T18:00:00
        duration = "PT2H"
        rrule = "FREQ=DAILY;INTERVAL=7;UNTIL=2030-06-12"

        [[events]]
        id = "fair"
        title = "Fair"
        start = 2030-06-13
        end = 2030-06-19

        [[events]]
        id = "old"
        title = "Old"
        start = 2001-03-01T10:00:00
    """, TODAY="2030-06-20")
    ids = _past_ids(client)
    # The fair's last day is the 19th: it is over at midnight, as TODAY begins.
    assert ids[:3] == ["fair", "weekly", "weekly"] and len(ids) == 100
    text = Page(client.get("/past").data).text
    assert text.index("Giovedì 13 giugno 2030") < text.index("Mercoledì 12 giugno 2030") < text.index("Mercoledì 5 giugno 2030")
    assert "Old" not in text  # the 101st and later


def test_an_event_page_shows_the_last_date_of_a_long_ended_series(make_client):
    client = make_client("""
        [[events]]
        id = "daily"
        title = "Daily"
        start = 2020-01-01T09:00:00
        duration = "PT1H"
        rrule = "FREQ=DAILY;UNTIL=2024-12-31"
    """, TODAY="2025-06-01")
    page = Page(client.get("/events/daily").data)
    assert "Martedì 31 dicembre 2024, 09:00–10:00" in page.text  # the 1,827th date


def test_english_pages(write_events):
    path = write_events("""
        [calendar]
        name = "Events"
        base_url = "https://events.example.org"
        language = "en"

        [[events]]
        id = "talk"
        title = "Talk"
        start = 2021-12-01T18:00:00
        end = 2021-12-01T19:30:00
        status = "cancelled"
    """)
    client = create_app({"EVENTS": str(path), "TODAY": "2021-11-25"}).test_client()
    page = Page(client.get("/events/talk").data)
    assert "Wednesday 1 December 2021, 18:00–19:30" in page.text
    assert "Cancelled" in page.text and "Add to Google Calendar" in page.text
    assert page.all("html", lang="en")
    assert "Upcoming events" in Page(client.get("/").data).text


def test_hostile_text_is_escaped(make_client):
    client = make_client("""
        [[events]]
        id = "x"
        title = "<script>alert(1)</script>"
        description = "<img src=x onerror=alert(1)> see https://example.org/a?b=<c>"
        location = "\\"><svg onload=alert(1)>"
        start = 2030-01-01T10:00:00
    """, TODAY="2029-12-01")
    own_scripts = {"/": 2, "/events/x": 1, "/embed": 0}  # the copy button and the component's preview; the JSON-LD
    for url, scripts in own_scripts.items():
        page = Page(client.get(url).data)
        assert all(i["src"].startswith("/qr/") for i in page.all("img")) and not page.all("svg"), url
        assert len(page.all("script")) == scripts, url
        assert "<script>alert(1)</script>" in page.text, url


@pytest.mark.parametrize(
    "url",
    ["/", "/past", "/events/generare-prossimita", "/events/sportello-patti-latina", "/events/generare-prossimita/print",
     "/embed", "/month/2022-03", "/?category=webinar", "/nope"],
)
def test_pages_are_well_formed_html(site, url):
    import html5lib

    parser = html5lib.HTMLParser(strict=True)
    parser.parse(site.get(url).data.decode("utf-8"))  # raises on the first parse error
    page = Page(site.get(url).data)
    assert len(page.all("h1")) == 1
    assert page.all("html", lang="it")


def test_home_offers_each_category_and_place_feed(site):
    page = Page(site.get("/").data)
    webcals = [href for text, href in page.links if text == "Apple"]
    assert "webcal://eventi.casedelquartiere.example.org/categories/citta-aperta.ics" in webcals
    assert "webcal://eventi.casedelquartiere.example.org/places/bagni-pubblici.ics" in webcals
    assert len(webcals) == 7 + 3
    assert page.href("Città aperta") == "/?category=citta-aperta"


def test_the_filter_form_as_a_browser_submits_it(site):
    page = Page(site.get("/?category=webinar&place=").data)
    assert "GENERARE PROSSIMITÀ" in page.text and "Sportello" not in page.text
    assert site.get("/?category=&place=").status_code == 200
    assert [b for b in Page(site.get("/").data).text.split() if b.startswith("<built-in")] == []
    assert "Copia" in Page(site.get("/").data).text


# --- structured data, read by a JSON-LD processor ------------------------------

S = "https://schema.org/"


def _schema_org_context(url, options=None):
    """schema.org's context, offline: every term is a schema.org IRI (the
    published context maps them the same way)."""
    assert url.rstrip("/") in ("https://schema.org", "http://schema.org"), url
    return {"contextUrl": None, "documentUrl": url, "document": {"@context": {"@vocab": S}}}


def structured_event(client, path: str) -> dict:
    """The page's JSON-LD as pyld expands it: full IRIs, every value a list.
    The script is found by lxml's HTML parser, not by string search."""
    from lxml import html
    from pyld import jsonld

    tree = html.fromstring(client.get(path).data)
    (script,) = tree.xpath('//script[@type="application/ld+json"]')
    (event,) = jsonld.expand(json.loads(script.text), {"documentLoader": _schema_org_context})
    assert event["@type"] == [S + "Event"]
    return event


def value(node: dict, name: str):
    (found,) = node[S + name]
    return found.get("@value", found)


@pytest.mark.parametrize("event_id", ["generare-prossimita", "corso-riparazione-biciclette", "pulizia-parco-dora",
                                      "festa-casa-quartiere-latina", "laboratorio-patti-latina", "sportello-patti-latina"])
def test_every_event_page_has_the_properties_of_googles_event_results(site, event_id):
    event = structured_event(site, f"/events/{event_id}")
    for name in ("name", "startDate", "endDate", "location", "eventAttendanceMode", "eventStatus", "description"):
        assert S + name in event, name
    start = date.fromisoformat(value(event, "startDate")[:10])
    assert start >= date(2021, 11, 25)
    if "T" in value(event, "startDate"):
        assert value(event, "startDate")[19:] in ("+01:00", "+02:00")  # an offset, not a floating time
    for location in event[S + "location"]:
        assert location["@type"] in ([S + "Place"], [S + "VirtualLocation"])
        if location["@type"] == [S + "Place"]:
            assert value(location, "address")["@type"] == [S + "PostalAddress"]
            assert value(value(location, "address"), "streetAddress")
        else:
            assert value(location, "url").startswith("https://")


def test_structured_data_of_a_place_an_online_event_and_an_organizer(site):
    bici = structured_event(site, "/events/corso-riparazione-biciclette")
    place = value(bici, "location")
    assert value(place, "name") == "Bagni Pubblici di via Agliè"
    address = value(place, "address")
    assert (value(address, "streetAddress"), value(address, "postalCode"), value(address, "addressLocality")) == ("Via Agliè 9", "10154", "Torino")
    assert value(bici, "eventAttendanceMode") == S + "OfflineEventAttendanceMode"
    assert value(bici, "eventStatus") == S + "EventScheduled"
    assert (value(bici, "startDate"), value(bici, "endDate")) == ("2022-03-26T15:00:00+01:00", "2022-03-26T18:00:00+01:00")
    webinar = structured_event(site, "/events/generare-prossimita")
    assert value(webinar, "eventAttendanceMode") == S + "OnlineEventAttendanceMode"
    assert value(value(webinar, "location"), "url") == "https://www.facebook.com/labsus"
    organizer = value(webinar, "organizer")
    assert organizer["@type"] == [S + "Organization"] and value(organizer, "name") == "Labsus"
    festa = structured_event(site, "/events/festa-casa-quartiere-latina")
    assert value(festa, "image") == "https://www.casedelquartiere.example.org/locandina-festa-latina.jpg"
    assert (value(festa, "startDate"), value(festa, "endDate")) == ("2022-06-11", "2022-06-12")
    assert value(structured_event(site, "/events/cineforum-bagni-pubblici"), "eventStatus") == S + "EventCancelled"


def test_a_moved_date_is_rescheduled_with_its_previous_start(make_client):
    client = create_app({"EVENTS": str(SAMPLE), "TODAY": "2022-12-01"}).test_client()
    moved = structured_event(client, "/events/sportello-patti-latina")
    assert value(moved, "eventStatus") == S + "EventRescheduled"
    assert value(moved, "startDate") == "2022-12-06T17:00:00+01:00"
    assert value(moved, "previousStartDate") == "2022-12-07T17:00:00+01:00"
    both = make_client(
        """
        [places.sala]
        name = "Sala"
        address = "Piazza Grande"

        [[events]]
        id = "ibrido"
        title = "Ibrido"
        start = 2022-01-10T18:00:00
        place = "sala"
        online = ["https://meet.example.org/ibrido"]
        """,
        TODAY="2022-01-01",
    )
    hybrid = structured_event(both, "/events/ibrido")
    assert value(hybrid, "eventAttendanceMode") == S + "MixedEventAttendanceMode"
    assert sorted(location["@type"][0] for location in hybrid[S + "location"]) == [S + "Place", S + "VirtualLocation"]
    assert value(hybrid, "eventStatus") == S + "EventScheduled" and S + "previousStartDate" not in hybrid


# --- pages kept per version and minute ----------------------------------------


def test_a_list_page_is_made_once_a_minute_and_follows_the_clock(make_client, monkeypatch):
    """/, /past and a month page asked again in the same minute are the
    same bytes, rendered once; the next minute they are made again, and an
    event that ended in between moves from the home page to the past."""
    from calfeed.web import month, pages

    client = make_client("""
        [[events]]
        id = "serata"
        title = "Serata di giochi"
        start = 2030-06-19T17:00:00
        end = 2030-06-19T18:00:00

        [[events]]
        id = "domani"
        title = "Domani"
        start = 2030-06-20T17:00:00
    """)
    made = []
    for module in (pages, month):
        real = module.render_template
        monkeypatch.setattr(module, "render_template", lambda name, _real=real, **context: made.append(name) or _real(name, **context))
    rome = zoneinfo.ZoneInfo("Europe/Rome")
    clock = [datetime(2030, 6, 19, 17, 59, tzinfo=rome)]
    monkeypatch.setattr(pages, "now", lambda published: clock[0])
    paths = ["/", "/past", "/month/2030-06", "/?category=", "/month/2030-06?place="]
    first = [client.get(path).data for path in paths]
    assert [client.get(path).data for path in paths] == first
    assert sorted(made) == sorted(["index.html", "past.html", "month.html", "index.html", "month.html"])
    assert "/events/serata" in {href for _, href in Page(first[0]).links}

    clock[0] = datetime(2030, 6, 19, 18, 1, tzinfo=rome)
    made.clear()
    home, past = (Page(client.get(path).data) for path in ("/", "/past"))
    assert made == ["index.html", "past.html"]
    assert "/events/serata" not in {href for _, href in home.links}
    assert "/events/serata" in {href for _, href in past.links}

"""The month view and the noticeboard pieces (QR codes, printable page)."""

from __future__ import annotations

import html
import itertools
import re
from datetime import date, timedelta

import pytest
import segno

from conftest import SAMPLE, Page
from calfeed import create_app
from calfeed.occurrences import select
from calfeed.validation import load_calendar
from calfeed.web.qr import qr_svg


@pytest.fixture
def site():
    return create_app({"EVENTS": str(SAMPLE), "TODAY": "2022-03-15"}).test_client()


def _cells(page: Page) -> list[str]:
    return [a for t, a in page.elements if t == "td"]


def test_march_2022_across_the_dst_change(site):
    markup = site.get("/month/2022-03").data.decode()
    page = Page(markup)
    assert "Marzo 2022" in page.text
    headers = [a.get("title") for t, a in page.elements if t == "abbr"]
    assert headers == ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"]
    # The weekly series stays at 17:00 on both sides of 27 March.
    cells = markup.split("<td")[1:]
    wednesday_23 = next(c for c in cells if '<span class="number">23</span>' in c)
    wednesday_30 = next(c for c in cells if '<span class="number">30</span>' in c)
    assert "17:00" in Page("<td" + wednesday_23).text and "Sportello" in Page("<td" + wednesday_23).text
    assert "17:00" in Page("<td" + wednesday_30).text
    saturday_26 = Page("<td" + next(c for c in cells if '<span class="number">26</span>' in c)).text
    assert "15:00" in saturday_26 and "Ciclofficina" in saturday_26
    monday_28 = Page("<td" + next(c for c in cells if '<span class="number">28</span>' in c and "other" not in c.split(">")[0])).text
    assert "09:30" in monday_28 and "Parco Dora" in monday_28
    (today,) = [a for t, a in page.elements if t == "td" and a.get("aria-current") == "date"]
    assert "today" in today["class"]
    assert page.href("Sportello") == "/events/sportello-patti-latina"


def test_month_navigation_across_the_year(site):
    december = Page(site.get("/month/2021-12?category=webinar").data)
    assert december.href("Mese successivo") == "/month/2022-01?category=webinar"
    assert "Mese precedente" not in december.text  # nothing before the first event's month
    assert "GENERARE PROSSIMITÀ" in december.text and "Assemblea" not in december.text
    january = Page(site.get("/month/2022-01").data)
    assert january.href("Mese precedente") == "/month/2021-12"
    assert site.get("/month/2022-13").status_code == 404
    assert "Marzo 2022" in Page(site.get("/month").data).text  # today's month


def test_all_day_event_shows_on_each_of_its_days(site):
    page = Page(site.get("/month/2022-06").data).text
    assert page.count("Festa della Casa di Quartiere") == 2


def test_a_night_past_midnight_shows_on_both_days_and_an_end_at_midnight_on_one(make_client):
    client = make_client("""
        [[events]]
        id = "notte-bianca"
        title = "Notte bianca"
        start = 2022-03-04T21:00:00
        end = 2022-03-05T02:00:00

        [[events]]
        id = "cena"
        title = "Cena sociale"
        start = 2022-03-10T20:00:00
        end = 2022-03-11T00:00:00
    """, TODAY="2022-03-01")
    cells = client.get("/month/2022-03").data.decode().split("<td")[1:]

    def day(number: int) -> str:
        return Page("<td" + next(c for c in cells if f'<span class="number">{number}</span>' in c and "other" not in c.split(">")[0])).text

    assert "21:00" in day(4) and "Notte bianca" in day(4)
    # The next day shows it too, said to go on, not at a start time it does not have.
    assert "Notte bianca" in day(5) and "continua" in day(5) and "21:00" not in day(5)
    assert "Cena sociale" in day(10) and "Cena sociale" not in day(11)



def test_series_across_months_show_on_every_page_and_in_the_neighbours_days(make_client):
    client = make_client("""
        [[events]]
        id = "turno"
        title = "Turno di notte"
        start = 2022-01-28T22:00:00
        end = 2022-01-29T01:00:00
        rrule = "FREQ=WEEKLY;UNTIL=20220304T220000"

        [[events]]
        id = "apertura"
        title = "Apertura sportello"
        start = 2020-01-01T08:00:00
        end = 2020-01-01T09:00:00
        rrule = "FREQ=DAILY"
    """, TODAY="2022-02-10")
    nights = {date(2022, 1, 28), date(2022, 2, 4), date(2022, 2, 11), date(2022, 2, 18), date(2022, 2, 25), date(2022, 3, 4)}
    # Each month's grid, from its Monday to its Sunday, written by hand.
    for month, monday in (("2022-01", date(2021, 12, 27)), ("2022-02", date(2022, 1, 31)), ("2022-03", date(2022, 2, 28))):
        cells = [Page("<td" + c).text for c in client.get(f"/month/{month}").data.decode().split("<td")[1:]]
        assert len(cells) in (35, 42)
        for n, cell in enumerate(cells):
            day = monday + timedelta(days=n)
            # The daily series every day, its single daily date once.
            assert cell.count("Apertura sportello") == 1 and "08:00" in cell, (month, day)
            if day in nights:
                assert "Turno di notte" in cell and "22:00" in cell, (month, day)
            elif day - timedelta(days=1) in nights:
                assert "Turno di notte" in cell and "continua" in cell, (month, day)
            else:
                assert "Turno di notte" not in cell, (month, day)



def test_a_filters_month_pages_list_its_events_and_keep_no_index_of_their_own(make_client):
    """The whole calendar's month pages share one walk of the series, kept
    per version; a filter's, which any query can name, walk their own."""
    client = make_client("""
        [[events]]
        id = "corso"
        title = "Corso di cucito"
        categories = ["Laboratori"]
        start = 2022-02-01T18:00:00
        rrule = "FREQ=WEEKLY;COUNT=6"

        [[events]]
        id = "assemblea"
        title = "Assemblea"
        start = 2022-02-02T18:00:00
        rrule = "FREQ=WEEKLY;COUNT=6"
    """, TODAY="2022-02-10")
    whole = Page(client.get("/month/2022-03").data).text
    # Tuesdays 1 and 8 March; Wednesdays 2 and 9 March (the grid starts on Monday 28 February).
    assert whole.count("Corso di cucito") == 2 and whole.count("Assemblea") == 2
    filtered = Page(client.get("/month/2022-03?category=laboratori").data).text
    assert filtered.count("Corso di cucito") == 2 and "Assemblea" not in filtered
    calendar = client.application.extensions["calfeed"].current().calendar
    assert "span" in vars(select(calendar, frozenset(), frozenset()))
    assert "span" not in vars(select(calendar, frozenset({"laboratori"}), frozenset()))


QUIET = 4  # modules of white around a code


def modules(svg: bytes) -> list[list[int]]:
    """The modules (1 dark) that one of calfeed's QR SVGs draws: its path read
    back, the quiet zone checked white and cut off."""
    side = int(re.search(rb'viewBox="0 0 (\d+) \1"', svg)[1])
    assert f'width="{side * 4}" height="{side * 4}"'.encode() in svg
    assert f'<rect width="{side}" height="{side}" fill="#fff"/>'.encode() in svg
    grid = [[0] * side for _ in range(side)]
    x = y = 0.0
    path = re.search(rb' d="([^"]*)"', svg)[1].decode()
    for command, first, second in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            for column in range(int(x), int(x) + int(first)):
                grid[int(y)][column] = 1
            x += int(first)
    inside = range(QUIET, side - QUIET)
    assert not any(grid[r][c] for r in range(side) for c in range(side) if r not in inside or c not in inside)
    return [row[QUIET : side - QUIET] for row in grid[QUIET : side - QUIET]]


def _iso_padding_bits(buff, version, length):
    # segno adds a whole zero byte to a bit stream that already ends on a
    # codeword boundary (heuer/segno#148); ISO/IEC 18004 7.4.10 adds none.
    if version not in (segno.consts.VERSION_M1, segno.consts.VERSION_M3):
        buff.extend([0] * (-length % 8))


@pytest.fixture
def segno_per_iso(monkeypatch):
    monkeypatch.setattr(segno.encoder, "write_padding_bits", _iso_padding_bits)


def segmentations(text: str):
    """The ways an encoder may cut ``text`` that segno can redo: bytes
    throughout, with any of its runs of digits as numeric segments."""
    runs = list(re.finditer(r"\d+", text))
    for numeric in itertools.product([False, True], repeat=len(runs)):
        segments, at = [], 0
        for run in itertools.compress(runs, numeric):
            segments += [(text[at : run.start()], segno.consts.MODE_BYTE), (run[0], segno.consts.MODE_NUMERIC)]
            at = run.end()
        segments.append((text[at:], segno.consts.MODE_BYTE))
        yield [segment for segment in segments if segment[0]]


def assert_qr(svg: bytes, text: str, title: str) -> None:
    """``svg`` is a QR code of ``text`` (level M) module for module as segno,
    a second and independent encoder, makes it with the same segments,
    version and mask (the mask is the encoder's choice)."""
    assert f"<title>{html.escape(title)}</title>".encode() in svg
    matrix = modules(svg)
    version = (len(matrix) - 17) // 4
    assert any(
        [list(row) for row in segno.make(segments, error="m", version=version, mask=mask, boost_error=False, micro=False).matrix]
        == matrix
        for segments in segmentations(text)
        for mask in range(8)
    ), f"segno makes no code like calfeed's for {text!r}"


def test_qr_codes_encode_the_subscribe_and_page_addresses(site, segno_per_iso):
    response = site.get("/qr/categories/webinar.svg")
    assert response.headers["Content-Type"] == "image/svg+xml"
    name = "Case del Quartiere e Patti di collaborazione"
    assert_qr(response.data, "webcal://eventi.casedelquartiere.example.org/categories/webinar.ics", name)
    assert_qr(site.get("/qr/calendar.svg").data, "webcal://eventi.casedelquartiere.example.org/calendar.ics", name)
    assert_qr(
        site.get("/qr/calendar.svg?category=webinar&place=bagni-pubblici").data,
        "webcal://eventi.casedelquartiere.example.org/calendar.ics?category=webinar&place=bagni-pubblici",
        name,
    )
    title = "GENERARE PROSSIMITÀ. Quali (possibili) connessioni tra Case del Quartiere e Patti di collaborazione?"
    assert_qr(
        site.get("/events/generare-prossimita/qr.svg").data,
        "https://eventi.casedelquartiere.example.org/events/generare-prossimita",
        title,
    )
    assert site.get("/qr/places/nope.svg").status_code == 404
    home = Page(site.get("/?category=webinar").data)
    assert [i["src"] for i in home.all("img")] == ["/qr/categories/webinar.svg"]


@pytest.mark.parametrize(
    "text",
    [
        "https://eventi.example.org/events/evento-00123",  # digits: a numeric segment
        "https://e.example.org/events/" + "festa-di-primavera-" * 8,  # several error correction blocks
        "webcal://e.example.org/calendar.ics?category=citta-aperta&place=sala-2",
        "https://città.example.org/events/x",
    ],
)
def test_qr_codes_agree_with_a_second_encoder(segno_per_iso, text):
    assert_qr(qr_svg(text, "Prova <&>"), text, "Prova <&>")


def test_every_qr_code_of_the_sample_agrees_with_a_second_encoder(site, segno_per_iso):
    calendar = load_calendar(SAMPLE)
    for category in calendar.categories:
        svg = site.get(f"/qr/categories/{category.slug}.svg").data
        assert_qr(svg, f"webcal://eventi.casedelquartiere.example.org/categories/{category.slug}.ics", calendar.name)
    for place in calendar.places:
        svg = site.get(f"/qr/places/{place.slug}.svg").data
        assert_qr(svg, f"webcal://eventi.casedelquartiere.example.org/places/{place.slug}.ics", calendar.name)
    for event in calendar.events:
        svg = site.get(f"/events/{event.id}/qr.svg").data
        assert_qr(svg, f"https://eventi.casedelquartiere.example.org/events/{event.id}", event.title)


def test_printable_page(site):
    page = Page(site.get("/events/generare-prossimita/print").data)
    assert "GENERARE PROSSIMITÀ" in page.text and "Mercoledì 1 dicembre 2021, 18:00–19:30" in page.text
    assert [i["src"] for i in page.all("img")] == ["/events/generare-prossimita/qr.svg"]
    markup = site.get("/events/generare-prossimita/print").data.decode()
    assert "@page { size: A4" in markup

"""The month view and the noticeboard pieces (QR codes, printable page)."""

from __future__ import annotations

import io

import pytest
import segno

from conftest import SAMPLE, Page
from calfeed import create_app


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


def _qr(text: str, title: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=4, xmldecl=False, title=title)
    return out.getvalue()


def test_qr_codes_encode_the_subscribe_and_page_addresses(site):
    response = site.get("/qr/categories/webinar.svg")
    assert response.headers["Content-Type"] == "image/svg+xml"
    name = "Case del Quartiere e Patti di collaborazione"
    assert response.data == _qr("webcal://eventi.casedelquartiere.example.org/categories/webinar.ics", name)
    assert site.get("/qr/calendar.svg").data == _qr("webcal://eventi.casedelquartiere.example.org/calendar.ics", name)
    title = "GENERARE PROSSIMITÀ. Quali (possibili) connessioni tra Case del Quartiere e Patti di collaborazione?"
    assert site.get("/events/generare-prossimita/qr.svg").data == _qr(
        "https://eventi.casedelquartiere.example.org/events/generare-prossimita", title
    )
    assert site.get("/qr/places/nope.svg").status_code == 404
    home = Page(site.get("/?category=webinar").data)
    assert [i["src"] for i in home.all("img")] == ["/qr/categories/webinar.svg"]


def test_printable_page(site):
    page = Page(site.get("/events/generare-prossimita/print").data)
    assert "GENERARE PROSSIMITÀ" in page.text and "Mercoledì 1 dicembre 2021, 18:00–19:30" in page.text
    assert [i["src"] for i in page.all("img")] == ["/events/generare-prossimita/qr.svg"]
    markup = site.get("/events/generare-prossimita/print").data.decode()
    assert "@page { size: A4" in markup

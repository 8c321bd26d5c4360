"""Places (/edit/places) and the calendar's settings (/edit/calendar) in the
browser editor, through Flask's test client on a copy of the sample.

Forms are filled as a browser fills them (``Form`` from test_editor). What
reaches the feed is read back with icalendar; the file with tomllib.
"""

from __future__ import annotations

import re
import tomllib

import icalendar
import pytest

from conftest import Page
from test_editor import PASSWORD, WEBINAR, Form, app, editor, events, field_error, login, make_app, token  # noqa: F401
from test_editor_history import clients, undo_latest, where  # noqa: F401 (fixtures)
from test_hostile import HOSTILE

CASCINA = "cascina-roccafranca"
USED_AT_CASCINA = "assemblea-rete-case-quartiere"


def data(events) -> dict:
    return tomllib.loads(events.read_text(encoding="utf-8"))


def place_form(client, slug: str | None = None) -> Form:
    page = client.get("/edit/places" if slug is None else f"/edit/places/{slug}")
    assert page.status_code == 200
    return Form(page.text, "place")


def settings_form(client) -> Form:
    page = client.get("/edit/calendar")
    assert page.status_code == 200
    return Form(page.text, "settings")


def value_of(markup: str, name: str) -> str:
    return Page(markup).all("input", name=name)[0]["value"]


def test_the_nav_links_to_places_and_settings(editor):
    links = dict(Page(editor.get("/edit/").text).links)
    assert links["Luoghi"] == "/edit/places"
    assert links["Impostazioni del calendario"] == "/edit/calendar"


def test_the_list_shows_every_place_with_its_events(editor):
    page = Page(editor.get("/edit/places").text)
    assert ("Cascina Roccafranca", f"/edit/places/{CASCINA}") in page.links
    assert "Casa di Quartiere Latina" in page.text


def test_a_new_place_is_at_once_in_the_event_form_and_on_the_event_page(editor, events):
    form = place_form(editor)
    response = editor.post(form.action, data=form.data(
        name="Sala Polivalente", address="Via Roma 1, Torino", lat="45.07", lon="7,68", url="https://sala.example.org"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/edit/places/sala-polivalente"
    assert data(events)["places"]["sala-polivalente"] == {
        "name": "Sala Polivalente", "address": "Via Roma 1, Torino", "geo": [45.07, 7.68], "url": "https://sala.example.org"}
    options = Page(editor.get("/edit/events/new").text).all("option", value="sala-polivalente")
    assert len(options) == 1
    event = Form(editor.get(f"/edit/events/{WEBINAR}").text)
    assert editor.post(f"/edit/events/{WEBINAR}", data=event.data(place="sala-polivalente")).status_code == 303
    public = Page(editor.get(f"/events/{WEBINAR}").text)
    assert "Sala Polivalente" in public.text and "Via Roma 1, Torino" in public.text
    feed = icalendar.Calendar.from_ical(editor.get("/places/sala-polivalente.ics").data)
    [vevent] = [e for e in feed.walk("VEVENT") if "RECURRENCE-ID" not in e]
    assert vevent.decoded("GEO") == (45.07, 7.68)


def test_a_changed_place_keeps_its_slug_and_the_rest_of_the_file(editor, events):
    before = events.read_text(encoding="utf-8")
    form = place_form(editor, CASCINA)
    assert (value_of(editor.get(f"/edit/places/{CASCINA}").text, "lat"), form.data()["lon"]) == ("45.0416", "7.6233")
    response = editor.post(form.action, data=form.data(name="Cascina Roccafranca — sala grande"))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/edit/places/{CASCINA}"
    after = events.read_text(encoding="utf-8")
    assert after == before.replace('name = "Cascina Roccafranca"', 'name = "Cascina Roccafranca — sala grande"')
    assert "Cascina Roccafranca — sala grande" in Page(editor.get(f"/events/{USED_AT_CASCINA}").text).text


@pytest.mark.parametrize(("typed", "field", "shown"), [
    ({"lat": "quarantacinque", "lon": "7.6"}, "geo", "Scrivi latitudine e longitudine come numeri"),
    ({"lat": "45.1", "lon": ""}, "geo", "Scrivi latitudine e longitudine come numeri"),
    ({"lat": "95", "lon": "7.6"}, "geo", "Scrivi [latitudine, longitudine] in gradi"),  # the checker's, in Italian
    ({"url": "ftp://files.example.org/sala"}, "url", "non è un indirizzo web"),
    ({"url": "javascript:alert(1)"}, "url", "http"),
])
def test_a_bad_geo_or_url_is_refused_beside_its_field(editor, events, typed, field, shown):
    before = events.read_bytes()
    for slug in (CASCINA, None):  # a change, and a new place
        form = place_form(editor, slug)
        response = editor.post(form.action, data=form.data(**({"name": "Sala prove"} if slug is None else {}), **typed))
        assert response.status_code == 422
        markup = response.get_data(as_text=True)
        assert shown in field_error(markup, field)
        for name, text in typed.items():  # what was typed is kept
            assert value_of(markup, name) == text
        assert events.read_bytes() == before


def test_the_same_place_changed_meanwhile_is_a_409_with_both_versions(clients, events):
    anna, bruno = clients
    anna_form, bruno_form = place_form(anna, CASCINA), place_form(bruno, CASCINA)
    latina_form = place_form(bruno, "casa-quartiere-latina")
    assert anna.post(anna_form.action, data=anna_form.data(address="Via Rubino 45")).status_code == 303
    written = events.read_bytes()
    response = bruno.post(bruno_form.action, data=bruno_form.data(address="Via E. Rubino 45, Torino"))
    assert response.status_code == 409
    assert events.read_bytes() == written
    markup = response.get_data(as_text=True)
    rows = re.findall(r"<tr><th>([^<]*)</th><td>([^<]*)</td><td>([^<]*)</td></tr>", markup)
    assert rows == [("Indirizzo", "Via Rubino 45", "Via E. Rubino 45, Torino")]  # in the file, then yours
    # Another place, read before anna's save, is applied on top of it.
    assert bruno.post(latina_form.action, data=latina_form.data(lat="41.4676", lon="12.9037")).status_code == 303
    assert data(events)["places"]["casa-quartiere-latina"]["geo"] == [41.4676, 12.9037]
    # Saving the 409 page again keeps bruno's version.
    again = Form(markup, "place")
    assert bruno.post(again.action, data=again.data()).status_code == 303
    assert data(events)["places"][CASCINA]["address"] == "Via E. Rubino 45, Torino"


def test_a_place_events_use_cannot_be_deleted_and_the_page_says_which(editor, events):
    before = events.read_bytes()
    page = editor.get(f"/edit/places/{CASCINA}/delete")
    assert ("Assemblea della Rete delle Case del Quartiere", f"/edit/events/{USED_AT_CASCINA}") in Page(page.text).links
    assert not Page(page.text).all("form", **{"class": "confirm"})
    response = editor.post(f"/edit/places/{CASCINA}/delete", data={"csrf_token": token(page.text), "version": "x"})
    assert response.status_code == 409
    assert f"/edit/events/{USED_AT_CASCINA}" in dict(Page(response.get_data(as_text=True)).links).values()
    assert events.read_bytes() == before


def test_an_unused_place_is_deleted_after_confirming(editor, events):
    form = place_form(editor)
    editor.post(form.action, data=form.data(name="Sala prove"))
    page = editor.get("/edit/places/sala-prove/delete")
    confirm = Form(page.text, "confirm")
    response = editor.post(confirm.action, data=confirm.data())
    assert response.status_code == 303
    assert "sala-prove" not in data(events)["places"]
    assert editor.get("/edit/places/sala-prove").status_code == 404


def test_a_new_description_is_in_the_feed_at_once(editor, events):
    form = settings_form(editor)
    response = editor.post("/edit/calendar", data=form.data(description="Tutti gli appuntamenti\r\ndelle Case del Quartiere"))
    assert response.status_code == 303
    feed = icalendar.Calendar.from_ical(editor.get("/calendar.ics").data)
    # icalendar leaves X- properties as written (vUnknown): the escaped line break shows.
    assert str(feed["X-WR-CALDESC"]) == "Tutti gli appuntamenti\\ndelle Case del Quartiere"
    assert str(feed["DESCRIPTION"]) == "Tutti gli appuntamenti\ndelle Case del Quartiere"
    assert data(events)["calendar"]["description"] == "Tutti gli appuntamenti\ndelle Case del Quartiere"
    one_line = settings_form(editor).data(description="Corsi e feste")
    assert editor.post("/edit/calendar", data=one_line).status_code == 303
    feed = icalendar.Calendar.from_ical(editor.get("/calendar.ics").data)
    assert str(feed["X-WR-CALDESC"]) == "Corsi e feste"


def test_settings_change_only_the_lines_changed(editor, events):
    before = events.read_text(encoding="utf-8")
    form = settings_form(editor)
    assert editor.post("/edit/calendar", data=form.data(refresh="PT3H", past_days="60")).status_code == 303
    after = events.read_text(encoding="utf-8")
    assert after == before.replace('refresh = "PT6H"\n', 'refresh = "PT3H"\npast_days = 60\n')
    feed = icalendar.Calendar.from_ical(editor.get("/calendar.ics").data)
    assert str(feed["X-PUBLISHED-TTL"]) == "PT3H"


@pytest.mark.parametrize(("typed", "field"), [
    ({"timezone": "Europe/Atlantide"}, "timezone"),
    ({"refresh": "sei ore"}, "refresh"),
    ({"past_days": "-3"}, "past_days"),
    ({"name": ""}, "name"),
])
def test_bad_settings_are_refused_beside_their_field(editor, events, typed, field):
    before = events.read_bytes()
    response = editor.post("/edit/calendar", data=settings_form(editor).data(**typed))
    assert response.status_code == 422
    markup = response.get_data(as_text=True)
    assert field_error(markup, field)
    assert [value_of(markup, name) for name in typed] == list(typed.values())
    assert events.read_bytes() == before


def test_a_base_url_from_the_environment_is_shown_read_only(events):
    client = make_app(events, BASE_URL="https://other.example.org").test_client()
    login(client)
    page = client.get("/edit/calendar").text
    shown = Page(page).all("input", id="base_url")[0]
    assert shown["value"] == "https://other.example.org" and "readonly" in shown and "name" not in shown
    before = events.read_text(encoding="utf-8")
    form = Form(page, "settings")
    assert client.post("/edit/calendar", data=form.data(base_url="https://evil.example.org", name="Eventi")).status_code == 303
    assert events.read_text(encoding="utf-8") == before.replace(
        'name = "Case del Quartiere e Patti di collaborazione"', 'name = "Eventi"')


NEW_POSTS = ["/edit/places", f"/edit/places/{CASCINA}", "/edit/places/casa-quartiere-latina/delete", "/edit/calendar"]


def test_new_posts_without_a_session_change_nothing(app, events):
    before = events.read_bytes()
    client = app.test_client()
    for path in NEW_POSTS:
        response = client.post(path, data={"name": "Intruso", "description": "x", "version": "x"})
        assert (response.status_code, response.headers["Location"]) == (303, "/edit/login"), path
    assert events.read_bytes() == before


@pytest.mark.parametrize("foreign", [False, True])
def test_new_posts_without_this_session_s_token_change_nothing(app, editor, events, foreign):
    before = events.read_bytes()
    other = app.test_client()
    login(other, "bruno", PASSWORD + " 2")
    for path in NEW_POSTS:
        page = path.removesuffix("/delete") if path != "/edit/calendar" else path
        form = Form(editor.get(page).text, "settings" if path == "/edit/calendar" else "place")
        sent = form.data(name="Senza token", description="Senza token")
        if foreign:
            sent["csrf_token"] = token(other.get("/edit/places").text)
        else:
            del sent["csrf_token"]
        response = editor.post(path, data=sent)
        assert response.status_code == 400, path
    assert events.read_bytes() == before


def test_hostile_text_comes_out_escaped(editor, events):
    form = place_form(editor)
    response = editor.post(form.action, data=form.data(name=HOSTILE, address=HOSTILE))
    assert response.status_code == 303
    slug = response.headers["Location"].rsplit("/", 1)[1]
    assert data(events)["places"][slug]["name"] == HOSTILE
    event = Form(editor.get(f"/edit/events/{WEBINAR}").text)
    editor.post(f"/edit/events/{WEBINAR}", data=event.data(place=slug))
    settings = settings_form(editor)
    assert editor.post("/edit/calendar", data=settings.data(description=HOSTILE)).status_code == 303
    for path in ("/edit/places", f"/edit/places/{slug}", f"/edit/places/{slug}/delete", "/edit/calendar",
                 f"/edit/events/{WEBINAR}", f"/events/{WEBINAR}", "/"):
        markup = editor.get(path).get_data(as_text=True)
        assert "<script>alert" not in markup and "<img src=x" not in markup and "<b>bold" not in markup, path
    assert HOSTILE in Page(editor.get(f"/edit/places/{slug}").text).text
    assert HOSTILE in Page(editor.get(f"/events/{WEBINAR}").text).text


def test_a_place_change_is_undone_from_the_history(clients, events, where):
    anna, _ = clients
    before = events.read_bytes()
    form = place_form(anna, CASCINA)
    assert anna.post(form.action, data=form.data(name="Cascina", lat="", lon="")).status_code == 303
    history = anna.get("/edit/history").get_data(as_text=True)
    assert "Modificato luogo: Cascina" in history
    assert undo_latest(anna).status_code == 303
    assert events.read_bytes() == before


def test_a_settings_change_is_undone_from_the_history(clients, events, where):
    anna, _ = clients
    before = events.read_bytes()
    assert anna.post("/edit/calendar", data=settings_form(anna).data(refresh="PT2H")).status_code == 303
    assert "Modificate le impostazioni del calendario" in anna.get("/edit/history").get_data(as_text=True)
    assert undo_latest(anna).status_code == 303
    assert events.read_bytes() == before


def test_a_place_written_as_an_inline_table_is_left_to_hand_editing(editor, events):
    text = events.read_text(encoding="utf-8").replace(
        '[places.casa-quartiere-latina]\nname = "Casa di Quartiere Latina"\naddress = "Via Sezze, 04100 Latina"\n',
        '[places]\ncasa-quartiere-latina = { name = "Casa di Quartiere Latina", address = "Via Sezze, 04100 Latina" }\n')
    events.write_text(text, encoding="utf-8")
    assert "casa-quartiere-latina = {" in text
    form = place_form(editor, "casa-quartiere-latina")
    response = editor.post(form.action, data=form.data(name="Casa di Quartiere"))
    assert response.status_code == 422
    assert "va modificata a mano" in response.get_data(as_text=True)
    assert events.read_text(encoding="utf-8") == text


"""The editor in the browser (/edit/), through Flask's test client, on a copy
of the sample events.toml with editors made by the accounts module.

Forms are filled the way a browser does: every field of the page's form as
the page shows it, then the fields the test changes. What reaches the feed is
read back with icalendar and compared with times written by hand.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from click.testing import CliRunner

from calfeed import create_app
from calfeed.accounts import Editors
from calfeed.cli import cli, editing_status
from calfeed.validation import load_calendar
from calfeed.web.editor.views import client_address
from conftest import SAMPLE, Page

SECRET = "s3cret-for-tests-only-" + "x" * 20
PASSWORD = "una password lunga"
TODAY = "2021-11-25"
ROME = ZoneInfo("Europe/Rome")
WEBINAR = "generare-prossimita"


class Form(HTMLParser):
    """The values a browser would send for the page's event form (or the
    first POST form): inputs, checked boxes, selected options, textareas."""

    def __init__(self, markup: str, css_class: str = "event"):
        super().__init__(convert_charrefs=True)
        self.css_class = css_class
        self.fields: list[tuple[str, str]] = []
        self.action = ""
        self._inside = False
        self._textarea: tuple[str, list[str]] | None = None
        self._select: str | None = None
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._inside = self.css_class in (a.get("class") or "").split() and not self.action
            if self._inside:
                self.action = a.get("action", "")
        if not self._inside:
            return
        if tag == "input" and "name" in a:
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea = (a["name"], [])
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False
        elif tag == "textarea" and self._textarea:
            name, parts = self._textarea
            self.fields.append((name, "".join(parts).removeprefix("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self._textarea[1].append(data)

    def data(self, **changes: str | list[str]) -> dict[str, str | list[str]]:
        """The form as sent, with ``changes`` in place of the fields named."""
        sent: dict[str, list[str]] = {}
        for name, value in self.fields:
            sent.setdefault(name, []).append(value)
        for name, value in changes.items():
            sent[name] = value if isinstance(value, list) else [value]
        return {name: values if len(values) > 1 else values[0] for name, values in sent.items()}


@pytest.fixture
def events(tmp_path) -> Path:
    path = tmp_path / "events.toml"
    shutil.copy(SAMPLE, path)
    editors = Editors.load(tmp_path / "editors.toml")
    editors.add("anna", PASSWORD)
    editors.add("bruno", PASSWORD + " 2")
    return path


def make_app(events: Path, **config):
    return create_app({"EVENTS": str(events), "TODAY": TODAY, "SECRET_KEY": SECRET, **config})


@pytest.fixture
def app(events):
    return make_app(events)


def token(markup: str) -> str:
    return Page(markup).all("input", name="csrf_token")[0]["value"]


def login(client, name: str = "anna", password: str = PASSWORD):
    page = client.get("/edit/login")
    return client.post("/edit/login", data={"username": name, "password": password, "csrf_token": token(page.text)})


@pytest.fixture
def editor(app):
    """A test client logged in as anna."""
    client = app.test_client()
    assert login(client).status_code == 303
    return client


def feed_event(client, summary: str) -> icalendar.Event:
    feed = icalendar.Calendar.from_ical(client.get("/calendar.ics").data)
    found = [e for e in feed.walk("VEVENT") if str(e["SUMMARY"]) == summary and "RECURRENCE-ID" not in e]
    assert len(found) == 1, [str(e["SUMMARY"]) for e in feed.walk("VEVENT")]
    return found[0]


def field_error(markup: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', markup, re.S)
    return found.group(1) if found else ""


def input_value(markup: str, name: str) -> str:
    return Page(markup).all("input", name=name)[0]["value"]


EDIT_PATHS = [
    ("GET", "/edit/"),
    ("GET", "/edit/login"),
    ("POST", "/edit/login"),
    ("POST", "/edit/logout"),
    ("GET", "/edit/events/new"),
    ("POST", "/edit/events/new"),
    ("GET", f"/edit/events/{WEBINAR}"),
    ("POST", f"/edit/events/{WEBINAR}"),
    ("GET", f"/edit/events/{WEBINAR}/delete"),
    ("POST", f"/edit/events/{WEBINAR}/delete"),
    ("GET", "/edit/static/editor.js"),
]


# --------------------------------------------------------------------------- on and off


@pytest.mark.parametrize("case", ["no editors file", "no editor in it", "no secret", "short secret"])
def test_editing_off_answers_404_everywhere_and_leaves_the_site_alone(events, case):
    config = {}
    if case == "no editors file":
        (events.parent / "editors.toml").unlink()
    elif case == "no editor in it":
        editors = Editors.load(events.parent / "editors.toml")
        editors.remove("anna")
        editors.remove("bruno")
    elif case == "no secret":
        config["SECRET_KEY"] = None
    else:
        config["SECRET_KEY"] = "y" * 31
    before = events.read_bytes()
    off = make_app(events, **config).test_client()
    for method, path in EDIT_PATHS:
        response = off.open(path, method=method, data={"username": "anna", "password": PASSWORD, "title": "X"})
        assert response.status_code == 404, (method, path)
        assert response.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in response.headers
    assert events.read_bytes() == before
    assert off.get("/").status_code == 200


def test_public_pages_are_the_same_with_editing_on(events, tmp_path):
    on = make_app(events).test_client()
    off = make_app(events, SECRET_KEY=None).test_client()
    login(on)
    # The one difference: while editing is on, the pages link to /propose
    # (the header's sections, and the home page under its list).
    links = (b'<li><a href="/propose">Proponi un evento</a></li>', b'<p class="no-print"><a href="/propose">Proponi un evento</a></p>')
    for path in ("/", f"/events/{WEBINAR}", "/calendar.ics", "/events.json", "/embed"):
        answer = on.get(path)
        assert answer.data.replace(links[0], b"").replace(links[1], b"") == off.get(path).data, path
        assert "Set-Cookie" not in answer.headers
        assert "/edit/" not in answer.get_data(as_text=True)


def test_an_editor_added_while_running_turns_editing_on(events):
    (events.parent / "editors.toml").unlink()
    client = make_app(events).test_client()
    assert client.get("/edit/login").status_code == 404
    Editors.load(events.parent / "editors.toml").add("carla", PASSWORD)
    assert client.get("/edit/login").status_code == 200


# --------------------------------------------------------------------------- sessions


def test_search_engines_may_index_the_login_and_the_form_but_nothing_behind_the_login(app, editor):
    def robots_meta(markup: str) -> list[str]:
        return [m.get("content") for m in Page(markup.encode()).all("meta", name="robots")]

    visitor = app.test_client()
    for path in ["/edit/login", "/propose"]:
        markup = visitor.get(path).get_data(as_text=True)
        assert robots_meta(markup) == [], path
        assert Page(markup.encode()).all("meta", name="description"), path  # what a search result shows
    for path in ["/edit/", "/edit/events/new", "/edit/history"]:
        assert robots_meta(editor.get(path).get_data(as_text=True)) == ["noindex"], path


def test_without_a_session_everything_redirects_to_login_and_nothing_is_written(app, events):
    before = events.read_bytes()
    client = app.test_client()
    for method, path in EDIT_PATHS:
        if path in ("/edit/login", "/edit/static/editor.js"):
            continue
        response = client.open(path, method=method, data={"title": "Intruso", "start": "2021-12-20T18:00", "version": "x"})
        assert response.status_code == 303, (method, path)
        assert response.headers["Location"] == "/edit/login"
    assert events.read_bytes() == before


def cookie_attributes(response) -> dict[str, str]:
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("calfeed_edit="))
    return {part.split("=")[0].strip().lower(): part.partition("=")[2] for part in header.split(";")[1:]}


def test_login_opens_a_session_in_an_httponly_lax_secure_cookie(app):
    client = app.test_client()
    response = login(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/edit/"
    cookie = cookie_attributes(response)
    assert "httponly" in cookie and "secure" in cookie  # the sample's base_url is https
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/edit/"
    # 12 hours, not Flask's 31 days
    expires = datetime.strptime(cookie["expires"], "%a, %d %b %Y %H:%M:%S GMT")
    assert abs((expires - datetime.utcnow()).total_seconds() - 12 * 3600) < 600
    assert client.get("/edit/").status_code == 200


def test_the_cookie_is_not_secure_for_a_plain_http_site(events):
    client = make_app(events, BASE_URL="http://localhost:8000").test_client()
    assert "secure" not in cookie_attributes(login(client))


def test_wrong_password_and_unknown_name_get_the_same_answer(app):
    answers = []
    for name, password in (("anna", "password sbagliata"), ("nessuno", PASSWORD)):
        response = login(app.test_client(), name, password)
        body = response.get_data(as_text=True).replace(name, "NAME")
        answers.append((response.status_code, re.sub(r'value="[^"]{40,}"', "TOKEN", body)))
    assert answers[0] == answers[1]
    assert answers[0][0] == 403
    assert "Nome utente o password non corretti." in answers[0][1]


def test_too_many_failures_lock_the_account_with_429(app):
    client = app.test_client()
    statuses = [login(client, "anna", "password sbagliata").status_code for _ in range(5)]
    assert statuses == [403] * 5
    locked = login(client, "anna", PASSWORD)  # even the right password
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "Troppi tentativi" in locked.get_data(as_text=True)
    assert login(app.test_client(), "bruno", PASSWORD + " 2").status_code == 303  # others still come in


def test_logout_ends_the_session(editor):
    page = editor.get("/edit/")
    response = editor.post("/edit/logout", data={"csrf_token": token(page.text)})
    assert response.status_code == 303
    assert editor.get("/edit/").status_code == 303


def test_a_removed_editor_is_logged_out(editor, events):
    Editors.load(events.parent / "editors.toml").remove("anna")
    assert editor.get("/edit/").headers["Location"] == "/edit/login"


def test_a_session_older_than_twelve_hours_is_over(editor):
    with editor.session_transaction() as session:
        session["since"] = int(time.time()) - 12 * 3600 - 60
    assert editor.get("/edit/").status_code == 303


# --------------------------------------------------------------------------- CSRF


def test_a_post_without_the_token_is_refused_and_writes_nothing(editor, events):
    before = events.read_bytes()
    form = Form(editor.get(f"/edit/events/{WEBINAR}").text)
    data = form.data(title="Senza token")
    del data["csrf_token"]
    response = editor.post(f"/edit/events/{WEBINAR}", data=data)
    assert response.status_code == 400
    assert "Il modulo è scaduto" in response.get_data(as_text=True)
    assert editor.post(f"/edit/events/{WEBINAR}/delete", data={"version": data["version"]}).status_code == 400
    assert events.read_bytes() == before


def test_another_sessions_token_is_refused(app, editor, events):
    before = events.read_bytes()
    other = app.test_client()
    login(other, "bruno", PASSWORD + " 2")
    foreign = token(other.get("/edit/events/new").text)
    form = Form(editor.get(f"/edit/events/{WEBINAR}").text)
    response = editor.post(f"/edit/events/{WEBINAR}", data=form.data(title="Token altrui", csrf_token=foreign))
    assert response.status_code == 400
    assert events.read_bytes() == before


def test_login_without_a_token_is_refused(app):
    response = app.test_client().post("/edit/login", data={"username": "anna", "password": PASSWORD})
    assert response.status_code == 400


# --------------------------------------------------------------------------- saving


def test_a_new_event_is_in_the_feed_at_once(editor, events):
    form = Form(editor.get("/edit/events/new").text)
    response = editor.post("/edit/events/new", data=form.data(
        title="Festa di Natale", start="2021-12-20T18:30", end="2021-12-20T21:00", place="bagni-pubblici",
        categories=["Feste", "Cultura, Musica"], description="Prima riga\r\n\r\nSeconda riga",
    ))
    assert response.status_code == 303
    assert response.headers["Location"] == "/edit/events/festa-di-natale"
    event = feed_event(editor, "Festa di Natale")
    assert event.decoded("DTSTART") == datetime(2021, 12, 20, 18, 30, tzinfo=ROME)
    assert event.decoded("DTEND") == datetime(2021, 12, 20, 21, 0, tzinfo=ROME)
    assert event["DESCRIPTION"] == "Prima riga\n\nSeconda riga"
    assert str(event["UID"]) == "festa-di-natale@eventi.casedelquartiere.example.org"
    page = editor.get(response.headers["Location"])
    assert "Salvato: «Festa di Natale»." in page.get_data(as_text=True)
    assert input_value(page.text, "start") == "2021-12-20T18:30"
    saved = load_calendar(events).event("festa-di-natale")
    assert [c.name for c in saved.categories] == ["Feste", "Cultura", "Musica"]


def test_an_all_day_event_from_the_checkbox(editor):
    form = Form(editor.get("/edit/events/new").text)
    response = editor.post("/edit/events/new", data=form.data(
        title="Mercatino", start="2021-12-18T10:00", end="2021-12-19T18:00", all_day="1"))
    assert response.status_code == 303
    event = feed_event(editor, "Mercatino")
    assert str(event["DTSTART"].to_ical(), "ascii") == "20211218"
    assert str(event["DTEND"].to_ical(), "ascii") == "20211220"  # the day after the last day


def test_changing_the_time_raises_sequence(editor, events):
    before = feed_event(editor, "Assemblea della Rete delle Case del Quartiere")
    assert int(before.get("SEQUENCE", 0)) == 0
    form = Form(editor.get("/edit/events/assemblea-rete-case-quartiere").text)
    assert dict(form.fields)["start"] == "2021-12-14T17:30"
    response = editor.post("/edit/events/assemblea-rete-case-quartiere", data=form.data(start="2021-12-15T18:00"))
    assert response.status_code == 303
    after = feed_event(editor, "Assemblea della Rete delle Case del Quartiere")
    assert after.decoded("DTSTART") == datetime(2021, 12, 15, 18, 0, tzinfo=ROME)
    assert int(after["SEQUENCE"]) == 1
    text = events.read_text()
    assert "duration = \"PT2H\"" in text  # a field the form shows, unchanged, stays as written


def test_saving_an_unchanged_form_writes_nothing(editor, events):
    before = events.read_bytes()
    form = Form(editor.get(f"/edit/events/{WEBINAR}").text)
    response = editor.post(f"/edit/events/{WEBINAR}", data=form.data())
    assert response.status_code == 303
    assert events.read_bytes() == before


def test_an_invalid_form_answers_422_with_the_message_beside_the_field_and_the_text_kept(editor, events):
    before = events.read_bytes()
    form = Form(editor.get(f"/edit/events/{WEBINAR}").text)
    response = editor.post(f"/edit/events/{WEBINAR}", data=form.data(title="Titolo nuovo", end="2021-11-30T19:30"))
    assert response.status_code == 422
    markup = response.get_data(as_text=True)
    assert "non è dopo l&#39;inizio" in field_error(markup, "end")
    assert field_error(markup, "title") == ""
    assert input_value(markup, "end") == "2021-11-30T19:30"
    assert input_value(markup, "title") == "Titolo nuovo"
    assert "L&#39;evento non è stato salvato" in markup or "L'evento non è stato salvato" in markup
    assert events.read_bytes() == before


def test_text_that_is_not_a_date_comes_back_as_typed(editor, events):
    before = events.read_bytes()
    form = Form(editor.get("/edit/events/new").text)
    response = editor.post("/edit/events/new", data=form.data(title="Prova", start="domani alle 18"))
    assert response.status_code == 422
    markup = response.get_data(as_text=True)
    assert "AAAA-MM-GG" in field_error(markup, "start")
    start = Page(markup).all("input", name="start")[0]
    assert (start["value"], start["type"]) == ("domani alle 18", "text")
    assert events.read_bytes() == before


def test_a_stale_form_answers_409_with_both_versions_and_writes_nothing(app, editor, events):
    other = app.test_client()
    login(other, "bruno", PASSWORD + " 2")
    mine = Form(editor.get(f"/edit/events/{WEBINAR}").text)
    theirs = Form(other.get(f"/edit/events/{WEBINAR}").text)
    assert other.post(f"/edit/events/{WEBINAR}", data=theirs.data(title="Il titolo di Bruno")).status_code == 303
    after_bruno = events.read_bytes()
    response = editor.post(f"/edit/events/{WEBINAR}", data=mine.data(title="Il titolo di Anna"))
    assert response.status_code == 409
    markup = response.get_data(as_text=True)
    rows = re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>", markup)
    assert ("Titolo", "Il titolo di Bruno", "Il titolo di Anna") in rows
    assert events.read_bytes() == after_bruno
    # Saving the 409 page's form keeps Anna's version, on purpose.
    again = Form(markup)
    assert again.data()["title"] == "Il titolo di Anna"
    assert editor.post(f"/edit/events/{WEBINAR}", data=again.data()).status_code == 303
    assert load_calendar(events).event(WEBINAR).title == "Il titolo di Anna"


def test_saving_an_event_deleted_meanwhile_answers_409_and_offers_to_create_it_again(app, editor, events):
    other = app.test_client()
    login(other, "bruno", PASSWORD + " 2")
    mine = Form(editor.get(f"/edit/events/{WEBINAR}").text)
    confirm = Form(other.get(f"/edit/events/{WEBINAR}/delete").text, css_class="confirm")
    assert other.post(f"/edit/events/{WEBINAR}/delete", data=confirm.data()).status_code == 303
    after_delete = events.read_bytes()
    response = editor.post(f"/edit/events/{WEBINAR}", data=mine.data(title="Webinar"))
    assert response.status_code == 409
    assert "eliminato dal file nel frattempo" in response.get_data(as_text=True)
    assert Form(response.get_data(as_text=True)).action == "/edit/events/new"
    assert events.read_bytes() == after_delete


def test_logins_behind_a_proxy_count_the_address_the_proxy_saw(events):
    with make_app(events, TRUSTED_PROXIES=1).test_client() as client:
        client.get("/edit/login", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                   headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.7"})
        assert client_address() == "203.0.113.7"  # the first entry is the client's to invent
    with make_app(events).test_client() as client:
        client.get("/edit/login", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"X-Forwarded-For": "203.0.113.7"})
        assert client_address() == "127.0.0.1"  # no proxy trusted: the header is ignored


def test_a_change_to_another_event_is_no_conflict(app, editor, events):
    other = app.test_client()
    login(other, "bruno", PASSWORD + " 2")
    mine = Form(editor.get(f"/edit/events/{WEBINAR}").text)
    theirs = Form(other.get("/edit/events/assemblea-rete-case-quartiere").text)
    assert other.post("/edit/events/assemblea-rete-case-quartiere", data=theirs.data(title="Assemblea 2021")).status_code == 303
    assert editor.post(f"/edit/events/{WEBINAR}", data=mine.data(title="Webinar")).status_code == 303
    calendar = load_calendar(events)
    assert (calendar.event(WEBINAR).title, calendar.event("assemblea-rete-case-quartiere").title) == ("Webinar", "Assemblea 2021")


def test_delete_asks_first_then_removes_the_event(editor, events):
    page = editor.get(f"/edit/events/{WEBINAR}/delete")
    assert page.status_code == 200
    assert "Segna come annullato" in page.get_data(as_text=True)
    form = Form(page.text, css_class="confirm")
    response = editor.post(f"/edit/events/{WEBINAR}/delete", data=form.data())
    assert response.status_code == 303
    assert response.headers["Location"] == "/edit/"
    assert editor.get(f"/events/{WEBINAR}").status_code == 404
    feed = icalendar.Calendar.from_ical(editor.get("/calendar.ics").data)
    assert all(not str(e["UID"]).startswith(WEBINAR + "@") for e in feed.walk("VEVENT"))
    assert load_calendar(events).event(WEBINAR) is None


def test_the_list_shows_upcoming_first_finds_by_title_and_keeps_past_a_click_away(editor):
    listing = Page(editor.get("/edit/").text)
    titles = [text for text, href in listing.links if href.startswith("/edit/events/") and href != "/edit/events/new"]
    assert titles[0].startswith("GENERARE PROSSIMITÀ")
    assert titles.index("Assemblea della Rete delle Case del Quartiere") == 1
    found = Page(editor.get("/edit/?q=assemblea").text)
    assert [t for t, h in found.links if h.startswith("/edit/events/") and h != "/edit/events/new"] == [
        "Assemblea della Rete delle Case del Quartiere"]
    assert listing.href("Mostra gli eventi passati") == "/edit/?past=1"


# --------------------------------------------------------------------------- headers and escaping


def test_every_editor_answer_is_not_stored_and_not_framed(app, editor):
    form = Form(editor.get(f"/edit/events/{WEBINAR}").text)
    answers = [
        app.test_client().get("/edit/"),  # 303 to login
        app.test_client().get("/edit/login"),
        editor.get("/edit/"),
        editor.get("/edit/events/new"),
        editor.get("/edit/events/nessuno"),  # 404
        editor.get("/edit/static/editor.js"),
        editor.post(f"/edit/events/{WEBINAR}", data=form.data(end="2020-01-01T00:00")),  # 422
        editor.post(f"/edit/events/{WEBINAR}", data={}),  # 400
    ]
    assert [a.status_code for a in answers] == [303, 200, 200, 200, 404, 200, 422, 400]
    for answer in answers:
        assert answer.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "DENY"


HOSTILE = '<script>alert("x")</script> & "quote" \'apos\' """\n[[events]]\nid = "iniettato"'


def test_hostile_text_is_escaped_on_the_pages_and_cannot_inject_toml(editor, events):
    count = len(load_calendar(events).events)
    form = Form(editor.get("/edit/events/new").text)
    response = editor.post("/edit/events/new", data=form.data(
        title='<img src=x onerror=alert(1)> "Festa"', start="2021-12-20T18:30",
        location='<b>via</b> "Roma"', description=HOSTILE,
    ))
    assert response.status_code == 303
    event_id = response.headers["Location"].rsplit("/", 1)[1]
    calendar = load_calendar(events)
    assert len(calendar.events) == count + 1 and calendar.event("iniettato") is None
    assert calendar.event(event_id).description == HOSTILE
    for path in ("/", f"/events/{event_id}", "/edit/", f"/edit/events/{event_id}"):
        markup = editor.get(path).get_data(as_text=True)
        assert "<img src=x" not in markup and '<script>alert("x")' not in markup and "<b>via</b>" not in markup, path
        assert '<img src=x onerror=alert(1)> "Festa"' in Page(markup).text, path


def test_text_typed_in_a_title_cannot_break_the_event_pages_structured_data(editor):
    title = 'Festa <!--<script> </script> "fine"'
    form = Form(editor.get("/edit/events/new").text)
    response = editor.post("/edit/events/new", data=form.data(title=title, start="2021-12-20T18:30"))
    markup = editor.get("/events/" + response.headers["Location"].rsplit("/", 1)[1]).get_data(as_text=True)
    data = markup.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data  # else "<!--<script" makes browsers read the rest of the page as script
    assert json.loads(data)["name"] == title


# --------------------------------------------------------------------------- command line


def test_build_writes_nothing_of_the_editor(events, tmp_path, monkeypatch):
    monkeypatch.setenv("CALFEED_SECRET_KEY", SECRET)
    monkeypatch.setenv("CALFEED_TODAY", TODAY)
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(events), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files and not any("edit" in p.relative_to(out).parts[0] for p in files)
    # Only robots.txt names the editor, to keep crawlers out of all but its door.
    robots = out / "robots.txt"
    named = [line for line in robots.read_text().splitlines() if "/edit/" in line]
    assert named == ["Allow: /edit/login", "Disallow: /edit/"]
    assert not any(
        b"/edit/" in p.read_bytes() for p in files if p.suffix in (".html", ".js", ".json", ".xml", ".txt") and p != robots
    )


def test_serve_says_whether_editing_is_on_and_why_not(events, monkeypatch):
    calendar = load_calendar(events)
    monkeypatch.delenv("CALFEED_EDITORS", raising=False)
    monkeypatch.setenv("CALFEED_SECRET_KEY", SECRET)
    assert "is on: 2 editors in" in editing_status(str(events), calendar)
    monkeypatch.setenv("CALFEED_SECRET_KEY", "corta")
    assert "is off: CALFEED_SECRET_KEY has 5 characters; it needs at least 32" in editing_status(str(events), calendar)
    monkeypatch.delenv("CALFEED_SECRET_KEY")
    (events.parent / "editors.toml").unlink()
    line = editing_status(str(events), calendar)
    assert "is off: no editors in" in line and "CALFEED_SECRET_KEY is not set" in line

"""/edit/history and its undo buttons, in a git work tree and outside one.

Oracle: the bytes of events.toml before a save, kept by the test; git's own
log for authors and messages.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from calfeed.validation import load_calendar
from test_editor import PASSWORD, WEBINAR, Form, events, login, make_app  # noqa: F401 (events: a fixture)

NEW = {"title": "Cena sociale", "start": "2021-12-20T20:00", "end": "2021-12-20T23:00"}


def git(folder: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *arguments], check=True, capture_output=True, text=True).stdout


@pytest.fixture(params=["git", "log"])
def where(request, events, monkeypatch) -> str:
    """Each test runs with events.toml in a git work tree and outside one."""
    if request.param == "git":
        for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(events.parent / "no-gitconfig"))
        git(events.parent, "init", "-q")
        git(events.parent, "add", "events.toml")
        git(events.parent, "-c", "user.name=setup", "-c", "user.email=setup@example.org", "commit", "-qm", "start")
    return request.param


@pytest.fixture
def clients(events, where):
    app = make_app(events)
    anna, bruno = app.test_client(), app.test_client()
    assert login(anna).status_code == 303
    assert login(bruno, "bruno", PASSWORD + " 2").status_code == 303
    return anna, bruno


def save(client, path: str, **changes: str):
    form = Form(client.get(path).text)
    response = client.post(form.action, data=form.data(**changes))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response


def undo_latest(client):
    """Press "Annulla" on the newest entry of the history page."""
    page = client.get("/edit/history")
    assert page.status_code == 200
    form = Form(page.text, css_class="undo")
    return client.post(form.action, data=form.data())


def delete(client, event_id: str):
    form = Form(client.get(f"/edit/events/{event_id}/delete").text, css_class="confirm")
    assert client.post(form.action, data=form.data()).status_code == 303


def test_create_edit_delete_each_undone_byte_for_byte(clients, events, where):
    anna, bruno = clients
    original = events.read_bytes()
    save(anna, "/edit/events/new", **NEW)
    assert load_calendar(events).event("cena-sociale") is not None
    response = undo_latest(bruno)
    assert response.status_code == 303 and response.headers["Location"] == "/edit/history"
    assert events.read_bytes() == original
    assert "Annullato: «Cena sociale»." in bruno.get("/edit/history").get_data(as_text=True)

    save(anna, f"/edit/events/{WEBINAR}", title="Titolo cambiato", start="2021-12-01T18:30")
    assert events.read_bytes() != original
    assert undo_latest(bruno).status_code == 303
    assert events.read_bytes() == original
    assert load_calendar(events).event(WEBINAR).title.startswith("GENERARE PROSSIMITÀ")

    delete(anna, "sportello-patti-latina")  # a series with comments and overrides
    assert load_calendar(events).event("sportello-patti-latina") is None
    assert undo_latest(bruno).status_code == 303
    assert events.read_bytes() == original
    # the worker that wrote serves the file at once
    assert "Sportello Patti di collaborazione" in anna.get("/calendar.ics").get_data(as_text=True)

    if where == "git":
        log = git(events.parent, "log", "--format=%an|%s").splitlines()
        assert log[:6] == [
            "bruno|Annullato: Sportello Patti di collaborazione", "anna|Eliminato: Sportello Patti di collaborazione",
            "bruno|Annullato: Titolo cambiato", "anna|Modificato: Titolo cambiato",
            "bruno|Annullato: Cena sociale", "anna|Aggiunto: Cena sociale",
        ]
        assert git(events.parent, "status", "--porcelain", "events.toml") == ""
    else:
        log = (events.parent / ".events.toml.history.jsonl").read_text().splitlines()
        assert len(log) == 6


def test_the_history_lists_changes_newest_first_with_author_and_diff(clients, where):
    anna, bruno = clients
    save(anna, f"/edit/events/{WEBINAR}", title="Primo titolo")
    save(bruno, "/edit/events/new", **NEW)
    markup = anna.get("/edit/history").get_data(as_text=True)
    subjects = re.findall(r"<strong>(.*?)</strong> · di (\w+)", markup)
    assert subjects[:2] == [("Aggiunto: Cena sociale", "bruno"), ("Modificato: Primo titolo", "anna")]
    assert '<span class="add">+title = &#34;Primo titolo&#34;</span>' in markup or \
        '<span class="add">+title = &quot;Primo titolo&quot;</span>' in markup
    assert '<span class="add">+title = &#34;Cena sociale&#34;</span>' in markup or \
        '<span class="add">+title = &quot;Cena sociale&quot;</span>' in markup


def test_undoing_an_event_changed_since_is_refused_with_both_versions(clients, events):
    anna, bruno = clients
    save(anna, f"/edit/events/{WEBINAR}", title="Il titolo di Anna")
    page = Form(anna.get("/edit/history").text, css_class="undo")  # the undo button of Anna's change
    save(bruno, f"/edit/events/{WEBINAR}", title="Il titolo di Bruno")
    before = events.read_bytes()
    response = anna.post(page.action, data=page.data())
    assert response.status_code == 409
    rows = re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>", response.get_data(as_text=True))
    assert ("Titolo", "Il titolo di Bruno", "GENERARE PROSSIMITÀ. Quali") in [
        (a, b, c[: len("GENERARE PROSSIMITÀ. Quali")]) for a, b, c in rows]
    assert events.read_bytes() == before


def test_undoing_one_change_keeps_a_later_change_to_another_event(clients, events):
    anna, bruno = clients
    save(anna, f"/edit/events/{WEBINAR}", title="Il titolo di Anna")
    page = Form(anna.get("/edit/history").text, css_class="undo")
    save(bruno, "/edit/events/assemblea-rete-case-quartiere", title="Assemblea 2021")
    assert anna.post(page.action, data=page.data()).status_code == 303
    calendar = load_calendar(events)
    assert calendar.event(WEBINAR).title.startswith("GENERARE PROSSIMITÀ")
    assert calendar.event("assemblea-rete-case-quartiere").title == "Assemblea 2021"


def test_undo_needs_the_token_and_an_existing_change(clients, events):
    anna, _ = clients
    save(anna, f"/edit/events/{WEBINAR}", title="Il titolo di Anna")
    form = Form(anna.get("/edit/history").text, css_class="undo")
    before = events.read_bytes()
    assert anna.post(form.action, data={}).status_code == 400
    assert anna.post("/edit/history/log-999/undo", data=form.data()).status_code == 404
    assert anna.post("/edit/history/" + "0" * 40 + "/undo", data=form.data()).status_code == 404
    assert anna.get(form.action).status_code == 405
    assert events.read_bytes() == before

"""/propose and the editors' queue (/edit/proposals), through Flask's test
client on a copy of the sample events.toml.

The form is filled the way a browser does (every field the page shows);
the form's time is signed for a moment written by the test, so that no
assertion depends on how fast the machine is. What reaches the feed is read
back with icalendar and compared with times written by hand.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import subprocess
import time
from datetime import datetime
from pathlib import Path

import html5lib
import icalendar
import pytest
from click.testing import CliRunner

from calfeed.cli import cli
from calfeed.proposals import ProposalBox, ProposalLimits
from calfeed.web.proposals import HONEYPOT, issued_stamp
from conftest import Page
from test_editor import ROME, Form, events, login, make_app  # noqa: F401  (events: a fixture)
from test_webhooks import hook  # noqa: F401  (a fixture)

TITLE = "Merenda sinoira in cortile"
CONTACT = "giulia.bianchi@example.org"
GOOD = {"title": TITLE, "start": "2021-12-18T16:00", "end": "2021-12-18T19:00", "place": "cascina-roccafranca",
        "categories": "Feste", "description": "Porta qualcosa da condividere.", "url": "https://example.org/merenda",
        "email": CONTACT}


def proposals_folder(events: Path) -> Path:
    return events.parent / "proposals"


def pending_files(events: Path) -> list[Path]:
    folder = proposals_folder(events)
    return sorted(folder.glob("*.json")) if folder.exists() else []


def propose(client, app, issued_ago: float = 60.0, address: str = "198.51.100.7", **changes: str):
    """Post the public form as a person would: the page's fields, filled in
    ``issued_ago`` seconds after the page was made."""
    page = client.get("/propose")
    assert page.status_code == 200
    form = Form(page.text, css_class="propose")
    data = form.data(**{**GOOD, **changes})
    if issued_ago is not None:
        with app.test_request_context():
            data["issued"] = issued_stamp(time.time() - issued_ago)
    return client.post("/propose", data=data, environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def app(events):
    return make_app(events)


@pytest.fixture
def visitor(app):
    return app.test_client()


@pytest.fixture
def editor(app):
    client = app.test_client()
    assert login(client).status_code == 303
    return client


def csrf_of(client, path: str) -> str:
    return Page(client.get(path).text).all("input", name="csrf_token")[0]["value"]


# --------------------------------------------------------------------------- on and off


def test_propose_is_404_and_unlinked_while_editing_is_off(events):
    off = make_app(events, SECRET_KEY=None).test_client()
    assert off.get("/propose").status_code == 404
    assert off.post("/propose", data=GOOD).status_code == 404
    assert off.get("/propose/thanks").status_code == 404
    assert "/propose" not in off.get("/").text
    assert not proposals_folder(events).exists()


def test_the_home_page_and_the_past_events_link_to_the_form_while_editing_is_on(visitor):
    assert Page(visitor.get("/").text).href("Proponi un evento") == "/propose"
    assert Page(visitor.get("/past").text).href("Proponi un evento") == "/propose"
    page = visitor.get("/propose")
    assert page.headers["Cache-Control"] == "no-store"
    # The CSRF cookie is /propose's own: the public pages stay cookie-free and cacheable.
    assert "Path=/propose;" in page.headers["Set-Cookie"]
    assert "Set-Cookie" not in visitor.get("/").headers


def test_an_event_page_links_to_the_form_only_while_editing_is_on(app, visitor):
    """The masthead of the event pages is rendered once per calendar version
    (it is the same on each): it still follows editing turned off under it."""
    assert Page(visitor.get("/events/generare-prossimita").text).href("Proponi un evento") == "/propose"
    app.extensions["calfeed.editor"].editors.path.unlink()
    page = visitor.get("/events/generare-prossimita")
    assert page.status_code == 200 and "/propose" not in page.text
    assert "/propose" not in visitor.get("/").text


# --------------------------------------------------------------------------- sending


def test_a_proposal_is_one_file_with_the_contact_and_no_raw_address(app, visitor, events):
    before = events.read_bytes()
    answer = propose(visitor, app)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/propose/thanks"
    thanks = Page(visitor.get("/propose/thanks").text).text
    assert "Un redattore la leggerà" in thanks and "iscriviti al calendario" in thanks
    [stored] = pending_files(events)
    record = json.loads(stored.read_text(encoding="utf-8"))
    assert re.fullmatch(r"[0-9a-f]{24}", stored.stem) and record["id"] == stored.stem
    assert record["email"] == CONTACT
    assert record["fields"]["title"] == TITLE and record["fields"]["start"] == "2021-12-18T16:00"
    assert record["fields"]["categories"] == ["Feste"]
    assert "198.51.100.7" not in stored.read_text() and re.fullmatch(r"[0-9a-f]{32}", record["address"])
    assert events.read_bytes() == before
    # Nothing else is left in the folder: no temporary file, nothing half-written.
    assert not list(proposals_folder(events).glob("*.tmp"))


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"end": "2021-12-18T15:00"}, "end", "after"),
    ({"title": "<b>Festa</b>"}, "title", "HTML"),
    ({"description": "ciao <script>alert(1)</script>"}, "description", "HTML"),
    ({"title": "Festa\x1b[31m rossa"}, "title", "caratteri non ammessi"),
    # A forged post: a browser's one-line field cannot hold a line break.
    ({"title": "Festa\r\nBCC: tutti"}, "title", "caratteri non ammessi"),
    ({"location": "Via Roma 1\nPiano 2"}, "location", "caratteri non ammessi"),
    ({"url": "javascript:alert(1)"}, "url", "http"),
    ({"email": "non-una-email"}, "email", "e-mail valido"),
    ({"start": "domani"}, "start", ""),
    ({"start": "2021-11-01T18:00", "end": ""}, "start", "già passata"),
    ({"description": "x" * 5001}, "description", "troppo lungo"),
    ({"categories": "Categoria nuova"}, "categories", "categorie dell'elenco"),
    ({"place": "casa-mia"}, "place", "luogo dell'elenco"),
    ({"title": ""}, "title", "obbligatorio"),
])
def test_a_refused_proposal_says_why_beside_the_field_and_keeps_what_was_typed(app, visitor, events, changes, field, words):
    answer = propose(visitor, app, **changes)
    assert answer.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', answer.text, re.S)
    assert error is not None, answer.text
    assert words.casefold() in Page(error.group(1)).text.casefold()
    form = Form(answer.text, css_class="propose").data()
    typed = {**GOOD, **changes}
    for name in ("title", "start", "location", "url", "email"):
        if name in typed and name != field:
            assert form.get(name, "") == typed[name], name
    # What was typed comes back escaped, never as markup.
    assert "<script>alert" not in answer.text and "<b>Festa" not in answer.text
    assert pending_files(events) == []


def test_an_all_day_proposal_over_two_days_is_accepted(app, visitor, events):
    answer = propose(visitor, app, start="2021-12-18", end="2021-12-19", all_day="1", place="", location="Giardino di via Nizza")
    assert answer.status_code == 303
    [stored] = pending_files(events)
    fields = json.loads(stored.read_text())["fields"]
    assert (fields["all_day"], fields["location"], fields["place"]) == (True, "Giardino di via Nizza", "")


def test_a_post_without_the_csrf_token_or_with_another_visitors_is_400(app, visitor, events):
    data = dict(GOOD)
    with app.test_request_context():
        data["issued"] = issued_stamp(time.time() - 60)
    visitor.get("/propose")
    assert visitor.post("/propose", data=data).status_code == 400
    other = app.test_client()
    foreign = Page(other.get("/propose").text).all("input", name="csrf_token")[0]["value"]
    assert visitor.post("/propose", data={**data, "csrf_token": foreign}).status_code == 400
    assert pending_files(events) == []


@pytest.mark.parametrize("case", ["honeypot", "too fast", "from the future", "no time", "forged time"])
def test_bots_are_thanked_and_dropped_silently(app, visitor, events, case):
    if case == "honeypot":
        answer = propose(visitor, app, **{HONEYPOT: "https://spam.example"})
    elif case == "too fast":
        answer = propose(visitor, app, issued_ago=0)
    elif case == "from the future":
        answer = propose(visitor, app, issued_ago=-600)
    elif case == "no time":
        answer = propose(visitor, app, issued_ago=None, issued="")
    else:
        answer = propose(visitor, app, issued_ago=None, issued="MTIzNDU2Nzg5MC4w.forged")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/propose/thanks"
    assert pending_files(events) == []


def test_a_post_larger_than_the_limit_is_refused_and_nothing_is_written(app, visitor, events):
    answer = propose(visitor, app, description="x" * 40_000)
    assert answer.status_code == 413
    assert pending_files(events) == []


def test_a_read_only_proposals_folder_closes_the_form_without_crashing(events, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    app = make_app(events, PROPOSALS=str(blocker / "proposals"))
    visitor = app.test_client()
    page = visitor.get("/propose")
    assert page.status_code == 503 and "chiuse" in page.text
    answer = propose_anyway(visitor, app)
    assert answer.status_code == 503 and "Le proposte sono chiuse" in answer.text


def propose_anyway(client, app):
    form = Form(client.get("/propose").text, css_class="propose")
    data = form.data(**GOOD)
    with app.test_request_context():
        data["issued"] = issued_stamp(time.time() - 60)
    return client.post("/propose", data=data)


# --------------------------------------------------------------------------- limits


def test_an_address_over_its_hourly_limit_gets_429_and_nothing_is_written(events):
    app = make_app(events, PROPOSALS_PER_HOUR=2)
    visitor = app.test_client()
    for n in range(2):
        assert propose(visitor, app, title=f"{TITLE} {n}").status_code == 303
    refused = propose(visitor, app, title=f"{TITLE} 3")
    assert refused.status_code == 429
    assert "riprova più tardi" in refused.text and refused.headers["Retry-After"] == "600"
    assert Form(refused.text, css_class="propose").data()["title"] == f"{TITLE} 3"
    assert len(pending_files(events)) == 2
    # Another address is counted apart; the same /64 of IPv6 is one address.
    assert propose(visitor, app, title="Altra", address="203.0.113.9").status_code == 303
    assert propose(visitor, app, title="V6 a", address="2001:db8::1").status_code == 303
    assert propose(visitor, app, title="V6 b", address="2001:db8::2").status_code == 303
    assert propose(visitor, app, title="V6 c", address="2001:db8::ffff").status_code == 429
    assert len(pending_files(events)) == 5


def test_a_full_queue_gets_429_and_nothing_is_written(events):
    app = make_app(events, PROPOSALS_MAX_PENDING=2)
    visitor = app.test_client()
    for n in range(2):
        assert propose(visitor, app, title=f"{TITLE} {n}", address=f"192.0.2.{n + 1}").status_code == 303
    refused = propose(visitor, app, title="Una di troppo", address="192.0.2.50")
    assert refused.status_code == 429 and "riprova più tardi" in refused.text
    assert len(pending_files(events)) == 2


def _allow_many(folder: str, count: int, results) -> None:
    limits = ProposalLimits(folder, per_hour=5)
    results.put(sum(limits.allow("192.0.2.1", "stored") for _ in range(count)))


def test_the_per_address_limit_holds_across_two_processes(tmp_path):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_allow_many, args=(str(tmp_path), 6, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    allowed = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert sum(allowed) == 5


def test_the_cap_holds_for_concurrent_writers(tmp_path):
    box = ProposalBox(tmp_path, max_pending=3)
    stored = 0
    for n in range(5):
        try:
            box.store({"title": f"t{n}"}, "a@example.org", "h")
            stored += 1
        except Exception as error:  # noqa: BLE001  (the one expected kind is checked below)
            assert type(error).__name__ == "QueueFull"
    assert stored == 3 and box.count() == 3


# --------------------------------------------------------------------------- nothing public


def test_a_pending_proposal_is_nowhere_public(app, visitor, events, tmp_path):
    assert propose(visitor, app).status_code == 303
    for path in ("/", "/past", "/month", "/month/2021-12", "/calendar.ics", "/events.json", "/embed", "/feed.rss",
                 "/feed.atom", "/categories/feste.ics", "/places/cascina-roccafranca.ics", "/sitemap.xml",
                 "/sitemap-events-1.xml"):
        answer = visitor.get(path)
        assert answer.status_code == 200, path
        assert TITLE not in answer.get_data(as_text=True), path
        assert CONTACT not in answer.get_data(as_text=True), path
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(events), "--out", str(out)], env={"CALFEED_TODAY": "2021-11-25"})
    assert result.exit_code == 0, result.output
    built = [path for path in out.rglob("*") if path.is_file()]
    assert len(built) > 20
    assert not [path for path in built if TITLE.encode() in path.read_bytes() or b"/propose" in path.read_bytes()]


# --------------------------------------------------------------------------- the queue


def test_the_queue_lists_pending_proposals_oldest_first_with_a_preview(app, visitor, editor, events):
    for n, title in enumerate(("Prima proposta", "Seconda proposta")):
        assert propose(visitor, app, title=title, address=f"192.0.2.{n + 1}").status_code == 303
        # The folder orders by arrival time (seconds): make the second one later.
        for stored in pending_files(events):
            record = json.loads(stored.read_text())
            if record["fields"]["title"] == "Prima proposta":
                record["received"] = "2021-11-25T08:00:00+00:00"
                stored.write_text(json.dumps(record))
    page = editor.get("/edit/proposals")
    assert page.status_code == 200
    text = Page(page.text).text
    assert text.index("Prima proposta") < text.index("Seconda proposta")
    assert "Sabato 18 dicembre 2021, 16:00–19:00" in text
    assert "Cascina Roccafranca" in text and "Porta qualcosa da condividere." in text and CONTACT in text
    assert page.headers["Cache-Control"] == "no-store"


def test_the_queue_size_shows_on_every_editor_page(app, visitor, editor):
    for n in range(3):
        assert propose(visitor, app, title=f"{TITLE} {n}", address=f"192.0.2.{n + 1}").status_code == 303
    for path in ("/edit/", "/edit/events/new", "/edit/history", "/edit/proposals"):
        badge = re.search(r'<span class="badge queue">(\d+)</span>', editor.get(path).text)
        assert badge is not None and badge.group(1) == "3", path


def test_the_queue_needs_a_session(app, visitor, events):
    assert propose(visitor, app).status_code == 303
    [stored] = pending_files(events)
    assert visitor.get("/edit/proposals").status_code == 303
    assert visitor.post(f"/edit/proposals/{stored.stem}/approve").status_code == 303
    assert pending_files(events) == [stored]


def test_hostile_text_is_escaped_in_the_queue(editor, events):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    ProposalBox(proposals_folder(events)).store(
        {"title": hostile, "start": "2021-12-18T16:00", "description": hostile, "location": hostile,
         "url": "javascript:alert(1)", "categories": [hostile]}, f"{hostile}@example.org", "h")
    for path in ("/edit/proposals", f"/edit/proposals/{pending_files(events)[0].stem}"):
        page = editor.get(path)
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, path
        assert "&lt;script&gt;" in page.text, path
        assert 'href="javascript:' not in page.text


def approve_button(editor, events) -> tuple[str, str]:
    [stored] = pending_files(events)
    return stored.stem, csrf_of(editor, "/edit/proposals")


def test_approving_writes_the_event_as_an_editors_and_leaves_the_contact_out(app, visitor, editor, events):
    assert propose(visitor, app).status_code == 303
    pid, token = approve_button(editor, events)
    answer = editor.post(f"/edit/proposals/{pid}/approve", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["Location"] == "/edit/proposals"
    feed = icalendar.Calendar.from_ical(visitor.get("/calendar.ics").data)
    [event] = [e for e in feed.walk("VEVENT") if str(e["SUMMARY"]) == TITLE]
    assert event.decoded("DTSTART") == datetime(2021, 12, 18, 16, tzinfo=ROME)
    assert event.decoded("DTEND") == datetime(2021, 12, 18, 19, tzinfo=ROME)
    assert str(event["LOCATION"]).startswith("Cascina Roccafranca")
    text = events.read_text(encoding="utf-8")
    assert 'id = "merenda-sinoira-in-cortile"' in text and CONTACT not in text
    for path in ("/calendar.ics", "/events.json", "/", "/events/merenda-sinoira-in-cortile"):
        assert CONTACT not in visitor.get(path).get_data(as_text=True), path
    assert pending_files(events) == []
    decided = json.loads((proposals_folder(events) / "approved" / f"{pid}.json").read_text())
    assert decided["decision"]["editor"] == "anna" and decided["decision"]["event"] == "merenda-sinoira-in-cortile"
    history = Page(editor.get("/edit/history").text).text
    assert f"Approvato: {TITLE} (proposto da g…@example.org)" in history
    assert "Nessuna proposta in attesa." in editor.get("/edit/proposals").text


def git(folder: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *arguments], check=True, capture_output=True, text=True).stdout


def test_in_git_the_approval_is_a_commit_by_the_editor_and_the_proposals_stay_out(app, visitor, editor, events):
    git(events.parent, "init", "-q")
    git(events.parent, "add", "events.toml")
    git(events.parent, "-c", "user.name=setup", "-c", "user.email=setup@example.org", "commit", "-qm", "start")
    assert propose(visitor, app).status_code == 303
    pid, token = approve_button(editor, events)
    assert editor.post(f"/edit/proposals/{pid}/approve", data={"csrf_token": token}).status_code == 303
    assert git(events.parent, "log", "-1", "--format=%an|%s") == f"anna|Approvato: {TITLE} (proposto da g…@example.org)\n"
    assert "proposals" not in git(events.parent, "status", "--porcelain", "--untracked-files=all")
    assert CONTACT not in git(events.parent, "log", "-p")


def test_an_editor_may_change_fields_before_approving(app, visitor, editor, events):
    assert propose(visitor, app).status_code == 303
    [stored] = pending_files(events)
    review = editor.get(f"/edit/proposals/{stored.stem}")
    form = Form(review.text)
    assert form.action == f"/edit/proposals/{stored.stem}/approve"
    answer = editor.post(form.action, data=form.data(title="Merenda in cortile", end="2021-12-18T20:30"))
    assert answer.status_code == 303
    feed = icalendar.Calendar.from_ical(visitor.get("/calendar.ics").data)
    [event] = [e for e in feed.walk("VEVENT") if str(e["SUMMARY"]) == "Merenda in cortile"]
    assert event.decoded("DTEND") == datetime(2021, 12, 18, 20, 30, tzinfo=ROME)
    assert TITLE not in events.read_text(encoding="utf-8")


def test_an_approval_the_checker_refuses_writes_nothing_and_keeps_the_proposal(app, visitor, editor, events):
    assert propose(visitor, app).status_code == 303
    [stored] = pending_files(events)
    before = events.read_bytes()
    form = Form(editor.get(f"/edit/proposals/{stored.stem}").text)
    answer = editor.post(form.action, data=form.data(end="2021-12-18T10:00"))
    assert answer.status_code == 422
    assert re.search(r'<p class="field-error" id="end-error">[^<]*after', answer.text)
    assert Form(answer.text).data()["end"] == "2021-12-18T10:00"
    assert events.read_bytes() == before and pending_files(events) == [stored]


def test_rejecting_keeps_the_reason_and_leaves_the_calendar_alone(app, visitor, editor, events):
    assert propose(visitor, app).status_code == 303
    before = events.read_bytes()
    pid, token = approve_button(editor, events)
    answer = editor.post(f"/edit/proposals/{pid}/reject", data={"csrf_token": token, "reason": "Doppione  della festa"})
    assert answer.status_code == 303
    assert events.read_bytes() == before and pending_files(events) == []
    decided = json.loads((proposals_folder(events) / "rejected" / f"{pid}.json").read_text())
    assert decided["decision"] == {**decided["decision"], "decision": "rejected", "editor": "anna", "reason": "Doppione della festa"}
    # Deciding again: it is gone, nothing happens twice.
    again = editor.post(f"/edit/proposals/{pid}/approve", data={"csrf_token": token}, follow_redirects=True)
    assert "già stata decisa" in again.text and events.read_bytes() == before


def test_queue_posts_without_the_csrf_token_are_400(app, visitor, editor, events):
    assert propose(visitor, app).status_code == 303
    [stored] = pending_files(events)
    before = events.read_bytes()
    for action in ("approve", "reject"):
        assert editor.post(f"/edit/proposals/{stored.stem}/{action}", data={}).status_code == 400
    assert events.read_bytes() == before and pending_files(events) == [stored]


def test_a_name_that_is_no_proposal_id_reads_nothing(editor, events):
    folder = proposals_folder(events)
    folder.mkdir()
    (folder / "secret.json").write_text(json.dumps({"id": "secret", "received": "2021-11-25T08:00:00+00:00",
                                                   "fields": {"title": "Nascosta"}, "email": "x@example.org"}))
    answer = editor.get("/edit/proposals/secret", follow_redirects=True)
    assert "già stata decisa" in answer.text and "Nascosta" not in answer.text
    assert "Nascosta" not in editor.get("/edit/proposals").text


# --------------------------------------------------------------------------- telling the editors


def test_the_webhook_hears_of_each_proposal_after_its_file_exists(events, hook):
    folder = proposals_folder(events)
    server = hook(seen=lambda: sorted(path.stem for path in folder.glob("*.json")))
    app = make_app(events, PROPOSALS_WEBHOOK=server.url, PROPOSALS_WEBHOOK_PAUSE=0)
    visitor = app.test_client()
    assert propose(visitor, app).status_code == 303
    body, _, files_then = server.received.get(timeout=30)
    [stored] = pending_files(events)
    assert body["id"] == stored.stem and body["title"] == TITLE and body["pending"] == 1
    assert body["review"] == f"https://eventi.casedelquartiere.example.org/edit/proposals/{stored.stem}"
    assert files_then == [stored.stem]
    assert CONTACT not in json.dumps(body)
    # A bot's post stores nothing and tells no one.
    assert propose(visitor, app, **{HONEYPOT: "x"}).status_code == 303
    assert server.received.empty()


def test_a_failing_webhook_never_loses_the_proposal(events, hook):
    server = hook([500, 500, 500])
    app = make_app(events, PROPOSALS_WEBHOOK=server.url, PROPOSALS_WEBHOOK_PAUSE=0)
    visitor = app.test_client()
    assert propose(visitor, app).status_code == 303
    assert len(pending_files(events)) == 1
    for _ in range(3):
        server.received.get(timeout=30)


# --------------------------------------------------------------------------- the embed's link


def test_the_embed_links_to_the_form_only_when_the_partner_asks_and_editing_is_on(app, visitor, events):
    asked = Page(visitor.get("/embed?propose=1").text)
    assert asked.href("Proponi un evento") == "https://eventi.casedelquartiere.example.org/propose"
    [link] = [a for a in asked.all("a") if "/propose" in a.get("href", "")]
    assert link["target"] == "_blank" and "noopener" in link["rel"]
    # Not asked, asked otherwise, or editing off: no link.
    for path in ("/embed", "/embed?propose=0", "/embed?limit=3"):
        assert "/propose" not in visitor.get(path).text, path
    off = make_app(events, SECRET_KEY=None).test_client()
    assert off.get("/embed?propose=1").status_code == 200 and "/propose" not in off.get("/embed?propose=1").text


def test_a_static_build_never_links_the_embed_to_the_form(events):
    from calfeed import create_app
    from calfeed.web import pages

    live = make_app(events)
    with live.test_request_context("/embed?propose=1"):
        calendar = live.extensions["calfeed"].current().calendar
    # The build's app (as calfeed.cli makes it): the calendar given, so no store
    # to take proposals, while editing is configured all the same.
    built = create_app({"EVENTS": str(events), "TODAY": "2021-11-25", "SECRET_KEY": live.config["SECRET_KEY"]}, calendar=calendar)
    with built.test_request_context("/embed?propose=1"):
        body = pages.embed().get_data(as_text=True)
    assert "/events/" in body and "/propose" not in body


def test_a_proposal_arriving_while_an_editor_saves_another_event_keeps_both(app, visitor, editor, events):
    """The editor's open form and the resident's proposal do not meet: the
    save lands, the proposal waits, and approving it later keeps the save."""
    from test_editor import WEBINAR

    form = Form(editor.get(f"/edit/events/{WEBINAR}").text)
    assert propose(visitor, app).status_code == 303
    assert editor.post(f"/edit/events/{WEBINAR}", data=form.data(title="Webinar rinviato")).status_code == 303
    assert len(pending_files(events)) == 1
    pid, token = approve_button(editor, events)
    assert editor.post(f"/edit/proposals/{pid}/approve", data={"csrf_token": token}).status_code == 303
    titles = {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(visitor.get("/calendar.ics").data).walk("VEVENT")}
    assert {"Webinar rinviato", TITLE} <= titles


def test_the_history_keeps_each_decision_with_its_editor_and_reason(app, visitor, editor, events):
    """Approved and rejected proposals leave the queue; the history page
    says who decided what (the proposer's contact masked), and why."""
    assert propose(visitor, app).status_code == 303
    pid, token = approve_button(editor, events)
    assert editor.post(f"/edit/proposals/{pid}/approve", data={"csrf_token": token}).status_code == 303
    assert propose(visitor, app, title="Doppione della merenda").status_code == 303
    pid, token = approve_button(editor, events)
    assert editor.post(f"/edit/proposals/{pid}/reject", data={"csrf_token": token, "reason": "C'è già"}).status_code == 303
    tree = html5lib.parse(editor.get("/edit/history").text, namespaceHTMLElements=False)
    decided = [" ".join("".join(item.itertext()).split()) for item in tree.iter("li") if "proposta da" in "".join(item.itertext())]
    assert len(decided) == 2
    [rejected] = [line for line in decided if line.startswith("Rifiutata")]
    [approved] = [line for line in decided if line.startswith("Approvata")]
    assert "Rifiutata da anna: «Doppione della merenda» (proposta da g…@example.org)" in rejected
    assert "Motivo: C'è già" in rejected
    assert f"Approvata da anna: «{TITLE}» (proposta da g…@example.org)" in approved and "merenda-sinoira-in-cortile" in approved
    assert CONTACT not in editor.get("/edit/history").get_data(as_text=True)

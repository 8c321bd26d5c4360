"""The editor in a real headless Chromium (Debian's, driven by Playwright as
in test_browser.py) against calfeed under gunicorn with two workers.

Nothing ties the browser to one worker (gunicorn's sync workers close each
connection), so every page, save and session crosses both. What a save
publishes is read back from every worker (``editing.every_worker``) with
icalendar and recurring_ical_events and compared with times written by
hand, within a generous timeout for the contract's 2 s reload deadline.

A screenshot of each editor page goes to ``test-artifacts/editor/``.
"""

from __future__ import annotations

from datetime import date, datetime

import icalendar
import pytest
import recurring_ical_events

from calfeed.validation import load_calendar
from editing import PASSWORD, editing_server, editing_site, every_worker, feed_events
from test_browser import ROOT, TIMEOUT_MS, browser  # noqa: F401 - the fixture
from test_editor import ROME

ARTIFACTS = ROOT / "test-artifacts" / "editor"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    events = editing_site(tmp_path_factory.mktemp("editor-browser-workers"), ["anna", "bruno"])
    server = editing_server(events)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def open_tab(browser, site):  # noqa: F811 - the imported fixture
    """Opens pages in fresh browser contexts (own cookies: own sessions);
    nothing leaves 127.0.0.1; each page's console errors are kept."""
    contexts = []

    def opened():
        context = browser.new_context(locale="it-IT", viewport={"width": 1000, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        context.route(lambda url: not url.startswith("http://127.0.0.1:"), lambda route: route.abort())
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda message: page.console_errors.append(message.text) if script_error(message) else None)
        return page

    try:
        yield opened
    finally:
        for context in contexts:
            context.close()


def script_error(message) -> bool:
    """A console error other than the browser noting a 4xx page (422, 409 are answers here)."""
    return message.type == "error" and not message.text.startswith("Failed to load resource: the server responded with a status of 4")


def url_of(site) -> str:
    return f"http://127.0.0.1:{site.port}"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, timeout=TIMEOUT_MS)


def log_in(page, site, name: str) -> None:
    page.goto(f"{url_of(site)}/edit/")
    assert page.url == f"{url_of(site)}/edit/login"
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{url_of(site)}/edit/")


def save(page) -> int:
    """Click "Salva"; the status of the POST (before any redirect)."""
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.click("form.event button.primary")
    page.wait_for_load_state()
    return posted.value.status


def in_feed(site, ident: str, check=lambda event: True) -> dict:
    """The event as every worker's /calendar.ics has it, once each passes ``check``."""
    replies = every_worker(site, "/calendar.ics", lambda reply: ident in (found := feed_events(reply.body)) and check(found[ident]))
    return {pid: feed_events(reply.body)[ident] for pid, reply in replies.items()}


def sequences(found: dict) -> set[int]:
    return {int(event.get("SEQUENCE", 0)) for event in found.values()}


def test_an_editor_publishes_changes_cancels_repeats_deletes_and_logs_out(open_tab, site):
    url = url_of(site)
    page = open_tab()
    page.goto(f"{url}/edit/")
    assert page.url == f"{url}/edit/login"
    shot(page, "1-login")
    page.fill("#username", "anna")
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{url}/edit/")
    shot(page, "2-list")

    # Create a timed event with the date-and-time pickers.
    page.click("main a.primary")
    page.wait_for_url(f"{url}/edit/events/new")
    assert page.get_attribute("#start", "type") == "datetime-local"
    page.fill("#title", "Laboratorio di ceramica")
    page.fill("#start", "2021-12-10T18:30")
    page.fill("#end", "2021-12-10T20:00")
    page.select_option("#place", "bagni-pubblici")
    shot(page, "3-new-form")
    assert save(page) == 303
    assert page.url == f"{url}/edit/events/laboratorio-di-ceramica"
    made = in_feed(site, "laboratorio-di-ceramica")
    for event in made.values():
        assert event["DTSTART"].dt == datetime(2021, 12, 10, 18, 30, tzinfo=ROME)
        assert event["DTEND"].dt == datetime(2021, 12, 10, 20, 0, tzinfo=ROME)
        assert str(event["LOCATION"]).startswith("Bagni Pubblici di via Agliè")
    every_worker(site, "/", lambda reply: "Laboratorio di ceramica" in reply.body.decode())

    # Change its time: SEQUENCE rises.
    page.fill("#start", "2021-12-10T19:00")
    page.fill("#end", "2021-12-10T20:30")
    assert save(page) == 303
    shot(page, "4-edit-form")
    moved = in_feed(site, "laboratorio-di-ceramica", lambda e: e["DTSTART"].dt == datetime(2021, 12, 10, 19, 0, tzinfo=ROME))
    assert len(sequences(made)) == len(sequences(moved)) == 1
    assert min(sequences(moved)) > max(sequences(made))

    # A refused save: 422, the message beside its field, nothing written.
    before = site.events.read_bytes()
    page.fill("#end", "2021-12-10T17:00")  # before the start
    assert save(page) == 422
    assert page.is_visible("#end-error")
    assert page.input_value("#end") == "2021-12-10T17:00"  # kept as typed
    shot(page, "5-refused-422")
    assert site.events.read_bytes() == before

    # Cancel it: kept in the feed as STATUS:CANCELLED, SEQUENCE up again.
    page.goto(f"{url}/edit/events/laboratorio-di-ceramica")
    page.select_option("#status", "cancelled")
    assert save(page) == 303
    cancelled = in_feed(site, "laboratorio-di-ceramica", lambda e: str(e.get("STATUS")) == "CANCELLED")
    assert min(sequences(cancelled)) > max(sequences(moved))

    # A weekly course with one cancelled date.
    page.goto(f"{url}/edit/events/new")
    page.fill("#title", "Corso di italiano")
    page.fill("#start", "2021-12-06T18:00")  # a Monday
    page.fill("#end", "2021-12-06T19:30")
    page.fill("#rrule", "FREQ=WEEKLY;COUNT=4")
    page.fill("#exdates", "2021-12-20T18:00")
    assert save(page) == 303
    assert page.url == f"{url}/edit/events/corso-di-italiano"
    replies = every_worker(site, "/calendar.ics", lambda reply: "corso-di-italiano" in feed_events(reply.body))
    for reply in replies.values():
        feed = recurring_ical_events.of(icalendar.Calendar.from_ical(reply.body))
        dates = sorted(o["DTSTART"].dt for o in feed.between(date(2021, 12, 1), date(2022, 2, 1)) if str(o["UID"]).startswith("corso-di-italiano@"))
        assert dates == [datetime(2021, 12, d, 18, 0, tzinfo=ROME) for d in (6, 13, 27)]

    # Delete an event of the sample, after the confirmation page.
    gone = "assemblea-rete-case-quartiere"
    page.goto(f"{url}/edit/events/{gone}")
    page.click("form.event a.danger")
    page.wait_for_url(f"{url}/edit/events/{gone}/delete")
    shot(page, "7-delete-confirmation")
    page.click("form.confirm button.danger")
    page.wait_for_url(f"{url}/edit/")
    every_worker(site, "/calendar.ics", lambda reply: gone not in feed_events(reply.body))
    every_worker(site, "/", lambda reply: "Assemblea della Rete delle Case del Quartiere" not in reply.body.decode())
    assert gone not in {event.id for event in load_calendar(site.events).events}

    # Log out: then refused, even with the old page's CSRF token.
    stale = page.get_attribute(".edit-nav input[name=csrf_token]", "value")
    page.click(".edit-nav button[type=submit]")
    page.wait_for_url(f"{url}/edit/login")
    before = site.events.read_bytes()
    for answer in (
        page.request.get(f"{url}/edit/", max_redirects=0),
        page.request.post(f"{url}/edit/events/new", form={"title": "Intruso", "start": "2021-12-12T10:00", "csrf_token": stale}, max_redirects=0),
    ):
        assert answer.status == 303
        assert answer.headers["location"] == "/edit/login"
    assert site.events.read_bytes() == before
    assert page.console_errors == []


def test_two_editors_on_one_event_conflict_and_on_two_events_both_save(open_tab, site):
    url = url_of(site)
    anna, bruno = open_tab(), open_tab()
    log_in(anna, site, "anna")
    log_in(bruno, site, "bruno")

    # Same event: the second save is refused with both versions shown.
    bikes = "corso-riparazione-biciclette"
    for page in (anna, bruno):
        page.goto(f"{url}/edit/events/{bikes}")
    anna.fill("#title", "Ciclofficina: ripariamo insieme le bici")
    bruno.fill("#title", "Ciclofficina per tutte e tutti")
    assert save(anna) == 303
    assert save(bruno) == 409
    shot(bruno, "6-conflict-409")
    rows = [row.split("\t") for row in bruno.locator("table.versions tr").all_inner_texts()]
    # Only what differs: not the categories in another order, nor a status the file leaves to its default.
    assert rows[1:] == [["Titolo", "Ciclofficina: ripariamo insieme le bici", "Ciclofficina per tutte e tutti"]], rows
    assert bruno.input_value("#title") == "Ciclofficina per tutte e tutti"  # what bruno typed is kept
    assert {e.id: e.title for e in load_calendar(site.events).events}[bikes] == "Ciclofficina: ripariamo insieme le bici"
    # Having seen both, bruno saves again: now it is applied.
    assert save(bruno) == 303
    in_feed(site, bikes, lambda e: str(e["SUMMARY"]) == "Ciclofficina per tutte e tutti")

    # Two different events at the same moment: both kept.
    anna.goto(f"{url}/edit/events/pulizia-parco-dora")
    bruno.goto(f"{url}/edit/events/cineforum-bagni-pubblici")
    anna.fill("#description", "Portate guanti e rastrelli.")
    bruno.fill("#title", "Cineforum sotto le stelle")
    with anna.expect_response(lambda r: r.request.method == "POST") as first, \
            bruno.expect_response(lambda r: r.request.method == "POST") as second:
        anna.click("form.event button.primary", no_wait_after=True)
        bruno.click("form.event button.primary", no_wait_after=True)
    assert (first.value.status, second.value.status) == (303, 303)
    events = {e.id: e for e in load_calendar(site.events).events}
    assert events["pulizia-parco-dora"].description == "Portate guanti e rastrelli."
    assert events["cineforum-bagni-pubblici"].title == "Cineforum sotto le stelle"
    in_feed(site, "pulizia-parco-dora", lambda e: str(e.get("DESCRIPTION", "")).startswith("Portate guanti e rastrelli."))
    in_feed(site, "cineforum-bagni-pubblici", lambda e: str(e["SUMMARY"]) == "Cineforum sotto le stelle")
    assert anna.console_errors == bruno.console_errors == []

"""The editor in a real headless Chromium (Debian's package, driven by
Playwright as in test_browser.py): log in, create an all-day event with the
"all day" box (which editor.js turns into date pickers), see it on the site.

calfeed runs under gunicorn on 127.0.0.1 with a copy of the sample, one
editor and a secret; every wait is bounded, the server and the browser are
stopped by fixtures. Screenshots of each editor page go to
``test-artifacts/editor/``.
"""

from __future__ import annotations

import shutil

import icalendar
import pytest

from calfeed.accounts import Editors
from servers import Server, fetch
from test_browser import CHROMIUM_ARGS, ROOT, SAMPLE, TIMEOUT_MS, TODAY, browser  # noqa: F401 - the fixture

ARTIFACTS = ROOT / "test-artifacts" / "editor"
PASSWORD = "una password lunga"


@pytest.fixture(scope="module")
def editing_url(tmp_path_factory):
    """calfeed with editing on, under gunicorn on a free 127.0.0.1 port."""
    work = tmp_path_factory.mktemp("editor-server")
    events = work / "events.toml"
    shutil.copyfile(SAMPLE, events)
    Editors.load(work / "editors.toml").add("anna", PASSWORD)
    server = Server(events, work, workers=1, own_base_url=True,
                    env={"CALFEED_TODAY": TODAY, "CALFEED_SECRET_KEY": "k" * 48})
    try:
        server.wait_answering()
        yield server.url, server.port
    finally:
        server.stop()


@pytest.fixture
def tab(browser):  # noqa: F811 - the imported fixture
    """A phone-sized page; nothing leaves 127.0.0.1."""
    context = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    context.route(lambda url: not url.startswith("http://127.0.0.1:"), lambda route: route.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.console_errors = errors
    try:
        yield page
    finally:
        context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, timeout=TIMEOUT_MS)


def test_an_editor_logs_in_and_creates_an_all_day_event(tab, editing_url):
    url, port = editing_url
    tab.goto(f"{url}/edit/")
    assert tab.url == f"{url}/edit/login"
    shot(tab, "1-login")
    tab.fill("#username", "anna")
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{url}/edit/")
    assert "GENERARE PROSSIMITÀ" in tab.inner_text("main")
    shot(tab, "2-list")

    tab.click("text=Nuovo evento")
    tab.wait_for_url(f"{url}/edit/events/new")
    tab.fill("#title", "Mercatino di Natale")
    assert tab.get_attribute("#start", "type") == "datetime-local"
    tab.check("#all_day")  # editor.js: date pickers now
    assert tab.get_attribute("#start", "type") == "date"
    tab.fill("#start", "2021-12-18")
    tab.fill("#end", "2021-12-19")
    tab.select_option("#place", "bagni-pubblici")
    tab.fill("#new-categories", "Feste, Mercati")
    tab.fill("#description", "Bancarelle e vin brulé.\n\nPortate le tazze da casa.")
    shot(tab, "3-form")
    tab.click("button.primary")
    tab.wait_for_url(f"{url}/edit/events/mercatino-di-natale")
    assert "Salvato: «Mercatino di Natale»." in tab.inner_text("main")
    assert tab.input_value("#start") == "2021-12-18"
    shot(tab, "4-saved")
    assert tab.console_errors == []  # the CSP let editor.js run, and it ran cleanly

    event = next(
        e for e in icalendar.Calendar.from_ical(fetch(port, "/calendar.ics").body).walk("VEVENT")
        if str(e["SUMMARY"]) == "Mercatino di Natale"
    )
    assert event["DTSTART"].to_ical() == b"20211218"
    assert event["DTEND"].to_ical() == b"20211220"  # the day after the last day
    tab.goto(f"{url}/events/mercatino-di-natale")
    assert "Sabato 18 dicembre 2021 – Domenica 19 dicembre 2021" in tab.inner_text("main")

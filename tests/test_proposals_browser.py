"""A proposal from end to end in a real headless Chromium (Debian's
package, driven by Playwright as in test_browser.py): a resident fills
/propose on a phone-sized window, the event is nowhere public, an editor
logs in, changes its title and approves it, the event is in /calendar.ics
and on its page, and the resident's address gets the decision by e-mail.

calfeed runs under gunicorn on 127.0.0.1 with a copy of the sample, one
editor, a secret and a local SMTP server; screenshots go to
``test-artifacts/proposals/``.
"""

from __future__ import annotations

import shutil

import icalendar
import pytest

from calfeed.accounts import Editors
from servers import Server, fetch
from smtp import Inbox
from test_browser import ROOT, SAMPLE, TODAY, browser  # noqa: F401 - the fixture
from test_editor_browser import PASSWORD, tab  # noqa: F401 - the fixture

ARTIFACTS = ROOT / "test-artifacts" / "proposals"
CONTACT = "giulia.bianchi@example.org"


@pytest.fixture
def site(tmp_path):
    """calfeed with editing on and mail to a local SMTP server, under gunicorn."""
    events = tmp_path / "events.toml"
    shutil.copyfile(SAMPLE, events)
    Editors.load(tmp_path / "editors.toml").add("anna", PASSWORD)
    inbox = Inbox()
    server = Server(events, tmp_path, workers=1, own_base_url=True, env={
        "CALFEED_TODAY": TODAY,
        "CALFEED_SECRET_KEY": "k" * 48,
        # A person needs seconds; the test types at once and must not wait on a clock.
        "CALFEED_PROPOSALS_MIN_FILL": "0",
        "CALFEED_SMTP_URL": inbox.url,
        "CALFEED_MAIL_FROM": "calendario@example.org",
        "CALFEED_EDITORS_MAIL": "anna@example.org",
    })
    try:
        server.wait_answering()
        yield server.url, server.port, inbox
    finally:
        server.stop()
        inbox.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def summaries(port: int) -> list[str]:
    return [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(fetch(port, "/calendar.ics").body).walk("VEVENT")]


def test_a_resident_proposes_and_an_editor_approves(tab, site):  # noqa: F811 - the imported fixture
    url, port, inbox = site
    tab.goto(f"{url}/")
    tab.click("text=Proponi un evento")
    tab.wait_for_url(f"{url}/propose")
    tab.fill("#title", "Merenda in cortile")
    tab.fill("#start", "2021-12-18T16:00")
    tab.fill("#end", "2021-12-18T19:00")
    tab.select_option("#place", "cascina-roccafranca")
    tab.check("input[name=categories][value=Feste]")
    tab.fill("#description", "Porta qualcosa da condividere.")
    tab.fill("#email", CONTACT)
    shot(tab, "1-form")
    tab.click("button.primary")
    tab.wait_for_url(f"{url}/propose/thanks")
    assert "Riceverai la decisione" in tab.inner_text("main")
    shot(tab, "2-thanks")
    assert inbox.next()[1] == ["anna@example.org"]  # the editors are told

    # Nowhere public yet.
    assert "Merenda in cortile" not in summaries(port)
    tab.goto(f"{url}/")
    assert "Merenda in cortile" not in tab.inner_text("main")

    tab.goto(f"{url}/edit/proposals")
    tab.wait_for_url(f"{url}/edit/login")
    tab.fill("#username", "anna")
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.goto(f"{url}/edit/proposals")
    assert "Merenda in cortile" in tab.inner_text("main") and CONTACT in tab.inner_text("main")
    shot(tab, "3-queue")
    tab.click("text=Controlla e modifica")
    tab.fill("#title", "Merenda sinoira in cortile")
    shot(tab, "4-review")
    tab.click("button.primary")
    tab.wait_for_url(f"{url}/edit/proposals")
    assert "Approvato: «Merenda sinoira in cortile»" in tab.inner_text("main")
    shot(tab, "5-approved")

    assert "Merenda sinoira in cortile" in summaries(port)
    event = next(e for e in icalendar.Calendar.from_ical(fetch(port, "/calendar.ics").body).walk("VEVENT")
                 if str(e["SUMMARY"]) == "Merenda sinoira in cortile")
    assert event["DTSTART"].to_ical() == b"20211218T160000" and event["DTSTART"].params["TZID"] == "Europe/Rome"
    assert CONTACT.encode() not in fetch(port, "/calendar.ics").body
    _, recipients, message = inbox.next()
    assert recipients == [CONTACT] and "Proposta approvata" in message["Subject"]
    link = next(line for line in message.get_content().splitlines() if "/events/" in line)
    tab.goto(link.strip())
    assert "Merenda sinoira in cortile" in tab.inner_text("main")
    shot(tab, "6-event")

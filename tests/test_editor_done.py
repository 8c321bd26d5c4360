"""Issue 13's "Done when", in a real headless Chromium on a phone-sized page:
a volunteer logs in, publishes a weekly course with one cancelled date and
an all-day festival, and sees them in the feed and on the site; the file
reads as a careful person would have written it.

calfeed runs under gunicorn with two workers on 127.0.0.1; every wait is
bounded. Oracles: icalendar + recurring_ical_events on /calendar.ics, UTC
instants written by hand, tomllib on the file. Screenshots go to
``test-artifacts/editor/done-*.png``.
"""

from __future__ import annotations

import shutil
import time
import tomllib
from datetime import datetime, timezone

import icalendar
import pytest
import recurring_ical_events

from calfeed.accounts import Editors
from servers import Server, fetch
from test_browser import SAMPLE, TODAY, browser  # noqa: F401 - the fixture
from test_editor_browser import ARTIFACTS, PASSWORD, shot as _shot, tab  # noqa: F401 - the fixture

UTC = timezone.utc
COURSE = "Corso di yoga per tutti"
FESTIVAL = "Festa di quartiere"


def shot(page, name: str) -> None:
    _shot(page, f"done-{name}")


@pytest.fixture
def site(tmp_path):
    """calfeed with editing on, two gunicorn workers, and the file it writes."""
    events = tmp_path / "events.toml"
    shutil.copyfile(SAMPLE, events)
    Editors.load(tmp_path / "editors.toml").add("anna", PASSWORD)
    server = Server(events, tmp_path, workers=2, own_base_url=True,
                    env={"CALFEED_TODAY": TODAY, "CALFEED_SECRET_KEY": "k" * 48})
    try:
        server.wait_answering()
        yield server.url, server.port, events
    finally:
        server.stop()


def shown(page, selector: str) -> bool:
    """Whether the page shows ``selector``, reloading it while it does not:
    the list of dates comes from the calendar the answering worker serves,
    and the worker that did not write the file has it within the reload
    deadline (bounded: 20 tries, 0.5 s apart)."""
    for _ in range(20):
        if page.locator(selector).count() == 1:
            return True
        page.wait_for_timeout(500)
        page.reload()
    return page.locator(selector).count() == 1


def latest_feed(port: int) -> icalendar.Calendar:
    """/calendar.ics once it holds the festival, the last save (bounded:
    20 tries, 0.5 s apart; the reload deadline is 2 s)."""
    for _ in range(20):
        feed = icalendar.Calendar.from_ical(fetch(port, "/calendar.ics").body)
        if any(str(e["SUMMARY"]) == FESTIVAL for e in feed.walk("VEVENT")):
            return feed
        time.sleep(0.5)
    return feed


def test_a_volunteer_publishes_a_weekly_course_with_one_cancelled_date_and_a_festival(tab, site):
    url, port, events = site
    tab.goto(f"{url}/edit/")
    tab.fill("#username", "anna")
    tab.fill("#password", PASSWORD)
    shot(tab, "1-login")
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{url}/edit/")

    # The course: Wednesdays 18:00-19:30 from 1 December 2021 until 26 January 2022.
    tab.click("text=Nuovo evento")
    tab.wait_for_url(f"{url}/edit/events/new")
    tab.fill("#title", COURSE)
    tab.fill("#start", "2021-12-01T18:00")
    tab.fill("#end", "2021-12-01T19:30")
    tab.select_option("#place", "bagni-pubblici")
    tab.check("input[name=weekly][value=WE]")
    tab.fill("#weekly_until", "2022-01-26")
    shot(tab, "2-course")
    tab.click("button.primary")
    tab.wait_for_url(f"{url}/edit/events/corso-di-yoga-per-tutti")

    # One date cancelled from the list of the series' dates.
    assert shown(tab, "button[name=date_cancel][value='2021-12-08T18:00']")
    cancel = tab.locator("button[name=date_cancel][value='2021-12-08T18:00']")
    shot(tab, "3-dates")
    with tab.expect_navigation():
        cancel.click()
    assert "«Corso di yoga per tutti», Mercoledì 8 dicembre 2021, 18:00: data annullata." in tab.inner_text("main")
    assert shown(tab, "button[name=date_restore][value='2021-12-08T18:00']")
    shot(tab, "4-cancelled")
    tab.goto(f"{url}/edit/events/corso-di-yoga-per-tutti/date?recurrence_id=2021-12-15T18:00")
    assert tab.input_value("#start") == "2021-12-15T18:00"
    shot(tab, "4-move-form")  # looked at, not saved

    # The festival: all day, Saturday and Sunday.
    tab.goto(f"{url}/edit/events/new")
    tab.fill("#title", FESTIVAL)
    tab.check("#all_day")
    tab.fill("#start", "2021-12-18")
    tab.fill("#end", "2021-12-19")
    tab.fill("#location", "Piazza Foroni")
    shot(tab, "5-festival")
    tab.click("button.primary")
    tab.wait_for_url(f"{url}/edit/events/festa-di-quartiere")
    tab.goto(f"{url}/edit/")
    shot(tab, "6-list")
    assert tab.console_errors == []

    # The feed, as a subscribed calendar reads it, from whichever worker answers.
    feed = latest_feed(port)
    course = [e for e in feed.walk("VEVENT") if str(e["UID"]).startswith("corso-di-yoga-per-tutti@")]
    [cancelled] = [e for e in course if "RECURRENCE-ID" in e]
    assert cancelled["RECURRENCE-ID"].dt.astimezone(UTC) == datetime(2021, 12, 8, 17, 0, tzinfo=UTC)
    assert str(cancelled["STATUS"]) == "CANCELLED"
    taking_place = sorted(
        o["DTSTART"].dt.astimezone(UTC) for o in recurring_ical_events.of(feed).between(datetime(2021, 11, 29), datetime(2021, 12, 20))
        if str(o["SUMMARY"]) == COURSE and str(o.get("STATUS", "CONFIRMED")) != "CANCELLED"
    )
    assert taking_place == [datetime(2021, 12, d, 17, 0, tzinfo=UTC) for d in (1, 15)]
    [festival] = [e for e in feed.walk("VEVENT") if str(e["SUMMARY"]) == FESTIVAL]
    assert (festival["DTSTART"].to_ical(), festival["DTEND"].to_ical()) == (b"20211218", b"20211220")

    # The site, from whichever worker answers (bounded as above).
    for _ in range(20):
        tab.goto(f"{url}/")
        main = tab.inner_text("main")
        if COURSE in main and FESTIVAL in main:
            break
        tab.wait_for_timeout(500)
    assert COURSE in main and FESTIVAL in main
    shot(tab, "7-site")

    # The file, as a careful person would have written it.
    text = events.read_text(encoding="utf-8")
    (ARTIFACTS / "done-events.toml").write_text(text, encoding="utf-8")
    course_text = text[text.index('id = "corso-di-yoga-per-tutti"'):]
    assert '[[events.overrides]]\nrecurrence_id = 2021-12-08T18:00:00\nstatus = "cancelled"\n' in course_text
    tables = {e["id"]: e for e in tomllib.loads(text)["events"]}
    assert tables["corso-di-yoga-per-tutti"]["rrule"] == "FREQ=WEEKLY;BYDAY=WE;UNTIL=20220126"
    assert tables["festa-di-quartiere"]["start"].isoformat() == "2021-12-18"

"""One date of a series cancelled, moved or restored from the event form's
list of dates, and the editor's list showing each event's state.

Oracles: icalendar + recurring_ical_events reading /calendar.ics, tomllib
reading events.toml, UTC instants written by hand (Rome is UTC+1 until
2022-03-27, UTC+2 after), the file's bytes kept by the test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events

from calfeed.accounts import Editors
from calfeed.proposals import ProposalBox
from conftest import SAMPLE
from test_editor import PASSWORD, Form, app, editor  # noqa: F401 (fixtures)

UTC = timezone.utc
SERIES = "sportello-patti-latina"  # every Wednesday 17:00 Rome from 2022-01-12
SUMMARY = "Sportello Patti di collaborazione"
# An event after the series, so that bytes on both sides of it are checked.
AFTER = '''
# Added after the series by hand: it must stay byte for byte.
[[events]]
id = "festa-fine-corso"   # a comment that must survive
title = "Festa di fine corso"
start = 2022-06-10
'''


@pytest.fixture
def events(tmp_path) -> Path:
    path = tmp_path / "events.toml"
    shutil.copy(SAMPLE, path)
    with path.open("a", encoding="utf-8") as file:
        file.write(AFTER)
    Editors.load(tmp_path / "editors.toml").add("anna", PASSWORD)
    return path


def occurrences(client, low: datetime, high: datetime) -> list[icalendar.Event]:
    feed = icalendar.Calendar.from_ical(client.get("/calendar.ics").data)
    return [o for o in recurring_ical_events.of(feed).between(low, high) if str(o["SUMMARY"]).startswith(SUMMARY)]


def components(client) -> list[icalendar.Event]:
    """The series' VEVENTs in the feed: the master and its RECURRENCE-ID ones."""
    feed = icalendar.Calendar.from_ical(client.get("/calendar.ics").data)
    return [e for e in feed.walk("VEVENT") if str(e["UID"]).startswith(SERIES + "@")]


def changed_date(client, instant: datetime) -> icalendar.Event | None:
    found = [e for e in components(client) if "RECURRENCE-ID" in e and e["RECURRENCE-ID"].dt.astimezone(UTC) == instant]
    assert len(found) <= 1
    return found[0] if found else None


def master_sequence(client) -> int:
    [master] = [e for e in components(client) if "RECURRENCE-ID" not in e]
    return int(master.get("SEQUENCE", 0))


def outside_series(text: str) -> tuple[str, str]:
    """The file before the series' table (its comment included) and after it."""
    start = text.index("# A series: every Wednesday")
    end = text.index("\n# Added after the series by hand")
    return text[:start], text[end:]


def button(page: str, name: str, value: str) -> bool:
    return re.search(rf'<button[^>]*name="{name}" value="{re.escape(value)}"', page) is not None


def press(client, name: str, value: str, **changes: str):
    """A date's button in the event form, as a browser sends it: the whole
    form to the button's formaction, with the button's name and value."""
    page = client.get(f"/edit/events/{SERIES}").text
    assert button(page, name, value), (name, value)
    action = re.search(rf'<button[^>]*formaction="([^"]+)"[^>]*name="{name}" value="{re.escape(value)}"', page).group(1)
    return client.post(action, data={**Form(page).data(**changes), name: value})


def table(events: Path) -> dict:
    return next(e for e in tomllib.loads(events.read_text(encoding="utf-8"))["events"] if e["id"] == SERIES)


@pytest.mark.parametrize(("local", "instant"), [
    ("2022-03-23T17:00", datetime(2022, 3, 23, 16, 0, tzinfo=UTC)),  # before the clocks change
    ("2022-03-30T17:00", datetime(2022, 3, 30, 15, 0, tzinfo=UTC)),  # after: 17:00 is now UTC+2
])
def test_cancel_one_date_then_restore_it(editor, events, local, instant):
    before = events.read_text(encoding="utf-8")
    assert changed_date(editor, instant) is None
    response = press(editor, "date_cancel", local)
    assert response.status_code == 303 and response.headers["Location"] == f"/edit/events/{SERIES}"
    cancelled = changed_date(editor, instant)
    assert cancelled is not None and str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled["DTSTART"].dt.astimezone(UTC) == instant  # still there, struck through: not an exdate
    assert master_sequence(editor) == 1
    after = events.read_text(encoding="utf-8")
    assert outside_series(after) == outside_series(before)
    override = table(events)["overrides"][-1]
    assert override == {"recurrence_id": datetime.fromisoformat(local), "status": "cancelled"}
    assert table(events)["updated"] != datetime(2022, 1, 5, 9)
    # The list now offers to restore that date, and restoring brings it back.
    page = editor.get(f"/edit/events/{SERIES}").text
    assert button(page, "date_restore", local) and not button(page, "date_cancel", local)
    assert press(editor, "date_restore", local).status_code == 303
    assert changed_date(editor, instant) is None
    starts = [o["DTSTART"].dt.astimezone(UTC) for o in occurrences(editor, instant, instant + timedelta(minutes=1))]
    assert starts == [instant]
    assert master_sequence(editor) == 2
    restored = events.read_text(encoding="utf-8")
    assert outside_series(restored) == outside_series(before)
    # Only sequence and updated differ from the file before the cancel, blank lines included.
    assert re.sub(r"sequence = 2\nupdated = [0-9T:-]+\n", "updated = 2022-01-05T09:00:00\n", restored, count=1) == before


def test_move_one_date_across_the_clock_change(editor, events):
    """2022-03-23 17:00 (UTC+1) moved to Thursday 2022-03-31 18:00–20:00 (UTC+2)."""
    page = editor.get(f"/edit/events/{SERIES}").text
    link = re.search(r'href="([^"]+recurrence_id=2022-03-23T17:00)"', page).group(1).replace("&amp;", "&")
    form = Form(editor.get(link).text, css_class="date")
    assert form.data()["start"] == "2022-03-23T17:00"
    response = editor.post(form.action, data=form.data(start="2022-03-31T18:00", end="2022-03-31T20:00"))
    assert response.status_code == 303
    moved = changed_date(editor, datetime(2022, 3, 23, 16, 0, tzinfo=UTC))
    assert moved is not None and str(moved.get("STATUS", "CONFIRMED")) == "CONFIRMED"
    assert (moved["DTSTART"].dt.astimezone(UTC), moved["DTEND"].dt.astimezone(UTC)) == (
        datetime(2022, 3, 31, 16, 0, tzinfo=UTC), datetime(2022, 3, 31, 18, 0, tzinfo=UTC))
    starts = sorted(o["DTSTART"].dt.astimezone(UTC) for o in occurrences(
        editor, datetime(2022, 3, 21, tzinfo=UTC), datetime(2022, 4, 2, tzinfo=UTC)))
    assert starts == [datetime(2022, 3, 30, 15, 0, tzinfo=UTC), datetime(2022, 3, 31, 16, 0, tzinfo=UTC)]
    assert master_sequence(editor) == 1
    # Restoring brings back the date at its usual time.
    assert press(editor, "date_restore", "2022-03-23T17:00").status_code == 303
    starts = sorted(o["DTSTART"].dt.astimezone(UTC) for o in occurrences(
        editor, datetime(2022, 3, 21, tzinfo=UTC), datetime(2022, 4, 2, tzinfo=UTC)))
    assert starts == [datetime(2022, 3, 23, 16, 0, tzinfo=UTC), datetime(2022, 3, 30, 15, 0, tzinfo=UTC)]


def test_a_move_the_checker_refuses_writes_nothing(editor, events):
    before = events.read_bytes()
    form = Form(editor.get(f"/edit/events/{SERIES}/date?recurrence_id=2022-03-23T17:00").text, css_class="date")
    # The end before the start; then a time that does not exist in Rome (the clocks jump 02:00 → 03:00).
    for start, end in (("2022-03-24T18:00", "2022-03-24T17:00"), ("2022-03-27T02:30", "")):
        response = editor.post(form.action, data=form.data(start=start, end=end))
        assert response.status_code == 422, (start, end)
        assert f'value="{start}"' in response.text
        assert events.read_bytes() == before
    # A date the series does not have.
    response = editor.post(form.action, data=form.data(recurrence_id="2022-03-24T17:00", start="2022-03-25T18:00"))
    assert response.status_code == 422 and events.read_bytes() == before


def test_refused_without_a_token_or_a_session(app, editor, events):
    before = events.read_bytes()
    page = editor.get(f"/edit/events/{SERIES}").text
    sent = {**Form(page).data(), "date_cancel": "2022-03-30T17:00"}
    without = {k: v for k, v in sent.items() if k != "csrf_token"}
    assert editor.post(f"/edit/events/{SERIES}/date", data=without).status_code == 400
    assert editor.post(f"/edit/events/{SERIES}/date", data={**sent, "date_cancel": "domani"}).status_code == 400
    assert editor.post("/edit/events/nessuno/date", data=sent).status_code == 404
    stranger = app.test_client()
    response = stranger.post(f"/edit/events/{SERIES}/date", data=sent)
    assert response.status_code == 303 and response.headers["Location"].endswith("/edit/login")
    assert events.read_bytes() == before


def test_a_stale_version_is_refused(editor, events):
    page = editor.get(f"/edit/events/{SERIES}").text
    old = Form(page).data()
    # Someone else changes the series meanwhile.
    assert editor.post(f"/edit/events/{SERIES}", data=Form(page).data(title="Sportello Patti (nuovo orario)")).status_code == 303
    changed = events.read_bytes()
    response = editor.post(f"/edit/events/{SERIES}/date", data={**old, "date_cancel": "2022-03-30T17:00"})
    assert response.status_code == 409
    assert "Sportello Patti (nuovo orario)" in response.text
    assert events.read_bytes() == changed


def test_each_change_is_a_commit_with_its_message(editor, events):
    def git(*arguments: str) -> str:
        return subprocess.run(["git", "-C", str(events.parent), *arguments], check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    git("add", "events.toml")
    git("-c", "user.name=setup", "-c", "user.email=setup@example.org", "commit", "-qm", "start")
    start = events.read_bytes()
    assert press(editor, "date_cancel", "2022-03-30T17:00").status_code == 303
    # The history's undo takes it back byte for byte.
    undo = Form(editor.get("/edit/history").text, css_class="undo")
    assert editor.post(undo.action, data=undo.data()).status_code == 303
    assert events.read_bytes() == start
    assert press(editor, "date_cancel", "2022-03-30T17:00").status_code == 303
    form = Form(editor.get(f"/edit/events/{SERIES}/date?recurrence_id=2022-03-23T17:00").text, css_class="date")
    assert editor.post(form.action, data=form.data(start="2022-03-24T17:00")).status_code == 303
    assert press(editor, "date_restore", "2022-03-30T17:00").status_code == 303
    assert git("log", "--format=%an|%s", "-3").splitlines() == [
        f"anna|Ripristinata una data: {SUMMARY} (2022-03-30)",
        f"anna|Spostata una data: {SUMMARY} (2022-03-23)",
        f"anna|Annullata una data: {SUMMARY} (2022-03-30)",
    ]


def test_the_list_shows_each_state_and_the_proposals(editor, events):
    ProposalBox(events.parent / "proposals").store(
        {"title": "Cena di quartiere", "start": "2021-12-18T19:00"}, "vicina@example.org", "h")
    page = editor.get("/edit/").text
    page = page.replace("&#39;", "'")
    rows = {title: li for li, title in re.findall(r'(<li class="[^"]*">\s*<a class="title"[^>]*>([^<]+)</a>.*?</li>)', page, re.S)}
    assert ">Annullato<" in rows["Cineforum all'aperto"] and ">Confermato<" not in rows["Cineforum all'aperto"]
    assert ">Confermato<" in rows[SUMMARY]
    proposed = rows["Cena di quartiere"]
    assert ">Proposta<" in proposed and re.search(r'href="/edit/proposals/[0-9a-f]+"', proposed)
    assert 'href="/edit/proposals"' in proposed

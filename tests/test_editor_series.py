"""The event form's helpers: duplicate, cancel/restore, the preview of the
next dates, the "every week on" control and exceptions ticked from the
series' dates.

Oracles: icalendar + recurring_ical_events reading /calendar.ics, tomllib
reading events.toml, dates and UTC instants written by hand.
"""

from __future__ import annotations

import re
import tomllib
from datetime import datetime, timezone

import icalendar
import recurring_ical_events

from test_editor import WEBINAR, Form, editor, events, app, feed_event, input_value  # noqa: F401 (fixtures)

UTC = timezone.utc
SERIES = "sportello-patti-latina"  # every Wednesday 17:00 from 2022-01-12, one exdate, two overrides


def table(events, event_id: str) -> dict | None:
    found = tomllib.loads(events.read_text(encoding="utf-8"))["events"]
    return next((e for e in found if e["id"] == event_id), None)


def starts_in_feed(client, summary: str, low: datetime, high: datetime) -> list[datetime]:
    """The feed's occurrences of one event, as UTC instants."""
    feed = icalendar.Calendar.from_ical(client.get("/calendar.ics").data)
    return sorted(
        o["DTSTART"].dt.astimezone(UTC) for o in recurring_ical_events.of(feed).between(low, high)
        if str(o["SUMMARY"]) == summary
    )


def shown_dates(markup: str) -> list[str]:
    section = markup.split('<section class="dates"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<time datetime="([^"]+)">', section)


# --------------------------------------------------------------------------- duplicate, cancel, restore


def test_duplicate_opens_a_new_form_filled_in_from_the_event(editor, events):
    page = editor.get(f"/edit/events/{SERIES}")
    link = re.search(r'href="([^"]+)">Duplica</a>', page.get_data(as_text=True)).group(1)
    assert link == f"/edit/events/new?from={SERIES}"
    form = Form(editor.get(link).text)
    assert form.action == "/edit/events/new"
    sent = form.data()
    assert sent["title"] == "Sportello Patti di collaborazione (copia)"
    assert (sent["start"], sent["rrule"], sent["place"]) == ("2022-01-12T17:00", "FREQ=WEEKLY;BYDAY=WE", "casa-quartiere-latina")
    response = editor.post(form.action, data=sent)
    assert response.status_code == 303
    assert response.headers["Location"] == "/edit/events/sportello-patti-di-collaborazione-copia"
    copy = table(events, "sportello-patti-di-collaborazione-copia")
    assert copy["rrule"] == "FREQ=WEEKLY;BYDAY=WE" and copy["exdates"] == [datetime(2022, 8, 17, 17)]
    assert table(events, SERIES)["title"] == "Sportello Patti di collaborazione"
    assert editor.get("/edit/events/new?from=nessuno").status_code == 404


def test_cancel_and_restore_in_one_click(editor, events):
    title = "Assemblea della Rete delle Case del Quartiere"
    page = editor.get("/edit/events/assemblea-rete-case-quartiere").get_data(as_text=True)
    assert "Ripristina" not in page
    form = Form(page, css_class="status")
    response = editor.post(form.action, data=form.data())
    assert response.status_code == 303
    event = feed_event(editor, title)
    assert (str(event["STATUS"]), int(event["SEQUENCE"])) == ("CANCELLED", 1)
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "Segnato come annullato" in page
    form = Form(page, css_class="status")
    assert form.data()["status"] == "confirmed" and ">Ripristina</button>" in page
    assert editor.post(form.action, data=form.data()).status_code == 303
    event = feed_event(editor, title)
    assert str(event.get("STATUS", "CONFIRMED")) == "CONFIRMED" and int(event["SEQUENCE"]) == 2
    assert table(events, "assemblea-rete-case-quartiere").get("status") == "confirmed"


def test_a_stale_cancel_is_refused(app, editor, events):
    form = Form(editor.get(f"/edit/events/{WEBINAR}").text, css_class="status")
    edit = Form(editor.get(f"/edit/events/{WEBINAR}").text)
    assert editor.post(edit.action, data=edit.data(start="2021-12-01T18:30")).status_code == 303
    before = events.read_bytes()
    assert editor.post(form.action, data=form.data()).status_code == 409
    assert editor.post(form.action, data=form.data(status="deleted")).status_code == 400
    assert events.read_bytes() == before


# --------------------------------------------------------------------------- preview


def test_preview_shows_the_dates_the_feed_would_have_and_writes_nothing(editor, events):
    before = events.read_bytes()
    form = Form(editor.get(f"/edit/events/{SERIES}").text)
    assert shown_dates(editor.get(f"/edit/events/{SERIES}").get_data(as_text=True))[:3] == [
        "2022-01-12T17:00", "2022-01-19T17:00", "2022-01-26T17:00"]
    response = editor.post(form.action, data=form.data(preview="1", rrule="FREQ=WEEKLY;BYDAY=WE,FR"))
    assert response.status_code == 200
    markup = response.get_data(as_text=True)
    assert shown_dates(markup)[:4] == ["2022-01-12T17:00", "2022-01-14T17:00", "2022-01-19T17:00", "2022-01-21T17:00"]
    assert "Venerdì 14 gennaio 2022, 17:00–19:00" in markup
    assert "niente è stato salvato" in markup
    assert input_value(markup, "rrule") == "FREQ=WEEKLY;BYDAY=WE,FR"  # the form as typed, ready to save
    assert events.read_bytes() == before


def test_preview_of_an_invalid_form_shows_the_checker_s_message_and_writes_nothing(editor, events):
    before = events.read_bytes()
    form = Form(editor.get("/edit/events/new").text)
    response = editor.post(form.action, data=form.data(preview="1", title="Corso", start="2022-03-16T18:00",
                                                       weekly=["WE"], weekly_until="2022-03-01"))
    assert response.status_code == 422
    assert "prima di iniziare" in response.get_data(as_text=True)
    assert events.read_bytes() == before


# --------------------------------------------------------------------------- the weekly control


def test_the_weekly_control_writes_the_rule_and_the_feed_has_the_dates_across_the_dst_change(editor, events):
    form = Form(editor.get("/edit/events/new").text)
    response = editor.post(form.action, data=form.data(
        title="Corso di yoga", start="2022-03-16T18:00", end="2022-03-16T19:30",
        weekly=["FR", "WE"], weekly_until="2022-04-08"))
    assert response.status_code == 303
    assert table(events, "corso-di-yoga")["rrule"] == "FREQ=WEEKLY;BYDAY=WE,FR;UNTIL=20220408"
    # 18:00 in Rome: 17:00 UTC until the clocks go forward on 27 March, 16:00 UTC after.
    expected = [datetime(2022, 3, d, 17, tzinfo=UTC) for d in (16, 18, 23, 25)]
    expected += [datetime(2022, 3, 30, 16, tzinfo=UTC)] + [datetime(2022, 4, d, 16, tzinfo=UTC) for d in (1, 6, 8)]
    assert starts_in_feed(editor, "Corso di yoga", datetime(2022, 3, 1, tzinfo=UTC), datetime(2022, 6, 1, tzinfo=UTC)) == expected
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    ticked = re.findall(r'name="weekly" value="(\w\w)" checked', page)
    assert ticked == ["WE", "FR"] and input_value(page, "weekly_until") == "2022-04-08"


def test_changing_the_days_of_a_weekly_series_with_the_control(editor, events):
    form = Form(editor.get(f"/edit/events/{SERIES}").text)
    assert form.data()["weekly"] == "WE"
    response = editor.post(form.action, data=form.data(weekly=["WE", "FR"]))
    assert response.status_code == 303
    assert table(events, SERIES)["rrule"] == "FREQ=WEEKLY;BYDAY=WE,FR"
    # Every day unticked, the raw rule untouched: no repetition, which the
    # checker refuses while the series has exdates and overrides.
    sent = Form(editor.get(f"/edit/events/{SERIES}").text).data()
    del sent["weekly"]
    response = editor.post(f"/edit/events/{SERIES}", data=sent)
    assert response.status_code == 422, response.status_code
    assert table(events, SERIES)["rrule"] == "FREQ=WEEKLY;BYDAY=WE,FR"


def test_the_raw_rule_wins_over_the_control_and_says_so(editor, events):
    form = Form(editor.get("/edit/events/new").text)
    response = editor.post(form.action, data=form.data(
        title="Coro", start="2022-03-15T20:00", weekly=["MO"], rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=4"))
    assert response.status_code == 303
    assert table(events, "coro")["rrule"] == "FREQ=WEEKLY;BYDAY=TU;COUNT=4"
    assert "è stata usata la regola scritta a mano (FREQ=WEEKLY;BYDAY=TU;COUNT=4)" in \
        editor.get(response.headers["Location"]).get_data(as_text=True)
    # The same rule both ways: no notice.
    form = Form(editor.get("/edit/events/new").text)
    response = editor.post(form.action, data=form.data(
        title="Coro bis", start="2022-03-15T20:00", weekly=["TU"], rrule="FREQ=WEEKLY;BYDAY=TU"))
    assert "regola scritta a mano" not in editor.get(response.headers["Location"]).get_data(as_text=True)


def test_a_ticked_date_becomes_an_exdate_and_leaves_the_feed(editor, events):
    title = "Sportello Patti di collaborazione"
    window = (datetime(2022, 1, 1, tzinfo=UTC), datetime(2022, 2, 10, tzinfo=UTC))
    wednesdays = [datetime(2022, 1, d, 16, tzinfo=UTC) for d in (12, 19, 26)] + [datetime(2022, 2, d, 16, tzinfo=UTC) for d in (2, 9)]
    assert starts_in_feed(editor, title, *window) == wednesdays
    form = Form(editor.get(f"/edit/events/{SERIES}").text)
    response = editor.post(form.action, data=form.data(exdate_pick=["2022-01-19T17:00", "2022-02-02T17:00"]))
    assert response.status_code == 303
    assert table(events, SERIES)["exdates"] == [datetime(2022, 8, 17, 17), datetime(2022, 1, 19, 17), datetime(2022, 2, 2, 17)]
    assert starts_in_feed(editor, title, *window) == [wednesdays[0], wednesdays[2], wednesdays[4]]
    page = editor.get(f"/edit/events/{SERIES}").get_data(as_text=True)
    assert "2022-01-19T17:00" not in shown_dates(page) and "2022-01-26T17:00" in shown_dates(page)

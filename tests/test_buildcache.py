"""calfeed.buildcache: a rebuild takes unchanged event files over from the
site it replaces, and every file is still what the server answers, whatever
changed in between (an event, the calendar's settings, the day)."""

from __future__ import annotations

import os
from pathlib import Path

from calfeed import create_app
from calfeed.build import build_site
from calfeed.web.site import Site
from test_build import assert_same_as_served, generated_calendar


def build(events: Path, out: Path, today: str) -> list[str]:
    return build_site(Site(create_app({"EVENTS": str(events), "TODAY": today})), out, workers=2)


def inodes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_ino for p in out.rglob("*") if p.is_file()}


def test_a_rebuild_after_an_edit_remakes_that_event_and_takes_the_others_over(tmp_path, write_events):
    text = generated_calendar(12)
    events = write_events(text, header=False)
    out = tmp_path / "site"
    build(events, out, "2030-02-10")
    first = inodes(out)
    events.write_text(text.replace('title = "Evento n. 4 ', 'title = "Cambiato n. 4 '), encoding="utf-8")
    written = build(events, out, "2030-02-10")
    assert_same_as_served(out, written, events, "2030-02-10")
    second = inodes(out)
    edited = [f"events/evento-004{suffix}" for suffix in (".ics", ".html", "/print.html", "/qr.svg")]
    assert all(second[name] != first[name] for name in edited)
    kept = [f"events/evento-007{suffix}" for suffix in (".ics", ".html", "/print.html", "/qr.svg")]
    assert all(second[name] == first[name] for name in kept)
    assert "Cambiato n. 4" in (out / "events/evento-004.html").read_text(encoding="utf-8")


def test_a_rebuild_after_the_calendar_or_the_day_changed_is_still_what_the_server_sends(tmp_path, write_events):
    text = generated_calendar(12)
    events = write_events(text, header=False)
    out = tmp_path / "site"
    build(events, out, "2030-02-10")
    # Every event's page shows the calendar's name; the day moves what a page shows as next.
    events.write_text(text.replace('name = "Quartiere <Prova>', 'name = "Rinominato <Prova>'), encoding="utf-8")
    assert_same_as_served(out, build(events, out, "2030-02-10"), events, "2030-02-10")
    assert_same_as_served(out, build(events, out, "2030-03-20"), events, "2030-03-20")
    base = text.replace('base_url = "https://eventi.example.org"', 'base_url = "https://altro.example.org"')
    events.write_text(base, encoding="utf-8")
    assert_same_as_served(out, build(events, out, "2030-03-20"), events, "2030-03-20")


def test_a_file_gone_from_the_previous_site_is_made_again(tmp_path, write_events):
    """Another build may remove the previous site while this one reads it."""
    events = write_events(generated_calendar(6), header=False)
    out = tmp_path / "site"
    build(events, out, "2030-02-10")
    os.remove(out / "events/evento-002.html")
    os.remove(out / "events/evento-003/qr.svg")
    written = build(events, out, "2030-02-10")
    assert_same_as_served(out, written, events, "2030-02-10")

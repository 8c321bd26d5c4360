"""A reload recompiles only the events an edit changed, and its feeds are
byte for byte what compiling from scratch gives."""

from __future__ import annotations

import gzip
import os
import pickle
import subprocess
import zlib
from datetime import date
from pathlib import Path

import pytest

from calfeed import ical, loading, published
from calfeed.occurrences import select
from calfeed.published import WINDOW, FeedFilter, Published
from calfeed.validation import EventReuse, build_calendar

SAMPLE = (Path(__file__).resolve().parent.parent / "events.toml").read_text(encoding="utf-8")
TODAY = date(2022, 6, 1)
FILTERS = [FeedFilter(), FeedFilter(frozenset({"webinar"})), FeedFilter(places=frozenset({"casa-quartiere-latina"}))]


def _from_scratch(published: Published, chosen: FeedFilter) -> bytes:
    calendar = published.calendar
    events = select(calendar, chosen.categories, chosen.places, published.since(TODAY))
    title = published._title(chosen)
    return ical.feed(calendar, events, title=title, source=calendar.base_url + chosen.path())


@pytest.fixture
def compiled(monkeypatch):
    """The ids of the events compiled to VEVENTs, in order."""
    seen: list[str] = []
    vevent = ical.vevent

    def counting(event, stamp):
        seen.append(event.id)
        return vevent(event, stamp)

    monkeypatch.setattr(ical, "vevent", counting)
    return seen


EDITS = [
    # one title: one event recompiled
    (SAMPLE.replace("Cineforum all'aperto", "Cineforum sotto le stelle"), {"cineforum-bagni-pubblici"}),
    # an override of a series: the series recompiled
    (SAMPLE.replace("recurrence_id = 2022-06-01T17:00:00", "recurrence_id = 2022-06-08T17:00:00"), {"sportello-patti-latina"}),
    # a newer `updated`: DTSTAMP of every event without one changes, so all are recompiled
    (SAMPLE.replace("updated = 2021-11-25T09:00:00", "updated = 2023-01-01T09:00:00"), "all"),
    # a change to [calendar]: every event is checked again, so compiled again
    (SAMPLE.replace('refresh = "PT6H"', 'refresh = "PT6H"\npast_days = 30'), "all"),
]


@pytest.mark.parametrize("text, changed", EDITS)
def test_a_reload_recompiles_only_what_changed(text, changed, compiled):
    reuse = EventReuse()
    first = Published(build_calendar(loading.parse(SAMPLE, "events.toml"), reuse=reuse))
    first.feed(FeedFilter(), TODAY)
    compiled.clear()
    second = Published(build_calendar(loading.parse(text, "events.toml"), reuse=reuse), previous=first)
    whole = second.feed(FeedFilter(), TODAY).data
    kept = {e.id for e in select(second.calendar, frozenset(), frozenset(), second.since(TODAY))}
    assert set(compiled) == (kept if changed == "all" else changed & kept)
    assert len(compiled) == len(set(compiled))
    assert whole == _from_scratch(second, FeedFilter())
    for chosen in FILTERS:
        assert second.feed(chosen, TODAY).data == _from_scratch(second, chosen)


def test_filtered_feeds_take_their_events_from_the_whole_one(compiled):
    published = Published(build_calendar(loading.parse(SAMPLE, "events.toml")))
    published.feed(FeedFilter(), TODAY)
    compiled.clear()
    bodies = [published.feed(chosen, TODAY).data for chosen in FILTERS[1:]]
    assert compiled == []
    assert bodies == [_from_scratch(published, chosen) for chosen in FILTERS[1:]]


def test_a_version_pickled_to_another_process_serves_the_same_bytes():
    """A store loads in a child process and pickles the version back."""
    published = Published(build_calendar(loading.parse(SAMPLE, "events.toml")))
    body = published.feed(FeedFilter(), TODAY)
    body.gzipped
    copy = pickle.loads(pickle.dumps(published))
    assert copy.feed(FeedFilter(), TODAY).data == body.data
    assert copy.feed(FeedFilter(), TODAY).gzipped == body.gzipped
    assert copy.feed(FILTERS[1], TODAY).data == published.feed(FILTERS[1], TODAY).data
    start = copy.calendar.events[0].start
    assert start.tzinfo is published.calendar.events[0].start.tzinfo  # the zones are rebuilt by name


def _synthetic(count: int, retitled: int | None = None) -> str:
    """``count`` events a day apart; event ``retitled`` with another title."""
    head = '[calendar]\nname = "Prova"\nbase_url = "https://example.org"\n'
    return head + "".join(
        f'[[events]]\nid = "e{n}"\ntitle = "{"Cambiato" if n == retitled else "Incontro"} numero {n}"\n'
        f"start = {date.fromordinal(date(2025, 1, 1).toordinal() + n)}T18:00:00\n"
        f'duration = "PT1H"\ndescription = "Descrizione dell\'incontro {n * 7919 % 1000}."\n'
        for n in range(count)
    )


def test_the_whole_feed_gzip_is_read_by_gunzip_and_as_small_as_one_pass(tmp_path):
    published = Published(build_calendar(loading.parse(_synthetic(3000), "events.toml")))
    body = published.feed(FeedFilter(), TODAY)
    packed = tmp_path / "calendar.ics.gz"
    packed.write_bytes(body.gzipped)
    # GNU gzip, not Python's zlib, reads it back; and it checks the CRC and length.
    assert subprocess.run(["gzip", "-dc", str(packed)], capture_output=True, check=True).stdout == body.data
    assert len(body.data) > 20 * WINDOW  # many segments
    assert len(body.gzipped) <= 1.02 * len(gzip.compress(body.data, compresslevel=6, mtime=0))


def test_a_reload_recompresses_only_the_segments_an_edit_changed(monkeypatch):
    first = Published(build_calendar(loading.parse(_synthetic(3000), "events.toml")))
    first.feed(FeedFilter(), TODAY).gzipped
    made = []
    compressobj = zlib.compressobj
    monkeypatch.setattr(zlib, "compressobj", lambda *args, **kwargs: made.append(1) or compressobj(*args, **kwargs))
    edited = build_calendar(loading.parse(_synthetic(3000, retitled=1500), "events.toml"))
    body = Published(edited, previous=first).feed(FeedFilter(), TODAY)
    assert b"Cambiato numero 1500" in gzip.decompress(body.gzipped)
    assert len(body.segments.ends) > 20
    assert 1 <= len(made) <= 2  # the edited event's segment, and the next one when the edit is in its last 32 kB
    # The same bytes as a version gzipped from scratch.
    assert body.gzipped == Published(edited).feed(FeedFilter(), TODAY).gzipped


def test_a_long_feed_compiled_by_two_processes_is_the_same_feed(monkeypatch):
    calendar = build_calendar(loading.parse(_synthetic(300), "events.toml"))
    alone = Published(calendar).feed(FeedFilter(), TODAY).data
    children = []
    forked_class = published.forked.Forked
    monkeypatch.setattr(published.forked, "Forked", lambda work, shared=None: children.append(1) or forked_class(work))
    monkeypatch.setattr(published.forked, "available_cores", lambda: 2)
    monkeypatch.setattr(published, "COMPILE_IN_TWO_FROM", 100)
    assert Published(calendar).feed(FeedFilter(), TODAY).data == alone == _from_scratch(Published(calendar), FeedFilter())
    assert children == [1]


def test_when_the_second_process_fails_its_half_is_compiled_here(monkeypatch):
    calendar = build_calendar(loading.parse(_synthetic(300), "events.toml"))
    alone = Published(calendar).feed(FeedFilter(), TODAY).data
    monkeypatch.setattr(published.forked, "available_cores", lambda: 2)
    monkeypatch.setattr(published, "COMPILE_IN_TWO_FROM", 100)
    forked_class = published.forked.Forked
    monkeypatch.setattr(published.forked, "Forked", lambda work, shared=None: forked_class(lambda: os._exit(3)))  # the child dies
    assert Published(calendar).feed(FeedFilter(), TODAY).data == alone


def test_event_downloads_take_their_vevent_from_the_whole_feed_while_its_dtstamp_holds(compiled):
    """An event's file is its VEVENT as compiled into the whole feed; after an
    edit that moves the calendar's DTSTAMP (an event with a newer ``updated``)
    the previous version's VEVENTs no longer fit: the files carry the new one."""
    import icalendar

    reuse = EventReuse()
    first = Published(build_calendar(loading.parse(_synthetic(5), "events.toml"), reuse=reuse))
    first.feed(FeedFilter(), TODAY)
    compiled.clear()
    downloads = [first.event_feed(event).data for event in first.calendar.events]
    assert compiled == []
    assert downloads == [ical.feed(first.calendar, (e,), subscribed=False) for e in first.calendar.events]

    text = _synthetic(5) + '[[events]]\nid = "nuovo"\ntitle = "Nuovo"\nstart = 2025-02-01T18:00:00\nupdated = 2023-01-01T09:00:00\n'
    second = Published(build_calendar(loading.parse(text, "events.toml"), reuse=reuse), previous=first)
    assert second.calendar.events[0] is first.calendar.events[0]  # unchanged: the same object, reused
    for event in second.calendar.events:
        parsed = icalendar.Calendar.from_ical(second.event_feed(event).data)
        (vevent,) = parsed.walk("VEVENT")
        assert str(vevent["UID"]).startswith(event.id)
        assert vevent.decoded("DTSTAMP").strftime("%Y%m%dT%H%M%S%z") == "20230101T080000+0000"  # 09:00 in Rome
        assert [str(zone["TZID"]) for zone in parsed.walk("VTIMEZONE")] == ["Europe/Rome"]

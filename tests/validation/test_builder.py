"""A long file is checked by two processes where a second core is free: the
calendar and every problem (its line, its numbering) are what one process
finds."""

from __future__ import annotations

import os

import pytest

from calfeed import forked, loading
from calfeed.errors import CalendarErrors
from calfeed.validation import builder, build_calendar

HEAD = '[calendar]\nname = "Prova"\nbase_url = "https://example.org"\n[places.sala]\nname = "Sala"\n'


def _text(count: int, mistakes: bool) -> str:
    """``count`` events, some series with overrides; with ``mistakes``, errors
    in both halves, one in an override of the second half."""
    tables = []
    for n in range(count):
        table = f'[[events]]\nid = "e{n}"\ntitle = "Incontro {n}"\nplace = "sala"\nstart = 2025-03-{n % 21 + 1:02d}T18:00:00\n'
        if n % 5 == 0:
            table += (
                'rrule = "FREQ=WEEKLY;COUNT=4"\n[[events.overrides]]\n'
                f'recurrence_id = 2025-03-{n % 21 + 8:02d}T18:00:00\nstatus = "cancelled"\n'
            )
            if mistakes and n == count - 5:
                table += '[[events.overrides]]\nrecurrence_id = 2025-01-01T18:00:00\ntitle = "Fuori serie"\n'
        if mistakes and n in (3, count - 3):
            table = table.replace('place = "sala"', 'place = "salla"')
        tables.append(table)
    return HEAD + "".join(tables)


@pytest.fixture
def in_two(monkeypatch):
    """Two processes from 20 tables on, whatever this machine has; the forks made."""
    made = []
    forked_class = forked.Forked
    monkeypatch.setattr(forked, "available_cores", lambda: 2)
    monkeypatch.setattr(builder, "CHECK_IN_TWO_FROM", 20)
    monkeypatch.setattr(forked, "Forked", lambda work, shared=None: made.append(1) or forked_class(work, shared))
    return made


def _problems(text: str) -> list[str]:
    with pytest.raises(CalendarErrors) as raised:
        build_calendar(loading.parse(text, "events.toml"))
    return [str(problem) for problem in raised.value.problems]


def test_two_processes_build_the_calendar_one_builds(in_two, monkeypatch):
    text = _text(60, mistakes=False)
    calendar = build_calendar(loading.parse(text, "events.toml"))
    assert in_two == [1]
    monkeypatch.setattr(builder, "CHECK_IN_TWO_FROM", 10**9)
    alone = build_calendar(loading.parse(text, "events.toml"))
    assert calendar == alone and len(calendar.events) == 60
    # The events of the second half point at the calendar's own places, not at copies.
    assert all(event.place is calendar.places[0] for event in calendar.events)


def test_two_processes_report_every_problem_in_file_order_with_its_line(in_two, monkeypatch):
    text = _text(60, mistakes=True)
    found = _problems(text)
    assert in_two == [1]
    lines = text.split("\n")
    # Written by hand: the two unknown places and the override that is not a date of its series.
    assert [line.split(": ")[1:3] for line in found] == [
        ['event "e3" (#4)', "place"],
        ['event "e55" (#56), override #2', "recurrence_id"],
        ['event "e57" (#58)', "place"],
    ]
    for problem in found:
        number = int(problem.split(":")[0])
        assert ("salla" in lines[number - 1]) or ("2025-01-01" in lines[number - 1])
    monkeypatch.setattr(builder, "CHECK_IN_TWO_FROM", 10**9)
    assert found == _problems(text)


def test_when_the_second_process_dies_its_half_is_checked_here(monkeypatch):
    forked_class = forked.Forked
    monkeypatch.setattr(forked, "available_cores", lambda: 2)
    monkeypatch.setattr(builder, "CHECK_IN_TWO_FROM", 20)
    monkeypatch.setattr(forked, "Forked", lambda work, shared=None: forked_class(lambda: os._exit(3)))
    text = _text(60, mistakes=True)
    assert len(_problems(text)) == 3


def test_with_one_core_both_halves_are_checked_here_and_each_problem_told_once(monkeypatch):
    text = _text(60, mistakes=True)
    alone = _problems(text)
    monkeypatch.setattr(forked, "available_cores", lambda: 1)
    monkeypatch.setattr(builder, "CHECK_IN_TWO_FROM", 20)
    monkeypatch.setattr(forked, "Forked", lambda *args, **kwargs: pytest.fail("no child with one core"))
    assert _problems(text) == alone and len(alone) == 3

"""A long events.toml is parsed in two processes, cut at an [[events]] line:
what comes out is what tomli gives for the whole file, wherever the cut
falls (inside a multi-line string, an array, after an inline array of
events), and an error names the same line as a parse in one process."""

from __future__ import annotations

import os

import pytest
import tomli
from hypothesis import given, settings
from hypothesis import strategies as st

from calfeed import forked, loading
from calfeed.errors import CalendarErrors
from calfeed.reuse import EventReuse, digest
from calfeed.validation import build_calendar

HEAD = '[calendar]\nname = "Prova"\nbase_url = "https://eventi.example.org"\n\n'

# Every trap for a cut at an "[[events]]" line, in a file tomli accepts.
EVENTS = HEAD + '''[[events]]
id = "a"
title = "Basic multi-line string"
description = """
[[events]]
still the description of a
"""

[[events]]
id = "b"
title = "Literal multi-line string"
notes = \'\'\'
[[events]]
\'\'\'

[[events]]
id = "c"
title = "Overrides and a sub-table"
[[events.overrides]]
recurrence_id = 2025-01-01T18:00:00
[events.extra]
x = 1

[[events]]
id = "d"
title = "The last"
'''
# Valid TOML, but a part that holds this alone would not see a clash with the rest.
TRAPS = EVENTS + '[places.sala]\nname = "After the events"\n'

# Files tomli refuses, each for something that a part parsed alone would not see.
REFUSED = {
    "inline array of events, then a header": 'events = [{ id = "a" }]\n' + HEAD + '[[events]]\nid = "b"\n',
    "calendar defined twice": TRAPS + '\n[[events]]\nid = "e"\n\n[calendar]\nname = "Again"\n',
    "events as a table": 'events.x = 1\n' + HEAD + '[[events]]\nid = "a"\n',
    "header inside an array": HEAD + '[[events]]\nid = "a"\ncategories = [\n[[events]]\n]\n\n[[events]]\nid = "b"\n',
    "string left open": HEAD + '[[events]]\nid = "a"\ndescription = """\n\n[[events]]\nid = "b"\n',
    "error after the cut": HEAD + '[[events]]\nid = "a"\n\n[[events]]\nid = = "b"\n',
    "error before the cut": HEAD + '[[events]]\nid = "a" x\n\n[[events]]\nid = "b"\n',
}


def _cuts(text: str) -> list[int]:
    """Every place an "[[events]]" line starts, headers or not."""
    found, at = [], text.find("\n[[events]]\n")
    while at >= 0:
        found.append(at + 1)
        at = text.find("\n[[events]]\n", at + 1)
    return found


@pytest.fixture
def in_two(monkeypatch):
    """Every text parsed in two, whatever this machine has; the parts kept."""
    made = []
    monkeypatch.setattr(forked, "available_cores", lambda: 2)
    monkeypatch.setattr(loading, "PARSE_IN_TWO_FROM", 0)
    parsed_in_two = loading._parsed_in_two
    monkeypatch.setattr(loading, "_parsed_in_two", lambda *args: made.append(parsed_in_two(*args)) or made[-1])
    return made


def _error(text: str) -> tuple[str, int | None]:
    with pytest.raises(CalendarErrors) as raised:
        loading.parse(text, "events.toml")
    (problem,) = raised.value.problems
    return problem.message, problem.line


def test_a_long_file_is_parsed_in_two_and_gives_what_tomli_gives(in_two):
    text = HEAD + "".join(f'[[events]]\nid = "e{n}"\ntitle = "Evento {n}"\nstart = 2025-03-{1 + n % 28:02}T18:00:00\n\n' for n in range(60))
    assert loading.parse(text, "events.toml").data == tomli.loads(text)
    assert in_two and in_two[0] is not None  # the parts stood for the whole
    assert [event["id"] for event in in_two[0][0]["events"]] == [f"e{n}" for n in range(60)]


def test_a_reload_gets_each_tables_fingerprint_from_the_parse(in_two):
    text = HEAD + "".join(f'[[events]]\nid = "e{n}"\nstart = 2025-03-01T18:00:00\ncategories = ["a", "b"]\n\n' for n in range(30))
    source = loading.parse(text, "events.toml", fingerprints=True)
    assert in_two[0] is not None
    assert source.fingerprints == [digest(table) for table in tomli.loads(text)["events"]]
    assert len(set(source.fingerprints)) == 30
    assert loading.parse(text, "events.toml").fingerprints is None  # not asked: not made


def test_wherever_the_cut_falls_the_values_are_tomlis(in_two, monkeypatch):
    cuts = _cuts(TRAPS)
    assert len(cuts) == 6  # four headers, two lines inside strings
    for at in cuts:
        monkeypatch.setattr(loading, "cut", lambda text, share, at=at: at)
        assert loading.parse(TRAPS, "events.toml").data == tomli.loads(TRAPS), at
    # None is taken: after a header the part would hold [places] too; inside a
    # string, the part before it fails.
    assert [result is not None for result in in_two] == [False, False, False, False, False, False]


def test_a_cut_between_events_only_is_taken(in_two, monkeypatch):
    taken = []
    for at in _cuts(EVENTS):
        monkeypatch.setattr(loading, "cut", lambda text, share, at=at: at)
        assert loading.parse(EVENTS, "events.toml").data == tomli.loads(EVENTS)
        taken.append(in_two[-1] is not None)
    # The headers of a, b, c and d; not the two lines inside strings.
    assert taken == [True, False, True, False, True, True]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_refused_file_is_told_with_the_line_a_single_parse_gives(name, in_two, monkeypatch):
    text = REFUSED[name]
    with pytest.raises(tomli.TOMLDecodeError):
        tomli.loads(text)
    found = []
    for at in _cuts(text):
        monkeypatch.setattr(loading, "cut", lambda text, share, at=at: at)
        found.append(_error(text))
    monkeypatch.setattr(loading, "PARSE_IN_TWO_FROM", 10**9)
    alone = _error(text)
    assert alone[1] is not None
    assert found and all(one == alone for one in found)


def test_windows_line_ends_are_cut_as_well(in_two):
    text = HEAD + "".join(f'[[events]]\nid = "e{n}"\ntitle = "Evento {n}"\n\n' for n in range(10))
    parsed = loading.parse(text.replace("\n", "\r\n"), "events.toml").data
    assert parsed == tomli.loads(text) and in_two[0] is not None


def test_with_one_core_the_file_is_parsed_here_in_one_piece(monkeypatch):
    monkeypatch.setattr(forked, "available_cores", lambda: 1)
    monkeypatch.setattr(loading, "PARSE_IN_TWO_FROM", 0)
    monkeypatch.setattr(forked, "Forked", lambda *args, **kwargs: pytest.fail("no child with one core"))
    assert loading.parse(TRAPS, "events.toml").data == tomli.loads(TRAPS)


def test_when_the_child_dies_its_part_is_parsed_here(in_two, monkeypatch):
    forked_class = forked.Forked
    monkeypatch.setattr(forked, "Forked", lambda work, shared=None: forked_class(lambda: os._exit(3)))
    text = HEAD + "".join(f'[[events]]\nid = "e{n}"\n\n' for n in range(10))
    assert loading.parse(text, "events.toml").data == tomli.loads(text) and in_two[0] is not None


# Pieces of files, most of them valid TOML on their own.
BLOCKS = [
    '[[events]]\nid = "x"', '[[events]]\ndescription = """\n[[events]]\n"""', "[[events]]\nnotes = \'\'\'\n[[events]]\n\'\'\'",
    "[[events]]\ncategories = [\n[[events]]\n]", '[[events]]\ncategories = [\n"a",\n]', "[[events]]", "[[events]]",
    '[calendar]\nname = "n"', '[places.p]\nname = "p"', "[events.extra]\nx = 1", "[[events.overrides]]\nx = 1",
    'events = [{ id = "y" }]', "events.y = 2", "# [[events]]", 'id = "x"', '"""', "x = = 1",
]


def _outcome(text: str) -> object:
    try:
        return loading.parse(text, "events.toml").data
    except CalendarErrors as errors:
        return [(problem.message, problem.line) for problem in errors.problems]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(BLOCKS), max_size=12))
def test_any_text_cut_anywhere_parses_as_in_one_process(blocks):
    text = "\n".join(blocks) + "\n"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loading, "PARSE_IN_TWO_FROM", 10**9)
        alone = _outcome(text)
        patch.setattr(loading, "PARSE_IN_TWO_FROM", 0)
        patch.setattr(forked, "available_cores", lambda: 2)
        for at in _cuts(text):
            patch.setattr(loading, "cut", lambda text, share, at=at: at)
            assert _outcome(text) == alone


def test_a_reload_parsed_in_two_takes_the_unchanged_events_from_the_last_load(in_two, monkeypatch):
    text = HEAD + "".join(f'[[events]]\nid = "e{n}"\ntitle = "Evento {n}"\nstart = 2025-03-01T18:00:00\n\n' for n in range(30))
    reuse = EventReuse()
    monkeypatch.setattr(loading, "PARSE_IN_TWO_FROM", 10**9)  # the first load: fingerprints made by validation
    first = build_calendar(loading.parse(text, "events.toml", fingerprints=True), reuse=reuse)
    monkeypatch.setattr(loading, "PARSE_IN_TWO_FROM", 0)  # the reload: by the parse
    edited = text.replace('title = "Evento 7"', 'title = "Evento sette"')
    again = build_calendar(loading.parse(edited, "events.toml", fingerprints=True), reuse=reuse)
    assert in_two[-1] is not None
    kept = [new is old for new, old in zip(again.events, first.events)]
    assert kept == [event.id != "e7" for event in first.events]
    assert again.event("e7").title == "Evento sette"

"""The writer's saves of a place and of the [calendar] settings.

Oracles: the sample file's own text, cut at its table headers by hand; tomllib
for what the TOML means; git's own log for commits.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from calfeed.errors import CalendarErrors
from calfeed.validation import load_calendar
from calfeed.writer import PlaceInUse, SaveConflict, SourceFile, UnknownPlace
from test_writer import HOSTILE, changed_lines, fixed, git, repository, sample  # noqa: F401 (fixtures)

CASCINA = "cascina-roccafranca"


def cut(text: str, header: str) -> tuple[str, str]:
    """The text before the line ``header`` and from the next table header on."""
    start = text.index(f"\n{header}\n") + 1
    end = text.index("\n[", start + len(header)) + 1
    return text[:start], text[end:]


def data(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_a_changed_place_is_its_changed_lines_only(sample):
    before = sample.read_text(encoding="utf-8")
    source = SourceFile(sample, now=fixed)
    source.save_place(CASCINA, {"name": "Cascina Roccafranca (sala grande)", "address": "Via Edoardo Rubino 45, 10137 Torino",
                                "geo": [45.0416, 7.6233], "url": "https://www.cascinaroccafranca.it"},
                      source.version_of_place(CASCINA), "anna")
    after = sample.read_text(encoding="utf-8")
    assert cut(after, f"[places.{CASCINA}]") == cut(before, f"[places.{CASCINA}]")
    assert changed_lines(before, after) == (['name = "Cascina Roccafranca"'], ['name = "Cascina Roccafranca (sala grande)"'])


def test_geo_removed_and_url_added_keep_the_table_s_order(sample):
    before = sample.read_text(encoding="utf-8")
    source = SourceFile(sample, now=fixed)
    source.save_place("casa-quartiere-latina", {"geo": [41.4676, 12.9037], "url": "https://latina.example.org"},
                      source.version_of_place("casa-quartiere-latina"), "anna")
    source.save_place(CASCINA, {"geo": []}, source.version_of_place(CASCINA), "anna")
    after = sample.read_text(encoding="utf-8")
    assert changed_lines(before, after) == (
        ["geo = [45.0416, 7.6233]"], ["geo = [41.4676, 12.9037]", 'url = "https://latina.example.org"'])
    latina = after[after.index("[places.casa-quartiere-latina]"):].split("\n\n")[0].splitlines()
    assert latina == ["[places.casa-quartiere-latina]", 'name = "Casa di Quartiere Latina"',
                      'address = "Via Sezze, 04100 Latina"', "geo = [41.4676, 12.9037]", 'url = "https://latina.example.org"']


def test_a_new_place_comes_after_the_last_place_with_a_slug_from_its_name(sample):
    before = sample.read_text(encoding="utf-8")
    source = SourceFile(sample, now=fixed)
    saved = source.save_place(None, {"name": "Cascina Roccafranca", "address": "Via Rubino 45", "geo": [45.04, 7.62], "url": ""},
                              source.version_of_place(None), "anna")
    assert saved.event_id == "cascina-roccafranca-2"  # the slug is taken: a new one
    after = sample.read_text(encoding="utf-8")
    removed, added = changed_lines(before, after)
    assert removed == []
    assert added == ["", "[places.cascina-roccafranca-2]", 'name = "Cascina Roccafranca"', 'address = "Via Rubino 45"', "geo = [45.04, 7.62]"]
    assert after.index("[places.cascina-roccafranca-2]") < after.index("[[events]]")
    assert after.index("[places.casa-quartiere-latina]") < after.index("[places.cascina-roccafranca-2]")
    # Renaming never changes the slug.
    source.save_place("cascina-roccafranca-2", {"name": "Sala Nuova"}, saved.version, "anna")
    assert data(sample)["places"]["cascina-roccafranca-2"]["name"] == "Sala Nuova"
    assert load_calendar(sample).place("cascina-roccafranca-2").name == "Sala Nuova"


def test_a_name_with_no_letters_gets_a_plain_slug(sample):
    source = SourceFile(sample, now=fixed)
    assert source.save_place(None, {"name": "¿?"}, source.version_of_place(None), "anna").event_id == "luogo"


def test_settings_change_only_their_lines(sample):
    before = sample.read_text(encoding="utf-8")
    source = SourceFile(sample, now=fixed)
    source.save_calendar({"description": "Una riga\nE un'altra", "past_days": 90, "refresh": "PT6H"},
                         source.version_of_calendar(), "anna")
    after = sample.read_text(encoding="utf-8")
    assert cut(after, "[calendar]") == cut(before, "[calendar]")
    removed, added = changed_lines(before, after)
    assert removed == ['description = "Webinar, assemblee, corsi e feste delle Case del Quartiere di Torino e Latina e di Labsus."']
    assert added == ['description = """', "Una riga", 'E un\'altra"""', "past_days = 90"]
    assert after.index("past_days = 90") > after.index('refresh = "PT6H"')
    calendar = load_calendar(sample)
    assert (calendar.description, calendar.past_days) == ("Una riga\nE un'altra", 90)


@pytest.mark.parametrize(("save", "field", "code"), [
    (lambda s: s.save_place(CASCINA, {"geo": [95.0, 7.0]}, s.version_of_place(CASCINA), "anna"), "geo", "bad-geo"),
    (lambda s: s.save_place(CASCINA, {"url": "ftp://example.org/x"}, s.version_of_place(CASCINA), "anna"), "url", "bad-url"),
    (lambda s: s.save_place(None, {"name": "Sala", "url": "javascript:alert(1)"}, s.version_of_place(None), "anna"), "url", "bad-url"),
    (lambda s: s.save_place(CASCINA, {"name": ""}, s.version_of_place(CASCINA), "anna"), "name", "missing-field"),
    (lambda s: s.save_calendar({"timezone": "Europe/Atlantide"}, s.version_of_calendar(), "anna"), "timezone", None),
    (lambda s: s.save_calendar({"language": "fr"}, s.version_of_calendar(), "anna"), "language", "unknown-language"),
])
def test_refused_by_the_checker_writes_nothing(sample, save, field, code):
    before = sample.read_bytes()
    with pytest.raises(CalendarErrors) as refused:
        save(SourceFile(sample, now=fixed))
    own = [p for p in refused.value.problems if p.where in ("[calendar]", 'place "cascina-roccafranca"', 'place "sala"')]
    assert [p.field for p in own] == [field]
    assert code is None or own[0].code == code
    assert sample.read_bytes() == before


def test_same_place_changed_is_a_conflict_other_tables_are_not(sample):
    source = SourceFile(sample, now=fixed)
    version = source.version_of_place(CASCINA)
    settings_version = source.version_of_calendar()
    bagni_version = source.version_of_place("bagni-pubblici")
    source.save_place(CASCINA, {"address": "Via Rubino 45"}, version, "bruno")
    written = sample.read_bytes()
    with pytest.raises(SaveConflict) as conflict:
        source.save_place(CASCINA, {"address": "Via Edoardo Rubino 45"}, version, "anna")
    assert conflict.value.theirs["address"] == "Via Rubino 45"
    assert sample.read_bytes() == written
    # The settings and another place were read before bruno's save: applied on top of it.
    source.save_calendar({"refresh": "PT12H"}, settings_version, "anna")
    source.save_place("bagni-pubblici", {"address": "Via Agliè 9, Torino"}, bagni_version, "anna")
    found = data(sample)
    assert (found["places"][CASCINA]["address"], found["calendar"]["refresh"], found["places"]["bagni-pubblici"]["address"]) == (
        "Via Rubino 45", "PT12H", "Via Agliè 9, Torino")
    # Saving again with the token the conflict gave keeps the second editor's value.
    source.save_place(CASCINA, {"address": "Via Edoardo Rubino 45"}, conflict.value.current_version, "anna")
    assert data(sample)["places"][CASCINA]["address"] == "Via Edoardo Rubino 45"


def test_an_unknown_place(sample):
    source = SourceFile(sample, now=fixed)
    with pytest.raises(UnknownPlace):
        source.save_place("nowhere", {"name": "X"}, source.version_of_place("nowhere"), "anna")


@pytest.mark.parametrize("text", [*HOSTILE, 'x"]\n[calendar]\nname = "evil'])
def test_typed_text_cannot_add_structure(sample, text):
    """Text is kept as it was typed (the address may have several lines);
    a line break in the name is refused; no other table ever changes."""
    source = SourceFile(sample, now=fixed)
    before = data(sample)
    saved = source.save_place(None, {"name": "Sala", "address": text}, source.version_of_place(None), "anna")
    after = data(sample)
    assert after["places"].pop(saved.event_id) == {"name": "Sala", "address": text}
    assert after == before
    assert load_calendar(sample).place(saved.event_id).address == text
    written = sample.read_bytes()
    if "\n" in text:
        with pytest.raises(CalendarErrors) as refused:
            source.save_place(saved.event_id, {"name": text}, saved.version, "anna")
        assert [p.field for p in refused.value.problems] == ["name"]
        assert sample.read_bytes() == written
    else:
        source.save_place(saved.event_id, {"name": text}, saved.version, "anna")
        assert data(sample)["places"][saved.event_id]["name"] == text


def test_a_place_events_use_is_not_deleted(sample):
    source = SourceFile(sample, now=fixed)
    before = sample.read_bytes()
    with pytest.raises(PlaceInUse) as in_use:
        source.delete_place(CASCINA, source.version_of_place(CASCINA), "anna")
    used_by = {e["id"] for e in data(sample)["events"] if e.get("place") == CASCINA}
    assert used_by and {ident for ident, _ in in_use.value.events} == used_by
    assert sample.read_bytes() == before


def test_an_unused_place_is_deleted_with_only_its_lines(sample):
    source = SourceFile(sample, now=fixed)
    saved = source.save_place(None, {"name": "Sala prove"}, source.version_of_place(None), "anna")
    with_it = sample.read_text(encoding="utf-8")
    source.delete_place(saved.event_id, saved.version, "anna")
    after = sample.read_text(encoding="utf-8")
    assert changed_lines(with_it, after) == (["", "[places.sala-prove]", 'name = "Sala prove"'], [])
    assert "sala-prove" not in data(sample)["places"]


def test_a_base_url_from_the_environment_is_left_alone(sample):
    before = sample.read_text(encoding="utf-8")
    source = SourceFile(sample, base_url="https://other.example.org", now=fixed)
    source.save_calendar({"base_url": "https://changed.example.org", "name": "Eventi"}, source.version_of_calendar(), "anna")
    assert changed_lines(before, sample.read_text(encoding="utf-8")) == (
        ['name = "Case del Quartiere e Patti di collaborazione"'], ['name = "Eventi"'])


def test_each_save_is_one_commit_with_its_message(repository, sample):
    source = SourceFile(sample, now=fixed)
    source.save_place(None, {"name": "Sala Nuova"}, source.version_of_place(None), "anna")
    source.save_place(CASCINA, {"name": "Cascina"}, source.version_of_place(CASCINA), "bruno")
    source.save_calendar({"refresh": "PT3H"}, source.version_of_calendar(), "anna")
    log = git(repository, "log", "--format=%an|%s", "-n3").splitlines()
    assert log == [
        "anna|Modificate le impostazioni del calendario",
        "bruno|Modificato luogo: Cascina",
        "anna|Aggiunto luogo: Sala Nuova",
    ]
    assert git(repository, "status", "--porcelain", "events.toml") == ""

"""SourceFile.save_override on the sample's series, whose two overrides are
written by hand with comments: what was there stays, byte for byte.

Oracles: tomllib reading the file, the bytes kept by the test, lines
written by hand.
"""

from __future__ import annotations

import shutil
import tomllib
from collections import Counter
from datetime import datetime

import pytest

from calfeed.errors import CalendarErrors
from calfeed.writer import SaveConflict, SourceFile
from conftest import SAMPLE

SERIES = "sportello-patti-latina"
NOW = datetime(2021, 11, 25, 10, 0)


@pytest.fixture
def source(tmp_path) -> SourceFile:
    path = tmp_path / "events.toml"
    shutil.copy(SAMPLE, path)
    return SourceFile(path, now=lambda zone: NOW)


def series(source: SourceFile) -> dict:
    return next(e for e in tomllib.loads(source.path.read_text(encoding="utf-8"))["events"] if e["id"] == SERIES)


def test_cancelling_a_moved_date_keeps_its_comment_and_other_keys(source):
    before = source.path.read_text(encoding="utf-8")
    source.save_override(SERIES, datetime(2022, 12, 7, 17), {"status": "cancelled"}, source.version_of(SERIES), "anna")
    after = source.path.read_text(encoding="utf-8")
    assert "[[events.overrides]]                    # one date moved to Tuesday\n" in after
    assert series(source)["overrides"][1] == {
        "recurrence_id": datetime(2022, 12, 7, 17), "start": datetime(2022, 12, 6, 17),
        "title": "Sportello Patti di collaborazione (martedì)", "status": "cancelled",
        "updated": NOW,  # its own stamp moves too, or clients would keep the old copy
    }
    assert series(source)["sequence"] == 1
    added = Counter(after.splitlines()) - Counter(before.splitlines())
    removed = Counter(before.splitlines()) - Counter(after.splitlines())
    assert added == Counter(['status = "cancelled"', "sequence = 1", "updated = 2021-11-25T10:00:00", "updated = 2021-11-25T10:00:00"])
    assert removed == Counter(["updated = 2022-01-05T09:00:00", "updated = 2022-11-20T09:00:00"])


def test_restoring_removes_the_whole_override_with_its_comment(source):
    before = source.path.read_text(encoding="utf-8")
    source.save_override(SERIES, datetime(2022, 6, 1, 17), None, source.version_of(SERIES), "anna")
    after = source.path.read_text(encoding="utf-8")
    gone = set(before.splitlines()) - set(after.splitlines())
    assert gone == {
        "[[events.overrides]]                    # one date cancelled: shown struck through",
        "recurrence_id = 2022-06-01T17:00:00", "description = \"Chiuso per la Festa della Repubblica.\"",
        "updated = 2022-05-20T09:00:00", "updated = 2022-01-05T09:00:00",
    }
    assert [o["recurrence_id"] for o in series(source)["overrides"]] == [datetime(2022, 12, 7, 17)]
    assert before.split("[[events.overrides]]")[0].replace("updated = 2022-01-05T09:00:00", "sequence = 1\nupdated = 2021-11-25T10:00:00") \
        == after.split("[[events.overrides]]")[0]


def test_a_date_the_series_does_not_have_and_a_stale_version_write_nothing(source):
    before = source.path.read_bytes()
    version = source.version_of(SERIES)
    with pytest.raises(CalendarErrors) as refused:
        source.save_override(SERIES, datetime(2022, 3, 24, 17), {"status": "cancelled"}, version, "anna")
    assert any(p.code == "not-a-date-of-series" for p in refused.value.problems)
    assert source.path.read_bytes() == before
    source.save_event(SERIES, {"title": "Sportello"}, version, "bruno")
    changed = source.path.read_bytes()
    with pytest.raises(SaveConflict):
        source.save_override(SERIES, datetime(2022, 3, 30, 17), {"status": "cancelled"}, version, "anna")
    assert source.path.read_bytes() == changed

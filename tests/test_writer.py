"""The writer of events.toml: what an editor's save does to the file.

Oracles: the sample file's own text (lines compared by hand-picked content),
tomllib for what the TOML means, git's own log for commits.
"""

from __future__ import annotations

import difflib
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from datetime import date, datetime
from pathlib import Path

import pytest

from calfeed import history
from calfeed.errors import CalendarErrors
from calfeed.store import CalendarStore
from calfeed.validation import load_calendar
from calfeed.writer import SaveConflict, SourceFile, UnknownEvent

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "events.toml"
NOW = datetime(2026, 3, 1, 10, 15, 42)


def fixed(zone: str) -> datetime:
    return NOW


@pytest.fixture
def sample(tmp_path) -> Path:
    path = tmp_path / "events.toml"
    shutil.copy(SAMPLE, path)
    return path


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """Lines removed and lines added, in order."""
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def event(path: Path, event_id: str) -> dict | None:
    events = tomllib.loads(path.read_text(encoding="utf-8")).get("events", [])
    return next((e for e in events if e["id"] == event_id), None)


def test_one_field_is_one_line_plus_updated(sample):
    before = sample.read_text(encoding="utf-8")
    source = SourceFile(sample, now=fixed)
    saved = source.save_event("assemblea-rete-case-quartiere", {"title": "Assemblea di dicembre"},
                              source.version_of("assemblea-rete-case-quartiere"), "anna")
    after = sample.read_text(encoding="utf-8")
    assert changed_lines(before, after) == (
        ['title = "Assemblea della Rete delle Case del Quartiere"', "updated = 2021-11-25T09:00:00"],
        ['title = "Assemblea di dicembre"', "updated = 2026-03-01T10:15:00"],
    )
    assert saved.event_id == "assemblea-rete-case-quartiere"
    assert saved.calendar.event("assemblea-rete-case-quartiere").title == "Assemblea di dicembre"
    assert after.encode("utf-8") == saved.raw


def test_unchanged_values_keep_their_formatting(sample):
    """A form sends every field back: the sample's description written with
    line continuations, equal in value, stays as it is."""
    before = sample.read_text(encoding="utf-8")
    source = SourceFile(sample, now=fixed)
    fields = source.event_fields("generare-prossimita")
    source.save_event("generare-prossimita", {**fields, "url": "https://www.labsus.org/nuovo"},
                      source.version_of("generare-prossimita"), "anna")
    removed, added = changed_lines(before, sample.read_text(encoding="utf-8"))
    assert [line.split(" = ")[0] for line in removed] == ["url", "updated"]
    assert added[0] == 'url = "https://www.labsus.org/nuovo"'


@pytest.mark.parametrize(("event_id", "fields", "sequence"), [
    ("assemblea-rete-case-quartiere", {"duration": "PT3H"}, 1),   # no sequence yet: 0 -> 1
    ("cineforum-bagni-pubblici", {"status": "confirmed"}, 2),      # 1 -> 2
    ("cineforum-bagni-pubblici", {"end": datetime(2022, 7, 15, 23, 45)}, 2),
    ("cineforum-bagni-pubblici", {"categories": ["Cultura", "Cinema"]}, 1),  # not a time: kept
])
def test_sequence_rises_when_time_or_status_changes(sample, event_id, fields, sequence):
    source = SourceFile(sample, now=fixed)
    source.save_event(event_id, fields, source.version_of(event_id), "anna")
    assert event(sample, event_id).get("sequence", 0) == sequence


def test_new_sequence_line_goes_before_updated(sample):
    before = sample.read_text(encoding="utf-8")
    source = SourceFile(sample, now=fixed)
    source.save_event("assemblea-rete-case-quartiere", {"duration": "PT3H"},
                      source.version_of("assemblea-rete-case-quartiere"), "anna")
    removed, added = changed_lines(before, sample.read_text(encoding="utf-8"))
    assert added == ['duration = "PT3H"', "sequence = 1", "updated = 2026-03-01T10:15:00"]
    assert removed == ['duration = "PT2H"', "updated = 2021-11-25T09:00:00"]


def test_empty_value_removes_the_key(sample):
    before = sample.read_text(encoding="utf-8")
    source = SourceFile(sample, now=fixed)
    source.save_event("sportello-patti-latina", {"exdates": [], "description": ""},
                      source.version_of("sportello-patti-latina"), "anna")
    removed, added = changed_lines(before, sample.read_text(encoding="utf-8"))
    assert [line.split(" = ")[0] for line in removed] == ["exdates", "description", "updated"]
    assert added == ["sequence = 1", "updated = 2026-03-01T10:15:00"]
    assert "exdates" not in event(sample, "sportello-patti-latina")


def test_create_appends_a_table_like_the_sample(sample):
    before = sample.read_text(encoding="utf-8")
    source = SourceFile(sample, now=fixed)
    saved = source.save_event(None, {
        "title": "Festa d'Estate: musica & cena!",
        "start": datetime(2026, 6, 20, 19, 0), "end": datetime(2026, 6, 20, 23, 0),
        "place": "bagni-pubblici", "categories": ["Feste", "Musica"],
        "description": "Prima riga.\r\n\r\nSeconda riga.", "url": "", "online": [],
    }, source.read()[1], "anna")
    after = sample.read_text(encoding="utf-8")
    assert saved.event_id == "festa-d-estate-musica-cena"
    assert after.startswith(before)  # everything before stays byte for byte
    assert after[len(before):] == textwrap.dedent('''
        [[events]]
        id = "festa-d-estate-musica-cena"
        title = "Festa d'Estate: musica & cena!"
        start = 2026-06-20T19:00:00
        end = 2026-06-20T23:00:00
        place = "bagni-pubblici"
        categories = ["Feste", "Musica"]
        description = """
        Prima riga.

        Seconda riga."""
        updated = 2026-03-01T10:15:00
        ''')
    assert event(sample, saved.event_id)["description"] == "Prima riga.\n\nSeconda riga."


def test_new_ids_are_unique_ascii_and_short(sample):
    source = SourceFile(sample, now=fixed)
    title = "Città " + "molto lunga " * 10
    ids = []
    for _ in range(3):
        ids.append(source.save_event(None, {"title": title, "start": date(2026, 5, 1)}, source.read()[1], "anna").event_id)
    assert ids[0] == ("citta-" + "molto-lunga-" * 10)[:80].rstrip("-")
    assert ids[1] == ids[0][:78].rstrip("-") + "-2" and ids[2] == ids[0][:78].rstrip("-") + "-3"
    assert all(len(i) <= 80 for i in ids)
    source.save_event(None, {"title": "Generare prossimità", "start": date(2026, 5, 1)}, source.read()[1], "anna")
    assert event(sample, "generare-prossimita-2")["title"] == "Generare prossimità"


def test_delete_removes_only_that_table(sample):
    before = sample.read_text(encoding="utf-8")
    source = SourceFile(sample, now=fixed)
    source.delete_event("pulizia-parco-dora", source.version_of("pulizia-parco-dora"), "anna")
    after = sample.read_text(encoding="utf-8")
    start = before.index('[[events]]\nid = "pulizia-parco-dora"')
    end = before.index("[[events]]", start + 1)
    assert after == before[:start] + before[end:]


def test_delete_last_event_takes_its_comment_and_overrides(sample):
    before = sample.read_text(encoding="utf-8")
    source = SourceFile(sample, now=fixed)
    source.delete_event("sportello-patti-latina", source.version_of("sportello-patti-latina"), "anna")
    after = sample.read_text(encoding="utf-8")
    assert after == before[: before.index("\n# A series")]  # ends with one line break
    assert [e["id"] for e in tomllib.loads(after)["events"]][-1] == "laboratorio-patti-latina"


HOSTILE = [
    'Sala "A" \\ B',
    'x"\n[[events]]\nid = "evil"\ntitle = "evil"\nstart = 2022-01-01',
    '"""\n[[events]]\nid = "evil2"\n"""',
    'ends with quotes ""',
    'ends with a backslash \\',
    "\\u0000 as text",
    "a\n'''\n[calendar]\nname = 'x'",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_typed_text_cannot_add_structure(sample, text):
    source = SourceFile(sample, now=fixed)
    ids = [e["id"] for e in tomllib.loads(sample.read_text(encoding="utf-8"))["events"]]
    source.save_event("festa-casa-quartiere-latina", {"description": text, "location": text.replace("\n", " "), "place": None},
                      source.version_of("festa-casa-quartiere-latina"), "anna")
    data = tomllib.loads(sample.read_text(encoding="utf-8"))
    assert [e["id"] for e in data["events"]] == ids
    assert data["calendar"]["name"] == "Case del Quartiere e Patti di collaborazione"
    assert event(sample, "festa-casa-quartiere-latina")["description"] == text
    assert load_calendar(sample).event("festa-casa-quartiere-latina").description == text


@pytest.mark.parametrize(("fields", "field", "code"), [
    ({"title": "one\n[[events]]\nid = \"evil\""}, "title", None),
    ({"description": "nul \x00 byte"}, "description", None),
    ({"end": datetime(2022, 6, 1)}, "end", None),
    ({"place": "nowhere"}, "place", None),
    ({"titel": "typo"}, None, "unknown-key"),
])
def test_refused_by_the_checker_writes_nothing(sample, fields, field, code):
    before = sample.read_bytes()
    source = SourceFile(sample, now=fixed)
    with pytest.raises(CalendarErrors) as raised:
        source.save_event("festa-casa-quartiere-latina", fields, source.version_of("festa-casa-quartiere-latina"), "anna")
    problem = raised.value.problems[0]
    assert problem.index == 4
    assert problem.field == field if field else problem.code == code
    assert sample.read_bytes() == before
    assert sorted(os.listdir(sample.parent)) == [".events.toml.lock", "events.toml"]


def test_unknown_event(sample):
    source = SourceFile(sample)
    with pytest.raises(UnknownEvent):
        source.save_event("no-such-event", {"title": "x"}, source.version_of("no-such-event"), "anna")


def test_same_event_changed_is_a_conflict(sample):
    mine, theirs = SourceFile(sample, now=fixed), SourceFile(sample, now=fixed)
    version = mine.version_of("corso-riparazione-biciclette")
    theirs.save_event("corso-riparazione-biciclette", {"title": "Ciclofficina (spostata)"}, version, "bruno")
    before = sample.read_bytes()
    with pytest.raises(SaveConflict) as raised:
        mine.save_event("corso-riparazione-biciclette", {"title": "Ciclofficina!"}, version, "anna")
    assert raised.value.theirs["title"] == "Ciclofficina (spostata)"
    assert raised.value.current_version == mine.version_of("corso-riparazione-biciclette") != version
    assert sample.read_bytes() == before
    # Saved again with the version the conflict gave: it goes through.
    mine.save_event("corso-riparazione-biciclette", {"title": "Ciclofficina!"}, raised.value.current_version, "anna")
    assert event(sample, "corso-riparazione-biciclette")["title"] == "Ciclofficina!"


def test_deleted_meanwhile_is_a_conflict_without_theirs(sample):
    source = SourceFile(sample, now=fixed)
    version = source.version_of("corso-riparazione-biciclette")
    source.delete_event("corso-riparazione-biciclette", version, "bruno")
    with pytest.raises(SaveConflict) as raised:
        source.save_event("corso-riparazione-biciclette", {"title": "x"}, version, "anna")
    assert raised.value.theirs is None


def test_other_changes_are_kept_and_applied_on_top(sample):
    source = SourceFile(sample, now=fixed)
    version = source.version_of("corso-riparazione-biciclette")
    source.save_event("pulizia-parco-dora", {"title": "Cura del Parco Dora"}, source.version_of("pulizia-parco-dora"), "bruno")
    with sample.open("a", encoding="utf-8") as out:  # a hand edit elsewhere
        out.write("# checked by hand\n")
    source.save_event("corso-riparazione-biciclette", {"title": "Ciclofficina!"}, version, "anna")
    text = sample.read_text(encoding="utf-8")
    assert event(sample, "corso-riparazione-biciclette")["title"] == "Ciclofficina!"
    assert event(sample, "pulizia-parco-dora")["title"] == "Cura del Parco Dora"
    assert text.endswith("# checked by hand\n")


def _append_lines(path: str, worker: int, rounds: int) -> None:
    """Each save appends one line to the description of the worker's own
    event or of the shared one, reading again after a conflict; the file is
    checked after each save."""
    source = SourceFile(path)
    own = source.save_event(None, {"title": f"Worker {worker}", "start": date(2026, 1, 1)}, source.read()[1], f"w{worker}").event_id
    for n in range(1, rounds):
        target = own if n % 2 else "assemblea-rete-case-quartiere"
        for _ in range(200):
            fields, version = source.event_fields(target), source.version_of(target)
            lines = [*fields.get("description", "").splitlines(), f"w{worker}-{n}"]
            try:
                source.save_event(target, {"description": "\n".join(lines)}, version, f"w{worker}")
                break
            except SaveConflict:
                continue
        tomllib.loads(Path(path).read_text(encoding="utf-8"))
        load_calendar(path)


def test_saves_from_four_processes_are_all_kept(sample):
    workers, rounds = 4, 25
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_append_lines, args=(str(sample), w, rounds)) for w in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [p.exitcode for p in processes] == [0] * workers
    calendar = load_calendar(sample)
    shared = calendar.event("assemblea-rete-case-quartiere").description.split("\n")
    for w in range(workers):
        own = calendar.event(f"worker-{w}").description.split("\n")
        assert own == [f"w{w}-{n}" for n in range(1, rounds, 2)]
        assert [line for line in shared if line.startswith(f"w{w}-")] == [f"w{w}-{n}" for n in range(2, rounds, 2)]
    assert len(calendar.events) == 8 + workers


SAVE_LOOP = """
import os, sys, time
from calfeed.writer import SourceFile
if sys.argv[2] == "in-write":  # stop inside the write, where a kill hurts most
    real_fsync = os.fsync
    def fsync(fd):
        print("writing", flush=True)
        time.sleep(5)
        real_fsync(fd)
    os.fsync = fsync
source = SourceFile(sys.argv[1])
print("ready", flush=True)
for n in range(2000):
    for event_id in ("generare-prossimita", "festa-casa-quartiere-latina"):
        source.save_event(event_id, {"description": f"Versione {n}\\n" + "testo " * 2000}, source.version_of(event_id), "anna")
"""


def test_killed_saves_never_leave_a_broken_file(sample):
    """Killed at random moments, and killed in the middle of writing: the
    file is always a whole valid version, and the next save clears what the
    killed one left behind."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = random.Random(13)
    for round_ in range(20):
        mode = "in-write" if round_ % 2 else "random"
        child = subprocess.Popen([sys.executable, "-c", SAVE_LOOP, str(sample), mode], stdout=subprocess.PIPE, env=environment)
        assert child.stdout.readline() == b"ready\n"
        if mode == "random":
            time.sleep(rng.uniform(0.0, 0.3))
        else:
            assert child.stdout.readline() == b"writing\n"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()
        tomllib.loads(sample.read_text(encoding="utf-8"))
        assert load_calendar(sample).event("generare-prossimita")
    assert len(os.listdir(sample.parent)) > 2  # the last in-write kill left its temporary file
    source = SourceFile(sample)
    source.save_event("pulizia-parco-dora", {"title": "Dopo"}, source.version_of("pulizia-parco-dora"), "anna")
    assert sorted(os.listdir(sample.parent)) == [".events.toml.history.jsonl", ".events.toml.lock", "events.toml"]


def test_a_killed_save_s_temporary_file_is_removed(sample):
    stray = sample.parent / ".events.toml.k1ll3d.tmp"
    stray.write_text("[[events]]\nid = ", encoding="utf-8")
    source = SourceFile(sample)
    source.save_event("pulizia-parco-dora", {"title": "Dopo"}, source.version_of("pulizia-parco-dora"), "anna")
    assert not stray.exists()


def git(folder: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *arguments], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repository(sample, monkeypatch) -> Path:
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(sample.parent / "no-gitconfig"))
    git(sample.parent, "init", "-q")
    git(sample.parent, "add", "events.toml")
    git(sample.parent, "-c", "user.name=setup", "-c", "user.email=setup@example.org", "commit", "-qm", "start")
    return sample.parent


def test_each_save_is_one_commit_by_its_editor(repository, sample):
    (repository / "notes.txt").write_text("staged, not part of a save\n")
    git(repository, "add", "notes.txt")
    source = SourceFile(sample, now=fixed)
    source.save_event("pulizia-parco-dora", {"title": "Cura del Parco Dora"}, source.version_of("pulizia-parco-dora"), "anna")
    created = source.save_event(None, {"title": "Nuovo evento", "start": date(2026, 5, 1)}, source.read()[1], "bruno")
    source.delete_event(created.event_id, source.version_of(created.event_id), "carla")
    log = git(repository, "log", "--format=%an <%ae>|%s").splitlines()
    assert log == [
        "carla <carla@calfeed.invalid>|Eliminato: Nuovo evento",
        "bruno <bruno@calfeed.invalid>|Aggiunto: Nuovo evento",
        "anna <anna@calfeed.invalid>|Modificato: Cura del Parco Dora",
        "setup <setup@example.org>|start",
    ]
    assert git(repository, "show", "--name-only", "--format=", "HEAD~2").split() == ["events.toml"]
    assert git(repository, "diff", "--cached", "--name-only").split() == ["notes.txt"]
    assert git(repository, "status", "--porcelain", "events.toml") == ""


def test_a_failing_commit_does_not_undo_the_save(repository, sample, caplog):
    hook = repository / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    source = SourceFile(sample, now=fixed)
    source.save_event("pulizia-parco-dora", {"title": "Cura del Parco Dora"}, source.version_of("pulizia-parco-dora"), "anna")
    assert event(sample, "pulizia-parco-dora")["title"] == "Cura del Parco Dora"
    assert len(git(repository, "log", "--format=%s").splitlines()) == 1
    assert "git commit failed" in caplog.text


def test_a_symlinked_file_stays_a_link(tmp_path):
    real = tmp_path / "data"
    real.mkdir()
    shutil.copy(SAMPLE, real / "calendar.toml")
    link = tmp_path / "events.toml"
    link.symlink_to(real / "calendar.toml")
    source = SourceFile(link, now=fixed)
    source.save_event("pulizia-parco-dora", {"title": "Cura del Parco Dora"}, source.version_of("pulizia-parco-dora"), "anna")
    assert link.is_symlink() and os.readlink(link) == str(real / "calendar.toml")
    assert event(real / "calendar.toml", "pulizia-parco-dora")["title"] == "Cura del Parco Dora"
    assert sorted(os.listdir(real)) == [".calendar.toml.history.jsonl", ".calendar.toml.lock", "calendar.toml"]


def test_the_writing_process_serves_its_save_at_once(sample):
    # Would not reload by itself for an hour, nor hear the save from the kernel.
    store = CalendarStore(sample, settle=3600.0, signal=False)
    source = SourceFile(sample, now=fixed)
    saved = source.save_event("pulizia-parco-dora", {"title": "Cura del Parco Dora"}, source.version_of("pulizia-parco-dora"), "anna")
    assert store.current().calendar.event("pulizia-parco-dora").title != "Cura del Parco Dora"
    assert store.accept(saved.calendar, saved.raw)
    assert store.current().calendar.event("pulizia-parco-dora").title == "Cura del Parco Dora"
    assert not store.accept(saved.calendar, saved.raw + b"# not what is on disk\n")


def test_outside_git_each_save_is_a_line_of_the_change_log(sample):
    source = SourceFile(sample, now=fixed)
    source.save_event("pulizia-parco-dora", {"title": "Cura del Parco Dora"}, source.version_of("pulizia-parco-dora"), "anna")
    created = source.save_event(None, {"title": "Nuovo evento", "start": date(2026, 5, 1)}, source.read()[1], "bruno")
    source.delete_event(created.event_id, source.version_of(created.event_id), "carla")
    log = history.read_log(sample)
    assert [(e["action"], e["id"], e["title"], e["author"], e["time"]) for e in log] == [
        ("changed", "pulizia-parco-dora", "Cura del Parco Dora", "anna", "2026-03-01T10:15:42"),
        ("added", "nuovo-evento", "Nuovo evento", "bruno", "2026-03-01T10:15:42"),
        ("deleted", "nuovo-evento", "Nuovo evento", "carla", "2026-03-01T10:15:42"),
    ]
    before, after = (tomllib.loads(log[0][key])["events"][0] for key in ("before", "after"))
    assert (before["title"], after["title"], after["updated"]) == ("Patto di collaborazione: cura del Parco Dora", "Cura del Parco Dora", datetime(2026, 3, 1, 10, 15))
    assert log[1]["before"] is None and log[2]["after"] is None
    assert tomllib.loads(log[2]["before"])["events"][0]["start"] == date(2026, 5, 1)


def test_undo_restores_a_crlf_file_byte_for_byte(sample):
    sample.write_bytes(sample.read_bytes().replace(b"\n", b"\r\n"))
    original = sample.read_bytes()
    source = SourceFile(sample, now=fixed)
    source.save_event("pulizia-parco-dora", {"title": "Cura del Parco Dora", "end": None}, source.version_of("pulizia-parco-dora"), "anna")
    entry = history.read_log(sample)[-1]
    touched = {entry["id"]: tuple(tomllib.loads(entry[k])["events"][0] for k in ("before", "after"))}
    source.undo(history.patch_of(entry), touched, "bruno")
    assert sample.read_bytes() == original
    with pytest.raises(SaveConflict):  # the event is no longer as that save left it
        source.undo(history.patch_of(entry), touched, "bruno")
    assert sample.read_bytes() == original

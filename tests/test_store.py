"""Reloading events.toml while the server runs (CONTRACT.md, "HTTP": editing).

- an edit is served by requests arriving two seconds or more after the save
  (checked here by polling with a generous timeout: speed is the benchmark's);
- a bad edit, a deleted file or an empty file never takes the feeds down: the
  last good calendar keeps being served byte for byte, and /healthz and the
  log say what is wrong;
- a save caught half-way (truncate, then write), even one cut at a valid
  ``[[events]]`` boundary, is never served;
- a new app refuses to start on a bad file.

Every wait is bounded in time and in count.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from calfeed import create_app
from calfeed.errors import CalendarErrors
from calfeed.store import CalendarStore

HEADER = """\
[calendar]
name = "Prova"
base_url = "https://eventi.example.org"
timezone = "Europe/Rome"
"""

# Generous: the contract's deadline is two seconds; a slow machine must not
# turn into a red test. Speed belongs to the benchmark.
TIMEOUT = 10.0
POLL = 0.05


# --------------------------------------------------------------------------- helpers


def event_block(event_id: str, day: int, title: str | None = None) -> str:
    """One ``[[events]]`` table, starting with its header line."""
    title = title or f"Evento {event_id}"
    return (
        "\n[[events]]\n"
        f'id = "{event_id}"\n'
        f'title = "{title}"\n'
        f"start = 2030-01-{day:02d}T18:00:00\n"
        f"end = 2030-01-{day:02d}T19:30:00\n"
        'categories = ["Incontri"]\n'
        f"updated = 2029-12-{day:02d}T10:00:00\n"
    )


def calendar_text(ids: list[str], title: str | None = None) -> str:
    return HEADER + "".join(event_block(i, n + 1, title) for n, i in enumerate(ids))


def ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n}" for n in range(1, count + 1)]


def uids(body: bytes) -> set[str]:
    """The event ids a feed holds, read from its UIDs."""
    found = set()
    for line in body.decode("utf-8").split("\r\n"):
        if line.startswith("UID:"):
            found.add(line[len("UID:") :].split("@")[0])
    return found


def serve(path: Path):
    return create_app({"EVENTS": str(path)}).test_client()


def feed(client) -> tuple[bytes, str]:
    response = client.get("/calendar.ics")
    assert response.status_code == 200, response.data[:500]
    return response.data, response.headers["ETag"]


def health(client) -> dict:
    response = client.get("/healthz")
    assert response.status_code == 200
    return response.get_json()


def expected_body(tmp_path: Path, text: str) -> tuple[bytes, str]:
    """What a fresh app serves for ``text`` (the same bytes, by the contract)."""
    other = tmp_path / "expected" / f"{len(list(tmp_path.glob('expected/*')))}.toml"
    other.parent.mkdir(exist_ok=True)
    other.write_text(text, encoding="utf-8")
    return feed(serve(other))


def poll(condition, timeout: float = TIMEOUT, what: str = "condition"):
    """Call ``condition`` until it returns something truthy; bounded in time and count."""
    deadline = time.monotonic() + timeout
    last = None
    for _ in range(int(timeout / POLL) + 10):
        last = condition()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def save(path: Path, text: str) -> float:
    """An editor's plain save (truncate and write in one go); returns when."""
    path.write_text(text, encoding="utf-8")
    return time.monotonic()


def calfeed_errors(caplog) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name.split(".")[0] == "calfeed" and record.levelno >= logging.WARNING
    ]


# --------------------------------------------------------------------------- edits


def test_edit_is_served_after_the_file_settles(tmp_path):
    path = tmp_path / "events.toml"
    save(path, calendar_text(ids("a", 3)))
    client = serve(path)
    body, _ = feed(client)
    assert uids(body) == set(ids("a", 3))

    new_text = calendar_text(ids("b", 4))
    want_body, want_etag = expected_body(tmp_path, new_text)
    saved = save(path, new_text)

    # Requests keep arriving while the file settles.
    def served():
        return feed(client) == (want_body, want_etag)

    poll(served, what="the edited events.toml to be served")
    elapsed = time.monotonic() - saved
    # Once served, it stays served.
    for _ in range(10):
        assert feed(client) == (want_body, want_etag), f"new version served after {elapsed:.2f} s, then lost"
    status = health(client)
    assert status["status"] == "ok"
    assert status["events"] == 4
    assert status["error"] is None


def test_edit_is_served_to_the_first_request_after_an_idle_period(tmp_path):
    """No request at all during the save: the first one arriving two seconds
    after it (a worker that was idle) must load the new file."""
    path = tmp_path / "events.toml"
    save(path, calendar_text(ids("a", 2)))
    client = serve(path)
    before = health(client)
    new_text = calendar_text(ids("a", 2) + ["late"])
    want = expected_body(tmp_path, new_text)
    save(path, new_text)
    time.sleep(2.0)
    poll(lambda: feed(client) == want, what="the edit to reach an idle app")
    after = health(client)
    assert after["status"] == "ok" and after["events"] == 3
    assert datetime.fromisoformat(after["loaded_at"]) >= datetime.fromisoformat(before["loaded_at"])


def test_atomic_replace_save_is_served(tmp_path):
    """Editors and `git checkout` often write a new file and rename it over the old one."""
    path = tmp_path / "events.toml"
    save(path, calendar_text(ids("a", 2)))
    client = serve(path)
    new_text = calendar_text(ids("c", 5))
    want = expected_body(tmp_path, new_text)
    temporary = tmp_path / ".events.toml.swp"
    temporary.write_text(new_text, encoding="utf-8")
    os.replace(temporary, path)
    poll(lambda: feed(client) == want, what="an atomically replaced file to be served")
    assert health(client)["events"] == 5


def test_every_app_on_the_same_file_reaches_the_same_version(tmp_path):
    """Two workers (two stores) decide on their own and agree, byte for byte."""
    path = tmp_path / "events.toml"
    save(path, calendar_text(ids("a", 2)))
    first, second = serve(path), serve(path)
    assert feed(first) == feed(second)
    new_text = calendar_text(ids("d", 3), title="Nuovo titolo")
    want = expected_body(tmp_path, new_text)
    save(path, new_text)
    poll(lambda: feed(first) == want, what="the first app to reload")
    poll(lambda: feed(second) == want, what="the second app to reload")


def test_store_current_reloads_directly(tmp_path):
    path = tmp_path / "events.toml"
    save(path, calendar_text(ids("a", 2)))
    store = CalendarStore(path)
    assert len(store.current().calendar.events) == 2
    save(path, calendar_text(ids("a", 6)))
    poll(lambda: len(store.current().calendar.events) == 6, what="CalendarStore.current() to reload")
    snapshot = store.snapshot()
    assert snapshot.events == 6 and snapshot.error is None


def test_an_edit_is_loaded_while_the_file_settles(tmp_path, monkeypatch, caplog):
    """The first request after a save starts loading it in a child process;
    once the file has settled, the worker serves what the child loaded (it
    only reads the file again to see that the child read the same bytes)."""
    path = tmp_path / "events.toml"
    save(path, calendar_text(ids("a", 2)))
    now = [time.time()]
    store = CalendarStore(path, settle=5, clock=lambda: now[0], signal=False)  # the settle path: no word from the kernel
    save(path, calendar_text(ids("b", 3)))
    now[0] = time.time()
    assert [e.id for e in store.current().calendar.events] == ids("a", 2)  # not settled yet

    def not_here(*args, **kwargs):
        raise AssertionError("validated in the worker")

    monkeypatch.setattr("calfeed.store.build_calendar", not_here)  # in this process, not the child
    now[0] += 6
    assert [e.id for e in store.current().calendar.events] == ids("b", 3)
    assert store.snapshot().error is None
    assert not calfeed_errors(caplog)


def test_a_save_read_before_it_was_over_is_read_again(tmp_path, monkeypatch):
    """Where file times are coarse, a save caught half-way can already show
    its final size and times: the bytes the child read are checked against
    the file's once it has settled, and read again when they differ."""
    import calfeed.store

    monkeypatch.setattr(calfeed.store, "_signature", lambda stat: (stat.st_size, stat.st_ino))
    path = tmp_path / "events.toml"
    save(path, calendar_text(ids("a", 3)))
    now = [time.time()]
    store = CalendarStore(path, settle=5, clock=lambda: now[0], signal=False)  # the settle path: no word from the kernel
    final = calendar_text(ids("b", 2))
    half = final.replace('id = "b1"', 'id = "x1"')  # the same size, other bytes
    with open(path, "r+", encoding="utf-8") as same_file:
        same_file.write(half)
        same_file.truncate()
    assert [e.id for e in store.current().calendar.events] == ids("a", 3)  # the child reads the half
    poll(lambda: store._loading[1].done(), what="the loading process to read the half save")
    with open(path, "r+", encoding="utf-8") as same_file:
        same_file.write(final)
    now[0] += 6
    assert [e.id for e in store.current().calendar.events] == ids("b", 2)


def test_a_failed_loading_process_leaves_the_worker_to_load(tmp_path, monkeypatch, caplog):
    """If the child cannot hand its result over, the worker loads the file
    itself: the edit is served all the same, and the log says why."""
    from calfeed.published import Published

    path = tmp_path / "events.toml"
    save(path, calendar_text(ids("a", 2)))
    store = CalendarStore(path, settle=0)

    def unpicklable(self):
        raise TypeError("cannot pickle")

    monkeypatch.setattr(Published, "__getstate__", unpicklable)
    save(path, calendar_text(ids("b", 3)))
    assert [e.id for e in store.current().calendar.events] == ids("b", 3)
    assert any("process ended" in r.getMessage() and "cannot pickle" in r.getMessage() for r in calfeed_errors(caplog))


# --------------------------------------------------------------------------- bad edits

BAD_TOML = HEADER + event_block("a1", 1) + '\n[[events]\nid = "rotto"\n'
BAD_TOML_LINE = BAD_TOML.split("\n").index("[[events]") + 1
END_BEFORE_START = HEADER + event_block("a1", 1) + (
    "\n[[events]]\n"
    'id = "al-contrario"\n'
    'title = "Finisce prima di cominciare"\n'
    "start = 2030-02-01T18:00:00\n"
    "end = 2030-02-01T17:00:00\n"
)


@pytest.mark.parametrize(
    ("bad_text", "must_mention"),
    [
        pytest.param(BAD_TOML, ["TOML"], id="invalid-toml"),
        pytest.param(END_BEFORE_START, ["al-contrario", "end"], id="end-before-start"),
    ],
)
def test_bad_edit_keeps_last_good_calendar(tmp_path, caplog, bad_text, must_mention):
    caplog.set_level(logging.INFO, logger="calfeed")
    path = tmp_path / "events.toml"
    save(path, calendar_text(ids("a", 3)))
    client = serve(path)
    good_body, good_etag = feed(client)
    good_json = client.get("/events.json?from=2030-01-01&to=2030-12-31").data
    good_health = health(client)
    assert good_health["status"] == "ok" and good_health["error"] is None

    assert tomllib.loads(END_BEFORE_START)  # the second case is valid TOML
    save(path, bad_text)
    status = poll(
        lambda: (s := health(client))["status"] == "degraded" and s,
        what="/healthz to report the bad edit",
    )
    # /healthz: the error names the file and the problem; the count is the good one.
    assert status["events"] == 3
    assert str(path) in status["error"]
    for word in must_mention:
        assert word in status["error"], status["error"]
    assert status["loaded_at"] == good_health["loaded_at"]
    if "TOML" in must_mention:
        assert f"{path}:{BAD_TOML_LINE}" in status["error"], status["error"]

    # The last good calendar is still served, byte for byte, with its ETag.
    for _ in range(5):
        assert feed(client) == (good_body, good_etag)
    assert client.get("/events.json?from=2030-01-01&to=2030-12-31").data == good_json
    assert client.get("/calendar.ics", headers={"If-None-Match": good_etag}).status_code == 304
    assert client.get("/events/a2.ics").status_code == 200

    # The log says what is wrong.
    records = calfeed_errors(caplog)
    assert records, "no warning or error logged by calfeed for a bad edit"
    text = "\n".join(record.getMessage() for record in records)
    assert str(path) in text
    for word in must_mention:
        assert word in text, text

    # Fixing the file brings the service back to "ok" with the fixed version.
    fixed = calendar_text(ids("a", 3) + ["a-fixed"])
    want = expected_body(tmp_path, fixed)
    save(path, fixed)
    status = poll(lambda: (s := health(client))["status"] == "ok" and s, what="status ok after the fix")
    assert status["error"] is None
    assert status["events"] == 4
    assert feed(client) == want


def test_bad_edit_then_revert_to_the_good_file(tmp_path):
    path = tmp_path / "events.toml"
    good_text = calendar_text(ids("a", 3))
    save(path, good_text)
    client = serve(path)
    good = feed(client)
    save(path, BAD_TOML)
    poll(lambda: health(client)["status"] == "degraded", what="degraded")
    save(path, good_text)
    poll(lambda: health(client)["status"] == "ok", what="ok after reverting")
    assert feed(client) == good
    assert health(client)["error"] is None


def test_second_bad_edit_replaces_the_reported_error(tmp_path):
    path = tmp_path / "events.toml"
    save(path, calendar_text(ids("a", 2)))
    client = serve(path)
    good = feed(client)
    save(path, BAD_TOML)
    poll(lambda: "TOML" in (health(client)["error"] or ""), what="the TOML error")
    save(path, END_BEFORE_START)
    poll(lambda: "al-contrario" in (health(client)["error"] or ""), what="the validation error")
    status = health(client)
    assert "TOML" not in status["error"], "healthz still reports an error that is gone"
    assert status["events"] == 2
    assert feed(client) == good


# --------------------------------------------------------------------------- saves caught half-way


def _watch_save(client, writer: threading.Thread, allowed: dict[bytes, str], final: bytes, max_requests=4000):
    """Request continuously while ``writer`` saves; return what was seen.

    Stops once the writer is done and ``final`` has been served for a while.
    """
    seen: list[tuple[float, int, set[str]]] = []
    statuses: list[dict] = []
    started = time.monotonic()
    final_streak = 0
    writer.start()
    for n in range(max_requests):
        body, _ = feed(client)
        seen.append((time.monotonic() - started, len(uids(body)), uids(body)))
        if body not in allowed:
            pytest.fail(
                f"served a version that is neither the old nor the new complete file, "
                f"{seen[-1][0]:.2f} s after the save began: {len(seen[-1][2])} events {sorted(seen[-1][2])}"
            )
        if n % 5 == 0:
            statuses.append(health(client))
        if not writer.is_alive() and body == final:
            final_streak += 1
            if final_streak >= 20:
                break
        if time.monotonic() - started > TIMEOUT:
            break
        time.sleep(0.005)
    writer.join(timeout=5)
    return seen, statuses, final_streak


def _truncate_then_write(path: Path, parts: list[str], pause: float):
    def run():
        with open(path, "w", encoding="utf-8") as handle:  # truncates
            handle.flush()
            for number, part in enumerate(parts):
                if number:
                    time.sleep(pause)
                handle.write(part)
                handle.flush()

    return threading.Thread(target=run, daemon=True)


def test_save_caught_half_way_at_an_events_boundary_is_never_served(tmp_path):
    path = tmp_path / "events.toml"
    old_ids, new_ids = ids("old", 5), ids("new", 8)
    old_text = calendar_text(old_ids)
    save(path, old_text)
    client = serve(path)
    old_body, _ = feed(client)

    new_text = calendar_text(new_ids)
    cut = new_text.index("\n[[events]]\n", new_text.index(f'id = "{new_ids[2]}"'))
    half, rest = new_text[:cut], new_text[cut:]
    # The half file is itself a good calendar with fewer events than either version.
    half_body, _ = expected_body(tmp_path, half)
    assert uids(half_body) == set(new_ids[:3])
    new_body, _ = expected_body(tmp_path, new_text)

    writer = _truncate_then_write(path, [half, rest], pause=0.3)
    seen, statuses, streak = _watch_save(
        client, writer, {old_body: "old", new_body: "new"}, final=new_body
    )
    counts = {count for _, count, _ in seen}
    assert counts <= {5, 8}, f"served event counts {sorted(counts)}; the half file has 3"
    assert min(counts) >= 5
    assert streak >= 20, "the complete new file was not served after the save settled"
    assert path.read_text(encoding="utf-8") == new_text
    degraded = [s for s in statuses if s["status"] != "ok"]
    assert not degraded, f"a save in progress was loaded and reported: {degraded[0]}"
    assert health(client)["events"] == 8


def test_truncated_empty_file_is_never_served_during_a_save(tmp_path):
    path = tmp_path / "events.toml"
    old_text = calendar_text(ids("old", 4))
    save(path, old_text)
    client = serve(path)
    old_body, _ = feed(client)
    new_text = calendar_text(ids("new", 6))
    new_body, _ = expected_body(tmp_path, new_text)

    # The empty file stays on disk for 0.3 s before the content is written.
    writer = _truncate_then_write(path, ["", new_text], pause=0.3)
    seen, statuses, streak = _watch_save(
        client, writer, {old_body: "old", new_body: "new"}, final=new_body
    )
    assert {count for _, count, _ in seen} <= {4, 6}
    assert streak >= 20
    degraded = [s for s in statuses if s["status"] != "ok"]
    assert not degraded, f"the empty file of a save in progress was loaded: {degraded[0]}"


def test_file_left_empty_is_a_bad_edit(tmp_path):
    path = tmp_path / "events.toml"
    save(path, calendar_text(ids("a", 3)))
    client = serve(path)
    good = feed(client)
    path.write_bytes(b"")
    status = poll(lambda: (s := health(client))["status"] == "degraded" and s, what="empty file reported")
    assert str(path) in status["error"]
    assert status["events"] == 3
    assert feed(client) == good


# --------------------------------------------------------------------------- deleted file


def test_deleted_file_keeps_last_good_calendar(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="calfeed")
    path = tmp_path / "events.toml"
    save(path, calendar_text(ids("a", 3)))
    client = serve(path)
    good = feed(client)
    path.unlink()

    status = poll(lambda: (s := health(client))["status"] == "degraded" and s, what="deletion reported")
    assert str(path) in status["error"]
    assert status["events"] == 3
    for _ in range(5):
        assert feed(client) == good
    assert client.get("/events/a1.ics").status_code == 200
    assert any(str(path) in record.getMessage() for record in calfeed_errors(caplog))

    # The file comes back (e.g. `git checkout events.toml`): served again.
    restored = calendar_text(ids("a", 3) + ["back"])
    want = expected_body(tmp_path, restored)
    save(path, restored)
    status = poll(lambda: (s := health(client))["status"] == "ok" and s, what="ok after restoring")
    assert status["error"] is None and status["events"] == 4
    assert feed(client) == want


# --------------------------------------------------------------------------- start-up


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(BAD_TOML, id="invalid-toml"),
        pytest.param(END_BEFORE_START, id="end-before-start"),
        pytest.param("", id="empty"),
        pytest.param(None, id="missing"),
    ],
)
def test_new_app_refuses_a_bad_file(tmp_path, content):
    path = tmp_path / "events.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CalendarErrors) as caught:
        create_app({"EVENTS": str(path)})
    assert str(path) in caught.value.report()
    with pytest.raises(CalendarErrors):
        CalendarStore(path)


def test_a_save_that_begins_after_the_file_settled_is_not_loaded(tmp_path):
    """The file settled, then a new save started before it was read: that
    half-written save must not be loaded in place of the settled one."""
    from calfeed.store import CalendarStore, _signature

    path = tmp_path / "events.toml"
    path.write_text(HEADER_FOR_RACE + EVENT_FOR_RACE.format(n=1), encoding="utf-8")
    store = CalendarStore(path, settle=0)
    path.write_text(HEADER_FOR_RACE + EVENT_FOR_RACE.format(n=2) + EVENT_FOR_RACE.format(n=3), encoding="utf-8")
    settled = _signature(os.stat(path))
    with open(path, "w", encoding="utf-8") as half:  # a new save, caught half-way
        half.write(HEADER_FOR_RACE + EVENT_FOR_RACE.format(n=4))
    assert store._read(settled) is None
    assert [e.id for e in store.current().calendar.events] == ["e4"]  # once settled, it is read


HEADER_FOR_RACE = '[calendar]\nname = "Prova"\nbase_url = "https://eventi.example.org"\n'
EVENT_FOR_RACE = '\n[[events]]\nid = "e{n}"\ntitle = "E{n}"\nstart = 2030-01-0{n}\n'

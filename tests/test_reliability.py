"""Reliability under load and under interruption (CONTRACT.md, "HTTP": the
editing paragraph; "Command line": ``calfeed build``).

- Reload under load: gunicorn (two workers, 127.0.0.1) serves /calendar.ics
  to a few client threads over fresh connections while events.toml is
  rewritten a hundred times, cycling a valid edit, an invalid edit (bad TOML
  or a validation error) and a truncate-then-write save. No request fails;
  every body is one of the complete valid versions written, byte for byte
  (never a half-saved file, never an invalid edit) and parses as a calendar;
  per worker the versions never go backwards; in the end every worker serves
  the last version.
- A ``calfeed build`` killed midway (SIGKILL while its staging folder is being
  filled) leaves the previous output untouched, and the next build succeeds.

Workers are told apart by gunicorn's access log (the worker's pid next to a
request id the client sends), through the helpers of tests/test_gunicorn.py.
Only 127.0.0.1; every loop is bounded in count and in time; servers and
subprocesses are stopped by fixture finalizers.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import icalendar
import pytest

from calfeed import create_app
from servers import Server, fetch
from test_gunicorn import CALFEED, RELOAD_TIMEOUT

# --------------------------------------------------------------------------- reload under load

EDITS = 100
CLIENTS = 4
MAX_REQUESTS = 40_000  # all client threads together (the pauses alone keep it under 30,000)
CLIENT_PAUSE = 0.02  # between two requests of one client thread
LOAD_TIMEOUT = 150.0  # hard stop for the client threads, whatever happens
SHORT, LONG = 0.25, 0.85  # pauses after an edit: shorter and longer than the store's settling
TRUNCATED_PAUSE = 0.2  # a truncate-then-write save sits half written this long
EVENTS_PER_VERSION = 6
CUT_AFTER = 3  # the half of a truncated save holds this many events: itself a valid calendar


def version_text(version: int) -> str:
    """A valid calendar; its description and every title carry ``version``."""
    text = (
        "[calendar]\n"
        'name = "Prova sotto carico"\n'
        f'description = "versione {version}"\n'
        'base_url = "https://eventi.example.org"\n'
        'timezone = "Europe/Rome"\n'
    )
    for k in range(1, EVENTS_PER_VERSION + 1):
        text += (
            "\n[[events]]\n"
            f'id = "evento-{k}"\n'
            f'title = "Evento {k}, versione {version}"\n'
            f"start = 2031-03-{k:02d}T18:00:00\n"
            'duration = "PT1H30M"\n'
            'categories = ["Incontri"]\n'
            "updated = 2030-12-01T10:00:00\n"
        )
    return text


def invalid_text(number: int) -> str:
    """An edit the server must refuse: bad TOML, or valid TOML that fails validation."""
    base = version_text(10_000 + number).replace(f"versione {10_000 + number}", f"versione rotta {number}")
    if number % 2:
        return base + '\n[[events]\nid = "rotto"\n'  # TOML syntax error
    return base + (
        "\n[[events]]\n"
        'id = "al-contrario"\n'
        'title = "Finisce prima di cominciare"\n'
        "start = 2031-04-01T18:00:00\n"
        "end = 2031-04-01T17:00:00\n"
    )


def halves(text: str) -> tuple[str, str]:
    """``text`` cut at an ``[[events]]`` boundary: the first part is a good calendar by itself."""
    cut = text.index("\n[[events]]\n", text.index(f'id = "evento-{CUT_AFTER}"'))
    first, rest = text[:cut], text[cut:]
    assert len(tomllib.loads(first)["events"]) == CUT_AFTER
    return first, rest


def served_body(path: Path) -> bytes:
    """What a fresh app serves for the file (the same bytes as any worker, by the contract)."""
    response = create_app({"EVENTS": str(path), "BASE_URL": None}).test_client().get("/calendar.ics")
    assert response.status_code == 200
    return response.data


@dataclass
class Record:
    request_id: str
    status: int | None  # None: the request failed (connection error, timeout, short read)
    version: int | None  # None: a body that is none of the valid versions written
    body: bytes | None  # kept only for a body that is not a known version
    error: str | None


def _access_log(server: Server) -> list[tuple[str, int, int]]:
    """(request id, worker pid, status) for every line of the access log, in order."""
    found = []
    text = server.access_log.read_bytes().decode(errors="replace")
    for line in text[: text.rfind("\n") + 1].splitlines():
        match = re.match(r"(\S+) <(\d+)> (\d+)", line)
        if match:
            found.append((match.group(1), int(match.group(2)), int(match.group(3))))
    return found


def test_reload_under_load_never_serves_a_broken_or_older_calendar(start_server, tmp_path):
    run_started = time.monotonic()
    events = tmp_path / "events.toml"
    events.write_text(version_text(0), encoding="utf-8")

    # The schedule of edits and what each complete valid version serves.
    schedule: list[tuple[str, int, float]] = []  # (kind, version or invalid number, pause after)
    version = 0
    for i in range(EDITS):
        cycle = i // 3
        kind = ("valid", "invalid", "truncated")[i % 3]
        if kind == "valid":
            version += 1
            schedule.append((kind, version, LONG if cycle % 2 == 0 else SHORT))
        elif kind == "invalid":
            schedule.append((kind, cycle, LONG if cycle % 3 == 1 else SHORT))
        else:
            version += 1
            schedule.append((kind, version, LONG))
    last_version = version
    assert schedule[-1][0] == "valid"

    expected_dir = tmp_path / "expected"
    expected_dir.mkdir()
    bodies: dict[bytes, int] = {}
    for v in range(last_version + 1):
        path = expected_dir / f"v{v}.toml"
        path.write_text(version_text(v), encoding="utf-8")
        bodies[served_body(path)] = v
    assert len(bodies) == last_version + 1, "two versions serve the same bytes"

    server = start_server(events)
    assert fetch(server.port, "/calendar.ics").body in bodies

    # -- the load: a few client threads over fresh connections, bounded in count and time
    records: list[Record] = []
    lock = threading.Lock()
    stop = threading.Event()
    load_deadline = time.monotonic() + LOAD_TIMEOUT

    def client() -> None:
        while not stop.is_set() and time.monotonic() < load_deadline:
            with lock:
                if len(records) >= MAX_REQUESTS:
                    return
            try:
                reply = fetch(server.port, "/calendar.ics")
            except Exception as error:  # every failure counts; never kill the thread
                record = Record("?", None, None, None, repr(error))
            else:
                known = bodies.get(reply.body) if reply.status == 200 else None
                record = Record(reply.request_id, reply.status, known, None if known is not None else reply.body, None)
            with lock:
                records.append(record)
            time.sleep(CLIENT_PAUSE)

    threads = [threading.Thread(target=client, daemon=True, name=f"client-{n}") for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        # -- the editor: a hundred saves
        for kind, number, pause in schedule:
            if kind == "valid":
                events.write_text(version_text(number), encoding="utf-8")
            elif kind == "invalid":
                events.write_text(invalid_text(number), encoding="utf-8")
            else:
                first, rest = halves(version_text(number))
                with open(events, "w", encoding="utf-8") as handle:  # truncates
                    handle.write(first)
                    handle.flush()
                    time.sleep(TRUNCATED_PAUSE)
                    handle.write(rest)
            time.sleep(pause)
        edits_done = time.monotonic()
        assert events.read_text(encoding="utf-8") == version_text(last_version)
        with lock:
            boundary = len(records)

        # -- under the same load, every worker reaches the last version (bounded)
        done: set[int] = set()
        for _ in range(int(RELOAD_TIMEOUT / 0.1) + 10):
            time.sleep(0.1)
            with lock:
                latest = {r.request_id: r.version for r in records[boundary:]}
            done = {pid for request_id, pid, _ in _access_log(server) if latest.get(request_id) == last_version}
            if done >= server.workers or time.monotonic() - edits_done > RELOAD_TIMEOUT:
                break
        reached = time.monotonic() - edits_done
        # /healthz of every worker, asked while the clients keep both workers busy
        health: dict[int, dict] = {}
        for _ in range(300):
            reply = fetch(server.port, "/healthz")
            health[server.pid_of(reply)] = json.loads(reply.body)
            if set(health) >= server.workers or time.monotonic() - edits_done > 2 * RELOAD_TIMEOUT:
                break
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a client thread did not stop"
    load_records = records[:boundary]

    # -- zero failed requests
    failed = [r for r in records if r.status != 200]
    assert not failed, (
        f"{len(failed)} of {len(records)} requests failed; first: "
        f"{[(r.request_id, r.status, r.error) for r in failed[:5]]}\n{server.log()}"
    )

    # -- every body is a complete valid calendar, and one of the valid versions written
    unknown: dict[bytes, int] = {}
    for record in records:
        if record.version is None:
            unknown[record.body] = unknown.get(record.body, 0) + 1
    for body, times in unknown.items():
        try:
            parsed = icalendar.Calendar.from_ical(body)
            what = (
                f"description {str(parsed.get('X-WR-CALDESC'))!r}, "
                f"{len(parsed.walk('VEVENT'))} events"
            )
        except Exception as error:
            what = f"not a calendar ({error!r})"
        pytest.fail(
            f"served {times} time(s) a body that is none of the complete valid versions written "
            f"(a half-saved file or an invalid edit): {what}; {len(body)} bytes, ends {body[-60:]!r}"
        )
    served_versions = {r.version for r in records}
    for body, v in bodies.items():  # the versions served: complete, parseable calendars
        if v not in served_versions:
            continue
        assert body.rstrip(b"\r\n").endswith(b"END:VCALENDAR")
        parsed = icalendar.Calendar.from_ical(body)
        assert str(parsed.get("X-WR-CALDESC")) == f"versione {v}"
        assert len(parsed.walk("VEVENT")) == EVENTS_PER_VERSION

    # -- per worker, in the order each worker answered (its access-log lines), never backwards
    by_id = {r.request_id: r for r in records}
    deadline = time.monotonic() + 10
    while True:
        log = _access_log(server)
        logged = {request_id for request_id, _, _ in log}
        missing = [r.request_id for r in records if r.request_id not in logged]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not missing, f"{len(missing)} requests not in gunicorn's access log, e.g. {missing[:5]}"
    newest: dict[int, tuple[int, str]] = {}
    served_by: dict[int, int] = {}
    for request_id, pid, status in log:
        record = by_id.get(request_id)
        if record is None:  # /healthz and the readiness requests
            continue
        assert status == 200, f"{request_id}: the access log says {status}"
        served_by[pid] = served_by.get(pid, 0) + 1
        before, before_id = newest.get(pid, (-1, ""))
        assert record.version >= before, (
            f"worker {pid} served version {record.version} ({request_id}) "
            f"after it had served version {before} ({before_id})"
        )
        newest[pid] = (record.version, request_id)
    assert set(served_by) <= server.workers, (
        f"answers from worker(s) {sorted(set(served_by) - server.workers)}: a worker died and was replaced"
    )
    assert set(served_by) == server.workers, f"worker(s) {server.workers - set(served_by)} answered nothing"
    assert server.process.poll() is None, "the server died"

    # -- the run exercised reloads under load, and ended on the last version everywhere
    load_versions = {r.version for r in load_records}
    assert len(load_records) >= 500, f"only {len(load_records)} requests during the edits"
    assert len(load_versions) >= 3, f"only versions {sorted(load_versions)} served during the edits"
    assert done >= server.workers, (
        f"{reached:.1f} s after the last save, worker(s) {sorted(server.workers - done)} "
        f"still did not serve version {last_version}: {sorted(newest.items())}"
    )
    assert set(health) >= server.workers, f"worker(s) {server.workers - set(health)} never answered /healthz"
    assert {status["status"] for status in health.values()} == {"ok"}, health
    print(
        f"\n{len(load_records)} requests during {EDITS} edits, versions served: {len(load_versions)} "
        f"of {last_version + 1}; per worker {served_by}; every worker on v{last_version} "
        f"{reached:.1f} s after the last save; run {time.monotonic() - run_started:.1f} s"
    )


# --------------------------------------------------------------------------- killed build

BUILD_TIMEOUT = 120.0
TODAY = "2030-06-01"
SMALL = """\
[calendar]
name = "Piccolo"
base_url = "https://eventi.example.org"
timezone = "Europe/Rome"

[places.sala]
name = "Sala grande"

[[events]]
id = "primo"
title = "Primo incontro"
start = 2030-07-01T18:00:00
duration = "PT1H"
place = "sala"
categories = ["Incontri"]
updated = 2030-05-01T10:00:00

[[events]]
id = "secondo"
title = "Secondo incontro"
start = 2030-07-08
categories = ["Feste"]
updated = 2030-05-02T10:00:00
"""
BIG_EVENTS = 2000
STAGED_FILES = 200  # kill once the killed build has written this many files in its staging folder


def big_text(count: int) -> str:
    text = '[calendar]\nname = "Grande"\nbase_url = "https://eventi.example.org"\ntimezone = "Europe/Rome"\n'
    for n in range(count):
        year, month, day = 2030 + n // 336, n // 28 % 12 + 1, n % 28 + 1
        text += (
            "\n[[events]]\n"
            f'id = "evento-{n}"\n'
            f'title = "Evento numero {n}"\n'
            f"start = {year}-{month:02d}-{day:02d}T18:00:00\n"
            'duration = "PT1H"\n'
            f'categories = ["Categoria {n % 5}"]\n'
            "updated = 2030-01-01T10:00:00\n"
        )
    return text


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under ``folder``."""
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes() if path.is_file() else None)
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _build_env() -> dict[str, str]:
    env = {**os.environ, "CALFEED_TODAY": TODAY}
    env.pop("CALFEED_BASE_URL", None)
    env.pop("CALFEED_EVENTS", None)
    return env


def _build(source: Path, out: Path, cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [*CALFEED, "build", str(source), "--out", str(out)],
            cwd=cwd,
            env=_build_env(),
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:  # pragma: no cover - the bug case
        pytest.fail(f"calfeed build {source.name} did not finish within {BUILD_TIMEOUT} s")



def _start_build(source: Path, out: Path, cwd: Path, logs: Path, processes: list) -> subprocess.Popen:
    """A ``calfeed build`` running in its own process group (its forked
    writers with it), its output in ``logs``."""
    logs.mkdir()
    with open(logs / "stdout", "wb") as stdout, open(logs / "stderr", "wb") as stderr:
        build = subprocess.Popen(
            [*CALFEED, "build", str(source), "--out", str(out)],
            cwd=cwd,
            env=_build_env(),
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    processes.append(build)
    return build


def _staging_when_filled(build: subprocess.Popen, logs: Path, parent: Path) -> tuple[Path, int]:
    """The staging folder ``build`` fills beside its output ``parent/site``,
    once it holds STAGED_FILES files (no other build may stage there meanwhile)."""
    deadline = time.monotonic() + BUILD_TIMEOUT
    staging: list[Path] = []
    written = 0
    for _ in range(int(BUILD_TIMEOUT / 0.01) + 10):
        if build.poll() is not None:
            pytest.fail(
                f"calfeed build exited ({build.returncode}) before it could be caught midway "
                f"(staging {staging}, {written} files): make BIG_EVENTS larger\n"
                f"{(logs / 'stderr').read_text(errors='replace')[-3000:]}"
            )
        staging = sorted(parent.glob(".site.new-*"))
        if staging:
            written = sum(1 for path in staging[0].rglob("*") if path.is_file())
            if written >= STAGED_FILES:
                return staging[0], written
        if time.monotonic() > deadline:
            pytest.fail(f"no staging folder with {STAGED_FILES} files within {BUILD_TIMEOUT} s (staging {staging})")
        time.sleep(0.01)
    pytest.fail(f"no staging folder with {STAGED_FILES} files (staging {staging})")


def _calendars(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A work folder with a small calendar and a big one (long to build)."""
    work = tmp_path / "work"
    work.mkdir()
    small = work / "small.toml"
    small.write_text(SMALL, encoding="utf-8")
    big = work / "big.toml"
    big.write_text(big_text(BIG_EVENTS), encoding="utf-8")
    return work, small, big


def test_killed_build_leaves_the_previous_output_intact(tmp_path, processes):
    work, small, big = _calendars(tmp_path)
    out = tmp_path / "site"

    first = _build(small, out, work)
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    assert "calendar.ics" in before and "events/primo.ics" in before
    assert sum(data is not None for data in before.values()) >= 10

    # A long build into the same folder, killed while it fills its staging folder.
    build = _start_build(big, out, work, tmp_path / "logs", processes)
    staging, written = _staging_when_filled(build, tmp_path / "logs", tmp_path)
    build.send_signal(signal.SIGKILL)
    build.wait(timeout=10)
    assert build.returncode == -signal.SIGKILL, "the build ended by itself before the kill"
    assert staging.exists(), "the build had already swapped its folder into place when it was killed"

    after = snapshot(out)
    assert sorted(after) == sorted(before), (
        f"files added: {sorted(set(after) - set(before))[:10]}, removed: {sorted(set(before) - set(after))[:10]}"
    )
    changed = [name for name in before if after[name] != before[name]]
    assert not changed, f"a killed build changed the previous output: {changed[:10]}"

    # The next build succeeds despite the killed build's leftovers, and writes the same site.
    leftovers = sorted(path.name for path in tmp_path.glob(".site.*"))
    again = _build(small, out, work)
    assert again.returncode == 0, f"a build after a killed one failed (leftovers {leftovers}):\n{again.stderr}"
    assert snapshot(out) == before
    assert not list(tmp_path.glob(".site.*")), "the killed build's staging folder was left behind"
    print(f"\nkilled with {written} files staged; leftovers before the rebuild: {leftovers}; "
          f"after: {sorted(path.name for path in tmp_path.glob('.site.*'))}")


def _pause(build: subprocess.Popen) -> None:
    """Stop the build and its writers, as a busy machine or a slow disk would."""
    os.killpg(build.pid, signal.SIGSTOP)


def _finish(build: subprocess.Popen, logs: Path) -> None:
    try:
        build.wait(timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:  # pragma: no cover - the bug case
        pytest.fail(f"calfeed build did not finish within {BUILD_TIMEOUT} s")
    assert build.returncode == 0, (logs / "stderr").read_text(errors="replace")[-3000:]


def test_two_builds_into_one_folder_at_once_both_succeed_and_the_last_one_wins(tmp_path, processes):
    """A second build starts while the first fills its staging folder, and
    finishes first; the first then finishes too, and its site is the one left."""
    work, small, big = _calendars(tmp_path)
    alone = tmp_path / "alone"
    single = _build(big, alone / "site", work)
    assert single.returncode == 0, single.stderr
    out = tmp_path / "shared" / "site"

    first = _start_build(big, out, work, tmp_path / "first", processes)
    staging, _ = _staging_when_filled(first, tmp_path / "first", out.parent)
    _pause(first)
    try:
        second = _build(small, out, work)
        assert second.returncode == 0, second.stderr
        assert "events/primo.ics" in snapshot(out)
        assert staging.exists(), "the second build removed the staging folder of a build still running"
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    _finish(first, tmp_path / "first")

    assert snapshot(out) == snapshot(alone / "site")
    assert sorted(path.name for path in out.parent.iterdir()) == ["site"], "staging or retired folders left behind"


def test_the_next_build_removes_a_killed_builds_staging_folder_but_not_a_live_ones(tmp_path, processes):
    work, small, big = _calendars(tmp_path)
    out = tmp_path / "site"

    live = _start_build(big, out, work, tmp_path / "logs", processes)
    staging, _ = _staging_when_filled(live, tmp_path / "logs", tmp_path)
    _pause(live)
    staged = snapshot(staging)
    beside = _build(small, out, work)
    assert beside.returncode == 0, beside.stderr
    assert staging.exists(), "a build removed the staging folder of a build still running"
    assert snapshot(staging) == staged, "a build changed the staging folder of a build still running"

    os.killpg(live.pid, signal.SIGKILL)
    live.wait(timeout=10)
    built = snapshot(out)
    after = _build(small, out, work)
    assert after.returncode == 0, after.stderr
    assert not staging.exists(), "the staging folder of a killed build was not removed by the next build"
    assert snapshot(out) == built
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == []

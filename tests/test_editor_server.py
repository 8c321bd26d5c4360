"""The editor under gunicorn with two workers, driven over HTTP by clients
that log in and fill the forms as a browser would (``editing.Client``):

- a hundred saves from four concurrent editors: every one is in the file and
  in every worker's feed at the end, and a watcher reading the file the
  whole time only ever finds a valid calendar that never loses an event;
- saves killed half-way (SIGKILL of the worker holding the save lock, at a
  random moment): the file is never partial or invalid, no acknowledged save
  is lost, gunicorn starts new workers, and the editor works afterwards;
- failed logins spread over both workers lock the account on both (429).

Loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from calfeed.accounts import ACCOUNT_LIMIT
from calfeed.errors import CalendarErrors
from calfeed.validation import load_calendar
from editing import PASSWORD, Client, editing_server, editing_site, every_worker, feed_events, saved_id
from test_editor import ROME

CLIENTS = ["anna", "bruno", "carla", "dario"]
SAVES = 100
EDITS_EVERY = 5  # each client's every fifth save moves its own first event; the others create events
LOCKED_OUT = "elena"
ROUNDS = 15  # workers killed in the middle of a save  # the lockout test's own account: the others keep logging in


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    events = editing_site(tmp_path_factory.mktemp("editor-workers"), [*CLIENTS, LOCKED_OUT, "franca"])
    server = editing_server(events)
    try:
        yield server
    finally:
        server.stop()


class Watcher(threading.Thread):
    """Reads the file again and again while saves run (bounded): every read
    must be a valid calendar, and the number of events never goes down."""

    def __init__(self, path: Path, limit: float = 120.0):
        super().__init__(daemon=True)
        self.path = path
        self.limit = limit
        self.done = threading.Event()
        self.reads = 0
        self.counts: list[int] = []
        self.problems: list[str] = []

    def run(self) -> None:
        deadline = time.monotonic() + self.limit
        while not self.done.is_set() and time.monotonic() < deadline and self.reads < 100_000:
            try:
                self.counts.append(len(load_calendar(self.path).events))
            except CalendarErrors as errors:
                self.problems.append(str(errors))
            self.reads += 1
            time.sleep(0.005)

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=30)
        assert not self.is_alive()


def ids_in(path: Path) -> set[str]:
    return {event.id for event in load_calendar(path).events}


# --------------------------------------------------------------------------- a hundred saves


def test_a_hundred_saves_from_four_editors_at_once_all_arrive(site):
    """Four editors, each in its own session with its own CSRF token, save
    25 times each at the same time: 80 new events, and 5 moves of each
    editor's first event (every move raises its SEQUENCE)."""
    before = ids_in(site.events)
    watcher = Watcher(site.events)
    watcher.start()

    def editor(number: int) -> tuple[list[str], str, int]:
        name = CLIENTS[number]
        client = Client(site)
        assert client.login(name).status == 303
        created, first, moves = [], "", 0
        for save in range(SAVES // len(CLIENTS)):
            if save and save % EDITS_EVERY == 0:
                moves += 1
                start = datetime(2022, 2, 1, 18, 0) + timedelta(days=moves)
                assert saved_id(client.submit(f"/edit/events/{first}", start=start.isoformat(timespec="minutes"), end="")) == first
                continue
            title = f"Incontro {name} numero {save}"
            ident = saved_id(client.submit("/edit/events/new", title=title, start=f"2022-0{number + 3}-{save + 1:02d}T10:30"))
            created.append(ident)
            first = first or ident
        return created, first, moves

    try:
        with ThreadPoolExecutor(max_workers=len(CLIENTS)) as pool:
            results = list(pool.map(editor, range(len(CLIENTS))))
    finally:
        watcher.stop()

    created = [ident for made, _, _ in results for ident in made]
    assert len(created) == len(set(created)) == SAVES - SAVES // EDITS_EVERY + len(CLIENTS)  # 80 distinct ids
    assert watcher.problems == []
    assert watcher.reads > 10, watcher.reads
    assert watcher.counts == sorted(watcher.counts)  # no save ever undid another
    calendar = load_calendar(site.events)
    assert {event.id for event in calendar.events} == before | set(created)
    events = {event.id: event for event in calendar.events}
    for _, first, moves in results:
        assert events[first].start.replace(tzinfo=None) == datetime(2022, 2, 1, 18, 0) + timedelta(days=moves)

    def complete(reply) -> bool:
        found = feed_events(reply.body)
        return set(created) <= set(found) and all(
            found[first]["DTSTART"].dt == datetime(2022, 2, 1 + moves, 18, 0, tzinfo=ROME) for _, first, moves in results
        )

    for reply in every_worker(site, "/calendar.ics", complete).values():
        found = feed_events(reply.body)
        for _, first, moves in results:
            assert int(found[first]["SEQUENCE"]) == moves  # a new event starts at 0; each move adds one
        assert str(found[created[-1]]["SUMMARY"]).startswith("Incontro dario numero")


# --------------------------------------------------------------------------- lockout


def test_failed_logins_on_both_workers_lock_the_account_on_both(site):
    """The count is shared (SQLite beside the editors file): failures
    answered by two different workers add up, and both refuse afterwards."""

    def attempt(password: str):
        reply = Client(site).login(LOCKED_OUT, password)
        return site.pid_of(reply), reply

    failed: dict[int, int] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        # Two at a time: a worker busy checking a password leaves the other connection to the other worker.
        for round_size in (2, 2, ACCOUNT_LIMIT - 4):
            for pid, reply in pool.map(attempt, ["password sbagliata"] * round_size):
                assert reply.status == 403, reply.status
                failed[pid] = failed.get(pid, 0) + 1
        assert set(failed) == site.workers, f"all {ACCOUNT_LIMIT} failures went to one worker: {failed}"

        refused: dict[int, list] = {}
        for _ in range(20):
            for pid, reply in pool.map(attempt, [PASSWORD] * 2):  # the right password, now too late
                refused.setdefault(pid, []).append(reply)
            if set(refused) >= site.workers:
                break
    assert set(refused) >= site.workers
    for replies in refused.values():
        assert [reply.status for reply in replies] == [429] * len(replies)
        assert all(int(reply.headers["retry-after"]) > 0 for reply in replies)
    # The lock is the account's, not the address's: another editor still comes in.
    assert Client(site).login("franca").status == 303


# --------------------------------------------------------------------------- killed saves


def lock_holder(lock: Path) -> int | None:
    """The process holding the flock of the save lock file, from /proc/locks."""
    inode = os.stat(lock).st_ino
    with open("/proc/locks") as locks:
        for line in locks:
            parts = line.split()
            if "->" in parts:  # a waiter, not a holder
                continue
            if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5].rsplit(":", 1)[-1] == str(inode):
                return int(parts[4])
    return None


def held(lock: Path, saving: threading.Thread, deadline: float, release: bool = True) -> tuple[int | None, float]:
    """The next process to hold the save lock, and how long it held it
    (polled every millisecond; 0.0 when not waited for). Bounded by ``deadline``."""
    holder = None
    while holder is None and time.monotonic() < deadline and saving.is_alive():
        holder = lock_holder(lock) if lock.exists() else None
        if holder is None:
            time.sleep(0.001)
    since = time.monotonic()
    while release and holder is not None and lock_holder(lock) == holder and time.monotonic() < deadline:
        time.sleep(0.001)
    return holder, time.monotonic() - since if release else 0.0


def workers_of(master: int) -> set[int]:
    """The live children of gunicorn's master."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master and fields[0] != "Z":
            found.add(int(entry))
    return found


def test_saves_killed_half_way_never_leave_a_broken_file(tmp_path):
    """A client saves in a loop; 15 times the worker holding the save lock
    is SIGKILLed at a random moment of the save (a delay drawn from 0 to the
    time a save was seen to hold the lock: reading, checking, writing the
    temporary file, fsync, rename). The file stays valid throughout,
    holds every save that was answered, and nothing else but saves that were
    cut; gunicorn replaces the killed workers and the editor works on."""
    events = editing_site(tmp_path, ["anna"])
    server = editing_server(events)
    lock = tmp_path / ".events.toml.lock"
    answered: list[str] = []
    sent: list[str] = []
    cut: list[str] = []
    stop = threading.Event()
    watcher = Watcher(events)
    killed: list[int] = []
    failures: list[BaseException] = []
    client = Client(server)

    def saving() -> None:
        try:
            for number in range(2000):
                if stop.is_set():
                    return
                title = f"Salvataggio {number}"
                sent.append(title)
                try:
                    reply = client.submit("/edit/events/new", title=title, start="2022-05-04T21:00", description="x" * 2000)
                except (OSError, http.client.HTTPException):  # the worker died under this request
                    cut.append(title)
                    continue
                answered.append(saved_id(reply))
        except BaseException as failure:  # noqa: BLE001 - reported by the test below
            failures.append(failure)

    try:
        assert client.login("anna").status == 303
        before = ids_in(events)
        watcher.start()
        client_thread = threading.Thread(target=saving, daemon=True)
        client_thread.start()
        try:
            deadline = time.monotonic() + 60
            # How long a save holds the lock here and now: the kills fall anywhere in it.
            span = max(held(lock, client_thread, deadline)[1] for _ in range(3))
            delays = random.Random(1312)
            for _ in range(ROUNDS):
                holder, _ = held(lock, client_thread, deadline, release=False)
                assert holder is not None, f"no save held the lock within the time allowed: {failures}\n{server.log()}"
                time.sleep(delays.uniform(0, span))
                os.kill(holder, signal.SIGKILL)  # only this test ends workers: the holder is alive
                killed.append(holder)
                while lock_holder(lock) == holder and time.monotonic() < deadline:
                    time.sleep(0.001)  # the kernel drops a dead process's lock as it closes its files
                load_calendar(events)  # valid right after the kill
        finally:
            stop.set()
            client_thread.join(timeout=30)
            watcher.stop()
        assert not client_thread.is_alive()

        assert failures == []
        assert watcher.problems == []
        assert len(set(killed)) == ROUNDS and cut, (killed, cut)  # saves really were cut off
        assert set(answered) <= ids_in(events)  # every answered save is in the file
        titles = {event.title for event in load_calendar(events).events if event.id not in before}
        assert titles <= set(sent)  # nothing but what was sent ...
        assert titles >= set(sent) - set(cut)  # ... and all that was answered; a cut save is there or not

        # gunicorn starts new workers for the killed ones.
        master = server.process.pid
        for _ in range(300):
            live = workers_of(master)
            if len(live) == 2 and not live & set(killed):
                break
            time.sleep(0.1)
        assert len(live) == 2 and not live & set(killed), (live, killed)
        server.workers = live

        # The editor still works: a new session saves, both new workers serve it.
        client = Client(server)
        assert client.login("anna").status == 303
        ident = saved_id(client.submit("/edit/events/new", title="Dopo la tempesta", start="2022-05-05T18:00"))
        assert list(tmp_path.glob(".events.toml.*.tmp")) == []  # a killed save's temporary file is swept
        every_worker(server, "/calendar.ics", lambda reply: ident in feed_events(reply.body))
    finally:
        server.stop()

"""A save is served as soon as it is over (calfeed/watch.py, calfeed/store.py).

The kernel's word (inotify: the file closed after writing, or a finished
file renamed onto it) replaces the wait for the file to settle. Every test
here sets that wait far beyond its timeouts (60 s), so an edit can only be
served early through the signal; and a save still being written (the file
open, half of it on disk) must never be served, however long it waits.

- in one process (``CalendarStore``): a save by rename is served by the very
  next request; a save written in chunks is not served while the writer holds
  the file, and is served once it closes it; a truncated file
  held open is never served; a bad edit keeps the last good calendar at once;
  a symlinked events.toml, saved through the link or relinked; no signal on a
  network file system, nor when turned off;
- under gunicorn with two workers (127.0.0.1): each worker serves a save by
  rename, and neither serves the half of a save in progress.

Calendars are read back with icalendar. Every wait is bounded in time and
count; no assertion is about speed (that is the benchmark's).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import icalendar
import pytest

from calfeed import create_app, watch
from calfeed.store import CalendarStore
from calfeed.tomlfile import write_atomically
from servers import Server

SETTLE = 60.0  # the fallback wait, out of reach of every timeout here
TIMEOUT = 15.0  # generous: the contract's deadline is 2 s
HELD = 1.0  # how long a half-written save is watched (beyond the default settle, 0.75 s)

HEADER = '[calendar]\nname = "Prova"\nbase_url = "https://eventi.example.org"\ntimezone = "Europe/Rome"\n'


def event(name: str, day: int) -> str:
    return f'\n[[events]]\nid = "{name}"\ntitle = "Evento {name}"\nstart = 2031-05-{day:02d}T18:00:00\nduration = "PT1H"\n'


def calendar(*names: str) -> str:
    return HEADER + "".join(event(name, day) for day, name in enumerate(names, start=1))


def served(body: bytes) -> list[str]:
    """The events' titles in a feed, as icalendar reads them."""
    return sorted(str(component["SUMMARY"]) for component in icalendar.Calendar.from_ical(body).walk("VEVENT"))


def titles(*names: str) -> list[str]:
    return sorted(f"Evento {name}" for name in names)


def store_titles(store: CalendarStore) -> list[str]:
    return sorted(event.title for event in store.current().calendar.events)


def save_by_rename(path: Path, text: str) -> None:
    """An editor's save: a finished file renamed onto the old one."""
    staged = path.with_name(f".{path.name}.saving")
    staged.write_text(text, encoding="utf-8")
    os.replace(staged, path)


def poll(condition, what: str, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.02) + 10):
        if found := condition():
            return found
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def only_ever(condition, seconds: float = HELD) -> int:
    """Check ``condition`` again and again for ``seconds``; fails at once if it
    does not hold. Returns how many times it was checked."""
    checks = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and checks < 10_000:
        assert condition()
        checks += 1
        time.sleep(0.01)
    return checks


@pytest.fixture
def events(tmp_path) -> Path:
    path = tmp_path / "events.toml"
    path.write_text(calendar("a"), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- one process


def test_a_save_by_rename_is_served_by_the_next_request(events):
    store = CalendarStore(events, settle=SETTLE)
    assert store_titles(store) == titles("a")
    save_by_rename(events, calendar("a", "b"))
    assert store_titles(store) == titles("a", "b")
    save_by_rename(events, calendar("c"))  # and the next one too
    assert store_titles(store) == titles("c")
    assert store.error is None


def test_a_save_in_chunks_is_served_once_the_writer_closes_the_file(events):
    store = CalendarStore(events, settle=SETTLE)
    text = calendar("a", "b", "c", "d")
    cut = text.index("\n[[events]]\n", text.index('id = "b"'))  # the first part is a good calendar itself
    with open(events, "w", encoding="utf-8") as editor:  # truncates: an editor writing in place
        editor.write(text[:cut])
        editor.flush()
        assert only_ever(lambda: store_titles(store) == titles("a")) > 10
        editor.write(text[cut:])
        editor.flush()
        assert store_titles(store) == titles("a")  # all written, but not yet closed
    # The close is heard once every process holding the file let it go (a
    # loading process forked from this one holds it until it ends).
    poll(lambda: store_titles(store) == titles("a", "b", "c", "d"), "the closed save")
    assert store.error is None


def test_a_truncated_file_held_open_is_never_served(events):
    store = CalendarStore(events, settle=SETTLE)
    with open(events, "w", encoding="utf-8") as editor:
        assert only_ever(lambda: store_titles(store) == titles("a")) > 10
        assert store.error is None  # nor reported as a bad edit: it is not one yet
        editor.write(calendar("z"))
    poll(lambda: store_titles(store) == titles("z"), "the closed save")


def test_a_bad_save_keeps_the_last_good_calendar_and_is_reported_at_once(events):
    store = CalendarStore(events, settle=SETTLE)
    save_by_rename(events, calendar("a") + '\n[[events]\nid = "rotto"\n')
    assert store_titles(store) == titles("a")
    assert "TOML" in store.error
    save_by_rename(events, calendar("a", "b"))
    assert store_titles(store) == titles("a", "b")
    assert store.error is None


def test_a_symlinked_file_saved_through_the_link_or_relinked(tmp_path):
    real = tmp_path / "elsewhere" / "calendario.toml"
    real.parent.mkdir()
    real.write_text(calendar("a"), encoding="utf-8")
    link = tmp_path / "site" / "events.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    store = CalendarStore(link, settle=SETTLE)
    write_atomically(link, calendar("a", "b"))  # the editor's save: the target is replaced, the link stays
    assert link.is_symlink()
    assert store_titles(store) == titles("a", "b")

    other = tmp_path / "other" / "nuovo.toml"
    other.parent.mkdir()
    other.write_text(calendar("n"), encoding="utf-8")
    relinked = link.with_name(".events.toml.new")
    relinked.symlink_to(other)
    os.replace(relinked, link)  # `ln -sfn`, atomically: the link now names another file
    assert store_titles(store) == titles("n")
    save_by_rename(other, calendar("n", "m"))  # and saves of the new target are heard
    assert store_titles(store) == titles("m", "n")


def test_no_signal_on_a_network_file_system(events, monkeypatch):
    monkeypatch.setattr(watch, "file_system", lambda path: "nfs4")
    store = CalendarStore(events, settle=SETTLE)
    save_by_rename(events, calendar("a", "b"))
    assert only_ever(lambda: store_titles(store) == titles("a"), seconds=0.3)


def test_the_signal_can_be_turned_off(events):
    client = create_app({"EVENTS": str(events), "RELOAD_SETTLE": SETTLE, "RELOAD_SIGNAL": "off"}).test_client()
    save_by_rename(events, calendar("a", "b"))
    assert only_ever(lambda: served(client.get("/calendar.ics").data) == titles("a"), seconds=0.3)
    on = create_app({"EVENTS": str(events), "RELOAD_SETTLE": SETTLE}).test_client()
    save_by_rename(events, calendar("c"))
    assert served(on.get("/calendar.ics").data) == titles("c")


def test_the_file_system_is_the_one_findmnt_names(tmp_path):
    named = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "--target", str(tmp_path)], capture_output=True, text=True, check=True)
    assert watch.file_system(str(tmp_path)) == named.stdout.strip()


def test_one_inotify_instance_per_process_however_many_stores(tmp_path):
    """A user may open 128 instances: a test run or a process serving several
    calendars must not use one per calendar."""
    paths = []
    for n in range(5):
        path = tmp_path / f"c{n}" / "events.toml"
        path.parent.mkdir()
        path.write_text(calendar(f"x{n}"), encoding="utf-8")
        paths.append(path)
    before = _inotify_fds()
    stores = [CalendarStore(path, settle=SETTLE) for path in paths]
    assert len(_inotify_fds() - before) <= 1
    for n, (store, path) in enumerate(zip(stores, paths)):
        save_by_rename(path, calendar(f"y{n}"))
    assert [store_titles(store) for store in stores] == [titles(f"y{n}") for n in range(5)]


def _inotify_fds() -> set[str]:
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:inotify":
                found.add(fd)
        except OSError:
            pass
    return found


# --------------------------------------------------------------------------- gunicorn, two workers


@pytest.fixture
def server(events, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    server = Server(events, logs, env={"CALFEED_RELOAD_SETTLE": str(SETTLE)})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def every_worker_serves(server: Server, names: tuple[str, ...]) -> None:
    done: set[int] = set()

    def all_done() -> bool:
        reply = server.get("/calendar.ics")
        assert reply.status == 200
        if served(reply.body) == titles(*names):
            done.add(server.pid_of(reply))
        return done >= server.workers

    poll(all_done, f"every worker to serve {names}")


def test_each_worker_serves_a_save_by_rename(server, events):
    every_worker_serves(server, ("a",))
    save_by_rename(events, calendar("a", "b"))
    every_worker_serves(server, ("a", "b"))
    save_by_rename(events, calendar("c"))
    every_worker_serves(server, ("c",))
    assert server.process.poll() is None


def test_no_worker_serves_half_a_save_then_each_serves_the_whole(server, events):
    every_worker_serves(server, ("a",))
    text = calendar("a", "b", "c")
    cut = text.index("\n[[events]]\n", text.index('id = "a"'))
    answered: set[int] = set()

    def still_old() -> bool:
        reply = server.get("/calendar.ics")
        answered.add(server.pid_of(reply))
        return reply.status == 200 and served(reply.body) == titles("a")

    with open(events, "w", encoding="utf-8") as editor:  # truncates, writes half, waits
        editor.write(text[:cut])
        editor.flush()
        only_ever(still_old)
        editor.write(text[cut:])
    assert answered >= server.workers, "a worker was never asked during the half save"
    every_worker_serves(server, ("a", "b", "c"))

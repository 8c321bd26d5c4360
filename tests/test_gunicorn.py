"""The real app under gunicorn with two workers (CONTRACT.md, "HTTP" and
"Command line").

- Same file, same bytes: every worker (and this test process, a third
  interpreter with its own hash seed) serves identical bodies and ETags;
  conditional requests get 304 from every worker; gzip bytes are identical.
- Editing events.toml reaches every worker with no restart; a bad edit keeps
  the last good feed on every worker and /healthz says "degraded".
- `calfeed serve` and `gunicorn wsgi:app` refuse to start on a bad file.

Servers come from tests/servers.py. Only 127.0.0.1; every loop is bounded in
count and in time; every server is terminated by a fixture finalizer.
"""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from calfeed import create_app
from servers import ROOT, Reply, Server, free_port, stop, wait_answering

SAMPLE = ROOT / "events.toml"
_SCRIPT = Path(sys.executable).with_name("calfeed")
# The installed console script, or the same entry point through this interpreter.
CALFEED = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from calfeed.cli import cli; cli()"]

RELOAD_TIMEOUT = 15.0  # generous: the contract's deadline is 2 s; speed is the benchmark's

@pytest.fixture(scope="module")
def shared_events(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("shared") / "events.toml"
    shutil.copyfile(SAMPLE, path)
    return path


@pytest.fixture(scope="module")
def server(shared_events, tmp_path_factory):
    """One server on an unchanged copy of the sample, for the read-only tests."""
    server = Server(shared_events, tmp_path_factory.mktemp("gunicorn-logs"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_events(tmp_path) -> Path:
    path = tmp_path / "events.toml"
    shutil.copyfile(SAMPLE, path)
    return path


def in_process(path: Path, url: str, headers: dict[str, str] | None = None):
    """What this interpreter (another process, another hash seed) serves."""
    return create_app({"EVENTS": str(path)}).test_client().get(url, headers=headers or {})


def flat(replies: dict[int, list[Reply]]) -> list[Reply]:
    return [reply for group in replies.values() for reply in group]


# --------------------------------------------------------------------------- same file, same bytes

FEEDS = [
    "/calendar.ics",
    "/categories/webinar.ics",
    "/places/bagni-pubblici.ics",
    "/calendar.ics?category=webinar&category=patti-di-collaborazione",
    "/events/generare-prossimita.ics",
]


def test_every_worker_serves_the_same_calendar_bytes_and_etag(server, shared_events):
    replies = server.by_worker("/calendar.ics", 60)
    everything = flat(replies)
    assert len(everything) >= 60
    assert {reply.status for reply in everything} == {200}
    bodies = {reply.body for reply in everything}
    etags = {reply.headers["etag"] for reply in everything}
    assert len(bodies) == 1, f"{len(bodies)} different bodies from workers {sorted(replies)}"
    assert len(etags) == 1, f"different ETags: {etags}"
    for name in ("last-modified", "cache-control", "content-type", "access-control-allow-origin"):
        assert len({reply.headers.get(name) for reply in everything}) == 1, name
    body, etag = bodies.pop(), etags.pop()
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    assert everything[0].headers["content-type"] == "text/calendar; charset=utf-8"
    assert everything[0].headers["access-control-allow-origin"] == "*"

    # A third process with another hash seed computes the very same bytes.
    local = in_process(shared_events, "/calendar.ics")
    assert local.data == body
    assert local.headers["ETag"] == etag
    assert local.headers["Last-Modified"] == everything[0].headers["last-modified"]


@pytest.mark.parametrize("path", FEEDS[1:])
def test_every_worker_agrees_on_other_feeds(server, shared_events, path):
    everything = flat(server.by_worker(path, 12))
    assert {reply.status for reply in everything} == {200}
    assert len({reply.body for reply in everything}) == 1
    assert len({reply.headers["etag"] for reply in everything}) == 1
    local = in_process(shared_events, path)
    assert (local.data, local.headers["ETag"]) == (everything[0].body, everything[0].headers["etag"])


def test_if_none_match_gets_304_from_every_worker(server):
    first = server.get("/calendar.ics")
    etag = first.headers["etag"]
    replies = server.by_worker("/calendar.ics", 30, {"If-None-Match": etag})
    for pid, group in replies.items():
        assert {reply.status for reply in group} == {304}, f"worker {pid}"
        for reply in group:
            assert reply.body == b""
            assert reply.headers["etag"] == etag
    # If-None-Match wins over If-Modified-Since: a stale tag with a fresh date is a 200.
    stale = server.by_worker(
        "/calendar.ics", 10, {"If-None-Match": '"not-this-one"', "If-Modified-Since": first.headers["last-modified"]}
    )
    assert {reply.status for reply in flat(stale)} == {200}


def test_if_modified_since_gets_304_from_every_worker(server):
    last_modified = server.get("/calendar.ics").headers["last-modified"]
    replies = server.by_worker("/calendar.ics", 30, {"If-Modified-Since": last_modified})
    for pid, group in replies.items():
        assert {reply.status for reply in group} == {304}, f"worker {pid}"
    older = server.by_worker("/calendar.ics", 10, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert {reply.status for reply in flat(older)} == {200}


def test_gzip_bytes_are_identical_on_every_worker(server):
    plain = server.get("/calendar.ics")
    replies = server.by_worker("/calendar.ics", 40, {"Accept-Encoding": "gzip"})
    everything = flat(replies)
    assert {reply.status for reply in everything} == {200}
    assert {reply.headers.get("content-encoding") for reply in everything} == {"gzip"}
    bodies = {reply.body for reply in everything}
    etags = {reply.headers["etag"] for reply in everything}
    assert len(bodies) == 1, f"{len(bodies)} different gzip bodies"
    assert len(etags) == 1
    compressed = bodies.pop()
    assert gzip.decompress(compressed) == plain.body
    assert compressed[4:8] == b"\0\0\0\0", "gzip header carries a modification time"
    assert "accept-encoding" in everything[0].headers.get("vary", "").lower()
    # The gzip ETag, sent back, is a 304 on every worker too.
    again = server.by_worker("/calendar.ics", 20, {"Accept-Encoding": "gzip", "If-None-Match": etags.pop()})
    assert {reply.status for reply in flat(again)} == {304}


# --------------------------------------------------------------------------- editing while serving


def _version_per_worker(server: Server, path: str, wanted, timeout: float = RELOAD_TIMEOUT, max_requests=1500):
    """Request over fresh connections until every worker gave a reply for
    which ``wanted(reply)`` holds; bounded in time and count. Returns, per
    worker, the replies in order."""
    seen: dict[int, list[Reply]] = {}
    done: set[int] = set()
    deadline = time.monotonic() + timeout
    for _ in range(max_requests):
        reply = server.get(path)
        pid = server.pid_of(reply)
        seen.setdefault(pid, []).append(reply)
        if wanted(reply):
            done.add(pid)
        if done >= server.workers:
            return seen
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    pytest.fail(
        f"after {timeout} s, worker(s) {sorted(server.workers - done)} of {sorted(server.workers)} "
        f"still did not serve the expected version of {path}"
    )


def test_edit_is_seen_by_every_worker(start_server, own_events, tmp_path):
    server = start_server(own_events)
    old = server.get("/calendar.ics")

    text = own_events.read_text(encoding="utf-8")
    new_text = text.replace('name = "Case del Quartiere e Patti di collaborazione"', 'name = "Calendario modificato"')
    new_text += (
        "\n[[events]]\n"
        'id = "aggiunto-a-caldo"\n'
        'title = "Evento aggiunto mentre il server gira"\n'
        "start = 2031-03-04T18:00:00\n"
        "duration = \"PT1H\"\n"
        "updated = 2030-01-01T10:00:00\n"
    )
    assert new_text != text
    expected_path = tmp_path / "expected.toml"
    expected_path.write_text(new_text, encoding="utf-8")
    expected = in_process(expected_path, "/calendar.ics")
    assert expected.status_code == 200 and expected.data != old.body

    own_events.write_text(new_text, encoding="utf-8")
    seen = _version_per_worker(server, "/calendar.ics", lambda reply: reply.body == expected.data)
    for pid, replies in seen.items():
        bodies = [reply.body for reply in replies]
        assert set(bodies) <= {old.body, expected.data}, f"worker {pid} served a third version"
        # Once a worker serves the edit, it does not go back.
        first_new = bodies.index(expected.data) if expected.data in bodies else len(bodies)
        assert all(body == expected.data for body in bodies[first_new:]), f"worker {pid} went back"

    after = flat(server.by_worker("/calendar.ics", 30))
    assert {reply.body for reply in after} == {expected.data}
    assert {reply.headers["etag"] for reply in after} == {expected.headers["ETag"]}
    assert {reply.headers["last-modified"] for reply in after} == {expected.headers["Last-Modified"]}
    assert b"aggiunto-a-caldo@" in expected.data
    # /healthz agrees on every worker.
    for reply in flat(server.by_worker("/healthz", 10)):
        status = json.loads(reply.body)
        assert status["status"] == "ok" and status["error"] is None
    assert server.process.poll() is None, "the server restarted or died"


def test_bad_edit_keeps_last_good_feed_on_every_worker(start_server, own_events):
    server = start_server(own_events)
    good = server.get("/calendar.ics")
    good_events = json.loads(server.get("/healthz").body)["events"]

    text = own_events.read_text(encoding="utf-8")
    own_events.write_text(text + '\n[[events]]\nid = "rotto"\ntitle = "Senza data"\n', encoding="utf-8")

    def degraded(reply: Reply) -> bool:
        return json.loads(reply.body)["status"] == "degraded"

    seen = _version_per_worker(server, "/healthz", degraded)
    for pid, replies in seen.items():
        status = json.loads(replies[-1].body)
        assert status["status"] == "degraded", f"worker {pid}"
        assert status["events"] == good_events, f"worker {pid}"
        assert str(own_events) in status["error"]
        assert "rotto" in status["error"] and "start" in status["error"], status["error"]

    replies = server.by_worker("/calendar.ics", 30)
    for pid, group in replies.items():
        for reply in group:
            assert reply.status == 200, f"worker {pid}"
            assert reply.body == good.body, f"worker {pid} does not serve the last good feed"
            assert reply.headers["etag"] == good.headers["etag"]
    conditional = server.by_worker("/calendar.ics", 10, {"If-None-Match": good.headers["etag"]})
    assert {reply.status for reply in flat(conditional)} == {304}

    # The log says what is wrong (bounded wait for the workers' stderr).
    deadline = time.monotonic() + 5
    while "rotto" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "rotto" in server.log() and str(own_events) in server.log(), server.log()

    # Fixing the file brings every worker back to "ok".
    own_events.write_text(text, encoding="utf-8")
    _version_per_worker(server, "/healthz", lambda reply: json.loads(reply.body)["status"] == "ok")
    assert {reply.body for reply in flat(server.by_worker("/calendar.ics", 10))} == {good.body}


# --------------------------------------------------------------------------- refusing to start

BAD_FILE = """\
[calendar]
name = "Prova"
base_url = "https://eventi.example.org"

[[events]]
id = "al-contrario"
title = "Finisce prima di cominciare"
start = 2030-02-01T18:00:00
end = 2030-02-01T17:00:00
"""


def test_calfeed_serve_refuses_a_bad_file(tmp_path):
    bad = tmp_path / "events.toml"
    bad.write_text(BAD_FILE, encoding="utf-8")
    port = free_port()
    try:
        result = subprocess.run(
            [*CALFEED, "serve", "--events", str(bad), "--port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:  # pragma: no cover - the bug case
        pytest.fail("calfeed serve kept running on a bad file")
    assert result.returncode == 1, result.stderr
    output = result.stdout + result.stderr
    assert str(bad) in output
    assert "al-contrario" in output and "end" in output
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "something listens on the port"


def test_calfeed_serve_refuses_invalid_toml(tmp_path):
    bad = tmp_path / "events.toml"
    bad.write_text("[calendar\nname = 1\n", encoding="utf-8")
    result = subprocess.run(
        [*CALFEED, "serve", "--events", str(bad), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1
    assert f"{bad}:1" in result.stderr, result.stderr


def test_gunicorn_wsgi_app_refuses_a_bad_file(tmp_path):
    """`gunicorn wsgi:app` is the documented production entry point: on a bad
    file it must stop with the errors, not keep restarting workers."""
    bad = tmp_path / "events.toml"
    bad.write_text(BAD_FILE, encoding="utf-8")
    server = Server(bad, tmp_path)
    try:
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail(
                "gunicorn wsgi:app still running 15 s after start on a bad file "
                "(workers exit and are restarted in a loop):\n" + server.log()[-600:]
            )
        assert server.process.returncode != 0
        assert str(bad) in server.log() and "al-contrario" in server.log()
    finally:
        server.stop()


def test_calfeed_serve_serves_a_good_file(tmp_path):
    good = tmp_path / "events.toml"
    shutil.copyfile(SAMPLE, good)
    port = free_port()
    with open(tmp_path / "serve.log", "wb") as log:
        process = subprocess.Popen(
            [*CALFEED, "serve", "--events", str(good), "--port", str(port)],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        reply = wait_answering(process, port, "/calendar.ics", tmp_path / "serve.log")
        assert reply.body == in_process(good, "/calendar.ics").data
    finally:
        stop(process)

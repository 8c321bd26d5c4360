"""Helpers for the editor's tests against a real gunicorn (two workers):
a site with editors, a cookie-keeping HTTP client that fills the editor's
forms like a browser, and a wait until every worker serves a change.

Every client request goes over a fresh connection, so any worker may answer
it (gunicorn's sync workers close each connection anyway); the access log
tells which one did (``servers.Server.pid_of``). Every wait is bounded.
"""

from __future__ import annotations

import http.client
import itertools
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

import icalendar
import pytest

from calfeed.accounts import Editors
from servers import REQUEST_ID_HEADER, REQUEST_TIMEOUT, Reply, Server
from test_browser import SAMPLE, TODAY
from test_editor import Form

SECRET = "a-test-secret-never-used-elsewhere-" + "z" * 16
PASSWORD = "una password lunga"
# http, so the session cookie is not Secure on the test's http://127.0.0.1.
BASE_URL = "http://calfeed.test"
# Generous: the contract's deadline is 2 s; a busy 2-core machine gets time.
RELOAD_TIMEOUT = 20.0

_ids = itertools.count(1)


def editing_site(folder: Path, editors: list[str]) -> Path:
    """A copy of the sample events.toml with these editors beside it."""
    events = folder / "events.toml"
    shutil.copyfile(SAMPLE, events)
    accounts = Editors.load(folder / "editors.toml")
    for name in editors:
        accounts.add(name, PASSWORD)
    return events


def editing_server(events: Path, workers: int = 2) -> Server:
    """gunicorn with editing on (a secret and the editors file), today pinned."""
    server = Server(
        events,
        events.parent,
        workers=workers,
        env={"CALFEED_SECRET_KEY": SECRET, "CALFEED_TODAY": TODAY, "CALFEED_BASE_URL": BASE_URL},
    )
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


class Client:
    """One editor's HTTP session: the session cookie, sent back on each request."""

    def __init__(self, server: Server):
        self.server = server
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> Reply:
        request_id = f"c{os.getpid()}-{next(_ids)}"
        headers = {REQUEST_ID_HEADER: request_id}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    self._keep(value)
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, answer, request_id)
        finally:
            connection.close()

    def _keep(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        if "max-age=0" in attributes.lower().replace(" ", "") or "expires=thu, 01 jan 1970" in attributes.lower():
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def login(self, name: str, password: str = PASSWORD) -> Reply:
        page = self.get("/edit/login")
        assert page.status == 200, page.status
        return self.request("POST", "/edit/login", {"username": name, "password": password, "csrf_token": token(page.body)})

    def submit(self, path: str, **changes: str | list[str]) -> Reply:
        """Open the form at ``path`` and send it back as a browser would,
        with ``changes`` typed into it."""
        page = self.get(path)
        assert page.status == 200, (path, page.status, page.body[:300])
        form = Form(page.body.decode(), "event" if "/delete" not in path else "confirm")
        return self.request("POST", form.action, form.data(**changes))


def token(markup: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', markup)
    assert found, markup[:500]
    return found.group(1).decode()


def saved_id(reply: Reply) -> str:
    """The event id a saved form was redirected to."""
    assert reply.status == 303, (reply.status, reply.body[:500])
    found = re.fullmatch(r"(?:http://[^/]+)?/edit/events/([a-z0-9-]+)", reply.headers["location"])
    assert found, reply.headers["location"]
    return found.group(1)


def feed_events(body: bytes) -> dict[str, icalendar.Event]:
    """The feed's events by id (the UID's part before the @), overrides left out."""
    feed = icalendar.Calendar.from_ical(body)
    return {
        str(event["UID"]).partition("@")[0]: event
        for event in feed.walk("VEVENT")
        if "RECURRENCE-ID" not in event
    }


def every_worker(server: Server, path: str, check: Callable[[Reply], bool], timeout: float = RELOAD_TIMEOUT) -> dict[int, Reply]:
    """Fresh requests, four at a time, until each of the server's workers has
    answered ``path`` with a reply that passes ``check``; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    passed: dict[int, Reply] = {}
    last: dict[int, int] = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(2000):
            for reply in pool.map(lambda _: server.get(path), range(4)):
                pid = server.pid_of(reply)
                last[pid] = reply.status
                if check(reply):
                    passed.setdefault(pid, reply)
            if set(passed) >= server.workers:
                return passed
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    pytest.fail(f"{path}: workers {sorted(server.workers - set(passed))} never passed within {timeout} s "
                f"(last statuses {last}):\n{server.log()}")

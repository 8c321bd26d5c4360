"""Test servers on 127.0.0.1: free ports, one request per fresh connection,
and gunicorn serving ``wsgi:app`` with its workers told apart.

Workers are told apart through gunicorn's access log (``%(p)s``, the worker's
pid, next to a request id the test sends in a header): calfeed has no
response header naming the worker. Every wait is bounded in count and time.
"""

from __future__ import annotations

import http.client
import itertools
import os
import threading
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 10.0
REQUEST_ID_HEADER = "X-Calfeed-Test"

_request_ids = itertools.count(1)


def gunicorn_options() -> list[str]:
    """gunicorn 24+ opens a control socket in ~/.gunicorn, shared by every
    server of the user; the tests' servers do without it."""
    from gunicorn.config import KNOWN_SETTINGS

    return ["--no-control-socket"] if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS) else []


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    request_id: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Reply:
    """One request over a fresh connection (so any worker may answer it)."""
    request_id = f"r{os.getpid()}-{next(_request_ids)}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(method, path, headers={REQUEST_ID_HEADER: request_id, **(headers or {})})
        response = connection.getresponse()
        body = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body, request_id)
    finally:
        connection.close()


@contextmanager
def html_pages(pages: dict[str, bytes]) -> Iterator[str]:
    """Another site (a partner's) on a free 127.0.0.1 port, so another
    origin: it answers each path of ``pages`` (read at each request, so a
    test may add pages) with its HTML, anything else with 404. Inside: its
    address, without a final slash."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = pages.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def wait_answering(process: subprocess.Popen, port: int, path: str, log: Path) -> Reply:
    """The first 200 answer to ``path`` from ``process``; fails the test, with
    the end of ``log``, if the process exits or nothing answers in time."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{_tail(log)}")
        try:
            reply = fetch(port, path)
            if reply.status == 200:
                return reply
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"nothing answered 200 to {path} on 127.0.0.1:{port} within {START_TIMEOUT} s:\n{_tail(log)}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL of the process group (the server and its workers)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-5000:] if log.exists() else ""


class Server:
    """gunicorn serving wsgi:app from the project root, two workers."""

    def __init__(self, events: Path, logs: Path, workers: int = 2, env: dict[str, str] | None = None,
                 own_base_url: bool = False):
        """``own_base_url``: CALFEED_BASE_URL is the server's own loopback
        address, so that a browser following the site's links stays on it."""
        self.events = events
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_log = logs / f"access-{self.port}.log"
        self.stdout = logs / f"stdout-{self.port}.log"
        self.stderr = logs / f"stderr-{self.port}.log"
        self._pids: dict[str, int] = {}
        self._offset = 0
        self.workers: set[int] = set()
        environment = {**os.environ, "CALFEED_EVENTS": str(events), "PYTHONHASHSEED": "4242"}
        environment.pop("CALFEED_BASE_URL", None)
        if own_base_url:
            environment["CALFEED_BASE_URL"] = self.url
        environment.update(env or {})  # the test's own settings last
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn",
                    "--workers", str(workers),
                    "--bind", f"127.0.0.1:{self.port}",
                    "--access-logfile", str(self.access_log),
                    "--access-logformat", f"%({{{REQUEST_ID_HEADER.lower()}}}i)s %(p)s %(s)s",
                    *gunicorn_options(),
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=environment,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    # -- life cycle

    def wait_answering(self) -> None:
        """Wait until any worker answers (``wait_ready`` waits for both)."""
        wait_answering(self.process, self.port, "/healthz", self.stderr)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        wait_answering(self.process, self.port, "/healthz", self.stderr)
        # Learn both workers' pids: fresh connections until each has answered
        # (the second may still be starting on a busy machine).
        for _ in range(5000):
            reply = self.get("/healthz")
            self.workers.add(self.pid_of(reply))
            if len(self.workers) >= 2:
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        pytest.fail(f"only worker(s) {self.workers} answered fresh connections for {START_TIMEOUT} s:\n{self.log()}")

    def stop(self) -> None:
        stop(self.process)

    def log(self) -> str:
        return _tail(self.stderr)

    # -- requests

    def get(self, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Reply:
        return fetch(self.port, path, headers, method)

    def pid_of(self, reply: Reply, timeout: float = 5.0) -> int:
        """The worker that answered ``reply``, from the access log."""
        deadline = time.monotonic() + timeout
        while True:
            with open(self.access_log, "rb") as log:
                log.seek(self._offset)
                chunk = log.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self._offset += len(complete)
            for line in complete.decode(errors="replace").splitlines():
                match = re.match(r"(\S+) <(\d+)> (\d+)", line)
                if match:
                    self._pids[match.group(1)] = int(match.group(2))
            if reply.request_id in self._pids:
                return self._pids[reply.request_id]
            if time.monotonic() > deadline:
                pytest.fail(f"request {reply.request_id} not in gunicorn's access log")
            time.sleep(0.01)

    def by_worker(self, path: str, count: int, headers: dict[str, str] | None = None) -> dict[int, list[Reply]]:
        """``count`` requests (and more, at most 300, until every worker answered).

        Requests go out eight at a time: one after another, an idle worker
        may win every accept() and the other never answer."""
        replies: dict[int, list[Reply]] = {}
        sent = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            while sent < 300:
                batch = list(pool.map(lambda _: self.get(path, headers), range(8)))
                sent += len(batch)
                for reply in batch:
                    replies.setdefault(self.pid_of(reply), []).append(reply)
                if sent >= count and set(replies) >= self.workers:
                    break
        assert set(replies) >= self.workers, f"workers {self.workers - set(replies)} never answered {path}"
        return replies

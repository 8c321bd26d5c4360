"""The webhook poster against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from calfeed.webhooks import is_webhook_url, notify, post_json


class Hook:
    """A local server answering with the given statuses in turn (then 200),
    recording each body it got and what ``seen()`` said at that moment."""

    def __init__(self, statuses: list[int], seen: Callable[[], object] = lambda: None):
        self.statuses = list(statuses)
        self.received: queue.Queue = queue.Queue()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.put((json.loads(body), self.headers["Content-Type"], seen()))
                self.send_response(hook.statuses.pop(0) if hook.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *arguments):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self) -> list:
        found = []
        while not self.received.empty():
            found.append(self.received.get_nowait())
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Callable[..., Hook]]:
    made: list[Hook] = []

    def make(statuses: list[int] = (), seen: Callable[[], object] = lambda: None) -> Hook:
        made.append(Hook(list(statuses), seen))
        return made[-1]

    yield make
    for server in made:
        server.close()


def test_a_notice_is_posted_once_as_json(hook):
    server = hook()
    assert post_json(server.url, {"id": "abc", "title": "Festa è"}, pause=0)
    [(body, kind, _)] = server.bodies()
    assert body == {"id": "abc", "title": "Festa è"} and kind.startswith("application/json")


def test_a_failing_server_is_tried_again_then_given_up(hook):
    flaky = hook([503, 500])
    assert post_json(flaky.url, {"id": "x"}, attempts=3, pause=0)
    assert len(flaky.bodies()) == 3
    down = hook([500, 500, 500, 500])
    assert not post_json(down.url, {"id": "y"}, attempts=3, pause=0)
    assert len(down.bodies()) == 3


def test_a_refusal_is_not_repeated(hook):
    server = hook([404])
    assert not post_json(server.url, {"id": "z"}, attempts=3, pause=0)
    assert len(server.bodies()) == 1


def test_notify_runs_in_the_background_and_only_for_http_urls(hook):
    server = hook()
    thread = notify(server.url, {"id": "t"}, pause=0)
    thread.join(timeout=30)
    assert not thread.is_alive() and len(server.bodies()) == 1
    assert notify("file:///etc/passwd", {"id": "t"}) is None
    assert not is_webhook_url("ftp://example.org/x")

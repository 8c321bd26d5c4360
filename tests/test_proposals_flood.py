"""A burst of proposals against gunicorn with two workers, from several
addresses and threads at once: every answer is 303, 422 or 429 (never a
5xx), the per-address limit and the queue's cap hold, every stored file is
whole, and the feed and the editors' queue keep answering."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from editing import SECRET, Client, editing_site
from servers import REQUEST_TIMEOUT, Server
from test_browser import TODAY
from test_editor import Form
from test_proposals import GOOD

POSTS = 2000  # "a few thousand", as fast as six clients can send them
THREADS = 6
ADDRESSES = [f"198.51.100.{n}" for n in range(1, 11)]
PER_HOUR = 3
TRIES_PER_HOUR = 20
MAX_PENDING = 25  # below the 30 that 10 addresses may store: both limits bind
BURST_LIMIT = 60.0  # seconds: no post is sent after this, whatever the machine's speed
FEED_CHECKS = 5000  # feed requests during the burst, at most


def test_a_burst_of_proposals_is_answered_within_the_limits(tmp_path):
    events = editing_site(tmp_path, ["anna"])
    server = Server(events, tmp_path, env={
        "CALFEED_SECRET_KEY": SECRET, "CALFEED_TODAY": TODAY, "CALFEED_BASE_URL": "http://calfeed.test",
        "CALFEED_PROPOSALS_PER_HOUR": str(PER_HOUR), "CALFEED_PROPOSALS_TRIES_PER_HOUR": str(TRIES_PER_HOUR),
        "CALFEED_PROPOSALS_MAX_PENDING": str(MAX_PENDING), "CALFEED_PROPOSALS_MIN_FILL": "0",
        # The test stands for a proxy: the sender's address is the X-Forwarded-For it sets.
        "CALFEED_TRUSTED_PROXIES": "1",
    })
    try:
        server.wait_ready()
        # Each thread is one browser: its own cookie and CSRF token, reused for its posts.
        visitors = []
        for _ in range(THREADS):
            visitor = Client(server)
            page = visitor.get("/propose")
            assert page.status == 200, page.status
            visitors.append((visitor, Form(page.body.decode(), css_class="propose")))
        deadline = time.monotonic() + BURST_LIMIT

        def post(n: int) -> int | None:
            if time.monotonic() > deadline:
                return None
            visitor, form = visitors[n % THREADS]
            # One in four is refused by the rules (HTML in the title).
            title = f"<b>Proposta {n}</b>" if n % 4 == 3 else f"Proposta {n}"
            body = urlencode(form.data(**{**GOOD, "title": title}), doseq=True).encode()
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT)
            try:
                connection.request("POST", "/propose", body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": "; ".join(f"{k}={v}" for k, v in visitor.cookies.items()),
                    "X-Forwarded-For": ADDRESSES[n % len(ADDRESSES)]})
                answer = connection.getresponse()
                answer.read()
                return answer.status
            finally:
                connection.close()

        posting = threading.Event()
        posting.set()

        def feed() -> list[int]:
            """Subscribers keep polling the feed for as long as the burst lasts."""
            found = []
            for _ in range(FEED_CHECKS):
                if not posting.is_set() or time.monotonic() > deadline:
                    break
                found.append(server.get("/calendar.ics").status)
            return found

        with ThreadPoolExecutor(max_workers=THREADS + 1) as pool:
            feeds = pool.submit(feed)
            started = time.monotonic()
            statuses = Counter(pool.map(post, range(POSTS)))
            posting.clear()
            feed_statuses = feeds.result()
        print(f"\n{sum(statuses.values())} posts in {time.monotonic() - started:.1f} s: {dict(statuses)}; "
              f"{len(feed_statuses)} feed requests meanwhile")
        statuses.pop(None, None)
        assert set(statuses) <= {303, 422, 429}, statuses
        assert statuses[303] >= 1 and statuses[429] >= 1 and statuses[422] >= 1, statuses
        assert feed_statuses and set(feed_statuses) == {200}, Counter(feed_statuses)

        folder = events.parent / "proposals"
        stored = sorted(folder.glob("*.json"))
        # The cap holds (and the burst filled it: 10 addresses may store 30).
        assert len(stored) == MAX_PENDING, len(stored)
        records = [json.loads(path.read_text(encoding="utf-8")) for path in stored]  # every file whole
        assert all(record["id"] == path.stem for record, path in zip(records, stored))
        per_sender = Counter(record["address"] for record in records)
        assert max(per_sender.values()) <= PER_HOUR, per_sender
        assert not list(folder.glob("*.tmp")) and not list(folder.glob(".*.tmp"))
        # The editors' queue lists them all.
        editor = Client(server)
        assert editor.login("anna").status == 303
        asked = time.monotonic()
        queue = editor.get("/edit/proposals")
        print(f"the queue page of {len(records)} proposals took {1000 * (time.monotonic() - asked):.0f} ms")
        assert queue.status == 200
        assert all(record["fields"]["title"].encode() in queue.body for record in records)
    finally:
        server.stop()

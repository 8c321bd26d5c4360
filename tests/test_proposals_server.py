"""/propose under gunicorn with two workers: the per-address limit and the
queue's cap hold across processes, and no proposal file is ever partial."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from editing import SECRET, Client, editing_site
from servers import Server
from test_browser import TODAY
from test_editor import Form
from test_proposals import GOOD

POSTS = 12


def test_the_limit_per_address_holds_across_workers(tmp_path):
    events = editing_site(tmp_path, ["anna"])
    server = Server(events, tmp_path, env={
        "CALFEED_SECRET_KEY": SECRET, "CALFEED_TODAY": TODAY, "CALFEED_BASE_URL": "http://calfeed.test",
        "CALFEED_PROPOSALS_PER_HOUR": "3", "CALFEED_PROPOSALS_MIN_FILL": "0",
    })
    try:
        server.wait_ready()

        def propose(n: int):
            visitor = Client(server)
            page = visitor.get("/propose")
            assert page.status == 200, page.status
            form = Form(page.body.decode(), css_class="propose")
            return visitor.request("POST", "/propose", form.data(**{**GOOD, "title": f"Proposta {n}"}))

        with ThreadPoolExecutor(max_workers=4) as pool:
            replies = list(pool.map(propose, range(POSTS)))
        statuses = sorted(reply.status for reply in replies)
        assert statuses == [303] * 3 + [429] * (POSTS - 3), statuses
        # Both workers took posts, so one shared count is what held the limit.
        assert {server.pid_of(reply) for reply in replies} == server.workers
        stored = sorted((events.parent / "proposals").glob("*.json"))
        assert len(stored) == 3
        assert sorted(json.loads(path.read_text())["fields"]["title"] for path in stored) == sorted(
            f"Proposta {n}" for n, reply in enumerate(replies) if reply.status == 303)
        assert server.get("/calendar.ics").status == 200
    finally:
        server.stop()

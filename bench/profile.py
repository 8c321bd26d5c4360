"""Where calfeed's time goes: cProfile of ``calfeed build`` and of the reload
path, on the benchmark's synthetic calendars.

    .venv/bin/python -m bench.profile build --events 10000
    .venv/bin/python -m bench.profile rebuild --events 10000
    .venv/bin/python -m bench.profile reload --events 10000
    .venv/bin/python -m bench.profile serve --events 1000

``build`` runs the command's own code (``cli build --workers 1``) in this process;
``rebuild`` the same after a one-event edit, with the first build in place;
``reload`` times what a store's loading process does for a first load and
for a one-event edit (read, parse, validate reusing unchanged events,
compile reusing their VEVENTs, gzip), then profiles an edit; ``serve`` compares the time
calfeed and the floor app spend inside the WSGI call per /calendar.ics
request (full, 304, gzip), then profiles calfeed's 304 answers. Prints the top functions by
own time and by cumulative time, and the phases of the reload with wall
times; the .prof files go to bench/.work/ (``python -m pstats`` reads them).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import time
from datetime import date
from functools import partial
from pathlib import Path

from bench import synth

WORK = Path(__file__).resolve().parent / ".work" / "profile"


def _top(profile: cProfile.Profile, sort: str, limit: int) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats(sort).print_stats(limit)
    text = out.getvalue()
    return text[text.find("   ncalls") :]


def build(events: Path, limit: int, again: bool = False) -> cProfile.Profile:
    from click.testing import CliRunner

    from calfeed.cli import cli

    out = WORK / "site"
    shutil.rmtree(out, ignore_errors=True)
    os.environ["CALFEED_TODAY"] = "2025-06-01"
    if again:  # the first build, not profiled, then a one-event edit
        assert CliRunner().invoke(cli, ["build", str(events), "--out", str(out)]).exit_code == 0
        events.write_text(synth.edited(events.read_text(encoding="utf-8"), 1), encoding="utf-8")
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    # One process: the profiler sees only its own process, not forked ones.
    result = CliRunner().invoke(cli, ["build", str(events), "--out", str(out), "--workers", "1"])
    profile.disable()
    print(f"calfeed build under cProfile: {time.perf_counter() - started:.1f} s; {result.output.strip()}")
    assert result.exit_code == 0, result.output
    return profile


def reload(events: Path, limit: int) -> cProfile.Profile:
    from calfeed import loading
    from calfeed.published import FeedFilter, Published
    from calfeed.validation import EventReuse, build_calendar

    reuse = EventReuse()
    text = events.read_text(encoding="utf-8")

    def load(raw: bytes, previous: Published | None) -> tuple[Published, str]:
        """What a store's loading process does, phase by phase (wall times)."""
        started = time.perf_counter()
        source = loading.decode(raw, str(events))
        parsed = time.perf_counter()
        calendar = build_calendar(source, reuse=reuse)
        validated = time.perf_counter()
        published = Published(calendar, previous=previous)
        body = published.feed(FeedFilter(), date.today())
        compiled = time.perf_counter()
        body.gzipped
        zipped = time.perf_counter()
        return published, (
            f"read+parse TOML {parsed - started:.2f} s, validate+model {validated - parsed:.2f} s, "
            f"compile calendar.ics ({len(body.data) / 1e6:.1f} MB) {compiled - validated:.2f} s, gzip {zipped - compiled:.2f} s"
        )

    first, cold = load(text.encode(), None)
    second, edit = load(synth.edited(text, 1).encode(), first)
    print(f"reload phases, {len(first.calendar.events):,} events, in the loading process. "
          f"First load: {cold}. A one-event edit: {edit}. The store serves it once the file has settled (0.75 s).")
    profile = cProfile.Profile()
    profile.enable()
    load(synth.edited(text, 2).encode(), second)
    profile.disable()
    return profile


def _environ(headers: dict[str, str]) -> dict:
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/calendar.ics", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0), "wsgi.multithread": False,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "REMOTE_ADDR": "127.0.0.1",
    }
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    return environ


def serve(events: Path, limit: int, requests: int = 5000) -> cProfile.Profile:
    """Microseconds per /calendar.ics request inside the WSGI app (no server,
    no network), calfeed against the floor app, for each kind of answer."""
    from calfeed import create_app
    from calfeed.published import FeedFilter

    app = create_app({"EVENTS": str(events)})
    feed = WORK / "floor-calendar.ics"
    published = app.extensions["calfeed"].current()
    feed.write_bytes(published.feed(FeedFilter(), date.today()).data)
    os.environ["BENCH_FEED"] = str(feed)
    from bench import floor_app

    def call(wsgi, headers: dict[str, str]) -> str:
        status = []
        body = wsgi(_environ(headers), lambda s, h, exc=None: status.append(s))
        for _ in body:
            pass
        getattr(body, "close", lambda: None)()
        return status[0]

    kinds = {"full": {}, "304": None, "gzip": {"Accept-Encoding": "gzip"}}
    for name, wsgi in (("floor", floor_app.app.wsgi_app), ("calfeed", app.wsgi_app)):
        etag = [None]
        def capture(s, h, exc=None):
            etag[0] = dict(h)["ETag"]
        list(wsgi(_environ({}), capture))
        for kind, headers in kinds.items():
            headers = {"If-None-Match": etag[0]} if headers is None else headers
            call(wsgi, headers)
            started = time.perf_counter()
            for _ in range(requests):
                status = call(wsgi, headers)
            spent = (time.perf_counter() - started) / requests * 1e6
            print(f"{name:8} {kind:5} {status:16} {spent:7.1f} µs per request (in process)")
    profile = cProfile.Profile()
    profile.enable()
    etag = published.feed(FeedFilter(), date.today()).etag
    for _ in range(requests):
        call(app.wsgi_app, {"If-None-Match": etag})
    profile.disable()
    return profile


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("what", choices=("build", "rebuild", "reload", "serve"))
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=25)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    events = WORK / f"events-{args.events}.toml"
    events.write_text(synth.calendar_text(args.events), encoding="utf-8")
    rebuild = partial(build, again=True)
    profile = {"build": build, "rebuild": rebuild, "reload": reload, "serve": serve}[args.what](events, args.limit)
    target = WORK / f"{args.what}-{args.events}.prof"
    profile.dump_stats(target)
    print(f"\n== by own time (tottime) ==\n{_top(profile, 'tottime', args.limit)}")
    print(f"== by cumulative time ==\n{_top(profile, 'cumulative', args.limit)}")
    print(f"saved {target}")


if __name__ == "__main__":
    main()

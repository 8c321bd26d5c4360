"""Where calfeed's time goes: cProfile of ``calfeed build`` and of the reload
path, on the benchmark's synthetic calendars.

    .venv/bin/python -m bench.profile build --events 10000
    .venv/bin/python -m bench.profile reload --events 10000
    .venv/bin/python -m bench.profile serve --events 1000
    .venv/bin/python -m bench.profile whatif --events 10000

``build`` runs the command's own code (``cli build --workers 1``) in this process;
``reload`` times, then profiles, what a worker does after a save: the store
reads, validates and compiles the file (``CalendarStore._read``), then the
first /calendar.ics request compiles the feed; ``serve`` compares the time
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
from pathlib import Path

from bench import synth

WORK = Path(__file__).resolve().parent / ".work" / "profile"


def _top(profile: cProfile.Profile, sort: str, limit: int) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats(sort).print_stats(limit)
    text = out.getvalue()
    return text[text.find("   ncalls") :]


def build(events: Path, limit: int) -> cProfile.Profile:
    from click.testing import CliRunner

    from calfeed.cli import cli

    out = WORK / "site"
    shutil.rmtree(out, ignore_errors=True)
    os.environ["CALFEED_TODAY"] = "2025-06-01"
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
    from calfeed.validation import build_calendar

    raw = events.read_bytes()
    # Wall time of each phase first (no profiler), then the same under cProfile.
    started = time.perf_counter()
    source = loading.decode(raw, str(events))
    parsed = time.perf_counter()
    calendar = build_calendar(source)
    validated = time.perf_counter()
    published = Published(calendar)
    body = published.feed(FeedFilter(), date.today())
    compiled = time.perf_counter()
    body.gzipped
    zipped = time.perf_counter()
    print(
        f"reload phases, {len(calendar.events):,} events: read+parse TOML {parsed - started:.2f} s, "
        f"validate+model {validated - parsed:.2f} s, compile calendar.ics ({len(body.data) / 1e6:.1f} MB) "
        f"{compiled - validated:.2f} s, gzip (first gzip request) {zipped - compiled:.2f} s; "
        f"plus the store's settle time (0.75 s) before it reads"
    )
    profile = cProfile.Profile()
    profile.enable()
    Published(build_calendar(loading.decode(raw, str(events)))).feed(FeedFilter(), date.today())
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


def whatif(events: Path, limit: int) -> cProfile.Profile:
    """The build timed (no profiler) with the profile's three hot spots
    patched in this process only, to size the suggestions in the README:
    (1) ``Calendar.event`` by a dict instead of a scan, (2)
    ``Calendar.last_modified`` computed once per calendar, both giving the
    same bytes; then also (3) QR codes with a fixed mask (segno then skips
    scoring all eight masks; other, still valid, SVG bytes). calfeed's files
    are not changed."""
    import functools

    import segno

    from calfeed import model
    from calfeed.web import qr

    os.environ["CALFEED_TODAY"] = "2025-06-01"

    def timed_build(name: str) -> tuple[float, Path]:
        from click.testing import CliRunner

        from calfeed.cli import cli

        out = WORK / f"site-{name}"
        shutil.rmtree(out, ignore_errors=True)
        started = time.perf_counter()
        result = CliRunner().invoke(cli, ["build", str(events), "--out", str(out)])
        assert result.exit_code == 0, result.output
        return time.perf_counter() - started, out

    plain, reference = timed_build("as-is")
    indexes: dict[int, dict] = {}
    stamps: dict[int, object] = {}
    original_stamp = model.Calendar.last_modified.fget

    def event(self, event_id):
        index = indexes.get(id(self))
        if index is None:
            index = indexes[id(self)] = {e.id: e for e in self.events}
        return index.get(event_id)

    def last_modified(self):
        if id(self) not in stamps:
            stamps[id(self)] = original_stamp(self)
        return stamps[id(self)]

    model.Calendar.event = event
    model.Calendar.last_modified = property(last_modified)
    fixed, patched = timed_build("indexed")
    same = all(
        (reference / path.relative_to(patched)).read_bytes() == path.read_bytes()
        for path in patched.rglob("*") if path.is_file()
    )
    qr.segno = type("segno", (), {"make": staticmethod(functools.partial(segno.make, mask=0))})
    masked, _ = timed_build("fixed-mask")
    print(f"calfeed build, {events.name}: as is {plain:.1f} s; with (1)+(2) {fixed:.1f} s "
          f"({'identical files' if same else 'FILES DIFFER'}); with (1)+(2)+(3) {masked:.1f} s")
    for name in ("as-is", "indexed", "fixed-mask"):
        shutil.rmtree(WORK / f"site-{name}", ignore_errors=True)
    return cProfile.Profile()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("what", choices=("build", "reload", "serve", "whatif"))
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=25)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    events = WORK / f"events-{args.events}.toml"
    events.write_text(synth.calendar_text(args.events), encoding="utf-8")
    profile = {"build": build, "reload": reload, "serve": serve, "whatif": whatif}[args.what](events, args.limit)
    if args.what == "whatif":
        return
    target = WORK / f"{args.what}-{args.events}.prof"
    profile.dump_stats(target)
    print(f"\n== by own time (tottime) ==\n{_top(profile, 'tottime', args.limit)}")
    print(f"== by cumulative time ==\n{_top(profile, 'cumulative', args.limit)}")
    print(f"saved {target}")


if __name__ == "__main__":
    main()

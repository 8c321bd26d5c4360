"""The page table: every public page at 1,000 and at 10,000 events.

Two ``gunicorn -w 2`` servers on 127.0.0.1, one per calendar of
``bench/synth.py``, run side by side with the same pinned day. Each page is
asked once on each server first (the first answer of a version: it pays for
the indexes made once per version), then until every worker has answered it
(the warm-up), then 20 times on each server, the two sizes interleaved (the
one asked first alternating); one
request per fresh connection, timed at the client. The target: each page's
median at 10,000 events within 1.5× its median at 1,000. The workers' memory
once every page has been served is measured too: pages kept per version
must not grow a worker by more than 4× the 10,000-event feed. Then the
same pages inside the app, in this process, by CPU time (see ``in_process``).

    .venv/bin/python -m bench --only pages
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench import synth
from bench.servers import Gunicorn, pss_kib

SIZES = (1000, 10_000)
REQUESTS = 20
LIMIT = 1.5
# Pages as a visitor, a partner site or a feed reader asks for them; the
# event and the filters exist in both calendars (the same seed).
PAGES = (
    "/",
    "/?category=laboratori",
    "/?place=cascina-roccafranca",
    "/past",
    "/month",
    "/month/2025-03",
    "/month/2025-03?category=musica",
    "/events/evento-00042",
    "/events/evento-00009",
    "/events/evento-00042/print",
    "/events/evento-00042.ics",
    "/events.json",
    "/events.json?from=2025-06-01&to=2025-06-30",
    "/embed",
    "/embed?category=laboratori&limit=50",
    "/feed.rss",
    "/categories/laboratori.atom",
    "/sitemap.xml",
    "/sitemap-events-1.xml",
    "/qr/calendar.svg",
)


def _spent(clock: Callable[[], float], ask: Callable[[], int], what: str) -> float:
    """Seconds by ``clock`` that ``ask`` took; it must answer 200."""
    started = clock()
    status = ask()
    spent = clock() - started
    if status != 200:
        raise RuntimeError(f"{what}: {status}")
    return spent


def _timed(server: Gunicorn, path: str) -> float:
    return _spent(time.perf_counter, lambda: server.get(path).status, f"{server.name} {path}")


def _cpu(client, path: str, anew: bool) -> float:
    if anew:  # what a new minute costs: the version's indexes stay, its kept answers go
        published = client.application.extensions["calfeed"].current()
        published._kept.clear()
        published._kept_bytes = 0
    return _spent(time.thread_time, lambda: client.get(path).status_code, f"in process {path}")


def in_process(files: dict[int, Path], today: str, requests: int) -> dict[str, dict[str, dict[int, float]]]:
    """Median CPU time of each page inside the app (Flask's test client, this
    thread's CPU clock, which other processes on a loaded machine do not
    change, unlike wall time): as served (``kept``) and made anew, as in the
    first request of each minute (``anew``)."""
    from calfeed import create_app

    clients = {size: create_app({"EVENTS": str(path), "TODAY": today}).test_client() for size, path in files.items()}
    times = {kind: {path: {size: [] for size in SIZES} for path in PAGES} for kind in ("kept", "anew")}
    for path in PAGES:
        for client in clients.values():
            _cpu(client, path, False)  # the first answer, and the warm-up
    for kind, by_path in times.items():  # every "kept" round first: "anew" clears what they keep
        for round_ in range(requests):
            for path in PAGES:
                for size in SIZES if round_ % 2 == 0 else SIZES[::-1]:
                    by_path[path][size].append(_cpu(clients[size], path, kind == "anew"))
    return {kind: {path: {size: statistics.median(v) for size, v in by_size.items()} for path, by_size in by_path.items()}
            for kind, by_path in times.items()}


def pages_phase(work: Path, today: str, requests: int = REQUESTS) -> dict:
    root = work / "pages"
    logs = root / "logs"
    logs.mkdir(parents=True)
    servers: dict[int, Gunicorn] = {}
    feeds: dict[int, int] = {}
    try:
        for size in SIZES:
            events = root / f"events-{size}.toml"
            events.write_text(synth.calendar_text(size), encoding="utf-8")
            servers[size] = Gunicorn("wsgi:app", {"CALFEED_EVENTS": str(events), "CALFEED_TODAY": today},
                                     logs, f"pages-{size}", access_log=True).__enter__()
            feeds[size] = len(servers[size].get("/calendar.ics").body)
        idle = {size: [pss_kib(pid) for pid in server.workers()] for size, server in servers.items()}
        first = {path: {size: _timed(server, path) for size, server in servers.items()} for path in PAGES}
        for path in PAGES:
            for server in servers.values():
                server.every_worker_serves(path, lambda reply: True)
        times: dict[str, dict[int, list[float]]] = {path: {size: [] for size in SIZES} for path in PAGES}
        for round_ in range(requests):
            for path in PAGES:
                # Interleaved page by page, the size asked first alternating,
                # so that neither size always follows the other.
                for size in SIZES if round_ % 2 == 0 else SIZES[::-1]:
                    times[path][size].append(_timed(servers[size], path))
        served = {size: [pss_kib(pid) for pid in server.workers()] for size, server in servers.items()}
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)
    cpu = in_process({size: root / f"events-{size}.toml" for size in SIZES}, today, requests)
    return {
        "requests": requests,
        "today": today,
        "feed_bytes": {str(size): feeds[size] for size in SIZES},
        "pages": {
            path: {str(size): {"median_ms": statistics.median(times[path][size]) * 1000,
                               "first_ms": first[path][size] * 1000,
                               "cpu_ms": cpu["kept"][path][size] * 1000,
                               "anew_cpu_ms": cpu["anew"][path][size] * 1000} for size in SIZES}
            for path in PAGES
        },
        "workers_kib_idle": {str(size): idle[size] for size in SIZES},
        "workers_kib_served": {str(size): served[size] for size in SIZES},
    }


def report(results: dict) -> tuple[list[str], list[tuple[str, str, bool]]]:
    """The section's lines and its targets (name, measured, met)."""
    small, large = (str(size) for size in SIZES)
    lines = ["", f"## pages: gunicorn -w 2 per calendar, day pinned to {results['today']}, median of {results['requests']} "
             "requests after a warm-up, sizes interleaved (one fresh connection each)", ""]
    lines.append("| page | 1,000 ms | 10,000 ms | ratio | | first answer 1,000 / 10,000 ms "
                 "| CPU in process 1,000 / 10,000 ms | ratio | CPU made anew 1,000 / 10,000 ms | ratio |")
    lines.append("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    worst = ("", 0.0)
    for path, by_size in results["pages"].items():
        a, b = by_size[small], by_size[large]
        ratio = b["median_ms"] / a["median_ms"]
        worst = max(worst, (path, ratio), key=lambda pair: pair[1])
        mark = "met" if ratio <= LIMIT else "MISSED"
        lines.append(f"| `{path}` | {a['median_ms']:.1f} | {b['median_ms']:.1f} | {ratio:.2f}× | {mark} | "
                     f"{a['first_ms']:.0f} / {b['first_ms']:.0f} | {a['cpu_ms']:.2f} / {b['cpu_ms']:.2f} | "
                     f"{b['cpu_ms'] / a['cpu_ms']:.2f}× | {a['anew_cpu_ms']:.1f} / {b['anew_cpu_ms']:.1f} | "
                     f"{b['anew_cpu_ms'] / a['anew_cpu_ms']:.2f}× |")
    idle, served = results["workers_kib_idle"], results["workers_kib_served"]
    feed = results["feed_bytes"][large]
    lines.append("")
    lines.append("worker PSS MiB, feed served / every page served: "
                 + "; ".join(f"{int(size):,} events {', '.join(f'{k / 1024:.1f}' for k in idle[size])} / "
                             f"{', '.join(f'{k / 1024:.1f}' for k in served[size])}" for size in (small, large)))
    growth = (max(served[large]) - max(served[small])) * 1024
    ratios = [by_size[large]["median_ms"] / by_size[small]["median_ms"] for by_size in results["pages"].values()]
    cpu = [by_size[large]["cpu_ms"] / by_size[small]["cpu_ms"] for by_size in results["pages"].values()]
    targets = [
        (f"pages: every page at 10k ≤ {LIMIT}× its 1k median",
         f"{sum(r <= LIMIT for r in ratios)} of {len(ratios)} pages; worst `{worst[0]}` {worst[1]:.2f}×", all(r <= LIMIT for r in ratios)),
        ("pages (not a target: CPU in process, steady on a loaded machine): 10k ≤ 1.5× 1k",
         f"{sum(r <= LIMIT for r in cpu)} of {len(cpu)} pages; worst {max(cpu):.2f}×", all(r <= LIMIT for r in cpu)),
        ("pages: worker growth 1k→10k, every page served, ≤ 4× the 10k feed",
         f"{growth / 2**20:.1f} MiB vs {4 * feed / 2**20:.1f} MiB ({growth / feed:.1f}× the feed)", growth <= 4 * feed),
    ]
    return lines, targets

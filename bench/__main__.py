"""calfeed's benchmark: ``bash bench/run`` (or ``.venv/bin/python -m bench``).

Makes its own synthetic calendars (1,000 and 10,000 events), measures calfeed
and, in the same run, the baselines each figure is compared with, then prints
every figure beside them as a ratio, with the issue's targets met or missed
(it reports; it does not fail). Only 127.0.0.1; every load is bounded.

- compile: ``calfeed build`` of the 10,000-event file (the whole site) against
  (a) a hand-written tomllib + icalendar script and (b) Node's ical-generator,
  each writing one feed; whole processes, median of several cold runs.
- serve: /calendar.ics of the 1,000-event calendar under ``gunicorn -w 2``,
  against the floor (a bare Flask app answering prebuilt bytes under the same
  gunicorn) for full, 304 and gzip answers, and nginx serving the build's
  file (the ceiling); servers side by side, rounds interleaved, medians.
- reload: a one-event edit saved, to the first response carrying it, beside
  the time to parse the file (bench/reload.py).
- memory: PSS of gunicorn's master and workers, 1,000 and 10,000 events.
- pages: every public page at 1,000 and 10,000 events (``bench/pages.py``).

``--quick`` runs every part briefly (compile on 1,000 events, one run) to
check the harness; its figures are not the report's.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bench import pages, reload, site, synth
from bench.servers import ROOT, Gunicorn, Nginx, children, free_port, main_config, pss_kib

BENCH = ROOT / "bench"
WORK = BENCH / ".work"
VENV_BIN = Path(sys.executable).parent
TODAY = "2025-06-01"  # pins the build's month pages: the synthetic events span 2024-2026


@dataclass(frozen=True)
class Plan:
    compile_events: int
    compile_runs: int
    serve_rounds: int
    serve_seconds: int
    connections: int
    edits: int


FULL = Plan(compile_events=10_000, compile_runs=5, serve_rounds=7, serve_seconds=3, connections=4, edits=5)
QUICK = Plan(compile_events=1_000, compile_runs=1, serve_rounds=1, serve_seconds=2, connections=4, edits=2)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- tools


@dataclass
class Tools:
    wrk: str
    nginx: str
    node: str
    naive_python: str


def _need(name: str, hint: str) -> str:
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None)
    if not found:
        raise SystemExit(f"bench: {name} not found; {hint}")
    return found


def prepare() -> Tools:
    """Find Debian's wrk and nginx and Node; install the pinned baselines
    (bench/package-lock.json, bench/requirements-naive.txt) if not yet done."""
    wrk = _need("wrk", "install Debian's package: apt-get install -y wrk")
    nginx = _need("nginx", "install Debian's package: apt-get install -y nginx")
    node = _need("node", "install Node.js 20 or later")
    npm = _need("npm", "install npm")
    lock = BENCH / "package-lock.json"
    installed = BENCH / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        say("npm ci (ical-generator, pinned in bench/package-lock.json)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BENCH, check=True)
    requirements = BENCH / "requirements-naive.txt"
    venv = WORK / "venv-naive"
    stamp = venv / "requirements.sha256"
    # Made by the interpreter the benchmark runs on, as calfeed's own.
    digest = hashlib.sha256(requirements.read_bytes() + sys.executable.encode()).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        say("venv for the naive baseline (icalendar, pinned in bench/requirements-naive.txt)")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "-r", str(requirements)],
                             capture_output=True, text=True)
        if pip.returncode != 0:
            raise SystemExit(f"bench: pip could not install bench/requirements-naive.txt:\n{pip.stdout}{pip.stderr}")
        stamp.write_text(digest)
    return Tools(wrk, nginx, node, str(venv / "bin" / "python"))


def versions(tools: Tools) -> dict[str, str]:
    def output(command: list[str]) -> str:
        result = subprocess.run(command, capture_output=True, text=True)
        return (result.stdout + result.stderr).strip().splitlines()[0]

    def package(name: str) -> str:
        return json.loads((BENCH / "node_modules" / name / "package.json").read_text())["version"]

    from importlib.metadata import version

    naive = subprocess.run(
        [tools.naive_python, "-c", "import icalendar; print(icalendar.__version__)"], capture_output=True, text=True
    ).stdout.strip()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    return {
        "machine": f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} cores ({cpu})",
        "python": f"{platform.python_version()} ({os.path.realpath(sys.executable)})",
        "node": output([tools.node, "--version"]),
        "wrk": output([tools.wrk, "--version"]).split(" [")[0].removeprefix("wrk "),
        "nginx": output([tools.nginx, "-v"]).split(": ")[-1].removeprefix("nginx/"),
        "gunicorn": version("gunicorn"),
        "flask": version("flask"),
        "icalendar (naive)": naive,
        "ical-generator": package("ical-generator"),
        "calfeed": version("calfeed"),
        "hugo": site.hugo_version(),
    }


# --------------------------------------------------------------------------- compile


def timed(command: list[str], env: dict[str, str], log: Path, timeout: float = 900) -> dict:
    """Wall and CPU time and peak RSS of one whole process."""
    with open(log, "wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=log.parent, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "user": usage.ru_utime, "sys": usage.ru_stime,
            "max_rss_mib": usage.ru_maxrss / 1024}


def cpu_probe() -> float:
    """Seconds for a fixed pure-Python loop: shows whether the machine itself
    slowed down during the run (shared hosts, sustained-load clocks)."""
    started = time.perf_counter()
    sum(i * i for i in range(3_000_000))
    return time.perf_counter() - started


def scratch_folder() -> Path:
    """Where the compile runs write: a tmpfs when there is one. On this
    project's machines a disk (ext4) makes a build of 40,000 files slower
    with each run (kernel time grows from run to run, by seconds), which is
    the disk's cost, not calfeed's; in memory every run does the same work."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="calfeed-bench-", dir=shm))
    return Path(tempfile.mkdtemp(prefix="compile-", dir=WORK))


def compile_phase(tools: Tools, plan: Plan, work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CALFEED_BASE_URL", "CALFEED_EVENTS")}
    env["CALFEED_TODAY"] = TODAY
    node_env = {**env, "TZ": "UTC"}
    calfeed = str(VENV_BIN / "calfeed")
    contenders = {
        "calfeed build": (lambda src, out: [calfeed, "build", str(src), "--out", str(out / "site")], env),
        "naive": (lambda src, out: [tools.naive_python, str(BENCH / "baselines" / "naive_icalendar.py"), str(src), str(out / "calendar.ics")], env),
        "ical-generator": (lambda src, out: [tools.node, str(BENCH / "baselines" / "ical_generator.mjs"), str(src), str(out / "calendar.ics")], node_env),
        "calfeed feed only": (lambda src, out: [sys.executable, "-m", "bench.feed_only", str(src), str(out / "calendar.ics")], {**env, "PYTHONPATH": str(ROOT)}),
    }
    contenders.update(site.contenders([calfeed], env))  # Hugo, and calfeed's rebuild (bench/site.py)
    text = synth.calendar_text(plan.compile_events)
    # Untimed warm-up on a small file: every interpreter has its bytecode
    # compiled before the timed runs, so no run pays for it.
    for name, (command, run_env) in contenders.items():
        run = work / "compile" / f"warmup-{name.replace(' ', '-')}"
        run.mkdir(parents=True)
        (run / "events.toml").write_text(synth.calendar_text(20), encoding="utf-8")
        site.prepare(name, run / "events.toml", run, run_env, [calfeed])
        timed(command(run / "events.toml", run), run_env, run / "log.txt")
        shutil.rmtree(run)
    os.sync()
    results: dict[str, list[dict]] = {name: [] for name in contenders}
    checks: dict[str, str] = {}
    phases: list[dict] = []  # where the feed-only process's time went, run by run
    probes = []
    for index in range(plan.compile_runs):
        for name, (command, run_env) in contenders.items():
            # A cold run: a new process, a fresh copy of the file (new inode
            # and times), a new empty output folder; nothing of an earlier run.
            run = work / "compile" / f"run{index}-{name.replace(' ', '-')}"
            run.mkdir(parents=True)
            source = run / "events.toml"
            source.write_text(text, encoding="utf-8")
            site.prepare(name, source, run, run_env, [calfeed])
            probes.append(cpu_probe())
            say(f"compile run {index + 1}/{plan.compile_runs}: {name} ({plan.compile_events:,} events)")
            results[name].append(timed(command(source, run), run_env, run / "log.txt"))
            if name in site.NAMES:
                checks[name] = site.check(name, run, plan.compile_events)
                shutil.rmtree(run)
                os.sync()
                continue
            if name == "calfeed feed only":
                phases.append(json.loads((run / "log.txt").read_text().splitlines()[-1]))
            feed = run / "site" / "calendar.ics" if name == "calfeed build" else run / "calendar.ics"
            events = feed.read_bytes().count(b"BEGIN:VEVENT")
            if events < plan.compile_events:
                raise RuntimeError(f"{name} wrote {events} events, not {plan.compile_events}")
            if name == "calfeed build":
                files = sum(len(f) for _, _, f in os.walk(run / "site"))
                checks[name] = f"whole site: {files:,} files, calendar.ics {feed.stat().st_size / 1e6:.1f} MB"
            else:
                checks[name] = f"one feed: {events:,} VEVENTs, {feed.stat().st_size / 1e6:.1f} MB"
            shutil.rmtree(run)
            os.sync()  # the next run does not pay for this one's writeback
    return {
        "events": plan.compile_events,
        "runs": plan.compile_runs,
        "cpu_probe_seconds": [round(p, 3) for p in probes],
        "feed_only_phases": {part: statistics.median(p[part] for p in phases) for part in phases[0]},
        "results": {
            name: {
                "wall_median": statistics.median(r["wall"] for r in runs),
                "cpu_median": statistics.median(r["cpu"] for r in runs),
                "max_rss_mib": max(r["max_rss_mib"] for r in runs),
                "walls": [round(r["wall"], 3) for r in runs],
                "user_sys": [[round(r["user"], 2), round(r["sys"], 2)] for r in runs],
                "output": checks[name],
            }
            for name, runs in results.items()
        },
    }


# --------------------------------------------------------------------------- serve


def static_site_config(site: Path, port: int) -> str:
    """deploy/nginx-static.conf with the port and root filled in."""
    template = (ROOT / "deploy" / "nginx-static.conf").read_text()
    return template.replace("${CALFEED_LISTEN}", f"127.0.0.1:{port}").replace("${CALFEED_ROOT}", str(site))


def wrk(tools: Tools, port: int, seconds: int, connections: int, headers: dict[str, str], path: str = "/calendar.ics") -> dict:
    command = [tools.wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(BENCH / "wrk_report.lua")]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((l for l in result.stdout.splitlines() if l.startswith("BENCH-JSON ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed: {result.stdout}\n{result.stderr}")
    report = json.loads(line.removeprefix("BENCH-JSON "))
    report["rps"] = report["requests"] / (report["duration_us"] / 1e6)
    return report


def serve_phase(tools: Tools, plan: Plan, work: Path) -> dict:
    root = work / "serve"
    root.mkdir(parents=True)
    events = root / "events.toml"
    events.write_text(synth.calendar_text(1000), encoding="utf-8")
    site = root / "site"
    say("serve: building the 1,000-event site for the floor and nginx")
    subprocess.run([str(VENV_BIN / "calfeed"), "build", str(events), "--out", str(site)], check=True,
                   env={**os.environ, "CALFEED_TODAY": TODAY}, stdout=subprocess.DEVNULL)
    feed = site / "calendar.ics"
    # nginx's gzip_static serves these bytes for gzip requests (the ceiling answers from prebuilt bytes too).
    (site / "calendar.ics.gz").write_bytes(gzip.compress(feed.read_bytes(), compresslevel=6, mtime=0))
    logs = root / "logs"
    logs.mkdir()
    nginx_port = free_port()
    nginx_work = root / "nginx"
    nginx_work.mkdir()
    with Gunicorn("wsgi:app", {"CALFEED_EVENTS": str(events)}, logs, "calfeed") as calfeed, \
         Nginx(tools.nginx, main_config(static_site_config(site, nginx_port), nginx_work), nginx_work, nginx_port, "/calendar.ics") as nginx:
        served = calfeed.get("/calendar.ics")
        if served.body != feed.read_bytes():
            raise RuntimeError("calfeed serves other bytes than its build wrote")
        env = {"BENCH_FEED": str(feed), "BENCH_LAST_MODIFIED": served.headers["last-modified"]}
        with Gunicorn("bench.floor_app:app", env, logs, "floor") as floor:
            servers = {"floor": floor, "calfeed": calfeed, "nginx": nginx}
            kinds = {}
            for name, server in servers.items():
                etag = server.get("/calendar.ics").headers["etag"]
                kinds[name] = {
                    "full": {},
                    "304": {"If-None-Match": etag},
                    "gzip": {"Accept-Encoding": "gzip"},
                }
                # Each kind answers as it should before it is measured.
                for kind, headers in kinds[name].items():
                    reply = server.get("/calendar.ics", headers)
                    expected = 304 if kind == "304" else 200
                    if reply.status != expected or (kind == "gzip") != (reply.headers.get("content-encoding") == "gzip"):
                        raise RuntimeError(f"{name} {kind}: {reply.status} {reply.headers}")
                    if kind == "gzip" and gzip.decompress(reply.body) != feed.read_bytes():
                        raise RuntimeError(f"{name} gzip: other bytes")
                    if kind == "full" and reply.body != feed.read_bytes():
                        raise RuntimeError(f"{name}: other bytes")
                    # Warm-up, discarded: every worker has its bytes (and gzip) ready.
                    wrk(tools, server.port, 1, plan.connections, headers)
            pss = {name: [pss_kib(pid) for pid in [s.process.pid, *children(s.process.pid)]] for name, s in servers.items()}
            runs: dict[str, dict[str, list[dict]]] = {kind: {name: [] for name in servers} for kind in ("full", "304", "gzip")}
            for kind in runs:
                for index in range(plan.serve_rounds):
                    for name, server in servers.items():  # interleaved: floor, calfeed, nginx, floor, ...
                        say(f"serve {kind} round {index + 1}/{plan.serve_rounds}: {name}")
                        runs[kind][name].append(wrk(tools, server.port, plan.serve_seconds, plan.connections, kinds[name][kind]))
    summary = {}
    for kind, by_server in runs.items():
        summary[kind] = {}
        for name, reports in by_server.items():
            errors = sum(sum(r["errors"].values()) for r in reports)
            summary[kind][name] = {
                "rps_median": statistics.median(r["rps"] for r in reports),
                "p99_ms_median": statistics.median(r["p99_us"] for r in reports) / 1000,
                "rps": [round(r["rps"]) for r in reports],
                "p99_ms": [round(r["p99_us"] / 1000, 2) for r in reports],
                "errors": errors,
                "bytes_per_request": round(statistics.median(r["bytes"] / max(r["requests"], 1) for r in reports)),
            }
    return {
        "events": 1000,
        "feed_bytes": feed.stat().st_size,
        "gzip_bytes": len(gzip.compress(feed.read_bytes(), compresslevel=6, mtime=0)),
        "rounds": plan.serve_rounds,
        "seconds": plan.serve_seconds,
        "connections": plan.connections,
        "results": summary,
        "pss_kib_idle": pss,
    }


# --------------------------------------------------------------------------- reload and memory


def _marker(version: int) -> bytes:
    return f"SUMMARY:Modifica {version}: ".encode()


def _carries(version: int):
    if version == 0:
        return lambda reply: b"SUMMARY:Modifica " not in reply.body
    return lambda reply: _marker(version) in reply.body


def _memory(server: Gunicorn) -> dict:
    return {"master_kib": pss_kib(server.process.pid), "workers_kib": [pss_kib(pid) for pid in server.workers()]}


def reload_phase(plan: Plan, work: Path, sizes: tuple[int, ...] = (1000, 10_000)) -> dict:
    root = work / "reload"
    root.mkdir(parents=True)
    logs = root / "logs"
    logs.mkdir()
    out = {}
    for size in sizes:
        base = synth.calendar_text(size)
        events = root / f"events-{size}.toml"
        events.write_text(base, encoding="utf-8")
        say(f"reload: gunicorn -w 2 with {size:,} events")
        with Gunicorn("wsgi:app", {"CALFEED_EVENTS": str(events)}, logs, f"reload-{size}", access_log=True) as server:
            server.every_worker_serves("/calendar.ics", _carries(0), timeout=120)
            feed_bytes = len(server.get("/calendar.ics").body)
            loaded = _memory(server)
            times, parses = [], []
            for version in range(1, plan.edits + 1):
                # Every worker serves the current file before the next edit.
                server.every_worker_serves("/calendar.ics", _carries(version - 1), timeout=60)
                # Polled as calendar apps poll: with the ETag they hold (a 304
                # until the edit is served, not 8 MB that compete for the CPU).
                held = {"If-None-Match": server.get("/calendar.ics").headers["etag"]}
                staged = events.with_name(events.name + ".saving")
                staged.write_text(synth.edited(base, version), encoding="utf-8")
                os.replace(staged, events)  # the save: one rename, as editors do
                saved = time.monotonic()
                deadline = saved + 30
                for _ in range(5000):
                    reply = server.get("/calendar.ics", held)
                    if reply.status == 200 and _marker(version) in reply.body:
                        times.append(reply.received - saved)
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"edit {version} of the {size}-event file not served within 30 s")
                    time.sleep(0.01)
                parses.append(reload.parse_seconds(events))
                say(f"reload: {size:,} events, edit {version}: {times[-1]:.3f} s (parsing the file: {parses[-1]:.3f} s)")
            server.every_worker_serves("/calendar.ics", _carries(plan.edits), timeout=60)
            after = _memory(server)
        out[str(size)] = {
            "feed_bytes": feed_bytes,
            "edit_seconds": times,
            "edit_median": statistics.median(times),
            **reload.summary(parses, statistics.median(times)),
            "memory_loaded": loaded,
            "memory_after_edits": after,
        }
    return out


# --------------------------------------------------------------------------- report


def _mark(met: bool) -> str:
    return "met" if met else "MISSED"


def report(results: dict) -> str:
    lines = []
    meta = results["meta"]
    lines.append(f"calfeed benchmark ({meta['mode']}), {meta['date']}")
    lines.append("versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if k != "machine"))
    lines.append(f"machine: {meta['versions']['machine']}")
    targets = []
    if "compile" in results:
        c = results["compile"]
        r = c["results"]
        build = r["calfeed build"]["wall_median"]
        lines += ["", f"## compile: {c['events']:,} events, whole processes, median of {c['runs']} cold run(s), "
                  f"writing to {c.get('folder', 'disk')}", ""]
        lines.append("| program | wall s, median | each run, s | CPU s | peak RSS MiB | output | calfeed build ÷ this |")
        lines.append("| --- | ---: | --- | ---: | ---: | --- | ---: |")
        for name, label in (("calfeed build", "calfeed build (the whole site)"), ("naive", "naive: tomllib + icalendar"),
                            ("ical-generator", "Node ical-generator"), ("calfeed feed only", "calfeed, calendar.ics alone")):
            x = r[name]
            ratio = f"{build / x['wall_median']:.1f}×" if name in ("naive", "ical-generator") else ""
            lines.append(f"| {label} | {x['wall_median']:.2f} | {', '.join(f'{w:.1f}' for w in x['walls'])} | {x['cpu_median']:.2f} | "
                         f"{x['max_rss_mib']:.0f} | {x['output']} | {ratio} |")
        for name in ("naive", "ical-generator"):
            ratio = build / r[name]["wall_median"]
            targets.append((f"compile: calfeed build ≤ 0.5× {name}", f"{ratio:.1f}×", ratio <= 0.5))
        if c.get("cpu_probe_seconds"):
            probes = c["cpu_probe_seconds"]
            lines.append(f"\nmachine speed during the runs: a fixed Python loop took {min(probes):.3f}–{max(probes):.3f} s "
                         f"(first {probes[0]:.3f} s, last {probes[-1]:.3f} s)")
        for name in ("naive", "ical-generator"):
            ratio = r["calfeed feed only"]["wall_median"] / r[name]["wall_median"]
            targets.append((f"compile: calendar.ics alone ≤ 0.25× {name}", f"{ratio:.2f}×", ratio <= 0.25))
        if c.get("feed_only_phases"):
            parts = c["feed_only_phases"]
            lines.append("\ncalendar.ics alone, where the time goes (medians, s): "
                         + ", ".join(f"{part} {seconds:.3f}" for part, seconds in parts.items())
                         + f"; parsing the file (tomli) is {parts['parse']:.3f} s, the feed alone costs "
                         f"{r['calfeed feed only']['wall_median'] / parts['parse']:.1f}× that")
        site_lines, site_targets = site.report(c)
        lines += site_lines
        targets += site_targets
    if "serve" in results:
        s = results["serve"]
        lines += ["", f"## serve: /calendar.ics, {s['events']:,} events ({s['feed_bytes'] / 1e3:.0f} kB, gzip {s['gzip_bytes'] / 1e3:.0f} kB), "
                  f"gunicorn -w 2, wrk -t1 -c{s['connections']}, {s['rounds']} interleaved rounds of {s['seconds']} s, medians", ""]
        lines.append("| answer | floor req/s | calfeed req/s | calfeed ÷ floor | floor p99 ms | calfeed p99 ms | nginx req/s (ceiling) | nginx p99 ms | errors |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for kind, label in (("full", "200, full body"), ("304", "304 (If-None-Match)"), ("gzip", "200, gzip")):
            x = s["results"][kind]
            ratio = x["calfeed"]["rps_median"] / x["floor"]["rps_median"]
            errors = sum(x[n]["errors"] for n in x)
            lines.append(f"| {label} | {x['floor']['rps_median']:.0f} | {x['calfeed']['rps_median']:.0f} | {ratio:.3f}× | "
                         f"{x['floor']['p99_ms_median']:.2f} | {x['calfeed']['p99_ms_median']:.2f} | {x['nginx']['rps_median']:.0f} | "
                         f"{x['nginx']['p99_ms_median']:.2f} | {errors} |")
            targets.append((f"serve {kind}: calfeed ≥ 0.9× floor", f"{ratio:.3f}×", ratio >= 0.9))
    if "reload" in results:
        rl = results["reload"]
        lines += ["", "## reload and memory: gunicorn -w 2, a one-event edit saved (rename), to the first /calendar.ics carrying it", ""]
        lines.append("| events | feed MB | edit → served, s (median) | each edit, s | parsing the file, s (median) | edit ÷ parse | master PSS MiB | workers PSS MiB | workers PSS after the edits MiB |")
        lines.append("| ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | --- |")
        for size, x in rl.items():
            mem, after = x["memory_loaded"], x["memory_after_edits"]
            parse = f"{x['parse_median']:.3f} | {x['edit_in_parses']:.2f}×" if "parse_median" in x else " | "
            lines.append(f"| {int(size):,} | {x['feed_bytes'] / 1e6:.2f} | {x['edit_median']:.3f} | {', '.join(f'{t:.3f}' for t in x['edit_seconds'])} | {parse} | "
                         f"{mem['master_kib'] / 1024:.1f} | {', '.join(f'{w / 1024:.1f}' for w in mem['workers_kib'])} | "
                         f"{', '.join(f'{w / 1024:.1f}' for w in after['workers_kib'])} |")
        if "1000" in rl and "10000" in rl:
            small, large = rl["1000"], rl["10000"]
            targets.append(("reload: 10k edit within 2 s", f"{large['edit_median']:.2f} s", large["edit_median"] <= 2.0))
            targets += reload.targets(rl)
            growth = max(large["memory_loaded"]["workers_kib"]) * 1024 - max(small["memory_loaded"]["workers_kib"]) * 1024
            limit = 4 * large["feed_bytes"]
            targets.append(("memory: worker growth 1k→10k ≤ 4× the 10k feed",
                            f"{growth / 2**20:.1f} MiB vs {limit / 2**20:.1f} MiB ({growth / large['feed_bytes']:.1f}× the feed)", growth <= limit))
    if "pages" in results:
        section, page_targets = pages.report(results["pages"])
        lines += section
        targets += page_targets
    lines += ["", "## targets", "", "| target | measured | |", "| --- | --- | --- |"]
    lines += [f"| {name} | {value} | {_mark(met)} |" for name, value, met in targets]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every part briefly, to check the harness (a minute or two)")
    parser.add_argument("--only", choices=("compile", "serve", "reload", "pages"), action="append", help="run only these parts (repeatable)")
    parser.add_argument("--report", metavar="RESULTS.json", help="print the report of a saved run, and run nothing")
    args = parser.parse_args(argv)
    if args.report:
        print(report(json.loads(Path(args.report).read_text())))
        return
    plan = QUICK if args.quick else FULL
    parts = args.only or ["compile", "serve", "reload", "pages"]
    WORK.mkdir(parents=True, exist_ok=True)
    tools = prepare()
    run = WORK / "run"
    shutil.rmtree(run, ignore_errors=True)  # nothing of an earlier run is reused
    run.mkdir()
    started = time.monotonic()
    results: dict = {"meta": {
        "mode": "quick" if args.quick else "full",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions(tools),
        "plan": plan.__dict__,
    }}
    if "compile" in parts:
        scratch = scratch_folder()
        try:
            results["compile"] = compile_phase(tools, plan, scratch)
            results["compile"]["folder"] = "tmpfs (/dev/shm)" if str(scratch).startswith("/dev/shm") else str(scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if "serve" in parts:
        results["serve"] = serve_phase(tools, plan, run)
    if "reload" in parts:
        results["reload"] = reload_phase(plan, run)
    if "pages" in parts:
        results["pages"] = pages.pages_phase(run, TODAY, 3 if args.quick else pages.REQUESTS)
    results["meta"]["seconds"] = round(time.monotonic() - started)
    text = report(results)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (WORK / f"results-{stamp}.json").write_text(json.dumps(results, indent=2))
    (WORK / f"report-{stamp}.md").write_text(text + "\n")
    print(text)
    say(f"done in {results['meta']['seconds']} s; saved bench/.work/report-{stamp}.md and results-{stamp}.json")


if __name__ == "__main__":
    main()

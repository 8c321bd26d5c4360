"""Hugo as the anchor of the whole-site build (issue 17): the benchmark's own
calendar as a Hugo site, timed beside ``calfeed build`` in the compile part.

``hugo_site(events_toml, folder)`` writes one Markdown page per event (title,
date, place, categories and description in its front matter), the category
taxonomy (a list page per category), ``buildFuture = true`` (the calendar's
events lie ahead), and a minimal set of layouts of its own, so Hugo needs no
theme. Hugo is Debian's package (``apt-get install -y hugo``).

The compile part runs two more contenders, interleaved with the others:
``hugo`` (into a new folder, as calfeed's first build, which is the compile
part's own ``calfeed build``), and ``calfeed rebuild``: ``calfeed build``
after a one-event edit into the folder that holds the previous build, which
it reuses (that first build is made untimed, just before).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from bench import synth

HUGO = "hugo"
REBUILD = "calfeed rebuild"
NAMES = (HUGO, REBUILD)
TARGET = 2.5  # calfeed build ≤ 2.5× Hugo's time

CONFIG = """\
baseURL = "{base_url}/"
languageCode = "{language}"
title = {title}
timeZone = "{timezone}"
buildFuture = true
buildPast = true

[taxonomies]
category = "categories"
"""

BASEOF = """\
<!DOCTYPE html>
<html lang="{{ site.LanguageCode }}">
<head><meta charset="utf-8"><title>{{ .Title }} – {{ site.Title }}</title></head>
<body><header><a href="{{ "/" | relURL }}">{{ site.Title }}</a></header>
<main>{{ block "main" . }}{{ end }}</main></body>
</html>
"""
SINGLE = """\
{{ define "main" }}<article>
<h1>{{ .Title }}</h1>
<p><time datetime="{{ .Date.Format "2006-01-02T15:04:05-07:00" }}">{{ .Date.Format "Monday 2 January 2006, 15:04" }}</time></p>
{{ with .Params.place }}<p>{{ . }}</p>{{ end }}
<ul>{{ range .GetTerms "categories" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
{{ .Params.description | markdownify }}
</article>{{ end }}
"""
LIST = """\
{{ define "main" }}<h1>{{ .Title }}</h1>
<ul>{{ range .Pages.ByDate }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Date.Format "2006-01-02" }}</li>{{ end }}</ul>
{{ end }}
"""
# The home page lists what is next, as calfeed's does (not every event).
INDEX = """\
{{ define "main" }}<h1>{{ site.Title }}</h1>
<ul>{{ range first 100 (where site.RegularPages.ByDate "Date" "ge" now) }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>
{{ end }}
"""


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _date(value: date | datetime) -> str:
    return value.isoformat() if isinstance(value, datetime) else value.isoformat()


def hugo_site(events_toml: Path, folder: Path) -> int:
    """Write the Hugo site of ``events_toml`` into ``folder``; the pages written."""
    data = tomllib.loads(events_toml.read_text(encoding="utf-8"))
    calendar = data["calendar"]
    places = {slug: place["name"] for slug, place in data.get("places", {}).items()}
    (folder / "content" / "events").mkdir(parents=True)
    layouts = folder / "layouts" / "_default"
    layouts.mkdir(parents=True)
    for name, text in (("baseof.html", BASEOF), ("single.html", SINGLE), ("list.html", LIST)):
        (layouts / name).write_text(text, encoding="utf-8")
    (folder / "layouts" / "index.html").write_text(INDEX, encoding="utf-8")
    (folder / "hugo.toml").write_text(CONFIG.format(
        base_url=calendar["base_url"], language=calendar["language"], title=_quoted(calendar["name"]),
        timezone=calendar["timezone"]), encoding="utf-8")
    events = data.get("events", [])
    for event in events:
        place = places.get(event.get("place", ""), event.get("location", ""))
        front = [
            "+++",
            f"title = {_quoted(event['title'])}",
            f"date = {_date(event['start'])}",
            f"place = {_quoted(place)}",
            "categories = [" + ", ".join(_quoted(c) for c in event.get("categories", [])) + "]",
            f"description = {_quoted(event.get('description', ''))}",
            "+++",
            "",
        ]
        (folder / "content" / "events" / f"{event['id']}.md").write_text("\n".join(front), encoding="utf-8")
    return len(events)


def hugo_binary() -> str:
    found = shutil.which("hugo")
    if not found:
        raise SystemExit("bench: hugo not found; install Debian's package: apt-get install -y hugo")
    return found


def hugo_version() -> str:
    result = subprocess.run([hugo_binary(), "version"], capture_output=True, text=True)
    return result.stdout.split()[1].removeprefix("v").split("+")[0] if result.returncode == 0 else "?"


Command = Callable[[Path, Path], list[str]]


def contenders(calfeed: list[str], env: dict[str, str]) -> dict[str, tuple[Command, dict[str, str]]]:
    """Hugo, and calfeed's rebuild, as compile contenders (``prepare`` first)."""
    hugo = hugo_binary()

    def hugo_command(source: Path, out: Path) -> list[str]:
        return [hugo, "--quiet", "--source", str(out / "hugo"), "--destination", str(out / "site"),
                "--cacheDir", str(out / "hugo-cache")]

    return {
        HUGO: (hugo_command, env),
        REBUILD: (lambda source, out: [*calfeed, "build", str(source), "--out", str(out / "site")], env),
    }


def prepare(name: str, source: Path, run: Path, env: dict[str, str], calfeed: list[str]) -> None:
    """What a contender needs before its timed run (not timed): Hugo its
    site; calfeed's rebuild the previous build, then a one-event edit."""
    if name == HUGO:
        hugo_site(source, run / "hugo")
    elif name == REBUILD:
        subprocess.run([*calfeed, "build", str(source), "--out", str(run / "site")], env=env, check=True,
                       stdout=subprocess.DEVNULL, cwd=run)
        source.write_text(synth.edited(source.read_text(encoding="utf-8"), 1), encoding="utf-8")
        os.sync()


def check(name: str, run: Path, events: int) -> str:
    """What the contender wrote, checked: every event's page."""
    site = run / "site"
    if name == HUGO:
        pages = sum(1 for _ in (site / "events").glob("*/index.html"))
        files = sum(len(f) for _, _, f in os.walk(site))
        if pages < events:
            raise RuntimeError(f"hugo wrote {pages} event pages, not {events}")
        return f"{files:,} files, {pages:,} event pages"
    changed = (site / "events" / "evento-00000.html").read_text(encoding="utf-8")
    if "Modifica 1: " not in changed:
        raise RuntimeError("calfeed's rebuild did not carry the edit")
    files = sum(len(f) for _, _, f in os.walk(site))
    return f"whole site after a one-event edit: {files:,} files"


def report(compiled: dict) -> tuple[list[str], list[tuple[str, str, bool]]]:
    """The report's lines and targets for the site build against Hugo."""
    r = compiled["results"]
    if HUGO not in r:
        return [], []
    hugo = r[HUGO]["wall_median"]
    lines = ["", "### the whole site against Hugo (same calendar, same folder, same run)", "",
             "| program | wall s, median | each run, s | CPU s | peak RSS MiB | output | ÷ Hugo |",
             "| --- | ---: | --- | ---: | ---: | --- | ---: |"]
    targets = []
    for name, label in ((HUGO, "hugo (one Markdown page per event, category lists)"),
                        ("calfeed build", "calfeed build, first build (empty folder)"),
                        (REBUILD, "calfeed build again after a one-event edit (previous build in place)")):
        x = r[name]
        ratio = x["wall_median"] / hugo
        lines.append(f"| {label} | {x['wall_median']:.2f} | {', '.join(f'{w:.1f}' for w in x['walls'])} | {x['cpu_median']:.2f} | "
                     f"{x['max_rss_mib']:.0f} | {x['output']} | {'' if name == HUGO else f'{ratio:.2f}×'} |")
        if name != HUGO:
            kind = "first build" if name == "calfeed build" else "rebuild"
            targets.append((f"site: calfeed build ({kind}) ≤ {TARGET}× Hugo", f"{ratio:.2f}×", ratio <= TARGET))
    return lines, targets

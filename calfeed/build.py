"""``calfeed build``: the site as static files, swapped into place whole.

Everything is written into a fresh folder beside the output and then renamed
over it, so a static host (or a build killed midway) never shows half a site.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path, PurePosixPath

from flask import Flask

from calfeed.model import Calendar
from calfeed.published import FeedFilter
from calfeed.web.month import month_range

_RENAME_EXCHANGE = 2
MAX_MONTHS = 240
# Marks a folder as calfeed's own output: only such a folder is ever replaced.
MARKER = ".calfeed-build"


class BuildRefused(Exception):
    """The output folder holds something calfeed did not write."""


class Writer:
    """The one writer of a build folder: each file once, and only inside it."""

    def __init__(self, root: Path):
        self.root = root
        self.written: set[str] = set()

    def write(self, relative: str, data: bytes) -> None:
        path = PurePosixPath(relative)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(f"{relative} is outside the build folder")
        if relative in self.written:
            raise ValueError(f"{relative} would be written twice")
        self.written.add(relative)
        target = self.root.joinpath(*path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux renameat2); False where unsupported."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_cwd = -100
    result = renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), _RENAME_EXCHANGE)
    return result == 0


def _swap_into_place(staged: Path, out: Path) -> None:
    if not out.exists():
        staged.rename(out)
        return
    if not _exchange(staged, out):
        retired = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(retired)
        staged.rename(out)
        staged = retired
    shutil.rmtree(staged)


def static_file(path: str) -> str:
    """The file a static host serves for a URL path ("pretty URLs": a path
    without an extension is served from the same name plus .html).

    >>> static_file("/"), static_file("/events/festa"), static_file("/qr/calendar.svg")
    ('index.html', 'events/festa.html', 'qr/calendar.svg')
    """
    relative = path.strip("/")
    if not relative:
        return "index.html"
    return relative if "." in relative.rsplit("/", 1)[-1] else relative + ".html"


def _months(calendar: Calendar, today: date) -> list[str]:
    """The month pages the month view links to."""
    first, last = month_range(calendar, today)
    found = []
    while first <= last and len(found) < MAX_MONTHS:
        found.append(f"/month/{first:%Y-%m}")
        first = (first + timedelta(days=32)).replace(day=1)
    return found


def site_paths(calendar: Calendar, today: date) -> list[str]:
    """Every page, JSON and image URL of the site (the feeds are written apart)."""
    paths = ["/", "/past", "/embed", "/events.json", "/month", "/qr/calendar.svg", "/static/calfeed.js"]
    paths += _months(calendar, today)
    paths += [f"/qr/categories/{c.slug}.svg" for c in calendar.categories]
    paths += [f"/qr/places/{p.slug}.svg" for p in calendar.places]
    for event in calendar.events:
        paths += [f"/events/{event.id}", f"/events/{event.id}/print", f"/events/{event.id}/qr.svg"]
    return paths


def write_site(app: Flask, writer: Writer) -> None:
    """The whole site: feeds straight from the compiler, pages through the app."""
    published = app.extensions["calfeed"].current()
    calendar = published.calendar
    today = date.fromisoformat(str(app.config["TODAY"]))
    writer.write("calendar.ics", published.feed(FeedFilter(), today).data)
    for category in calendar.categories:
        selection = FeedFilter(categories=frozenset({category.slug}))
        writer.write(selection.path().lstrip("/"), published.feed(selection, today).data)
    for place in calendar.places:
        selection = FeedFilter(places=frozenset({place.slug}))
        writer.write(selection.path().lstrip("/"), published.feed(selection, today).data)
    for event in calendar.events:
        writer.write(f"events/{event.id}.ics", published.event_feed(event).data)
    client = app.test_client()
    for path in site_paths(calendar, today):
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code} while building")
        writer.write(static_file(path), response.data)
    writer.write("404.html", client.get("/404-page-for-static-hosts").data)


def build_site(app: Flask, out: Path) -> list[str]:
    """Write the site to ``out`` (replacing what was there); the files written."""
    out = out.absolute()
    if out.is_symlink() or out.exists() and (
        not out.is_dir() or any(out.iterdir()) and not (out / MARKER).exists()
    ):
        raise BuildRefused(
            f"{out} exists and was not written by calfeed build; give a new or empty folder "
            "(calfeed replaces the whole folder on every build)"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    for leftover in out.parent.glob(f".{out.name}.new-*"):
        shutil.rmtree(leftover, ignore_errors=True)  # from a build that was killed
    staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        writer = Writer(staged)
        writer.write(MARKER, b"Written by calfeed build; the whole folder is replaced on each build.\n")
        write_site(app, writer)
        staged.chmod(0o755)
        _swap_into_place(staged, out)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return sorted(writer.written)

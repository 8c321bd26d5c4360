"""``calfeed build``: the site as static files, swapped into place whole.

Everything is written into a fresh folder beside the output and then renamed
over it, so a static host (or a build killed midway) never shows half a site.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from flask import Flask
from werkzeug.exceptions import NotFound

from calfeed import forked, libc
from calfeed.forked import Forked, ForkFailed
from calfeed.model import Calendar, Event
from calfeed.published import FeedFilter, Published
from calfeed.web import pages, qr
from calfeed.web.month import month_range

_RENAME_EXCHANGE = 2
MAX_MONTHS = 240
# Marks a folder as calfeed's own output: only such a folder is ever replaced.
MARKER = ".calfeed-build"
# The site's files in groups made by one process: (file, what makes its bytes).
Files = list[list[tuple[str, Callable[[], bytes]]]]


class BuildRefused(Exception):
    """The output folder holds something calfeed did not write."""


class BuildFailed(Exception):
    """A process of the build failed; nothing was put in place."""


class Writer:
    """The one writer of a build folder: each file once, and only inside it.

    A file is claimed first (refused outside the folder or claimed twice, its
    folder made), then filled: a build claims every file before it forks, so
    its processes fill files that no other one will touch.
    """

    def __init__(self, root: Path):
        self.root = root
        self.written: set[str] = set()
        self._folders = {""}

    def claim(self, relative: str) -> str:
        """The file's path in the folder, for one write (plain strings: a
        build claims tens of thousands of files, and pathlib took a second).

        >>> Writer(Path("/site")).claim("index.html")
        '/site/index.html'
        >>> Writer(Path("/site")).claim("../index.html")
        Traceback (most recent call last):
        ValueError: ../index.html is outside the build folder
        """
        if relative.startswith("/") or ".." in relative.split("/"):
            raise ValueError(f"{relative} is outside the build folder")
        if relative in self.written:
            raise ValueError(f"{relative} would be written twice")
        self.written.add(relative)
        folder = os.path.dirname(relative)
        if folder not in self._folders:
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
            self._folders.add(folder)
        return os.path.join(self.root, relative)

    def write(self, relative: str, data: bytes) -> None:
        fill(self.claim(relative), data)


def fill(target: str, data: bytes) -> None:
    """Write a claimed file; it must not exist yet."""
    with open(target, "xb") as file:
        file.write(data)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux renameat2); False where unsupported."""
    if libc.renameat2 is None:
        return False
    at_cwd = -100
    result = libc.renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), _RENAME_EXCHANGE)
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
    """Every page, JSON and image URL of the site but the feeds and each
    event's files, which are written apart."""
    paths = ["/", "/past", "/embed", "/events.json", "/month", "/qr/calendar.svg", "/static/calfeed.js"]
    paths += _months(calendar, today)
    paths += [f"/qr/categories/{c.slug}.svg" for c in calendar.categories]
    paths += [f"/qr/places/{p.slug}.svg" for p in calendar.places]
    return paths


class Renderer:
    """A page's bytes straight from the app's view for its path.

    It runs the code a request runs, minus the request: one request context
    for "/" serves the whole build (its pages have no query string), where
    the test client cost about a millisecond a page.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.urls = app.url_map.bind("localhost")

    def __call__(self, path: str) -> bytes:
        endpoint, arguments = self.urls.match(path, method="GET")
        return self._body(self.app.view_functions[endpoint](**arguments))

    def not_found(self) -> bytes:
        """The page the app answers for an unknown path."""
        return self._body(self.app.handle_user_exception(NotFound()))

    def _body(self, answer) -> bytes:
        return self.app.make_response(answer).get_data()


def _feed(published: Published, selection: FeedFilter, today: date) -> bytes:
    return published.feed(selection, today).data


def _event_files(published: Published, event: Event) -> list[tuple[str, Callable[[], bytes]]]:
    """An event's four files, from the functions its views answer with (a
    view's response headers, which a static file does not keep, cost as much
    as the page)."""
    return [
        (f"events/{event.id}.ics", lambda: published.event_feed(event).data),
        (f"events/{event.id}.html", lambda: pages.event_page(event.id).encode()),
        (f"events/{event.id}/print.html", lambda: pages.print_page(event.id).encode()),
        (f"events/{event.id}/qr.svg", lambda: qr.event_qr_svg(published.calendar, event)),
    ]


def site_files(app: Flask, today: date) -> Files:
    """Every file of the site and what makes it, in groups of similar cost
    (a feed, a page, an event's four files): feeds straight from the compiler,
    the rest from the app's views. Call it in a request context."""
    published = app.extensions["calfeed"].current()
    calendar = published.calendar
    selections = [FeedFilter()]
    selections += [FeedFilter(categories=frozenset({c.slug})) for c in calendar.categories]
    selections += [FeedFilter(places=frozenset({p.slug})) for p in calendar.places]
    render = Renderer(app)
    files = [(s.path().lstrip("/"), partial(_feed, published, s, today)) for s in selections]
    files += [(static_file(path), partial(render, path)) for path in site_paths(calendar, today)]
    files.append(("404.html", render.not_found))
    return [[file] for file in files] + [_event_files(published, event) for event in calendar.events]


def available_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _fill(groups: Files) -> None:
    for group in groups:
        for target, make in group:
            fill(target, make())


def fill_in_parallel(groups: Files, workers: int) -> None:
    """Fill the claimed files in ``workers`` forked processes, each with every
    ``workers``-th group; raises ``BuildFailed`` if any process failed."""
    if workers < 2 or not forked.available():
        _fill(groups)
        return
    children: list[Forked] = []
    try:
        children = [Forked(partial(_fill, groups[share::workers])) for share in range(workers)]
        failures = []
        for child in children:
            try:
                child.result()
            except ForkFailed as failure:
                failures.append(str(failure))
        if failures:
            raise BuildFailed("\n".join(failures))
    finally:
        for child in children:
            child.cancel()


@contextmanager
def collections_paused() -> Iterator[None]:
    """No garbage collection inside: what a build allocates before it writes
    (the calendar, the list of files) lives until it ends, and each collection
    would scan it all again (most of the time spent listing 40,000 files)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_site(app: Flask, writer: Writer, workers: int | None = None) -> None:
    """The whole site, in ``workers`` processes (default: one a core)."""
    today = date.fromisoformat(str(app.config["TODAY"]))
    with app.test_request_context("/"):
        with collections_paused():
            groups = [[(writer.claim(name), make) for name, make in group] for group in site_files(app, today)]
        fill_in_parallel(groups, workers or available_cores())


def build_site(app: Flask, out: Path, workers: int | None = None) -> list[str]:
    """Write the site to ``out`` (replacing what was there) in ``workers``
    processes (default: one a core); the files written."""
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
        write_site(app, writer, workers)
        staged.chmod(0o755)
        _swap_into_place(staged, out)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return sorted(writer.written)

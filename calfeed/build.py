"""``calfeed build``: the site as static files, swapped into place whole.

Everything is written into a fresh folder beside the output and then renamed
over it (``calfeed.staging``), so a static host (or a build killed midway)
never shows half a site. Feeds come straight from the compiler, pages from
the web layer's ``Site``: the build itself knows nothing of HTTP.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

from calfeed import forked
from calfeed.forked import Forked, ForkFailed
from calfeed.heap import collections_paused
from calfeed.model import Event
from calfeed.published import FeedFilter, Published
from calfeed.staging import Staging
from calfeed.web.site import Site

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


def _feed(published: Published, selection: FeedFilter, today: date) -> bytes:
    return published.feed(selection, today).data


def _event_files(site: Site, published: Published, event: Event) -> list[tuple[str, Callable[[], bytes]]]:
    """An event's four files."""
    return [
        (f"events/{event.id}.ics", lambda: published.event_feed(event).data),
        (f"events/{event.id}.html", partial(site.event_page, event)),
        (f"events/{event.id}/print.html", partial(site.print_page, event)),
        (f"events/{event.id}/qr.svg", partial(site.event_qr, published.calendar, event)),
    ]


def site_files(site: Site, published: Published) -> Files:
    """Every file of the site and what makes it, in groups of similar cost
    (a feed, a page, an event's four files): feeds straight from the compiler,
    the rest from the site's pages. Call it inside ``site.rendering()``."""
    calendar = published.calendar
    selections = [FeedFilter()]
    selections += [FeedFilter(categories=frozenset({c.slug})) for c in calendar.categories]
    selections += [FeedFilter(places=frozenset({p.slug})) for p in calendar.places]
    files = [(s.path().lstrip("/"), partial(_feed, published, s, site.today)) for s in selections]
    files += [(static_file(path), partial(site.page, path)) for path in site.paths(calendar)]
    files.append(("404.html", site.not_found))
    return [[file] for file in files] + [_event_files(site, published, event) for event in calendar.events]


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


def write_site(site: Site, writer: Writer, workers: int | None = None) -> None:
    """The whole site, in ``workers`` processes (default: one a core)."""
    with site.rendering() as published:
        with collections_paused():
            groups = [[(writer.claim(name), make) for name, make in group] for group in site_files(site, published)]
        fill_in_parallel(groups, workers or available_cores())


def build_site(site: Site, out: Path, workers: int | None = None) -> list[str]:
    """Write the site to ``out`` (replacing what was there) in ``workers``
    processes (default: one a core); the files written. Builds into one
    folder may run at once: each ends with its complete site in place, and
    the last one to finish is the one left."""
    out = out.absolute()
    if out.is_symlink() or out.exists() and (
        not out.is_dir() or any(out.iterdir()) and not (out / MARKER).exists()
    ):
        raise BuildRefused(
            f"{out} exists and was not written by calfeed build; give a new or empty folder "
            "(calfeed replaces the whole folder on every build)"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with Staging(out) as staging:
        writer = Writer(staging.path)
        writer.write(MARKER, b"Written by calfeed build; the whole folder is replaced on each build.\n")
        write_site(site, writer, workers)
        staging.put_in_place()
    return sorted(writer.written)

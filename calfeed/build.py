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
from calfeed.buildcache import Keys, Previous, manifest
from calfeed.forked import Forked, ForkFailed
from calfeed.heap import collections_paused
from calfeed.model import Event
from calfeed.published import FeedFilter, Published
from calfeed.staging import Staging
from calfeed.web.site import Site

# Marks a folder as calfeed's own output: only such a folder is ever replaced.
# It lists the keys of the event files too, for the next build (``buildcache``).
MARKER = ".calfeed-build"
MARKER_TEXT = b"Written by calfeed build; the whole folder is replaced on each build.\n"
# The site's files in groups made by one process: (file, what makes its bytes,
# or None when it took the file from the previous build instead).
Files = list[list[tuple[str, Callable[[], bytes | None]]]]


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
    """Write a claimed file; it must not exist yet (three system calls:
    Python's ``open`` adds a stat and an ioctl, which 40,000 files notice)."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


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


def _event_names(event: Event) -> tuple[str, str, str, str]:
    """An event's four files: its ``.ics``, page, printable page, QR code."""
    return f"events/{event.id}.ics", f"events/{event.id}.html", f"events/{event.id}/print.html", f"events/{event.id}/qr.svg"


def _event_files(site: Site, published: Published, event: Event) -> list[tuple[str, Callable[[], bytes]]]:
    makers = (
        lambda: published.event_feed(event).data,
        partial(site.event_page, event),
        partial(site.print_page, event),
        partial(site.event_qr, published.calendar, event),
    )
    return list(zip(_event_names(event), makers))


def event_keys(site: Site, published: Published) -> dict[str, str]:
    """The key of every event file (see ``buildcache``), by file name."""
    calendar = published.calendar
    keys = Keys(calendar, site.today, site.settings())
    found = {}
    for event in calendar.events:
        found.update(zip(_event_names(event), keys.event(event, site.event_url(calendar, event))))
    return found


def site_files(site: Site, published: Published) -> Files:
    """Every file of the site and what makes it, in groups of similar cost
    (a feed, a page, an event's four files; a group is made by one process):
    feeds straight from the compiler, the rest from the site's pages. Call it
    inside ``site.rendering()``."""
    calendar = published.calendar
    selections = [FeedFilter()]
    selections += [FeedFilter(categories=frozenset({c.slug})) for c in calendar.categories]
    selections += [FeedFilter(places=frozenset({p.slug})) for p in calendar.places]
    groups = [[(s.path().lstrip("/"), partial(_feed, published, s, site.today))] for s in selections]
    # A feed's RSS and Atom (one path but for the extension) share their items: one group.
    pages: dict[str, list[tuple[str, Callable[[], bytes]]]] = {}
    for path in site.paths(calendar):
        pages.setdefault(os.path.splitext(path)[0], []).append((static_file(path), partial(site.page, path)))
    groups += [*pages.values(), [("404.html", site.not_found)]]
    return groups + [_event_files(site, published, event) for event in calendar.events]


def _fill(groups: Files) -> None:
    for group in groups:
        for target, make in group:
            data = make()
            if data is not None:
                fill(target, data)


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


def write_site(site: Site, writer: Writer, previous: Previous, workers: int | None = None) -> None:
    """The whole site, in ``workers`` processes (default: one a core), with
    the files of ``previous`` whose keys did not change linked, not made."""
    with site.rendering() as published:
        with collections_paused():
            keys = event_keys(site, published)
            writer.write(MARKER, MARKER_TEXT + manifest(keys))
            groups = []
            for group in site_files(site, published):
                claimed = []
                for name, make in group:
                    target = writer.claim(name)
                    claimed.append((target, previous.maker(name, keys[name], target, make) if name in keys else make))
                groups.append(claimed)
        fill_in_parallel(groups, workers or forked.available_cores())


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
    previous = Previous(out, MARKER)
    try:
        with Staging(out) as staging:
            writer = Writer(staging.path)
            write_site(site, writer, previous, workers)
            staging.put_in_place()
    finally:
        previous.close()
    return sorted(writer.written)

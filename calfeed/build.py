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
# A group of the site's files made by one process: (file, what makes its bytes,
# or None when it took the file from the previous build instead).
Group = list[tuple[str, Callable[[], bytes | None]]]


class BuildRefused(Exception):
    """The output folder holds something calfeed did not write."""


class BuildFailed(Exception):
    """A process of the build failed; nothing was put in place."""


class Writer:
    """The one writer of a build folder: each file once, and only inside it.

    A file is claimed first (refused outside the folder or claimed twice),
    then filled: a build claims every file before it forks, so its processes
    fill files that no other one will touch; they make the folders too.
    """

    def __init__(self, root: Path):
        self.root = root
        self.written: set[str] = set()

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
        return os.path.join(self.root, relative)

    def write(self, relative: str, data: bytes) -> None:
        target = self.claim(relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fill(target, data)


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


class EventFiles:
    """An event's four files, claimed: the process that makes them works out
    their keys (``buildcache``) and takes from the previous build the files
    whose key it finds there (the keys cost a third of a second at 10,000
    events: shared by the processes, not before they fork)."""

    def __init__(self, site: Site, published: Published, keys: Keys, previous: Previous, writer: Writer, event: Event):
        self.names = _event_names(event)
        self._targets = [writer.claim(name) for name in self.names]
        self._site, self._published, self._keys, self._previous, self._event = site, published, keys, previous, event

    def keyed(self) -> tuple[dict[str, str], Group]:
        """The files' keys by name, and the files with what makes (or links) each."""
        site, published, event = self._site, self._published, self._event
        makers = (
            lambda: published.event_feed(event).data,
            partial(site.event_page, event),
            partial(site.print_page, event),
            partial(site.event_qr, published.calendar, event),
        )
        keys = dict(zip(self.names, self._keys.event(event, site.event_url(published.calendar, event))))
        return keys, [
            (target, self._previous.maker(name, keys[name], target, make))
            for name, target, make in zip(self.names, self._targets, makers)
        ]


def site_files(site: Site, published: Published) -> list[list[tuple[str, Callable[[], bytes]]]]:
    """Every file of the site but the events' own (``EventFiles``) and what
    makes it, in groups of similar cost (a feed, a page; a group is made by
    one process): feeds straight from the compiler, the rest from the site's
    pages. Call it inside ``site.rendering()``."""
    calendar = published.calendar
    selections = [FeedFilter()]
    selections += [FeedFilter(categories=frozenset({c.slug})) for c in calendar.categories]
    selections += [FeedFilter(places=frozenset({p.slug})) for p in calendar.places]
    groups = [[(s.path().lstrip("/"), partial(_feed, published, s, site.today))] for s in selections]
    # A feed's RSS and Atom (one path but for the extension) share their items: one group.
    pages: dict[str, list[tuple[str, Callable[[], bytes]]]] = {}
    for path in site.paths(calendar):
        pages.setdefault(os.path.splitext(path)[0], []).append((static_file(path), partial(site.page, path)))
    return groups + [*pages.values(), [("404.html", site.not_found)]]


def _fill(groups: list[Group | EventFiles]) -> dict[str, str]:
    """Make the groups' files (and their folders); the keys of the event files."""
    keys: dict[str, str] = {}
    folders: set[str] = set()
    for group in groups:
        if isinstance(group, EventFiles):
            found, group = group.keyed()
            keys.update(found)
        for target, make in group:
            folder = os.path.dirname(target)
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
            data = make()
            if data is not None:
                fill(target, data)
    return keys


def fill_in_parallel(groups: list[Group | EventFiles], workers: int) -> dict[str, str]:
    """Fill the claimed files in ``workers`` forked processes, each with every
    ``workers``-th group; the keys of the event files. Raises ``BuildFailed``
    if any process failed."""
    if workers < 2 or not forked.available():
        return _fill(groups)
    children: list[Forked] = []
    try:
        children = [Forked(partial(_fill, groups[share::workers])) for share in range(workers)]
        keys, failures = {}, []
        for child in children:
            try:
                keys.update(child.result())
            except ForkFailed as failure:
                failures.append(str(failure))
        if failures:
            raise BuildFailed("\n".join(failures))
        return keys
    finally:
        for child in children:
            child.cancel()


def write_site(site: Site, writer: Writer, previous: Previous, workers: int | None = None) -> None:
    """The whole site, in ``workers`` processes (default: one a core), with
    the files of ``previous`` whose keys did not change linked, not made;
    the marker, with the keys, last."""
    with site.rendering() as published:
        with collections_paused():
            groups: list[Group | EventFiles] = [
                [(writer.claim(name), make) for name, make in group] for group in site_files(site, published)
            ]
            keys = Keys(published.calendar, site.today, site.settings())
            events = [EventFiles(site, published, keys, previous, writer, event) for event in published.calendar.events]
            # Compiled before the fork: every process takes the filtered feeds'
            # and the events' files' VEVENTs from it, none compiles them again.
            _feed(published, FeedFilter(), site.today)
        found = fill_in_parallel(groups + events, workers or forked.available_cores())
    writer.write(MARKER, MARKER_TEXT + manifest({name: found[name] for files in events for name in files.names}))


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

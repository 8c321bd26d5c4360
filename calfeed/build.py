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
# Groups made by one process in turn (see ``fill_in_parallel``).
Bundle = list["Group | EventFiles"]


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


def site_files(site: Site, published: Published) -> list[list[Group]]:
    """Every file of the site but the events' own (``EventFiles``) and what
    makes it, in bundles of groups, each bundle made by one process because
    its files share what the process keeps: the iCalendar feeds (straight
    from the compiler), the RSS and Atom (each event's item written once),
    the month pages (one walk of the series), the other pages. A feed's RSS
    and Atom are one group: they share their items. Call it inside
    ``site.rendering()``."""
    calendar = published.calendar
    selections = [FeedFilter()]
    selections += [FeedFilter(categories=frozenset({c.slug})) for c in calendar.categories]
    selections += [FeedFilter(places=frozenset({p.slug})) for p in calendar.places]
    feeds: list[Group] = [[(s.path().lstrip("/"), partial(_feed, published, s, site.today))] for s in selections]
    pages: dict[str, Group] = {}
    for path in site.paths(calendar):
        pages.setdefault(os.path.splitext(path)[0], []).append((static_file(path), partial(site.page, path)))
    syndicated: list[Group] = []
    months: list[Group] = []
    others: list[Group] = [[("404.html", site.not_found)]]
    for stem, group in pages.items():
        if group[0][0].endswith((".rss", ".atom")):
            syndicated.append(group)
        elif stem == "/month" or stem.startswith("/month/"):
            months.append(group)
        else:
            others.append(group)
    return [months, syndicated, others, feeds]


def _fill(groups: list[Group | EventFiles], folders: set[str]) -> dict[str, str]:
    """Make the groups' files (and their folders not in ``folders``, which
    it adds to); the keys of the event files."""
    keys: dict[str, str] = {}
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


# The most bundles a build hands out: their numbers (4 bytes each) fit in a
# pipe's buffer, which is never less than 4 KiB, before any process reads.
MAX_BUNDLES = 1024


def _taking(bundles: list[Bundle], queue: int) -> dict[str, str]:
    """Fill the bundles whose numbers this process reads from ``queue``
    until it is empty; the keys of the event files."""
    keys: dict[str, str] = {}
    folders: set[str] = set()
    while number := os.read(queue, 4):
        keys.update(_fill(bundles[int.from_bytes(number, "little")], folders))
    return keys


def in_bundles(events: list[EventFiles], count: int) -> list[Bundle]:
    """The events' files in at most ``count`` bundles of consecutive events,
    as alike in size as can be.

    >>> [len(bundle) for bundle in in_bundles(list(range(10)), 4)]
    [3, 3, 2, 2]
    """
    size, extra = divmod(len(events), count)
    starts = [n * size + min(n, extra) for n in range(count + 1)]
    return [events[starts[n] : starts[n + 1]] for n in range(count) if starts[n + 1] > starts[n]]


def fill_in_parallel(bundles: list[Bundle], workers: int) -> dict[str, str]:
    """Fill the claimed files in ``workers`` forked processes; the keys of
    the event files. Each process takes the next bundle no other has taken,
    so all end together whatever a bundle costs: the bundles' numbers wait
    in a pipe, written before the processes start, and a read of four bytes
    takes one whole. Raises ``BuildFailed`` if any process failed."""
    if len(bundles) > MAX_BUNDLES:
        raise ValueError(f"{len(bundles)} bundles: at most {MAX_BUNDLES}")
    if workers < 2 or not forked.available():
        return _fill([group for bundle in bundles for group in bundle], set())
    queue, numbers = os.pipe()
    try:
        os.write(numbers, b"".join(number.to_bytes(4, "little") for number in range(len(bundles))))
    finally:
        os.close(numbers)  # before the fork: an empty queue then reads as its end
    children: list[Forked] = []
    try:
        children = [Forked(partial(_taking, bundles, queue)) for _ in range(workers)]
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
        os.close(queue)
        for child in children:
            child.cancel()


def write_site(site: Site, writer: Writer, previous: Previous, workers: int | None = None) -> None:
    """The whole site, in ``workers`` processes (default: one a core), with
    the files of ``previous`` whose keys did not change linked, not made;
    the marker, with the keys, last."""
    with site.rendering() as published:
        with collections_paused():
            bundles: list[Bundle] = [
                [[(writer.claim(name), make) for name, make in group] for group in bundle]
                for bundle in site_files(site, published)
            ]
            keys = Keys(published.calendar, site.today, site.settings())
            events = [EventFiles(site, published, keys, previous, writer, event) for event in published.calendar.events]
            # Compiled before the fork: every process takes the filtered feeds'
            # and the events' files' VEVENTs from it, none compiles them again.
            _feed(published, FeedFilter(), site.today)
        # The site's own bundles first, the longest first; then the events.
        bundles += in_bundles(events, MAX_BUNDLES - len(bundles))
        found = fill_in_parallel(bundles, workers or forked.available_cores())
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

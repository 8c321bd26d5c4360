"""The previous build's files, taken over where nothing they are made of
changed: a rebuild after a one-event edit makes that event's files again,
and hard-links the other events' files from the site it replaces.

Each event's four files (page, printable page, ``.ics``, QR code: nearly all
of a build's work) get a key, a digest of what makes their bytes: calfeed's
own code, templates and the libraries that render (``code_digest``), the
calendar's settings, places and categories, the event itself, and for the
pages the day the build counts from and the app's settings; a QR code only
its address and title. A build writes its keys into its marker file; the
next build links a file from the previous site when the key it computes is
the one written there, and makes the file otherwise.

The previous site is held open (a descriptor on its folder) from the keys'
reading to the last link: another build that swaps its own site in meanwhile
is never mistaken for it, and a file removed under the build is made again.
Nothing else is kept: no cache folder to grow or to go stale.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from calfeed.model import Calendar, Event

# What renders the pages and codes besides calfeed's own files.
LIBRARIES = ("babel", "jinja2", "markupsafe", "flask", "werkzeug", "zxing-cpp")
# Settings of any of these kinds are part of a page's key (others cannot change a page's bytes)...
_PLAIN = (str, int, float, bool, type(None), timedelta)
# ...but where events.toml lies: its content is in the key, and no page shows its path.
_NOT_SHOWN = {"EVENTS"}


def _digest(*parts: object) -> bytes:
    """A digest of values, not of objects: their repr, which for the model's
    dataclasses spells every field and nothing else (a pickle would differ
    with what the objects share, and with a rule's cached text)."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).digest()


@cache
def code_digest() -> bytes:
    """A digest of the code that makes the files: every file of the calfeed
    package (modules, templates, strings, scripts), the versions of the
    libraries that render, and Python's."""
    digest = hashlib.blake2b(sys.version.encode(), digest_size=16)
    for name in LIBRARIES:
        try:
            digest.update(f"{name} {version(name)}\n".encode())
        except PackageNotFoundError:
            digest.update(f"{name} -\n".encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.digest()


class Keys:
    """The keys of a build's event files."""

    def __init__(self, calendar: Calendar, today: date, settings: Mapping[str, object]):
        fields = [(f.name, getattr(calendar, f.name)) for f in dataclasses.fields(calendar) if f.name != "events"]
        # The feeds' DTSTAMP of events without ``updated`` is the calendar's newest ``updated``.
        self._calendar = _digest(code_digest(), fields, calendar.last_modified)
        plain = sorted((n, v) for n, v in settings.items() if isinstance(v, _PLAIN) and n not in _NOT_SHOWN)
        self._pages = _digest(self._calendar, today, plain)
        self._code = code_digest()

    def event(self, event: Event, url: str) -> tuple[str, str, str, str]:
        """The keys of an event's files: its ``.ics``, page, printable page
        and QR code (``url``: the address the code holds)."""
        own = _digest(event)
        page = hashlib.blake2b(self._pages + own, digest_size=16)
        printed = page.copy()
        page.update(b"page")
        printed.update(b"print")
        return (
            hashlib.blake2b(self._calendar + own, digest_size=16).hexdigest(),
            page.hexdigest(),
            printed.hexdigest(),
            hashlib.blake2b(f"{url}\0{event.title}".encode(), key=self._code, digest_size=16).hexdigest(),
        )


def manifest(keys: Mapping[str, str]) -> bytes:
    """The keys as the marker file keeps them, a file a line (in the build's order).

    >>> manifest({"events/a.html": "0f" * 16})
    b'0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f events/a.html\\n'
    """
    return "".join([f"{key} {name}\n" for name, key in keys.items()]).encode()


def read_manifest(text: bytes) -> dict[str, str]:
    """The keys of a marker file's lines (lines without a key are skipped).

    >>> read_manifest(b"Written by calfeed build.\\n" + b"0f" * 16 + b" events/a.html\\n")
    {'events/a.html': '0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f'}
    """
    found = {}
    for line in text.decode("utf-8", "replace").splitlines():
        key, _, name = line.partition(" ")
        if name and len(key) == 32 and all(c in "0123456789abcdef" for c in key):
            found[name] = key
    return found


class Previous:
    """The site a build replaces, held open, and the keys its marker lists."""

    def __init__(self, out: Path, marker: str):
        self._fd: int | None = None
        self.keys: dict[str, str] = {}
        try:
            fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:  # no previous site
            return
        try:
            with open(marker, "rb", opener=lambda name, flags: os.open(name, flags, dir_fd=fd)) as file:
                self.keys = read_manifest(file.read())
        except OSError:
            os.close(fd)
            return
        self._fd = fd

    def maker(self, name: str, key: str, target: str, make: Callable[[], bytes]) -> Callable[[], bytes | None]:
        """``make``, or (when the previous site has this file with this key)
        a link to it in place of ``target``: then it answers None."""
        if self._fd is None or self.keys.get(name) != key:
            return make
        fd = self._fd

        def link() -> bytes | None:
            try:
                os.link(name, target, src_dir_fd=fd, follow_symlinks=False)
            except OSError:  # removed meanwhile, or links not allowed here
                return make()
            return None

        return link

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

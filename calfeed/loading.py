"""events.toml → plain dicts, plus where each table and key stands in the file.

tomli gives values but no line numbers; ``KeyLines`` recovers them from the
text so that every error can name the line an editor has to fix. A long
file is parsed by two processes, cut between two [[events]] tables: the
same values, sooner where a second core is free.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import tomli

from calfeed import forked
from calfeed.errors import CalendarErrors, Problem
from calfeed.heap import collections_paused
from calfeed.reuse import digest, fingerprint, pickled

# From this many characters on (some 2,000 events), where a second core is
# free, a child process parses the last [[events]] tables while this process
# parses the rest: 10,000 events (5 MB) in 0.20-0.25 s instead of 0.27-0.29.
PARSE_IN_TWO_FROM = 1_000_000
# The child's share of the text, without and with fingerprints (a reload's):
# it also pickles its tables one by one (a sixth of parsing them), which this
# process then unpickles; with fingerprints, this process takes those of its
# own tables meanwhile. So both end together.
CHILD_SHARE = {False: 0.42, True: 0.47}
PARSE_TIMEOUT = 60.0
_EVENTS_HEADER = "[[events]]\n"

_TABLE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_ARRAY_TABLE = re.compile(r"^\s*\[\[\s*([^\[\]]+?)\s*\]\]\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*[.=]""")


@dataclass
class KeyLines:
    """Line numbers of tables and keys: ``("events", 3)`` is the fourth
    ``[[events]]``, ``("places", "bagni")`` a place, ``("calendar",)`` the
    calendar table; ``()`` is the top level."""

    tables: dict[tuple, int] = field(default_factory=dict)
    keys: dict[tuple, int] = field(default_factory=dict)

    unclosed_string: int | None = None

    def line(self, table: tuple, key: str | None = None) -> int | None:
        """The line of ``key`` in ``table``, else of the table itself; a
        table written inline (``slug = { ... }``) is found as its key."""
        if key is not None:
            if (table, key) in self.keys:
                return self.keys[table, key]
            for written in (table + (key,), table + (key, 0)):  # [key] or [[key]]
                if written in self.tables:
                    return self.tables[written]
        if table in self.tables:
            return self.tables[table]
        return self.keys.get((table[:-1], table[-1])) if table else None


def _unquote(name: str) -> str:
    name = name.strip()
    return name[1:-1] if name[:1] in "\"'" and name[-1:] == name[:1] else name


def key_lines(text: str) -> KeyLines:
    """Where each table and key of a TOML text starts.

    >>> lines = key_lines('[calendar]\\nname = "x"\\n[[events]]\\nid = "a"\\n[[events]]\\nid = "b"\\n')
    >>> lines.line(("events", 1), "id"), lines.line(("calendar",), "name")
    (6, 2)
    """
    found = KeyLines()
    table: tuple = ()
    counts: dict[str, int] = {}
    in_string = None
    for number, line in enumerate(text.split("\n"), start=1):
        if in_string:
            if line.count(in_string) % 2:
                in_string = None
            continue
        if line.lstrip().startswith("#"):
            continue
        if match := _ARRAY_TABLE.match(line):
            name = _unquote(match.group(1))
            table = (name, counts.get(name, 0))
            counts[name] = counts.get(name, 0) + 1
            found.tables.setdefault(table, number)
        elif match := _TABLE.match(line):
            table = tuple(_unquote(part) for part in match.group(1).split("."))
            found.tables.setdefault(table, number)
        elif match := _KEY.match(line):
            found.keys.setdefault((table, _unquote(match.group(1))), number)
        for quotes in ('"""', "'''"):
            if line.count(quotes) % 2:
                in_string = quotes
                found.unclosed_string = number
    if in_string is None:
        found.unclosed_string = None
    return found


@dataclass(frozen=True)
class Source:
    """The parsed file: its TOML data, and where things are in it (found only
    when an error needs a line, since scanning a large file takes time)."""

    path: str
    data: dict
    text: str
    # The fingerprint (``reuse.digest``) of each [[events]] table, when the
    # parse was asked for them and made them on the way (a long file).
    fingerprints: list[bytes] | None = None

    @cached_property
    def lines(self) -> KeyLines:
        return key_lines(self.text)


def parse(text: str, path: str, fingerprints: bool = False) -> Source:
    """Parse TOML text; a syntax error is reported alone, with its line.
    ``fingerprints``: a reload will want the tables' fingerprints, which a
    long file's parse makes more cheaply than validation would."""
    text = text.replace("\r\n", "\n")
    try:
        parsed = _parsed_in_two(text, fingerprints) if len(text) >= PARSE_IN_TWO_FROM and forked.second_core() else None
        if parsed is None:
            with collections_paused():
                parsed = tomli.loads(text), None
    except tomli.TOMLDecodeError as error:
        message = str(error)
        line = None
        if match := re.search(r"\(at line (\d+), column (\d+)\)", message):
            line = int(match.group(1))
            message = message[: match.start()].strip()
        elif match := re.search(r"\(at end of document\)", message):
            # Usually a string or list left open: point at where it opens.
            line = key_lines(text).unclosed_string or text.rstrip().count("\n") + 1
            message = message[: match.start()].strip() + ", still open at the end of the file"
        raise CalendarErrors(path, [Problem(f"bad TOML: {message}", line=line, code="bad-toml")]) from None
    except RecursionError:
        raise CalendarErrors(path, [Problem("bad TOML: lists or tables nested too deeply", code="bad-toml")]) from None
    return Source(path, parsed[0], text, parsed[1])


def cut(text: str, share: float) -> int | None:
    """Where a long text may be cut in two: the start of an ``[[events]]``
    line near the end of the first ``1 - share`` of it."""
    found = text.find("\n" + _EVENTS_HEADER, int(len(text) * (1 - share)))
    return found + 1 if found >= 0 else None


def _parsed_in_two(text: str, fingerprints: bool) -> tuple[dict, list[bytes] | None] | None:
    """``tomli.loads(text)``, the text after ``cut`` parsed by a child process
    while this one parses the text before it, and with ``fingerprints`` the
    digest of each [[events]] table. None when the parts cannot stand for
    the whole (then the whole is parsed in one process, which also finds any
    error and its line).

    The first part is parsed up to the end of the cut's ``[[events]]`` line:
    it fails when that line is not a header (inside a multi-line string or
    array) or when ``events`` cannot take more tables (an inline array). The
    second part, which starts with that header, must hold [[events]] tables
    and nothing else: anything it defined outside them could clash with the
    first part, which a parse of each part alone would not see.
    """
    at = cut(text, CHILD_SHARE[fingerprints])
    if at is None:
        return None
    first, rest = forked.both(
        lambda: _first_part(text[: at + len(_EVENTS_HEADER)], fingerprints),
        lambda: _pickled_tables(text[at:], fingerprints), timeout=PARSE_TIMEOUT,
    )
    if first is None or rest is None:
        return None
    (data, digests), (pickles, later) = first, rest
    data["events"] += [pickle.loads(table) for table in pickles]
    return data, digests + later if fingerprints else None


def _first_part(text: str, fingerprints: bool) -> tuple[dict, list[bytes] | None] | None:
    """The values of the text before the cut (and its header line), with
    its [[events]] tables' fingerprints if asked; None where it fails."""
    values = _values(text)
    if values is None:
        return None
    del values["events"][-1]  # the empty table the cut's header began: the child's first
    return values, list(map(digest, values["events"])) if fingerprints else None


def _values(text: str) -> dict | None:
    """What ``tomli.loads`` gives, or None where it fails."""
    try:
        with collections_paused():
            return tomli.loads(text)
    except (tomli.TOMLDecodeError, RecursionError):
        return None


def _pickled_tables(text: str, fingerprints: bool) -> tuple[list[bytes], list[bytes]] | None:
    """The [[events]] tables of ``text``, each pickled as ``reuse.digest``
    pickles it (one pickle per table crosses to the parent more cheaply
    than one of them all), and with ``fingerprints`` their fingerprints.
    None where the text fails or holds more than [[events]] tables."""
    values = _values(text)
    if values is None or list(values) != ["events"]:
        return None
    pickles = list(map(pickled, values["events"]))
    return pickles, list(map(fingerprint, pickles)) if fingerprints else []


def decode(raw: bytes, path: str, fingerprints: bool = False) -> Source:
    """Parse the bytes of events.toml, which must be UTF-8 (a BOM is allowed)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise CalendarErrors(
            path, [Problem("the file is not UTF-8 text; save it as UTF-8", line=line, code="not-utf8")]
        ) from None
    return parse(text.removeprefix("\ufeff"), path, fingerprints)


def read(path: str | Path) -> Source:
    """Read and parse events.toml."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise CalendarErrors(str(path), [Problem(f"cannot read the file: {error.strerror}", code="unreadable-file")]) from None
    return decode(raw, str(path))

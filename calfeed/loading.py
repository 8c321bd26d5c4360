"""events.toml → plain dicts, plus where each table and key stands in the file.

tomli gives values but no line numbers; ``KeyLines`` recovers them from the
text so that every error can name the line an editor has to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import tomli

from calfeed import forked
from calfeed.errors import CalendarErrors, Problem
from calfeed.heap import collections_paused

# From this many characters on (some 2,000 events), where a second core is
# free, a child process parses the last [[events]] tables while this process
# parses the rest: 10,000 events (5 MB) in 0.21 s instead of 0.34 s.
PARSE_IN_TWO_FROM = 1_000_000
# The child's share of the text: it also pickles its tables back (a fifth of
# the time to parse them), so both processes end together.
CHILD_SHARE = 0.45
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

    @cached_property
    def lines(self) -> KeyLines:
        return key_lines(self.text)


def parse(text: str, path: str) -> Source:
    """Parse TOML text; a syntax error is reported alone, with its line."""
    text = text.replace("\r\n", "\n")
    try:
        data = _parsed_in_two(text) if len(text) >= PARSE_IN_TWO_FROM and forked.second_core() else None
        if data is None:
            with collections_paused():
                data = tomli.loads(text)
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
    return Source(path, data, text)


def cut(text: str) -> int | None:
    """Where a long text may be cut in two: the start of an ``[[events]]``
    line some way past the middle (CHILD_SHARE of the text after it)."""
    found = text.find("\n" + _EVENTS_HEADER, int(len(text) * (1 - CHILD_SHARE)))
    return found + 1 if found >= 0 else None


def _parsed_in_two(text: str) -> dict | None:
    """``tomli.loads(text)``, the text after ``cut`` parsed by a child process
    while this one parses the text before it. None when the parts cannot
    stand for the whole (then the whole is parsed in one process, which also
    finds any error and its line).

    The first part is parsed up to the end of the cut's ``[[events]]`` line:
    it fails when that line is not a header (inside a multi-line string or
    array) or when ``events`` cannot take more tables (an inline array). The
    second part, which starts with that header, must hold [[events]] tables
    and nothing else: anything it defined outside them could clash with the
    first part, which a parse of each part alone would not see.
    """
    at = cut(text)
    if at is None:
        return None
    first, rest = forked.both(
        lambda: _values(text[: at + len(_EVENTS_HEADER)]), lambda: _values(text[at:]), timeout=PARSE_TIMEOUT,
    )
    if first is None or rest is None or list(rest) != ["events"]:
        return None
    # In place of the empty table the cut's header began, the tables from it on.
    first["events"][-1:] = rest["events"]
    return first


def _values(text: str) -> dict | None:
    """What ``tomli.loads`` gives, or None where it fails."""
    try:
        with collections_paused():
            return tomli.loads(text)
    except (tomli.TOMLDecodeError, RecursionError):
        return None


def decode(raw: bytes, path: str) -> Source:
    """Parse the bytes of events.toml, which must be UTF-8 (a BOM is allowed)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise CalendarErrors(
            path, [Problem("the file is not UTF-8 text; save it as UTF-8", line=line, code="not-utf8")]
        ) from None
    return parse(text.removeprefix("\ufeff"), path)


def read(path: str | Path) -> Source:
    """Read and parse events.toml."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise CalendarErrors(str(path), [Problem(f"cannot read the file: {error.strerror}", code="unreadable-file")]) from None
    return decode(raw, str(path))

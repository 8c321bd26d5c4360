"""The checks of single values: keys, types, text, URLs, durations, zones, organizer.

A ``Table`` checks one TOML table and files each problem with its place
(line, event, field), a stable code and the data a program needs to act on
it, so the other modules of the package only decide what to check.
"""

from __future__ import annotations

import difflib
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from calfeed import loading
from calfeed.errors import Problem
from calfeed.model import Organizer
from calfeed.timezones import zone_names

DEFAULT_TIMEZONE = "Europe/Rome"
DEFAULT_REFRESH = timedelta(hours=6)
LANGUAGES = ("it", "en")
STATUSES = ("confirmed", "tentative", "cancelled")
MAX_PAST_DAYS = 36500
# A category's slug names its feed file and its QR code's address.
MAX_CATEGORY = 100

TOP_KEYS = ("calendar", "places", "events")
CALENDAR_KEYS = (
    "name", "description", "timezone", "base_url", "language", "refresh", "past_days", "organizer",
)
PLACE_KEYS = ("name", "address", "geo", "url")
ORGANIZER_KEYS = ("name", "email")
EVENT_KEYS = (
    "id", "title", "start", "end", "duration", "timezone", "place", "location", "categories",
    "description", "url", "online", "attachments", "image", "organizer", "rrule", "exdates",
    "rdates", "status", "sequence", "updated", "uid", "overrides",
)
OVERRIDE_KEYS = (
    "recurrence_id", "title", "start", "end", "duration", "place", "location", "categories",
    "description", "url", "online", "attachments", "image", "organizer", "status", "sequence", "updated",
)

# Control characters other than tab and newline (\r\n became \n on reading).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The same, with the line break: what a one-line text must not hold.
_NOT_ONE_LINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
# What no URL holds: white space (``\s`` is str.isspace), backslashes and control characters.
_NOT_IN_URL = re.compile(r"[\s\\\x00-\x08\x0b-\x1f\x7f-\x9f]")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
# RFC 5545's dur-value, as icalendar's vDuration reads it (the same pattern):
# written here because importing icalendar took a tenth of compiling a feed.
_DURATION = re.compile(r"([-+]?)P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?\Z")


def kind(value: Any) -> str:
    """How TOML would call a value's type, for messages.

    >>> kind(True), kind(datetime(2021, 12, 1, 18)), kind([1])
    ('true/false', 'a date-time', 'a list')
    """
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, datetime):
        return "a date-time"
    return {
        str: "text", int: "a whole number", float: "a number", date: "a date",
        time: "a time of day", list: "a list", dict: "a table",
    }.get(type(value), type(value).__name__)


def plain(value: Any) -> Any:
    """A value as Problem.data holds it: TOML dates and times as ISO text, text
    cut to 200 characters, tables and lists left out (their kind says enough)."""
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, str):
        return value[:200]
    if isinstance(value, (bool, int, float)):
        return value
    return kind(value)


def is_http_url(text: str) -> bool:
    """Whether text is an absolute http or https URL.

    >>> is_http_url("https://www.labsus.org/x"), is_http_url("javascript:alert(1)")
    (True, False)
    """
    if _NOT_IN_URL.search(text):
        return False
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host)


def parse_duration(text: str) -> timedelta | None:
    """An iCalendar DURATION as a timedelta; None when it is not one (or too long for one).

    >>> parse_duration("P1DT2H30M"), parse_duration("-PT15M"), parse_duration("1h30")
    (datetime.timedelta(days=1, seconds=9000), datetime.timedelta(days=-1, seconds=85500), None)
    """
    match = _DURATION.match(text)
    if not match:
        return None
    sign, *parts = match.groups("0")
    try:
        weeks, days, hours, minutes, seconds = map(int, parts)
        length = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    except (OverflowError, ValueError):  # more digits than int() or timedelta take
        return None
    return -length if sign == "-" else length


def suggest(name: str, allowed: list[str] | tuple[str, ...]) -> str | None:
    """The allowed name closest to a misspelt one, if any is close."""
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    return close[0] if close else None


class Checker:
    """Every problem found in one file so far, and where to find lines."""

    def __init__(self, source: loading.Source):
        self.source = source
        self.problems: list[Problem] = []
        self.overrides_seen = 0  # [[events.overrides]] are numbered across the file
        self._shared: dict = {}

    def shared(self, value: Any, key: Any = None) -> Any:
        """One object for equal values found in the file (by ``key`` when
        equality is not enough): texts, organizers and lists of categories
        repeat from event to event, and every worker holds the calendar."""
        return self._shared.setdefault(value if key is None else key, value)


class Table:
    """One TOML table being checked: reports problems with its place.

    ``index`` is the position of the [[events]] table it is (or is inside).
    An inline table inside a field (``organizer = { ... }``) reports its
    problems on that field, through ``owner``.
    """

    def __init__(
        self, checker: Checker, table: tuple, where: str | None, data: dict,
        owner: str | None = None, index: int | None = None,
    ):
        self.checker, self.table, self.where, self.data = checker, table, where, data
        self.owner, self.index = owner, index

    def error(self, field: str | None, message: str, code: str, **data: Any) -> None:
        """File a problem; ``data`` holds plain values only (it crosses a fork by pickle)."""
        if self.owner:
            if field:
                data.setdefault("key", field)
            field, message = self.owner, f"{field} {message}" if field else message
        line = self.checker.source.lines.line(self.table, field)
        self.checker.problems.append(Problem(message, self.where, field, line, code, data, self.index))

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in allowed:
                close = suggest(key, allowed)
                hint = f'; did you mean "{close}"?' if close else "."
                self.error(
                    None if self.owner else key,
                    f'unknown key "{key}"{hint} Allowed: {", ".join(allowed)}',
                    "unknown-key", key=key, suggestion=close, allowed=list(allowed),
                )

    def value(self, key: str, kinds: tuple[type, ...], wanted: str, required: bool = False) -> Any:
        value = self.data.get(key)
        if value is None:
            if required:
                self.error(key, f"missing; {key} is required ({wanted})", "missing-field", expected=wanted)
            return None
        if not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
            self.error(key, f"must be {wanted}, not {kind(value)}", "wrong-type", found=kind(value), expected=wanted)
            return None
        return value

    def text(self, key: str, required: bool = False, one_line: bool = False, value: Any = None) -> str | None:
        text = self.data.get(key) if value is None else value
        if text.__class__ is str and not (_NOT_ONE_LINE if one_line else CONTROL_CHARACTERS).search(text):
            if required and not text.strip():
                self.error(key, "must not be empty", "empty-text")
                return None
            return self.checker.shared(text)  # nearly every text: one search, no other checks
        if value is None:
            text = self.value(key, (str,), "text in quotes", required)
        if text is None:
            return None
        if match := CONTROL_CHARACTERS.search(text):
            character = f"U+{ord(match.group()):04X}"
            self.error(
                key, f"contains the control character {character}; only tabs and line breaks are allowed",
                "control-character", value=plain(text), character=character,
            )
            return None
        if one_line and "\n" in text:
            self.error(key, "must be one line of text", "not-one-line", value=plain(text))
            return None
        if required and not text.strip():
            self.error(key, "must not be empty", "empty-text")
            return None
        return self.checker.shared(text)

    def url(self, key: str, value: Any = None, required: bool = False) -> str | None:
        text = self.text(key, value=value, one_line=True, required=required)
        if text is not None and not is_http_url(text):
            self.error(
                key, f'"{text[:100]}" is not a web address; only http:// and https:// URLs are allowed',
                "bad-url", value=plain(text), allowed=["http", "https"],
            )
            return None
        return text

    def urls(self, key: str) -> tuple[str, ...]:
        items = self.value(key, (list,), "a list of URLs in quotes")
        found = []
        for item in items or []:
            if not isinstance(item, str):
                self.error(
                    key, f"must be a list of URLs in quotes, found {kind(item)}",
                    "wrong-type", found=kind(item), expected="a list of URLs in quotes",
                )
            elif (url := self.url(key, value=item)) is not None:
                found.append(url)
        return tuple(found)

    def whole(self, key: str, minimum: int = 0, maximum: int = 2**31 - 1) -> int | None:
        number = self.value(key, (int,), "a whole number")
        if number is not None and not minimum <= number <= maximum:
            self.error(
                key, f"must be from {minimum} to {maximum}, not {number}",
                "out-of-range", value=number, minimum=minimum, maximum=maximum,
            )
            return None
        return number

    def duration(self, key: str) -> timedelta | None:
        text = self.text(key, one_line=True)
        if text is None:
            return None
        length = parse_duration(text)
        if length is None or length <= timedelta(0):
            self.error(
                key, f'"{text}" is not a positive ISO 8601 duration such as "PT1H30M", "P1D" or "P1W"',
                "bad-duration", value=plain(text),
            )
            return None
        return length

    def zone_name(self, key: str, default: str | None) -> str | None:
        name = self.text(key, one_line=True)
        if name is None:
            return default
        if name not in zone_names():
            close = difflib.get_close_matches(name, sorted(zone_names()), n=1)
            hint = f'; did you mean "{close[0]}"?' if close else "."
            self.error(
                key, f'unknown time zone "{name}"{hint} Use an IANA name such as "Europe/Rome"',
                "unknown-zone", value=plain(name), suggestion=close[0] if close else None,
            )
            return None
        return name

    def organizer(self, key: str) -> Organizer | None:
        data = self.value(key, (dict,), 'a table such as { name = "Labsus", email = "info@example.org" }')
        if data is None:
            return None
        inner = Table(self.checker, self.table, self.where, data, owner=key, index=self.index)
        inner.check_keys(ORGANIZER_KEYS)
        name = inner.text("name", one_line=True)
        email = inner.text("email", one_line=True)
        if email is not None and not _EMAIL.match(email):
            self.error(key, f'"{email}" is not an e-mail address such as info@example.org', "bad-email", value=plain(email))
            email = None
        return self.checker.shared(Organizer(name, email)) if name or email else None

"""RRULE text as editors write it → a checked rule, with UNTIL kept apart.

python-dateutil parses rules leniently (``INTERVAL=0``, ``BYMONTHDAY`` with
``FREQ=WEEKLY`` and ``COUNT`` with ``UNTIL`` all pass), so the parts are
checked here against RFC 5545 first; dateutil then expands them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from datetime import date, datetime, timezone

FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
PARTS = (
    "FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY",
    "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST",
)
# Each BYxxx part: the numbers it takes (0 excluded where RFC 5545 excludes it).
_RANGES = {
    "BYSECOND": (0, 60, False), "BYMINUTE": (0, 59, False), "BYHOUR": (0, 23, False),
    "BYMONTHDAY": (1, 31, True), "BYYEARDAY": (1, 366, True), "BYWEEKNO": (1, 53, True),
    "BYMONTH": (1, 12, False), "BYSETPOS": (1, 366, True),
}
_BYDAY = re.compile(r"^([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2}):?(\d{2})(?::?(\d{2}))?(Z)?)?$"
)
MAX_COUNT = 10000


class RuleError(ValueError):
    """What is wrong with a rule, said for an editor."""


@dataclass(frozen=True)
class Rule:
    """A checked rule: its parts in the order written, UNTIL apart."""

    parts: tuple[tuple[str, str], ...]
    until: date | datetime | None  # as written: a date, or a naive or UTC date-time

    @cached_property  # looked up each time a series is expanded
    def text(self) -> str:
        """The rule without UNTIL, for dateutil."""
        return ";".join(f"{key}={value}" for key, value in self.parts)

    def with_until(self, until: str | None) -> str:
        """The RRULE value with UNTIL (already formatted) where it was written."""
        parts = [f"{key}={value}" for key, value in self.parts]
        if until is not None:
            parts.append(f"UNTIL={until}")
        return ";".join(parts)


def _numbers(key: str, value: str) -> None:
    low, high, signed = _RANGES[key]
    for item in value.split(","):
        if not re.fullmatch(r"[+-]?\d+" if signed else r"\d+", item):
            raise RuleError(f"{key}={value}: {item!r} is not a number")
        number = abs(int(item)) if signed else int(item)
        if not low <= number <= high or signed and int(item) == 0:
            sign = f"-{high} to -{low} or " if signed else ""
            raise RuleError(f"{key}={value}: {item} is out of range ({sign}{low} to {high})")


def _until(value: str) -> date | datetime:
    match = _UNTIL.match(value)
    if not match:
        raise RuleError(f"UNTIL={value}: write a date (2022-06-29) or a date-time (2022-06-29T18:00:00)")
    year, month, day, hour, minute, second, utc = match.groups()
    try:
        if hour is None:
            return date(int(year), int(month), int(day))
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError as error:
        raise RuleError(f"UNTIL={value}: {error}") from None
    return moment.replace(tzinfo=timezone.utc) if utc else moment


def parse_rule(text: str) -> Rule:
    """Check an RRULE value part by part.

    >>> parse_rule("FREQ=WEEKLY;BYDAY=WE;UNTIL=2022-06-29")
    Rule(parts=(('FREQ', 'WEEKLY'), ('BYDAY', 'WE')), until=datetime.date(2022, 6, 29))
    >>> parse_rule("FREQ=WEEKLY;BYDAY=WX")
    Traceback (most recent call last):
    ...
    calfeed.rrules.RuleError: BYDAY=WX: "WX" is not a day; use MO, TU, WE, TH, FR, SA, SU, optionally with a number (1MO, -1FR)
    """
    parts: dict[str, str] = {}
    for chunk in text.strip().removeprefix("RRULE:").split(";"):
        key, equals, value = chunk.partition("=")
        key, value = key.strip().upper(), value.strip().upper()
        if not equals or not key or not value:
            raise RuleError(f'"{chunk}" is not a KEY=VALUE part')
        if key not in PARTS:
            raise RuleError(f'unknown part "{key}"; RFC 5545 allows {", ".join(PARTS)}')
        if key in parts:
            raise RuleError(f"{key} is given twice")
        parts[key] = value
    freq = parts.get("FREQ")
    if freq is None:
        raise RuleError("FREQ is missing (FREQ=WEEKLY, FREQ=MONTHLY, ...)")
    if freq not in FREQUENCIES:
        raise RuleError(f"FREQ={freq}: use one of {', '.join(FREQUENCIES)}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("COUNT and UNTIL together; RFC 5545 allows one or the other")
    for key in ("COUNT", "INTERVAL"):
        if key in parts:
            value = parts[key]
            limit = MAX_COUNT if key == "COUNT" else 1000
            if not value.isdigit() or not 1 <= int(value) <= limit:
                raise RuleError(f"{key}={value}: must be a whole number from 1 to {limit}")
    for key in _RANGES:
        if key in parts:
            _numbers(key, parts[key])
    for item in parts.get("BYDAY", "").split(",") if "BYDAY" in parts else []:
        match = _BYDAY.match(item)
        if not match:
            raise RuleError(
                f'BYDAY={parts["BYDAY"]}: "{item}" is not a day; use MO, TU, WE, TH, FR, SA, SU, '
                "optionally with a number (1MO, -1FR)"
            )
        if match.group(2):
            if freq not in ("MONTHLY", "YEARLY"):
                raise RuleError(f"BYDAY={parts['BYDAY']}: a numbered day ({item}) needs FREQ=MONTHLY or FREQ=YEARLY")
            if not 1 <= int(match.group(2)) <= (5 if freq == "MONTHLY" else 53):
                raise RuleError(f"BYDAY={parts['BYDAY']}: {item} is out of range")
    if "WKST" in parts and parts["WKST"] not in WEEKDAYS:
        raise RuleError(f"WKST={parts['WKST']}: use one of {', '.join(WEEKDAYS)}")
    if "BYMONTHDAY" in parts and freq == "WEEKLY":
        raise RuleError("BYMONTHDAY cannot be used with FREQ=WEEKLY (RFC 5545)")
    if "BYYEARDAY" in parts and freq in ("DAILY", "WEEKLY", "MONTHLY"):
        raise RuleError(f"BYYEARDAY cannot be used with FREQ={freq} (RFC 5545)")
    if "BYWEEKNO" in parts and freq != "YEARLY":
        raise RuleError("BYWEEKNO needs FREQ=YEARLY (RFC 5545)")
    until = _until(parts.pop("UNTIL")) if "UNTIL" in parts else None
    return Rule(tuple(parts.items()), until)

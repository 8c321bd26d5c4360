"""The whole file → a ``model.Calendar``: [calendar], [places], every
[[events]] table, and what only the file as a whole can tell (duplicate ids).

Each table is checked in full even after a problem is found, so an editor
sees every mistake of the file in one run of ``calfeed check``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from calfeed import forked, loading
from calfeed.errors import CalendarErrors
from calfeed.heap import collections_paused
from calfeed.model import Calendar, Event, Place
from calfeed.reuse import EventReuse, digest
from calfeed.slugs import SLUG_PATTERN, is_slug
from calfeed.timezones import UTC
from calfeed.validation.details import details
from calfeed.validation.fields import (
    CONTROL_CHARACTERS, CALENDAR_KEYS, DEFAULT_REFRESH, DEFAULT_TIMEZONE, EVENT_KEYS, LANGUAGES, MAX_PAST_DAYS,
    PLACE_KEYS, TOP_KEYS, Checker, Table, is_http_url, kind, plain,
)
from calfeed.validation.series import overrides, recurrence
from calfeed.validation.times import times

MAX_REFRESH = timedelta(days=31)
# Long enough for any real address, short enough for a QR code of any page.
MAX_BASE_URL = 200
# From this many [[events]] on, a child process checks the last tables (CHILD_SHARE) where a
# second core is free; one that has not answered by then is left, and its
# tables checked here.
CHECK_IN_TWO_FROM = 2000
CHECK_TIMEOUT = 120.0
# The child's share of the tables: it also hands its events back (a pickle
# costs about a fifth of checking them) and checks a little more slowly, so
# it takes 2/5 and both processes end together (measured at 10,000 events:
# 0.43-0.46 s against 0.48-0.50 s with 5/11).
CHILD_SHARE = 2 / 5


def _calendar(checker: Checker, data: Any, base_url_override: str | None) -> dict:
    """The [calendar] settings; when the table is missing they take their
    defaults, so that the events are still checked."""
    if not isinstance(data, dict):
        where = Table(checker, (), None, {})
        if data is None:
            where.error(None, "[calendar] table is missing; it needs at least name and base_url", "missing-field", expected="[calendar]")
        else:
            where.error("calendar", f"must be a table ([calendar]), not {kind(data)}", "wrong-type", found=kind(data), expected="a table")
        return {
            "name": None, "description": None, "timezone": DEFAULT_TIMEZONE, "base_url": None,
            "language": "it", "refresh": DEFAULT_REFRESH, "past_days": None, "organizer": None,
        }
    table = Table(checker, ("calendar",), "[calendar]", data)
    table.check_keys(CALENDAR_KEYS)
    name = table.text("name", required=True, one_line=True)
    base_url = base_url_override or table.url("base_url", required=True)
    if base_url_override and not is_http_url(base_url_override):
        table.error(
            "base_url", f'CALFEED_BASE_URL "{base_url_override}" is not an http(s) URL',
            "bad-url", value=plain(base_url_override), allowed=["http", "https"],
        )
        base_url = None
    if base_url and len(base_url) > MAX_BASE_URL:
        # Every page's QR code and every file name of a build starts with it.
        table.error(
            "base_url", f"is {len(base_url)} characters long; at most {MAX_BASE_URL} are allowed",
            "too-long", value=plain(base_url), maximum=MAX_BASE_URL,
        )
        base_url = None
    language = table.text("language", one_line=True) or "it"
    if language not in LANGUAGES:
        table.error("language", f'"{language}" is not available; use "it" or "en"', "unknown-language", value=plain(language), allowed=list(LANGUAGES))
    refresh = table.duration("refresh") if "refresh" in data else DEFAULT_REFRESH
    if refresh is not None and refresh > MAX_REFRESH:
        table.error(
            "refresh", "must be at most 31 days (P31D); clients poll at least that often",
            "out-of-range", value=plain(data["refresh"]), maximum="P31D",
        )
        refresh = None
    return {
        "name": name,
        "description": table.text("description"),
        "timezone": table.zone_name("timezone", DEFAULT_TIMEZONE),
        "base_url": base_url.rstrip("/") if base_url else None,
        "language": language,
        "refresh": refresh,
        "past_days": table.whole("past_days", maximum=MAX_PAST_DAYS),
        "organizer": table.organizer("organizer"),
    }


def _places(checker: Checker, data: Any) -> dict[str, Place]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        Table(checker, (), None, {}).error(
            "places", f"must be tables such as [places.bagni-pubblici], not {kind(data)}",
            "wrong-type", found=kind(data), expected="[places.<slug>] tables",
        )
        return {}
    places = {}
    for slug, raw in data.items():
        table = Table(checker, ("places", slug), f'place "{slug}"', raw if isinstance(raw, dict) else {})
        if not is_slug(slug):
            table.error(
                None, f'"{slug}" is not a valid slug: lower-case letters, digits and "-", starting with a letter or digit (e.g. "bagni-pubblici")',
                "bad-slug", value=plain(slug), pattern=SLUG_PATTERN.pattern,
            )
        if not isinstance(raw, dict):
            table.error(None, f"must be a table with at least a name, not {kind(raw)}", "wrong-type", found=kind(raw), expected="a table")
            continue
        table.check_keys(PLACE_KEYS)
        name = table.text("name", required=True, one_line=True)
        geo = raw.get("geo")
        if geo is not None:
            if (
                not isinstance(geo, list) or len(geo) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in geo)
                or not (-90 <= geo[0] <= 90 and -180 <= geo[1] <= 180)
            ):
                table.error("geo", "must be [latitude, longitude] in degrees, e.g. [45.0907, 7.6913]", "bad-geo", value=plain(geo))
                geo = None
            else:
                geo = (float(geo[0]), float(geo[1]))
        place = Place(slug, name or slug, table.text("address"), geo, table.url("url"))
        places[slug] = place
    return places


def _label(raw: dict, index: int) -> str:
    """How messages name an event: its id when it has one, and its position."""
    ident = raw.get("id")
    if isinstance(ident, str) and ident and not CONTROL_CHARACTERS.search(ident):
        return f'event "{ident[:80]}" (#{index + 1})'
    return f"event #{index + 1}"


def _table(checker: Checker, raw: dict, index: int) -> Table:
    return Table(checker, ("events", index), _label(raw, index), raw, index=index)


def _event(checker: Checker, raw: dict, index: int, calendar: dict, places: dict[str, Place], host: str) -> Event | None:
    table = _table(checker, raw, index)
    before = len(checker.problems)
    table.check_keys(EVENT_KEYS)
    ident = table.text("id", required=True, one_line=True)
    if ident is not None and not is_slug(ident):
        table.error(
            "id", f'"{ident}" is not a valid id: lower-case letters, digits and "-", starting with a letter or digit, '
            f"at most 80 characters (pattern {SLUG_PATTERN.pattern})",
            "bad-slug", value=plain(ident), pattern=SLUG_PATTERN.pattern,
        )
    if "title" not in raw:
        table.error("title", "missing; title is required (text in quotes)", "missing-field", expected="text in quotes")
    tz_name = table.zone_name("timezone", calendar["timezone"])
    start, end = times(table, raw, tz_name)
    found = details(table, raw, places, tz_name)
    found.setdefault("organizer", calendar["organizer"])
    uid = table.text("uid", one_line=True)
    event = Event(
        id=ident or "",
        uid=uid or f"{ident}@{host}",
        title=found.pop("title", ""),
        start=start,
        end=end,
        timezone=tz_name if isinstance(start, datetime) and start.tzinfo is not UTC else None,
        **found,
    )
    broken = None
    if any(key in raw for key in ("rrule", "rdates", "exdates")):
        event, broken = recurrence(table, raw, event, tz_name)
    if "overrides" in raw:
        event = replace(event, overrides=overrides(checker, table, raw, event, broken, places, tz_name))
    return event if len(checker.problems) == before else None


def _duplicates(checker: Checker, raw_events: list[dict], host: str) -> None:
    """Ids, and UIDs (given or default), that more than one event has."""
    # Nothing to report, found in two passes made of comprehensions (a third
    # of the loop below, which a reload of 10,000 events would run).
    ids = [raw.get("id") for raw in raw_events]
    if all(isinstance(ident, str) for ident in ids) and _distinct(ids):
        uids = [uid if isinstance(uid := raw.get("uid"), str) else f"{ident}@{host}" for ident, raw in zip(ids, raw_events)]
        if _distinct(uids):
            return
    seen_ids: dict[str, int] = {}
    seen_uids: dict[str, int] = {}
    for index, raw in enumerate(raw_events):
        ident, uid = raw.get("id"), raw.get("uid")
        repeated_id = isinstance(ident, str) and ident in seen_ids
        if repeated_id:
            _table(checker, raw, index).error(
                "id", f'duplicate id "{ident}": event #{seen_ids[ident] + 1} has it too; ids must be unique',
                "duplicate-id", value=plain(ident), first_index=seen_ids[ident],
            )
        if isinstance(ident, str):
            seen_ids.setdefault(ident, index)
        if isinstance(uid, str) or isinstance(ident, str) and not repeated_id:
            uid = uid if isinstance(uid, str) else f"{ident}@{host}"  # the default UID
            if uid in seen_uids:
                _table(checker, raw, index).error(
                    "uid", f'duplicate UID "{uid}": event #{seen_uids[uid] + 1} has it too; UIDs must be unique',
                    "duplicate-uid", value=plain(uid), first_index=seen_uids[uid],
                )
            seen_uids.setdefault(uid, index)


def _distinct(values: list) -> bool:
    return len(set(values)) == len(values)


def _events(
    checker: Checker, raw_events: list[dict], first: int, stop: int, *, calendar: dict, places: dict[str, Place],
    host: str, known: dict[bytes, Event], fingerprints: list[bytes] | None,
) -> list[tuple[bytes, Event]]:
    """The good events of ``raw_events[first:stop]``, each with its
    fingerprint (when kept for the next load; else b""), taken from ``known``
    when its [[events]] table did not change."""
    found = []
    for index in range(first, stop):
        raw = raw_events[index]
        fingerprint = fingerprints[index] if fingerprints is not None else b""
        event = known.get(fingerprint)
        if event is None:
            event = _event(checker, raw, index, calendar, places, host)
        else:  # keeps the file-wide numbering of overrides in later errors
            checker.overrides_seen += len(raw.get("overrides", ()))
        if event is not None:
            found.append((fingerprint, event))
    return found


def _overrides_in(raw_events: list[dict]) -> int:
    """How many [[events.overrides]] the tables hold, as ``overrides`` numbers them."""
    total = 0
    for raw in raw_events:
        items = raw.get("overrides")
        if isinstance(items, list) and all(isinstance(item, dict) for item in items):
            total += len(items)
    return total


def _in_two(
    checker: Checker, raw_events: list[dict], check: Callable[[int, int], list[tuple[bytes, Event]]],
    calendar: dict, places: dict[str, Place],
) -> list[tuple[bytes, Event]]:
    """``check`` over every table; the last ones in a child process when the
    file is long and a second core is free (a first load, a build and
    ``calfeed check`` of 10,000 events take 0.3 s less)."""
    if len(raw_events) < CHECK_IN_TWO_FROM:
        return check(0, len(raw_events))
    cut, before = len(raw_events) - int(len(raw_events) * CHILD_SHARE), checker.overrides_seen

    def the_rest() -> tuple[list[tuple[bytes, Event]], list]:
        checker.overrides_seen = before + _overrides_in(raw_events[:cut])
        mark = len(checker.problems)
        with collections_paused():
            found = check(cut, len(raw_events))
        problems = checker.problems[mark:]
        del checker.problems[mark:]  # handed back with the events, in either process
        return found, problems

    # The objects both processes hold come back as themselves, not as copies.
    shared = {("place", slug): place for slug, place in places.items()}
    if calendar["organizer"] is not None:
        shared["organizer"] = calendar["organizer"]
    found, (later, problems) = forked.both(lambda: check(0, cut), the_rest, shared=shared, timeout=CHECK_TIMEOUT)
    checker.problems += problems
    return found + later


def build_calendar(source: loading.Source, base_url: str | None = None, reuse: EventReuse | None = None) -> Calendar:
    """Check parsed TOML and build the calendar; raise every problem at once.

    ``reuse`` carries the checked events from one load of a file to the next.
    """
    checker = Checker(source)
    top = Table(checker, (), None, source.data)
    top.check_keys(TOP_KEYS)
    calendar = _calendar(checker, source.data.get("calendar"), base_url)
    places = _places(checker, source.data.get("places"))
    raw_events = source.data.get("events", [])
    if not isinstance(raw_events, list) or not all(isinstance(e, dict) for e in raw_events):
        top.error("events", "must be a list of [[events]] tables", "wrong-type", found=kind(raw_events), expected="[[events]] tables")
        raw_events = []
    host = urlsplit(calendar["base_url"]).hostname if calendar["base_url"] else "calfeed.invalid"
    context = digest((source.data.get("calendar"), source.data.get("places"), base_url)) if reuse else b""
    known = reuse.known(context) if reuse else {}
    # Those the parse made, else made here (pickled: a tenth of checking a table).
    fingerprints = (source.fingerprints or list(map(digest, raw_events))) if reuse else None
    check = partial(_events, checker, raw_events, calendar=calendar, places=places, host=host, known=known, fingerprints=fingerprints)
    with collections_paused():  # a tenth of the time, to find no garbage
        found = _in_two(checker, raw_events, check, calendar, places) if not known else check(0, len(raw_events))
    _duplicates(checker, raw_events, host)
    if checker.problems:
        raise CalendarErrors(source.path, checker.problems)
    if reuse:
        reuse.keep(context, dict(found))
    events = [event for _, event in found]
    categories = {c: c for e in events for c in e.categories}
    return Calendar(
        name=calendar["name"],
        base_url=calendar["base_url"],
        timezone=calendar["timezone"],
        description=calendar["description"],
        language=calendar["language"],
        refresh=calendar["refresh"],
        past_days=calendar["past_days"],
        places=tuple(places.values()),
        events=tuple(sorted(events, key=_start_key)),
        categories=tuple(sorted(categories, key=lambda c: c.slug)),
    )


def _start_key(event: Event) -> tuple:
    """Events in time order; all-day events at the start of their day (UTC)."""
    start = event.start if isinstance(event.start, datetime) else datetime.combine(event.start, time(), UTC)
    return start.astimezone(UTC), event.id


def load_calendar(path: str | Path, base_url: str | None = None) -> Calendar:
    """Read, parse and validate events.toml: the one way into a Calendar.

    ``base_url`` (from CALFEED_BASE_URL) overrides ``[calendar].base_url``.
    """
    return build_calendar(loading.read(path), base_url)

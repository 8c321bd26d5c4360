"""``calfeed import``: an existing iCalendar feed → the events.toml an editor
would have written, or added to the one she has.

The flow: ``source`` reads and parses the feed, ``conversion`` maps its
components to events.toml fields (with ``timing`` and ``details``), the
checker reads the text back and ``repair`` fixes (or leaves out) what it
refuses; only a valid file is written, in one step (``tomlfile.write_atomically``).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import icalendar

from calfeed import loading, tomlfile
from calfeed.errors import CalendarErrors
from calfeed.importing.conversion import Imported, convert, header, standard, target_zone
from calfeed.importing.repair import repaired
from calfeed.importing.report import ImportFailed, Report
from calfeed.importing.source import MAX_BYTES, fetch, parse
from calfeed.model import Calendar
from calfeed.occurrences import naive
from calfeed.timezones import zone_names
from calfeed.validation import build_calendar
from calfeed.writer import locked

__all__ = ["MAX_BYTES", "ImportFailed", "Report", "fetch", "import_calendar", "merged_text"]


def import_calendar(
    source: str, out: Path, merge: bool = False, timezone: str | None = None, base_url: str | None = None,
    allow_private: bool = False,
) -> Report:
    """Import ``source`` (a file, or an http(s) URL at a public address unless
    ``allow_private``) into ``out``; on any failure nothing is written."""
    if timezone is not None and timezone not in zone_names():
        raise ImportFailed(f'unknown time zone "{timezone}"; use an IANA name such as "Europe/Rome"')
    if merge and not out.exists():
        raise ImportFailed(f"{out} does not exist: nothing to merge into (leave out --merge)")
    if not merge and out.exists():
        raise ImportFailed(f"{out} exists; use --merge to add to it, or choose another --out")
    if not out.absolute().parent.is_dir():
        raise ImportFailed(f"{out.absolute().parent} is not a folder; create it first")
    report = Report()
    data = fetch(source, allow_private)
    calendar = standard(parse(data, source), report)
    # The browser editor's lock: no save falls between reading and writing the file.
    with locked(out):
        return _write(calendar, data, out, merge, timezone, base_url, report)


def _write(
    calendar: icalendar.Calendar, data: bytes, out: Path, merge: bool, timezone: str | None,
    base_url: str | None, report: Report,
) -> Report:
    """Convert, merge into what ``out`` holds now, repair, check and write."""
    if not merge and out.exists():
        raise ImportFailed(f"{out} exists; use --merge to add to it, or choose another --out")
    existing_text = out.read_text(encoding="utf-8") if merge else None
    text = _converted(calendar, data, existing_text, str(out), timezone, base_url, report)
    if text is not None:
        tomlfile.write_atomically(out, text)
    return report


def merged_text(data: bytes, source: str, existing_text: str, path: str) -> tuple[str | None, Report]:
    """What ``calfeed import --merge`` would make of the file whose text is
    ``existing_text``: the new text (None when nothing would be added) and
    the report. Nothing is written: the browser editor shows this as a
    preview and writes the text only when the editor confirms."""
    report = Report()
    calendar = standard(parse(data, source), report)
    return _converted(calendar, data, existing_text, path, None, None, report), report


def _converted(
    calendar: icalendar.Calendar, data: bytes, existing_text: str | None, path: str, timezone: str | None,
    base_url: str | None, report: Report,
) -> str | None:
    """The checked text of the file with the source's events (merged into
    ``existing_text`` when given), or None when there is nothing to add."""
    existing = None
    if existing_text is not None:
        try:
            existing = build_calendar(loading.parse(existing_text, path))
        except CalendarErrors as errors:
            raise ImportFailed(f"{path} has errors; fix them first:\n{errors.report()}", "file-has-errors") from None
    target = existing.timezone if existing is not None else target_zone(calendar, timezone)
    starts = [n for n, line in enumerate(data.splitlines(), start=1) if line.strip().upper() == b"BEGIN:VEVENT"]
    language = existing.language if existing is not None else "it"  # a new file's header sets none: Italian
    events, places = convert(calendar, target, report, starts, language)
    if existing is None:
        head, taken = header(calendar, target, base_url, report) + tomlfile.places_text(places), set()
    else:
        events, places = new_in(existing, events, places, report, path)
        if not events:
            return None
        head = existing_text.rstrip("\n") + "\n" + tomlfile.places_text(places)
        taken = {event.id for event in existing.events}
    offset = len(existing.events) if existing is not None else 0
    for _ in range(len(events) + 1):
        text = head + tomlfile.events_text(events, set(taken))
        try:
            build_calendar(loading.parse(text, path))
            break
        except CalendarErrors as errors:
            events = repaired(events, errors, offset, report)
    else:
        raise ImportFailed("the imported calendar would not be valid, so nothing was written")
    if existing is not None and not events:
        return None  # every new event left out: the file stays as it was
    report.events, report.places = len(events), len(places)
    report.series = sum("rrule" in e.fields or "rdates" in e.fields for e in events)
    report.overrides = sum(len(e.overrides) for e in events)
    return text


def new_in(
    existing: Calendar, events: list[Imported], places: dict[str, dict[str, Any]], report: Report, out: str
) -> tuple[list[Imported], dict[str, dict[str, Any]]]:
    """The events the existing file lacks, and the places they need that it
    lacks (renamed where its slug is taken by another place)."""
    known = {event.uid for event in existing.events}
    seen = {(event.title, naive(event.start)) for event in existing.events}
    fresh = [  # by UID, or by title and start for events without one: importing twice adds nothing
        e for e in events
        if ("uid" in e.fields and e.fields["uid"] not in known)
        or ("uid" not in e.fields and (e.fields["title"], _naive_value(e.fields["start"])) not in seen)
    ]
    if not fresh:
        report.notes.append(f"nothing new: every event is already in {out}")
        return [], {}
    if len(fresh) < len(events):
        report.notes.append(f"{len(events) - len(fresh)} events already in {out} (same UID) kept as they are")
    renamed: dict[str, str] = {}
    added: dict[str, dict[str, Any]] = {}
    for slug, fields in places.items():
        mine = existing.place(slug)
        if mine is not None and mine.name == fields["name"]:
            continue  # the same place: use it
        target = slug
        while existing.place(target) is not None or target in added:
            target += "-2"
        renamed[slug], added[target] = target, fields
    for event in fresh:
        if event.fields.get("place") in renamed:
            event.fields["place"] = renamed[event.fields["place"]]
    return fresh, added


def _naive_value(value: date | datetime) -> datetime:
    return naive(value.replace(tzinfo=None) if isinstance(value, datetime) else value)

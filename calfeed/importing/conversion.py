"""An existing iCalendar feed → the events.toml an editor would have written.

icalendar parses the source (it resolves VTIMEZONEs placed anywhere, Windows
zone names and X-WR-TIMEZONE with x-wr-timezone); this module maps each
component to the fields of events.toml, keeps rules as rules, and says what
it could not carry over. ``tomlfile`` writes the text.
"""

from __future__ import annotations

import html
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from datetime import date, datetime, timedelta
from typing import Any

import icalendar
import x_wr_timezone
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from calfeed import loading, tomlfile
from calfeed.errors import CalendarErrors
from calfeed.slugs import slugify
from calfeed.timezones import UTC, LocalTimeError, current_rules, localize, zone, zone_names
from calfeed.occurrences import naive
from calfeed.validation import STATUSES, _CONTROL, build_calendar, is_http_url

MAX_BYTES = 20 * 1024 * 1024
_UTC_NAMES = {"UTC", "UCT", "GMT", "Zulu", "Universal", "Greenwich", "GMT0", "GMT+0", "GMT-0"}
TIMEOUT_SECONDS = 20
# Components other than these are not events and are not carried over.
_IGNORED_PROPERTIES = {"ATTENDEE", "RESOURCES", "COMMENT", "CONTACT"}


class ImportFailed(Exception):
    """The source cannot be imported at all; nothing is written."""


@dataclass
class Report:
    """What an import did, and what it could not carry over (and why)."""

    events: int = 0
    series: int = 0
    overrides: int = 0
    places: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"imported {self.events} events ({self.series} recurring series, "
            f"{self.overrides} changed dates), {self.places} places made"
        ]
        lines += [f"  - {note}" for note in self.notes]
        return "\n".join(lines)


def fetch(source: str) -> bytes:
    """The bytes of a local .ics file or of an http(s) URL (bounded in size and time)."""
    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(source, headers={"User-Agent": "calfeed-import"})
        deadline = time.monotonic() + TIMEOUT_SECONDS
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                chunks, size = [], 0
                while size <= MAX_BYTES:
                    chunk = response.read1(65536)  # what has arrived: the deadline is checked often
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                    if time.monotonic() > deadline:
                        raise ImportFailed(f"{source}: the download took longer than {TIMEOUT_SECONDS} s; try again, or save the file and import it")
                data = b"".join(chunks)
        except urllib.error.HTTPError as error:
            raise ImportFailed(f"{source}: the server answered {error.code} {error.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ImportFailed(f"{source}: cannot download it ({reason})") from None
    else:
        try:
            with open(source, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError as error:
            raise ImportFailed(f"{source}: cannot read it ({error.strerror})") from None
    if len(data) > MAX_BYTES:
        raise ImportFailed(f"{source}: larger than {MAX_BYTES // (1024 * 1024)} MB; is it really a calendar?")
    return data


def parse(data: bytes, source: str) -> icalendar.Calendar:
    """The source as a calendar, or one clear error."""
    head = data.lstrip()[:200].lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<")):
        raise ImportFailed(f"{source}: this is a web page, not a calendar (an error page, or the wrong URL?)")
    if not data.lstrip(b"\xef\xbb\xbf \r\n\t").upper().startswith(b"BEGIN:VCALENDAR"):
        raise ImportFailed(f"{source}: not an iCalendar file (it should start with BEGIN:VCALENDAR)")
    if b"END:VCALENDAR" not in data.upper():
        raise ImportFailed(f"{source}: the file is cut short (no END:VCALENDAR)")
    try:
        return icalendar.Calendar.from_ical(data)
    except Exception as error:
        raise ImportFailed(f"{source}: not valid iCalendar ({error})") from None


def standard(calendar: icalendar.Calendar, report: Report) -> icalendar.Calendar:
    """The calendar with X-WR-TIMEZONE applied, after noting the TZIDs that
    no zone answers to (their times are read in the calendar's zone)."""
    for component in calendar.walk("VEVENT"):
        prop = component.get("DTSTART")
        tzid = prop.params.get("TZID") if prop is not None else None
        if tzid and isinstance(prop.dt, datetime) and prop.dt.tzinfo is None:
            summary = str(component.get("SUMMARY", "?"))[:50]
            report.notes.append(f'"{summary}": time zone {tzid!r} is unknown; its times were read in the calendar\'s zone')
    try:
        return x_wr_timezone.to_standard(calendar)
    except Exception:
        return calendar


def _text(component, name: str, report: Report, label: str) -> str | None:
    value = component.get(name)
    if value is None:
        return None
    if isinstance(value, list):  # the property repeated: the first one counts
        report.notes.append(f"{label}: {name} given {len(value)} times; the first is kept")
        value = value[0]
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    cleaned = _CONTROL.sub("", text)
    if cleaned != text:
        report.notes.append(f"{label}: control characters removed from {name}")
    return cleaned.strip() or None


def _uris(component, name: str, report: Report, label: str) -> list[str]:
    values = component.get(name)
    if values is None:
        return []
    found = []
    for value in values if isinstance(values, list) else [values]:
        uri = str(value).strip()
        if is_http_url(uri):
            found.append(uri)
        else:
            report.notes.append(f"{label}: {name} {uri[:60]!r} left out: only http(s) links are kept")
    return found


@dataclass
class Timing:
    """How the source's times become events.toml values."""

    target: str  # the calendar's zone

    def zone_of(self, value: datetime, tzid: str | None = None) -> str | None:
        """The IANA zone a date-time is written in (a Windows name mapped to
        its IANA zone); None for UTC and for zones known by offsets only."""
        key = getattr(value.tzinfo, "key", None) or WINDOWS_TO_OLSON.get(tzid or "") or tzid
        if key not in zone_names() or value.utcoffset() == timedelta(0) and key.replace("Etc/", "") in _UTC_NAMES:
            return None
        return key

    def local(self, value: datetime, name: str) -> datetime | None:
        """Wall-clock time in zone ``name`` if it names the instant exactly once."""
        moment = value.astimezone(zone(name)).replace(tzinfo=None)
        try:
            localize(moment, zone(name))
        except LocalTimeError:
            return None
        return moment

    def value(self, value: date | datetime, name: str) -> date | datetime:
        """A start, end or date of an event kept in zone ``name``: local when
        the instant allows it, else the instant with its offset."""
        if not isinstance(value, datetime):
            return value
        if value.tzinfo is None:  # floating: wall-clock time, read in the zone
            return value
        return self.local(value, name) or value.astimezone(zone(name))


def _same_clock(first: str, second: str, since: datetime) -> bool:
    """Whether two zones show the same time from ``since`` on (Outlook's
    "W. Europe Standard Time" is Europe/Berlin, which Rome's clocks match)."""
    def shape(name: str):
        rules = current_rules(name)
        if rules is None:
            return None, None
        return rules.since, [(r.month, r.weekday, r.first_day, r.at, r.offset_before, r.offset_after) for r in rules.rules]

    (first_since, first_rules), (second_since, second_rules) = shape(first), shape(second)
    return (
        first_rules is not None and first_rules == second_rules
        and max(first_since, second_since) <= since.year
        and since.astimezone(zone(first)).utcoffset() == since.astimezone(zone(second)).utcoffset()
    )


def _zone_for(component, timing: Timing) -> str:
    start = component.decoded("DTSTART")
    if isinstance(start, datetime) and start.tzinfo is not None:
        named = timing.zone_of(start, component["DTSTART"].params.get("TZID"))
        if named is None or named == timing.target or _same_clock(named, timing.target, start):
            return timing.target
        return named
    return timing.target


def _rule(component, start: date | datetime, zone_name: str, report: Report, label: str) -> str | None:
    rules = component.get("RRULE")
    if rules is None:
        return None
    if isinstance(rules, list):
        report.notes.append(f"{label}: several RRULEs; only the first is kept")
        rules = rules[0]
    parts = dict(rules)
    text_parts = []
    for key, values in parts.items():
        if key == "UNTIL":
            until = values[0]
            if isinstance(until, datetime):
                if until.tzinfo is None:
                    until = until.replace(tzinfo=zone(zone_name))
                local = until.astimezone(zone(zone_name)).replace(tzinfo=None)
                text_parts.append(f"UNTIL={local.isoformat()}" if isinstance(start, datetime) else f"UNTIL={local.date().isoformat()}")
            else:
                text_parts.append(f"UNTIL={until.isoformat()}")
            continue
        rendered = icalendar.prop.vRecur({key: values}).to_ical().decode()
        text_parts.append(rendered)
    return ";".join(text_parts)


def _dates(component, name: str) -> list[date | datetime]:
    values = component.get(name)
    if values is None:
        return []
    found = []
    for value in values if isinstance(values, list) else [values]:
        for item in value.dts:
            moment = item.dt
            found.append(moment[0] if isinstance(moment, tuple) else moment)  # a PERIOD: its start
    return found


@dataclass
class Imported:
    """One event as events.toml will hold it (an ordered dict of fields)."""

    fields: dict[str, Any]
    overrides: list[dict[str, Any]] = field(default_factory=list)
    sort_key: tuple = ()


def _times(component, timing: Timing, zone_name: str, label: str, report: Report) -> dict[str, Any]:
    start = component.decoded("DTSTART")
    fields: dict[str, Any] = {}
    fields["start"] = timing.value(start, zone_name)
    if "DTEND" in component:
        end = component.decoded("DTEND")
        if isinstance(start, datetime) != isinstance(end, datetime):
            end = None
        if end is not None and not isinstance(start, datetime):
            if end > start + timedelta(days=1):
                fields["end"] = end - timedelta(days=1)  # events.toml's end is the last day
        elif end is not None:
            if end.tzinfo is None and start.tzinfo is not None:
                end = end.replace(tzinfo=start.tzinfo)
            if _instant(end, zone_name) > _instant(start, zone_name):
                fields["end"] = timing.value(end, zone_name)
            elif _instant(end, zone_name) < _instant(start, zone_name):
                report.notes.append(f"{label}: DTEND is before DTSTART; the end was left out")
    elif "DURATION" in component:
        length = component.decoded("DURATION")
        if length > timedelta(0):
            fields["duration"] = icalendar.prop.vDuration(length).to_ical().decode()
    return fields


def _without_link_block(text: str, links: list[str]) -> str:
    """The description without the closing block of links that calfeed (and
    others) append for clients that ignore CONFERENCE and ATTACH."""
    head, _, last = text.rpartition("\n\n")
    lines = last.split("\n")
    if links and all(line.removeprefix("Online: ") in links for line in lines):
        return head.strip()
    return text


def _details(component, label: str, report: Report) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if (text := _text(component, "DESCRIPTION", report, label)) is not None:
        fields["description"] = _plain(text)
    categories = []
    for value in component.get("CATEGORIES", []) if isinstance(component.get("CATEGORIES"), list) else [component.get("CATEGORIES")] if component.get("CATEGORIES") else []:
        categories += [str(c).strip() for c in value.cats if str(c).strip() and slugify(str(c))]
    if categories:
        fields["categories"] = list(dict.fromkeys(categories))
    urls = _uris(component, "URL", report, label)
    if urls:
        fields["url"] = urls[0]
    online = [*_uris(component, "CONFERENCE", report, label), *_uris(component, "X-GOOGLE-CONFERENCE", report, label),
              *_uris(component, "X-MICROSOFT-SKYPETEAMSMEETINGURL", report, label)]
    if online:
        fields["online"] = list(dict.fromkeys(online))
    attachments, images = [], []
    for value in component.get("ATTACH", []) if isinstance(component.get("ATTACH"), list) else [component["ATTACH"]] if "ATTACH" in component else []:
        uri = str(value).strip()
        if not is_http_url(uri):
            report.notes.append(f"{label}: ATTACH {uri[:60]!r} left out: only http(s) links are kept")
        elif str(value.params.get("FMTTYPE", "")).startswith("image/"):
            images.append(uri)
        else:
            attachments.append(uri)
    if attachments:
        fields["attachments"] = attachments
    if "description" in fields:
        fields["description"] = _without_link_block(fields["description"], online + attachments)
        if not fields["description"]:
            del fields["description"]
    images = [*_uris(component, "IMAGE", report, label), *images]
    if images:
        fields["image"] = images[0]
    organizer = component.get("ORGANIZER")
    if organizer is not None:
        email = str(organizer).removeprefix("mailto:").removeprefix("MAILTO:")
        name = organizer.params.get("CN")
        entry = {}
        if name:
            entry["name"] = str(name)
        if "@" in email and " " not in email:
            entry["email"] = email
        if entry:
            fields["organizer"] = entry
    status = str(component.get("STATUS", "")).lower()
    if status in STATUSES and status != "confirmed":
        fields["status"] = status
    sequence = component.get("SEQUENCE")
    if sequence is not None and int(sequence) > 0:
        fields["sequence"] = int(sequence)
    if "LAST-MODIFIED" in component:
        fields["updated"] = component.decoded("LAST-MODIFIED").astimezone(UTC)
    ignored = sorted(_IGNORED_PROPERTIES & {str(k).upper() for k in component} | ({"VALARM"} if component.subcomponents else set()))
    if ignored:
        report.notes.append(f"{label}: {', '.join(ignored)} not carried over (events.toml has no such fields)")
    return fields


def convert(
    calendar: icalendar.Calendar, target: str, report: Report, lines: list[int] | None = None
) -> tuple[list[Imported], dict[str, dict[str, Any]]]:
    """Every event of the source, grouped with its changed dates, and the
    places; ``lines`` are where each VEVENT begins, for the report."""
    timing = Timing(target)
    masters: dict[str, Imported] = {}
    changes: dict[str, list] = {}
    loose: list[Imported] = []
    locations = Counter(str(e.get("LOCATION")).strip() for e in calendar.walk("VEVENT") if e.get("LOCATION"))
    # A location with coordinates becomes a place even when used once: GEO needs one.
    with_geo = {str(e.get("LOCATION")).strip() for e in calendar.walk("VEVENT") if e.get("LOCATION") and e.get("GEO")}
    places: dict[str, dict[str, Any]] = {}
    place_of: dict[str, str] = {}
    for text, count in sorted(locations.items()):
        if (count >= 2 or text in with_geo) and slugify(text):
            slug = slugify(text.split(",")[0])[:60].strip("-") or "luogo"
            while slug in places:
                slug += "-2"
            name, _, address = text.partition(", ")
            places[slug] = {"name": name.strip(), **({"address": address.strip()} if address.strip() else {})}
            place_of[text] = slug
    for position, component in enumerate(calendar.walk("VEVENT")):
        where = f"line {lines[position]}: " if lines and position < len(lines) else ""
        try:
            _one(component, timing, target, report, masters, changes, loose, places, place_of, where)
        except Exception as error:  # one unreadable event must not sink the others
            summary = str(component.get("SUMMARY", "?"))[:50]
            report.notes.append(f'{where}"{summary}": left out, it cannot be read ({type(error).__name__}: {str(error)[:120]})')
    return _finish(masters, changes, loose, places, report)


def _one(
    component, timing: Timing, target: str, report: Report, masters: dict, changes: dict, loose: list,
    places: dict, place_of: dict, where: str = "",
) -> None:
    """Convert one VEVENT into ``masters``, ``changes`` or ``loose``."""
    uid = str(component.get("UID", "")).strip() or None
    title = (_text(component, "SUMMARY", report, f"{where}an event") or "Senza titolo").replace("\n", " ")
    label = f'{where}"{title[:50]}"' + (f" ({uid})" if uid else "")
    if "DTSTART" not in component:
        report.notes.append(f"{label}: no DTSTART; left out")
        return
    start = component.decoded("DTSTART")
    zone_name = _zone_for(component, timing)
    fields: dict[str, Any] = {"title": title}
    if zone_name != target:
        fields["timezone"] = zone_name
    fields.update(_times(component, timing, zone_name, label, report))
    location = str(component.get("LOCATION", "")).strip()
    if location in place_of:
        fields["place"] = place_of[location]
        geo = component.get("GEO")
        if geo is not None and "geo" not in places[place_of[location]]:
            places[place_of[location]]["geo"] = [geo.latitude, geo.longitude]
    elif location:
        fields["location"] = _CONTROL.sub("", location)
    fields.update(_details(component, label, report))
    if "RECURRENCE-ID" in component and uid:
        original = component.decoded("RECURRENCE-ID")
        changes.setdefault(uid, []).append((timing.value(original, zone_name), fields))
        return
    rule = _rule(component, start, zone_name, report, label)
    if rule:
        fields["rrule"] = rule
        if isinstance(fields["start"], datetime) and fields["start"].tzinfo is not None:
            fields["start"] = fields["start"].replace(tzinfo=None)  # a series is wall-clock
    for key, name in (("rdates", "RDATE"), ("exdates", "EXDATE")):
        values = [timing.value(v, zone_name) for v in _dates(component, name)]
        values = [v.replace(tzinfo=None) if isinstance(v, datetime) and v.tzinfo is not None and isinstance(fields["start"], datetime) and fields["start"].tzinfo is None else v for v in values]
        if values:
            fields[key] = values
    if uid:
        fields["uid"] = uid
    item = Imported(fields, sort_key=(_instant(start, zone_name), title))
    if uid and uid in masters:
        report.notes.append(f"{label}: a second event with UID {uid}; imported as a separate event with a new UID")
        fields.pop("uid")
        loose.append(item)
    elif uid:
        masters[uid] = item
    else:
        report.notes.append(f"{label}: no UID in the source; calfeed gives it one")
        loose.append(item)


def _finish(masters: dict, changes: dict, loose: list, places: dict, report: Report) -> tuple[list[Imported], dict[str, dict[str, Any]]]:
    """Changed dates under their series; everything in time order."""
    for uid, items in changes.items():
        master = masters.get(uid)
        if master is None:
            report.notes.append(f"changed date(s) of {uid} left out: the series itself is not in the source")
            continue
        length = _length(master.fields)
        for original, fields in sorted(items, key=lambda pair: str(pair[0])):
            override = {"recurrence_id": original}
            start = fields.get("start", original)
            if length is not None and fields.get("end") is not None and _plus(start, length) == fields["end"]:
                fields.pop("end")  # the same length as the series: implied
            for key, value in fields.items():
                if key in ("timezone",) or master.fields.get(key) == value:
                    continue
                if key in ("start", "end", "duration", "title", "description", "status", "place", "location", "categories", "url", "online", "attachments", "image", "organizer", "sequence", "updated"):
                    override[key] = value
            if override.get("start") == original:
                override.pop("start")
            master.overrides.append(override)
    events = sorted([*masters.values(), *loose], key=lambda item: item.sort_key)
    report.events = len(events)
    report.series = sum("rrule" in e.fields or "rdates" in e.fields for e in events)
    report.overrides = sum(len(e.overrides) for e in events)
    report.places = len(places)
    return events, places


def _instant(value: date | datetime, zone_name: str) -> datetime:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(zone_name))
    return value.astimezone(UTC)


def _plain(text: str) -> str:
    """Plain text from a description that some publishers write in HTML."""
    if re.search(r"</?(p|br|div|a|strong|em|b|i|ul|ol|li|span)\b[^>]*>", text, re.IGNORECASE):
        text = re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)
        text = re.sub(r"</(p|div|li|ul|ol)>", "\n\n", text, flags=re.IGNORECASE)
        text = re.sub(r"<[^>]+>", "", text)
        text = re.sub(r"\n{3,}", "\n\n", text)
    return html.unescape(text).strip()


def target_zone(calendar: icalendar.Calendar, chosen: str | None) -> str:
    """The calendar's zone: --timezone, else the source's X-WR-TIMEZONE, else Europe/Rome."""
    if chosen:
        return chosen
    named = str(calendar.get("X-WR-TIMEZONE", "")).strip()
    return named if named in zone_names() else "Europe/Rome"



def _unescape(text: str) -> str:
    """TEXT escapes, which icalendar leaves in X- properties such as X-WR-CALDESC."""
    return text.replace("\\n", "\n").replace("\\N", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")


def _header(calendar: icalendar.Calendar, target: str, base_url: str | None, report: Report) -> str:
    name = _unescape(str(calendar.get("X-WR-CALNAME") or calendar.get("NAME") or "Calendario importato")).strip()
    description = _unescape(str(calendar.get("X-WR-CALDESC") or calendar.get("DESCRIPTION") or "")).strip()
    fields: dict[str, Any] = {"name": name.replace("\n", " ")}
    if description:
        fields["description"] = _CONTROL.sub("", description)
    fields["timezone"] = target
    fields["base_url"] = base_url or "https://calendario.example.org"
    if not base_url:
        report.notes.append("base_url is a placeholder: set it to your site's address (or CALFEED_BASE_URL)")
    return "\n".join(["# Imported with `calfeed import`; edit freely.", "[calendar]", *tomlfile.table(fields, tomlfile.CALENDAR_ORDER)]) + "\n"


def _fresh(events: list[Imported], existing) -> list[Imported]:
    """The events not yet in the existing file: by UID, or by title and start
    for events without one (so that importing twice adds nothing)."""
    if existing is None:
        return events
    known = {event.uid for event in existing.events}
    seen = {(event.title, naive(event.start)) for event in existing.events}
    return [
        e for e in events
        if ("uid" in e.fields and e.fields["uid"] not in known)
        or ("uid" not in e.fields and (e.fields["title"], _naive_value(e.fields["start"])) not in seen)
    ]


def _naive_value(value: date | datetime) -> datetime:
    return naive(value.replace(tzinfo=None) if isinstance(value, datetime) else value)


def _merge(existing_text: str, existing, events: list[Imported], places: dict, report: Report, out: str) -> str:
    """The existing file, untouched, followed by the places and events it lacks."""
    fresh = _fresh(events, existing)
    if not fresh:
        report.events = report.places = report.series = report.overrides = 0
        report.notes.append(f"nothing new: every event is already in {out}")
        return existing_text
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
    report.events, report.places = len(fresh), len(added)
    report.series = sum("rrule" in e.fields or "rdates" in e.fields for e in fresh)
    report.overrides = sum(len(e.overrides) for e in fresh)
    taken = {event.id for event in existing.events}
    return existing_text.rstrip("\n") + "\n" + tomlfile.places_text(added) + tomlfile.events_text(fresh, taken)


def import_calendar(
    source: str, out: Path, merge: bool = False, timezone: str | None = None, base_url: str | None = None
) -> Report:
    """Import ``source`` into ``out``; on any failure nothing is written."""
    if timezone is not None and timezone not in zone_names():
        raise ImportFailed(f'unknown time zone "{timezone}"; use an IANA name such as "Europe/Rome"')
    existing = existing_text = None
    if merge:
        if not out.exists():
            raise ImportFailed(f"{out} does not exist: nothing to merge into (leave out --merge)")
        existing_text = out.read_text(encoding="utf-8")
        try:
            existing = build_calendar(loading.parse(existing_text, str(out)))
        except CalendarErrors as errors:
            raise ImportFailed(f"{out} has errors; fix them first:\n{errors.report()}") from None
    elif out.exists():
        raise ImportFailed(f"{out} exists; use --merge to add to it, or choose another --out")
    if not out.absolute().parent.is_dir():
        raise ImportFailed(f"{out.absolute().parent} is not a folder; create it first")
    report = Report()
    data = fetch(source)
    calendar = standard(parse(data, source), report)
    target = existing.timezone if existing is not None else target_zone(calendar, timezone)
    starts = [n for n, line in enumerate(data.splitlines(), start=1) if line.strip().upper() == b"BEGIN:VEVENT"]
    events, places = convert(calendar, target, report, starts)
    for _ in range(len(events) + 1):
        if existing is not None:
            text = _merge(existing_text, existing, events, places, report, str(out))
        else:
            text = _header(calendar, target, base_url, report) + tomlfile.places_text(places) + tomlfile.events_text(events, set())
        try:
            build_calendar(loading.parse(text, str(out)))
            break
        except CalendarErrors as errors:
            events = _repaired(events, errors, existing, report)
    else:
        raise ImportFailed("the imported calendar would not be valid, so nothing was written")
    if text != existing_text:
        tomlfile.write_atomically(out, text)
    return report


def _moved_start(event: Imported, first: str) -> bool:
    """RFC 5545 counts a DTSTART off the rule as an occurrence; calfeed wants
    the first date of the rule: start there and keep the old start as an rdate."""
    fields = event.fields
    old = fields["start"]
    new = datetime.fromisoformat(first) if "T" in first else date.fromisoformat(first)
    if isinstance(old, datetime) != isinstance(new, datetime):
        return False
    shift = new - old
    fields["start"] = new
    if isinstance(fields.get("end"), (date, datetime)):
        fields["end"] += shift
    fields["rdates"] = [old, *fields.get("rdates", [])]
    count = re.search(r"COUNT=(\d+)", fields["rrule"])
    if count:  # the old start was one of the COUNT
        remaining = int(count.group(1)) - 1
        fields["rrule"] = fields["rrule"].replace(count.group(0), f"COUNT={remaining}") if remaining else re.sub(r";?COUNT=\d+", "", fields["rrule"]) + ";COUNT=1"
    return True


def _repair(event: Imported, field: str | None, message: str, report: Report) -> bool:
    """Fix what real feeds often carry; False when the event cannot be fixed."""
    label = f'"{event.fields["title"][:50]}"'
    if field == "exdates" and "is not a date of the series" in message:
        stale = message.split(" ", 1)[0]
        kept = [d for d in event.fields.get("exdates", []) if d.isoformat() != stale and not (isinstance(d, datetime) and d.time() == datetime.min.time() and d.date().isoformat() == stale)]
        if len(kept) < len(event.fields.get("exdates", [])):
            event.fields["exdates"] = kept
            if not kept:
                del event.fields["exdates"]
            report.notes.append(f"{label}: EXDATE {stale} removed, it matches no date of the series")
            return True
    if field == "start" and (first := re.search(r"first date, (\S+)$", message)):
        if _moved_start(event, first.group(1)):
            report.notes.append(f"{label}: DTSTART is off the rule; the series starts on {first.group(1)} and the old start is kept as an RDATE")
            return True
    return False


def _repaired(events: list[Imported], errors: CalendarErrors, existing, report: Report) -> list[Imported]:
    """The events with fixable problems fixed and the others left out, each
    named in the report with why."""
    offset = len(existing.events) if existing is not None else 0
    bad: dict[int, str] = {}
    for problem in errors.problems:
        match = re.search(r"\(#(\d+)\)", problem.where or "")
        if match is None:
            raise ImportFailed(f"the imported calendar would not be valid, so nothing was written:\n{errors.report()}")
        position = int(match.group(1)) - 1 - offset
        if 0 <= position < len(_fresh(events, existing)) and _repair(_fresh(events, existing)[position], problem.field, problem.message, report):
            continue
        bad.setdefault(position, f"{problem.field}: {problem.message}")
    fresh = _fresh(events, existing)
    kept = []
    for position, event in enumerate(fresh):
        if position in bad:
            report.notes.append(f'"{event.fields["title"][:50]}": left out, calfeed cannot serve it as written ({bad[position]})')
        else:
            kept.append(event)
    report.events -= len(fresh) - len(kept)
    return kept


def _length(fields: dict[str, Any]) -> timedelta | None:
    start, end = fields.get("start"), fields.get("end")
    if end is None:
        return None
    if not isinstance(start, datetime):
        return end - start
    return end - start if (start.tzinfo is None) == (end.tzinfo is None) else None


def _plus(start: date | datetime, length: timedelta) -> date | datetime:
    return start + length

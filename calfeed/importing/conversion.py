"""iCalendar components → the fields of events.toml an editor would have written.

icalendar parses the source (it resolves VTIMEZONEs placed anywhere, Windows
zone names and X-WR-TIMEZONE with x-wr-timezone); this module maps each
component to the fields of events.toml, keeps rules as rules, and says what
it could not carry over. ``tomlfile`` writes the text.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import icalendar
import x_wr_timezone
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from calfeed import tomlfile
from calfeed.importing.report import Report
from calfeed.slugs import slugify
from calfeed.timezones import UTC, LocalTimeError, current_rules, localize, zone, zone_names
from calfeed.validation import STATUSES, _CONTROL, is_http_url

_UTC_NAMES = {"UTC", "UCT", "GMT", "Zulu", "Universal", "Greenwich", "GMT0", "GMT+0", "GMT-0"}
# Components other than these are not events and are not carried over.
_IGNORED_PROPERTIES = {"ATTENDEE", "RESOURCES", "COMMENT", "CONTACT"}

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



@dataclass
class Conversion:
    """One source being converted: the report, the places made, and the
    events so far, kept apart until ``finish`` puts changed dates under
    their series."""

    timing: Timing
    report: Report
    places: dict[str, dict[str, Any]] = field(default_factory=dict)  # slug → fields
    place_of: dict[str, str] = field(default_factory=dict)  # LOCATION text → slug
    masters: dict[str, Imported] = field(default_factory=dict)  # by UID
    changes: dict[str, list[tuple[date | datetime, dict[str, Any]]]] = field(default_factory=dict)  # by the series' UID
    loose: list[Imported] = field(default_factory=list)  # no UID, or one already taken

    def make_places(self, components: list) -> None:
        """A place for each LOCATION used twice, or given with coordinates (GEO needs a place)."""
        locations = Counter(str(e.get("LOCATION")).strip() for e in components if e.get("LOCATION"))
        with_geo = {str(e.get("LOCATION")).strip() for e in components if e.get("LOCATION") and e.get("GEO")}
        for text, count in sorted(locations.items()):
            if (count >= 2 or text in with_geo) and slugify(text):
                slug = slugify(text.split(",")[0])[:60].strip("-") or "luogo"
                while slug in self.places:
                    slug += "-2"
                name, _, address = text.partition(", ")
                self.places[slug] = {"name": name.strip(), **({"address": address.strip()} if address.strip() else {})}
                self.place_of[text] = slug

    def add(self, component, where: str = "") -> None:
        """Convert one VEVENT into ``masters``, ``changes`` or ``loose``."""
        report, timing = self.report, self.timing
        uid = str(component.get("UID", "")).strip() or None
        title = (_text(component, "SUMMARY", report, f"{where}an event") or "Senza titolo").replace("\n", " ")
        label = f'{where}"{title[:50]}"' + (f" ({uid})" if uid else "")
        if "DTSTART" not in component:
            report.notes.append(f"{label}: no DTSTART; left out")
            return
        start = component.decoded("DTSTART")
        zone_name = _zone_for(component, timing)
        fields: dict[str, Any] = {"title": title}
        if zone_name != timing.target:
            fields["timezone"] = zone_name
        fields.update(_times(component, timing, zone_name, label, report))
        location = str(component.get("LOCATION", "")).strip()
        if location in self.place_of:
            place = self.places[self.place_of[location]]
            fields["place"] = self.place_of[location]
            geo = component.get("GEO")
            if geo is not None and "geo" not in place:
                place["geo"] = [geo.latitude, geo.longitude]
        elif location:
            fields["location"] = _CONTROL.sub("", location)
        fields.update(_details(component, label, report))
        if "RECURRENCE-ID" in component and uid:
            original = component.decoded("RECURRENCE-ID")
            self.changes.setdefault(uid, []).append((timing.value(original, zone_name), fields))
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
        if uid and uid in self.masters:
            report.notes.append(f"{label}: a second event with UID {uid}; imported as a separate event with a new UID")
            fields.pop("uid")
            self.loose.append(item)
        elif uid:
            self.masters[uid] = item
        else:
            report.notes.append(f"{label}: no UID in the source; calfeed gives it one")
            self.loose.append(item)

    def finish(self) -> list[Imported]:
        """The events, changed dates under their series, in time order."""
        for uid, items in self.changes.items():
            master = self.masters.get(uid)
            if master is None:
                self.report.notes.append(f"changed date(s) of {uid} left out: the series itself is not in the source")
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
        return sorted([*self.masters.values(), *self.loose], key=lambda item: item.sort_key)


def convert(
    calendar: icalendar.Calendar, target: str, report: Report, lines: list[int] | None = None
) -> tuple[list[Imported], dict[str, dict[str, Any]]]:
    """Every event of the source, grouped with its changed dates, and the
    places; ``lines`` are where each VEVENT begins, for the report."""
    conversion = Conversion(Timing(target), report)
    components = calendar.walk("VEVENT")
    conversion.make_places(components)
    for position, component in enumerate(components):
        where = f"line {lines[position]}: " if lines and position < len(lines) else ""
        try:
            conversion.add(component, where)
        except Exception as error:  # one unreadable event must not sink the others
            summary = str(component.get("SUMMARY", "?"))[:50]
            report.notes.append(f'{where}"{summary}": left out, it cannot be read ({type(error).__name__}: {str(error)[:120]})')
    return conversion.finish(), conversion.places

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


def header(calendar: icalendar.Calendar, target: str, base_url: str | None, report: Report) -> str:
    """The [calendar] table of a new file, from the source's name and description."""
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


def _length(fields: dict[str, Any]) -> timedelta | None:
    start, end = fields.get("start"), fields.get("end")
    if end is None:
        return None
    if not isinstance(start, datetime):
        return end - start
    return end - start if (start.tzinfo is None) == (end.tzinfo is None) else None


def _plus(start: date | datetime, length: timedelta) -> date | datetime:
    return start + length

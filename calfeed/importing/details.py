"""The other properties of an iCalendar event → events.toml fields: text,
links, categories, organizer, status; what cannot be carried over is named
in the report.
"""

from __future__ import annotations

import html
import re
from typing import Any

from calfeed.importing.report import Report
from calfeed.slugs import slugify
from calfeed.timezones import UTC
from calfeed.validation import STATUSES, CONTROL_CHARACTERS, is_http_url

# Properties events.toml has no field for: named in the report.
_IGNORED_PROPERTIES = {"ATTENDEE", "RESOURCES", "COMMENT", "CONTACT"}


def text_of(component, name: str, report: Report, label: str) -> str | None:
    """A TEXT property as events.toml keeps it: one value, no control characters."""
    value = component.get(name)
    if value is None:
        return None
    if isinstance(value, list):  # the property repeated: the first one counts
        report.notes.append(f"{label}: {name} given {len(value)} times; the first is kept")
        value = value[0]
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    cleaned = CONTROL_CHARACTERS.sub("", text)
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


def _without_link_block(text: str, links: list[str]) -> str:
    """The description without the closing block of links that calfeed (and
    others) append for clients that ignore CONFERENCE and ATTACH."""
    head, _, last = text.rpartition("\n\n")
    lines = last.split("\n")
    if links and all(line.removeprefix("Online: ") in links for line in lines):
        return head.strip()
    return text


def details(component, label: str, report: Report) -> dict[str, Any]:
    """Description, categories, links, image, organizer, status, sequence and
    updated, as events.toml fields; properties it has no field for are named."""
    fields: dict[str, Any] = {}
    if (text := text_of(component, "DESCRIPTION", report, label)) is not None:
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


def _plain(text: str) -> str:
    """Plain text from a description that some publishers write in HTML."""
    if re.search(r"</?(p|br|div|a|strong|em|b|i|ul|ol|li|span)\b[^>]*>", text, re.IGNORECASE):
        text = re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)
        text = re.sub(r"</(p|div|li|ul|ol)>", "\n\n", text, flags=re.IGNORECASE)
        text = re.sub(r"<[^>]+>", "", text)
        text = re.sub(r"\n{3,}", "\n\n", text)
    return html.unescape(text).strip()

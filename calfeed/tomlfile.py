"""Writing events.toml: readable TOML, in the order an editor writes it."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from calfeed.slugs import slugify
from calfeed.timezones import UTC

EVENT_ORDER = (
    "id", "title", "start", "end", "duration", "timezone", "place", "location", "categories", "description",
    "url", "online", "attachments", "image", "organizer", "rrule", "exdates", "rdates", "status", "sequence",
    "updated", "uid", "recurrence_id",
)


def value(item: Any) -> str:
    """A TOML value.

    >>> value("Sala \\"A\\""), value([1, "b"]), value(datetime(2021, 12, 1, 18)), value({"name": "Labsus"})
    ('"Sala \\\\"A\\\\""', '[1, "b"]', '2021-12-01T18:00:00', '{ name = "Labsus" }')
    """
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (int, float)):
        return repr(item)
    if isinstance(item, datetime):
        if item.tzinfo is not None and item.utcoffset() == UTC.utcoffset(None):
            return item.replace(tzinfo=None).isoformat() + "Z"
        return item.isoformat()
    if isinstance(item, date):
        return item.isoformat()
    if isinstance(item, str):
        return json.dumps(item, ensure_ascii=False)
    if isinstance(item, list):
        return "[" + ", ".join(value(v) for v in item) + "]"
    return "{ " + ", ".join(f"{k} = {value(v)}" for k, v in item.items()) + " }"


def _text(item: str) -> str:
    """Several lines of text as a TOML multi-line string."""
    if "\n" not in item:
        return value(item)
    body = item.replace("\\", "\\\\").replace('"', '\\"')
    return '"""\n' + body + '"""'


CALENDAR_ORDER = ("name", "description", "timezone", "base_url", "language", "refresh", "past_days")
PLACE_ORDER = ("name", "address", "geo", "url")


def table(fields: dict[str, Any], order: tuple[str, ...] = EVENT_ORDER) -> list[str]:
    """Key lines in the order an editor reads them."""
    lines = []
    for key in sorted(fields, key=lambda k: order.index(k) if k in order else len(order)):
        item = fields[key]
        lines.append(f"{key} = {_text(item) if key == 'description' else value(item)}")
    return lines


def unique_id(title: str, taken: set[str]) -> str:
    """An id from a title: ASCII slug, at most 60 characters, not yet taken.

    >>> unique_id("Festa di Primavera!", {"festa-di-primavera"})
    'festa-di-primavera-2'
    """
    base = slugify(title)
    if len(base) > 40:  # cut at a word
        base = base[:41].rsplit("-", 1)[0]
    base = base.strip("-") or "evento"
    ident, n = base, 2
    while ident in taken:
        ident, n = f"{base}-{n}", n + 1
    taken.add(ident)
    return ident


def events_text(events, taken: set[str]) -> str:
    """The [[events]] tables (with their [[events.overrides]]) of imported events."""
    out = []
    for event in events:
        fields = {"id": unique_id(event.fields["title"], taken), **event.fields}
        out += ["", "[[events]]", *table(fields)]
        for override in event.overrides:
            out += ["", "[[events.overrides]]", *table(override, ("recurrence_id", *EVENT_ORDER))]
    return "\n".join(out) + "\n"


def places_text(places: dict[str, dict[str, Any]]) -> str:
    out = []
    for slug, fields in places.items():
        out += ["", f"[places.{slug}]", *table(fields, PLACE_ORDER)]
    return "\n".join(out) + "\n" if out else ""


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` in one step: a reader sees the old file or the new one."""
    path = path.absolute()
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

"""Writing events.toml: readable TOML, in the order an editor writes it."""

from __future__ import annotations

import json
import os
import stat
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


def write_atomically(path: Path | str, text: str, mode: int | None = None) -> None:
    """Replace the file at ``path`` in one step: a reader sees the old file or
    the new one, never a part, and after a crash one of them is on disk.

    A symlink stays a link: the file it points to is replaced (the temporary
    file is made beside that target, so the rename stays on one file system),
    with the target's permissions; a new file gets the usual 0666 less umask.
    ``mode`` sets the permissions instead (the temporary file is 0600 from
    its first byte, so a secret is never readable by others on the way).
    """
    target = Path(os.path.realpath(path))
    if mode is None:
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)  # the rename itself survives a crash
    finally:
        os.close(folder)


def _umask() -> int:
    """The process's umask, read without changing it (os.umask can only set
    it, and a moment of umask 0 would leak to other threads' new files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022

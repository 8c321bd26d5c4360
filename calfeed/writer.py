"""Saving one event into events.toml, as an editor would have typed it.

Only the edited [[events]] table changes: everything else in the file
(comments, order, blank lines, formatting) stays byte for byte, and in the
table only the keys whose value changed are rewritten (tomlkit), plus
``updated`` and, when the time, rule or status changed, ``sequence``.

A save is serialised across processes by a lock file beside the real file,
checked with the same checker as ``calfeed check`` before anything is
written, written in one step (``tomlfile.write_atomically``) and, in a git
work tree, committed (``history``). The version token a form carries says
which file and which version of the event it was read from, so a save knows
whether its own event changed since (a conflict) or only others (applied on
top of the current file).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomlkit
from tomlkit.items import AoT, String, StringType, Table, Trivia

from calfeed import history, loading, tomlfile
from calfeed.model import Calendar
from calfeed.reuse import EventReuse, digest
from calfeed.slugs import slugify
from calfeed.validation import DEFAULT_TIMEZONE, build_calendar

# Keys whose change makes clients replace their copy of the event (RFC 5545 SEQUENCE).
SEQUENCE_KEYS = frozenset({"start", "end", "duration", "timezone", "rrule", "exdates", "rdates", "status"})
# Keys the writer keeps itself: what a form sends for them is ignored.
OWN_KEYS = frozenset({"id", "updated", "sequence"})
MAX_ID = 80
# A save waits this long for another save to finish before giving up.
LOCK_TIMEOUT = 30.0
# A hand edit landing during a save makes the save start again, at most this often.
ATTEMPTS = 3

_NO_EVENT = "-"
# A line that opens a table; strings and comments are matched first so that a
# "[[events]]" inside them is skipped.
_TOKENS = re.compile(
    r'''(?P<skip>"""(?:\\.|[^"\\]|"(?!""))*"{3,5}|\'\'\'.*?\'{3,5}|"(?:\\.|[^"\\\n])*"|'[^'\n]*'|\#[^\n]*)'''
    r"|(?P<header>^[ \t]*\[[^\n]*)",
    re.S | re.M,
)
_HEADER = re.compile(r"^[ \t]*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")


class SaveConflict(Exception):
    """The event changed since the form was read: nothing was written."""

    def __init__(self, event_id: str | None, theirs: dict | None, current_version: str):
        self.event_id = event_id
        self.theirs = theirs  # the event as now in the file; None: it was deleted
        self.current_version = current_version
        super().__init__(f'event "{event_id}" changed since the form was read')


class FileChanged(Exception):
    """The file is no longer the version a whole-file change was made from:
    nothing was written."""


class CannotUndo(Exception):
    """An earlier save cannot be taken back automatically: nothing was written."""


class UnknownEvent(KeyError):
    """No event has this id (and the form did not see one either)."""


class UnknownPlace(KeyError):
    """No [places.<slug>] table has this slug."""


class PlaceInUse(Exception):
    """A place events still name cannot be deleted: nothing was written."""

    def __init__(self, slug: str, events: list[tuple[str, str]]):
        self.slug = slug
        self.events = events  # (id, title) of each event naming it
        super().__init__(f'place "{slug}" is used by {len(events)} events')


class Saved(NamedTuple):
    event_id: str
    version: str  # the new file's version token for this event
    calendar: Calendar  # the validated calendar of the new file
    raw: bytes  # the new file, for ``CalendarStore.accept``


class _Snapshot(NamedTuple):
    """The file as read once: its text, parsed data and fingerprint."""

    text: str
    data: dict
    file_digest: str
    signature: tuple
    bom: str  # a byte order mark the file starts with, kept

    def index(self, event_id: str) -> int | None:
        for index, event in enumerate(self.events):
            if isinstance(event, dict) and event.get("id") == event_id:
                return index
        return None

    @property
    def events(self) -> list:
        events = self.data.get("events", [])
        return events if isinstance(events, list) else []

    def event_digest(self, event_id: str | None) -> str:
        index = self.index(event_id) if event_id is not None else None
        return _NO_EVENT if index is None else digest(self.events[index]).hex()

    def version(self, event_id: str | None) -> str:
        return f"{self.file_digest}.{self.event_digest(event_id)}"

    def table(self, key: tuple[str, ...]) -> dict | None:
        """A table other than [[events]]: ``("calendar",)`` or ``("places", slug)``."""
        node: Any = self.data
        for part in key:
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else None

    def table_version(self, key: tuple[str, ...]) -> str:
        table = self.table(key)
        return f"{self.file_digest}.{_NO_EVENT if table is None else digest(table).hex()}"


def _signature(path: Path) -> tuple:
    stat = os.stat(path)
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


class SourceFile:
    """events.toml as the editor reads and writes it."""

    def __init__(
        self,
        path: str | Path,
        base_url: str | None = None,
        now: Callable[[str], datetime] | None = None,
    ):
        self.path = Path(path)
        self.base_url = base_url
        # now(zone name) -> the wall-clock time there; tests pass a fixed one.
        self.now = now or (lambda zone: datetime.now(ZoneInfo(zone)))
        self._reuse = EventReuse()
        self._snapshot: _Snapshot | None = None

    # Reading

    def _read(self) -> _Snapshot:
        """The file now, parsed once per version (a 10,000-event file takes a second)."""
        signature = _signature(self.path)
        if self._snapshot is not None and self._snapshot.signature == signature:
            return self._snapshot
        raw = self.path.read_bytes()
        source = loading.decode(raw, str(self.path))
        # The text as written (line ends included): the parts not edited are copied from it.
        text = raw.decode("utf-8")
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        snapshot = _Snapshot(text[len(bom):], source.data, _file_digest(raw), signature, bom)
        self._snapshot = snapshot
        return snapshot

    def _parse(self, text: str) -> loading.Source:
        """A new text of the file, parsed to be checked with ``_reuse``: the
        parse of a long file makes the tables' fingerprints on the way."""
        return loading.parse(text, str(self.path), fingerprints=True)

    def read(self) -> tuple[str, str]:
        """The file's text and its version (``version_of(None)``)."""
        snapshot = self._read()
        return snapshot.text, snapshot.version(None)

    def version_of(self, event_id: str | None) -> str:
        """The token a form for this event carries: ``<file digest>.<event digest>``
        (``-`` for a new or missing event)."""
        return self._read().version(event_id)

    def event_fields(self, event_id: str) -> dict | None:
        """The event's values as the file has them (None when there is no such event)."""
        snapshot = self._read()
        index = snapshot.index(event_id)
        return None if index is None else dict(snapshot.events[index])

    # Writing

    def save_event(self, event_id: str | None, fields: dict, version: str, author: str, subject: str | None = None) -> Saved:
        """Create (``event_id`` None) or change one event; see the module's docstring.

        A key of ``fields`` with value None, "" or [] is removed from the
        table; keys not in ``fields`` stay as they are; ``id``, ``updated``
        and ``sequence`` are the writer's. ``subject`` replaces the history's
        usual "Aggiunto: <title>" (an approved proposal says who proposed it).
        """
        changes = {key: _normal(value) for key, value in fields.items() if key not in OWN_KEYS}
        return self._change(event_id, version, author, lambda snapshot, index: self._edit(snapshot, index, event_id, changes), subject)

    def preview_event(self, event_id: str | None, fields: dict) -> tuple[str, Calendar]:
        """What ``save_event`` would make of the file, checked by the same
        checker, without writing anything: the event's id and the calendar.
        Raises ``CalendarErrors`` as a save would."""
        changes = {key: _normal(value) for key, value in fields.items() if key not in OWN_KEYS}
        snapshot = self._read()
        index = snapshot.index(event_id) if event_id is not None else None
        if event_id is not None and index is None:
            raise UnknownEvent(event_id)
        text, new_id, *_ = self._edit(snapshot, index, event_id, changes)
        return new_id, build_calendar(self._parse(text), self.base_url, self._reuse)

    def delete_event(self, event_id: str, version: str, author: str) -> Saved:
        """Remove one event (with its overrides); the same rules as ``save_event``."""
        return self._change(event_id, version, author, lambda snapshot, index: self._delete(snapshot, index, event_id))

    def override_fields(self, event_id: str, recurrence_id: date | datetime) -> dict | None:
        """The ``[[events.overrides]]`` table of one date of the series, as the file has it (None: none)."""
        event = self.event_fields(event_id)
        found = _override_position(event or {}, recurrence_id, _event_zone(self._read().data, event or {}))
        return None if found is None else dict(event["overrides"][found])

    def save_override(self, event_id: str, recurrence_id: date | datetime, fields: dict | None, version: str, author: str) -> Saved:
        """Cancel, move or restore one date of a series: the date's
        ``[[events.overrides]]`` table gets ``fields`` (None, "" or [] removes
        a key), is written after the event's table and its other overrides
        when new, or is removed when ``fields`` is None. The event's own
        ``sequence`` rises and ``updated`` is set; the rules of ``save_event``
        (version, lock, checker, atomic write, history) hold."""
        changes = None if fields is None else {key: _normal(value) for key, value in fields.items() if key != "recurrence_id"}
        return self._change(event_id, version, author,
                            lambda snapshot, index: self._override(snapshot, index, recurrence_id, changes))

    def _change(self, event_id: str | None, version: str, author: str, make: Callable, subject: str | None = None) -> Saved:
        with locked(self.path):
            for _ in range(ATTEMPTS):
                snapshot = self._read()
                self._check_version(snapshot, event_id, version)
                index = snapshot.index(event_id) if event_id is not None else None
                if event_id is not None and index is None:
                    raise UnknownEvent(event_id)
                text, new_id, title, action, expected = make(snapshot, index)
                source = self._parse(text)
                _check_result(snapshot, source.data, expected)
                calendar = build_calendar(source, self.base_url, self._reuse)
                if _signature(self.path) != snapshot.signature:
                    continue  # edited by hand meanwhile: start again from that version
                return self._write(snapshot, text, source.data, calendar, new_id, action, title, author, subject=subject)
        raise TimeoutError(f"{self.path} kept changing during the save; try again")

    def _write(self, snapshot: _Snapshot, text: str, data: dict, calendar: Calendar, event_id: str,
               action: str, title: str, author: str, key: tuple[str, ...] | None = None,
               subject: str | None = None) -> Saved:
        """Write the checked new text (under the lock) and record the save:
        a commit in a git work tree, else a line of the change log. ``key``
        names the table saved when it is not an event's; ``subject`` replaces
        the usual message (an approved proposal says who proposed it)."""
        _remove_stray_temporaries(self.path)
        raw = (snapshot.bom + text).encode("utf-8")
        tomlfile.write_atomically(self.path, snapshot.bom + text)
        self._snapshot = _Snapshot(text, data, _file_digest(raw), _signature(self.path), snapshot.bom)
        if history.in_work_tree(self.path):
            history.commit(self.path, subject or history.message(action, title, calendar.language), author)
        else:
            moment = self.now(_zone_of(data)).replace(microsecond=0).isoformat()
            texts = (_table_text(snapshot, event_id), _table_text(self._snapshot, event_id)) if key is None else (
                _key_text(snapshot, key), _key_text(self._snapshot, key))
            entry = history.log_entry(action, event_id if key is None else None, str(title), author, moment, *texts,
                                      history.Patch.between(snapshot.text, text))
            if key is not None:
                entry["table"] = list(key)
            if subject:
                entry["subject"] = subject
            history.append(self.path, entry)
        version = self._snapshot.version(event_id) if key is None else self._snapshot.table_version(key)
        return Saved(event_id, version, calendar, raw)

    def undo(self, patch: history.Patch, touched: dict[str | tuple, tuple[dict | None, dict | None]], author: str) -> Saved:
        """Take back one earlier save, as a new save: ``patch`` applied
        backwards. ``touched`` maps each event the save changed (by id), and
        each other table (by key, as ``touched_tables`` gives them), to its
        table before and after it (None: absent). If any of them changed since,
        nothing is written (``SaveConflict``); if the lines around the change
        are gone, nothing is written either (``CannotUndo``)."""
        if not touched:
            raise CannotUndo("the change touched no event")
        with locked(self.path):
            for _ in range(ATTEMPTS):
                snapshot = self._read()
                for event_id, (_, after) in touched.items():
                    if isinstance(event_id, tuple):
                        if snapshot.table(event_id) != after:
                            raise SaveConflict(event_id, snapshot.table(event_id), snapshot.table_version(event_id))
                        continue
                    index = snapshot.index(event_id)
                    if (None if index is None else snapshot.events[index]) != after:
                        raise SaveConflict(event_id, self.event_fields(event_id), snapshot.version(event_id))
                text = patch.undo(snapshot.text)
                if text is None:
                    raise CannotUndo("the lines around the change are no longer in the file")
                source = self._parse(text)
                _check_undone(snapshot, source.data, touched)
                calendar = build_calendar(source, self.base_url, self._reuse)
                if _signature(self.path) != snapshot.signature:
                    continue
                event_id = next(iter(touched))
                title = ", ".join(change_title(key, b, a) for key, (b, a) in touched.items())
                if isinstance(event_id, tuple):
                    return self._write(snapshot, text, source.data, calendar, event_id[-1], "undone", title, author, event_id)
                return self._write(snapshot, text, source.data, calendar, event_id, "undone", title, author)
        raise TimeoutError(f"{self.path} kept changing during the save; try again")

    def replace_text(self, text: str, version: str, subject: str, author: str) -> Saved:
        """Write a whole new text made from the file's version ``version``
        (``read()``'s), as the browser's import does after its preview:
        refused (``FileChanged``) when the file changed since, in any way;
        checked like any save; recorded as one commit (or log line) with
        ``subject`` as its message."""
        with locked(self.path):
            snapshot = self._read()
            if snapshot.version(None) != version:
                raise FileChanged(f"{self.path} changed since the preview")
            source = self._parse(text)
            calendar = build_calendar(source, self.base_url, self._reuse)
            if _signature(self.path) != snapshot.signature:
                raise FileChanged(f"{self.path} changed during the import")
            _remove_stray_temporaries(self.path)
            raw = (snapshot.bom + text).encode("utf-8")
            tomlfile.write_atomically(self.path, snapshot.bom + text)
            self._snapshot = _Snapshot(text, source.data, _file_digest(raw), _signature(self.path), snapshot.bom)
            if history.in_work_tree(self.path):
                history.commit(self.path, subject, author)
            else:
                moment = self.now(_zone_of(source.data)).replace(microsecond=0).isoformat()
                entry = history.log_entry("imported", "", subject, author, moment, None, None,
                                          history.Patch.between(snapshot.text, text))
                entry["id"] = None  # many events at once: listed, not undone from the log
                history.append(self.path, entry)
            return Saved("", self._snapshot.version(None), calendar, raw)

    # Places and the calendar's settings: one table each, with the same
    # guarantees as an event (checked, locked, atomic, recorded).

    def place_fields(self, slug: str) -> dict | None:
        """The place's values as the file has them (None when there is no such place)."""
        table = self._read().table(("places", slug))
        return None if table is None else dict(table)

    def calendar_fields(self) -> dict:
        """The [calendar] table's values as the file has them."""
        return dict(self._read().table(CALENDAR) or {})

    def version_of_place(self, slug: str | None) -> str:
        """The token a place's form carries: ``<file digest>.<table digest>``
        (``-`` for a new or missing place)."""
        snapshot = self._read()
        return snapshot.version(None) if slug is None else snapshot.table_version(("places", slug))

    def version_of_calendar(self) -> str:
        return self._read().table_version(CALENDAR)

    def events_at(self, slug: str) -> list[tuple[str, str]]:
        """(id, title) of the events (or one of their dates) at this place."""
        return _events_at(self._read(), slug)

    def save_place(self, slug: str | None, fields: dict, version: str, author: str) -> Saved:
        """Create (``slug`` None: the slug is made from the name, unique, and
        never changes) or change one [places.<slug>] table. Keys as in
        ``save_event``: None, "" or [] removes a key, absent keys stay."""
        changes = {key: _normal(value) for key, value in fields.items()}

        def make(snapshot: _Snapshot) -> tuple:
            if slug is not None:
                return _edit_table(snapshot, ("places", slug), changes, tomlfile.PLACE_ORDER) + ("changed-place",)
            places = snapshot.data.get("places")
            new = unique_id(str(changes.get("name") or ""), set(places) if isinstance(places, dict) else set(), "luogo")
            return _add_place(snapshot, new, changes) + ("added-place",)

        return self._change_table(None if slug is None else ("places", slug), version, author, make)

    def delete_place(self, slug: str, version: str, author: str) -> Saved:
        """Remove a place no event names; one that events name is refused
        (``PlaceInUse``, with those events) and nothing is written."""
        def make(snapshot: _Snapshot) -> tuple:
            users = _events_at(snapshot, slug)
            if users:
                raise PlaceInUse(slug, users)
            key = ("places", slug)
            start, end = _key_span(snapshot, key)
            head, tail = snapshot.text[:start], snapshot.text[end:]
            text = head + tail if tail else head.rstrip("\n") + "\n"
            return text, key, None, "deleted-place"

        return self._change_table(("places", slug), version, author, make)

    def save_calendar(self, fields: dict, version: str, author: str) -> Saved:
        """Change the [calendar] settings. ``base_url`` is left alone while
        CALFEED_BASE_URL overrides it: the file's value would not be served."""
        changes = {key: _normal(value) for key, value in fields.items() if not (key == "base_url" and self.base_url)}
        return self._change_table(
            CALENDAR, version, author,
            lambda snapshot: _edit_table(snapshot, CALENDAR, changes, tomlfile.CALENDAR_ORDER) + ("changed-settings",),
        )

    def _change_table(self, key: tuple[str, ...] | None, version: str, author: str, make: Callable) -> Saved:
        """``_change`` for one table other than [[events]]: ``make`` returns
        the new text, the table's key, its new values (None: removed) and the
        action; the result must differ from the file in that table only."""
        with locked(self.path):
            for _ in range(ATTEMPTS):
                snapshot = self._read()
                if key is not None:
                    if snapshot.table(key) is None:
                        raise UnknownPlace(key[-1]) if key[0] == "places" else _unsafe()
                    self._check_table_version(snapshot, key, version)
                text, saved_key, values, action = make(snapshot)
                source = self._parse(text)
                if _without(source.data, saved_key) != _without(snapshot.data, saved_key) or (
                    _lookup(source.data, saved_key) != values
                ):
                    raise RuntimeError("the change would alter other parts of the file; nothing was written")
                calendar = build_calendar(source, self.base_url, self._reuse)
                if _signature(self.path) != snapshot.signature:
                    continue
                old = snapshot.table(saved_key) or {}
                name = str((values or old).get("name", saved_key[-1])) if saved_key[0] == "places" else ""
                return self._write(snapshot, text, source.data, calendar, saved_key[-1], action, name, author, saved_key)
        raise TimeoutError(f"{self.path} kept changing during the save; try again")

    def _check_table_version(self, snapshot: _Snapshot, key: tuple[str, ...], version: str) -> None:
        """A conflict only when this table changed since ``version``."""
        file_part, _, table_part = version.partition(".")
        if file_part == snapshot.file_digest:
            return
        current = snapshot.table_version(key)
        if table_part and table_part == current.partition(".")[2]:
            return
        raise SaveConflict(key[-1], snapshot.table(key), current)

    def _check_version(self, snapshot: _Snapshot, event_id: str | None, version: str) -> None:
        file_part, _, event_part = version.partition(".")
        if file_part == snapshot.file_digest or event_id is None:
            return
        if event_part and event_part == snapshot.event_digest(event_id):
            return  # only other events changed
        raise SaveConflict(event_id, self.event_fields(event_id), snapshot.version(event_id))

    def _edit(self, snapshot: _Snapshot, index: int | None, event_id: str | None, changes: dict) -> tuple:
        zone = _zone_of(snapshot.data)
        updated = self.now(zone).replace(tzinfo=None, second=0, microsecond=0)
        if index is None:
            taken = {e.get("id") for e in snapshot.events if isinstance(e, dict)}
            new_id = unique_id(str(changes.get("title") or ""), taken)
            values = {"id": new_id, **{k: v for k, v in changes.items() if not _empty(v)}, "updated": updated}
            table = tomlkit.table()
            for key in sorted(values, key=_order):
                table.add(key, _item(values[key]))
            chunk = tomlkit.document()
            chunk.append("events", tomlkit.aot())
            chunk["events"].append(table)
            text = snapshot.text.rstrip("\n")
            text = (text + "\n\n" if text else "") + chunk.as_string()
            return text, new_id, values.get("title", new_id), "added", [*snapshot.events, table.unwrap()]
        start, end = _span(snapshot, index)
        chunk = tomlkit.parse(snapshot.text[start:end])
        table = chunk["events"][0]
        old = snapshot.events[index]
        changed = {key for key, value in changes.items() if old.get(key) != (None if _empty(value) else value)}
        for key in sorted(changed, key=_order):
            if _empty(changes[key]):
                table.remove(key)
            else:
                _put(table, key, _item(changes[key]))
        if changed & SEQUENCE_KEYS:
            current = old.get("sequence", 0)
            _put(table, "sequence", (current if isinstance(current, int) else 0) + 1)
        _put(table, "updated", updated)
        text = snapshot.text[:start] + chunk.as_string() + snapshot.text[end:]
        expected = list(snapshot.events)
        expected[index] = table.unwrap()
        return text, event_id, expected[index].get("title", event_id), "changed", expected

    def _override(self, snapshot: _Snapshot, index: int, recurrence_id: date | datetime, changes: dict | None) -> tuple:
        """The file with one override of the event added, changed or removed
        (text between the tables kept as it is), and the event's ``sequence``
        and ``updated`` set."""
        old = snapshot.events[index]
        position = _override_position(old, recurrence_id, _event_zone(snapshot.data, old))
        if position is None and changes is None:
            raise RuntimeError("this date has no override to remove; nothing was written")
        updated = self.now(_zone_of(snapshot.data)).replace(tzinfo=None, second=0, microsecond=0)
        sequence = old.get("sequence", 0)
        sequence = (sequence if isinstance(sequence, int) else 0) + 1
        start, end = _span(snapshot, index)
        chunk = tomlkit.parse(snapshot.text[start:end])
        table = chunk["events"][0]
        _put(table, "sequence", sequence)
        _put(table, "updated", updated)
        text = chunk.as_string()
        newline = "\r\n" if "\r\n" in text else "\n"
        blocks = _override_blocks(text)
        overrides = [dict(o) for o in old.get("overrides", [])] if isinstance(old.get("overrides"), list) else []
        if len(blocks) != len(overrides):
            raise _unsafe()
        if changes is None:
            low, high = blocks[position]
            block = text[low:high]
            # The next override takes the removed one's place; the last one
            # leaves the blank lines that followed it.
            text = text[:low] + text[high:] if high < len(text) else text[:low].rstrip("\r\n") + block[len(block.rstrip("\r\n")):]
            del overrides[position]
        elif position is None:
            values = {"recurrence_id": recurrence_id, **{k: v for k, v in changes.items() if not _empty(v)}}
            lines = ["[[events.overrides]]"] + [
                f"{key} = {_item(values[key]).as_string()}" for key in sorted(values, key=_override_order)
            ]
            body = text.rstrip("\r\n")
            trail = text[len(body):]
            text = body + newline * 2 + newline.join(lines) + newline + trail[len(newline):]
            overrides.append(values)
        else:
            low, high = blocks[position]
            piece = tomlkit.parse(text[low:high])
            item = piece["events"]["overrides"][0]
            for key in sorted(changes, key=_override_order):
                if overrides[position].get(key) == (None if _empty(changes[key]) else changes[key]):
                    continue
                if _empty(changes[key]):
                    if key in item:
                        item.remove(key)
                else:
                    _put(item, key, _item(changes[key]))
            # An override with its own stamps would otherwise hide this change from clients.
            if isinstance(overrides[position].get("sequence"), int):
                _put(item, "sequence", overrides[position]["sequence"] + 1)
            if "updated" in item:
                _put(item, "updated", updated)
            text = text[:low] + piece.as_string() + text[high:]
            overrides[position] = item.unwrap()
        expected_event = {**old, "sequence": sequence, "updated": updated}
        if overrides:
            expected_event["overrides"] = overrides
        else:
            expected_event.pop("overrides", None)
        expected = list(snapshot.events)
        expected[index] = expected_event
        day = recurrence_id.date() if isinstance(recurrence_id, datetime) else recurrence_id
        action = "restored-date" if changes is None else "cancelled-date" if changes.get("status") == "cancelled" else "moved-date"
        title = f"{old.get('title', old.get('id'))} ({day.isoformat()})"
        return snapshot.text[:start] + text + snapshot.text[end:], old.get("id"), title, action, expected

    def _delete(self, snapshot: _Snapshot, index: int, event_id: str) -> tuple:
        start, end = _span(snapshot, index)
        head, tail = snapshot.text[:start], snapshot.text[end:]
        text = head + tail if tail else head.rstrip("\n") + "\n"
        expected = snapshot.events[:index] + snapshot.events[index + 1:]
        return text, event_id, snapshot.events[index].get("title", event_id), "deleted", expected


CALENDAR = ("calendar",)


def _override_order(key: str) -> int:
    return -1 if key == "recurrence_id" else _order(key)


def _event_zone(data: dict, event: dict) -> str:
    zone = event.get("timezone")
    return zone if isinstance(zone, str) and zone else _zone_of(data)


def _override_position(event: dict, recurrence_id: date | datetime, zone: str) -> int | None:
    """Which of the event's overrides changes this date (its
    ``recurrence_id`` written as local time, or with an offset)."""
    overrides = event.get("overrides")
    for position, item in enumerate(overrides if isinstance(overrides, list) else []):
        value = item.get("recurrence_id") if isinstance(item, dict) else None
        if isinstance(value, datetime) and value.tzinfo is not None:
            try:
                value = value.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
            except (ValueError, ZoneInfoNotFoundError):
                continue
        if value == recurrence_id and type(value) is type(recurrence_id):
            return position
    return None


def _override_blocks(text: str) -> list[tuple[int, int]]:
    """Where each ``[[events.overrides]]`` table stands in one event's text
    (from the comments above its header to the next header or the end); a
    text with other sub-tables is refused rather than guessed."""
    headers = []
    for match in _TOKENS.finditer(text):
        line = match.group("header")
        header = _HEADER.match(line) if line is not None else None
        if header is None:
            continue
        name = ".".join(part.strip().strip("\"'") for part in header.group(2).split("."))
        headers.append((name, header.group(1), match.start()))
    if not headers or headers[0][:2] != ("events", "[[") or any(h[:2] != ("events.overrides", "[[") for h in headers[1:]):
        raise _unsafe()
    starts = [_with_comments_above(text, where) for _, _, where in headers[1:]]
    return list(zip(starts, [*starts[1:], len(text)]))


def _edit_table(snapshot: _Snapshot, key: tuple[str, ...], changes: dict, order: tuple[str, ...]) -> tuple:
    """The file with the keys of one table that changed rewritten in place."""
    start, end = _key_span(snapshot, key)
    chunk = tomlkit.parse(snapshot.text[start:end])
    table: Any = chunk
    for part in key:
        table = table[part]
    old = snapshot.table(key) or {}
    for name in sorted(changes, key=lambda k: _order(k, order)):
        value = changes[name]
        if old.get(name) == (None if _empty(value) else value):
            continue
        if _empty(value):
            table.remove(name)
        else:
            _put(table, name, _item(value), order)
    text = snapshot.text[:start] + chunk.as_string() + snapshot.text[end:]
    return text, key, table.unwrap()


def _add_place(snapshot: _Snapshot, slug: str, changes: dict) -> tuple:
    """A new [places.<slug>] table after the last place (else after
    [calendar], else at the top), its keys in the usual order."""
    values = {k: v for k, v in changes.items() if not _empty(v)}
    lines = [f"[places.{slug}]"]
    lines += [f"{name} = {_item(values[name]).as_string()}" for name in sorted(values, key=lambda k: _order(k, tomlfile.PLACE_ORDER))]
    places = snapshot.data.get("places")
    after = [("places", other) for other in places] if isinstance(places, dict) and places else []
    after = after[-1:] or ([CALENDAR] if snapshot.table(CALENDAR) is not None else [])
    text = snapshot.text
    if after:
        _, end = _key_span(snapshot, after[0])
        # Right after the table's last line: the blank lines and comments that
        # follow stay with what follows.
        position = len(text[:end].rstrip(" \t\n"))
        position = text.find("\n", position) + 1 or len(text)
        head, tail = text[:position], text[position:]
        head = head if head.endswith("\n") or not head else head + "\n"
        text = head + "\n" + "\n".join(lines) + "\n" + ("\n" if tail and not tail.startswith("\n") else "") + tail
    else:
        text = "\n".join(lines) + "\n" + ("\n" + text if text else "")
    return text, ("places", slug), values


def _key_span(snapshot: _Snapshot, key: tuple[str, ...]) -> tuple[int, int]:
    """Where the table ``[a.b]`` for ``key`` stands in the text (as ``_span``
    for an event); a table written another way (inline, dotted keys) is
    refused rather than guessed."""
    wanted = ".".join(key)
    headers = []  # (name, where)
    for match in _TOKENS.finditer(snapshot.text):
        line = match.group("header")
        header = _HEADER.match(line) if line is not None else None
        if header is None:
            continue
        name = ".".join(part.strip().strip("\"'") for part in header.group(2).split("."))
        headers.append((name, header.group(1), match.start()))
    found = [where for name, brackets, where in headers if name == wanted and brackets == "["]
    if len(found) != 1:
        raise _unsafe()
    start = found[0]
    end = next((where for name, _, where in headers if where > start and not name.startswith(wanted + ".")), len(snapshot.text))
    start, end = _with_comments_above(snapshot.text, start), _with_comments_above(snapshot.text, end)
    chunk = loading.parse(snapshot.text[start:end], "").data
    if _lookup(chunk, key) != snapshot.table(key) or _without(chunk, key) != {}:
        raise _unsafe()
    return start, end


def _key_text(snapshot: _Snapshot, key: tuple[str, ...]) -> str | None:
    """The table as the file writes it (with its comments), or None."""
    try:
        start, end = _key_span(snapshot, key)
    except RuntimeError:
        return None
    return snapshot.text[start:end]


def _lookup(data: dict, key: tuple[str, ...]) -> Any:
    node: Any = data
    for part in key:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _without(data: dict, key: tuple[str, ...]) -> dict:
    """The data with one table left out (and a [places] left empty by it)."""
    if len(key) == 1:
        return {k: v for k, v in data.items() if k != key[0]}
    inner = _without(data.get(key[0]) or {}, key[1:]) if isinstance(data.get(key[0]), dict) else data.get(key[0])
    rest = {k: v for k, v in data.items() if k != key[0]}
    return {**rest, key[0]: inner} if inner else rest


def _events_at(snapshot: _Snapshot, slug: str) -> list[tuple[str, str]]:
    found = []
    for event in snapshot.events:
        if not isinstance(event, dict):
            continue
        overrides = event.get("overrides") if isinstance(event.get("overrides"), list) else []
        if event.get("place") == slug or any(isinstance(o, dict) and o.get("place") == slug for o in overrides):
            found.append((str(event.get("id", "")), str(event.get("title", event.get("id", "")))))
    return found


def unique_id(title: str, taken: set, fallback: str = "evento") -> str:
    """An event id from its title: ASCII slug, at most 80 characters, not yet taken.

    >>> unique_id("Festa di Primavera!", {"festa-di-primavera"}), unique_id("¿?", set())
    ('festa-di-primavera-2', 'evento')
    """
    base = slugify(title)[:MAX_ID].strip("-") or fallback
    ident, n = base, 2
    while ident in taken:
        suffix = f"-{n}"
        ident, n = base[: MAX_ID - len(suffix)].rstrip("-") + suffix, n + 1
    return ident


@contextmanager
def locked(path: str | Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the lock of events.toml: a ``.<name>.lock`` file beside the real
    file (through a symlink: beside its target). The lock file is never
    removed: removing it would let two processes hold two different locks."""
    target = Path(os.path.realpath(path))
    handle = os.open(target.parent / f".{target.name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another save of {target} has held its lock for {timeout:.0f} s") from None
                time.sleep(0.01)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _remove_stray_temporaries(path: Path) -> None:
    """Temporary files left by a save that was killed half-way. Called under
    the lock, so no other save is writing one now."""
    target = Path(os.path.realpath(path))
    for stray in target.parent.glob(f".{_glob_escape(target.name)}.*.tmp"):
        stray.unlink(missing_ok=True)


def _glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def _file_digest(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def _zone_of(data: dict) -> str:
    calendar = data.get("calendar")
    zone = calendar.get("timezone") if isinstance(calendar, dict) else None
    try:
        ZoneInfo(zone)
        return zone
    except (TypeError, ValueError, ZoneInfoNotFoundError):
        return DEFAULT_TIMEZONE


def _normal(value: Any) -> Any:
    """A form's value as the file holds it: text with Unix line ends."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n")
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _order(key: str, order: tuple[str, ...] = tomlfile.EVENT_ORDER) -> int:
    return order.index(key) if key in order else len(order)


def _item(value: Any) -> Any:
    """A TOML item written like the sample's: text with line breaks as a
    multi-line string opening on its own line, lists and tables inline."""
    if isinstance(value, str) and "\n" in value:
        escaped = String.from_raw(value, StringType.MLB).as_string()[3:-3]
        return String(StringType.MLB, value, escaped if escaped.startswith("\n") else "\n" + escaped, Trivia())
    if isinstance(value, dict):
        table = tomlkit.inline_table()
        for key, item in value.items():
            table[key] = _item(item)
        return table
    if isinstance(value, list):
        array = tomlkit.array()
        array.extend(_item(v) for v in value)
        return array
    if isinstance(value, (str, int, float, date)):
        return tomlkit.item(value)
    raise TypeError(f"cannot write {type(value).__name__} to events.toml")


def _put(table: Table, key: str, item: Any, order: tuple[str, ...] = tomlfile.EVENT_ORDER) -> None:
    """Set a key: in place when it exists (its comment stays), else on a new
    line after the key that comes before it in the usual order."""
    if key in table:
        table[key] = item
        return
    body = table.value.body
    before = [
        i for i, (k, value) in enumerate(body)
        if k is not None and not isinstance(value, (Table, AoT)) and _order(k.key, order) <= _order(key, order)
    ]
    if before and before[-1] + 1 < len(body):
        table.value._insert_at(before[-1] + 1, key, item)  # tomlkit has no public insert
    else:
        table.add(key, item)


def _span(snapshot: _Snapshot, index: int) -> tuple[int, int]:
    """Where the ``index``-th [[events]] table stands in the text: from its
    header (with the comment lines right above it) to the next table that is
    not one of its own, or the end. The result is checked against the parsed
    file; a text the scanner cannot follow is refused rather than guessed."""
    starts = []  # (is an [[events]] header, where)
    for match in _TOKENS.finditer(snapshot.text):
        line = match.group("header")
        if line is None:
            continue
        header = _HEADER.match(line)
        name = ".".join(part.strip().strip("\"'") for part in header.group(2).split(".")) if header else ""
        if header and name == "events" and header.group(1) == "[[":
            starts.append((True, match.start()))
        elif header and name != "events" and not name.startswith("events."):
            starts.append((False, match.start()))
    events = [position for is_event, position in starts if is_event]
    if len(events) != len(snapshot.events):
        raise _unsafe()
    start = events[index]
    end = next((position for _, position in starts if position > start), len(snapshot.text))
    start, end = _with_comments_above(snapshot.text, start), _with_comments_above(snapshot.text, end)
    if loading.parse(snapshot.text[start:end], "").data.get("events") != [snapshot.events[index]]:
        raise _unsafe()
    return start, end


def _with_comments_above(text: str, position: int) -> int:
    """Move a table's start up over the comment lines right above its header."""
    while position > 0:
        line_start = text.rfind("\n", 0, position - 1) + 1
        if not text[line_start:position].lstrip(" \t").startswith("#"):
            break
        position = line_start
    return position


def _unsafe() -> RuntimeError:
    return RuntimeError("cannot find the event's table in the text of the file; edit this file by hand")


def _table_text(snapshot: _Snapshot, event_id: str) -> str | None:
    """The event's table as the file writes it (with its comments), or None."""
    index = snapshot.index(event_id)
    if index is None:
        return None
    try:
        start, end = _span(snapshot, index)
    except RuntimeError:
        return None
    return snapshot.text[start:end]


def touched_events(before: str, after: str) -> dict[str, tuple[dict | None, dict | None]]:
    """The events whose table differs between two texts of the file, each
    with its table before and after (None: absent).

    >>> touched_events('[[events]]\\nid = "a"\\n[[events]]\\nid = "b"\\n', '[[events]]\\nid = "a"\\ntitle = "A"\\n')
    {'a': ({'id': 'a'}, {'id': 'a', 'title': 'A'}), 'b': ({'id': 'b'}, None)}
    """
    def tables(text: str) -> dict[str, dict]:
        events = loading.parse(text, "").data.get("events", []) if text.strip() else []
        return {e["id"]: e for e in events if isinstance(e, dict) and isinstance(e.get("id"), str)} if isinstance(events, list) else {}

    old, new = tables(before), tables(after)
    return {
        key: (old.get(key), new.get(key))
        for key in [*old, *(k for k in new if k not in old)]
        if old.get(key) != new.get(key)
    }


def touched_tables(before: str, after: str) -> dict[tuple, tuple[dict | None, dict | None]]:
    """[calendar] and the [places.<slug>] tables that differ between two
    texts of the file, by key, each before and after (None: absent).

    >>> touched_tables('[places.a]\\nname = "A"\\n', '[places.a]\\nname = "B"\\n[calendar]\\nname = "C"\\n')
    {('calendar',): (None, {'name': 'C'}), ('places', 'a'): ({'name': 'A'}, {'name': 'B'})}
    """
    def tables(text: str) -> dict[tuple, dict]:
        data = loading.parse(text, "").data if text.strip() else {}
        found = {CALENDAR: data["calendar"]} if isinstance(data.get("calendar"), dict) else {}
        places = data.get("places") if isinstance(data.get("places"), dict) else {}
        return found | {("places", slug): table for slug, table in places.items() if isinstance(table, dict)}

    old, new = tables(before), tables(after)
    return {key: (old.get(key), new.get(key)) for key in sorted({*old, *new}) if old.get(key) != new.get(key)}


def change_title(key: str | tuple, before: dict | None, after: dict | None) -> str:
    """How a change names what it touched: an event's title, a place's name, "[calendar]".

    >>> change_title("a", {"title": "Festa"}, None), change_title(("places", "s"), None, {"name": "Sala"})
    ('Festa', 'Sala')
    """
    if key == CALENDAR:
        return "[calendar]"
    return str((after or before or {}).get("name" if isinstance(key, tuple) else "title", key[-1] if isinstance(key, tuple) else key))


def _check_undone(snapshot: _Snapshot, data: dict, touched: dict) -> None:
    """Undoing may change only the events and tables the undone save
    changed, and each to what it was before that save."""
    tables = [key for key in touched if isinstance(key, tuple)]
    was_data = snapshot.data
    for key in tables:
        if _lookup(data, key) != touched[key][0]:
            raise CannotUndo("undoing would change other parts of the file")
        data, was_data = _without(data, key), _without(was_data, key)
    rest = {k: v for k, v in data.items() if k != "events"}
    events, was_events = data.get("events", []), was_data.get("events", [])
    events = events if isinstance(events, list) else []
    was_events = was_events if isinstance(was_events, list) else []
    by_id = {e.get("id"): e for e in events if isinstance(e, dict)}
    others = [e for e in events if not (isinstance(e, dict) and e.get("id") in touched)]
    was = [e for e in was_events if not (isinstance(e, dict) and e.get("id") in touched)]
    if rest != {k: v for k, v in was_data.items() if k != "events"} or others != was or any(
        by_id.get(key) != before for key, (before, _) in touched.items() if not isinstance(key, tuple)
    ):
        raise CannotUndo("undoing would change other parts of the file")


def _check_result(snapshot: _Snapshot, data: dict, expected_events: list) -> None:
    """The new text must hold exactly the old data with this one change: what
    was typed cannot have added or removed any other structure."""
    rest = {k: v for k, v in data.items() if k != "events"}
    if rest != {k: v for k, v in snapshot.data.items() if k != "events"} or data.get("events", []) != expected_events:
        raise RuntimeError("the change would alter other parts of the file; nothing was written")

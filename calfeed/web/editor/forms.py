"""The event form: what the browser sends, as events.toml values, and back.

A form carries text; events.toml holds dates, date-times and lists. Reading
keeps the typed text beside the values, so a refused form comes back exactly
as it was typed. No Flask here: the form is anything with ``getlist``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from calfeed.errors import Problem
from calfeed.rrules import WEEKDAYS

# The form's fields, named as events.toml names them, in the order shown.
TEXT = ("title", "location", "url", "image", "rrule", "duration", "place", "status")
LONG_TEXT = ("description",)
WHEN = ("start", "end")
LINES = ("online", "attachments")
DATES = ("exdates",)
FIELDS = ("title", "start", "end", "duration", "place", "location", "categories", "description", "url",
          "online", "attachments", "image", "status", "rrule", "exdates")
STATUSES = ("confirmed", "tentative", "cancelled")

_UNTIL = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_WHEN = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?))?")


class FormData(Protocol):
    def getlist(self, key: str) -> list[str]: ...


@dataclass
class Typed:
    """A form as text, the way it is shown: from the file, or as typed."""

    text: dict[str, str] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    all_day: bool = False
    weekly: list[str] = field(default_factory=list)  # the "every week on" boxes ticked
    picked: list[str] = field(default_factory=list)  # the series' dates ticked to leave out

    def value(self, name: str) -> str:
        return self.text.get(name, "")


@dataclass
class Read:
    """A submitted form: the values for the writer, the text to show again,
    and what could not be read, by field (keys of the i18n table)."""

    fields: dict[str, Any]
    typed: Typed
    errors: dict[str, str]
    notices: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # i18n keys and their blanks
    picked: list[date | datetime] = field(default_factory=list)


def parse_when(text: str, all_day: bool = False) -> date | datetime:
    """A form's date or date-time as a TOML value (naive: the event's zone).

    >>> parse_when("2021-12-01T18:00"), parse_when("2021-12-01")
    (datetime.datetime(2021, 12, 1, 18, 0), datetime.date(2021, 12, 1))
    >>> parse_when("2021-12-01 18:00:30"), parse_when("2021-12-01T18:00", all_day=True)
    (datetime.datetime(2021, 12, 1, 18, 0, 30), datetime.date(2021, 12, 1))
    >>> parse_when("domani")
    Traceback (most recent call last):
    ValueError: 'domani' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM
    """
    found = _WHEN.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM")
    day = date.fromisoformat(found.group(1))
    if found.group(2) is None or all_day:
        return day
    return datetime.fromisoformat(f"{found.group(1)}T{found.group(2)}")


def show_when(value: object) -> str:
    """A date or date-time as the form's input shows it.

    >>> show_when(datetime(2021, 12, 1, 18)), show_when(datetime(2021, 12, 1, 18, 0, 30)), show_when(date(2021, 12, 1))
    ('2021-12-01T18:00', '2021-12-01T18:00:30', '2021-12-01')
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.isoformat()
        return value.isoformat(timespec="seconds" if value.second else "minutes")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def input_type(text: str, all_day: bool) -> str:
    """The input that shows ``text`` as it is: a date or date-time picker,
    or plain text for what a picker cannot hold (an offset, a typing error),
    so a refused form shows exactly what was typed.

    >>> [input_type(t, False) for t in ("", "2021-12-01", "2021-12-01T18:00", "2021-12-01T18:00:00+01:00", "domani")]
    ['datetime-local', 'date', 'datetime-local', 'text', 'text']
    >>> input_type("", True)
    'date'
    """
    found = _WHEN.fullmatch(text.strip())
    if not text.strip():
        return "date" if all_day else "datetime-local"
    if found is None or " " in text.strip():
        return "text"
    return "date" if found.group(2) is None else "datetime-local"


def split_categories(values: Iterable[str]) -> list[str]:
    """Categories from repeated fields, each possibly comma-separated; the
    first spelling of a name wins.

    >>> split_categories(["Webinar", "Corsi, Feste ,", "", "webinar"])
    ['Webinar', 'Corsi', 'Feste']
    """
    found: list[str] = []
    for value in values:
        for name in value.split(","):
            name = " ".join(name.split())
            if name and name.casefold() not in {seen.casefold() for seen in found}:
                found.append(name)
    return found


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _text(form: FormData, name: str) -> str | None:
    """The field's text, None when the form did not send it; Windows line
    ends (which browsers send from a textarea) become newlines."""
    values = form.getlist(name)
    return values[0].replace("\r\n", "\n").replace("\r", "\n") if values else None


def simple_weekly(rule: str | None) -> tuple[list[str], date | None] | None:
    """The days and last day of a rule the "every week on" control can show
    (``FREQ=WEEKLY;BYDAY=<plain days>`` and maybe ``UNTIL=<a date>``), else None.

    >>> simple_weekly("FREQ=WEEKLY;BYDAY=FR,WE;UNTIL=20220408"), simple_weekly("FREQ=WEEKLY;BYDAY=WE")
    ((['WE', 'FR'], datetime.date(2022, 4, 8)), (['WE'], None))
    >>> simple_weekly("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"), simple_weekly("FREQ=MONTHLY;BYDAY=1SA"), simple_weekly(None)
    (None, None, None)
    """
    if not rule:
        return None
    parts = {}
    for part in rule.strip().upper().split(";"):
        key, _, value = part.partition("=")
        if not value or key in parts:
            return None
        parts[key] = value
    days = parts.pop("BYDAY", "").split(",")
    until = parts.pop("UNTIL", None)
    if parts != {"FREQ": "WEEKLY"} or not all(day in WEEKDAYS for day in days):
        return None
    found = _UNTIL.fullmatch(until) if until is not None else None
    if until is not None and found is None:
        return None
    try:
        last = date(*map(int, found.groups())) if found else None
    except ValueError:
        return None
    return [day for day in WEEKDAYS if day in days], last


def weekly_rule(days: Iterable[str], until: date | None) -> str:
    """The RRULE the "every week on" control writes.

    >>> weekly_rule(["FR", "WE"], date(2022, 4, 8)), weekly_rule(["SU"], None)
    ('FREQ=WEEKLY;BYDAY=WE,FR;UNTIL=20220408', 'FREQ=WEEKLY;BYDAY=SU')
    """
    rule = "FREQ=WEEKLY;BYDAY=" + ",".join(day for day in WEEKDAYS if day in set(days))
    return rule + (f";UNTIL={until:%Y%m%d}" if until else "")


def _canonical(rule: str | None) -> str | None:
    simple = simple_weekly(rule)
    return weekly_rule(*simple) if simple else (rule or None)


def _choose_rule(form: FormData, read: Read) -> None:
    """``rrule`` from the raw field and the "every week on" control.

    The control counts when it was changed from what the form showed
    (``rrule_was``: the rule the page was made from); the raw field when it
    was. When both were and they differ, the raw field wins and a notice
    says so. With the control's days all unticked, a weekly rule it showed
    is removed.
    """
    days = [day for day in WEEKDAYS if day in form.getlist("weekly")]
    until_text = (_text(form, "weekly_until") or "").strip()
    read.typed.weekly = days
    read.typed.text["weekly_until"] = until_text
    until = None
    if until_text:
        found = _UNTIL.fullmatch(until_text)
        try:
            until = date(*map(int, found.groups())) if found else None
        except ValueError:
            until = None
        if until is None:
            read.errors["weekly_until"] = "edit_bad_until"
            return
    was = _text(form, "rrule_was")
    if was is not None:
        read.typed.text["rrule_was"] = was
    weekly = weekly_rule(days, until) if days else None
    shown = _canonical(was) if simple_weekly(was) else None
    control_changed = weekly != shown
    raw = read.fields.get("rrule")
    raw_changed = (raw or "") != (was or "").strip() if was is not None else raw is not None
    if not control_changed:
        return
    if weekly is None:
        if not raw_changed:
            read.fields["rrule"] = None
        return
    if raw_changed and raw:
        if _canonical(raw) != weekly:
            read.notices.append(("edit_rule_raw_wins", {"rule": raw}))
        return
    read.fields["rrule"] = weekly
    read.typed.text["rrule"] = weekly


def read_form(form: FormData) -> Read:
    """The fields the form sent, as events.toml values; an empty field is
    None (the writer removes the key), a field not sent is left out.

    >>> from werkzeug.datastructures import MultiDict
    >>> read = read_form(MultiDict([("title", " Festa "), ("start", "2021-12-01T18:00"), ("end", ""),
    ...     ("categories", "Feste"), ("categories", "Corsi, Cultura"), ("online", "https://a.example\\r\\n\\r\\nhttps://b.example"),
    ...     ("exdates", "2021-12-08T18:00\\n2021-12-15")]))
    >>> read.fields == {"title": "Festa", "start": datetime(2021, 12, 1, 18), "end": None,
    ...     "categories": ["Feste", "Corsi", "Cultura"], "online": ["https://a.example", "https://b.example"],
    ...     "exdates": [datetime(2021, 12, 8, 18), date(2021, 12, 15)]}, read.errors
    (True, {})
    >>> read_form(MultiDict([("start", "1 dicembre")])).errors
    {'start': 'edit_bad_when'}
    """
    all_day = bool(form.getlist("all_day"))
    typed = Typed(all_day=all_day)
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in FIELDS:
        if name == "categories":
            if form.getlist("categories"):
                typed.categories = split_categories(form.getlist("categories"))
                fields["categories"] = typed.categories or None
            continue
        text = _text(form, name)
        if text is None:
            continue
        typed.text[name] = text
        if name in LONG_TEXT:
            fields[name] = text.strip("\n").rstrip() or None
        elif name in WHEN:
            try:
                fields[name] = parse_when(text, all_day) if text.strip() else None
            except ValueError:
                errors[name] = "edit_bad_when"
        elif name in LINES:
            fields[name] = _lines(text) or None
        elif name in DATES:
            try:
                fields[name] = [parse_when(line, all_day) for line in _lines(text)] or None
            except ValueError:
                errors[name] = "edit_bad_dates"
        else:
            # A title is one line: runs of spaces and line breaks become one space.
            fields[name] = (" ".join(text.split()) if name == "title" else text.strip()) or None
    read = Read(fields, typed, errors)
    if form.getlist("weekly") or _text(form, "rrule_was") is not None or _text(form, "weekly_until"):
        _choose_rule(form, read)
    for text in form.getlist("exdate_pick"):
        try:
            read.picked.append(parse_when(text, all_day))
            typed.picked.append(text)
        except ValueError:
            errors["exdates"] = "edit_bad_dates"
    return read


def add_exdates(fields: dict[str, Any], picked: list[date | datetime], current: Mapping[str, Any] | None) -> None:
    """The ticked dates of the series added to ``exdates`` (to the field as
    sent, or to the file's when the form did not send the field).

    >>> fields = {"exdates": [date(2022, 1, 5)]}
    >>> add_exdates(fields, [date(2022, 1, 12), date(2022, 1, 5)], None); fields
    {'exdates': [datetime.date(2022, 1, 5), datetime.date(2022, 1, 12)]}
    """
    if not picked:
        return
    base = fields["exdates"] if "exdates" in fields else (current or {}).get("exdates")
    found = list(base or [])
    found += [day for day in picked if day not in found]
    fields["exdates"] = sorted(set(found), key=found.index)


def typed_from(values: Mapping[str, Any]) -> Typed:
    """The form's text for an event as the file has it (``SourceFile.event_fields``).

    >>> typed = typed_from({"title": "Festa", "start": date(2022, 6, 1), "online": ["https://a.example", "https://b.example"],
    ...                     "categories": ["Feste"], "exdates": [datetime(2022, 6, 8, 18)]})
    >>> typed.value("start"), typed.value("online"), typed.categories, typed.value("exdates"), typed.all_day
    ('2022-06-01', 'https://a.example\\nhttps://b.example', ['Feste'], '2022-06-08T18:00', True)
    """
    typed = Typed(categories=list(values.get("categories") or ()))
    for name in FIELDS:
        value = values.get(name)
        if name == "categories" or value is None:
            continue
        if name in WHEN:
            typed.text[name] = show_when(value)
        elif name in LINES or name in DATES:
            typed.text[name] = "\n".join(show_when(item) for item in value)
        else:
            typed.text[name] = str(value)
    typed.all_day = type(values.get("start")) is date
    simple = simple_weekly(values.get("rrule"))
    typed.text["rrule_was"] = str(values.get("rrule") or "")
    if simple:
        typed.weekly = simple[0]
        typed.text["weekly_until"] = simple[1].isoformat() if simple[1] else ""
    return typed


def changes(read: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
    """The fields that differ from the event as the file has it, so that a
    save touches only what the editor changed (a new event: what is filled in).

    >>> changes({"title": "Festa", "status": "confirmed", "end": None}, {"title": "Festa", "end": None})
    {}
    >>> changes({"title": "Festa!", "status": "cancelled", "url": None}, {"title": "Festa"})
    {'title': 'Festa!', 'status': 'cancelled'}
    >>> changes({"categories": ["Corsi", "Feste"]}, {"categories": ["Feste", "Corsi"]})  # the boxes' order is the site's
    {}
    """
    current = current or {}
    found = {}
    for name, value in read.items():
        was = current.get(name)
        if name == "status" and was is None:
            was = "confirmed"  # the default, which a file need not write
        if name == "categories" and isinstance(value, list) and isinstance(was, list):
            value_set, was_set = sorted(v.casefold() for v in value), sorted(str(w).casefold() for w in was)
            if value_set == was_set:
                continue
        if value != was and not (value is None and was in (None, "", [])):
            found[name] = value
    return found


@dataclass
class Placed:
    """A refused save's problems: each beside its field, or above the form."""

    by_field: dict[str, list[Problem]] = field(default_factory=dict)
    general: list[Problem] = field(default_factory=list)


def place_problems(problems: Iterable[Problem], index: int | None) -> Placed:
    """Problems of the edited event's own fields go beside them; the rest
    (another event, an override, a field the form does not show) above.

    >>> placed = place_problems([Problem("bad", field="end", index=2), Problem("other", field="end", index=3),
    ...                          Problem("o", where='event "x" (#3), override #1', field="start", index=2)], 2)
    >>> [p.message for p in placed.by_field["end"]], [p.message for p in placed.general]
    (['bad'], ['other', 'o'])
    """
    placed = Placed()
    for problem in problems:
        own = index is not None and problem.index == index and ", override #" not in (problem.where or "")
        if own and problem.field in FIELDS:
            placed.by_field.setdefault(problem.field, []).append(problem)
        else:
            placed.general.append(problem)
    return placed

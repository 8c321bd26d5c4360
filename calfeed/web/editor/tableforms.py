"""The forms of a place and of the calendar's settings: what the browser
sends, as events.toml values, and back.

As with the event form, the typed text is kept beside the values so that a
refused form comes back as it was typed. No Flask here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from calfeed.errors import Problem
from calfeed.web.editor.forms import FormData

PLACE_FIELDS = ("name", "address", "geo", "url")
SETTINGS_FIELDS = ("name", "description", "timezone", "language", "refresh", "past_days", "base_url")
LANGUAGES = ("it", "en")


@dataclass
class TableForm:
    """A submitted form: values for the writer, the text to show again, and
    what could not be read (field -> i18n key)."""

    fields: dict[str, Any] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _one(form: FormData, name: str) -> str:
    values = form.getlist(name)
    return values[0] if values else ""


def _number(text: str) -> float:
    """A typed coordinate; a decimal comma is read as a point.

    >>> _number(" 45,0907 "), _number("-7.5")
    (45.0907, -7.5)
    >>> _number("inf")
    Traceback (most recent call last):
    ValueError: not a finite number: 'inf'
    """
    number = float(text.strip().replace(",", "."))
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {text!r}")
    return number


def read_place(form: FormData) -> TableForm:
    """A place's form: ``geo`` from the two inputs ``lat`` and ``lon``
    (both empty: no geo; one of them, or not a number: an error on geo)."""
    read = TableForm()
    for name in ("name", "address", "url"):
        read.typed[name] = _one(form, name)
        read.fields[name] = read.typed[name].strip()
    lat, lon = _one(form, "lat"), _one(form, "lon")
    read.typed.update(lat=lat, lon=lon)
    if not lat.strip() and not lon.strip():
        read.fields["geo"] = []
    else:
        try:
            read.fields["geo"] = [_number(lat), _number(lon)]
        except ValueError:
            read.errors["geo"] = "place_bad_geo"
    return read


def typed_place(values: Mapping[str, Any] | None) -> dict[str, str]:
    """A place from the file as the form shows it.

    >>> typed_place({"name": "Sala", "geo": [45.09, 7]})
    {'name': 'Sala', 'address': '', 'url': '', 'lat': '45.09', 'lon': '7'}
    """
    values = values or {}
    typed = {name: _text(values.get(name)) for name in ("name", "address", "url")}
    geo = values.get("geo")
    pair = geo if isinstance(geo, list) and len(geo) == 2 else ["", ""]
    typed.update(lat=_text(pair[0]), lon=_text(pair[1]))
    return typed


def read_settings(form: FormData, base_url_fixed: bool) -> TableForm:
    """The calendar's settings; ``base_url`` is not read while CALFEED_BASE_URL
    overrides it. An empty field removes its key (the default applies)."""
    read = TableForm()
    for name in SETTINGS_FIELDS:
        if name == "base_url" and base_url_fixed:
            continue
        read.typed[name] = _one(form, name)
        text = read.typed[name] if name == "description" else read.typed[name].strip()
        read.fields[name] = text.replace("\r\n", "\n")
    days = read.fields.get("past_days", "")
    if days:
        if days.isascii() and days.isdigit() and len(days) <= 9:
            read.fields["past_days"] = int(days)
        else:
            read.errors["past_days"] = "place_bad_past_days"
    return read


def typed_settings(values: Mapping[str, Any]) -> dict[str, str]:
    """[calendar] from the file as the form shows it.

    >>> typed_settings({"name": "Eventi", "past_days": 30})["past_days"]
    '30'
    """
    return {name: _text(values.get(name)) for name in SETTINGS_FIELDS}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def by_field(problems: Iterable[Problem], where: str, fields: tuple[str, ...]) -> tuple[dict[str, list[Problem]], list[Problem]]:
    """Problems of the edited table's own fields go beside them; the rest
    (another table, a key the form does not show) above.

    >>> mine, rest = by_field([Problem("bad", where='place "sala"', field="geo"),
    ...                        Problem("x", where='event "a" (#1)', field="place")], 'place "sala"', PLACE_FIELDS)
    >>> {name: [p.message for p in found] for name, found in mine.items()}, [p.message for p in rest]
    ({'geo': ['bad']}, ['x'])
    """
    mine: dict[str, list[Problem]] = {}
    rest = []
    for problem in problems:
        if problem.where == where and problem.field in fields:
            mine.setdefault(problem.field, []).append(problem)
        else:
            rest.append(problem)
    return mine, rest

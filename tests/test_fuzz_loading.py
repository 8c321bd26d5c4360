"""Whatever an editor saves, calfeed answers with a calendar or with its list
of errors: never a traceback, a hang or a partial feed."""

from __future__ import annotations

import json
import time as clock
from datetime import date, datetime, time, timedelta, timezone

import icalendar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLE
from calfeed import loading
from calfeed.errors import CalendarErrors
from calfeed.published import FeedFilter, Published
from calfeed.validation import CALENDAR_KEYS, EVENT_KEYS, OVERRIDE_KEYS, PLACE_KEYS, build_calendar

SAMPLE_LINES = SAMPLE.read_text(encoding="utf-8").split("\n")

TOKENS = [
    '"x"', '""', "2021-13-01", "2022-03-27T02:30:00", "2022-10-30T02:30:00", "2021-12-01", "2021-12-01T18:00:00+01:00",
    "18:00:00", "[1, 2]", "[]", "{ a = 1 }", "true", "1e400", "-1", "0", "99999999999999999999", "nan", "inf",
    '"javascript:alert(1)"', '"data:text/html,x"', '"\\u0000"', '"\\u202e"', '"FREQ=WEEKLY;BYDAY=ZZ"',
    '"FREQ=DAILY;COUNT=10000"', '"FREQ=SECONDLY"', '"P99999999D"', '"Europe/Atlantis"', '"PT-1H"', "[[events]]",
    "[calendar]", "[places.x]", '"""', "'''", "#", "=", '"' + "a" * 2000 + '"', "[2022-01-01T10:00:00]",
    "1900-01-01", "2199-12-31", "0001-01-01", "9999-12-31T23:59:59",
]


@st.composite
def mutated(draw):
    """The sample file with a few lines deleted, doubled, replaced or cut."""
    lines = list(SAMPLE_LINES)
    for _ in range(draw(st.integers(1, 6))):
        operation = draw(st.sampled_from(["delete", "double", "value", "insert", "cut"]))
        at = draw(st.integers(0, len(lines) - 1))
        if operation == "delete":
            del lines[at]
        elif operation == "double":
            lines.insert(at, lines[at])
        elif operation == "value" and "=" in lines[at]:
            key = lines[at].split("=", 1)[0]
            lines[at] = f"{key}= {draw(st.sampled_from(TOKENS))}"
        elif operation == "insert":
            key = draw(st.sampled_from([*EVENT_KEYS, *CALENDAR_KEYS, *PLACE_KEYS, *OVERRIDE_KEYS, "zzz"]))
            lines.insert(at, f"{key} = {draw(st.sampled_from(TOKENS))}")
        elif operation == "cut":
            lines = lines[:at]
        if not lines:
            lines = [""]
    return "\n".join(lines)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if value == value and abs(value) != float("inf") else "nan"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"


SCALARS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["Europe/Rome", "https://e.example.org/x", "FREQ=WEEKLY", "PT1H", "P1D", "confirmed", "cancelled", "x"]),
    st.integers(-10, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(date(1899, 1, 1), date(2201, 1, 1)),
    st.datetimes(datetime(1899, 1, 1), datetime(2201, 1, 1)),
    st.datetimes(datetime(1950, 1, 1), datetime(2100, 1, 1), timezones=st.just(timezone(timedelta(hours=2)))),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["name", "email", "x"]), inner, max_size=2)), max_leaves=6)


@st.composite
def generated(draw):
    """A TOML document shaped like events.toml, with values of any type."""
    calendar = {"name": "Prova", "base_url": "https://e.example.org"}
    calendar.update(draw(st.dictionaries(st.sampled_from(CALENDAR_KEYS), VALUES, max_size=3)))
    out = ["[calendar]"] + [f"{k} = {_toml(v)}" for k, v in calendar.items()]
    out += ["[places.p]", 'name = "P"']
    for _ in range(draw(st.integers(0, 4))):
        event = {"id": draw(st.sampled_from(["a", "b", "c", "A!"])), "title": "T", "start": draw(SCALARS)}
        event.update(draw(st.dictionaries(st.sampled_from(EVENT_KEYS), VALUES, max_size=4)))
        event.pop("overrides", None)
        out.append("[[events]]")
        out += [f"{json.dumps(k)} = {_toml(v)}" for k, v in event.items()]
    return "\n".join(out) + "\n"


def _check(text: str) -> None:
    started = clock.monotonic()
    try:
        calendar = build_calendar(loading.parse(text, "events.toml"))
    except CalendarErrors as errors:
        assert errors.problems and all(line.startswith("events.toml") for line in errors.lines())
        return
    finally:
        assert clock.monotonic() - started < 5, "loading took too long"
    body = Published(calendar).feed(FeedFilter(), date(2022, 1, 1)).data
    assert body.endswith(b"END:VCALENDAR\r\n")
    parsed = icalendar.Calendar.from_ical(body)
    assert len(parsed.walk("VEVENT")) == len(calendar.events) + sum(len(e.overrides) for e in calendar.events)


FUZZ = settings(max_examples=6_000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(mutated())
def test_mutated_sample_files(text):
    _check(text)


@settings(max_examples=4_000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(generated())
def test_generated_documents(text):
    _check(text)

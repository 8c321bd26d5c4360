"""Interop: calfeed's feeds read back by Mozilla's ical.js (the parser
inside Thunderbird) under Node.

``tests/interop/expand.mjs`` parses a feed, resolves every TZID from the
feed's own VTIMEZONE, relates RECURRENCE-ID overrides to their series and
expands every VEVENT over a two-year window. Each occurrence (UID, UTC start
and end, RECURRENCE-ID, STATUS, SUMMARY) must equal what calfeed's own engine,
``occurrences.expand``, gives over the same window, and a few are checked
against UTC instants written by hand.

ical.js is pinned in ``tests/interop/package-lock.json``; ``scripts/test`` installs
it with ``npm ci``. Without it these tests fail (they are not skipped).

Where ical.js departs from RFC 5545 (a local time in a DST gap or repeated
hour, an RDATE equal to an RRULE date, a yearly rule on 29 February) calfeed
is checked against RFC instants written by hand, and the same check on the
ical.js side is ``xfail(strict=True, raises=IcaljsDeparts)``: once ical.js is
fixed it passes, and strict makes that a failure, so the mark gets removed.
Only that one expected difference counts as the expected failure: Node or
ical.js missing, a crash of expand.mjs or any other error fails the test.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

import pytest

from calfeed import timezones
from calfeed.occurrences import MAX_PER_EVENT, expand
from calfeed.published import FeedFilter, Published
from calfeed.validation import load_calendar
from conftest import HEADER, ROOT, SAMPLE

UTC = timezone.utc
INTEROP = ROOT / "tests" / "interop"
SCRIPT = INTEROP / "expand.mjs"
NODE_TIMEOUT = 30  # seconds, per feed
HOST = "eventi.example.org"
TODAY = date(2022, 1, 1)  # no calendar here sets past_days, so it changes nothing


# --------------------------------------------------------------------------
# Running the two sides


class Record(NamedTuple):
    """One occurrence as both sides report it; times are UTC text
    ("2022-02-02T17:00:00Z") and all-day values dates ("2022-06-11")."""

    uid: str
    start: str
    end: str
    recurrence_id: str | None  # None for an event that does not recur
    status: str
    summary: str


@functools.cache
def _missing() -> str | None:
    """Why the ical.js side cannot run (Node or the pinned ical.js missing), or None."""
    if shutil.which("node") is None:
        return "node is not on PATH: the ical.js interop test needs Node 20 (see docs/reliability.md, Running the tests)"
    installed = INTEROP / "node_modules" / "ical.js" / "package.json"
    if not installed.exists():
        return (
            "ical.js is not installed in tests/interop/node_modules: run "
            "`(cd tests/interop && npm ci)` first (scripts/test does it before pytest)"
        )
    pinned = json.loads((INTEROP / "package.json").read_text())["dependencies"]["ical.js"]
    version = json.loads(installed.read_text())["version"]
    if version != pinned:
        return f"tests/interop/node_modules has ical.js {version}, package.json pins {pinned}: run `(cd tests/interop && npm ci)`"
    return None


def require_node() -> str:
    """The node executable; the test FAILS (it is not skipped) without ical.js."""
    problem = _missing()
    if problem:
        pytest.fail(problem, pytrace=False)
    return shutil.which("node")


def results(expanded: dict | None, name: str):
    """One case's (ical.js, calfeed) records; fails first when ical.js is missing."""
    require_node()
    return expanded[name]


def _utc_text(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def _window_instant(value: date | datetime) -> datetime:
    """How both sides place a start against the window (a date: UTC midnight)."""
    return value if isinstance(value, datetime) else datetime.combine(value, time(), UTC)


def run_icaljs(node: str, ics: Path, after: datetime, before: datetime) -> list[dict]:
    """What ical.js finds in the feed at ``ics``: occurrences starting in [after, before)."""
    result = subprocess.run(
        [node, str(SCRIPT), str(ics), _utc_text(after), _utc_text(before)],
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
    )
    if result.returncode != 0:
        pytest.fail(f"expand.mjs failed (exit {result.returncode}) on {ics.name}:\n{result.stderr}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def icaljs_records(node: str, ics: Path, after: datetime, before: datetime) -> list[Record]:
    found = run_icaljs(node, ics, after, before)
    orphans = [item for item in found if item["orphan"]]
    assert not orphans, f"RECURRENCE-ID components ical.js could not relate to an occurrence: {orphans}"
    return [
        Record(i["uid"], i["start_utc"], i["end_utc"], i["recurrence_id_utc"], i["status"], i["summary"])
        for i in found
    ]


def calfeed_records(calendar, after: datetime, before: datetime) -> list[Record]:
    """calfeed's own occurrences starting in [after, before), as Records."""
    zone = timezones.zone(calendar.timezone)
    records = []
    for event in calendar.events:
        found = expand(event, after, before, zone)
        assert len(found) < MAX_PER_EVENT, f"{event.id}: window too long, expand() would truncate"
        for occurrence in found:
            start = occurrence.start
            if not after <= _window_instant(start) < before:
                continue  # expand also gives occurrences that only overlap the window
            end = occurrence.end
            if end is None:  # no DTEND: RFC 5545 3.6.1, as ical.js reads it
                end = start if isinstance(start, datetime) else start + timedelta(days=1)
            if event.recurrence is None:
                recurrence_id = None
            else:
                original = occurrence.event.recurrence_id
                recurrence_id = _utc_text(original if original is not None else start)
            records.append(
                Record(
                    event.uid,
                    _utc_text(start),
                    _utc_text(end),
                    recurrence_id,
                    occurrence.event.status.upper(),
                    occurrence.event.title,
                )
            )
    return records


def write_feed(calendar, path: Path) -> Path:
    path.write_bytes(Published(calendar).feed(FeedFilter(), TODAY).data)
    return path


def assert_same(icaljs: list[Record], calfeed: list[Record]) -> None:
    """The same occurrences, each as often, on both sides (with a readable diff)."""
    only_icaljs = Counter(icaljs) - Counter(calfeed)
    only_calfeed = Counter(calfeed) - Counter(icaljs)
    if only_icaljs or only_calfeed:
        lines = ["ical.js and calfeed disagree:"]
        lines += [f"  only ical.js  ({n}x): {r}" for r, n in sorted(only_icaljs.items())]
        lines += [f"  only calfeed  ({n}x): {r}" for r, n in sorted(only_calfeed.items())]
        pytest.fail("\n".join(lines))


def uid(ident: str) -> str:
    return f"{ident}@{HOST}"


def starts_of(records: list[Record], ident: str) -> list[str]:
    return sorted(r.start for r in records if r.uid == uid(ident))


# --------------------------------------------------------------------------
# The calendars (times without offset: Europe/Rome unless the event says)

WEEKLY_ROME = """
[[events]]
id = "corso"
title = "Corso del mercoledì"
start = 2022-01-05T18:00:00
end = 2022-01-05T19:30:00
rrule = "FREQ=WEEKLY;BYDAY=WE;UNTIL=2023-12-27"
exdates = [2022-04-13T18:00:00, 2023-08-16T18:00:00]
rdates = [2022-07-09T10:00:00, 2023-01-02T18:00:00]

[[events.overrides]]
recurrence_id = 2022-03-30T18:00:00
status = "cancelled"

[[events.overrides]]
recurrence_id = 2022-10-26T18:00:00
start = 2022-10-31T18:00:00
end = 2022-10-31T19:30:00
title = "Corso (spostato a lunedì)"
"""

LAST_FRIDAY = """
[[events]]
id = "aperitivo"
title = "Aperitivo dell'ultimo venerdì"
start = 2022-01-28T19:00:00
duration = "PT2H"
rrule = "FREQ=MONTHLY;BYDAY=-1FR"
"""

DAILY_COUNT = """
[[events]]
id = "settimana-cura"
title = "Settimana della cura"
start = 2022-03-24T09:00:00
end = 2022-03-24T09:30:00
rrule = "FREQ=DAILY;COUNT=7"
exdates = [2022-03-26T09:00:00, 2022-03-28T09:00:00]
"""

ALL_DAY = """
[[events]]
id = "festa"
title = "Festa di quartiere"
start = 2022-06-11
end = 2022-06-12
rrule = "FREQ=YEARLY"

[[events]]
id = "fine-mese"
title = "Ultimo giorno dei mesi lunghi"
start = 2023-01-31
rrule = "FREQ=MONTHLY;BYMONTHDAY=31;UNTIL=2023-12-31"
"""

ABROAD = """
[[events]]
id = "new-york"
title = "Call con New York"
timezone = "America/New_York"
start = 2023-02-28T19:00:00
end = 2023-02-28T20:00:00
rrule = "FREQ=WEEKLY;BYDAY=TU;UNTIL=2023-11-07T19:00:00"

[[events]]
id = "sydney"
title = "Call con Sydney"
timezone = "Australia/Sydney"
start = 2023-01-01T10:00:00
duration = "PT1H"
rrule = "FREQ=MONTHLY;BYMONTHDAY=1;UNTIL=2024-06-30"
"""

Y2022 = datetime(2022, 1, 1, tzinfo=UTC)
Y2023 = datetime(2023, 1, 1, tzinfo=UTC)
Y2024 = datetime(2024, 1, 1, tzinfo=UTC)
Y2025 = datetime(2025, 1, 1, tzinfo=UTC)

# name: (TOML body or None for the repository's events.toml, window start, window end)
CASES = {
    "weekly-rome": (WEEKLY_ROME, Y2022, Y2024),
    "last-friday": (LAST_FRIDAY, Y2022, Y2024),
    "daily-count-exdates": (DAILY_COUNT, Y2022, Y2024),
    "all-day": (ALL_DAY, Y2023, Y2025),
    "new-york-sydney": (ABROAD, Y2023, Y2025),
    "sample-events-toml": (None, datetime(2021, 11, 1, tzinfo=UTC), datetime(2023, 11, 1, tzinfo=UTC)),
}


@pytest.fixture(scope="module")
def expanded(tmp_path_factory):
    """Every case, expanded by both sides: name → (ical.js records, calfeed records);
    None without ical.js (each test then fails, see ``results``)."""
    if _missing():
        return None
    node = require_node()
    folder = tmp_path_factory.mktemp("interop")
    found = {}
    for name, (body, after, before) in CASES.items():
        if body is None:
            source = SAMPLE
        else:
            source = folder / f"{name}.toml"
            source.write_text(HEADER + body, encoding="utf-8")
        calendar = load_calendar(source)
        ics = write_feed(calendar, folder / f"{name}.ics")
        found[name] = (icaljs_records(node, ics, after, before), calfeed_records(calendar, after, before))
    return found


# --------------------------------------------------------------------------
# Both sides agree, occurrence by occurrence


@pytest.mark.parametrize("name", list(CASES))
def test_icaljs_and_calfeed_give_the_same_occurrences(expanded, name):
    icaljs, calfeed = results(expanded, name)
    assert calfeed, "the window should hold occurrences"
    assert_same(icaljs, calfeed)


# --------------------------------------------------------------------------
# ... and both match instants written by hand


def test_weekly_rome_by_hand(expanded):
    """Wednesday 18:00 in Rome is 17:00Z in winter and 16:00Z in summer, across
    the four changes of 2022-2023 (27 Mar, 30 Oct 2022; 26 Mar, 29 Oct 2023)."""
    for records in results(expanded, "weekly-rome"):
        starts = starts_of(records, "corso")
        # 104 Wednesdays to UNTIL=2023-12-27 (inclusive), two exdates, two rdates.
        assert len(starts) == 104
        for instant in [
            "2022-01-05T17:00:00Z",
            "2022-03-23T17:00:00Z",  # last before the March change
            "2022-04-06T16:00:00Z",
            "2022-10-19T16:00:00Z",  # last before the October change
            "2022-11-02T17:00:00Z",
            "2023-03-22T17:00:00Z",
            "2023-03-29T16:00:00Z",
            "2023-10-25T16:00:00Z",
            "2023-11-01T17:00:00Z",
            "2023-12-27T17:00:00Z",  # UNTIL as a date includes that day
            "2022-07-09T08:00:00Z",  # rdate: Saturday 10:00 CEST
            "2023-01-02T17:00:00Z",  # rdate: Monday 18:00 CET
        ]:
            assert instant in starts
        for instant in ["2022-04-13T16:00:00Z", "2023-08-16T16:00:00Z", "2024-01-03T17:00:00Z"]:
            assert instant not in starts  # exdates, and the week after UNTIL
        by_id = {r.recurrence_id: r for r in records if r.uid == uid("corso")}
        # Cancelled: still there, STATUS:CANCELLED, at its own time (CEST since 27 March).
        cancelled = by_id["2022-03-30T16:00:00Z"]
        assert (cancelled.start, cancelled.status) == ("2022-03-30T16:00:00Z", "CANCELLED")
        # Moved from Wednesday 26 October (CEST) to Monday 31 October (CET).
        moved = by_id["2022-10-26T16:00:00Z"]
        assert moved.start == "2022-10-31T17:00:00Z"
        assert moved.end == "2022-10-31T18:30:00Z"
        assert moved.summary == "Corso (spostato a lunedì)"
        assert moved.status == "CONFIRMED"
        assert "2022-10-26T16:00:00Z" not in starts


def test_last_friday_by_hand(expanded):
    """BYDAY=-1FR: the last Friday of each month, 19:00 in Rome."""
    winter = {"01", "02", "11", "12"}
    days = [
        "2022-01-28", "2022-02-25", "2022-03-25", "2022-04-29", "2022-05-27", "2022-06-24",
        "2022-07-29", "2022-08-26", "2022-09-30", "2022-10-28", "2022-11-25", "2022-12-30",
        "2023-01-27", "2023-02-24", "2023-03-31", "2023-04-28", "2023-05-26", "2023-06-30",
        "2023-07-28", "2023-08-25", "2023-09-29", "2023-10-27", "2023-11-24", "2023-12-29",
    ]
    # 25 March 2022 is before that year's change (27 March): still CET.
    expected = [f"{d}T{'18' if d[5:7] in winter or d == '2022-03-25' else '17'}:00:00Z" for d in days]
    for records in results(expanded, "last-friday"):
        assert starts_of(records, "aperitivo") == expected


def test_daily_count_with_exdates_by_hand(expanded):
    """COUNT=7 counts the exdated days too (RFC 5545 3.8.5.1): five remain;
    9:00 in Rome is 08:00Z until 26 March and 07:00Z from 27 March 2022."""
    expected = [
        "2022-03-24T08:00:00Z", "2022-03-25T08:00:00Z",
        "2022-03-27T07:00:00Z", "2022-03-29T07:00:00Z", "2022-03-30T07:00:00Z",
    ]
    for records in results(expanded, "daily-count-exdates"):
        assert starts_of(records, "settimana-cura") == expected


def test_all_day_by_hand(expanded):
    for records in results(expanded, "all-day"):
        festa = [(r.start, r.end) for r in records if r.uid == uid("festa")]
        assert sorted(festa) == [("2023-06-11", "2023-06-13"), ("2024-06-11", "2024-06-13")]
        # BYMONTHDAY=31 skips the short months; UNTIL as a date includes 31 December.
        assert starts_of(records, "fine-mese") == [
            f"2023-{m}-31" for m in ("01", "03", "05", "07", "08", "10", "12")
        ]


def test_new_york_and_sydney_by_hand(expanded):
    for records in results(expanded, "new-york-sydney"):
        new_york = starts_of(records, "new-york")
        # Tuesdays 19:00 from 28 Feb to UNTIL=2023-11-07T19:00 local, inclusive.
        assert len(new_york) == 37
        assert new_york[:3] == ["2023-03-01T00:00:00Z", "2023-03-08T00:00:00Z", "2023-03-14T23:00:00Z"]
        assert new_york[-2:] == ["2023-10-31T23:00:00Z", "2023-11-08T00:00:00Z"]
        sydney = starts_of(records, "sydney")
        # The 1st at 10:00: AEDT (+11) is 23:00Z the day before, AEST (+10) 00:00Z.
        # February 2023 to June 2024 (UNTIL as a date includes 30 June); 1 January
        # 2023 at 10:00 AEDT is 2022-12-31T23:00Z, before the window.
        assert len(sydney) == 17
        assert "2022-12-31T23:00:00Z" not in sydney
        for instant in [
            "2023-01-31T23:00:00Z",
            "2023-03-31T23:00:00Z",  # 1 April: AEDT until 2 April
            "2023-05-01T00:00:00Z",
            "2023-09-01T00:00:00Z",
            "2023-09-30T23:00:00Z",  # 1 October: AEDT from 02:00 that day
            "2024-03-31T23:00:00Z",
            "2024-06-01T00:00:00Z",
        ]:
            assert instant in sydney


def test_sample_by_hand(expanded):
    for records in results(expanded, "sample-events-toml"):
        by_id = {}
        for record in records:
            by_id.setdefault(record.uid.split("@")[0], []).append(record)
        (webinar,) = by_id["generare-prossimita"]
        assert (webinar.start, webinar.end) == ("2021-12-01T17:00:00Z", "2021-12-01T18:30:00Z")
        (parco,) = by_id["pulizia-parco-dora"]
        assert parco.start == "2022-03-28T07:30:00Z"  # the day after the March change
        (festa,) = by_id["festa-casa-quartiere-latina"]
        assert (festa.start, festa.end) == ("2022-06-11", "2022-06-13")
        (cineforum,) = by_id["cineforum-bagni-pubblici"]
        assert cineforum.status == "CANCELLED"
        # The weekly series: Wednesdays 17:00 in Rome, one date left out, one
        # cancelled, one moved to Tuesday.
        series = {r.recurrence_id: r for r in by_id["sportello-patti-latina"]}
        assert series["2022-01-12T16:00:00Z"].start == "2022-01-12T16:00:00Z"
        assert series["2022-06-08T15:00:00Z"].start == "2022-06-08T15:00:00Z"
        assert "2022-08-17T15:00:00Z" not in series
        assert series["2022-06-01T15:00:00Z"].status == "CANCELLED"
        moved = series["2022-12-07T16:00:00Z"]
        assert (moved.start, moved.summary) == ("2022-12-06T16:00:00Z", "Sportello Patti di collaborazione (martedì)")


# --------------------------------------------------------------------------
# ical.js really reads the feed's VTIMEZONE


def _shift_vtimezone_offsets(feed: bytes, hours: int) -> bytes:
    """The feed with every TZOFFSETFROM/TZOFFSETTO moved by ``hours``."""

    def move(match: re.Match) -> bytes:
        sign = -1 if match[2] == b"-" else 1
        minutes = sign * (int(match[3]) * 60 + int(match[4])) + hours * 60
        mark = "-" if minutes < 0 else "+"
        return match[1] + f"{mark}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}".encode()

    return re.sub(rb"(TZOFFSET(?:FROM|TO):)([+-])(\d\d)(\d\d)", move, feed)


def test_icaljs_uses_the_feeds_own_vtimezone(write_events, tmp_path):
    """A VTIMEZONE deliberately three hours off moves every instant ical.js
    computes by three hours: the offsets come from the feed, not from a zone
    database. And a feed without its VTIMEZONE is refused, not read as floating."""
    node = require_node()
    calendar = load_calendar(write_events(WEEKLY_ROME))
    feed = Published(calendar).feed(FeedFilter(), TODAY).data
    right = icaljs_records(node, write_feed(calendar, tmp_path / "right.ics"), Y2022, Y2024)
    wrong_path = tmp_path / "wrong.ics"
    wrong_path.write_bytes(_shift_vtimezone_offsets(feed, 3))
    assert b"TZOFFSETTO:+0500" in wrong_path.read_bytes()
    wrong = icaljs_records(node, wrong_path, Y2022, Y2024)

    def earlier(text: str) -> str:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ") - timedelta(hours=3)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    assert len(right) == len(wrong) == 104
    assert sorted(r.start for r in wrong) == sorted(earlier(r.start) for r in right)
    assert "2022-01-05T14:00:00Z" in {r.start for r in wrong}  # 18:00 at "+04:00"

    without = re.sub(rb"BEGIN:VTIMEZONE\r\n.*?END:VTIMEZONE\r\n", b"", feed, flags=re.S)
    path = tmp_path / "without.ics"
    path.write_bytes(without)
    result = subprocess.run(
        [node, str(SCRIPT), str(path), "2022-01-01T00:00:00Z", "2024-01-01T00:00:00Z"],
        capture_output=True, text=True, timeout=NODE_TIMEOUT,
    )
    assert result.returncode == 2
    assert "no VTIMEZONE for it" in result.stderr


# --------------------------------------------------------------------------
# Where ical.js departs from RFC 5545: calfeed is checked against instants
# written by hand from the RFC; ical.js against the same, as a strict xfail.
# Outside the days where it goes wrong, ical.js must still agree with calfeed.


class Deviation(NamedTuple):
    body: str
    after: datetime
    before: datetime
    rfc_starts: dict[str, list[str]]  # event id → every start in the window, by hand
    wrong_days: frozenset[str]  # UTC days on which ical.js is known to differ
    reason: str


DEVIATIONS = {
    # RFC 5545 3.3.10 (RRULE): a generated local time that does not exist or
    # occurs twice is read as an explicit DATE-TIME would be (3.3.5): in a gap
    # "using the UTC offset before the gap", when repeated "the first occurrence".
    "dst-gap-and-repeated-hour": Deviation(
        """
[[events]]
id = "notte-marzo"
title = "Notte di marzo"
start = 2022-03-26T02:30:00
duration = "PT30M"
rrule = "FREQ=DAILY;COUNT=3"

[[events]]
id = "notte-ottobre"
title = "Notte di ottobre"
start = 2022-10-29T02:30:00
duration = "PT30M"
rrule = "FREQ=DAILY;COUNT=3"

[[events]]
id = "ny-marzo"
title = "New York, marzo"
timezone = "America/New_York"
start = 2023-03-11T02:30:00
rrule = "FREQ=DAILY;COUNT=3"

[[events]]
id = "ny-novembre"
title = "New York, novembre"
timezone = "America/New_York"
start = 2023-11-04T01:30:00
rrule = "FREQ=DAILY;COUNT=3"
""",
        Y2022,
        Y2024,
        {
            # 02:30 on 27 March does not exist in Rome: +01:00, the offset before the gap.
            "notte-marzo": ["2022-03-26T01:30:00Z", "2022-03-27T01:30:00Z", "2022-03-28T00:30:00Z"],
            # 02:30 on 30 October happens twice: the first, at +02:00.
            "notte-ottobre": ["2022-10-29T00:30:00Z", "2022-10-30T00:30:00Z", "2022-10-31T01:30:00Z"],
            # 02:30 on 12 March 2023 does not exist in New York: -05:00 (RFC's own example).
            "ny-marzo": ["2023-03-11T07:30:00Z", "2023-03-12T07:30:00Z", "2023-03-13T06:30:00Z"],
            # 01:30 on 5 November 2023 happens twice: the first, EDT -04:00.
            "ny-novembre": ["2023-11-04T05:30:00Z", "2023-11-05T05:30:00Z", "2023-11-06T06:30:00Z"],
        },
        frozenset({"2022-03-27", "2022-10-30", "2023-03-12", "2023-11-05"}),
        "ical.js 2.2.1 Timezone.utcOffset() gives a local time in a DST gap the offset after the gap "
        "(02:30 Rome on 27 Mar 2022 -> 00:30Z; RFC 5545 3.3.5: 01:30Z) and a repeated local time the "
        "standard offset, i.e. its second occurrence (`want_daylight = false; // TODO`: 02:30 Rome on "
        "30 Oct 2022 -> 01:30Z; RFC: the first, 00:30Z)",
    ),
    # RFC 5545 3.8.5.3: "Where duplicate instances are generated by the RRULE
    # and RDATE properties, only one recurrence is considered."
    "rdate-equal-to-a-rule-date": Deviation(
        """
[[events]]
id = "doppione"
title = "Rdate uguale a una data della regola"
start = 2022-05-04T18:00:00
rrule = "FREQ=WEEKLY;COUNT=3"
rdates = [2022-05-11T18:00:00]
""",
        Y2022,
        Y2024,
        {"doppione": ["2022-05-04T16:00:00Z", "2022-05-11T16:00:00Z", "2022-05-18T16:00:00Z"]},
        frozenset({"2022-05-11"}),
        "ical.js 2.2.1 RecurExpansion.next() does not drop an RDATE equal to an RRULE date, so "
        "11 May comes out twice (kewisch/ical.js#1026)",
    ),
    # RFC 5545 3.3.10: instances with an invalid date (29 February of a common
    # year) "MUST be ignored and MUST NOT be counted as part of the recurrence set".
    "yearly-on-29-february": Deviation(
        """
[[events]]
id = "bisestile"
title = "Giorno bisestile"
start = 2020-02-29
rrule = "FREQ=YEARLY"

[[events]]
id = "bisestile-ore-10"
title = "Giorno bisestile, ore 10"
start = 2020-02-29T10:00:00
duration = "PT1H"
rrule = "FREQ=YEARLY"
""",
        Y2023,
        Y2025,
        {"bisestile": ["2024-02-29"], "bisestile-ore-10": ["2024-02-29T09:00:00Z"]},
        frozenset({"2023-03-01"}),
        "ical.js 2.2.1 RecurIterator turns 29 February into 1 March in common years for a bare "
        "FREQ=YEARLY (2023-03-01 appears; kewisch/ical.js#91, open PR #1004)",
    ),
}


@pytest.fixture(scope="module")
def deviations(tmp_path_factory):
    """Every deviation case, expanded by both sides: name → (ical.js, calfeed)."""
    if _missing():
        return None
    node = require_node()
    folder = tmp_path_factory.mktemp("deviations")
    found = {}
    for name, case in DEVIATIONS.items():
        source = folder / f"{name}.toml"
        source.write_text(HEADER + case.body, encoding="utf-8")
        calendar = load_calendar(source)
        ics = write_feed(calendar, folder / f"{name}.ics")
        found[name] = (
            icaljs_records(node, ics, case.after, case.before),
            calfeed_records(calendar, case.after, case.before),
        )
    return found


def _starts_by_event(records: list[Record], case: Deviation) -> dict[str, list[str]]:
    return {ident: starts_of(records, ident) for ident in case.rfc_starts}


class IcaljsDeparts(AssertionError):
    """ical.js's starts differ from RFC 5545's: the known, expected failure."""


@pytest.mark.parametrize("name", list(DEVIATIONS))
def test_calfeed_follows_rfc_where_icaljs_does_not(deviations, name):
    case = DEVIATIONS[name]
    icaljs, calfeed = results(deviations, name)
    assert _starts_by_event(calfeed, case) == case.rfc_starts
    # On every other day ical.js reads the same feed the same way.
    def elsewhere(records: list[Record]) -> list[Record]:
        return [r for r in records if r.start[:10] not in case.wrong_days]

    assert_same(elsewhere(icaljs), elsewhere(calfeed))


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, raises=IcaljsDeparts, reason=case.reason))
        for name, case in DEVIATIONS.items()
    ],
)
def test_icaljs_follows_rfc(deviations, name):
    case = DEVIATIONS[name]
    icaljs, _ = results(deviations, name)
    found = _starts_by_event(icaljs, case)
    if found != case.rfc_starts:
        raise IcaljsDeparts(f"ical.js: {found}\nRFC 5545: {case.rfc_starts}")

"""`calfeed check` on hand-written bad events.toml files: one file per kind of
mistake in the contract's "Errors" list, driven through the real command line.

Every error line must let an editor fix the file without reading code:

    PATH:LINE: event "festa" (#3): FIELD: what is wrong; what is allowed

In each case the line the message must name is marked with ``#<`` in the
TOML text (a comment, so it does not change what the file means).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path

import pytest
from click.testing import CliRunner

from calfeed.cli import cli

MARK = "#<"

# Two good events first, so that the event under test is the third (#3).
# ASCII only, so that the non-UTF-8 case controls every non-ASCII byte.
PREAMBLE = """\
[calendar]
name = "Prova"
base_url = "https://eventi.example.org"
timezone = "Europe/Rome"

[places.bagni-pubblici]
name = "Bagni Pubblici di via Aglie"
address = "Via Aglie 9, 10154 Torino"
geo = [45.0907, 7.6913]
url = "https://www.bagnipubblici.it"

[[events]]
id = "assemblea"
title = "Assemblea"
start = 2022-01-10T18:00:00
end = 2022-01-10T20:00:00

[[events]]
id = "corso"
title = "Corso"
start = 2022-02-10
"""

FESTA = 'event "festa" (#3)'
CALENDAR = "[calendar]"
HTTP_ONLY = "only http:// and https:// URLs are allowed"


@dataclass
class Case:
    """A bad file and the one error line it must produce.

    ``body`` is appended to PREAMBLE when it starts with ``[[events]]`` (the
    event under test is then the third); otherwise it is the whole file. ``where`` and ``field`` are the parts of the
    message after the line number; ``says`` are substrings of the message
    (what is wrong and what is allowed); ``count`` is how many errors the file
    has in all (the error under test, plus any that follow from it).
    """

    body: str
    where: str | None
    field: str | None
    says: list[str] = dc_field(default_factory=list)
    count: int = 1

    def text(self) -> str:
        body = textwrap.dedent(self.body)
        return PREAMBLE + "\n" + body if body.startswith("[[events]]") else body


def marked_line(text: str) -> int:
    lines = [n for n, line in enumerate(text.split("\n"), start=1) if MARK in line]
    assert len(lines) == 1, "a case marks exactly one line"
    return lines[0]


def check(path: Path):
    """Run `calfeed check PATH`; a traceback is never an acceptable answer."""
    result = CliRunner().invoke(cli, ["check", str(path)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(*result.exc_info))
        pytest.fail(f"calfeed crashed instead of reporting the error:\n{trace}")
    return result


def error_lines(result, path: Path) -> list[str]:
    """The error lines of a failed check (without the closing count line)."""
    assert result.exit_code == 1, result.output
    assert result.stdout == "", "errors go to stderr; stdout stays empty"
    lines = result.stderr.rstrip("\n").split("\n")
    *errors, total = lines
    assert total.endswith(f" in {path}"), total
    return errors


def expected_prefix(path: Path, line: int | None, where: str | None, field: str | None) -> str:
    place = f"{path}:{line}" if line else f"{path}"
    return ": ".join([place, *[part for part in (where, field) if part]]) + ": "


def assert_reported(errors: list[str], prefix: str, says: list[str]) -> str:
    """One error line starts with ``prefix`` and contains every phrase of ``says``."""
    matching = [line for line in errors if line.startswith(prefix)]
    assert matching, f"no error starts with {prefix!r}; got:\n" + "\n".join(errors)
    for line in matching:
        if all(phrase in line for phrase in says):
            return line
    pytest.fail(f"no error starting with {prefix!r} says all of {says}; got:\n" + "\n".join(matching))


CASES = [
    # --- bad TOML syntax -------------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = Festa di primavera  #<
            start = 2022-05-01T10:00:00
            """,
            None, None, ["bad TOML", "Invalid value"],
        ),
        id="bad-toml-bare-word",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            title = "Festa di primavera"  #<
            """,
            None, None, ["bad TOML", "Cannot overwrite a value"],
        ),
        id="bad-toml-key-twice",
    ),
    pytest.param(
        # A forgotten closing """ is the likeliest syntax error in a long
        # description; the editor needs the line where the text opens.
        Case(
            '''\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            description = """Musica e merenda.  #<
            Ingresso libero.

            [[events]]
            id = "cena"
            title = "Cena"
            start = 2022-05-02T20:00:00
            ''',
            None, None, ["bad TOML", "Unterminated string"],
        ),
        id="bad-toml-unclosed-multiline-string",
    ),
    # --- unknown key, with a suggestion --------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            descripton = "Musica e merenda"  #<
            """,
            FESTA, "descripton",
            ['unknown key "descripton"', 'did you mean "description"?', "Allowed:", "title"],
        ),
        id="unknown-key-event",
    ),
    pytest.param(
        Case(
            """\
            [calendar]
            name = "Prova"
            base_url = "https://eventi.example.org"
            languge = "en"  #<
            """,
            CALENDAR, "languge", ['unknown key "languge"', 'did you mean "language"?'],
        ),
        id="unknown-key-calendar",
    ),
    pytest.param(
        Case(
            """\
            [calendar]
            name = "Prova"
            base_url = "https://eventi.example.org"

            [places.bagni-pubblici]
            name = "Bagni Pubblici"
            adress = "Via Aglie 9"  #<
            """,
            'place "bagni-pubblici"', "adress", ['unknown key "adress"', 'did you mean "address"?'],
        ),
        id="unknown-key-place",
    ),
    pytest.param(
        # A misspelled [calendar] header: the line is the header's, and the
        # calendar then counts as missing too.
        Case(
            """\
            [calender]  #<
            name = "Prova"
            base_url = "https://eventi.example.org"
            """,
            None, "calender", ['unknown key "calender"', 'did you mean "calendar"?'], count=2,
        ),
        id="unknown-table-calendar",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            organizer = { name = "Labsus", mail = "info@example.org" }  #<
            """,
            FESTA, "organizer", ['unknown key "mail"', 'did you mean "email"?'],
        ),
        id="unknown-key-organizer",
    ),
    # --- missing field ------------------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]  #<
            id = "festa"
            start = 2022-05-01T10:00:00
            """,
            FESTA, "title", ["missing", "title is required", "text in quotes"],
        ),
        id="missing-title",
    ),
    pytest.param(
        Case(
            """\
            [[events]]  #<
            id = "festa"
            title = "Festa"
            """,
            FESTA, "start", ["missing", "start is required", "a date or a date-time"],
        ),
        id="missing-start",
    ),
    pytest.param(
        Case(
            """\
            [[events]]  #<
            title = "Festa"
            start = 2022-05-01T10:00:00
            """,
            "event #3", "id", ["missing", "id is required"],
        ),
        id="missing-id-names-position",
    ),
    pytest.param(
        Case(
            """\
            [calendar]  #<
            name = "Prova"
            """,
            CALENDAR, "base_url", ["missing", "base_url is required"],
        ),
        id="missing-base-url",
    ),
    # --- wrong type ------------------------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = 2022  #<
            start = 2022-05-01T10:00:00
            """,
            FESTA, "title", ["must be text in quotes", "not a whole number"],
        ),
        id="wrong-type-title",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = "2022-05-01 10:00"  #<
            """,
            FESTA, "start", ["must be a date (2021-12-01) or a date-time (2021-12-01T18:00:00)", "not text"],
        ),
        id="wrong-type-start-in-quotes",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            categories = "Feste"  #<
            """,
            FESTA, "categories", ["must be a list of names in quotes", "not text"],
        ),
        id="wrong-type-categories",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            sequence = "1"  #<
            """,
            FESTA, "sequence", ["must be a whole number", "not text"],
        ),
        id="wrong-type-sequence",
    ),
    # --- unknown zone ---------------------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            timezone = "Europe/Roma"  #<
            """,
            FESTA, "timezone",
            ['unknown time zone "Europe/Roma"', 'did you mean "Europe/Rome"?', "IANA name"],
        ),
        id="unknown-zone-event",
    ),
    pytest.param(
        Case(
            """\
            [calendar]
            name = "Prova"
            base_url = "https://eventi.example.org"
            timezone = "CEST"  #<
            """,
            CALENDAR, "timezone", ['unknown time zone "CEST"', 'IANA name such as "Europe/Rome"'],
        ),
        id="unknown-zone-calendar",
    ),
    # --- end before start ---------------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T18:00:00
            end = 2022-05-01T17:00:00  #<
            """,
            FESTA, "end", ["2022-05-01T17:00:00 is not after start 2022-05-01T18:00:00", "must end after it starts"],
        ),
        id="end-before-start",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-03
            end = 2022-05-01  #<
            """,
            FESTA, "end", ["2022-05-01 is before start 2022-05-03", "end is the last day, inclusive"],
        ),
        id="end-before-start-all-day",
    ),
    # --- bad duration -------------------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T18:00:00
            duration = "1h30"  #<
            """,
            FESTA, "duration", ['"1h30" is not a positive ISO 8601 duration', '"PT1H30M"'],
        ),
        id="bad-duration",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T18:00:00
            duration = "PT0M"  #<
            """,
            FESTA, "duration", ['"PT0M" is not a positive ISO 8601 duration'],
        ),
        id="bad-duration-zero",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01
            duration = "PT3H"  #<
            """,
            FESTA, "duration", ["PT3H is not whole days", "P1D"],
        ),
        id="bad-duration-all-day",
    ),
    pytest.param(
        Case(
            """\
            [calendar]
            name = "Prova"
            base_url = "https://eventi.example.org"
            refresh = "6 hours"  #<
            """,
            CALENDAR, "refresh", ['"6 hours" is not a positive ISO 8601 duration'],
        ),
        id="bad-duration-refresh",
    ),
    # --- recurrence --------------------------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-04T18:00:00
            rrule = "FREQ=WEEKLY;BYDAY=WE;FOO=1"  #<
            """,
            FESTA, "rrule", ['unknown part "FOO"', 'RFC 5545 allows FREQ'],
        ),
        id="rrule-unknown-part",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-04T18:00:00
            rrule = "FREQ=WEEKLY;COUNT=3;UNTIL=2022-06-29"  #<
            """,
            FESTA, "rrule", ['COUNT and UNTIL together'],
        ),
        id="rrule-count-and-until",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-04T18:00:00
            rrule = "FREQ=WEEKLY;BYDAY=WX"  #<
            """,
            FESTA, "rrule", ['"WX" is not a day', 'MO, TU, WE'],
        ),
        id="rrule-bad-byday",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-04T18:00:00
            rrule = "FREQ=WEEKLY;BYDAY=2WE"  #<
            """,
            FESTA, "rrule", ['numbered day (2WE) needs FREQ=MONTHLY or FREQ=YEARLY'],
        ),
        id="rrule-numbered-weekly",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-04T18:00:00
            rrule = "FREQ=FORTNIGHTLY"  #<
            """,
            FESTA, "rrule", ['FREQ=FORTNIGHTLY', 'use one of YEARLY'],
        ),
        id="rrule-bad-freq",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-04T18:00:00
            rrule = "FREQ=WEEKLY;UNTIL=2022-04-01"  #<
            """,
            FESTA, "rrule", ['UNTIL=2022-04-01 is before start'],
        ),
        id="rrule-until-before-start",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-03T18:00:00  #<
            rrule = "FREQ=WEEKLY;BYDAY=WE"
            """,
            FESTA, "start", ['2022-05-03T18:00:00 (Tuesday) is not a date of the rule', 'first date, 2022-05-04T18:00:00'],
        ),
        id="rrule-start-not-a-date",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-04T18:00:00+02:00  #<
            rrule = "FREQ=WEEKLY"
            """,
            FESTA, "start", ['a series follows wall-clock time', 'without an offset'],
        ),
        id="rrule-offset-start",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-04T18:00:00
            rrule = "FREQ=WEEKLY;UNTIL=2022-06-29"
            exdates = [2022-05-12T18:00:00]  #<
            """,
            FESTA, "exdates", ['2022-05-12T18:00:00 is not a date of the series', '2022-05-11T18:00:00 or 2022-05-18T18:00:00'],
        ),
        id="exdate-matches-nothing",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-04
            rrule = "FREQ=WEEKLY"
            exdates = [2022-05-11T18:00:00]  #<
            """,
            FESTA, "exdates", ['is not allowed here', 'dates like start'],
        ),
        id="exdate-wrong-kind",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-04T18:00:00
            rdates = ["domani"]  #<
            """,
            FESTA, "rdates", ['must be a date', 'or a date-time'],
        ),
        id="rdate-wrong-type",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-04T18:00:00
            rrule = "FREQ=WEEKLY"

            [[events.overrides]]
            recurrence_id = 2022-05-12T18:00:00  #<
            status = "cancelled"
            """,
            FESTA + ", override #1", "recurrence_id", ['is not a date of the series', '2022-05-11T18:00:00'],
        ),
        id="override-matches-nothing",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-04T18:00:00
            rrule = "FREQ=WEEKLY"

            [[events.overrides]]
            recurrence_id = 2022-05-11T18:00:00
            statu = "cancelled"  #<
            """,
            FESTA + ", override #1", "statu", ['unknown key "statu"', 'did you mean "status"?'],
        ),
        id="override-unknown-key",
    ),
    # --- duplicate id -----------------------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "assemblea"  #<
            title = "Seconda assemblea"
            start = 2022-05-01T10:00:00
            """,
            'event "assemblea" (#3)', "id",
            ['duplicate id "assemblea"', "event #1 has it too", "ids must be unique"],
        ),
        id="duplicate-id",
    ),
    # --- unknown place -----------------------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            place = "bagni-publici"  #<
            """,
            FESTA, "place",
            ['unknown place "bagni-publici"', 'did you mean "bagni-pubblici"?', "places in this file: bagni-pubblici"],
        ),
        id="unknown-place",
    ),
    # --- bad URL: only http and https ----------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            url = "javascript:alert(1)"  #<
            """,
            FESTA, "url", ['"javascript:alert(1)" is not a web address', HTTP_ONLY],
        ),
        id="bad-url-javascript",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            image = "data:image/png;base64,iVBORw0KGgo="  #<
            """,
            FESTA, "image", ['"data:image/png;base64,iVBORw0KGgo=" is not a web address', HTTP_ONLY],
        ),
        id="bad-url-data",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            attachments = ["ftp://files.example.org/programma.pdf"]  #<
            """,
            FESTA, "attachments", ['"ftp://files.example.org/programma.pdf" is not a web address', HTTP_ONLY],
        ),
        id="bad-url-ftp-attachment",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            online = ["https://www.youtube.com/@labsus", "javascript:void(0)"]  #<
            """,
            FESTA, "online", ['"javascript:void(0)" is not a web address', HTTP_ONLY],
        ),
        id="bad-url-online-list",
    ),
    pytest.param(
        Case(
            """\
            [calendar]
            name = "Prova"
            base_url = "https://eventi.example.org"

            [places.bagni-pubblici]
            name = "Bagni Pubblici"
            url = "www.bagnipubblici.it"  #<
            """,
            'place "bagni-pubblici"', "url", ['"www.bagnipubblici.it" is not a web address', HTTP_ONLY],
        ),
        id="bad-url-place-without-scheme",
    ),
    pytest.param(
        Case(
            """\
            [calendar]
            name = "Prova"
            base_url = "ftp://eventi.example.org"  #<
            """,
            CALENDAR, "base_url", ['"ftp://eventi.example.org" is not a web address', HTTP_ONLY],
        ),
        id="bad-url-base-url",
    ),
    pytest.param(
        Case(
            f"""\
            [calendar]
            name = "Prova"
            base_url = "https://eventi.example.org/{'p' * 190}"  #<
            """,
            CALENDAR, "base_url", ["is 217 characters long", "at most 200 are allowed"],
        ),
        id="too-long-base-url",
    ),
    pytest.param(
        Case(
            f"""\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            categories = ["Feste", "{'x' * 101}"]  #<
            """,
            FESTA, "categories", ["is 101 characters long", "a category name has at most 100"],
        ),
        id="too-long-category",
    ),
    # --- bad slug ----------------------------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "Festa_Primavera"  #<
            title = "Festa"
            start = 2022-05-01T10:00:00
            """,
            'event "Festa_Primavera" (#3)', "id",
            ['"Festa_Primavera" is not a valid id', 'lower-case letters, digits and "-"', "at most 80 characters"],
        ),
        id="bad-slug-event-id",
    ),
    pytest.param(
        Case(
            """\
            [calendar]
            name = "Prova"
            base_url = "https://eventi.example.org"

            [places.Bagni_Pubblici]  #<
            name = "Bagni Pubblici"
            """,
            'place "Bagni_Pubblici"', None,
            ['"Bagni_Pubblici" is not a valid slug', 'lower-case letters, digits and "-"', '"bagni-pubblici"'],
        ),
        id="bad-slug-place",
    ),
    # --- DST gap and overlap (Europe/Rome) ------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-03-27T02:30:00  #<
            """,
            FESTA, "start",
            [
                "2022-03-27T02:30:00 does not exist in Europe/Rome",
                "2022-03-27T01:30:00+01:00",
                "2022-03-27T03:30:00+02:00",
            ],
        ),
        id="dst-gap",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-10-30T02:30:00  #<
            """,
            FESTA, "start",
            [
                "2022-10-30T02:30:00 happens twice in Europe/Rome",
                "2022-10-30T02:30:00+02:00",
                "2022-10-30T02:30:00+01:00",
            ],
        ),
        id="dst-overlap",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-03-27T01:00:00
            end = 2022-03-27T02:15:00  #<
            """,
            FESTA, "end",
            ["does not exist in Europe/Rome", "2022-03-27T01:15:00+01:00", "2022-03-27T03:15:00+02:00"],
        ),
        id="dst-gap-end",
    ),
    # --- control characters in text ---------------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa\\u0007"  #<
            start = 2022-05-01T10:00:00
            """,
            FESTA, "title", ["control character U+0007", "only tabs and line breaks are allowed"],
        ),
        id="control-character-title",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            description = "Musica\\u001b[31m e merenda"  #<
            """,
            FESTA, "description", ["control character U+001B", "only tabs and line breaks are allowed"],
        ),
        id="control-character-description",
    ),
    pytest.param(
        Case(
            """\
            [calendar]
            name = "Prova"
            base_url = "https://eventi.example.org"

            [places.bagni-pubblici]
            name = "Bagni\\u0000Pubblici"  #<
            """,
            'place "bagni-pubblici"', "name", ["control character U+0000", "only tabs and line breaks"],
        ),
        id="control-character-place-name",
    ),
    # --- place and location both; end and duration both -----------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            place = "bagni-pubblici"
            location = "Via Aglie 9, Torino"  #<
            """,
            FESTA, "location", ["give either place or location, not both"],
        ),
        id="place-and-location",
    ),
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            end = 2022-05-01T12:00:00
            duration = "PT2H"  #<
            """,
            FESTA, "duration", ["give either end or duration, not both"],
        ),
        id="end-and-duration",
    ),
    # --- bad status ---------------------------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            status = "canceled"  #<
            """,
            FESTA, "status", ['"canceled" is not a status', "confirmed, tentative, cancelled"],
        ),
        id="bad-status",
    ),
    # --- bad geo -----------------------------------------------------------------
    pytest.param(
        Case(
            """\
            [calendar]
            name = "Prova"
            base_url = "https://eventi.example.org"

            [places.bagni-pubblici]
            name = "Bagni Pubblici"
            geo = [450.907, 7.6913]  #<
            """,
            'place "bagni-pubblici"', "geo", ["must be [latitude, longitude] in degrees", "[45.0907, 7.6913]"],
        ),
        id="bad-geo-out-of-range",
    ),
    pytest.param(
        Case(
            """\
            [calendar]
            name = "Prova"
            base_url = "https://eventi.example.org"

            [places.bagni-pubblici]
            name = "Bagni Pubblici"
            geo = "45.0907, 7.6913"  #<
            """,
            'place "bagni-pubblici"', "geo", ["must be [latitude, longitude] in degrees"],
        ),
        id="bad-geo-text",
    ),
    pytest.param(
        # [places] with inline tables is the same TOML as [places.<slug>].
        Case(
            """\
            [calendar]
            name = "Prova"
            base_url = "https://eventi.example.org"

            [places]
            bagni-pubblici = { name = "Bagni Pubblici", geo = [450.907, 7.6913] }  #<
            """,
            'place "bagni-pubblici"', "geo", ["must be [latitude, longitude] in degrees"],
        ),
        id="bad-geo-place-as-inline-table",
    ),
    # --- bad email -----------------------------------------------------------------
    pytest.param(
        Case(
            """\
            [[events]]
            id = "festa"
            title = "Festa"
            start = 2022-05-01T10:00:00
            organizer = { name = "Labsus", email = "info.example.org" }  #<
            """,
            FESTA, "organizer", ['"info.example.org" is not an e-mail address'],
        ),
        id="bad-email",
    ),
    pytest.param(
        # The calendar's own `name` must not take the blame for the organizer's.
        Case(
            """\
            [calendar]
            name = "Prova"
            base_url = "https://eventi.example.org"
            organizer = { name = 42, email = "info@example.org" }  #<
            """,
            CALENDAR, "organizer", ["must be text in quotes", "not a whole number"],
        ),
        id="wrong-type-organizer-name",
    ),
    # --- bad language --------------------------------------------------------------
    pytest.param(
        Case(
            """\
            [calendar]
            name = "Prova"
            base_url = "https://eventi.example.org"
            language = "fr"  #<
            """,
            CALENDAR, "language", ['"fr" is not available', 'use "it" or "en"'],
        ),
        id="bad-language",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_bad_file_is_refused_with_a_message_that_places_the_mistake(case, tmp_path):
    text = case.text()
    path = tmp_path / "events.toml"
    path.write_text(text, encoding="utf-8")
    result = check(path)
    errors = error_lines(result, path)
    assert_reported(errors, expected_prefix(path, marked_line(text), case.where, case.field), case.says)
    noun = "error" if case.count == 1 else "errors"
    assert result.stderr.rstrip("\n").split("\n")[-1] == f"{case.count} {noun} in {path}"
    assert len(errors) == case.count, "\n".join(errors)


def test_file_that_is_not_utf8_is_refused_with_its_line(tmp_path):
    text = PREAMBLE + '\n[[events]]\nid = "festa"\ntitle = "Caffè letterario"  #<\nstart = 2022-05-01T10:00:00\n'
    path = tmp_path / "events.toml"
    path.write_bytes(text.encode("latin-1"))
    result = check(path)
    errors = error_lines(result, path)
    assert errors == [f"{path}:{marked_line(text)}: the file is not UTF-8 text; save it as UTF-8"]


def test_missing_file_is_an_error_not_a_traceback(tmp_path):
    path = tmp_path / "nowhere.toml"
    result = check(path)
    errors = error_lines(result, path)
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}: cannot read the file")


@pytest.mark.parametrize(
    "body, field_name",
    [
        pytest.param('start = 2022-05-01T10:00:00\nduration = "P99999999D"  #<\n', "duration", id="huge-duration"),
        pytest.param("start = 9999-12-30\nend = 9999-12-31  #<\n", "end", id="all-day-to-year-9999"),
    ],
)
def test_dates_out_of_range_are_errors_not_tracebacks(body, field_name, tmp_path):
    text = PREAMBLE + '\n[[events]]\nid = "festa"\ntitle = "Festa"\n' + body
    path = tmp_path / "events.toml"
    path.write_text(text, encoding="utf-8")
    errors = error_lines(check(path), path)
    assert_reported(errors, expected_prefix(path, marked_line(text), FESTA, field_name), [])


# --- every mistake at once ------------------------------------------------------

SEVERAL = """\
[calendar]
name = "Prova"
base_url = "https://eventi.example.org"
language = "fr"

[places.bagni-pubblici]
name = "Bagni Pubblici"
geo = [45.0907]

[[events]]
id = "festa"
title = "Festa"
start = 2022-03-27T02:30:00
status = "rinviato"

[[events]]
id = "festa"
start = 2022-05-01T10:00:00
place = "bagni"
url = "javascript:alert(1)"
"""

SEVERAL_EXPECTED = [
    (4, CALENDAR, "language", '"fr" is not available'),
    (8, 'place "bagni-pubblici"', "geo", "[latitude, longitude]"),
    (13, 'event "festa" (#1)', "start", "does not exist in Europe/Rome"),
    (14, 'event "festa" (#1)', "status", '"rinviato" is not a status'),
    (16, 'event "festa" (#2)', "title", "title is required"),
    (17, 'event "festa" (#2)', "id", 'duplicate id "festa"'),
    (19, 'event "festa" (#2)', "place", 'unknown place "bagni"'),
    (20, 'event "festa" (#2)', "url", HTTP_ONLY),
]


def test_all_mistakes_of_a_file_are_reported_at_once(write_events):
    path = write_events(SEVERAL)
    result = check(path)
    errors = error_lines(result, path)
    for line, where, field_name, says in SEVERAL_EXPECTED:
        assert_reported(errors, expected_prefix(path, line, where, field_name), [says])
    assert len(errors) == len(SEVERAL_EXPECTED), "\n".join(errors)
    assert result.stderr.rstrip("\n").split("\n")[-1] == f"{len(SEVERAL_EXPECTED)} errors in {path}"


def test_events_are_checked_even_when_the_calendar_header_is_misspelled(write_events):
    # A typo in [calendar] must not hide the mistakes further down: the
    # editor would fix one and then meet the rest in a second run.
    path = write_events(
        """\
        [calender]
        name = "Prova"
        base_url = "https://eventi.example.org"

        [[events]]
        id = "festa"
        title = "Festa"
        start = 2022-05-01T10:00:00
        status = "rinviato"
        """,
        header=False,
    )
    errors = error_lines(check(path), path)
    assert_reported(errors, expected_prefix(path, 9, 'event "festa" (#1)', "status"), ['"rinviato" is not a status'])


def test_end_is_checked_even_when_start_is_wrong(write_events):
    # An end that is not a date at all is wrong whatever the start is.
    path = write_events(
        """\
        [[events]]
        id = "festa"
        title = "Festa"
        start = 2022-03-27T02:30:00
        end = "03:30"
        """
    )
    errors = error_lines(check(path), path)
    assert_reported(errors, expected_prefix(path, 7, 'event "festa" (#1)', "start"), ["does not exist"])
    assert_reported(errors, expected_prefix(path, 8, 'event "festa" (#1)', "end"), ["must be a date"])


def test_toml_syntax_error_is_reported_alone_with_its_line(write_events):
    # Line 4 has a mistake validation would find, line 12 breaks the TOML:
    # only the syntax error can be reported, since nothing was parsed.
    path = write_events(
        """\
        [calendar]
        name = "Prova"
        base_url = "https://eventi.example.org"
        language = "fr"

        [[events]]
        id = "festa"
        title = "Festa"
        start = 2022-05-01T10:00:00
        status = "rinviato"

        url = "https://www.labsus.org/festa
        """
    )
    result = check(path)
    errors = error_lines(result, path)
    assert len(errors) == 1, "\n".join(errors)
    assert errors[0].startswith(f"{path}:12: bad TOML: ")
    assert result.stderr.rstrip("\n").split("\n")[-1] == f"1 error in {path}"


def test_line_numbers_survive_a_comment_that_mentions_triple_quotes(write_events):
    # Editors document their file; a comment is not the start of a string.
    path = write_events(
        '''\
        [calendar]
        name = "Prova"
        base_url = "https://eventi.example.org"
        # Long descriptions go between """ marks.

        [[events]]
        id = "festa"
        title = "Festa"
        start = 2022-05-01T10:00:00
        status = "rinviato"
        '''
    )
    errors = error_lines(check(path), path)
    assert_reported(errors, expected_prefix(path, 10, 'event "festa" (#1)', "status"), ['"rinviato"'])


# --- good files ------------------------------------------------------------------


def test_good_file_prints_a_one_line_summary_and_exits_0(write_events):
    path = write_events(
        """\
        [places.bagni-pubblici]
        name = "Bagni Pubblici di via Agliè"
        geo = [45.0907, 7.6913]

        [[events]]
        id = "assemblea"
        title = "Assemblea"
        start = 2022-01-10T18:00:00
        end = 2022-01-10T20:00:00
        place = "bagni-pubblici"
        categories = ["Assemblee"]

        [[events]]
        id = "mercatino"
        title = "Mercatino"
        start = 2022-02-10
        status = "cancelled"

        [[events]]
        # An offset makes a time in the spring-forward gap unambiguous.
        id = "notte"
        title = "Notte bianca"
        start = 2022-03-27T02:30:00+01:00
        duration = "PT2H"
        """
    )
    result = check(path)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout == f"{path}: OK: 3 events (1 all-day, 1 cancelled), 1 places, 1 categories\n"


def test_sample_events_toml_passes():
    sample = Path(__file__).resolve().parent.parent / "events.toml"
    result = check(sample)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1 and ": OK: " in result.stdout


def test_windows_line_endings_and_bom_are_accepted(tmp_path):
    text = (
        PREAMBLE
        + '\n[[events]]\nid = "festa"\ntitle = "Festa"\nstart = 2022-05-01T10:00:00\n'
        + 'description = """Musica.\n\nIngresso libero."""\n'
    )
    path = tmp_path / "events.toml"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    result = check(path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{path}: OK: 3 events")


def test_huge_past_days_and_deep_nesting_are_errors(write_events):
    path = write_events('[calendar]\nname = "P"\nbase_url = "https://e.example.org"\npast_days = 999999999\n', header=False)
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 1 and "past_days: must be from 0 to 36500" in result.stderr
    deep = write_events("deep = " + "[" * 5000 + "]" * 5000 + "\n", name="deep.toml")
    result = CliRunner().invoke(cli, ["check", str(deep)])
    assert result.exit_code == 1 and "nested too deeply" in result.stderr
    assert not isinstance(result.exception, RecursionError)


def test_an_explicit_uid_may_not_repeat_a_default_one(write_events):
    path = write_events(
        """\
        [[events]]
        id = "a"
        title = "A"
        start = 2022-05-01

        [[events]]
        id = "b"
        title = "B"
        start = 2022-05-02
        uid = "a@eventi.example.org"
        """
    )
    errors = error_lines(check(path), path)
    assert_reported(errors, expected_prefix(path, 13, 'event "b" (#2)', "uid"), ['duplicate UID "a@eventi.example.org"', "event #1"])


def test_misspelled_array_table_has_its_line(write_events):
    path = write_events('[[event]]\nid = "a"\ntitle = "A"\nstart = 2022-05-01\n')
    errors = error_lines(check(path), path)
    assert any(line.startswith(f"{path}:4: event: unknown key") and 'did you mean "events"?' in line for line in errors), errors


def test_exdates_need_a_series(write_events):
    path = write_events('[[events]]\nid = "a"\ntitle = "A"\nstart = 2022-05-01T10:00:00\nexdates = [2022-05-01T10:00:00]\n')
    errors = error_lines(check(path), path)
    assert_reported(errors, expected_prefix(path, 8, 'event "a" (#1)', "exdates"), ["no rrule or rdates"])


# --------------------------------------------------------------------------- reloads


def test_a_reload_reuses_unchanged_events_and_equals_a_fresh_load():
    """A reload re-checks only the [[events]] tables that changed; what it
    builds (and compiles) is what a fresh load of the same text builds."""
    from calfeed import ical, loading
    from calfeed.validation import EventReuse, build_calendar

    sample = Path(__file__).resolve().parent.parent.joinpath("events.toml").read_text(encoding="utf-8")
    reuse = EventReuse()
    last = build_calendar(loading.parse(sample, "events.toml"), reuse=reuse)
    renamed = sample.replace('title = "Cineforum all\'aperto"', 'title = "Cineforum sotto le stelle"')
    moved = renamed.replace("Via Agliè 9", "Via Agliè 11")  # a place the events show
    edits = [
        (renamed, {"cineforum-bagni-pubblici"}),
        (renamed.replace('\ntimezone = "Europe/Rome"', '\ntimezone = "Europe/Berlin"'), "all"),
        (moved, "all"),
        (moved.replace("recurrence_id = 2022-06-01T17:00:00", "recurrence_id = 2022-06-08T17:00:00"), {"sportello-patti-latina"}),
        (moved, {"sportello-patti-latina"}),
    ]
    for text, changed in edits:
        fresh = build_calendar(loading.parse(text, "events.toml"))
        reloaded = build_calendar(loading.parse(text, "events.toml"), reuse=reuse)
        assert reloaded == fresh
        assert ical.feed(reloaded, reloaded.events) == ical.feed(fresh, fresh.events)
        rechecked = {e.id for e in reloaded.events if last.event(e.id) is not e}
        assert rechecked == ({e.id for e in fresh.events} if changed == "all" else changed)
        last = reloaded


def test_a_reload_reports_errors_as_a_fresh_load_does(write_events):
    """Errors after reused events (overrides are numbered across the file)
    read the same, and the events of the last good version stay reusable."""
    from calfeed import loading
    from calfeed.errors import CalendarErrors
    from calfeed.validation import EventReuse, build_calendar

    sample = Path(__file__).resolve().parent.parent.joinpath("events.toml").read_text(encoding="utf-8")
    bad = sample + '\n[[events]]\nid = "nuovo"\ntitle = "Nuovo"\nstart = 2030-01-01\nrrule = "FREQ=WEEKLY"\n' \
        '[[events.overrides]]\nrecurrence_id = 2030-01-02\n'
    reuse = EventReuse()
    build_calendar(loading.parse(sample, "events.toml"), reuse=reuse)
    reports = []
    for chosen in (None, reuse):
        with pytest.raises(CalendarErrors) as caught:
            build_calendar(loading.parse(bad, "events.toml"), reuse=chosen)
        reports.append(caught.value.report())
    assert reports[0] == reports[1] and "override" in reports[0]
    assert build_calendar(loading.parse(sample, "events.toml"), reuse=reuse) == build_calendar(loading.parse(sample, "events.toml"))


# --------------------------------------------------------------------------- codes for programs


def _problems(text: str) -> list:
    from calfeed import loading
    from calfeed.errors import CalendarErrors
    from calfeed.validation import build_calendar

    with pytest.raises(CalendarErrors) as raised:
        build_calendar(loading.parse(text, "events.toml"))
    return raised.value.problems


@pytest.mark.parametrize("case", CASES)
def test_every_problem_of_a_bad_file_has_a_code_and_its_event(case):
    """calfeed import repairs problems by code: none may be left with the default."""
    text = case.text()
    for problem in _problems(text):
        assert problem.code != "invalid", problem
        if problem.where and problem.where.startswith("event"):
            position = int(re.search(r"#(\d+)", problem.where).group(1))  # 'event "festa" (#3)', 'event #3, override #1'
            assert problem.index == position - 1, problem
        else:
            assert problem.index is None, problem


def test_unknown_key_names_the_key_and_its_suggestion():
    (problem,) = _problems(PREAMBLE + '\n[[events]]\nid = "festa"\ntitel = "Festa"\ntitle = "Festa"\nstart = 2022-05-04\n')
    assert (problem.code, problem.field, problem.index) == ("unknown-key", "titel", 2)
    assert problem.data["key"] == "titel" and problem.data["suggestion"] == "title"
    assert "title" in problem.data["allowed"] and "start" in problem.data["allowed"]


def test_exdate_off_the_series_gives_its_value_and_the_nearest_dates():
    (problem,) = _problems(
        PREAMBLE + '\n[[events]]\nid = "festa"\ntitle = "Festa"\nstart = 2021-12-01T18:00:00\n'
        'rrule = "FREQ=WEEKLY;BYDAY=WE"\nexdates = [2021-12-09T18:00:00]\n'
    )
    assert (problem.code, problem.field) == ("not-a-date-of-series", "exdates")
    assert problem.data == {"value": "2021-12-09T18:00:00", "nearest": ["2021-12-08T18:00:00", "2021-12-15T18:00:00"]}


def test_override_of_an_all_day_series_names_dates_as_dates():
    (problem,) = _problems(
        PREAMBLE + '\n[[events]]\nid = "festa"\ntitle = "Festa"\nstart = 2021-12-01\n'
        'rrule = "FREQ=WEEKLY"\n[[events.overrides]]\nrecurrence_id = 2021-12-02\nstatus = "cancelled"\n'
    )
    assert (problem.code, problem.field, problem.index) == ("not-a-date-of-series", "recurrence_id", 2)
    assert problem.data == {"value": "2021-12-02", "nearest": ["2021-12-01", "2021-12-08"]}


@pytest.mark.parametrize(
    ("start", "first"),
    [("2021-12-02T18:00:00", "2021-12-08T18:00:00"), ("2021-12-02", "2021-12-08")],
)
def test_start_off_the_rule_gives_the_rules_first_date(start, first):
    (problem,) = _problems(
        PREAMBLE + f'\n[[events]]\nid = "festa"\ntitle = "Festa"\nstart = {start}\nrrule = "FREQ=WEEKLY;BYDAY=WE"\n'
    )
    assert (problem.code, problem.field) == ("start-not-first-date", "start")
    assert problem.data["first"] == first


def test_problems_cross_a_fork_with_their_code_and_data():
    import pickle

    from calfeed.errors import CalendarErrors

    problems = _problems(PREAMBLE + '\n[[events]]\nid = "festa"\ntitel = "Festa"\nstart = 2022-05-04\n')
    again = pickle.loads(pickle.dumps(CalendarErrors("events.toml", problems)))
    assert [(p.code, dict(p.data), p.index) for p in again.problems] == [(p.code, dict(p.data), p.index) for p in problems]
    assert again.report() == CalendarErrors("events.toml", problems).report()

"""Series as `calfeed check` sees them: rdates in DST gaps, every part checked
even when another is wrong, and series too long for any client refused."""

from __future__ import annotations

from click.testing import CliRunner

from calfeed.cli import cli
from calfeed.occurrences import MAX_DATES


def check(path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stderr.rstrip("\n").split("\n")[:-1] if result.exit_code else []


def one_event(write_events, lines: str):
    return write_events('[[events]]\nid = "festa"\ntitle = "Festa"\n' + lines)


def reported(errors: list[str], field: str, *phrases: str) -> bool:
    return any(f': event "festa" (#1): {field}: ' in line and all(p in line for p in phrases) for line in errors)


def test_rdates_in_the_spring_gap_and_the_autumn_overlap_are_errors(write_events):
    path = one_event(
        write_events,
        'start = 2022-03-20T02:30:00\nrrule = "FREQ=WEEKLY;COUNT=2"\n'
        "rdates = [2022-03-27T02:30:00, 2022-10-30T02:30:00]\n",
    )
    code, errors = check(path)
    assert code == 1
    assert reported(errors, "rdates", "2022-03-27T02:30:00 does not exist in Europe/Rome", "2022-03-27T01:30:00+01:00")
    assert reported(errors, "rdates", "2022-10-30T02:30:00 happens twice in Europe/Rome", "2022-10-30T02:30:00+02:00")
    assert len(errors) == 2, errors


def test_rdates_with_an_offset_in_the_gap_are_fine(write_events):
    path = one_event(write_events, "start = 2022-03-20T02:30:00\nrdates = [2022-03-27T03:30:00+02:00, 2022-10-30T02:30:00+01:00]\n")
    assert check(path) == (0, [])


def test_an_exdate_at_a_gap_time_still_names_the_rules_date_there(write_events):
    # RFC 5545: the rule's 02:30 on the day of the gap is read at the offset
    # before the change; the exdate names that date by the same wall-clock time.
    path = one_event(
        write_events,
        'start = 2022-03-26T02:30:00\nrrule = "FREQ=DAILY;COUNT=3"\nexdates = [2022-03-27T02:30:00]\n',
    )
    assert check(path) == (0, [])


def test_an_exdate_at_a_gap_time_is_not_refused_when_start_is_wrong(write_events):
    path = one_event(write_events, 'start = 2022-03-26T02:30:00+09:00\nrrule = "FREQ=DAILY"\nexdates = [2022-03-27T02:30:00]\n')
    code, errors = check(path)
    assert reported(errors, "start", "a series follows wall-clock time")
    assert reported(errors, "exdates", "not compared with the series, because start has an offset")
    assert len(errors) == 2, errors


def test_a_bad_start_does_not_hide_the_rule_the_exdates_and_the_overrides(write_events):
    path = one_event(
        write_events,
        'start = "domani"\nrrule = "FREQ=WEEKLY;BYDAY=XX"\nexdates = ["nope"]\nrdates = [2022-03-27T02:30:00]\n'
        '[[events.overrides]]\nrecurrence_id = 2022-05-11T18:00:00\nsatus = "cancelled"\n',
    )
    code, errors = check(path)
    assert code == 1
    assert reported(errors, "start", "must be a date")
    assert reported(errors, "rrule", "BYDAY=XX")
    assert reported(errors, "exdates", "must be a date", "not text")
    assert reported(errors, "rdates", "does not exist in Europe/Rome")
    assert any('override #1: satus: unknown key "satus"' in line for line in errors), errors
    assert any("override #1: recurrence_id: not compared with the series, because start is wrong" in line for line in errors), errors
    assert len(errors) == 6, errors


def test_an_offset_start_does_not_hide_the_rule_or_the_exdates(write_events):
    path = one_event(
        write_events, 'start = 2022-05-04T18:00:00+02:00\nrrule = "FREQ=WEEKLY;BYDAY=XX"\nexdates = ["nope"]\n'
    )
    code, errors = check(path)
    assert reported(errors, "start", "a series follows wall-clock time")
    assert reported(errors, "rrule", "BYDAY=XX")
    assert reported(errors, "exdates", "must be a date", "not text")
    assert len(errors) == 3, errors


def test_a_start_off_the_rule_does_not_hide_wrong_exdates_and_says_what_waits(write_events):
    path = one_event(
        write_events,
        'start = 2022-05-05T18:00:00\nrrule = "FREQ=WEEKLY;BYDAY=WE"\n'
        'exdates = ["nope", 2022-05-11T18:00:00]\nrdates = [1800-01-01T18:00:00]\n',
    )
    code, errors = check(path)
    assert reported(errors, "start", "is not a date of the rule", "2022-05-11T18:00:00")
    assert reported(errors, "exdates", "must be a date", "not text")
    assert reported(errors, "rdates", "1800-01-01 18:00:00 is out of range")
    assert reported(errors, "exdates", "not compared with the series, because start is not the rule's first date")
    assert len(errors) == 4, errors


def test_an_hourly_rule_for_years_is_refused_with_the_limit(write_events):
    path = one_event(write_events, 'start = 2022-01-01T10:00:00\nduration = "PT30M"\nrrule = "FREQ=HOURLY;UNTIL=2040-12-31"\n')
    code, errors = check(path)
    assert code == 1
    assert reported(errors, "rrule", f"more than {MAX_DATES} dates")
    assert len(errors) == 1


def test_a_dense_endless_rule_is_refused_and_an_hourly_one_is_not(write_events):
    path = one_event(write_events, 'start = 2022-01-01T10:00:00\nrrule = "FREQ=HOURLY;BYMINUTE=0,15,30,45"\n')
    code, errors = check(path)
    assert reported(errors, "rrule", f"more than {MAX_DATES} dates in its first year")
    path = one_event(write_events, 'start = 2022-01-01T10:00:00\nrrule = "FREQ=HOURLY"\n')
    assert check(path)[0] == 0


def test_the_longest_series_allowed_passes(write_events):
    path = one_event(write_events, f'start = 2022-01-01T10:00:00\nrrule = "FREQ=DAILY;COUNT={MAX_DATES}"\n')
    assert check(path)[0] == 0
    path = one_event(write_events, 'start = 2022-01-01T10:00:00\nrrule = "FREQ=HOURLY;UNTIL=2022-12-31"\n')
    assert check(path)[0] == 0


def test_a_rule_whose_days_never_come_is_refused_as_empty(write_events):
    """30 February and 31 April never come: said at once (dateutil alone would
    look hour by hour until the year 9999 before finding no date)."""
    for rule in ("FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31"):
        path = one_event(write_events, f'start = 2022-01-01T10:00:00\nrrule = "{rule}"\n')
        code, errors = check(path)
        assert code == 1
        assert reported(errors, "rrule", "the rule gives no dates at all"), errors


def test_a_rule_whose_days_come_rarely_is_not_empty(write_events):
    """29 February comes in leap years: the first date is found, and named."""
    path = one_event(write_events, 'start = 2023-01-01T10:00:00\nrrule = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29"\n')
    code, errors = check(path)
    assert code == 1
    assert reported(errors, "start", "start the series on its first date, 2024-02-29T10:00:00"), errors


def test_rdates_count_towards_the_limit_of_dates(write_events):
    """A rule of MAX_DATES days is allowed; two more dates given as rdates are not."""
    rule = f'start = 2022-01-01T10:00:00\nrrule = "FREQ=DAILY;COUNT={MAX_DATES}"\n'
    path = one_event(write_events, rule + "rdates = [2021-12-30T10:00:00, 2021-12-31T10:00:00]\n")
    code, errors = check(path)
    assert reported(errors, "rrule", f"more than {MAX_DATES} dates"), errors
    path = one_event(write_events, 'start = 2022-01-01T10:00:00\nrrule = "FREQ=DAILY;UNTIL=2049-05-18"\n')
    assert check(path)[0] == 0  # 10,000 days
    path = one_event(write_events, 'start = 2022-01-01T10:00:00\nrrule = "FREQ=DAILY;UNTIL=2049-05-19"\n')
    assert reported(check(path)[1], "rrule", f"more than {MAX_DATES} dates")

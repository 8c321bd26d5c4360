"""Rules in words, as the lists, the event pages and the RSS say them."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from calfeed.model import Event, Recurrence
from calfeed.rrules import parse_rule
from calfeed.timezones import zone
from calfeed.web.i18n import rule_words

ROME = zone("Europe/Rome")


def series(rule: str, start=datetime(2022, 1, 12, 17, tzinfo=ROME), end=datetime(2022, 1, 12, 19, tzinfo=ROME)) -> Event:
    return Event("s", "s@x", "S", start, end, recurrence=Recurrence(parse_rule(rule)))


@pytest.mark.parametrize(("rule", "italian", "english"), [
    ("FREQ=DAILY", "ogni giorno, 17:00–19:00", "every day, 17:00–19:00"),
    ("FREQ=DAILY;INTERVAL=3", "ogni 3 giorni, 17:00–19:00", "every 3 days, 17:00–19:00"),
    ("FREQ=WEEKLY", "ogni mercoledì, 17:00–19:00", "every Wednesday, 17:00–19:00"),  # the start's day
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE,FR", "di mercoledì e venerdì, ogni 2 settimane, 17:00–19:00",
     "every 2 weeks on Wednesday and Friday, 17:00–19:00"),
    ("FREQ=MONTHLY", "il giorno 12 di ogni mese, 17:00–19:00", "every month on day 12, 17:00–19:00"),
    ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=12", "il giorno 12, ogni 3 mesi, 17:00–19:00", "every 3 months on day 12, 17:00–19:00"),
    ("FREQ=MONTHLY;BYDAY=-1WE", "l'ultimo mercoledì del mese, 17:00–19:00", "the last Wednesday of every month, 17:00–19:00"),
    ("FREQ=YEARLY", "ogni anno, il 12 gennaio, 17:00–19:00", "every year on 12 January, 17:00–19:00"),
    # COUNT: the last date, Wednesday 9 February (the fifth); "all'" before a vowel.
    ("FREQ=WEEKLY;COUNT=5", "ogni mercoledì, 17:00–19:00, fino al 9 febbraio 2022", "every Wednesday, 17:00–19:00, until 9 February 2022"),
    ("FREQ=DAILY;COUNT=31", "ogni giorno, 17:00–19:00, fino all'11 febbraio 2022", "every day, 17:00–19:00, until 11 February 2022"),
    # Parts these phrases cannot say: no words (the lists then say "si ripete").
    ("FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1", None, None),
    ("FREQ=YEARLY;BYMONTH=1,6", None, None),
    ("FREQ=WEEKLY;BYDAY=WE;BYHOUR=17,18", None, None),
])
def test_rule_words(rule, italian, english):
    assert (rule_words(series(rule), ROME, "it"), rule_words(series(rule), ROME, "en")) == (italian, english)


def test_all_day_and_other_zone_series():
    fair = Event("f", "f@x", "F", date(2022, 6, 11), date(2022, 6, 13), recurrence=Recurrence(parse_rule("FREQ=YEARLY")))
    assert (rule_words(fair, ROME, "it"), rule_words(fair, ROME, "en")) == ("ogni anno, l'11 giugno", "every year on 11 June")
    york = zone("America/New_York")
    remote = series("FREQ=WEEKLY", datetime(2022, 1, 12, 12, tzinfo=york), datetime(2022, 1, 12, 13, tzinfo=york))
    # The rule's own wall-clock time, with its zone named: in Rome it is 18:00 most weeks, 17:00 a few.
    assert rule_words(remote, ROME, "en") == "every Wednesday, 12:00–13:00 (America/New_York)"
    not_a_single = Event("o", "o@x", "O", datetime(2022, 1, 12, 17, tzinfo=ROME))
    assert rule_words(not_a_single, ROME, "it") is None

"""The checker's problems in the editor, in the calendar's language.

Every code the checker emits (found in its source, and in the manual's table
of codes) has a text in each language; an Italian calendar's form shows the
Italian text next to the field, with the problem's data in it, and never the
English message; an English calendar shows English. The expected texts are
written here by hand.
"""

from __future__ import annotations

import ast
import html
import re
from datetime import date, datetime, time
from pathlib import Path

import pytest

from calfeed.errors import Problem
from calfeed.validation.fields import kind
from calfeed.web.editor import problems
from test_editor import WEBINAR, Form, events, field_error, login, make_app  # noqa: F401 (events: a fixture)

ROOT = Path(__file__).resolve().parent.parent
CHECKER = [
    *sorted((ROOT / "calfeed" / "validation").glob("*.py")),
    ROOT / "calfeed" / "loading.py",
    ROOT / "calfeed" / "store.py",
]
SERIES = "sportello-patti-latina"  # FREQ=WEEKLY;BYDAY=WE at 17:00 from 2022-01-12


def _calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            yield node


def emitted_codes() -> set[str]:
    """The codes in the checker's source: the third argument of each
    ``table.error(field, message, code, ...)``, and ``Problem(..., code=...)``."""
    codes = set()
    for path in CHECKER:
        for call in _calls(path):
            name = getattr(call.func, "attr", getattr(call.func, "id", None))
            if name == "error" and len(call.args) >= 3:
                argument = call.args[2]
                codes |= {n.value for n in ast.walk(argument) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
            if name == "Problem":
                codes |= {k.value.value for k in call.keywords if k.arg == "code" and isinstance(k.value, ast.Constant)}
    return codes


def documented_codes() -> set[str]:
    text = (ROOT / "docs" / "events-toml.md").read_text(encoding="utf-8")
    table = text[text.index("### Problem codes"):]
    return {code for line in table.splitlines() if line.startswith("| `") for code in re.findall(r"`([a-z0-9-]+)`", line.split("|")[1])}


def wanted_texts() -> set[str]:
    """What the checker puts in ``expected`` (the ``wanted`` of a value)."""
    found = set()
    for path in CHECKER:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            parts = []
            if isinstance(node, ast.Call):
                parts += [k.value for k in node.keywords if k.arg == "expected"]
                if getattr(node.func, "attr", None) == "value" and len(node.args) >= 3:
                    parts.append(node.args[2])
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "wanted" for t in node.targets):
                parts.append(node.value)
            found |= {n.value for part in parts for n in ast.walk(part) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return found


def test_the_checker_emits_the_codes_the_manual_lists():
    codes = emitted_codes()
    assert {"unknown-place", "end-before-start", "dst-gap", "not-a-date-of-series", "wrong-type"} <= codes
    assert documented_codes() <= codes


@pytest.mark.parametrize("language", ["it", "en"])
def test_every_code_of_the_checker_has_a_text(language):
    missing = sorted((emitted_codes() | documented_codes()) - problems.TEXTS[language].keys())
    assert missing == []


def test_every_kind_of_value_the_checker_names_has_an_italian_name():
    kinds = {kind(value) for value in (True, 1, 1.5, "x", date(2022, 1, 1), datetime(2022, 1, 1), time(1), [], {})}
    missing = sorted((wanted_texts() | kinds) - problems._WANTED.keys())
    assert missing == []


def test_an_unknown_code_or_unusable_data_shows_the_english_message():
    assert problems.render(Problem("as the checker says it", code="a-code-from-tomorrow"), "it") == "as the checker says it"
    odd = Problem("must be a colour, not text", code="wrong-type", data={"found": "text", "expected": "a colour"})
    assert problems.render(odd, "it") == "must be a colour, not text"
    assert problems.render(odd, "en") == "Must be a colour, not text."


def test_where_a_problem_is_said_in_the_language():
    problem = Problem("x", where='event "festa" (#3), override #2', field="start", line=14, code="dst-gap",
                      data={"value": "2022-03-27T02:30:00", "zone": "Europe/Rome"})
    assert problems.located(problem, "it") == (
        "riga 14: evento «festa» (n. 3), modifica n. 2: inizio: Il 27 marzo 2022 alle 02:30 non esiste in "
        "Europe/Rome: quella notte gli orologi passano dalle 02:00 alle 03:00. Scegli un altro orario."
    )


# --------------------------------------------------------------------------- in the form

ITALIAN = {
    "place": "Luogo sconosciuto «bagni-pubblic»: forse intendevi «bagni-pubblici»? "
             "Luoghi nel file: bagni-pubblici, casa-quartiere-latina, cascina-roccafranca.",
    "end": "La fine (30 novembre 2021, 19:30) non è dopo l'inizio (1 dicembre 2021, 18:00): "
           "un evento deve finire dopo essere iniziato.",
    "url": "«ftp://example.org/x» non è un indirizzo web: sono ammessi solo indirizzi che iniziano con http:// o https://.",
}
ENGLISH = {
    "place": "Unknown place \"bagni-pubblic\"; did you mean \"bagni-pubblici\"? "
             "Places in this file: bagni-pubblici, casa-quartiere-latina, cascina-roccafranca.",
    "end": "The end (30 November 2021, 19:30) is not after the start (1 December 2021, 18:00): "
           "an event must end after it starts.",
    "url": "\"ftp://example.org/x\" is not a web address: only addresses starting with http:// or https:// are allowed.",
}
# Words of the checker's English messages (calfeed check), never on an Italian page.
CHECKER_ENGLISH = ["unknown place", "did you mean", "is not after start", "is not a web address",
                   "does not exist in", "clocks jump", "is not a date of the series", "the nearest are"]


def editor_for(events: Path, language: str):
    if language == "en":
        events.write_text(events.read_text(encoding="utf-8").replace('language = "it"', 'language = "en"'), encoding="utf-8")
    client = make_app(events).test_client()
    assert login(client).status_code == 303
    return client


def post(client, event_id: str, **changes: str) -> str:
    form = Form(client.get(f"/edit/events/{event_id}").text)
    response = client.post(f"/edit/events/{event_id}", data=form.data(**changes))
    assert response.status_code == 422
    return response.get_data(as_text=True)


def test_an_italian_calendar_shows_the_problems_in_italian_beside_their_fields(events):
    before = events.read_bytes()
    client = editor_for(events, "it")
    markup = post(client, WEBINAR, place="bagni-pubblic", end="2021-11-30T19:30", url="ftp://example.org/x")
    for name, text in ITALIAN.items():
        assert html.unescape(field_error(markup, name)) == text
    dst = post(client, WEBINAR, start="2022-03-27T02:30", end="2022-03-27T04:00")
    assert html.unescape(field_error(dst, "start")) == (
        "Il 27 marzo 2022 alle 02:30 non esiste in Europe/Rome: quella notte gli orologi passano dalle 02:00 alle 03:00. "
        "Scegli un altro orario."
    )
    exdate = post(client, SERIES, exdates="2022-08-17T17:00\n2022-08-18T17:00")
    assert html.unescape(field_error(exdate, "exdates")) == (
        "18 agosto 2022, 17:00 non è una data della serie; le più vicine sono 17 agosto 2022, 17:00 o 24 agosto 2022, 17:00."
    )
    for page in (markup, dst, exdate):
        assert not [words for words in CHECKER_ENGLISH if words in html.unescape(page)]
    assert events.read_bytes() == before


def test_an_english_calendar_shows_them_in_english(events):
    client = editor_for(events, "en")
    markup = post(client, WEBINAR, place="bagni-pubblic", end="2021-11-30T19:30", url="ftp://example.org/x")
    for name, text in ENGLISH.items():
        assert html.unescape(field_error(markup, name)) == text
    exdate = post(client, SERIES, exdates="2022-08-18T17:00")
    assert html.unescape(field_error(exdate, "exdates")) == (
        "18 August 2022, 17:00 is not a date of the series; the nearest are 17 August 2022, 17:00 or 24 August 2022, 17:00."
    )


def test_the_list_above_the_form_is_in_italian_too(events):
    """A problem of another part of the file (here: of another event) is
    listed above the form, with where it is, in Italian."""
    text = events.read_text(encoding="utf-8")
    client = editor_for(events, "it")
    # Another event's table gets an id that is already taken, by hand.
    events.write_text(text.replace('id = "pulizia-parco-dora"', f'id = "{WEBINAR}"'), encoding="utf-8")
    markup = html.unescape(post(client, WEBINAR, title="Nuovo titolo"))
    assert f"evento «{WEBINAR}» (n. 4): identificativo: L'identificativo «{WEBINAR}» è già dell'evento n. 1: ogni evento ne ha uno suo." in markup
    assert "duplicate id" not in markup

"""E-mails about proposals, through a real SMTP server on 127.0.0.1: the
editors hear of each stored proposal, the proposer of the decision; a
failing or slow server never loses or holds up a proposal."""

from __future__ import annotations

import json
import re


from conftest import Page
from smtp import Inbox, inbox  # noqa: F401  (inbox: a fixture)
from test_editor import events, login, make_app, token  # noqa: F401  (events: a fixture)
from test_proposals import CONTACT, TITLE, pending_files, proposals_folder, propose

SENDER = "calendario@example.org"
EDITORS = ["anna@example.org", "bruno@example.org"]
NAME = "Case del Quartiere e Patti di collaborazione"
SITE = "https://eventi.casedelquartiere.example.org"




def mailing_app(events, server: Inbox):
    return make_app(events, SMTP_URL=server.url, MAIL_FROM=SENDER, EDITORS_MAIL=", ".join(EDITORS),
                    PROPOSALS_WEBHOOK_PAUSE=0)


def body_of(message) -> str:
    return message.get_content().replace("\r\n", "\n")


def test_the_editors_get_a_mail_once_the_proposal_is_stored(events, inbox):
    server = inbox()
    app = mailing_app(events, server)
    visitor = app.test_client()
    assert propose(visitor, app).status_code == 303
    [stored] = pending_files(events)
    sender, recipients, message = server.next()
    assert sender == SENDER and recipients == EDITORS
    assert message["Subject"] == f"[{NAME}] Nuova proposta: {TITLE}"
    assert f"{SITE}/edit/proposals/{stored.stem}" in body_of(message) and TITLE in body_of(message)
    assert CONTACT not in message.as_string()
    thanks = Page(visitor.get("/propose/thanks").text).text
    assert "Riceverai la decisione" in thanks and "iscriviti al calendario" in thanks


def test_without_smtp_the_thanks_page_says_how_to_follow_the_calendar(events):
    app = make_app(events)
    visitor = app.test_client()
    assert propose(visitor, app).status_code == 303
    thanks = Page(visitor.get("/propose/thanks").text).text
    assert "iscriviti al calendario" in thanks and "Riceverai" not in thanks


def _editor(app):
    client = app.test_client()
    assert login(client).status_code == 303
    return client


def test_approving_mails_the_proposer_the_events_page(events, inbox):
    server = inbox()
    app = mailing_app(events, server)
    assert propose(app.test_client(), app).status_code == 303
    server.next()  # the editors' mail
    [stored] = pending_files(events)
    editor = _editor(app)
    queue = editor.get("/edit/proposals").text
    answer = editor.post(f"/edit/proposals/{stored.stem}/approve", data={"csrf_token": token(queue)})
    assert answer.status_code == 303
    record = json.loads((proposals_folder(events) / "approved" / stored.name).read_text())
    event_id = record["decision"]["event"]
    _, recipients, message = server.next()
    assert recipients == [CONTACT] and message["To"] == CONTACT
    assert message["Subject"] == f"[{NAME}] Proposta approvata: {TITLE}"
    assert f"{SITE}/events/{event_id}\n" in body_of(message)
    assert app.test_client().get(f"/events/{event_id}").status_code == 200


def test_rejecting_mails_the_proposer_the_reason(events, inbox):
    server = inbox()
    app = mailing_app(events, server)
    assert propose(app.test_client(), app).status_code == 303
    server.next()
    [stored] = pending_files(events)
    editor = _editor(app)
    queue = editor.get("/edit/proposals").text
    reason = "La cascina è chiusa quel giorno."
    assert editor.post(f"/edit/proposals/{stored.stem}/reject",
                       data={"csrf_token": token(queue), "reason": reason}).status_code == 303
    _, recipients, message = server.next()
    assert recipients == [CONTACT]
    assert message["Subject"] == f"[{NAME}] Proposta non accettata: {TITLE}"
    assert f"Motivo: {reason}\n" in body_of(message) and "/events/" not in body_of(message)


def test_in_english_the_mails_are_in_english(events, inbox):
    events.write_text(re.sub(r'(?m)^language = "it"', 'language = "en"', events.read_text()), encoding="utf-8")
    server = inbox()
    app = mailing_app(events, server)
    assert propose(app.test_client(), app).status_code == 303
    assert server.next()[2]["Subject"] == f"[{NAME}] New proposal: {TITLE}"


def test_a_failing_mail_server_never_loses_the_proposal(events, inbox):
    server = inbox(["451 busy"] * 3)
    app = mailing_app(events, server)
    assert propose(app.test_client(), app).status_code == 303
    for _ in range(3):
        server.attempts.get(timeout=30)
    assert len(pending_files(events)) == 1
    # Nothing listening at all: the same.
    server.close()
    assert propose(app.test_client(), app, address="198.51.100.8", title="Seconda merenda").status_code == 303
    assert len(pending_files(events)) == 2


def test_a_slow_mail_server_does_not_hold_up_the_proposal(events, inbox):
    server = inbox(hold=True)
    app = mailing_app(events, server)
    # The server holds the mail until released: the answer comes first.
    assert propose(app.test_client(), app).status_code == 303
    assert len(pending_files(events)) == 1
    server.attempts.get(timeout=30)
    assert server.messages.empty()
    server.release.set()
    assert server.next()[1] == EDITORS


def test_line_breaks_typed_in_the_form_add_no_header_and_no_recipient(events, inbox):
    server = inbox()
    app = mailing_app(events, server)
    hostile = f"{CONTACT}\r\nBcc: intruso@example.net"
    assert propose(app.test_client(), app, email=hostile).status_code == 422
    assert pending_files(events) == []
    # Nor in the title (a one-line field): refused beside the field, and no mail
    # goes out (mail.compose makes any subject one line all the same).
    assert propose(app.test_client(), app, title=f"{TITLE}\r\nBcc: intruso@example.net").status_code == 422
    assert pending_files(events) == []
    assert propose(app.test_client(), app).status_code == 303
    _, recipients, message = server.next()
    assert recipients == EDITORS and message["Bcc"] is None
    assert message["Subject"] == f"[{NAME}] Nuova proposta: {TITLE}"
    assert server.messages.empty()

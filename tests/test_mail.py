"""calfeed.mail against a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations


import pytest

from calfeed.background import Refused
from calfeed.mail import MailServer, compose, send, send_later
from smtp import inbox  # noqa: F401  (a fixture)
from servers import free_port

SENDER = "calendario@example.org"




def test_a_message_reaches_the_server_with_its_text_and_encoded_headers(inbox):
    server = inbox()
    send(MailServer.from_url(server.url), compose(SENDER, ["anna@example.org"], "Nuova proposta: Città aperta", "Ciao è\n"))
    sender, recipients, message = server.next()
    assert (sender, recipients) == (SENDER, ["anna@example.org"])
    assert message["Subject"] == "Nuova proposta: Città aperta" and message["From"] == SENDER
    assert message.get_content().replace("\r\n", "\n") == "Ciao è\n"


def test_line_breaks_in_the_subject_add_no_header_and_no_recipient(inbox):
    server = inbox()
    hostile = "Festa\r\nBcc: intruso@example.net\r\n\r\nTesto finto"
    send(MailServer.from_url(server.url), compose(SENDER, ["anna@example.org"], hostile, "Corpo\n"))
    _, recipients, message = server.next()
    assert recipients == ["anna@example.org"]
    assert message["Bcc"] is None and "intruso" not in str(message.get_all("To"))
    assert message["Subject"] == "Festa Bcc: intruso@example.net Testo finto"
    assert message.get_content().replace("\r\n", "\n") == "Corpo\n"
    with pytest.raises(ValueError):
        compose(SENDER, ["anna@example.org\r\nBcc: intruso@example.net"], "x", "y")


def test_a_temporary_refusal_is_tried_again_and_delivered_once(inbox):
    server = inbox(["451 4.3.0 busy", "451 4.3.0 busy"])
    thread = send_later(MailServer.from_url(server.url), compose(SENDER, ["anna@example.org"], "x", "y"), pause=0)
    thread.join(timeout=60)
    assert server.next()[1] == ["anna@example.org"]
    assert server.attempts.qsize() == 3 and server.messages.empty()


def test_a_permanent_refusal_is_not_repeated(inbox):
    server = inbox(["554 5.7.1 no"])
    with pytest.raises(Refused):
        send(MailServer.from_url(server.url), compose(SENDER, ["anna@example.org"], "x", "y"))
    thread = send_later(MailServer.from_url(server.url), compose(SENDER, ["anna@example.org"], "x", "y"), attempts=3, pause=0)
    thread.join(timeout=60)
    assert server.attempts.qsize() == 2 and server.next()  # the second message, sent once


def test_a_password_is_never_sent_without_tls(inbox):
    server = inbox()  # offers no STARTTLS
    with pytest.raises(Refused, match="STARTTLS"):
        send(MailServer.from_url(f"smtp://anna:segreta@127.0.0.1:{server.port}"), compose(SENDER, ["a@example.org"], "x", "y"))
    assert server.attempts.empty()


def test_no_server_listening_is_given_up_after_the_attempts():
    closed = MailServer.from_url(f"smtp://127.0.0.1:{free_port()}")
    thread = send_later(closed, compose(SENDER, ["anna@example.org"], "x", "y"), attempts=2, pause=0)
    thread.join(timeout=60)
    assert not thread.is_alive()

"""E-mail through the SMTP server the configuration names
(``CALFEED_SMTP_URL``): short plain-text notices, sent from a background
thread and tried a few times (``calfeed.background``), like the webhook.

Python's own ``smtplib`` and ``email`` do all of it (STARTTLS, SMTPS,
login, encoded headers), so no other library is needed. Header values are
made from one line of text each, and ``email``'s SMTP policy refuses a
header holding CR or LF, so nothing a proposer types can add a header.
No Flask here.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from calfeed.background import ATTEMPTS, PAUSE, Refused, in_background, with_retries

TIMEOUT = 10.0  # seconds for each attempt
_ADDRESS = re.compile(r"[^@\s<>\"',;()\[\]\\]+@[^@\s<>\"',;()\[\]\\]+\.[^@\s<>\"',;()\[\]\\.]+")


@dataclass(frozen=True)
class MailServer:
    """Where and how mail is handed over."""

    host: str
    port: int
    secure: bool  # smtps://: TLS from the first byte; smtp://: STARTTLS when the server offers it
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> MailServer:
        """``smtp://user:pass@host:587`` (STARTTLS) or ``smtps://user:pass@host:465``.

        >>> MailServer.from_url("smtp://anna:p%40ss@mail.example.org:587")
        MailServer(host='mail.example.org', port=587, secure=False, user='anna', password='p@ss')
        >>> MailServer.from_url("smtps://mail.example.org").port
        465
        >>> MailServer.from_url("http://mail.example.org")
        Traceback (most recent call last):
        ...
        ValueError: CALFEED_SMTP_URL must start with smtp:// or smtps://, not 'http'
        """
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"CALFEED_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme!r}")
        secure = parts.scheme == "smtps"
        return cls(parts.hostname, parts.port or (465 if secure else 587), secure,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)


def is_address(text: str) -> bool:
    """Whether ``text`` is one plain e-mail address (no name, no line break, no list).

    >>> is_address("anna@example.org"), is_address("anna@example.org\\r\\nBcc: x@evil.example"), is_address("a@b.org, c@d.org")
    (True, False, False)
    """
    return _ADDRESS.fullmatch(text) is not None


def addresses(text: str) -> list[str]:
    """The addresses of a comma-separated list (``CALFEED_EDITORS_MAIL``), the malformed ones left out.

    >>> addresses(" anna@example.org, ,bruno@example.org, nope")
    ['anna@example.org', 'bruno@example.org']
    """
    return [part.strip() for part in text.split(",") if is_address(part.strip())]


def compose(sender: str, to: Sequence[str], subject: str, body: str) -> EmailMessage:
    """A plain-text message; the subject is made one line whatever it holds.

    >>> message = compose("cal@example.org", ["anna@example.org"], "Nuova proposta:\\r\\nBcc: x@evil.example", "Ciao")
    >>> message["Subject"], message["Bcc"]
    ('Nuova proposta: Bcc: x@evil.example', None)
    """
    if not is_address(sender) or not to or not all(map(is_address, to)):
        raise ValueError("not an e-mail address")
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = " ".join(subject.split())
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # no vacation replies to a robot
    message.set_content(body)
    return message


def send(server: MailServer, message: EmailMessage, timeout: float = TIMEOUT) -> None:
    """Hand ``message`` to the server once. Raises ``Refused`` for an
    answer that will not change (a 5xx, a failed login, a password that
    would travel unencrypted), ``OSError`` for what may pass."""
    context = ssl.create_default_context()
    try:
        if server.secure:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
        else:
            connection = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with connection:
            connection.ehlo()
            if not server.secure and connection.has_extn("starttls"):
                connection.starttls(context=context)
                connection.ehlo()
            if server.user:
                if not server.secure and not isinstance(connection.sock, ssl.SSLSocket):
                    raise Refused(f"{server.host} offers no STARTTLS: the password is not sent in clear")
                connection.login(server.user, server.password or "")
            connection.send_message(message)
    except smtplib.SMTPAuthenticationError as error:
        raise Refused(f"{server.host}: login refused ({error.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused as error:
        raise Refused(f"{server.host}: recipients refused: {sorted(error.recipients)}") from None
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            raise Refused(f"{server.host}: {error.smtp_code} {error.smtp_error!r}") from None
        raise


def send_later(server: MailServer, message: EmailMessage, attempts: int = ATTEMPTS,
               pause: float = PAUSE) -> threading.Thread:
    """``send`` in a daemon thread, tried up to ``attempts`` times."""
    what = f"mail to {message['To']} through {server.host}"
    return in_background(with_retries, "calfeed-mail", lambda: send(server, message), what, attempts, pause)

"""Telling people about proposals by e-mail (``calfeed.mail``): the
editors when one arrives, the proposer when an editor decides. Each mail
is composed in the calendar's language and sent in the background, after
the proposal (or the decision) is stored; without ``CALFEED_SMTP_URL`` and
``CALFEED_MAIL_FROM`` nothing is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

from calfeed import background, mail
from calfeed.web.http import current_calendar
from calfeed.web.i18n import message

log = logging.getLogger("calfeed")


@dataclass(frozen=True)
class Mailing:
    """The configured SMTP server, the sender and the editors' addresses."""

    server: mail.MailServer
    sender: str
    editors: tuple[str, ...]
    pause: float = background.PAUSE


def mailing_from(config: Mapping[str, Any], pause: float = background.PAUSE) -> Mailing | None:
    """``CALFEED_SMTP_URL``, ``CALFEED_MAIL_FROM`` and ``CALFEED_EDITORS_MAIL``;
    None (no mail, said in the log) unless the first two are usable."""
    url, sender = config.get("SMTP_URL"), str(config.get("MAIL_FROM") or "").strip()
    if not url:
        return None
    try:
        server = mail.MailServer.from_url(str(url))
    except ValueError as error:
        log.error("calfeed: no e-mail sent: %s", error)
        return None
    if not mail.is_address(sender):
        log.error("calfeed: no e-mail sent: CALFEED_MAIL_FROM must be an e-mail address, not %r", sender)
        return None
    return Mailing(server, sender, tuple(mail.addresses(str(config.get("EDITORS_MAIL") or ""))), pause)


def mailing() -> Mailing | None:
    return current_app.extensions["calfeed.proposals"].mail


def _send(to: list[str], subject: str, body: str) -> None:
    found = mailing()
    if found is None or not to:
        return
    try:
        composed = mail.compose(found.sender, to, subject, body)
    except ValueError as error:
        log.error("calfeed: no e-mail to %r: %s", to, error)
        return
    mail.send_later(found.server, composed, pause=found.pause)


def _blanks() -> dict[str, str]:
    calendar = current_calendar().calendar
    return {"calendar": calendar.name, "site": calendar.base_url}


def _say(key: str, **blanks: object) -> str:
    return message(current_calendar().calendar.language, key, **blanks)


def proposal_arrived(pid: str, title: str, start: str, pending: int) -> None:
    """Mail the editors (``CALFEED_EDITORS_MAIL``) that a proposal is in the
    queue; the contact stays out, as in the webhook."""
    found = mailing()
    if found is None:
        return
    blanks = _blanks()
    review = f"{blanks['site']}/edit/proposals/{pid}"
    _send(list(found.editors), _say("prop_mail_new_subject", title=title, **blanks),
          _say("prop_mail_new_body", title=" ".join(title.split()), start=start, review=review, pending=pending, **blanks)
          + _say("prop_mail_footer", **blanks))


def decided(contact: str, decision: str, title: str, event_id: str | None = None, reason: str = "") -> None:
    """Mail the proposer the editors' decision: the event's page when
    approved, the reason (if any) when rejected."""
    if mailing() is None or not mail.is_address(contact):
        return
    blanks = _blanks()
    title = " ".join(title.split())
    if decision == "approved":
        body = _say("prop_mail_approved_body", title=title, link=f"{blanks['site']}/events/{event_id}")
    else:
        body = _say("prop_mail_rejected_body", title=title) + (_say("prop_mail_reason", reason=reason) if reason else "")
    _send([contact], _say(f"prop_mail_{decision}_subject", title=title, **blanks), body + _say("prop_mail_footer", **blanks))

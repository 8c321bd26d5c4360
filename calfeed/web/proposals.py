"""``/propose``: anyone may propose an event; nothing of it is public until
an editor approves it (``calfeed.web.editor.proposals``).

The form is on only while editing is on (an editor to approve, a secret to
sign the CSRF token and the form's time), and never in a static build. A
post goes through, in order: the CSRF check (400), the honeypot and the
minimum fill time (a bot's post: the thank-you redirect, nothing written),
the limits (429), the text rules and the calendar's own checker (422, the
form again as typed), then one file in the proposals folder (303).
"""

from __future__ import annotations

import hmac
import sqlite3
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, URLSafeSerializer

from calfeed import webhooks
from calfeed.web import notices
from calfeed.errors import CalendarErrors
from calfeed.proposals import (
    MAX_CATEGORIES,
    MAX_PENDING,
    MAX_REQUEST,
    PER_HOUR,
    SIZES,
    TRIES_PER_HOUR,
    ProposalBox,
    ProposalLimits,
    ProposalsClosed,
    QueueFull,
    address_hash,
    proposals_path,
    text_problems,
)
from calfeed.web.editor import forms
from calfeed.web.editor.proposal_form import event_fields, typed_from_form
from calfeed.web.editor.switch import editing
from calfeed.web.editor.views import _event_index, client_address
from calfeed.web.http import current_calendar, refuse, store, today
from calfeed.web.i18n import message, strings

bp = Blueprint("proposals", __name__)

PREFIX = "/propose"
MIN_FILL = 3.0  # seconds between getting the form and sending it, below which a post is a bot's
MAX_FILL = 24 * 3600.0  # a form older than this is sent again with a fresh time
RETRY_AFTER = 600  # seconds a 429 asks to wait (the limits count over an hour)
HONEYPOT = "website"  # hidden from people; a bot filling every field fills it


@dataclass
class Proposing:
    """The proposals folder, the per-address limits and the form's timing."""

    box: ProposalBox
    limits: ProposalLimits
    min_fill: float
    webhook: str | None = None  # CALFEED_PROPOSALS_WEBHOOK: told of each new proposal
    webhook_pause: float = webhooks.PAUSE
    mail: notices.Mailing | None = None  # CALFEED_SMTP_URL: editors and proposers told by e-mail


def register(app: Flask) -> None:
    """The blueprint, the folder (``CALFEED_PROPOSALS``) and the limits
    (``CALFEED_PROPOSALS_PER_HOUR``, ``_MAX_PENDING``, ``_MIN_FILL``), the
    notices (``CALFEED_PROPOSALS_WEBHOOK``, ``CALFEED_SMTP_URL``)."""
    config = app.config
    folder = proposals_path(config["EVENTS"], config.get("PROPOSALS"))
    pause = float(config.get("PROPOSALS_WEBHOOK_PAUSE", webhooks.PAUSE))
    app.extensions["calfeed.proposals"] = Proposing(
        ProposalBox(folder, int(config.get("PROPOSALS_MAX_PENDING") or MAX_PENDING)),
        ProposalLimits(folder, int(config.get("PROPOSALS_PER_HOUR") or PER_HOUR), int(config.get("PROPOSALS_TRIES_PER_HOUR") or TRIES_PER_HOUR)),
        min(MIN_FILL, float(config.get("PROPOSALS_MIN_FILL", MIN_FILL))),
        config.get("PROPOSALS_WEBHOOK") or None,
        pause,
        notices.mailing_from(config, pause),
    )
    app.register_blueprint(bp)
    app.context_processor(lambda: {"propose_url": PREFIX if proposals_open() else None})


def proposing() -> Proposing:
    return current_app.extensions["calfeed.proposals"]


def proposals_open() -> bool:
    """Whether ``/propose`` takes proposals: editing is on, and this is a
    server (a static build has no one to post to)."""
    if not hasattr(store(), "accept"):
        return False
    return editing(current_app.extensions["calfeed.editor"].editors, current_app.config.get("SECRET_KEY")).on


# --------------------------------------------------------------------------- the form's time


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.config["SECRET_KEY"]), salt="calfeed-propose-issued")


def issued_stamp(at: float) -> str:
    """The hidden field that says, signed, when the form was made."""
    return _signer().dumps(round(at, 3))


def _filled_for(stamp: str, now: float) -> float | None:
    """Seconds since the form was made, None for a stamp not ours."""
    try:
        at = _signer().loads(stamp)
    except BadSignature:
        return None
    return now - at if isinstance(at, (int, float)) else None


# --------------------------------------------------------------------------- pages


@bp.before_request
def guard() -> None:
    if not proposals_open():
        abort(404)
    # Read before the form is parsed: a bigger post is refused with 413.
    request.max_content_length = MAX_REQUEST


@bp.after_request
def private(response: Response) -> Response:
    # The form carries a token tied to its visitor's cookie: no cache keeps it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _say(key: str, **blanks: object) -> str:
    return message(current_calendar().calendar.language, key, **blanks)


def _form(status: int = 200, typed: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None,
          general: list[str] | None = None) -> tuple[str, int]:
    calendar = current_calendar().calendar
    typed = typed or {}
    chosen = {name.casefold() for name in typed.get("categories") or []}
    table = strings(calendar.language)
    return render_template(
        "propose.html",
        calendar=calendar,
        lang=calendar.language,
        t=SimpleNamespace(**table),
        typed=typed,
        errors=errors or {},
        general=general or [],
        categories=[(c.name, c.name.casefold() in chosen) for c in calendar.categories],
        input_type=lambda name: forms.input_type(str(typed.get(name) or ""), bool(typed.get("all_day"))),
        issued=issued_stamp(time.time()),
        honeypot=HONEYPOT,
        sizes=SIZES,
    ), status


@bp.get(PREFIX)
def form() -> tuple[str, int]:
    if not proposing().box.writable():
        return _form(503, general=[_say("prop_closed")])
    return _form()


@bp.get(f"{PREFIX}/thanks")
def thanks() -> str:
    calendar = current_calendar().calendar
    return render_template("propose_thanks.html", calendar=calendar, lang=calendar.language,
                           t=SimpleNamespace(**strings(calendar.language)), by_mail=proposing().mail is not None)


def _too_many(typed: dict[str, Any]) -> Response:
    """429, what was typed kept, so that it can be sent again later."""
    page, _ = _form(429, typed, general=[_say("prop_try_later")])
    return Response(page, 429, headers={"Retry-After": str(RETRY_AFTER)})


@bp.post(PREFIX)
def propose() -> Response | tuple[str, int]:
    state = proposing()
    try:
        current_app.extensions["calfeed.editor"].csrf.protect()
    except CSRFError:
        refuse(current_calendar(), 400, "edit_csrf")
    sent = request.form
    elapsed = _filled_for(sent.get("issued", ""), time.time())
    if sent.get(HONEYPOT) or elapsed is None or elapsed < state.min_fill:
        return redirect(url_for("proposals.thanks"), 303)  # a bot: told nothing
    address = client_address()
    typed = typed_from_form(sent)
    typed["email"] = sent.get("email", "").strip()
    try:
        if state.box.count() >= state.box.max_pending or state.limits.full(address, "stored") \
                or not state.limits.allow(address, "tried"):
            return _too_many(typed)
    except (OSError, sqlite3.Error) as error:
        return _closed(typed, error)
    if elapsed > MAX_FILL:
        return _form(422, typed, general=[_say("prop_expired")])
    fields, errors = _fields(typed)
    if errors:
        return _form(422, typed, errors={name: [_say(key)] for name, key in errors.items()},
                     general=[_say("prop_refused")])
    source = current_app.extensions["calfeed.editor"].source
    try:
        source.preview_event(None, fields)
    except CalendarErrors as refused:
        text, _ = source.read()
        placed = forms.place_problems(refused.problems, _event_index(text, None))
        return _form(422, typed, errors={name: [p.message for p in found] for name, found in placed.by_field.items()},
                     general=[_say("prop_refused")] + [str(problem) for problem in placed.general])
    key = hmac.digest(str(current_app.config["SECRET_KEY"]).encode(), b"calfeed-proposal-address", "sha256")
    try:
        if not state.limits.allow(address, "stored"):
            return _too_many(typed)
        pid = state.box.store({name: value for name, value in typed.items() if name != "email"}, typed["email"],
                              address_hash(address, key))
    except QueueFull:
        return _too_many(typed)
    except (ProposalsClosed, OSError, sqlite3.Error) as error:
        return _closed(typed, error)
    if state.webhook:
        _announce(state, pid, typed)
    notices.proposal_arrived(pid, str(typed.get("title") or ""), str(typed.get("start") or ""), state.box.count())
    return redirect(url_for("proposals.thanks"), 303)


def _announce(state: Proposing, pid: str, typed: dict[str, Any]) -> None:
    """Tell the editors' webhook, once the proposal is stored; the
    contact stays out (a chat channel is no place for it)."""
    calendar = current_calendar().calendar
    webhooks.notify(state.webhook, {
        "type": "calfeed.proposal", "calendar": calendar.name, "id": pid,
        "title": typed.get("title", ""), "start": typed.get("start", ""), "pending": state.box.count(),
        "review": f"{calendar.base_url}/edit/proposals/{pid}",
    }, pause=state.webhook_pause)


def _closed(typed: dict[str, Any], error: Exception) -> tuple[str, int]:
    """The folder cannot be written (a read-only disk): say so, crash nothing."""
    current_app.logger.error("calfeed: proposals are closed: %s", error)
    page, _ = _form(503, typed, general=[_say("prop_closed")])
    return page, 503


def _fields(typed: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """events.toml's values of a proposal and what is wrong with it before
    the calendar's checker sees it: the text rules, and only the calendar's
    places and categories (new ones are the editors' to make)."""
    fields, errors = event_fields(typed)
    errors.update(text_problems(typed))
    calendar = current_calendar().calendar
    known = {c.name.casefold() for c in calendar.categories}
    if any(name.casefold() not in known for name in typed["categories"]) or len(typed["categories"]) > MAX_CATEGORIES:
        errors.setdefault("categories", "prop_categories")
    if typed["place"] and typed["place"] not in {p.slug for p in calendar.places}:
        errors.setdefault("place", "prop_place")
    if not str(typed.get("title") or "").strip():
        errors.setdefault("title", "prop_required")
    start = fields.get("start")
    if start is None and "start" not in errors:
        errors["start"] = "prop_required"
    elif start is not None and (start if not hasattr(start, "date") else start.date()) < today(current_calendar()):
        errors.setdefault("start", "prop_past")
    return fields, errors

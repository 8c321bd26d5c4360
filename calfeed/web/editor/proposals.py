"""The editors' queue of proposals (``/edit/proposals``): look, change,
approve or reject. Approving saves the event through the writer exactly as
an editor's new event (the approving editor is its author); the contact
stays in the proposals folder, never in events.toml or a feed.

These routes join the editor's blueprint, so its guard (editing on, a
session, CSRF on every POST) covers them.
"""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from flask import Response, current_app, flash, redirect, request, url_for

from calfeed.errors import CalendarErrors
from calfeed.web import notices
from calfeed.proposals import Proposal, ProposalBox, masked
from calfeed.web.editor import forms
from calfeed.web.editor.views import _editing, _editor, _event_index, _page, _say, _serve_now, bp
from calfeed.web.http import current_calendar
from calfeed.web.i18n import clock, long_date
from calfeed.web.editor.proposal_form import event_fields, typed_from_form

REASON_LIMIT = 500


def _box() -> ProposalBox:
    return current_app.extensions["calfeed.proposals"].box


def decisions(limit: int) -> list[SimpleNamespace]:
    """The latest decisions on proposals, for the history page: who decided
    what, when, and the event written or the reason given."""
    return [
        SimpleNamespace(
            title=str(record.get("fields", {}).get("title", "")), approved=record["decision"].get("decision") == "approved",
            editor=str(record["decision"].get("editor", "")), time=str(record["decision"].get("time", "")),
            event=record["decision"].get("event"), reason=str(record["decision"].get("reason") or ""),
            proposer=masked(str(record.get("email", ""))),
        )
        for record in _box().decided(limit)
    ]


@bp.context_processor
def queue_size() -> dict[str, Any]:
    """The queue's size for the nav of every editor page."""
    return {"queue_size": _box().count()}


def when_text(start: date | datetime | None, end: date | datetime | None, language: str) -> str:
    """A proposal's dates in words (an all-day end is its last day, as the form has it).

    >>> when_text(datetime(2027, 1, 9, 18), datetime(2027, 1, 9, 20), "it"), when_text(date(2027, 1, 9), date(2027, 1, 10), "en")
    ('Sabato 9 gennaio 2027, 18:00–20:00', 'Saturday 9 January 2027 – Sunday 10 January 2027')
    """
    if start is None:
        return ""
    if not isinstance(start, datetime):
        last = end if isinstance(end, date) and not isinstance(end, datetime) and end > start else None
        return long_date(start, language) + (f" – {long_date(last, language)}" if last else "")
    text = f"{long_date(start.date(), language)}, {clock(start, language)}"
    if not isinstance(end, datetime):
        return text
    if end.date() == start.date():
        return f"{text}–{clock(end, language)}"
    return f"{text} – {long_date(end.date(), language)}, {clock(end, language)}"


def _preview(proposal: Proposal) -> SimpleNamespace:
    """The proposal as the site would show it: its dates in words, its place's name."""
    calendar = current_calendar().calendar
    fields, _ = event_fields(proposal.typed)
    shown = when_text(fields.get("start"), fields.get("end"), calendar.language)
    place = next((p.name for p in calendar.places if p.slug == proposal.typed.get("place")), None)
    return SimpleNamespace(
        pid=proposal.pid, received=proposal.received, email=proposal.email, title=proposal.title,
        when=shown, place=place or proposal.typed.get("location") or "",
        description=str(proposal.typed.get("description") or ""), url=str(proposal.typed.get("url") or ""),
        categories=", ".join(proposal.typed.get("categories") or []),
    )


def pending_rows() -> list[SimpleNamespace]:
    """The pending proposals as the editor's list shows them (oldest first)."""
    return [_preview(p) for p in _box().pending()]


@bp.get("/proposals")
def proposals() -> tuple[str, int]:
    """The pending proposals, oldest first, each with how it will look."""
    return _page("proposals.html", items=[_preview(p) for p in _box().pending()])


def _review(status: int, proposal: Proposal, typed: dict[str, Any], errors: dict[str, list[str]] | None = None,
            general: list[str] | None = None) -> tuple[str, int]:
    calendar = current_calendar().calendar
    chosen = {name.casefold() for name in typed.get("categories") or []}
    known = [c.name for c in calendar.categories]
    return _page(
        "proposal.html", status, item=_preview(proposal), typed=typed, errors=errors or {}, general=general or [],
        places=calendar.places, known_categories=[(name, name.casefold() in chosen) for name in known],
        other_categories=", ".join(n for n in typed.get("categories") or [] if n.casefold() not in {k.casefold() for k in known}),
        input_type=lambda name: forms.input_type(str(typed.get(name) or ""), bool(typed.get("all_day"))),
    )


def _pending_or_gone(pid: str) -> Proposal | Response:
    proposal = _box().get(pid)
    if proposal is None:
        flash(_say("prop_gone"))
        return redirect(url_for("editor.proposals"), 303)
    return proposal


@bp.get("/proposals/<pid>")
def proposal(pid: str) -> Response | tuple[str, int]:
    """The proposal in a form an editor may change before approving it."""
    found = _pending_or_gone(pid)
    if isinstance(found, Response):
        return found
    return _review(200, found, dict(found.typed))


@bp.post("/proposals/<pid>/approve")
def approve(pid: str) -> Response | tuple[str, int]:
    """Write the event (as proposed, or as the editor changed it), then move
    the proposal out of the queue. Refused by the checker: 422, nothing
    written, the proposal stays."""
    found = _pending_or_gone(pid)
    if isinstance(found, Response):
        return found
    # The review form sends the editor's version of the fields; the queue's button, none.
    typed = typed_from_form(request.form) if "title" in request.form else dict(found.typed)
    fields, read_errors = event_fields(typed)
    if read_errors:
        return _review(422, found, typed, errors={name: [_say(key)] for name, key in read_errors.items()},
                       general=[_say("edit_refused")])
    source = _editing().source
    editor = _editor() or ""
    subject = _say("prop_commit", title=" ".join(str(fields.get("title", "")).split()), contact=masked(found.email))
    saved = None

    def write(proposal: Proposal) -> dict[str, Any]:
        nonlocal saved
        saved = source.save_event(None, fields, source.version_of(None), author=editor, subject=subject)
        return {"event": saved.event_id}

    try:
        decided = _box().decide(pid, "approved", editor, write)
    except CalendarErrors as refused:
        text, _ = source.read()
        placed = forms.place_problems(refused.problems, _event_index(text, None))
        return _review(422, found, typed, errors={n: [p.message for p in f] for n, f in placed.by_field.items()},
                       general=[_say("edit_refused")] + [str(problem) for problem in placed.general])
    if not decided or saved is None:
        flash(_say("prop_gone"))
        return redirect(url_for("editor.proposals"), 303)
    _serve_now(saved)
    notices.decided(found.email, "approved", str(fields.get("title", "")), event_id=saved.event_id)
    flash(_say("prop_approved", title=fields.get("title", ""), id=saved.event_id))
    return redirect(url_for("editor.proposals"), 303)


@bp.post("/proposals/<pid>/reject")
def reject(pid: str) -> Response:
    """Move the proposal to ``rejected/`` with the reason, if any."""
    reason = " ".join(request.form.get("reason", "").split())[:REASON_LIMIT]
    found = _box().get(pid)
    if found is None or not _box().decide(pid, "rejected", _editor() or "", lambda _: {"reason": reason}):
        flash(_say("prop_gone"))
    else:
        notices.decided(found.email, "rejected", found.title, reason=reason)
        flash(_say("prop_rejected", title=found.title))
    return redirect(url_for("editor.proposals"), 303)

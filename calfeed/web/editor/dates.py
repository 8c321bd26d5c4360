"""One date of a series cancelled, moved or restored (``/edit/events/<id>/date``).

An exdate removes a date without a trace; cancelling writes an
``[[events.overrides]]`` table with ``status = "cancelled"``, so subscribers
see the date struck through. Moving writes one with a new start (and end).
The buttons sit beside each date of the event form's list; they post the
form's ``version`` like a save, so the same conflict rules hold.

These routes join the editor's blueprint, so its guard (editing on, a
session, CSRF on every POST) covers them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Response, flash, redirect, request, url_for

from calfeed.errors import CalendarErrors
from calfeed.web.editor import forms, problems
from calfeed.web.editor.views import _editing, _editor, _form_page, _kept, _language, _page, _say, _serve_now, bp
from calfeed.web.http import current_calendar, refuse
from calfeed.web.i18n import clock, long_date
from calfeed.writer import SaveConflict, UnknownEvent


def _fields_or_404(event_id: str) -> dict[str, Any]:
    fields = _editing().source.event_fields(event_id)
    if fields is None:
        refuse(current_calendar(), 404, "no_event", id=event_id)
    return fields


def _all_day(fields: dict[str, Any]) -> bool:
    start = fields.get("start")
    return isinstance(start, date) and not isinstance(start, datetime)


def _original(fields: dict[str, Any], text: str) -> date | datetime | None:
    """The date the form names, as the series gives it (None: not a date)."""
    try:
        return forms.parse_when(text, _all_day(fields))
    except ValueError:
        return None


def _words(value: date | datetime) -> str:
    """A date of the series as people read it: "Mercoledì 30 marzo 2022, 17:00"."""
    language = _language()
    if isinstance(value, datetime):
        return f"{long_date(value.date(), language)}, {clock(value, language)}"
    return long_date(value, language)


@bp.get("/events/<event_id>/date")
def date_form(event_id: str) -> tuple[str, int]:
    """"Sposta questa data": a small form with the new start and end."""
    fields = _fields_or_404(event_id)
    text = request.args.get("recurrence_id", "")
    original = _original(fields, text)
    if original is None:
        return _date_page(400, event_id, fields, text, "", "", [_say("dates_bad")])
    current = _editing().source.override_fields(event_id, original) or {}
    start = forms.show_when(current.get("start") or original)
    end = forms.show_when(current.get("end")) if current.get("end") else ""
    return _date_page(200, event_id, fields, forms.show_when(original), start, end, words=_words(original))


def _date_page(status: int, event_id: str, fields: dict[str, Any], original: str, start: str, end: str,
               general: list[str] | None = None, words: str = "") -> tuple[str, int]:
    return _page(
        "date.html", status, event_id=event_id, title=fields.get("title", event_id), original=original, words=words or original,
        start=start, end=end, all_day=_all_day(fields), general=general or [],
        # A refused move keeps the version it was read from: saving again is checked against it.
        version=request.form.get("version", "") if request.method == "POST" else _editing().source.version_of(event_id),
        input_type=forms.input_type,
    )


@bp.post("/events/<event_id>/date")
def change_date(event_id: str) -> Response | tuple[str, int]:
    """Cancel (``date_cancel``), restore (``date_restore``) or move
    (``recurrence_id`` with ``start`` and ``end``) one date: 303 back to the
    event's form when saved, 422 refused by the checker, 409 when the event
    changed since ``version``; nothing written in either case."""
    fields = _fields_or_404(event_id)
    source = _editing().source
    form = request.form
    if form.get("date_cancel"):
        action, text = "cancel", form["date_cancel"]
    elif form.get("date_restore"):
        action, text = "restore", form["date_restore"]
    else:
        action, text = "move", form.get("recurrence_id", "")
    original = _original(fields, text)
    if original is None:
        return _date_page(400, event_id, fields, text, "", "", [_say("dates_bad")])
    existing = source.override_fields(event_id, original)
    if action == "restore" and existing is None:
        flash(_say("dates_nothing"))
        return redirect(url_for("editor.edit_event", event_id=event_id), 303)
    if action == "cancel":
        changes: dict[str, Any] | None = {"status": "cancelled"}
    elif action == "restore":
        changes = None
    else:
        try:
            start = forms.parse_when(form.get("start", ""), _all_day(fields))
            end = forms.parse_when(form["end"], _all_day(fields)) if form.get("end", "").strip() else None
        except ValueError:
            return _date_page(422, event_id, fields, text, form.get("start", ""), form.get("end", ""), [_say("dates_bad")],
                              _words(original))
        # A moved date takes place: a cancelled one becomes a moved one.
        changes = {"start": start, "end": end, "duration": None}
        if (existing or {}).get("status") == "cancelled":
            changes["status"] = None
    try:
        saved = source.save_override(event_id, original, changes, form.get("version", ""), author=_editor() or "")
    except SaveConflict as conflict:
        if conflict.theirs is None:
            refuse(current_calendar(), 404, "no_event", id=event_id)
        return _form_page(409, event_id, forms.typed_from(conflict.theirs), conflict.current_version,
                          general=[_say("dates_conflict")], kept=_kept(conflict.theirs))
    except UnknownEvent:
        refuse(current_calendar(), 404, "no_event", id=event_id)
    except CalendarErrors as refused:
        general = [_say("edit_refused")] + [problems.located(problem, _language()) for problem in refused.problems]
        return _date_page(422, event_id, fields, text, form.get("start", ""), form.get("end", ""), general, _words(original))
    _serve_now(saved)
    done = {"cancel": "dates_cancelled_done", "restore": "dates_restored_done", "move": "dates_moved_done"}[action]
    flash(_say(done, when=_words(original), title=fields.get("title", event_id)))
    return redirect(url_for("editor.edit_event", event_id=event_id), 303)

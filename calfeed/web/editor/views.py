"""The editor's pages: log in, the list of events, the event form, delete.

Every request passes ``guard`` first: 404 while editing is off, 303 to the
login page without a session, 400 for a POST without this session's CSRF
token. Saving is the writer's job (``calfeed.writer``); these views turn its
answers into HTTP: 303 saved, 422 refused, 409 changed meanwhile.
"""

from __future__ import annotations

import difflib
import math
import time
import tomllib
from datetime import datetime, tzinfo
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect

from calfeed import history, loading, timezones, tomlfile
from calfeed.accounts import LoginThrottle
from calfeed.errors import CalendarErrors
from calfeed.model import Calendar, Event
from calfeed.occurrences import HORIZON, Occurrence, expand, instant
from calfeed.occurrences import naive as naive_local
from calfeed.web.editor import forms, problems
from calfeed.web.editor.switch import EditorsFile, editing, editors_file
from calfeed.web.http import current_calendar, now, refuse, store
from calfeed.web.i18n import message, strings, weekdays, when
from calfeed.writer import CannotUndo, SaveConflict, Saved, SourceFile, UnknownEvent, change_title, touched_events, touched_tables

bp = Blueprint("editor", __name__, url_prefix="/edit")

LIST_LIMIT = 200
NEXT_DATES = 12  # the dates the form shows (and offers to leave out)
HISTORY_LIMIT = 30
NAME_LIMIT = 100  # longer typed names are cut before they reach the throttle
SCRIPT = Path(__file__).parent.parent.parent / "static" / "editor.js"
# Endpoints open without a session.
OPEN = {"editor.login", "editor.script"}


class Editing:
    """What the editor works with: the editors file, the login throttle,
    the source file it writes, and the CSRF checker."""

    def __init__(self, events: Path, editors_setting: str | None, base_url: str | None, csrf: CSRFProtect):
        self.editors: EditorsFile = editors_file(events, editors_setting)
        self.throttle = LoginThrottle(self.editors.path)
        self.source = SourceFile(events, base_url=base_url)
        self.csrf = csrf


def _editing() -> Editing:
    return current_app.extensions["calfeed.editor"]


def _t() -> SimpleNamespace:
    return SimpleNamespace(**strings(current_calendar().calendar.language))


def _language() -> str:
    return current_calendar().calendar.language


def _say(key: str, **blanks: object) -> str:
    return message(current_calendar().calendar.language, key, **blanks)


def _editor() -> str | None:
    """The editor logged in on this session, while the session is young
    enough and the name still in the editors file."""
    name, since = session.get("editor"), session.get("since")
    if not isinstance(name, str) or not isinstance(since, (int, float)):
        return None
    if time.time() - since > current_app.permanent_session_lifetime.total_seconds():
        return None
    editors, _ = _editing().editors.current()
    return name if editors is not None and name in editors.names() else None


def client_address() -> str:
    """The address a login counts against: the peer, or behind
    ``CALFEED_TRUSTED_PROXIES`` reverse proxies the address the nearest of
    them saw (werkzeug's ProxyFix, set up in ``create_app``)."""
    return request.remote_addr or "unknown"


@bp.before_request
def guard() -> Response | None:
    state = _editing()
    if not editing(state.editors, current_app.config.get("SECRET_KEY")).on:
        abort(404)
    if request.endpoint not in OPEN and _editor() is None:
        return redirect(url_for("editor.login"), 303)
    if request.method == "POST":
        try:
            state.csrf.protect()
        except CSRFError:
            refuse(current_calendar(), 400, "edit_csrf")
    return None


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    published = current_calendar()
    calendar = published.calendar
    return render_template(
        f"edit/{template}",
        calendar=calendar,
        lang=calendar.language,
        t=SimpleNamespace(**strings(calendar.language)),
        editor=_editor(),
        notes=get_flashed_messages(),
        **context,
    ), status


# --------------------------------------------------------------------------- logging in


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    """The login form. A wrong name and a wrong password get the same
    answer; too many failures from one address or for one name, 429."""
    if request.method == "GET":
        return _page("login.html")
    name = request.form.get("username", "").strip().lower()[:NAME_LIMIT]
    password = request.form.get("password", "")
    address = client_address()
    state = _editing()
    wait = state.throttle.blocked(address, name)
    if wait > 0:
        page, status = _page("login.html", 429, error=_say("edit_locked", minutes=max(1, math.ceil(wait / 60))), name=name)
        return Response(page, status, headers={"Retry-After": str(math.ceil(wait))})
    editors, _ = state.editors.current()
    if editors is not None and editors.verify(name, password):
        state.throttle.succeeded(address, name)
        # A new session: nothing from before the login (a CSRF secret
        # included) carries over.
        session.clear()
        session["editor"], session["since"] = name, int(time.time())
        session.permanent = True
        return redirect(url_for("editor.events"), 303)
    state.throttle.failed(address, name)
    return _page("login.html", 403, error=_say("edit_login_failed"), name=name)


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("editor.login"), 303)


@bp.get("/static/editor.js")
def script() -> Response:
    """The form's helper script (the form works without it)."""
    return Response(SCRIPT.read_bytes(), content_type="text/javascript; charset=utf-8")


# --------------------------------------------------------------------------- the list


@bp.get("/")
def events() -> tuple[str, int]:
    """Upcoming events first (in date order), or the past ones (the latest
    first); ``?q=`` keeps those whose title or id holds the words."""
    published = current_calendar()
    calendar = published.calendar
    zone = timezones.zone(calendar.timezone)
    moment = now(published)
    query = request.args.get("q", "").strip()
    show_past = request.args.get("past") == "1"
    words = query.casefold().split()
    upcoming, past = [], []
    for event in calendar.events:
        if words and not all(word in f"{event.title} {event.id}".casefold() for word in words):
            continue
        following = expand(event, moment, moment + HORIZON, zone, 1)
        if following:
            upcoming.append((instant(following[0].start, zone), following[0], event))
        else:
            past.append((instant(event.start, zone), None, event))
    chosen = sorted(past, key=lambda row: row[0], reverse=True) if show_past else sorted(upcoming, key=lambda row: row[0])
    rows = [
        SimpleNamespace(event=event, when=_when(occurrence or event, zone, calendar.language))
        for _, occurrence, event in chosen[:LIST_LIMIT]
    ]
    return _page("list.html", rows=rows, query=query, show_past=show_past, more=len(chosen) > LIST_LIMIT,
                 proposed=[] if show_past else _proposed(words))


def _proposed(words: list[str]) -> list[SimpleNamespace]:
    """The pending proposals the search keeps: listed as "proposta", each a
    link to its review in the queue."""
    from calfeed.web.editor.proposals import pending_rows  # that module builds on this one

    return [row for row in pending_rows() if all(word in row.title.casefold() for word in words)][:LIST_LIMIT]


def _when(shown: Occurrence | Event, zone: tzinfo, language: str) -> str:
    if not isinstance(shown, Occurrence):
        shown = Occurrence(shown, shown.start, shown.end)
    return when(shown, zone, language)


# --------------------------------------------------------------------------- the form


def _form_page(
    status: int,
    event_id: str | None,
    typed: forms.Typed,
    version: str,
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    conflict: SimpleNamespace | None = None,
    kept: list[str] | None = None,
    dates: list[SimpleNamespace] | None = None,
    previewed: bool = False,
) -> tuple[str, int]:
    calendar = current_calendar().calendar
    if dates is None and event_id is not None and status == 200:
        dates = _next_dates(calendar, event_id)
    table = strings(calendar.language)
    known = [c.name for c in calendar.categories]
    chosen = {name.casefold() for name in typed.categories}
    others = [name for name in typed.categories if name.casefold() not in {k.casefold() for k in known}]
    return _page(
        "form.html",
        status,
        event_id=event_id,
        typed=typed,
        version=version,
        errors=errors or {},
        general=general or [],
        conflict=conflict,
        kept=kept or [],
        places=calendar.places,
        known_categories=[(name, name.casefold() in chosen) for name in known],
        other_categories=", ".join(others),
        statuses=forms.STATUSES,
        status_names={"confirmed": table["edit_confirmed"], "tentative": table["tentative"], "cancelled": table["cancelled"]},
        labels={name: table[f"f_{name}"] for name in forms.FIELDS},
        input_type=forms.input_type,
        dates=dates,
        previewed=previewed,
        weekdays=list(zip(forms.WEEKDAYS, weekdays(calendar.language))),
        status_now=_status_now(event_id),
    )


def _status_now(event_id: str | None) -> str | None:
    """The event's status as the file has it, for the cancel/restore button."""
    fields = _editing().source.event_fields(event_id) if event_id is not None else None
    return None if fields is None else str(fields.get("status") or "confirmed")


def _next_dates(calendar: Calendar, event_id: str) -> list[SimpleNamespace]:
    """The event's next dates as the feed has them (from now; a past event:
    from its start), each with the value ``exdates`` would hold for it."""
    event = calendar.event(event_id)
    if event is None:
        return []
    zone = timezones.zone(calendar.timezone)
    moment = now(current_calendar())
    found = expand(event, moment, moment + HORIZON, zone, NEXT_DATES) or expand(
        event, instant(event.start, zone), instant(event.start, zone) + HORIZON, zone, NEXT_DATES)
    return [
        SimpleNamespace(
            text=when(occurrence, zone, calendar.language),
            value=forms.show_when(naive_local(occurrence.start)),
            regular=occurrence.event is event and event.recurrence is not None,
            cancelled=occurrence.event.status == "cancelled",
            # The date as the series gives it, which an override names (dates.py).
            original=forms.show_when(_wall(occurrence.event.recurrence_id or occurrence.start)) if event.recurrence else "",
            overridden=occurrence.event is not event,
            moved=occurrence.event is not event and occurrence.event.start != occurrence.event.recurrence_id,
        )
        for occurrence in found
    ]


def _wall(value: Any) -> Any:
    """A local date-time's wall-clock time (a date stays a date)."""
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


def _kept(fields: dict[str, Any] | None) -> list[str]:
    """The keys of the event the form does not show: the writer keeps them."""
    return sorted(key for key in (fields or {}) if key not in forms.FIELDS and key not in ("id", "updated", "sequence"))


@bp.get("/events/new")
def new_event() -> tuple[str, int]:
    """An empty form, or with ``?from=<id>`` one filled in from that event
    ("Duplica"): the same fields, the title marked as a copy."""
    source = _editing().source
    original = request.args.get("from")
    if original is None:
        return _form_page(200, None, forms.Typed(), source.version_of(None))
    fields = source.event_fields(original)
    if fields is None:
        refuse(current_calendar(), 404, "no_event", id=original)
    fields["title"] = _say("edit_copy", title=fields.get("title") or original)
    typed = forms.typed_from(fields)
    typed.text["rrule_was"] = ""  # a new event: everything in the form is new
    return _form_page(200, None, typed, source.version_of(None), kept=_kept(fields))


@bp.get("/events/<event_id>")
def edit_event(event_id: str) -> tuple[str, int]:
    source = _editing().source
    fields = source.event_fields(event_id)
    if fields is None:
        refuse(current_calendar(), 404, "no_event", id=event_id)
    return _form_page(200, event_id, forms.typed_from(fields), source.version_of(event_id), kept=_kept(fields))


@bp.post("/events/new")
def create_event() -> Response | tuple[str, int]:
    return _save(None)


@bp.post("/events/<event_id>")
def save_event(event_id: str) -> Response | tuple[str, int]:
    return _save(event_id)


@bp.post("/events/<event_id>/status")
def set_status(event_id: str) -> Response | tuple[str, int]:
    """"Annulla evento" and "Ripristina": one click sets the status to
    cancelled or confirmed (a save like any other: sequence rises)."""
    status = request.form.get("status", "")
    if status not in ("cancelled", "confirmed"):
        abort(400)
    source = _editing().source
    current = source.event_fields(event_id)
    if current is None:
        refuse(current_calendar(), 404, "no_event", id=event_id)
    try:
        saved = source.save_event(event_id, {"status": status}, request.form.get("version", ""), author=_editor() or "")
    except SaveConflict as conflict:
        wanted = {**current, "status": status}
        return _conflict(event_id, forms.typed_from(wanted), wanted, conflict)
    except UnknownEvent:
        refuse(current_calendar(), 404, "no_event", id=event_id)
    except CalendarErrors as refused:
        general = [_say("edit_refused")] + [problems.located(problem, _language()) for problem in refused.problems]
        return _form_page(422, event_id, forms.typed_from(current), source.version_of(event_id), general=general, kept=_kept(current))
    _serve_now(saved)
    flash(_say(f"edit_status_{status}", title=current.get("title", event_id)))
    return redirect(url_for("editor.edit_event", event_id=event_id), 303)


def _event_index(text: str, event_id: str | None) -> int | None:
    """The position of the event's table in the file (a new one is last)."""
    try:
        tables = tomllib.loads(text).get("events", [])
    except tomllib.TOMLDecodeError:
        return None
    if not isinstance(tables, list):
        return None
    if event_id is None:
        return len(tables)
    ids = [table.get("id") if isinstance(table, dict) else None for table in tables]
    return ids.index(event_id) if event_id in ids else None


def _save(event_id: str | None) -> Response | tuple[str, int]:
    state = _editing()
    source = state.source
    read = forms.read_form(request.form)
    version = request.form.get("version", "")
    current = source.event_fields(event_id) if event_id is not None else None
    if read.errors:
        errors = {name: [_say(key)] for name, key in read.errors.items()}
        return _form_page(422, event_id, read.typed, version, errors=errors, general=[_say("edit_refused")], kept=_kept(current))
    forms.add_exdates(read.fields, read.picked, current)
    read.typed.picked = []  # the ticked dates are in exdates now
    if read.picked:
        read.typed.text["exdates"] = forms.typed_from(read.fields).value("exdates")
    fields = forms.changes(read.fields, current)
    notices = [_say(key, **blanks) for key, blanks in read.notices]
    if request.form.get("preview"):
        return _preview(event_id, read.typed, version, fields, notices, current)
    if event_id is not None and current is not None and not fields:
        flash(_say("edit_unchanged"))
        return redirect(url_for("editor.edit_event", event_id=event_id), 303)
    try:
        saved = source.save_event(event_id, fields, version, author=_editor() or "")
    except SaveConflict as conflict:
        return _conflict(event_id, read.typed, read.fields, conflict)
    except UnknownEvent:
        refuse(current_calendar(), 404, "no_event", id=event_id)
    except CalendarErrors as refused:
        errors, general = _placed(refused, event_id)
        return _form_page(422, event_id, read.typed, version, errors=errors, general=general, kept=_kept(current))
    _serve_now(saved)
    title = read.fields.get("title") or (current or {}).get("title") or saved.event_id
    flash(_say("edit_saved", title=title))
    for notice in notices:
        flash(notice)
    return redirect(url_for("editor.edit_event", event_id=saved.event_id), 303)


def _placed(refused: CalendarErrors, event_id: str | None) -> tuple[dict[str, list[str]], list[str]]:
    """The checker's problems in the calendar's language: those of the
    edited event's fields beside them, the rest above the form."""
    text, _ = _editing().source.read()
    placed = forms.place_problems(refused.problems, _event_index(text, event_id))
    errors = {name: [problems.render(problem, _language()) for problem in found] for name, found in placed.by_field.items()}
    return errors, [_say("edit_refused")] + [problems.located(problem, _language()) for problem in placed.general]


def _preview(event_id: str | None, typed: forms.Typed, version: str, fields: dict[str, Any],
             notices: list[str], current: dict[str, Any] | None) -> tuple[str, int]:
    """The form again, as typed, with the dates the feed would have after
    saving it: the same checker as a save, and nothing written."""
    source = _editing().source
    try:
        new_id, calendar = source.preview_event(event_id, fields)
    except UnknownEvent:
        refuse(current_calendar(), 404, "no_event", id=event_id)
    except CalendarErrors as refused:
        errors, general = _placed(refused, event_id)
        return _form_page(422, event_id, typed, version, errors=errors, general=general, kept=_kept(current), dates=[])
    return _form_page(200, event_id, typed, version, general=notices, kept=_kept(current),
                      dates=_next_dates(calendar, new_id), previewed=True)


def _conflict(event_id: str | None, typed: forms.Typed, fields: dict[str, Any], conflict: SaveConflict) -> tuple[str, int]:
    """The form again with what was typed, beside the event as the file has
    it now; its version is the file's, so saving again keeps the typed one.
    Rows only for what a save would change: categories in another order or
    a status the file leaves to its default are no difference."""
    theirs = forms.typed_from(conflict.theirs) if conflict.theirs is not None else None
    differing = forms.changes(fields, conflict.theirs)
    rows = [
        SimpleNamespace(name=name, theirs=_shown(theirs, name), yours=_shown(typed, name))
        for name in forms.FIELDS
        if theirs is None or name in differing
    ]
    info = SimpleNamespace(rows=rows, deleted=theirs is None)
    # A deleted event can only come back as a new one.
    target = None if theirs is None else event_id
    version = conflict.current_version if theirs is not None else _editing().source.version_of(None)
    return _form_page(409, target, typed, version, conflict=info, kept=_kept(conflict.theirs))


def _shown(typed: forms.Typed | None, name: str) -> str:
    if typed is None:
        return ""
    return ", ".join(typed.categories) if name == "categories" else typed.value(name)


def _serve_now(saved: Saved) -> None:
    """This worker serves the saved file from the next request on (the
    others within the reload deadline)."""
    accept = getattr(store(), "accept", None)  # ``calfeed build`` serves a fixed calendar
    if accept is not None:
        accept(saved.calendar, saved.raw)


# --------------------------------------------------------------------------- deleting


@bp.get("/events/<event_id>/delete")
def confirm_delete(event_id: str) -> tuple[str, int]:
    """Asks first, and offers to cancel instead: subscribers see a
    cancelled event struck through, a deleted one simply vanishes."""
    source = _editing().source
    fields = source.event_fields(event_id)
    if fields is None:
        refuse(current_calendar(), 404, "no_event", id=event_id)
    return _page("delete.html", event_id=event_id, title=fields.get("title", event_id), version=source.version_of(event_id))


@bp.post("/events/<event_id>/delete")
def delete_event(event_id: str) -> Response | tuple[str, int]:
    source = _editing().source
    fields = source.event_fields(event_id)
    version = request.form.get("version", "")
    try:
        saved = source.delete_event(event_id, version, author=_editor() or "")
    except UnknownEvent:
        refuse(current_calendar(), 404, "no_event", id=event_id)
    except SaveConflict as conflict:
        if conflict.theirs is None:  # already gone: what was asked is done
            return redirect(url_for("editor.events"), 303)
        typed = forms.typed_from(conflict.theirs)
        return _form_page(409, event_id, typed, conflict.current_version, conflict=SimpleNamespace(rows=[], deleted=False), kept=_kept(conflict.theirs))
    except CalendarErrors as refused:
        general = [_say("edit_refused")] + [problems.located(problem, _language()) for problem in refused.problems]
        return _page("delete.html", 422, event_id=event_id, title=(fields or {}).get("title", event_id), version=version, general=general)
    _serve_now(saved)
    flash(_say("edit_deleted", title=(fields or {}).get("title", event_id)))
    return redirect(url_for("editor.events"), 303)


# --------------------------------------------------------------------------- history and undo


def _history_entries() -> list[SimpleNamespace]:
    """The latest saves, newest first: git's commits of the file in a work
    tree, else the change log beside it."""
    path = _editing().source.path
    language = current_calendar().calendar.language
    if history.in_work_tree(path):
        return [
            SimpleNamespace(ref=c.sha, author=c.author, date=c.date, subject=c.subject, diff=history.diff(path, c.sha))
            for c in history.commits(path, HISTORY_LIMIT)
        ]
    entries = []
    for entry in reversed(history.read_log(path)[-HISTORY_LIMIT:]):
        before, after = entry.get("before") or "", entry.get("after") or ""
        lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), n=3)
        entries.append(SimpleNamespace(
            ref=f"log-{entry['number']}", author=str(entry.get("author", "")), date=str(entry.get("time", "")),
            subject=str(entry["subject"]) if entry.get("subject") else
            history.message(str(entry.get("action", "changed")), str(entry.get("title", "")), language)
            if entry.get("action") in history.ACTIONS else str(entry.get("title", "")),
            diff="".join(line if line.endswith("\n") else line + "\n" for line in list(lines)[2:]),
        ))
    return entries


def _history_page(status: int = 200, **context: Any) -> tuple[str, int]:
    from calfeed.web.editor.proposals import decisions  # it builds on this module

    return _page("history.html", status, entries=_history_entries(), decisions=decisions(HISTORY_LIMIT), **context)


@bp.get("/history")
def changes() -> tuple[str, int]:
    """The latest saves with their diff, each with a button that undoes it."""
    return _history_page()


def _table(text: str | None) -> dict | None:
    if not text:
        return None
    events = loading.parse(text, "").data.get("events")
    return events[0] if isinstance(events, list) and events and isinstance(events[0], dict) else None


def _undoable(ref: str) -> tuple[history.Patch, dict] | None:
    """What undoing the save ``ref`` (a commit, or ``log-<line>``) takes back."""
    path = _editing().source.path
    if ref.startswith("log-") and ref[4:].isdigit():
        entry = next((e for e in history.read_log(path) if e["number"] == int(ref[4:])), None)
        if entry is not None and isinstance(entry.get("table"), list):  # a place or the settings
            key = tuple(str(part) for part in entry["table"])
            return history.patch_of(entry), {key: (_table_at(entry.get("before"), key), _table_at(entry.get("after"), key))}
        if entry is None or not isinstance(entry.get("id"), str):
            return None
        return history.patch_of(entry), {entry["id"]: (_table(entry.get("before")), _table(entry.get("after")))}
    if not history.in_work_tree(path) or ref not in {c.sha for c in history.commits(path, HISTORY_LIMIT)}:
        return None
    found = history.versions(path, ref)
    if found is None:
        return None
    before, after = found
    return history.Patch.between(before, after), {**touched_events(before, after), **touched_tables(before, after)}


def _toml(value: Any) -> str:
    return "" if value is None else tomlfile.value(value)


def _table_at(text: str | None, key: tuple) -> dict | None:
    """A place's or the settings' table in a change log entry's text."""
    node = loading.parse(text, "").data if text else None
    for part in key:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


@bp.post("/history/<ref>/undo")
def undo(ref: str) -> Response | tuple[str, int]:
    """Writes the reverse of one save as a new save by this editor; refused
    (409, nothing written) when the event changed since."""
    found = _undoable(ref)
    if found is None:
        refuse(current_calendar(), 404, "edit_no_change")
    patch, touched = found
    try:
        saved = _editing().source.undo(patch, touched, author=_editor() or "")
    except SaveConflict as conflict:
        before = touched[conflict.event_id][0]
        if isinstance(conflict.event_id, tuple):  # a place or the settings: their keys as the file writes them
            now, then = conflict.theirs or {}, before or {}
            rows = [
                SimpleNamespace(name=key, label=key, theirs=_toml(now.get(key)), yours=_toml(then.get(key)))
                for key in sorted({*now, *then}) if now.get(key) != then.get(key)
            ]
            return _history_page(409, conflict=SimpleNamespace(ref=ref, rows=rows), general=[_say("edit_undo_conflict")])
        now_typed = forms.typed_from(conflict.theirs) if conflict.theirs is not None else None
        then_typed = forms.typed_from(before) if before is not None else None
        rows = [
            SimpleNamespace(name=name, theirs=_shown(now_typed, name), yours=_shown(then_typed, name))
            for name in forms.FIELDS if _shown(now_typed, name) != _shown(then_typed, name)
        ]
        return _history_page(409, conflict=SimpleNamespace(ref=ref, rows=rows), general=[_say("edit_undo_conflict")])
    except CannotUndo:
        return _history_page(409, general=[_say("edit_undo_impossible")])
    except CalendarErrors as refused:
        return _history_page(422, general=[_say("edit_refused")] + [problems.located(problem, _language()) for problem in refused.problems])
    _serve_now(saved)
    flash(_say("edit_undone", title=", ".join(change_title(k, b, a) for k, (b, a) in touched.items())))
    return redirect(url_for("editor.changes"), 303)

"""The editor's pages for places (``/edit/places``) and the calendar's own
settings (``/edit/calendar``).

Registered on the editor's blueprint, so the same guard applies (404 while
editing is off, 303 to the login page, CSRF on every POST). The writer saves
one table each time with the same rules as an event: 303 saved, 422 refused
(messages beside the fields, what was typed kept), 409 when the same table
changed since the form was read.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import Response, flash, redirect, request, url_for

from calfeed.errors import CalendarErrors
from calfeed.web.editor import problems, tableforms
from calfeed.web.editor.views import _editing, _editor, _page, _say, _serve_now, bp
from calfeed.web.http import current_calendar, refuse
from calfeed.writer import PlaceInUse, SaveConflict, UnknownPlace, unique_id


def _base_url_fixed() -> bool:
    """CALFEED_BASE_URL overrides the file's base_url: the form shows it read-only."""
    return bool(_editing().source.base_url)


def _refused(refused: CalendarErrors, where: str, fields: tuple[str, ...]) -> tuple[dict[str, list[str]], list[str]]:
    """The problems in the calendar's language: beside their fields, or above."""
    mine, rest = tableforms.by_field(refused.problems, where, fields)
    language = current_calendar().calendar.language
    errors = {name: [problems.render(problem, language) for problem in found] for name, found in mine.items()}
    return errors, [_say("place_refused")] + [problems.located(problem, language) for problem in rest]


def _conflict_rows(theirs: dict[str, str] | None, yours: dict[str, str], names: tuple[str, ...]) -> list[SimpleNamespace]:
    """The fields that differ between the file's version and the typed one."""
    theirs = theirs or {}
    return [
        SimpleNamespace(name=name, theirs=theirs.get(name, ""), yours=yours.get(name, ""))
        for name in names if theirs.get(name, "") != yours.get(name, "")
    ]


# --------------------------------------------------------------------------- places


def _users(slug: str) -> list[SimpleNamespace]:
    return [SimpleNamespace(id=ident, title=title) for ident, title in _editing().source.events_at(slug)]


def _places_page(status: int = 200, **context: Any) -> tuple[str, int]:
    calendar = current_calendar().calendar
    source = _editing().source
    context.setdefault("typed", tableforms.typed_place(None))
    context.setdefault("errors", {})
    context.setdefault("general", [])
    context.setdefault("version", source.version_of_place(None))
    rows = [SimpleNamespace(place=place, uses=len(source.events_at(place.slug))) for place in calendar.places]
    return _page("places.html", status, rows=rows, **context)


def _place_page(slug: str, status: int = 200, **context: Any) -> tuple[str, int]:
    context.setdefault("errors", {})
    context.setdefault("general", [])
    return _page("place.html", status, slug=slug, uses=_users(slug), **context)


@bp.get("/places")
def places() -> tuple[str, int]:
    """Every place, with how many events name it, and the form for a new one."""
    return _places_page()


@bp.post("/places")
def create_place() -> Response | tuple[str, int]:
    """A new place; its slug comes from the name and never changes."""
    source = _editing().source
    read = tableforms.read_place(request.form)
    version = request.form.get("version", "")
    if read.errors:
        errors = {name: [_say(key)] for name, key in read.errors.items()}
        return _places_page(422, typed=read.typed, errors=errors, general=[_say("place_refused")], version=version)
    slug = unique_id(read.fields["name"], {p.slug for p in current_calendar().calendar.places}, "luogo")
    try:
        saved = source.save_place(None, read.fields, version, author=_editor() or "")
    except CalendarErrors as refused:
        errors, general = _refused(refused, f'place "{slug}"', tableforms.PLACE_FIELDS)
        return _places_page(422, typed=read.typed, errors=errors, general=general, version=version)
    except RuntimeError:  # the places are not written as [places.<slug>] tables
        return _places_page(422, typed=read.typed, general=[_say("place_by_hand")], version=version)
    _serve_now(saved)
    flash(_say("place_added", name=read.fields["name"]))
    return redirect(url_for("editor.edit_place", slug=saved.event_id), 303)


@bp.get("/places/<slug>")
def edit_place(slug: str) -> tuple[str, int]:
    source = _editing().source
    fields = source.place_fields(slug)
    if fields is None:
        refuse(current_calendar(), 404, "no_place", slug=slug)
    return _place_page(slug, typed=tableforms.typed_place(fields), version=source.version_of_place(slug))


@bp.post("/places/<slug>")
def save_place(slug: str) -> Response | tuple[str, int]:
    source = _editing().source
    read = tableforms.read_place(request.form)
    version = request.form.get("version", "")
    if source.place_fields(slug) is None:
        refuse(current_calendar(), 404, "no_place", slug=slug)
    if read.errors:
        errors = {name: [_say(key)] for name, key in read.errors.items()}
        return _place_page(slug, 422, typed=read.typed, errors=errors, general=[_say("place_refused")], version=version)
    try:
        saved = source.save_place(slug, read.fields, version, author=_editor() or "")
    except UnknownPlace:
        refuse(current_calendar(), 404, "no_place", slug=slug)
    except SaveConflict as conflict:
        rows = _conflict_rows(tableforms.typed_place(conflict.theirs), read.typed, ("name", "address", "lat", "lon", "url"))
        return _place_page(slug, 409, typed=read.typed, version=conflict.current_version,
                           conflict=SimpleNamespace(rows=rows))
    except CalendarErrors as refused:
        errors, general = _refused(refused, f'place "{slug}"', tableforms.PLACE_FIELDS)
        return _place_page(slug, 422, typed=read.typed, errors=errors, general=general, version=version)
    except RuntimeError:
        return _place_page(slug, 422, typed=read.typed, general=[_say("place_by_hand")], version=version)
    _serve_now(saved)
    flash(_say("place_saved", name=read.fields["name"]))
    return redirect(url_for("editor.edit_place", slug=slug), 303)


@bp.get("/places/<slug>/delete")
def confirm_delete_place(slug: str) -> tuple[str, int]:
    """Asks first; a place that events name cannot go, and the page lists them."""
    source = _editing().source
    fields = source.place_fields(slug)
    if fields is None:
        refuse(current_calendar(), 404, "no_place", slug=slug)
    return _page("place_delete.html", slug=slug, name=fields.get("name", slug), uses=_users(slug),
                 version=source.version_of_place(slug))


@bp.post("/places/<slug>/delete")
def delete_place(slug: str) -> Response | tuple[str, int]:
    source = _editing().source
    fields = source.place_fields(slug)
    if fields is None:
        return redirect(url_for("editor.places"), 303)  # already gone: what was asked is done
    name = fields.get("name", slug)
    try:
        saved = source.delete_place(slug, request.form.get("version", ""), author=_editor() or "")
    except PlaceInUse as in_use:
        uses = [SimpleNamespace(id=ident, title=title) for ident, title in in_use.events]
        return _page("place_delete.html", 409, slug=slug, name=name, uses=uses, version=source.version_of_place(slug))
    except SaveConflict:
        return _page("place_delete.html", 409, slug=slug, name=name, uses=_users(slug),
                     version=source.version_of_place(slug), general=[_say("place_conflict_help")])
    except UnknownPlace:
        return redirect(url_for("editor.places"), 303)
    except CalendarErrors as refused:
        general = [_say("place_refused")] + [str(problem) for problem in refused.problems]
        return _page("place_delete.html", 422, slug=slug, name=name, uses=[], version=source.version_of_place(slug),
                     general=general)
    except RuntimeError:
        return _page("place_delete.html", 422, slug=slug, name=name, uses=[], version=source.version_of_place(slug),
                     general=[_say("place_by_hand")])
    _serve_now(saved)
    flash(_say("place_deleted", name=name))
    return redirect(url_for("editor.places"), 303)


# --------------------------------------------------------------------------- the calendar's settings


def _settings_page(status: int = 200, **context: Any) -> tuple[str, int]:
    context.setdefault("errors", {})
    context.setdefault("general", [])
    fixed = _base_url_fixed()
    return _page("settings.html", status, base_url_fixed=fixed,
                 served_base_url=current_calendar().calendar.base_url if fixed else None,
                 languages=tableforms.LANGUAGES, **context)


@bp.get("/calendar")
def settings() -> tuple[str, int]:
    """The [calendar] table as a form."""
    source = _editing().source
    return _settings_page(typed=tableforms.typed_settings(source.calendar_fields()), version=source.version_of_calendar())


@bp.post("/calendar")
def save_settings() -> Response | tuple[str, int]:
    source = _editing().source
    read = tableforms.read_settings(request.form, _base_url_fixed())
    version = request.form.get("version", "")
    if read.errors:
        errors = {name: [_say(key)] for name, key in read.errors.items()}
        return _settings_page(422, typed=read.typed, errors=errors, general=[_say("place_refused")], version=version)
    try:
        saved = source.save_calendar(read.fields, version, author=_editor() or "")
    except SaveConflict as conflict:
        rows = _conflict_rows(tableforms.typed_settings(conflict.theirs or {}), read.typed,
                              tuple(name for name in tableforms.SETTINGS_FIELDS if name in read.typed))
        return _settings_page(409, typed=read.typed, version=conflict.current_version,
                              conflict=SimpleNamespace(rows=rows))
    except CalendarErrors as refused:
        errors, general = _refused(refused, "[calendar]", tableforms.SETTINGS_FIELDS)
        return _settings_page(422, typed=read.typed, errors=errors, general=general, version=version)
    except RuntimeError:  # [calendar] is not written as its own table
        return _settings_page(422, typed=read.typed, general=[_say("place_by_hand")], version=version)
    _serve_now(saved)
    flash(_say("place_settings_saved"))
    return redirect(url_for("editor.settings"), 303)

"""Importing from the browser (``/edit/import``): the same merge as
``calfeed import --merge``, shown first and written only on confirmation.

The preview computes the new file (``importing.merged_text``) and keeps it
server-side under a random token, with the file version it was made from
and the editor who asked; the confirmation writes exactly that text if the
file is still that version (else 409, nothing written). A URL is fetched
only from public addresses (there is no ``--allow-private`` here: a URL
typed in a browser must not reach the server's own network), within the
command line's size and time limits; an upload is cut at the same size.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import Response, flash, redirect, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from calfeed import loading
from calfeed.importing import MAX_BYTES, ImportFailed, fetch, merged_text
from calfeed.occurrences import Occurrence
from calfeed.timezones import zone
from calfeed.validation import build_calendar
from calfeed.web.editor.views import _editing, _editor, _page, _say, _serve_now, bp
from calfeed.web.i18n import when
from calfeed.writer import FileChanged

MEGABYTES = MAX_BYTES // (1024 * 1024)
# Room for the multipart envelope and the form's other fields around the file.
UPLOAD_LIMIT = MAX_BYTES + 64 * 1024
STAGED_SECONDS = 3600  # a preview can be confirmed for an hour
SOURCE_NAME = 200  # characters of a URL or file name kept for messages and the commit
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# The failures an editor can act on, said in the calendar's language; the
# others keep the command line's English after a translated first line.
_FAILURES = {
    "private-address": "import_private", "too-large": "import_too_large", "not-icalendar": "import_not_icalendar",
    "cut-short": "import_cut_short", "webcal": "import_webcal", "timeout": "import_timeout",
    "http-status": "import_http_status", "unknown-host": "import_unknown_host", "bad-scheme": "import_only_web",
    "file-has-errors": "import_file_has_errors",
}


@bp.before_app_request
def _limit_upload() -> None:
    """The upload's size is limited before its body is read (the guard's
    CSRF check reads the form): werkzeug answers 413 beyond it."""
    if request.endpoint == "editor.import_preview":
        request.max_content_length = UPLOAD_LIMIT


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    return _import_page(413, failure=[_say("import_failed"), _say("import_too_large", limit=MEGABYTES)])


def _import_page(status: int = 200, **context: Any) -> tuple[str, int]:
    return _page("import.html", status, limit=MEGABYTES, url=context.pop("url", ""), **context)


@bp.get("/import")
def import_form() -> tuple[str, int]:
    return _import_page()


@bp.post("/import")
def import_preview() -> tuple[str, int]:
    """Read the source, merge it into the file as it is now, and show what
    would be added and the report; nothing is written."""
    url = request.form.get("url", "").strip()
    upload = request.files.get("file")
    if upload is not None and not upload.filename:
        upload = None
    if not url and upload is None:
        return _import_page(422, failure=[_say("import_choose")])
    if url and upload is not None:
        return _import_page(422, failure=[_say("import_both")], url=url)
    try:
        if upload is not None:
            name = _short(os.path.basename(upload.filename.replace("\\", "/")) or "calendar.ics")
            data = upload.stream.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                return _import_page(413, failure=[_say("import_failed"), _say("import_too_large", limit=MEGABYTES)])
        else:
            name = _short(url)
            if not re.match(r"(?i)(https?|webcal)://", url):
                # fetch() also reads files: from the browser, only the web.
                return _import_page(422, failure=[_say("import_failed"), _say("import_only_web")], url=url)
            data = fetch(url, allow_private=False)
        source = _editing().source
        text, version = source.read()
        new_text, report = merged_text(data, name, text, str(source.path))
    except ImportFailed as failed:
        return _import_page(422, failure=_failure(failed), url=url)
    added = _added(text, new_text) if new_text is not None else []
    token = _stage(new_text, version, name, len(added)) if new_text is not None else None
    return _import_page(
        200, url=url, previewed=True, source_name=name, added=added, token=token, version=version,
        report_notes=report.notes, summary=report.summary(),
    )


@bp.post("/import/confirm")
def import_confirm() -> Response | tuple[str, int]:
    """Write the previewed text, if the file is still the version the
    preview was made from and the preview is this editor's."""
    token = request.form.get("token", "")
    staged = _unstage(token)
    if staged is None:
        return _import_page(409, failure=[_say("import_expired")])
    source = _editing().source
    if request.form.get("version", "") != staged["version"]:
        return _import_page(409, failure=[_say("import_changed")])
    subject = _say("import_commit", count=staged["count"], source=staged["source"])
    try:
        saved = source.replace_text(staged["text"], staged["version"], subject, author=_editor() or "")
    except FileChanged:
        return _import_page(409, failure=[_say("import_changed")])
    _stage_path(token).unlink(missing_ok=True)
    _serve_now(saved)
    flash(_say("import_done", count=staged["count"], source=staged["source"]))
    return redirect(url_for("editor.events"), 303)


def _short(text: str) -> str:
    return text if len(text) <= SOURCE_NAME else text[:SOURCE_NAME] + "…"


def _failure(failed: ImportFailed) -> list[str]:
    key = _FAILURES.get(failed.code)
    if key is None:
        return [_say("import_failed"), str(failed)]
    blanks = {"limit": MEGABYTES, **failed.data}
    return [_say("import_failed"), _say(key, **blanks)]


def _added(old_text: str, new_text: str) -> list[SimpleNamespace]:
    """The events the new text has and the old one lacks, with their first date."""
    path = str(_editing().source.path)
    old_ids = {e.get("id") for e in loading.parse(old_text, path).data.get("events", []) if isinstance(e, dict)}
    calendar = build_calendar(loading.parse(new_text, path), _editing().source.base_url)
    tz = zone(calendar.timezone)
    return [
        SimpleNamespace(title=event.title, when=when(Occurrence(event, event.start, event.end), tz, calendar.language),
                        recurring=event.recurrence is not None)
        for event in calendar.events if event.id not in old_ids
    ]


# --------------------------------------------------------------------------- previews kept for confirmation


def _stage_folder() -> Path:
    """``.<name>.imports`` beside the real file, as its lock is: shared by
    every worker, and by no other calendar."""
    target = Path(os.path.realpath(_editing().source.path))
    return target.parent / f".{target.name}.imports"


def _stage_path(token: str) -> Path:
    return _stage_folder() / f"{token}.json"


def _stage(text: str, version: str, name: str, count: int) -> str:
    """Keep a preview's text (mode 0600) and return its token; previews
    older than STAGED_SECONDS are removed on the way."""
    folder = _stage_folder()
    folder.mkdir(mode=0o700, exist_ok=True)
    for old in folder.glob("*.json"):
        try:
            if time.time() - old.stat().st_mtime > STAGED_SECONDS:
                old.unlink(missing_ok=True)
        except OSError:
            pass
    token = secrets.token_urlsafe(24)
    record = {"text": text, "version": version, "source": name, "count": count, "editor": _editor() or ""}
    handle = os.open(_stage_path(token), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(record, file, ensure_ascii=False)
    return token


def _unstage(token: str) -> dict[str, Any] | None:
    """The preview kept under ``token``, if it is young enough and this editor's."""
    if not _TOKEN.match(token):
        return None
    path = _stage_path(token)
    try:
        if time.time() - path.stat().st_mtime > STAGED_SECONDS:
            return None
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("editor") != (_editor() or ""):
        return None
    return record

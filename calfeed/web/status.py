"""/healthz: whether the service runs on the current file or an older one."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from calfeed.web.http import current_calendar, store

bp = Blueprint("status", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    current_calendar()  # give a settled edit its chance to load first
    snapshot = store().snapshot()
    response = jsonify(
        status="degraded" if snapshot.error else "ok",
        events=snapshot.events,
        loaded_at=snapshot.loaded_at.isoformat(timespec="seconds"),
        error=snapshot.error,
    )
    response.headers["Cache-Control"] = "no-store"
    return response

"""The HTML pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from calfeed.web.http import current_calendar

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    """The calendar's feeds and its events, each with its own .ics."""
    published = current_calendar()
    return render_template("index.html", calendar=published.calendar)

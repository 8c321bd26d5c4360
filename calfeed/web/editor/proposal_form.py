"""A proposal's fields: what the public form (and the editor's review of
it) sends, as typed, and as the values the writer takes, read by the
editor's own form reader so that both are checked alike. No Flask here."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from calfeed.proposals import MAX_CATEGORIES
from calfeed.web.editor import forms

# What a proposal may set: the rest (status, rule, image...) is the editors'.
SENT = ("title", "start", "end", "place", "location", "description", "url")


def typed_from_form(sent: MultiDict) -> dict[str, Any]:
    """The form's fields as typed (one value each; categories a list)."""
    typed: dict[str, Any] = {name: sent.get(name, "").replace("\r\n", "\n") for name in SENT}
    typed["categories"] = forms.split_categories(sent.getlist("categories"))[:MAX_CATEGORIES + 1]
    typed["all_day"] = bool(sent.get("all_day"))
    return typed


def event_fields(typed: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A proposal's (or an editor's edit of it) fields as the writer takes
    them, read by the editor's form reader; errors as i18n keys."""
    sent = MultiDict([(name, str(typed.get(name) or "")) for name in SENT])
    sent.setlist("categories", list(typed.get("categories") or []))
    if typed.get("all_day"):
        sent["all_day"] = "1"
    read = forms.read_form(sent)
    fields = {name: value for name, value in read.fields.items() if value is not None}
    return fields, dict(read.errors)

"""QR codes a client can ask for but no code can hold: a short 400, not a 500."""

from __future__ import annotations

import pytest
import segno
from segno import DataOverflowError

from conftest import Page

CATEGORIES = [f"Categoria numero {n} per provare i codici QR" for n in range(60)]
SLUGS = [f"categoria-numero-{n}-per-provare-i-codici-qr" for n in range(60)]


@pytest.fixture
def many(make_client):
    events = "\n".join(
        f'[[events]]\nid = "e{n}"\ntitle = "E{n}"\nstart = 2030-01-01T10:00:00\ncategories = ["{name}"]\n'
        for n, name in enumerate(CATEGORIES)
    )
    return make_client(events, TODAY="2029-12-01")


def _feed_url(count: int) -> str:
    return "webcal://eventi.example.org/calendar.ics?" + "&".join(f"category={slug}" for slug in SLUGS[:count])


def test_a_feed_qr_code_with_a_few_filters(many):
    segno.make(_feed_url(10), error="m", boost_error=False)  # fits, says a second encoder
    response = many.get("/qr/calendar.svg?" + "&".join(f"category={slug}" for slug in SLUGS[:10]))
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/svg+xml"


def test_a_feed_qr_code_too_long_for_any_code_is_a_bad_request(many):
    with pytest.raises(DataOverflowError):  # too long at level M, says a second encoder
        segno.make(_feed_url(60), error="m", boost_error=False)
    response = many.get("/qr/calendar.svg?" + "&".join(f"category={slug}" for slug in SLUGS))
    assert response.status_code == 400
    page = Page(response.data)
    assert "400 Richiesta non valida" in page.text and "Troppi filtri per un solo codice QR" in page.text
    assert b"Traceback" not in response.data

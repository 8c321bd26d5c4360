"""QR codes a client can ask for but no code can hold: a short 400, not a 500."""

from __future__ import annotations

import random
import string

import pytest
import segno
import zxingcpp
from segno import DataOverflowError

from calfeed.web.qr import qr_modules
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


def test_the_mask_calfeed_chooses_is_the_one_zint_chooses_for_itself():
    """calfeed scores the eight masks itself (quicker than zint's own scoring):
    every code must be the one zint makes when it chooses, at every size and
    for texts with runs of digits, accents and symbols."""
    rng = random.Random(17)
    texts = [f"https://eventi.example.org/events/evento-{n:05d}-festa" for n in range(150)]
    texts += ["https://e.example.org/events/" + "".join(rng.choices(string.ascii_lowercase + "-0123456789", k=rng.randint(1, 400))) for _ in range(250)]
    texts += ["webcal://città.example.org/?" + "".join(rng.choices("àèé&=?-abc19", k=rng.randint(1, 120))) for _ in range(100)]
    sizes = set()
    for text in texts:
        chosen = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
        modules, size = qr_modules(text)
        assert modules == bytes(chosen.to_image(scale=1, add_quiet_zones=False)), text
        sizes.add(size)
    assert len(sizes) >= 10

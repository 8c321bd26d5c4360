"""Links into calendar clients: calfeed's quick query strings are urllib's."""

from __future__ import annotations

from urllib.parse import urlencode as urllib_urlencode

from hypothesis import given
from hypothesis import strategies as st

from calfeed.web.links import urlencode


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=200), max_size=5))
def test_query_strings_are_the_ones_urllib_makes(query):
    assert urlencode(query) == urllib_urlencode(query)


def test_every_byte_is_quoted_as_urllib_quotes_it():
    text = "".join(map(chr, range(0x800))) + "€\U0001f600%25+"
    assert urlencode({text: text}) == urllib_urlencode({text: text})

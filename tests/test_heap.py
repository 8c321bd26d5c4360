"""calfeed.heap: collections paused inside, and the collector left as found."""

import gc

from calfeed.heap import collections_paused


def test_collections_are_paused_inside_and_restored_after():
    assert gc.isenabled()
    with collections_paused():
        assert not gc.isenabled()
        with collections_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner one does not restart them early
    assert gc.isenabled()


def test_a_collector_already_off_stays_off():
    gc.disable()
    try:
        with collections_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

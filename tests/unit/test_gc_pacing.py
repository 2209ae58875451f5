"""fewer_collections: a higher young threshold and frozen start-up objects inside, the collector as it was after."""
import gc

from service.gc_pacing import YOUNG_EVERY, fewer_collections


def test_the_collector_is_paced_inside_and_restored_after():
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    with fewer_collections():
        assert gc.get_threshold() == (YOUNG_EVERY, before[1], before[2])
        assert gc.get_freeze_count() > frozen
        assert gc.isenabled()  # cycles are still collected, only less often
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_cycle_made_inside_is_still_collected():
    class Node:
        pass

    with fewer_collections():
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        assert gc.collect() >= 2

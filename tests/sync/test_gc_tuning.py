import gc
import threading

from sync.gc_tuning import fewer_collections


def test_threshold_is_raised_while_any_run_is_active_and_restored_after_the_last():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        with fewer_collections(50_000):
            assert gc.get_threshold() == (50_000, 10, 10)
            inner_done = threading.Event()

            def other_run() -> None:
                with fewer_collections(50_000):
                    assert gc.get_threshold() == (50_000, 10, 10)
                inner_done.set()

            thread = threading.Thread(target=other_run)
            thread.start()
            thread.join()
            assert inner_done.is_set()
            # the other run ended first: this one is still active, so the threshold stays
            assert gc.get_threshold() == (50_000, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_a_higher_threshold_already_set_is_kept_and_restored_after_an_error():
    before = gc.get_threshold()
    gc.set_threshold(90_000, 5, 5)
    try:
        try:
            with fewer_collections(50_000):
                assert gc.get_threshold() == (90_000, 5, 5)
                raise RuntimeError("run failed")
        except RuntimeError:
            pass
        assert gc.get_threshold() == (90_000, 5, 5)
    finally:
        gc.set_threshold(*before)

"""WriteAhead: one job in flight, results in submit order, a job's exception raised to the caller."""
import threading

import pytest

from service.write_ahead import WriteAhead


def test_results_arrive_in_order_and_one_job_at_a_time():
    done: list[int] = []
    running = threading.Semaphore(1)

    def job(n: int) -> int:
        assert running.acquire(blocking=False), "two jobs at once"
        running.release()
        return n * 10

    ahead = WriteAhead(done.append)
    for n in range(5):
        ahead.submit(job, n)
        assert ahead.busy
        assert done == [k * 10 for k in range(n)]  # the job before this one was handed on first
    ahead.wait()
    ahead.close()
    assert done == [0, 10, 20, 30, 40] and not ahead.busy


def test_a_jobs_exception_is_raised_by_the_next_wait():
    ahead = WriteAhead(lambda _: None)

    def boom() -> None:
        raise ValueError("no")

    ahead.submit(boom)
    with pytest.raises(ValueError, match="no"):
        ahead.wait()
    ahead.close()

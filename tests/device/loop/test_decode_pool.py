"""device/loop/decode_pool.py: files decoded on several threads, handed on in order, bounded."""

import threading
import time

import pytest

from edgecell.device.loop.decode_pool import in_order


def test_results_come_in_the_order_given_whatever_order_they_finish_in():
    def work(n):
        time.sleep(0.002 * (n % 3))  # later items often finish first
        return n * n

    assert list(in_order(range(40), work, 3, 6, threading.Event())) == [n * n for n in range(40)]


def test_workers_run_at_once_and_no_more_than_depth_are_in_flight():
    lock, running, most, started = threading.Lock(), [0], [0], []

    def work(n):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            started.append(n)
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return n

    items = in_order(range(100), work, 2, 4, threading.Event())
    for taken, n in enumerate(items, start=1):
        assert n == taken - 1 and len(started) <= taken + 4  # what was handed on, plus the bound in flight
        if taken == 20:
            break
    items.close()
    assert most[0] == 2  # two decodes at once, never three


def test_an_error_in_a_worker_reaches_the_consumer_in_its_place():
    def work(n):
        if n == 3:
            raise RuntimeError("decoder bug")
        return n

    items = in_order(range(10), work, 2, 4, threading.Event())
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(RuntimeError, match="decoder bug"):
        next(items)


def test_stop_ends_a_wait_and_closing_lets_the_threads_go():
    release = threading.Event()
    stop = threading.Event()

    def slow(n):
        release.wait(5)
        return n

    items = in_order(range(10), slow, 2, 4, stop)
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    assert list(items) == []  # the first result never came before the stop
    assert time.monotonic() - started < 2
    release.set()

    produced = []

    def count(n):
        produced.append(n)
        return n

    items = in_order(iter(range(10_000)), count, 2, 4, threading.Event())
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    time.sleep(0.2)
    assert len(produced) <= 3 + 4  # taken, and at most the bound submitted after


def test_on_trial_the_pool_stays_only_where_it_measured_faster():
    from edgecell.device.loop.decode_pool import TRIAL, OnTrial

    threads = set()

    def work(n):
        threads.add(threading.current_thread().name)
        return ("pool", n)

    def alone(n):
        return ("alone", n)

    slower = OnTrial(iter(range(100)), work, alone, 2, 4, threading.Event(), serial_ms=0.0)  # nothing beats 0 ms
    got = list(slower)
    assert [n for _, n in got] == list(range(100))  # every item once, in order, across the switch
    assert [way for way, _ in got] == ["pool"] * TRIAL + ["alone"] * (100 - TRIAL)
    assert slower.workers == 0 and slower.trial["kept"] is False and slower.trial["pooled_ms"] > 0
    assert any(name.startswith("decode") for name in threads)

    faster = OnTrial(iter(range(100)), work, alone, 2, 4, threading.Event(), serial_ms=1e9)
    assert list(faster) == [("pool", n) for n in range(100)]
    assert faster.workers == 2 and faster.trial["kept"] is True

    short = OnTrial(iter(range(5)), work, alone, 2, 4, threading.Event(), serial_ms=0.0)
    assert list(short) == [("pool", n) for n in range(5)] and short.trial is None  # too few to judge

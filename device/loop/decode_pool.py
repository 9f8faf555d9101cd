"""The decode pool: the files of a folder decoded and preprocessed on several cores, in order.

Reading ahead in one thread (readahead.py) overlaps decoding with inference, but on a folder of
JPEGs for a small model the decode is most of the work, and one thread cannot take it below the
decode's own time. OpenCV releases the GIL while it decodes and resizes, so `workers` threads
decode `workers` files at once; the results come back in the order the files were given, and at
most `depth` are in flight, so memory stays at `depth` images whatever the folder holds.

concurrent.futures' ThreadPoolExecutor does the threads; this adds the order, the bound and the stop.
"""

import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as NotYet
from itertools import islice

POLL = 0.1  # seconds between looks at `stop` while the next result is not ready
TRIAL = 24  # images the pool runs before its measured pace decides whether it stays
FASTER_BY = 0.05  # the pool stays when it measured at least this much less time per image


def in_order(items, work, workers: int, depth: int, stop):
    """`work(item)` for each item of `items`, on `workers` threads, yielded in the items' order,
    at most `depth` submitted ahead of the consumer. Ends early once `stop` (a threading.Event)
    is set and the next result is not ready; an exception in `work` is raised in the consumer;
    closing the generator cancels what has not started and lets the threads go."""
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="decode")
    flight = deque()
    items = iter(items)
    try:
        while True:
            while len(flight) < max(1, depth) and (item := next(items, _END)) is not _END:
                flight.append(pool.submit(work, item))
            if not flight:
                return
            future = flight.popleft()
            while True:
                try:
                    result = future.result(timeout=POLL)
                    break
                except NotYet:
                    if stop.is_set():
                        return
            yield result
    finally:
        for future in flight:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


_END = object()


class OnTrial:
    """The pool, kept only where it measures faster: the first `TRIAL` items go through it, the
    whole loop's time per image is taken, and against `serial_ms` (the same measured one image at
    a time) the pool stays for the rest or gives way to `alone(item)` in the consumer's thread.
    A board whose other core is busy (another service, a second model) then pays nothing for a
    pool that cannot run. `workers` is 0 once it gave way; `trial` holds the two figures."""

    def __init__(self, items, work, alone, workers: int, depth: int, stop, serial_ms: float):
        self.items, self.work, self.alone = items, work, alone
        self.workers, self.depth, self.stop, self.serial_ms = workers, depth, stop, serial_ms
        self.trial = None  # {"serial_ms", "pooled_ms", "kept"} once measured
        self._inner = None

    def __iter__(self):
        try:
            started, count = time.perf_counter(), 0
            self._inner = in_order(islice(self.items, TRIAL), self.work, self.workers, self.depth, self.stop)
            for frame in self._inner:
                count += 1
                yield frame
            if count < TRIAL:
                return
            pooled_ms = (time.perf_counter() - started) * 1000.0 / count
            kept = pooled_ms <= self.serial_ms * (1.0 - FASTER_BY)
            self.trial = {"serial_ms": round(self.serial_ms, 4), "pooled_ms": round(pooled_ms, 4), "kept": kept}
            if kept:
                self._inner = in_order(self.items, self.work, self.workers, self.depth, self.stop)
                yield from self._inner
            else:
                self.workers, self._inner = 0, None
                for item in self.items:
                    yield self.alone(item)
        finally:
            if self._inner is not None:
                self._inner.close()

"""The decode pool: the files of a folder decoded and preprocessed on several cores, in order.

Reading ahead in one thread (readahead.py) overlaps decoding with inference, but on a folder of
JPEGs for a small model the decode is most of the work, and one thread cannot take it below the
decode's own time. OpenCV releases the GIL while it decodes and resizes, so `workers` threads
decode `workers` files at once; the results come back in the order the files were given, and at
most `depth` are in flight, so memory stays at `depth` images whatever the folder holds.

concurrent.futures' ThreadPoolExecutor does the threads; this adds the order, the bound and the stop.
"""

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as NotYet

POLL = 0.1  # seconds between looks at `stop` while the next result is not ready


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

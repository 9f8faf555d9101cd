"""One memory budget for every /classify request at once: the bodies held in memory, and the
images being decoded (at most `DECODES` at a time, their declared pixels from one pixel budget).

Each request's caps (the body cap, the 40-megapixel cap) bound one request; 16 requests each
under them took the server to 2.3 GB. imgproxy bounds the sum the same way: a fixed number of
workers (`IMGPROXY_WORKERS`) and a source-resolution cap, with the requests beyond them queued
for a while and then refused. Here a request waits up to `WAIT_S` for its share, then gets 503
with `Retry-After`; a 40-megapixel photo and small images beside it fit the pixel budget.
"""

import contextlib
import threading

DECODES = 3  # images decoded and classified at once
PIXELS = 48_000_000  # declared pixels being decoded at once: 6 to 9 bytes each while decoding
BODIES = 4  # bodies held in memory at once, in units of the body cap (--max-body-mb)
WAIT_S = 5.0  # a request waits this long for its share, then is answered 503


class Budget:
    """`total` units shared by threads: `hold(n)` takes n (at most all of them) or times out."""

    def __init__(self, total: int):
        self.total, self.free = total, total
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def hold(self, amount: int, wait_s: float = WAIT_S):
        """Yields True with `amount` units held until the block ends, or False after `wait_s`."""
        amount = max(0, min(amount, self.total))
        with self._changed:
            got = self._changed.wait_for(lambda: self.free >= amount, timeout=wait_s)
            if got:
                self.free -= amount
        try:
            yield got
        finally:
            if got:
                with self._changed:
                    self.free += amount
                    self._changed.notify_all()


class Decodes:
    """The decode budget: a place among `DECODES` and `pixels` of the pixel budget, or neither."""

    def __init__(self, decodes: int = DECODES, pixels: int = PIXELS):
        self.places, self.pixels = Budget(decodes), Budget(pixels)

    @contextlib.contextmanager
    def hold(self, pixels: int, wait_s: float = WAIT_S):
        with self.pixels.hold(pixels, wait_s) as got_pixels, self.places.hold(1, wait_s if got_pixels else 0) as got:
            yield got_pixels and got

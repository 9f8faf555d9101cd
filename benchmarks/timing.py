"""Side-by-side timing: the contenders take turns, so a busy machine slows them alike.

Every figure the suite prints is a ratio of two medians measured in the same loop: a neighbour
process stealing the CPU for a second lands on both sides instead of on one.
"""

import time
from typing import NamedTuple

from edgecell.device.measure.stats import Latency, latency


def interleaved(calls: dict, runs: int, warmup: int = 3) -> dict:
    """{name: Latency in ms} of each zero-argument call, run in turns (order reversed every round)."""
    names = list(calls)
    for _ in range(warmup):
        for name in names:
            calls[name]()
    timings = {name: [] for name in names}
    for i in range(runs):
        for name in names if i % 2 == 0 else reversed(names):
            start = time.perf_counter()
            calls[name]()
            timings[name].append((time.perf_counter() - start) * 1000)
    return {name: latency(values) for name, values in timings.items()}


class Ratio(NamedTuple):
    """One line of the suite's table: `value` = numerator / denominator (medians unless noted)."""

    item: int  # the numbering, 1..6
    what: str
    value: float  # the ratio; nan when it could not be measured
    target: float = None  # met when value <= target; None: reported, no target
    detail: str = ""  # the two figures behind the ratio, or why there is none

    @property
    def met(self):
        if self.target is None or self.value != self.value:
            return None
        return self.value <= self.target


def ratio(item: int, what: str, top: Latency, bottom: Latency, target=None, unit="ms") -> Ratio:
    value = top.p50 / bottom.p50 if bottom.p50 > 0 else float("nan")
    return Ratio(item, what, value, target, f"{top.p50:.2f} / {bottom.p50:.2f} {unit} (medians of {top.count})")

"""Latency statistics: the numbers `infer` and `bench` report for a list of timings."""

import math
from typing import NamedTuple

import numpy as np


class Latency(NamedTuple):
    """Milliseconds over `count` timings."""

    count: int
    mean: float
    std: float
    min: float
    p50: float
    p90: float
    p99: float
    max: float

    def as_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self._asdict().items()}


def latency(milliseconds) -> Latency:
    values = np.asarray(list(milliseconds), dtype=np.float64)
    if values.size == 0:
        return Latency(0, *([float("nan")] * 7))
    p50, p90, p99 = percentiles(values, (50, 90, 99))
    return Latency(
        int(values.size),
        float(values.mean()),
        float(values.std()),
        float(values.min()),
        float(p50),
        float(p90),
        float(p99),
        float(values.max()),
    )


def per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("nan")


def percentiles(values, qs) -> np.ndarray:
    """`np.percentile(values, qs)` (linear interpolation), without the 60 ms import of numpy.ma
    that np.percentile pulls in: a one-image `edgecell infer` is a whole process start."""
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    position = np.asarray(qs, dtype=np.float64) / 100.0 * (ordered.size - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, ordered.size - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class Running:
    """Latency statistics of a stream of any length in a fixed 17 KB: the count, mean, standard
    deviation, min and max exactly, the percentiles from a log-bucket histogram.

    Buckets grow by 1% from 1 microsecond to 1000 seconds (2083 of them; values outside are
    counted in the first or last), and a percentile is the geometric middle of the bucket holding
    the nearest-rank value, clamped to [min, max]: within 0.5% of that value. hdrhistogram (the
    usual choice) has wheels for x86_64 only, and a board would have to compile it.
    """

    LOW, HIGH, GROWTH = 1e-3, 1e6, 1.01

    def __init__(self):
        self._log_growth = math.log(self.GROWTH)
        self.buckets = [0] * (int(math.log(self.HIGH / self.LOW) / self._log_growth) + 1)
        self.count, self._mean, self._m2 = 0, 0.0, 0.0
        self.min, self.max = math.inf, -math.inf

    def add(self, ms: float) -> None:
        self.count += 1
        delta = ms - self._mean  # Welford: a stable running mean and variance
        self._mean += delta / self.count
        self._m2 += delta * (ms - self._mean)
        if ms < self.min:
            self.min = ms
        if ms > self.max:
            self.max = ms
        index = int(math.log(ms / self.LOW) / self._log_growth) if ms > self.LOW else 0
        self.buckets[min(index, len(self.buckets) - 1)] += 1

    def percentile(self, q: float) -> float:
        rank = max(1, math.ceil(q / 100.0 * self.count))
        index = int(np.searchsorted(np.cumsum(self.buckets, dtype=np.int64), rank))
        middle = self.LOW * self.GROWTH ** (index + 0.5)
        return min(max(middle, self.min), self.max)

    def latency(self) -> Latency:
        if self.count == 0:
            return Latency(0, *([float("nan")] * 7))
        std = math.sqrt(self._m2 / self.count)
        p50, p90, p99 = (self.percentile(q) for q in (50, 90, 99))
        return Latency(self.count, self._mean, std, self.min, p50, p90, p99, self.max)

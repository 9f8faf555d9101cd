"""Latency statistics: the numbers `infer` and `bench` report for a list of timings."""

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

"""Scores to answers: dequantize an output tensor, rank scores into (label, score) results.

Pure functions, testable without any model. Tied scores (frequent with uint8 outputs, where
classes share one of 256 levels) go to the lowest class index, the same on every CPU:
`np.argpartition` picks among ties by an order that depends on the CPU's SIMD path, a stable
sort and `np.argmax` (the first maximum) do not.
"""

from typing import NamedTuple

import numpy as np


class Class(NamedTuple):
    index: int
    label: str
    score: float


def dequantize(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Real values of a quantized tensor; float tensors (scale 0) come back as float32."""
    if not scale:
        return values.astype(np.float32, copy=False)
    return (scale * (values.astype(np.int64) - zero_point)).astype(np.float32)


def top_k(scores: np.ndarray, labels, k: int = 1, threshold: float = 0.0) -> list:
    """The `k` best classes, best first, keeping those scoring at least `threshold`."""
    scores = np.asarray(scores).reshape(-1)
    k = max(1, min(k, len(scores)))
    best = np.argsort(-scores, kind="stable")[:k]  # ties: lowest index first
    return [Class(int(i), _label(labels, i), float(scores[i])) for i in best if scores[i] >= threshold]


def best(scores: np.ndarray) -> np.ndarray:
    """The top-1 class index of each row of `scores` (the last axis), ties to the lowest index."""
    return np.argmax(scores, axis=-1)  # numpy documents argmax as the first occurrence of the maximum


def _label(labels, index) -> str:
    return labels[index] if labels is not None and index < len(labels) else str(int(index))

"""Scores to answers: dequantize an output tensor, rank scores into (label, score) results.

Pure functions, testable without any model.
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
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [Class(int(i), _label(labels, i), float(scores[i])) for i in best if scores[i] >= threshold]


def _label(labels, index) -> str:
    return labels[index] if labels is not None and index < len(labels) else str(int(index))

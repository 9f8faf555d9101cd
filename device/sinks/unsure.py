"""Which frames are worth a label: why `edgecell infer --collect` keeps a frame.

A frame the board answered `unknown` (`Result.unknown`, with `--unknown`), or one whose two best
classes scored within `margin` of each other: margin sampling, the plainest of the active-learning
rules (Scheffer, Decomain and Wrobel, "Active hidden Markov models for information extraction",
2001; Settles, "Active Learning Literature Survey", 2009, section 3.1). A confident frame is
kept now and then too (`Collector`'s random share), so what comes home is not only hard cases.
"""

from typing import Optional

import numpy as np

MARGIN = 0.1  # top-1 minus top-2 score under this: the model all but tossed a coin between two classes
UNKNOWN, MARGIN_REASON, SAMPLE = "unknown", "margin", "sample"  # the reasons a sidecar's `why` can hold


def margin(result) -> Optional[float]:
    """The top-1 score minus the top-2 score of `result`, or None when it has fewer than two."""
    scores = result.scores
    if scores is not None and len(scores) >= 2:
        # Sorted as a Python list: 0.4 us for ten classes where np.partition takes 2.5, paid on every
        # frame of a loop that can take 26 us (benchmarks/collect.py).
        top = sorted(scores.tolist() if scores.ndim == 1 else np.ravel(scores).tolist())
        return top[-1] - top[-2]
    if len(result.classes) >= 2:
        return float(result.classes[0].score - result.classes[1].score)
    return None


def unsure(result, within: float = MARGIN) -> Optional[str]:
    """Why `result` is worth a label (UNKNOWN or MARGIN_REASON), or None for a confident answer or a
    failed frame."""
    if result.error is not None:
        return None
    if result.unknown:  # answered `unknown` under --unknown's threshold (loop/unknown.py)
        return UNKNOWN
    gap = margin(result)
    if gap is not None and gap < within:
        return MARGIN_REASON
    return None

"""The reference a board's drift is judged against (device/loop/drift.py), recorded at export.

From one variant's scores on the check images (its own: int8 moves scores): the top-1 scores in
BINS bins of about equal share (edges at their deciles; tied scores, as a uint8 output gives many,
make fewer), and how often each class was the answer. A frame's bin is the number of edges at or
under its score, on the board as here.
"""

import numpy as np

from edgecell.device.model.scores import best

BINS = 10


def reference(scores) -> dict:
    scores = np.asarray(scores)
    top = scores.max(axis=-1).astype(np.float64)
    edges = sorted({float(e) for e in np.quantile(top, [i / BINS for i in range(1, BINS)])})
    bins = np.searchsorted(np.array(edges), top, side="right")
    return {
        "images": int(len(top)),
        "score_edges": edges,
        "score_counts": np.bincount(bins, minlength=len(edges) + 1).astype(int).tolist(),
        "class_counts": np.bincount(best(scores), minlength=scores.shape[-1]).astype(int).tolist(),
        "statistic": "PSI",
    }

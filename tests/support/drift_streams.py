"""Streams of known scores for the drift tests: a reference made as export makes it, real results."""

import numpy as np

from edgecell.converters.reference import reference
from edgecell.device.loop import drift
from edgecell.device.loop.result import Result, Timing


def scores(rng, n, shares=(0.5, 0.3, 0.2), sureness=8.0):
    """(n, 3) scores: the answer drawn by `shares`, its score 1/3 + 2/3 * Beta(sureness, 1)."""
    answers = rng.choice(len(shares), n, p=shares)
    tops = 1 / 3 + (2 / 3) * rng.beta(sureness, 1.0, n)
    out = np.repeat(((1 - tops) / 2)[:, None], 3, axis=1)
    out[np.arange(n), answers] = tops
    return out.astype(np.float32)


def results(rows):
    return [Result(f"frame{i}", [], Timing(), None, row) for i, row in enumerate(rows)]


def shifted_tracker():
    """(a tracker that judged 200 steady frames, then 200 less sure ones: drifting, its drift event)."""
    rng = np.random.default_rng(0)
    tracker = drift.Drift(reference(scores(rng, 400)), window=100)
    found = [tracker.update(r) for r in results([*scores(rng, 200), *scores(rng, 200, sureness=1.5)])]
    events = [e for e in found if e is not None]
    assert [e.state for e in events] == ["drift"]
    return tracker, events[0]

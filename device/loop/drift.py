"""Drift on the board: does the camera still see what the model was exported on?

Export records a reference (converters/reference.py): how the top-1 scores of the check images
fall into bins (deciles of those scores) and how often each class was the answer. The run keeps
the same two histograms over a sliding window of the last `window` classified frames (a deque
and two arrays of counts: memory fixed whatever the length of the run), and once the window is
full compares each with the reference by its population stability index (`measure/psi.py`).

Drift starts when either index goes over its threshold, the PSI a window reaches by chance once
in a million (1 - ENTER; the (1/n + 1/m) chi-square law of PSI when nothing changed), and ends when both
are back under the looser LEAVE level, so a window near the line does not flap. Each change is a
`DriftEvent`, handed to the sinks like a class change (`events.dispatch`).

The law assumes frames drawn independently; a camera watching a still scene sends the same
picture for minutes, so its window should span more than the scene's stillness.
"""

import bisect
import collections
from typing import NamedTuple, Optional

import numpy as np

from edgecell.device.loop.events import utc_now
from edgecell.device.measure import psi

WINDOW = 500  # frames: `--drift-window`
# A window of unchanged frames goes over the entering threshold 1 time in a million: the window
# slides, so it is judged at every frame, and a run of 100,000 frames judges it that many times
# (a 1-in-10,000 level gave 18 false events in 500,000 frames, benchmarks/drift.py; this, none).
ENTER = 1 - 1e-6
LEAVE = 0.99


class DriftEvent(NamedTuple):
    time: str
    source: str  # the frame that crossed
    frame: int  # its number among the frames judged, from 1
    state: str  # "drift" (it began) or "steady" (it ended)
    score_psi: float  # the top-1 scores' PSI against the reference
    class_psi: float  # the answered classes' PSI
    score_threshold: float  # what each was judged against (entering for "drift", leaving for "steady")
    class_threshold: float
    window: int

    def as_dict(self) -> dict:
        return {"type": "drift", **self._asdict()}


class Drift:
    def __init__(self, reference: dict, window: int = WINDOW, labels=()):
        self.labels = [str(label) for label in labels]  # the classes' names, for the page's chart
        self.edges = [float(e) for e in reference["score_edges"]]
        self.reference_scores = [int(c) for c in reference["score_counts"]]
        self.reference_classes = [int(c) for c in reference["class_counts"]]
        self.reference_images, self.window = int(reference["images"]), window
        self._recent = collections.deque(maxlen=window)  # (class, score bin) of each frame in the window
        self._scores = [0] * len(self.reference_scores)
        self._classes = [0] * len(self.reference_classes)
        self.enter = self._thresholds(ENTER)
        self.leave = self._thresholds(LEAVE)
        self.drifting, self.frames, self.events = False, 0, 0
        self.latest: Optional[tuple] = None  # (score PSI, class PSI) of the last full window
        self.highest = (0.0, 0.0)

    def _thresholds(self, q: float) -> tuple:
        m = self.reference_images
        return (
            psi.threshold(self.window, m, len(self.reference_scores), q),
            psi.threshold(self.window, m, len(self.reference_classes), q),
        )

    def update(self, result) -> Optional[DriftEvent]:
        """Count a classified frame; a DriftEvent when drift begins or ends with it."""
        if not result.ok or result.scores is None or not len(result.scores):
            return None
        answer = int(np.argmax(result.scores))
        if answer >= len(self._classes):
            return None
        seen = (answer, bisect.bisect_right(self.edges, float(np.max(result.scores))))
        if len(self._recent) == self.window:
            old_class, old_bin = self._recent[0]
            self._classes[old_class] -= 1
            self._scores[old_bin] -= 1
        self._recent.append(seen)
        self._classes[seen[0]] += 1
        self._scores[seen[1]] += 1
        self.frames += 1
        if len(self._recent) < self.window:
            return None  # not judged before the window is full
        self.latest = (psi.psi(self._scores, self.reference_scores), psi.psi(self._classes, self.reference_classes))
        self.highest = tuple(max(a, b) for a, b in zip(self.highest, self.latest))
        over = any(value > limit for value, limit in zip(self.latest, self.enter))
        back = all(value <= limit for value, limit in zip(self.latest, self.leave))
        if over == self.drifting or (not over and not back):
            return None
        self.drifting = over
        self.events += 1
        limits = self.enter if over else self.leave
        state = "drift" if over else "steady"
        return DriftEvent(utc_now(), result.name, self.frames, state, *_rounded(self.latest), *limits, self.window)

    def report(self) -> dict:
        """The summary's part: the last window's indices, the thresholds, the events."""
        return {
            "statistic": "population stability index (PSI) of the top-1 scores and of the answered classes",
            "window": self.window,
            "reference_images": self.reference_images,
            "judged": self.latest is not None,
            "score_psi": None if self.latest is None else _rounded(self.latest)[0],
            "class_psi": None if self.latest is None else _rounded(self.latest)[1],
            "highest": _rounded(self.highest),
            "thresholds": {"enter": _rounded(self.enter), "leave": _rounded(self.leave)},
            "drifting": self.drifting,
            "events": self.events,
            # what the live page draws: the window's counts beside the reference's, bin by bin
            "score_edges": self.edges,
            "score_counts": {"window": list(self._scores), "reference": self.reference_scores},
            "class_counts": {"window": list(self._classes), "reference": self.reference_classes},
            "labels": self.labels,
        }


def from_model(metadata, window: int = WINDOW) -> Optional[Drift]:
    """The tracker of a model whose edgecell metadata records a reference, else None (or window 0)."""
    reference = (metadata or {}).get("reference")
    if not reference or window <= 0:
        return None
    return Drift(reference, window, (metadata or {}).get("labels") or ())


def line(report: dict) -> str:
    """The summary's line."""
    if not report["judged"]:
        return f"drift: not judged (fewer frames than its window of {report['window']})"
    enter = report["thresholds"]["enter"]
    return (
        f"drift: PSI {report['score_psi']:.3f} of the top-1 scores (drift over {enter[0]:.3f}) and "
        f"{report['class_psi']:.3f} of the classes (over {enter[1]:.3f}) in the last {report['window']} frames "
        f"against {report['reference_images']} at export; {report['events']} drift event(s)"
        + ("; drifting now" if report["drifting"] else "")
    )


def _rounded(values) -> tuple:
    return tuple(round(float(v), 6) for v in values)

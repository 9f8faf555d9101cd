"""Class-change events for streams: a flickering camera should say "bird" once, not forty times.

Each frame's scores (every class, `Result.scores`) go into a window of the last `smooth` frames;
the window's mean ranks the classes. The smoothed top class becomes the current class only once
it has been the top class, at or above `threshold`, for `hold` frames in a row; that change is an
`Event`. With `--unknown`, a smoothed top score under its threshold settles `unknown` instead
(the event carries the threshold). The first class to settle is an event too (`previous` is
None), so a listener learns the state it starts from. Failed frames change nothing.

The API, for every sink and page that reports events:

    detector = Detector(labels, smooth=5, hold=3, threshold=0.6)
    event = detector.update(result)     # an Event when this frame settles a change, else None
    detector.recent(10)                 # the last events, oldest first (safe from any thread)
    detector.current                    # the settled class, or None before the first event
    detector.count                      # events so far
    dispatch(sinks, event)              # event(event) on every sink that has that method

A sink that wants events has an `event(event)` method beside `write(result)` (the results file,
MQTT, the webhook); `Event.as_dict()` is the JSON they all send.
"""

import collections
import datetime
import threading
from typing import NamedTuple, Optional

import numpy as np

from edgecell.core.errors import EdgecellError
from edgecell.device.loop.unknown import UNKNOWN

KEEP = 50  # events `recent` can return
EXACT_EVERY = 10_000  # frames between fresh sums of the smoothing window (Detector._mean)


class Event(NamedTuple):
    time: str  # when it settled, ISO 8601 in UTC
    source: str  # the frame that settled it
    frame: int  # that frame's number in the run, from 1
    label: str  # the class it changed to
    score: float  # that class's smoothed score
    previous: Optional[str]  # the class it changed from (None for the first)
    unknown_threshold: Optional[float] = None  # `--unknown`: a smoothed top score under it settles `unknown`

    def as_dict(self) -> dict:
        found = {"type": "event", **self._asdict()}
        if self.unknown_threshold is None:
            del found["unknown_threshold"]
        return found


class Detector:
    def __init__(self, labels, smooth: int = 1, hold: int = 1, threshold: float = 0.0, keep: int = KEEP):
        if smooth < 1 or hold < 1:
            raise EdgecellError(f"--smooth {smooth} and --hold {hold} count frames; give 1 or more for each.")
        self.labels = list(labels or [])  # none: classes are named by their index
        self.smooth, self.hold, self.threshold = smooth, hold, threshold
        self.current: Optional[str] = None
        self.frames = 0
        self.count = 0  # events so far
        self._window = collections.deque(maxlen=smooth)
        self._sum = None  # of the window's scores (float64), kept as frames come and go
        self._since_exact = 0  # frames since the sum was last made afresh from the window
        self._candidate, self._held = None, 0
        self._recent = collections.deque(maxlen=keep)
        self._lock = threading.Lock()

    def update(self, result) -> Optional[Event]:
        self.frames += 1
        if result.error is not None:
            return None
        mean = self._mean(self._scores(result))
        best = int(np.argmax(mean))
        label, score = self._label(best), float(mean[best])
        if result.unknown_threshold is not None and score < result.unknown_threshold:
            label = UNKNOWN  # a run of unsure frames settles as `unknown`, as one frame is answered
        if score < self.threshold or label == self.current:
            self._candidate, self._held = None, 0
            return None
        self._held = self._held + 1 if label == self._candidate else 1
        self._candidate = label
        if self._held < self.hold:
            return None
        settled = round(score, 6)
        event = Event(utc_now(), result.name, self.frames, label, settled, self.current, result.unknown_threshold)
        self.current, self._candidate, self._held = label, None, 0
        self.count += 1
        with self._lock:
            self._recent.append(event)
        return event

    def _mean(self, scores: np.ndarray) -> np.ndarray:
        """The mean scores of the last `smooth` frames, `scores` the newest: a running sum, one add and
        one subtract a frame, made afresh from the window every `EXACT_EVERY` frames so that rounding
        cannot build up over a run of months."""
        if self.smooth == 1:
            return scores
        if self._sum is None or self._sum.shape != scores.shape or self._since_exact >= EXACT_EVERY:
            self._window.append(scores)
            self._sum = np.sum(np.asarray(self._window, dtype=np.float64), axis=0)
            self._since_exact = 0
        else:
            if len(self._window) == self.smooth:
                self._sum -= self._window[0]
            self._window.append(scores)
            self._sum += scores
            self._since_exact += 1
        return self._sum / len(self._window)

    def recent(self, n: Optional[int] = None) -> list:
        with self._lock:
            events = list(self._recent)
        return events if n is None else events[-n:] if n > 0 else []

    def _scores(self, result) -> np.ndarray:
        if result.scores is not None:
            return np.asarray(result.scores, dtype=np.float32).reshape(-1)
        # a result without its score vector (e.g. read back from a file): the ranked classes only
        scores = np.zeros(max(len(self.labels), 1 + max((c.index for c in result.classes), default=0)), np.float32)
        for c in result.classes:
            scores[c.index] = c.score
        return scores

    def _label(self, index: int) -> str:
        return self.labels[index] if index < len(self.labels) else str(index)


def dispatch(sinks, event: Event) -> None:
    """Hand `event` to every sink (`sinks/base.py`: one that ignores events inherits a no-op), in order."""
    for sink in sinks:
        sink.event(event)


def utc_now() -> str:
    """Now as ISO 8601 in UTC, to the millisecond: the time every event and MQTT message carries."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")

"""The latest frame and the running numbers of a run, shared by the infer loop and the HTTP server.

`Live` is a sink of the infer run (`write(result)`, `close()`): the loop hands it every result,
the server's threads read it. The loop's side is kept to a few microseconds a frame: it keeps a
reference to the frame's pixels (no copy) and adds the timing to fixed-size rings and histogram
counts. Everything costly — drawing the label, JPEG encoding, percentiles, reading the
temperature — happens on request, in the server's thread, at most once per new frame.

The loop drops a frame's pixels once the model's input tensor is made, so `tap(frames)` keeps a
reference to each frame's pixels until its result arrives (device/sinks/awaiting.py).
"""

import threading
import time
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import cv2
import numpy as np

from edgecell.device.loop.result import row
from edgecell.device.measure import stats, thermal
from edgecell.device.sinks.awaiting import Awaiting
from edgecell.device.sinks.base import Sink

# Latency histogram bounds in milliseconds (Prometheus' le buckets, in seconds, are these / 1000).
BOUNDS_MS = (1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500)
RECENT = 512  # results kept for images/s and the latency percentiles
RATE_WINDOW_S = 10.0  # images/s over at most the last this many seconds
EVENTS = 20  # events kept for the page
PENDING = 64  # tapped frames awaiting their result at most (read-ahead keeps ~5 in flight)
DISPLAY_WIDTH = (320, 640)  # the page's frame is scaled to this range of widths
JPEG_EVERY_S = 0.4  # the page asks twice a second; more viewers get the same picture
HOUR = 60  # minutes the page's charts go back


class Hour:
    """The last `HOUR` minutes, minute by minute: frames classified, answered `unknown`, and the
    drift indices (loop/drift.py) at the minute's last frame. A fixed-size ring: a run of months
    keeps 60 rows. `clock` is the wall clock (time.time), so each row says which minute it is."""

    def __init__(self, clock=time.time):
        self._rows: deque = deque(maxlen=HOUR)  # [minute start (epoch s), frames, unknown, score PSI, class PSI]
        self._clock = clock

    def add(self, result, drift_latest: Optional[tuple] = None) -> None:
        minute = int(self._clock() // 60) * 60
        if not self._rows or self._rows[-1][0] != minute:
            self._rows.append([minute, 0, 0, None, None])
        found = self._rows[-1]
        found[1] += 1
        found[2] += result.unknown
        if drift_latest is not None:
            found[3], found[4] = (round(float(v), 4) for v in drift_latest)

    def rows(self) -> list:
        return [
            {
                "minute": datetime.fromtimestamp(minute, timezone.utc).isoformat(timespec="minutes"),
                "frames": frames,
                "unknown": unknown,
                "score_psi": score_psi,
                "class_psi": class_psi,
            }
            for minute, frames, unknown, score_psi, class_psi in list(self._rows)
        ]


STAGES = ("wait", "decode", "preprocess", "invoke")  # shown apart on the page (p50 over the recent window)


class Live(Sink):
    taps_frames = True

    def __init__(self, model: str = "", runtime: str = "", sensor: Optional[thermal.Sensor] = None):
        self.model = Path(model).name  # the file's name only: where it lives is nobody's business on the network
        self.runtime = runtime
        self.sensor = sensor or thermal.Sensor()
        self.started = time.monotonic()
        self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.done = self.failed = 0
        self.buckets = [0] * (len(BOUNDS_MS) + 1)  # the last one is +Inf
        self.latency_sum_ms = 0.0
        self.events: deque = deque(maxlen=EVENTS)
        self.drift = None  # the run's drift tracker (loop/drift.py), when the model has a reference
        self.hour = Hour()  # the page's charts of the last hour
        self._recent: deque = deque(maxlen=RECENT)  # (monotonic time, Timing)
        self._pending = Awaiting(PENDING)  # each tapped frame's pixels, by name
        self._lock = threading.Lock()
        self._latest = None  # (seq, result)
        self._frame = None  # (seq, rgb, result): the latest result that has pixels
        self._seq = 0
        self._jpegs: deque = deque(maxlen=2)  # (seq, monotonic time encoded, JPEG, result), newest last
        self._encoding = threading.Lock()

    # --- the loop's side ------------------------------------------------------------------------
    def tap(self, frames):
        """`frames`, unchanged, remembering each one's pixels until its result arrives."""
        for frame in frames:
            self._pending.hold(frame.name, frame.rgb)
            yield frame

    def write(self, result) -> None:
        self.show(result, self._pending.take(result.name))

    def show(self, result, rgb: Optional[np.ndarray] = None) -> None:
        """Make `result` (and its frame's pixels, when known) the latest, and count it."""
        now = time.monotonic()
        with self._lock:
            self._seq += 1
            self._latest = (self._seq, result)
            if rgb is not None:  # a failed image keeps the last frame on the page
                self._frame = (self._seq, rgb, result)
            if not result.ok:
                self.failed += 1
                return
            self.hour.add(result, self.drift.latest if self.drift is not None else None)
            self.done += 1
            total = result.timing.total
            self._recent.append((now, result.timing))
            self.latency_sum_ms += total
            self.buckets[_bucket(total)] += 1

    def follow(self, drift) -> None:
        self.drift = drift  # its report() in status.json and /metrics

    def event(self, event) -> None:
        """A class change (`events.Event`, handed out by `events.dispatch`) for the page's list."""
        found = event.as_dict()
        if found["type"] == "drift":  # the page's list shows a label and a score: the state and the scores' PSI
            label = "drift" if found["state"] == "drift" else "drift over"
            found = {**found, "label": label, "score": found["score_psi"]}
        with self._lock:
            self.events.append(found)

    def close(self) -> None:
        self._pending.clear()

    # --- the server's side ----------------------------------------------------------------------
    def uptime(self) -> float:
        return time.monotonic() - self.started

    def rates(self) -> dict:
        """images/s over the recent window and the latency p50/p90 of the recent results."""
        with self._lock:
            recent = list(self._recent)
        now = time.monotonic()
        recent = [(t, timing) for t, timing in recent if now - t <= RATE_WINDOW_S]
        if not recent:
            return {
                "images_per_second": 0.0,
                "latency_ms": {"p50": None, "p90": None},
                "stages_ms": dict.fromkeys(STAGES),
            }
        span = max(now - recent[0][0], min(self.uptime(), RATE_WINDOW_S), 1e-6)
        p50, p90 = stats.percentiles([timing.total for _, timing in recent], (50, 90))
        stages = {}
        for stage in STAGES:
            (middle,) = stats.percentiles([getattr(timing, stage) or 0.0 for _, timing in recent], (50,))
            stages[stage] = round(float(middle), 3)
        return {
            "images_per_second": round(len(recent) / span, 2),
            "latency_ms": {"p50": round(float(p50), 3), "p90": round(float(p90), 3)},  # the work: wait not in it
            "stages_ms": stages,
        }

    def latest(self) -> Optional[dict]:
        with self._lock:
            latest = self._latest
        if latest is None:
            return None
        seq, result = latest
        return {"seq": seq, **row(result)}

    def status(self) -> dict:
        """What /status.json serves and the live page shows."""
        shown = self._encoded()
        with self._lock:
            events = list(self.events)
        return {
            "model": self.model,
            "runtime": self.runtime,
            "started_at": self.started_at,
            "uptime_seconds": round(self.uptime(), 1),
            "images": {"done": self.done, "failed": self.failed},
            **self.rates(),
            "thermal": self.sensor.read().as_dict(),
            "latest": self.latest(),
            # the frame /frame.jpg?seq= serves, with the result drawn on it: the page's caption
            "frame_seq": shown[0] if shown else None,
            "frame": {"seq": shown[0], **row(shown[3])} if shown else None,
            "events": events,
            **({"drift": self.drift.report()} if self.drift is not None else {}),
            "hour": self.hour.rows(),  # minute by minute: frames, unknown answers, drift indices
        }

    def jpeg(self, seq: Optional[int] = None) -> Optional[bytes]:
        """The frame `seq` as JPEG with its label and score drawn, when it is one of the last two
        encoded (the page asks for the one status.json named, so picture and caption agree);
        otherwise the latest frame."""
        if seq is not None:
            with self._lock:
                for done, _, data, _ in self._jpegs:
                    if done == seq:
                        return data
        shown = self._encoded()
        return shown[2] if shown else None

    def _encoded(self):
        """(seq, time, JPEG, result) of the latest frame: encoded once per new frame and at most
        every `JPEG_EVERY_S`, however many pages are open (each encode is CPU taken from the board
        while the loop runs); None before the first frame."""
        with self._encoding:  # one encode at a time; other viewers wait for it and share it
            with self._lock:
                frame, last = self._frame, (self._jpegs[-1] if self._jpegs else None)
            if frame is None:
                return None
            seq, rgb, result = frame
            if last is None or (seq != last[0] and time.monotonic() - last[1] >= JPEG_EVERY_S):
                last = (seq, time.monotonic(), annotate_jpeg(rgb, caption(result)), result)
                with self._lock:
                    self._jpegs.append(last)
            return last


def for_display(rgb: np.ndarray) -> np.ndarray:
    """`rgb`, or a copy at the page's widest width when it is wider: what the page keeps of a
    40-megapixel photo POSTed to /classify is then 1 MB, not 120."""
    height, width = rgb.shape[:2]
    if width <= DISPLAY_WIDTH[1]:
        return rgb
    target = (DISPLAY_WIDTH[1], max(1, round(height * DISPLAY_WIDTH[1] / width)))
    return cv2.resize(rgb, target, interpolation=cv2.INTER_AREA)


def caption(result) -> str:
    if not result.ok:
        return "failed"
    if not result.classes:
        return "(below threshold)"
    best = result.classes[0]
    return f"{best.label} ({best.score:.3f})"


def annotate_jpeg(rgb: np.ndarray, text: str, quality: int = 80) -> bytes:
    """`rgb` scaled to a readable width, `text` in a band over its top, JPEG-encoded.

    It runs in the server's thread while the loop classifies: the channel swap is a numpy copy
    and a frame already at a readable width is not resized, because OpenCV's parallel functions
    (cvtColor, resize) would share its thread pool with the loop's own resizing."""
    height, width = rgb.shape[:2]
    target = min(max(width, DISPLAY_WIDTH[0]), DISPLAY_WIDTH[1])
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    if target != width:
        # Nearest-neighbour for enlarging keeps a 28-pixel digit crisp rather than a blur.
        interpolation = cv2.INTER_NEAREST if target > width else cv2.INTER_AREA
        bgr = cv2.resize(bgr, (target, max(1, round(height * target / width))), interpolation=interpolation)
    font, size, thickness = cv2.FONT_HERSHEY_SIMPLEX, target / 640 * 1.2 + 0.3, 2
    (text_w, text_h), base = cv2.getTextSize(text, font, size, thickness)
    band = text_h + base + 12
    cv2.rectangle(bgr, (0, 0), (min(target, text_w + 16), band), (0, 0, 0), -1)
    cv2.putText(bgr, text, (8, text_h + 6), font, size, (255, 255, 255), thickness, cv2.LINE_AA)
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return encoded.tobytes() if ok else b""


def _bucket(ms: float) -> int:
    for index, bound in enumerate(BOUNDS_MS):
        if ms <= bound:
            return index
    return len(BOUNDS_MS)

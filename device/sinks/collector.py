"""`edgecell infer --collect DIR`: the frames the board was unsure of, kept to be labelled.

A frame answered `unknown`, one whose two best classes are within `--collect-margin`
(sinks/unsure.py), and a seeded random share of the confident ones (`--collect-share`) are saved
as JPEG with a JSON sidecar (scores, time, the model's sha256, the source, why it was kept), at
most `--collect-per-minute` a minute, within `--collect-mb` (sinks/collect_folder.py).

The loop's side costs a few microseconds a frame: the choice is a comparison of two scores, and
a chosen frame's pixels go by reference into a bounded queue; one writer thread encodes and
writes. When the queue is full the frame is dropped and counted, never waited for. A folder's
files reach the loop undecoded (`taps_frames` stays False, so the decode pool keeps working): a
chosen file is decoded again in the writer thread, which costs only the few that are kept.
"""

import queue
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import cv2
import numpy as np

from edgecell.core.errors import EdgecellError
from edgecell.core.printable import printable
from edgecell.device.input.sources import Pending
from edgecell.device.sinks import unsure
from edgecell.device.sinks.awaiting import Awaiting
from edgecell.device.sinks.base import Sink
from edgecell.device.sinks.collect_folder import CollectFolder

QUEUE = 16  # frames waiting for the writer at most
QUEUE_BYTES = 64 * 2**20  # and their pixels at most: 16 frames of a 4K video would be 400 MB
PENDING = 64  # tapped frames awaiting their result at most (read-ahead keeps a few in flight)
JPEG_QUALITY = 90


@dataclass(frozen=True)
class Collecting:
    """`--collect DIR` and its limits."""

    folder: Path
    margin: float = unsure.MARGIN
    share: float = 0.01  # of confident frames, kept at random so the set is not only hard cases
    per_minute: int = 30
    max_mb: float = 256.0
    seed: int = 0

    def check(self) -> None:
        if not 0.0 <= self.margin <= 1.0:
            raise EdgecellError(f"--collect-margin {self.margin:g} is not a score gap; give one in [0, 1], e.g. 0.1.")
        if not 0.0 <= self.share <= 1.0:
            raise EdgecellError(f"--collect-share {self.share:g} is not a share; give one in [0, 1], e.g. 0.01.")
        if self.per_minute < 1:
            raise EdgecellError(f"--collect-per-minute {self.per_minute} keeps nothing; give at least 1, e.g. 30.")
        if not self.max_mb > 0:
            raise EdgecellError(f"--collect-mb {self.max_mb:g} holds nothing; give a size in MB, e.g. 256.")
        if self.folder.exists() and not self.folder.is_dir():
            raise EdgecellError(f"--collect {printable(self.folder)} is a file; give a folder to keep frames in.")


class Collector(Sink):
    key = "collect"

    def __init__(self, settings: Collecting, model_sha256: str, model_name: str, labels):
        self.settings = settings
        self.model = {"file": model_name, "sha256": model_sha256}
        self.labels = list(labels or [])
        self.folder = CollectFolder(settings.folder, int(settings.max_mb * 1024 * 1024))
        self.counts = {"collected": 0, "dropped_rate": 0, "dropped_queue": 0, "failed_writes": 0}
        self.reasons = dict.fromkeys((unsure.UNKNOWN, unsure.MARGIN_REASON, unsure.SAMPLE), 0)
        self.first_error: Optional[str] = None
        self._random = random.Random(settings.seed)
        self._margin, self._share = settings.margin, settings.share  # read on every frame
        self._times: deque = deque(maxlen=settings.per_minute)  # when the last frames were kept
        self._pending = Awaiting(PENDING)  # pixels, or a Pending file, by frame name
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE)
        self._queued_bytes = 0  # pixels in the queue; the loop adds, the writer takes away
        self._bytes_lock = threading.Lock()
        self._run = 0
        self._writer = threading.Thread(target=self._write_all, name="edgecell-collect", daemon=True)
        self._writer.start()

    # --- the loop's side ------------------------------------------------------------------------
    def tap(self, frames):
        """`frames`, unchanged, remembering each one's pixels (or file) until its result arrives."""
        for frame in frames:
            if isinstance(frame, Pending):  # a file, decoded by the loop: its name is its path
                self._pending.hold(frame.path, frame)
            else:
                self._pending.hold(frame.name, frame.rgb)
            yield frame

    def write(self, result) -> None:
        picture = self._pending.take(result.name)
        why = self.why(result)
        if why is None or picture is None:
            return
        now = time.monotonic()
        if len(self._times) == self._times.maxlen and now - self._times[0] < 60.0:
            self.counts["dropped_rate"] += 1
            return
        size = getattr(picture, "nbytes", 0)  # a folder's file waits as its path: no pixels held
        with self._bytes_lock:
            room = self._queued_bytes + size <= QUEUE_BYTES
            if room:
                self._queued_bytes += size
        try:
            if not room:
                raise queue.Full
            self._queue.put_nowait((result, picture, why, datetime.now(timezone.utc)))
        except queue.Full:
            if room:
                self._taken(size)
            self.counts["dropped_queue"] += 1
            return
        self._times.append(now)

    def _taken(self, size: int) -> None:
        with self._bytes_lock:
            self._queued_bytes -= size

    def why(self, result) -> Optional[str]:
        """The reason to keep `result`'s frame, or None."""
        reason = unsure.unsure(result, self._margin)
        if reason is None and result.error is None and self._random.random() < self._share:
            reason = unsure.SAMPLE
        return reason

    def waiting(self) -> int:
        """Frames queued for the writer now."""
        return self._queue.qsize()

    def close(self) -> None:
        self._queue.put(None)
        self._writer.join()

    # --- the writer thread ----------------------------------------------------------------------
    def _write_all(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self._write_one(*item)
            except (OSError, ValueError, cv2.error) as error:  # a full disk: counted, the loop goes on
                self.counts["failed_writes"] += 1
                self.first_error = self.first_error or f"{type(error).__name__}: {error}"
            finally:
                self._taken(getattr(item[1], "nbytes", 0))

    def _write_one(self, result, picture, why: str, when: datetime) -> None:
        if isinstance(picture, Pending):  # a folder's file: decoded again, only for the frames kept
            picture = picture.decode().rgb
            if picture is None:
                return
        bgr = np.ascontiguousarray(picture[:, :, ::-1])
        ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise ValueError("OpenCV could not encode the frame as JPEG")
        self._run += 1
        stem = when.strftime("%Y%m%dT%H%M%S.%f")[:-3] + f"Z-{self._run:06d}"
        self.folder.add(stem, jpeg.tobytes(), self.sidecar(result, why, when))
        self.counts["collected"] += 1
        self.reasons[why] += 1

    def sidecar(self, result, why: str, when: datetime) -> dict:
        scores = [] if result.scores is None else [round(float(s), 6) for s in np.asarray(result.scores).reshape(-1)]
        labels = self.labels or [str(i) for i in range(len(scores))]
        best = result.classes[0] if result.classes else None
        return {
            "source": result.name,
            "time_utc": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "why": why,
            "guess": best.label if best else None,
            "score": round(best.score, 6) if best else None,
            "margin": None if unsure.margin(result) is None else round(unsure.margin(result), 6),
            "scores": dict(zip(labels, scores)),
            "labels": labels,
            "unknown_threshold": result.unknown_threshold,
            "model": self.model,
        }

    # --- the summary ----------------------------------------------------------------------------
    def report(self) -> dict:
        return {
            "folder": str(self.settings.folder),
            **self.counts,
            "by_reason": dict(self.reasons),
            "removed_for_cap": self.folder.removed,
            "bytes_on_disk": self.folder.bytes,
            "max_mb": self.settings.max_mb,
            "first_error": self.first_error,
        }

    def lines(self, report: dict) -> list:
        reasons = ", ".join(f"{n} {why}" for why, n in report["by_reason"].items())
        said = [
            f"collected {report['collected']} frames into {printable(report['folder'])} ({reasons}); "
            f"dropped {report['dropped_rate']} by the rate limit, {report['dropped_queue']} by a full queue; "
            f"{report['removed_for_cap']} removed for the {report['max_mb']:g} MB cap"
        ]
        if report["failed_writes"]:
            said.append(f"  {report['failed_writes']} frames could not be written: {report['first_error']}")
        return said

"""The inference loop of `edgecell infer`: frames in, timed results out, a summary at the end.

The interpreter is built once. While one image runs through the model, a background thread
decodes and preprocesses the next ones (OpenCV, numpy and the TFLite runtime release the GIL),
so on a multi-core board the rate approaches the slower of the two rather than their sum. The
thread is not free (queue hand-offs, GIL contention), so the first images run one after the
other and reading ahead starts only where the split of their timings says it can pay. Live
cameras are never read ahead: a frame taken early would be stale by the time the model saw it.

Every image's latency is split into decode, preprocess (resize, normalise, quantize), invoke and
postprocess (dequantize, rank), in milliseconds. Warm-up runs come first and stay out of the
statistics; the first inference, which pays for delegate and memory setup, is reported apart.
The loop ends at the end of its frames, at `limit`, or when `stop` is set (Ctrl-C, SIGTERM),
and always returns its summary.

A service runs for months, so nothing here grows with the number of frames: the statistics are
running ones (`stats.Running`: counts exact, percentiles from a fixed histogram), and the summary
names the first `FAILURES_LISTED` failures and counts the rest.
"""

import contextlib
import os
import signal
import threading
import time
from functools import partial
from typing import NamedTuple, Optional

import numpy as np

from edgecell.device.input.sources import Pending
from edgecell.device.loop import decode_pool, readahead
from edgecell.device.loop.result import Result, Timing
from edgecell.device.measure import stats
from edgecell.device.measure.machine import run_context
from edgecell.device.model.scores import top_k as rank

PROBE = 8  # images run one after the other before deciding to read ahead
FAILURES_LISTED = 1000  # failures the summary names; past that it counts them
WORTH_IT = 0.15  # read ahead when that could save at least this share of the time per image


class Ranking(NamedTuple):
    """How scores become an answer: the classes kept, and the threshold under which it is `unknown`."""

    top_k: int = 1
    threshold: float = 0.0  # classes scoring below it are not listed
    unknown: Optional[float] = None  # `--unknown` (loop/unknown.py): a top-1 score under it answers `unknown`


def cores() -> int:
    """The cores this process may run on (a container's or taskset's limit, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


class Stop(threading.Event):
    """A stop request with its reason (e.g. 'SIGINT'); the loop ends after the current image."""

    reason: Optional[str] = None

    def set(self, reason: str = "stopped"):
        if self.reason is None:
            self.reason = reason
        super().set()


@contextlib.contextmanager
def stopping_on_signals(stop: Stop):
    """SIGINT and SIGTERM set `stop` (a second Ctrl-C interrupts at once); main thread only."""

    def handler(signum, frame):
        name = signal.Signals(signum).name
        if signum == signal.SIGINT and stop.is_set():
            raise KeyboardInterrupt
        stop.set(name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def warm_up(classifier, runs: int) -> list:
    """Milliseconds of `runs` invocations on a blank input (the first pays the setup cost)."""
    tensor = classifier.preprocess(np.zeros((*classifier.input_size, 3), dtype=np.uint8))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        classifier.invoke(tensor)
        times.append(_since(start))
    return times


def classify_frame(classifier, frame, k: int = 1, threshold: float = 0.0, unknown=None) -> Result:
    """One decoded (or failed) frame through preprocess, invoke and postprocess, timed; with `unknown`
    (a threshold), the result is answered `unknown` when its top-1 score is under it."""
    if frame.rgb is None and frame.tensor is None:
        return Result(frame.name, [], Timing(decode=frame.decode_ms, wait=frame.wait_ms), frame.error)
    if frame.tensor is None:
        frame = prepare(classifier, frame)
    start = time.perf_counter()
    raw = classifier.invoke(frame.tensor)
    invoked = time.perf_counter()
    scores = classifier.scores(raw)
    classes = rank(scores, classifier.labels, k, threshold)
    done = time.perf_counter()
    pre, inv, post = frame.preprocess_ms, (invoked - start) * 1e3, (done - invoked) * 1e3
    timing = Timing(frame.decode_ms, pre, inv, post, frame.decode_ms + pre + inv + post, frame.wait_ms)
    return Result(frame.name, classes, timing, None, scores.reshape(-1), unknown)


def decoded(item):
    """A frame from a source item: `Pending` files are decoded here, frames pass as they are."""
    return item.decode() if isinstance(item, Pending) else item


def prepare(classifier, frame):
    """`frame` with its input tensor (resized, normalised, quantized) and the time that took."""
    frame = decoded(frame)
    if frame.rgb is None:
        return frame
    start = time.perf_counter()
    tensor = classifier.preprocess(frame.rgb)
    return frame._replace(rgb=None, tensor=tensor, preprocess_ms=_since(start))


def run(
    classifier,
    frames,
    *,
    ranking: Ranking = Ranking(),
    warmup: int = 1,
    limit: Optional[int] = None,
    prefetch: int = 4,
    stop: Optional[Stop] = None,
    on_result=None,
) -> dict:
    """Classify every frame of `frames`; call `on_result(result)` for each; return the summary.

    With `prefetch` > 0, the first `PROBE` images run one after the other; if reading ahead could
    save at least `WORTH_IT` of the time per image, the rest are decoded and preprocessed ahead:
    files a source yields undecoded (`Pending`) by a pool of threads, one per core the model's own
    threads leave (`decode_workers`), at most `prefetch` per worker in flight; decoded frames in
    one thread, `prefetch` ahead. With 0 (cameras), never.
    """
    stop = stop if stop is not None else Stop()
    warm = warm_up(classifier, warmup)
    tally = Tally(counting_unknown=ranking.unknown is not None)
    probe = []  # the first PROBE results, to decide on reading ahead
    first_invoke = warm[0] if warm else None
    source = current = iter(frames)
    decide = prefetch > 0 and cores() > 1
    workers, pending = 0, False  # decode threads in use; whether the source yields undecoded files
    started = time.perf_counter()
    try:
        while (item := next(current, None)) is not None:
            pending = pending or isinstance(item, Pending)
            result = classify_frame(classifier, decoded(item), ranking.top_k, ranking.threshold, ranking.unknown)
            if first_invoke is None and result.ok:
                first_invoke = result.timing.invoke
            tally.add(result)
            if decide and result.ok:
                probe.append(result)
            if on_result is not None:
                on_result(result)
            if limit is not None and tally.done + tally.failed >= limit:
                stop.set("limit")
            if stop.is_set():
                break
            if decide and len(probe) >= PROBE:
                decide = False
                workers = decode_workers(classifier.threads) if pending else 1
                if overlap_gain(probe, workers) < WORTH_IT:
                    workers = 0
                elif pending:  # the rest of `source`: files decoded on `workers` cores, in order
                    work = partial(prepare, classifier)
                    current = decode_pool.in_order(source, work, workers, prefetch * workers, stop)
                else:  # frames the source decodes itself, in one thread ahead of the model
                    current = readahead.ahead((prepare(classifier, f) for f in source), prefetch, stop)
    finally:
        close = getattr(current, "close", None)
        if close is not None:
            close()
    wall = time.perf_counter() - started
    return summary(classifier, tally, warm, first_invoke, wall, stop.reason, workers)


class Tally:
    """What the summary needs of every result, in a fixed size whatever the number of frames."""

    def __init__(self, counting_unknown: bool = False):
        self.done = self.failed = self.unknown = 0  # unknown: answered `unknown` (loop/unknown.py)
        self.counting_unknown = counting_unknown  # the run has an unknown threshold: the count means something
        self.stages = {stage: stats.Running() for stage in Timing._fields}
        self.failures = []  # the first FAILURES_LISTED

    def add(self, result: Result) -> None:
        if result.ok:
            self.done += 1
            self.unknown += result.unknown
            for stage, running in self.stages.items():
                running.add(getattr(result.timing, stage))
        else:
            self.failed += 1
            if len(self.failures) < FAILURES_LISTED:
                self.failures.append({"source": result.name, "error": result.error})


def decode_workers(model_threads=None) -> int:
    """Decode threads for a folder: the cores the model's own invoke threads leave, at least one."""
    return max(1, cores() - max(1, model_threads or 1) + 1)


def overlap_gain(results, workers: int = 1) -> float:
    """The share of per-image time that reading ahead on `workers` threads could save, with read =
    decode + preprocess and infer = invoke + postprocess per image: serial costs read + infer; ahead,
    the slowest of infer (the model's thread), read / workers, and all of it spread over the cores.
    One worker gives min(read, infer) / (read + infer)."""
    read = sum(r.timing.decode + r.timing.preprocess for r in results)
    infer = sum(r.timing.invoke + r.timing.postprocess for r in results)
    if read + infer <= 0:
        return 0.0
    ahead = max(infer, read / max(1, workers), (read + infer) / max(cores(), 1))
    return max(0.0, 1.0 - ahead / (read + infer))


def summary(classifier, tally: Tally, warm, first_invoke, wall, stopped_by, decode_workers: int = 0) -> dict:
    return {
        "model": str(classifier.path),
        "model_bytes": classifier.size_bytes,
        "runtime": classifier.runtime.name,
        "runtime_version": classifier.runtime.version,
        "threads": classifier.threads,
        "labels_source": classifier.labels_source,
        "normalisation_source": classifier.normalisation.source,
        "images": {
            "done": tally.done,
            "failed": tally.failed,
            **({"unknown": tally.unknown} if tally.counting_unknown else {}),
        },
        "stopped_by": stopped_by,
        "warmup": {
            "runs": len(warm),
            "first_invoke_ms": _round(first_invoke),
            "mean_ms": _round(float(np.mean(warm))) if warm else None,
        },
        "latency_ms": {stage: running.latency().as_dict() for stage, running in tally.stages.items()},
        "images_per_second": round(stats.per_second(tally.done, wall), 3) if tally.done else 0.0,
        "wall_seconds": round(wall, 4),
        "read_ahead": decode_workers > 0,
        "decode_workers": decode_workers,  # threads decoding ahead of the model (0: one image after the other)
        "decode": {"rule": classifier.decode, "from": classifier.decode_from},
        "failures": tally.failures,
        "failures_not_listed": tally.failed - len(tally.failures),
        "context": run_context(classifier.runtime, classifier.threads),
    }


def _since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _round(value):
    return None if value is None else round(value, 4)

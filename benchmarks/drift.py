"""Drift on long streams: false events on a steady one, how soon a shift is seen, memory over 100k frames.

    python benchmarks/drift.py [--frames 100000] [--runs 5] [--window 500]

The shipped digits model classifies scikit-learn's 1,797 digits once (and once more darkened to
40% brightness); half of them, drawn at random, make the reference as export makes it
(`converters/reference.py`), the other half the streams: results drawn at random with
replacement, through the tracker `edgecell infer` runs (`device/loop/drift.py`). Printed:
- steady: drift events over `--runs` streams of `--frames` frames (every one is false), drawn
  from the other half and from all the digits;
- darker: 2,000 steady frames, then darkened ones, then steady again: the frames until the
  drift event and until the steady one;
- a new class: a reference without digits 8 and 9, a stream of the other digits, then half 8s
  and 9s: the same two delays;
- memory: the tracker's peak allocation over the first 1,000 frames and over all of them
  (tracemalloc), and its time per frame.
"""

import argparse
import datetime
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from edgecell.converters.reference import reference  # noqa: E402
from edgecell.device.input.image import load_rgb  # noqa: E402
from edgecell.device.loop import drift  # noqa: E402
from edgecell.device.loop.result import Result, Timing  # noqa: E402
from edgecell.device.measure.machine import cpu_model  # noqa: E402
from edgecell.device.model.classifier import Classifier  # noqa: E402
from edgecell.digits_demo import write_digits  # noqa: E402
from edgecell.models import DEMO_MODEL  # noqa: E402


def scored(classifier, folder: Path):
    """(scores of every digit, their true digits, scores of the same digits at 40% brightness)."""
    paths = sorted(folder.rglob("*.png"))
    plain, dark, digits = [], [], []
    for path in paths:
        rgb = load_rgb(path)
        plain.append(classifier.classify(rgb))
        dark.append(classifier.classify((rgb * 0.4).astype(np.uint8)))
        digits.append(int(path.parent.name))
    return np.stack(plain), np.array(digits), np.stack(dark)


def stream(tracker, rows, start=0) -> list:
    """The drift events of `rows` (scores), in order, with their frame numbers."""
    found = []
    for i, row in enumerate(rows):
        event = tracker.update(Result(f"frame{start + i}", [], Timing(), None, row))
        if event is not None:
            found.append(event)
    return found


def delays(tracker, steady, shifted, rng, window) -> tuple:
    """(frames from the shift to the drift event, from its end to the steady event), or None each."""
    before = steady[rng.integers(0, len(steady), 2000)]
    during = shifted[rng.integers(0, len(shifted), 4 * window)]
    after = steady[rng.integers(0, len(steady), 8 * window)]
    events = stream(tracker, np.concatenate([before, during, after]))
    began = next((e.frame for e in events if e.state == "drift" and e.frame > 2000), None)
    ended = next((e.frame for e in events if e.state == "steady" and e.frame > 2000 + len(during)), None)
    return (
        None if began is None else began - 2000,
        None if ended is None else ended - 2000 - len(during),
        sum(e.frame <= 2000 for e in events),
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--window", type=int, default=drift.WINDOW)
    args = parser.parse_args(argv)
    classifier = Classifier(DEMO_MODEL)
    with tempfile.TemporaryDirectory() as tmp:
        plain, digits, dark = scored(classifier, write_digits(Path(tmp) / "digits"))
    rng = np.random.default_rng(0)
    half = rng.permutation(len(plain)) < len(plain) // 2
    made, streamed = plain[half], plain[~half]
    print(f"{datetime.date.today()}, {cpu_model()}; demo model, window {args.window}, reference {half.sum()} digits")

    # The other half differs from the reference by its own sampling noise, fixed for the whole run:
    # twice the noise of a board's endless stream (pessimistic); all the digits share half the
    # reference's: half of it (optimistic).
    for name, pool in (("the other half", streamed), ("all the digits", plain)):
        false_events, timed = 0, 0.0
        for run in range(args.runs):
            tracker = drift.Drift(reference(made), args.window)
            rows = pool[np.random.default_rng(run + 1).integers(0, len(pool), args.frames)]
            started = time.perf_counter()
            false_events += len(stream(tracker, rows))
            timed += time.perf_counter() - started
        print(f"steady, from {name}: {false_events} drift events in {args.runs} x {args.frames} frames")
    print(f"the tracker: {timed / (args.runs * args.frames) * 1e6:.1f} us a frame")

    tracker = drift.Drift(reference(made), args.window)
    began, ended, early = delays(tracker, streamed, dark[~half], rng, args.window)
    print(f"darker: drift {began} frames after the shift, steady {ended} frames after it ended ({early} before)")

    known = digits < 8
    tracker = drift.Drift(reference(plain[half & known]), args.window)
    new = (~half & ~known).sum()
    new_half = np.concatenate([plain[~half & ~known], plain[~half & known][:new]])  # half of them 8s and 9s
    began, ended, early = delays(tracker, plain[~half & known], new_half, rng, args.window)
    print(f"a new class: drift {began} frames after 8s and 9s came, steady {ended} after they went ({early} before)")

    rows = streamed[rng.integers(0, len(streamed), args.frames)]  # made before counting: the stream is not the tracker
    tracemalloc.start()
    tracker = drift.Drift(reference(made), args.window)
    stream(tracker, rows[:1000])
    _, early_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    stream(tracker, rows[1000:], start=1000)
    _, late_peak = tracemalloc.get_traced_memory()
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"memory: peak {early_peak / 1024:.1f} KiB over the first 1,000 frames, {late_peak / 1024:.1f} KiB over the "
        f"next {args.frames - 1000:,}; {current / 1024:.1f} KiB held at the end"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

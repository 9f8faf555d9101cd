"""What `edgecell infer --collect DIR` costs the loop, measured side by side in one run; and the
folder's size over a long run against its cap.

    python benchmarks/collect.py [--frames N] [--rounds R] [--long N]

The infer loop (`runner.run`) over the same in-memory frames (the demo's digits and every pair
of them blended half and half, some of which leave the model torn between two), in turns:
without the collector; with it keeping nothing (the check every frame pays, alone); with it at
its defaults (margin 0.1, share 0.01, 30 a minute, as `--collect DIR` alone), which in a run
of a second keep all of a minute's 30 at once (a first minute); with the defaults at the pace
of a long run (30 a minute scaled to this run's length: steady); with it keeping
every frame it can (share 1, no rate limit: the writer thread encodes and writes all the time
and a full queue drops); and without again (A/A: how far two identical
contenders differ here). Then a long run keeping every frame into a folder capped at --long-mb,
its size checked after every batch.
"""

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

import numpy as np  # noqa: E402

from edgecell.core.digest import sha256  # noqa: E402
from edgecell.device.input import image  # noqa: E402
from edgecell.device.input.frame import Frame  # noqa: E402
from edgecell.device.loop import runner  # noqa: E402
from edgecell.device.model.classifier import Classifier  # noqa: E402
from edgecell.device.sinks.collector import Collecting, Collector  # noqa: E402
from edgecell.models import DEMO_IMAGES, DEMO_MODEL  # noqa: E402


def pictures() -> list:
    digits = [image.load_rgb(p) for p in sorted(DEMO_IMAGES.glob("*.png"))]
    blends = [((a.astype(np.uint16) + b) // 2).astype(np.uint8) for a, b in itertools.combinations(digits, 2)]
    return digits + blends


def loop_ms(classifier, frames, sinks=()) -> float:
    """Wall milliseconds per frame of one run over `frames`, as infer_run.run wires the sinks."""
    stream = iter(frames)
    for sink in sinks:
        stream = sink.tap(stream)

    def on_result(result):
        for sink in sinks:
            sink.write(result)

    start = time.perf_counter()
    summary = runner.run(classifier, stream, warmup=0, prefetch=0, on_result=on_result)
    elapsed = time.perf_counter() - start  # the loop's time; the writer finishing its queue is not in it
    for sink in sinks:
        sink.close()
    assert summary["images"]["done"] == len(frames)
    return elapsed * 1000.0 / len(frames)


def collector(classifier, folder: Path, **limits) -> Collector:
    return Collector(Collecting(folder, **limits), sha256(DEMO_MODEL), DEMO_MODEL.name, classifier.labels)


def side_by_side(classifier, frames, rounds: int, scratch: Path) -> None:
    contenders = {
        "without": dict,
        "--collect, nothing to keep": lambda: {"share": 0.0, "margin": 0.0},  # the check on every frame alone
        "--collect (defaults), a first minute": lambda: {"share": 0.01},
        # 30 a minute over this run's length: the writes of a run that goes on for hours
        "--collect (defaults), steady": lambda: {"share": 0.01, "per_minute": steady()},
        "--collect, every frame it can": lambda: {"share": 1.0, "per_minute": 10**9},
        "without, again (A/A)": dict,
    }
    times = {name: [] for name in contenders}
    kept = {name: [] for name in contenders}
    loop_ms(classifier, frames[:500])  # warm up
    seconds = loop_ms(classifier, frames) * len(frames) / 1000.0

    def steady() -> int:
        return max(1, round(30 * seconds / 60.0))

    for i in range(rounds):  # in turns, the order reversed every other round
        for n, name in enumerate(list(contenders) if i % 2 == 0 else list(contenders)[::-1]):
            limits = contenders[name]()
            sinks = [collector(classifier, scratch / f"{i}-{n}", **limits)] if limits else []
            times[name].append(loop_ms(classifier, frames, sinks))
            if sinks:
                report = sinks[0].report()
                kept[name].append((report["collected"], report["dropped_rate"], report["dropped_queue"]))
    base = statistics.median(times["without"])
    print(f"{len(frames)} frames of the demo's digits and their blends, {rounds} rounds")
    print(f"{'contender':<40}{'ms/frame':>10}{'ratio':>8}  kept, dropped by rate, by a full queue (last round)")
    for name in contenders:
        ms = statistics.median(times[name])
        counts = ", ".join(map(str, kept[name][-1])) if kept[name] else ""
        print(f"{name:<40}{ms:>10.4f}{ms / base:>8.3f}  {counts}")


def long_run(classifier, frames, count: int, cap_mb: float, scratch: Path) -> None:
    folder = scratch / "long"
    sink = collector(classifier, folder, share=1.0, per_minute=10**9, max_mb=cap_mb)
    stream = sink.tap(itertools.islice(itertools.cycle(frames), count))
    most = 0
    for n, frame in enumerate(stream, 1):
        sink.write(runner.classify_frame(classifier, frame))
        while sink.waiting() > 8:  # at a camera's pace the writer keeps up: every frame is kept
            time.sleep(0.001)
        if n % 100 == 0:
            most = max(most, size(folder))
    sink.close()
    report = sink.report()
    print(
        f"long run: {count} frames, {report['collected']} kept, {report['removed_for_cap']} removed for the "
        f"{cap_mb:g} MB cap; the folder at most {most / 2**20:.3f} MB ({most / (cap_mb * 2**20):.3f} of the cap), "
        f"{report['bytes_on_disk'] / 2**20:.3f} MB at the end"
    )


def size(folder: Path) -> int:
    """Bytes in `folder` now, the writer's partial files included."""
    total = 0
    for entry in os.scandir(folder):
        try:
            total += entry.stat().st_size
        except FileNotFoundError:  # a partial file renamed meanwhile: its new name is counted next time
            pass
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--long", type=int, default=3000)
    parser.add_argument("--long-mb", type=float, default=0.1)
    args = parser.parse_args(argv)
    classifier = Classifier(DEMO_MODEL)
    shown = pictures()
    frames = [Frame(f"frame#{n}", shown[n % len(shown)]) for n in range(args.frames)]
    with tempfile.TemporaryDirectory(prefix="edgecell-collect-bench-") as scratch:
        side_by_side(classifier, frames, args.rounds, Path(scratch))
        long_run(classifier, frames, args.long, args.long_mb, Path(scratch))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

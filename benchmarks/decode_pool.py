"""A folder through the runner, read ahead four ways in turns: what the decode pool buys.

    python benchmarks/decode_pool.py MODEL.tflite FOLDER [--rounds N]

The same files, as `edgecell infer FOLDER` gives them (undecoded, for the runner to decode), in
turns: one image at a time; the pool with one decode thread; the pool with two; and frames decoded
by the source in one read-ahead thread (what the runner did before the pool). Per-image
milliseconds of wall time, medians over rounds; the order reversed every other round.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from edgecell.device.input import sources  # noqa: E402
from edgecell.device.loop import runner  # noqa: E402
from edgecell.device.model.classifier import Classifier  # noqa: E402

CONTENDERS = {"one at a time": 0, "pool, 1 thread": 1, "pool, 2 threads": 2, "one read-ahead thread": -1}


def per_image_ms(classifier, paths, workers: int) -> float:
    """One run over `paths`: 0 one at a time, N a pool of N, -1 frames decoded by the source."""
    chosen = runner.decode_workers
    runner.decode_workers = (lambda threads=None: workers) if workers > 0 else chosen
    try:
        frames = sources.frames(sources.expand(paths), classifier.decode_fit, lazy=workers != -1)
        start = time.perf_counter()
        runner.run(classifier, frames, warmup=0, prefetch=0 if workers == 0 else 4)
        return (time.perf_counter() - start) * 1000.0 / len(paths)
    finally:
        runner.decode_workers = chosen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    classifier = Classifier(args.model)
    paths = [i.path for i in sources.expand([str(args.folder)]) if i.kind == "image"]
    times = {name: [] for name in CONTENDERS}
    for i in range(args.rounds):
        for name in CONTENDERS if i % 2 == 0 else reversed(CONTENDERS):
            times[name].append(per_image_ms(classifier, paths, CONTENDERS[name]))
    serial = statistics.median(times["one at a time"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:22s} {median:.3f} ms per image ({median / serial:.2f} of one at a time)")
    print(f"{len(paths)} images, medians of {args.rounds} rounds, {runner.cores()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())

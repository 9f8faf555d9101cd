"""Item 1: `edgecell infer` over a folder against its floor, decode alone plus inference alone.

    python benchmarks/infer_floor.py MODEL.tflite IMAGE_OR_FOLDER... [--rounds N]

The floor is what a hand-written loop cannot beat on one core: every image decoded by OpenCV
(`load_rgb`, under the model's decode rule, as the runner decodes), then every decoded image
through the model (`preprocess` + `invoke` + `scores`), each timed on its own with nothing else in
the loop. The limit on N cores is the floor / N: all of that work spread evenly. The end-to-end
figure is the runner itself, `runner.run` over the same files as `edgecell infer` drives it: the
files left undecoded for the runner, which decodes them on a pool of threads where its first
images say that pays, timing every stage, ranking the scores. All are per-image milliseconds of
wall time, measured in turns (floor, runner, runner one image at a time, floor, ...) so a busy
machine slows them alike; the ratios are of the medians over rounds. Targets: end to end within
15% of the floor, and within 15% of the N-core limit.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from benchmarks.timing import Ratio  # noqa: E402
from edgecell.device.input import image, sources  # noqa: E402
from edgecell.device.loop import runner  # noqa: E402
from edgecell.device.loop.runner import cores  # noqa: E402
from edgecell.device.measure import stats  # noqa: E402
from edgecell.device.model.classifier import Classifier  # noqa: E402

TARGET = 1.15


def floor_ms(classifier, paths) -> float:
    """Per-image ms of decoding every file, then classifying every decoded image (no overlap)."""
    start = time.perf_counter()
    decoded = [image.load_rgb(p, classifier.decode_fit) for p in paths]
    for rgb in decoded:
        classifier.scores(classifier.invoke(classifier.preprocess(rgb)))
    return (time.perf_counter() - start) * 1000.0 / len(paths)


def runner_ms(classifier, paths, prefetch: int = 4) -> float:
    """Per-image ms of the runner over the same files, as `edgecell infer FILES` runs them."""
    start = time.perf_counter()
    frames = sources.frames(sources.expand(paths), classifier.decode_fit, lazy=True)  # as `edgecell infer` does
    summary = runner.run(classifier, frames, warmup=0, prefetch=prefetch)
    elapsed = (time.perf_counter() - start) * 1000.0
    assert summary["images"]["done"] == len(paths), summary["failures"][:3]
    runner_ms.read_ahead = summary["read_ahead"]
    runner_ms.workers = summary["decode_workers"]
    return elapsed / len(paths)


def measure(tflite, paths, rounds: int = 10, threads=None) -> dict:
    """{'floor', 'infer', 'infer_serial'}: per-image ms over `rounds` interleaved rounds (Latency);
    'read_ahead': the share of `infer` rounds in which the runner chose to read ahead."""
    classifier = Classifier(tflite, threads=threads)
    paths = [str(p) for p in paths]
    floor_ms(classifier, paths[:3])  # warm caches, delegate and file cache
    times = {"floor": [], "infer": [], "infer_serial": []}
    read_ahead, workers = [], []
    for i in range(rounds):
        order = list(times) if i % 2 == 0 else list(reversed(times))
        for name in order:
            if name == "floor":
                times[name].append(floor_ms(classifier, paths))
            else:
                times[name].append(runner_ms(classifier, paths, prefetch=4 if name == "infer" else 0))
                if name == "infer":
                    read_ahead.append(runner_ms.read_ahead)
                    workers.append(runner_ms.workers)
    measured = {name: stats.latency(values) for name, values in times.items()}
    measured["read_ahead"] = sum(read_ahead) / len(read_ahead)  # share of rounds that read ahead
    measured["workers"] = max(workers)  # decode threads, in the rounds that used them
    return measured


def ratios(tflite, images, runs: int = 200, threads=None) -> list:
    """The suite's rows: end to end over the floor (target 1.15), and what decoding ahead buys."""
    images = [str(p) for p in images]
    rounds = max(3, min(15, runs // 15))
    m = measure(tflite, images, rounds, threads)
    floor, infer, serial = m["floor"].p50, m["infer"].p50, m["infer_serial"].p50
    n = f"{len(images)} images, medians of {rounds} rounds"
    return [
        Ratio(
            1,
            "edgecell infer end to end / (decode + invoke)",
            infer / floor,
            TARGET,
            f"{infer:.3f} / {floor:.3f} ms per image ({n})",
        ),
        Ratio(
            1,
            f"edgecell infer / the {cores()}-core limit (decode + invoke) / {cores()}",
            infer / (floor / cores()),
            TARGET,
            f"{infer:.3f} / {floor / cores():.3f} ms per image ({n}; {m['workers']} decode threads)",
        ),
        Ratio(
            1,
            "edgecell infer / the same one image at a time",
            infer / serial,
            None,
            f"{infer:.3f} / {serial:.3f} ms per image ({n}; read ahead in {100 * m['read_ahead']:.0f}% of rounds)",
        ),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("sources", nargs="+", help="Image files or folders (walked as edgecell infer does).")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    paths = [i.path for i in sources.expand(args.sources) if i.kind == "image"]
    m = measure(args.model, paths, args.rounds, args.threads)
    for name, latency in m.items():
        if name in ("read_ahead", "workers"):
            continue
        print(
            f"{name:<13} {latency.p50:8.3f} ms per image (median of {latency.count} rounds, "
            f"min {latency.min:.3f}, max {latency.max:.3f})"
        )
    limit = m["floor"].p50 / cores()
    print(
        f"end to end / floor: {m['infer'].p50 / m['floor'].p50:.3f} (target <= {TARGET}); "
        f"end to end / {cores()}-core limit {limit:.3f} ms: {m['infer'].p50 / limit:.3f} (target <= {TARGET}, "
        f"{m['workers']} decode threads); "
        f"runner / one at a time: {m['infer'].p50 / m['infer_serial'].p50:.3f} (read ahead in "
        f"{100 * m['read_ahead']:.0f}% of rounds); {len(paths)} images"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

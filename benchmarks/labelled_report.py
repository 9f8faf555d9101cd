"""What the labelled-folder report costs `edgecell infer` per image, measured side by side in one run.

    python benchmarks/labelled_report.py [--frames N] [--rounds R]

The infer loop (`runner.run`) over the same in-memory frames (the demo's digits, named as files
in class folders `root/<digit>/<name>.png`), in turns without and with the `LabelledReport` sink
that a class folder adds, which counts each result in its confusion matrix. The report's summary
(and `--confusion`'s PNG, drawn once at the end) is timed apart. A second bare loop in the same
turns (A/A) shows how far two identical contenders differ on this machine. A folder that is not
labelled gets no sink, so it costs nothing.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from edgecell.device.input import image  # noqa: E402
from edgecell.device.input.frame import Frame  # noqa: E402
from edgecell.device.loop import runner  # noqa: E402
from edgecell.device.model.classifier import Classifier  # noqa: E402
from edgecell.device.sinks.labelled_report import LabelledReport  # noqa: E402
from edgecell.models import DEMO_IMAGES, DEMO_MODEL  # noqa: E402

FOLDER = Path("/data/test")


def loop_ms(classifier, frames, sinks=()) -> float:
    """Wall milliseconds per frame of one run over `frames`, every result handed to `sinks`."""

    def on_result(result):
        for sink in sinks:
            sink.write(result)

    start = time.perf_counter()
    summary = runner.run(classifier, iter(frames), warmup=0, prefetch=0, on_result=on_result)
    assert summary["images"]["done"] == len(frames)
    return (time.perf_counter() - start) * 1000.0 / len(frames)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    classifier = Classifier(DEMO_MODEL)
    pictures = [(p.name, image.load_rgb(p)) for p in sorted(DEMO_IMAGES.glob("*.png"))]
    frames = []
    for n in range(args.frames):
        name, rgb = pictures[n % len(pictures)]
        frames.append(Frame(str(FOLDER / name.split("_")[0] / f"{n}_{name}"), rgb))
    classes = sorted({Path(f.name).parent.name for f in frames})
    names = ["without", "with the labelled report", "without, again"]
    times = {name: [] for name in names}
    loop_ms(classifier, frames[:500])  # warm up
    report = None
    for i in range(args.rounds):  # in turns, the order reversed every other round
        for name in names if i % 2 == 0 else names[::-1]:
            sinks = [LabelledReport(FOLDER, classes)] if name.startswith("with ") else []
            times[name].append(loop_ms(classifier, frames, sinks))
            report = sinks[0] if sinks else report
    with tempfile.TemporaryDirectory() as tmp:
        report.png = Path(tmp) / "confusion.png"
        start = time.perf_counter()
        report.close()
        summary = report.report()
        end_ms = (time.perf_counter() - start) * 1000.0
    assert summary["accuracy"]["images"] == len(frames)

    base = statistics.median(times["without"])
    print(f"{len(frames)} frames of {len(pictures)} digits in {len(classes)} class folders, {args.rounds} rounds")
    print(f"{'contender':<28}{'ms/frame':>10}{'ratio':>8}")
    for name in names:
        ms = statistics.median(times[name])
        print(f"{name:<28}{ms:>10.4f}{ms / base:>8.3f}")
    extra = statistics.median(times["with the labelled report"]) - base
    spread = abs(statistics.median(times["without, again"]) - base)
    print(f"the report's cost per image: {extra * 1000:.1f} us (A/A spread {spread * 1000:.1f} us)")
    print(f"the summary and the PNG at the end, once: {end_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

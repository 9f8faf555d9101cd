"""The benchmark suite: edgecell against its floor and against what users would run instead.

    python benchmarks/run.py            # the full run (under 5 minutes on 2 cores)
    python benchmarks/run.py --quick    # fewer runs and one cold start each, about a minute

Every figure is a ratio of two things measured side by side in this one run, on the same images
and the same model, so a slow or busy machine cannot fake it. Models and images are made once in
--work (needs the train extra: TensorFlow) and reused; --fresh makes them again.
"""

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from benchmarks import coldstart, macs, models, opencv_dnn, quantized  # noqa: E402
from benchmarks.timing import Ratio  # noqa: E402

DEFAULT_WORK = Path.home() / ".cache" / "edgecell-benchmarks"


def suite(made: dict, runs: int, repeats: int, img_size: int, log=print) -> list:
    """Every item of the suite on `made` (what `models.prepare` returns); a list of Ratios."""
    networks = {arch: paths for arch, paths in made.items() if arch not in ("images", models.REFERENCE)}
    reference = made.get(models.REFERENCE, {}).get("int8")
    edge = networks.get("edge") or next(iter(networks.values()))
    images = sorted(str(p) for p in Path(made["images"]).rglob("*.jpeg")) or sorted(
        str(p) for p in Path(made["images"]).rglob("*.png")
    )
    image = images[0]
    rows = []
    steps = [
        # at least 10 rounds over the folder: fewer let one busy second decide the ratio
        ("1 infer against its floor", lambda: _floor(edge["int8"], images, max(runs, 150))),
        ("2 int8 against float32", lambda: quantized.int8_vs_float32(networks, image, runs)),
        ("3 cold start and memory", lambda: coldstart.cold_start(edge["int8"], edge["dir"], image, img_size, repeats)),
        (
            "4 OpenCV DNN",
            lambda: [
                r
                for arch, p in networks.items()
                for r in opencv_dnn.against_opencv(p["float32"], p["int8"], image, runs, arch)
            ],
        ),
        ("5 MACs and parameters", lambda: macs.per_model(networks, reference, max(10, runs // 4))),
        ("6 phone photos at the model's scale", lambda: _phone_photos(made, runs)),
    ]
    for name, step in steps:
        started = time.perf_counter()
        rows += step()
        log(f"  {name}: {time.perf_counter() - started:.1f} s")
    return rows


def _floor(tflite, images, runs) -> list:
    """Item 1 comes from benchmarks/infer_floor.py (written with `edgecell infer`)."""
    try:
        from benchmarks import infer_floor
    except ImportError:
        return [
            Ratio(
                1,
                "edgecell infer end to end / (decode + invoke)",
                float("nan"),
                1.15,
                "not measured: benchmarks/infer_floor.py is not in this checkout",
            )
        ]
    return infer_floor.ratios(tflite, images, runs)


def _phone_photos(made, runs) -> list:
    """Item 6 (benchmarks/phone_photos.py): its photos and 128x128 model live beside the suite's."""
    from benchmarks import phone_photos

    work = Path(made["images"]).parent.parent / "phone"
    return phone_photos.ratios(work, made["images"], rounds=3 if runs < 100 else 5)


def table(rows) -> list:
    from edgecell.device.bench_table import markdown

    def verdict(row):
        return {True: "met", False: "MISSED", None: "-"}[row.met]

    return markdown(
        ["#", "measurement", "ratio", "target", "verdict", "the figures behind it"],
        [
            [
                row.item,
                row.what,
                "-" if math.isnan(row.value) else f"{row.value:.3f}",
                "-" if row.target is None else f"<= {row.target:g}",
                verdict(row),
                row.detail,
            ]
            for row in rows
        ],
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 timed runs and one cold start per side.")
    parser.add_argument("--runs", type=int, default=None, help="Timed runs per contender [200; --quick 30].")
    parser.add_argument("--repeats", type=int, default=None, help="Cold starts per side [3; --quick 1].")
    parser.add_argument("--img-size", type=int, default=200, help="Input size of the networks (the tutorial's 200).")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help=f"Models and images [{DEFAULT_WORK}].")
    parser.add_argument("--fresh", action="store_true", help="Make the models and images again.")
    parser.add_argument("--verbose", action="store_true", help="Show TensorFlow's output while making the models.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the ratios and the machine as JSON.")
    args = parser.parse_args(argv)
    runs = args.runs or (30 if args.quick else 200)
    repeats = args.repeats or (1 if args.quick else 3)
    work = args.work / f"size{args.img_size}"
    if args.fresh and work.exists():
        import shutil

        shutil.rmtree(work)
    started = time.perf_counter()
    print(f"Models and images in {work} ...", flush=True)
    made = None if args.fresh else models.load(work)
    if made is None:  # TensorFlow is imported there, never in the process that measures
        subprocess.run(
            [sys.executable, "-m", "benchmarks.models", str(work), str(args.img_size)],
            check=True,
            cwd=ROOT,
            stderr=subprocess.DEVNULL if not args.verbose else None,
        )
        made = models.load(work)
    print(
        f"  ready in {time.perf_counter() - started:.1f} s; measuring ({runs} runs, {repeats} cold starts):", flush=True
    )
    rows = suite(made, runs, repeats, args.img_size, log=lambda line: print(line, flush=True))
    from edgecell.device.measure.machine import run_context
    from edgecell.device.model.runtime import interpreter_class

    context = run_context(interpreter_class()[1], 1)
    print()
    print("\n".join(table(rows)))
    print(
        f"\nMachine: {context['cpu']}, {context['cpu_count']} cores, {context['machine']}, "
        f"{context['runtime']} {context['runtime_version']}, OpenCV {context.get('opencv')}; "
        f"total {time.perf_counter() - started:.0f} s."
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "context": context,
                    "runs": runs,
                    "repeats": repeats,
                    "ratios": [dict(r._asdict(), met=r.met) for r in rows],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

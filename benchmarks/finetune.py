"""EfficientNet-Lite0 fine-tuned from ImageNet against the same network from scratch, on a small dataset.

    python benchmarks/finetune.py                          # 300 images, 10 epochs each, img-size 224
    python benchmarks/finetune.py --per-class 40 --epochs 6 --img-size 128

The dataset is `tests/imagegen.cells_dataset` with balanced classes (grey shapes; classes differ by
shape and texture, never colour), made once in --work. Both runs go through the real CLI with the
same epoch budget (`--epochs`: a ceiling shared by the fine-tuning's two phases) and seed, so they
see the same split and the same held-out test images. The fine-tuned model is then exported to int8
(`edgecell export --quantize int8`), which checks it against Keras on the held-out images within
the export's budget. Prints one table row per run.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
DEFAULT_WORK = Path.home() / ".cache" / "edgecell-benchmarks" / "finetune"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--per-class", type=int, default=75)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--img-size", type=int, default=224)
    args = parser.parse_args(argv)
    from support.imagegen import cells_dataset

    data = args.work / f"cells-{args.per_class}"
    if not data.is_dir():
        kinds = ("disc", "ring", "square", "dots")
        cells_dataset(data, counts=dict.fromkeys(kinds, args.per_class), size=96)
    rows = []
    for weights in ("imagenet", "none"):
        out = args.work / f"lite0-{weights}-{args.epochs}-{args.img_size}"
        started = time.perf_counter()
        edgecell(
            "train", data, "--out", out, "--arch", "efficientnet-lite0", "--weights", weights, "--exist-ok",
            "--epochs", args.epochs, "--img-size", args.img_size, "-q",
        )  # fmt: skip
        seconds = time.perf_counter() - started
        report = json.loads((out / "train_report.json").read_text())
        test = report["test"]
        phases = " + ".join(f"{p['name']} {p['epochs']}" for p in report["phases"])
        rows.append((weights, phases, test["accuracy"], test["balanced_accuracy"], test["majority_rate"], seconds))
        if weights == "imagenet":
            export = edgecell("export", out, "--quantize", "int8", capture=True)
            print(export.stdout.strip().splitlines()[-3:] if export.stdout else export.stderr[-500:])
    print(f"{args.per_class * 4} images, test split 0.2, img-size {args.img_size}, --epochs {args.epochs}")
    print("| weights | phases (epochs run) | test accuracy | balanced | majority class | seconds |")
    print("|---|---|---|---|---|---|")
    for weights, phases, acc, balanced, majority, seconds in rows:
        print(f"| {weights} | {phases} | {acc:.3f} | {balanced:.3f} | {majority:.3f} | {seconds:.0f} |")


def edgecell(*args, capture=False):
    command = [sys.executable, "-m", "edgecell", *map(str, args)]
    done = subprocess.run(command, capture_output=capture, text=True)
    if done.returncode not in (0,):
        sys.exit(f"{' '.join(command)} exited {done.returncode}: {(done.stderr or '')[-800:]}")
    return done


if __name__ == "__main__":
    main()

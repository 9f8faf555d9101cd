"""Peak memory of `edgecell train` does not grow with the number of images; images per second.

    python benchmarks/train_memory.py                      # 2,000 and 20,000 images, streamed and cached
    python benchmarks/train_memory.py --counts 1000 5000 --modes stream

Each count gets a folder of small generated PNGs (four colour classes, made once in --work and
reused). Each training runs in its own process started by `spawn.py`, so the peak resident memory
printed is what the kernel counted for that process alone (ru_maxrss), not this script's. The
speed is the training's own figure from `train_report.json`: training images per second of
`model.fit`, over all epochs including the first one's start-up (and, cached, its cache writing).
"""

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_WORK = Path.home() / ".cache" / "edgecell-benchmarks" / "train-memory"
COLOURS = {"blue": (30, 60, 220), "green": (40, 200, 60), "red": (220, 40, 40), "yellow": (220, 220, 40)}  # RGB


def images(folder: Path, count: int, size: int, seed: int = 0) -> Path:
    """`count` PNGs of `size` pixels, split evenly among the classes; kept if already complete."""
    per_class = count // len(COLOURS)
    if folder.is_dir() and sum(1 for _ in folder.rglob("*.png")) == per_class * len(COLOURS):
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    rng = np.random.default_rng(seed)
    for name, rgb in COLOURS.items():
        (folder / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.array(rgb, np.float32) * rng.uniform(0.7, 1.1) + rng.normal(0, 12, (size, size, 3))
            bgr = np.clip(pixels, 0, 255).astype(np.uint8)[:, :, ::-1]
            cv2.imwrite(str(folder / name / f"{name}_{i:05d}.png"), bgr)
    return folder


def train(data: Path, out: Path, args, cache) -> dict:
    """One `edgecell train` in its own process: the kernel's peak RSS, wall seconds and images/s."""
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "edgecell",
        "train",
        str(data),
        "--out",
        str(out),
        "--img-size",
        str(args.img_size),
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(args.batch_size),
    ]
    if cache:
        command += ["--cache", str(cache)]
    spawned = subprocess.run(
        [sys.executable, str(HERE / "spawn.py"), *command], capture_output=True, text=True, check=True
    )
    result = json.loads(spawned.stdout.strip().splitlines()[-1])
    if result["exit_code"]:
        raise SystemExit(f"edgecell train failed on {data} (exit {result['exit_code']})")
    report = json.loads((out / "train_report.json").read_text())
    return {
        "images": report["images"]["total"],
        "train_images": sum(report["images"]["train"].values()),
        "peak_mb": result["peak_mb"],
        "seconds": result["seconds"],
        "images_per_second": report["train_images_per_second"],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--modes", nargs="+", choices=["stream", "cache"], default=["stream", "cache"])
    parser.add_argument("--img-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    args = parser.parse_args(argv)

    rows = []
    for count in args.counts:
        data = images(args.work / f"images-{count}", count, args.img_size)
        for mode in args.modes:
            cache = None
            if mode == "cache":
                cache = args.work / f"cache-{count}"
                shutil.rmtree(cache, ignore_errors=True)
                cache.mkdir(parents=True)
            row = {"mode": mode, **train(data, args.work / f"model-{count}-{mode}", args, cache)}
            rows.append(row)
            print(
                f"{mode:6} {row['images']:>7,} images ({row['train_images']:,} trained x {args.epochs} epochs): "
                f"peak RSS {row['peak_mb']:7.1f} MB, {row['images_per_second']:7.1f} images/s, "
                f"{row['seconds']:6.1f} s in all",
                flush=True,
            )
    for mode in args.modes:
        runs = [row for row in rows if row["mode"] == mode]
        if len(runs) > 1:
            small, large = runs[0], runs[-1]
            print(
                f"{mode}: {large['images'] / small['images']:.0f}x the images, peak RSS x "
                f"{large['peak_mb'] / small['peak_mb']:.3f} ({large['peak_mb'] - small['peak_mb']:+.1f} MB)"
            )
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

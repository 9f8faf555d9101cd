"""Item 6: phone photos decoded at the model's scale, against the full-decode floor.

    python benchmarks/phone_photos.py [--work DIR] [--rounds N]

24 phone-sized JPEGs (4000x3000, quality 90, generated: smooth class-coloured scenes with sensor
grain) through a 128x128 int8 model (the edge network trained briefly on the suite's images).
The floor is what a hand-written loop without decode scale does, one step after the other:
imread every pixel, resize, invoke. `edgecell infer` is the runner over the same folder as the
command drives it: decoding at the model's rule (1/8 here: 500x375) and reading ahead. Measured in
turns, medians over rounds; target infer <= 0.35x the floor, top-1 the same as the full decode on
all but at most one photo. The Raspberry Pi 4 decode share is an ESTIMATE, never a measurement:
decode time here times PI4_DECODE_SLOWDOWN (an assumption, not measured), invoke scaled by MACs
from the published MobileNet v2 reference (benchmarks/macs.py).

    python benchmarks/phone_photos.py --model ../shared/peer-models/mobilenet_v1_0.25_128_quant.tflite

runs the same comparison for a model made elsewhere, which records no decode rule (the board's rule
for any model applies), on 24 photos made from the photographs beside it (bird.bmp, pets.jpg):
each a different crop, some mirrored, enlarged to 4000x3000 with sensor grain, as JPEG.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import macs  # noqa: E402
from benchmarks.timing import Ratio  # noqa: E402
from edgecell.device.input import image, sources  # noqa: E402
from edgecell.device.loop import runner  # noqa: E402
from edgecell.device.measure import stats  # noqa: E402
from edgecell.device.model.classifier import Classifier  # noqa: E402

TARGET = 0.35
PHOTOS, SIZE, IMG_SIZE = 24, (4000, 3000), 128
PI4_DECODE_SLOWDOWN = 5.0  # ASSUMED: libjpeg-turbo on a 1.5 GHz Cortex-A72 against one core of this machine
DEFAULT_WORK = Path.home() / ".cache" / "edgecell-benchmarks" / "phone"


def write_photos(root: Path, count: int = PHOTOS, size=SIZE, seed: int = 0) -> list:
    """`count` 4000x3000 JPEGs of the suite's classes (made once): a blurred scene of circles in
    the class colour, enlarged, with per-pixel grain, so libjpeg has a phone photo's entropy to decode."""
    from benchmarks.models import CLASSES

    paths = sorted(root.rglob("*.jpg")) if root.is_dir() else []
    if len(paths) == count:
        return paths
    rng = np.random.default_rng(seed)
    width, height = size
    names = list(CLASSES)
    for i in range(count):
        name = names[i % len(names)]
        small = np.full((height // 10, width // 10, 3), 225.0) + rng.normal(0, 6, (height // 10, width // 10, 3))
        for _ in range(int(rng.integers(3, 7))):
            centre = (int(rng.integers(40, width // 10 - 40)), int(rng.integers(40, height // 10 - 40)))
            tint = tuple(float(c) for c in np.array(CLASSES[name]) * rng.uniform(0.8, 1.1))
            cv2.circle(small, centre, int(rng.integers(25, 80)), tint, -1)
        large = cv2.resize(np.clip(small, 0, 255).astype(np.uint8), (width, height), interpolation=cv2.INTER_CUBIC)
        large = np.clip(large.astype(np.int16) + rng.integers(-8, 9, (height, width, 3), dtype=np.int16), 0, 255)
        path = root / name / f"photo_{i:02d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), large.astype(np.uint8)[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    return sorted(root.rglob("*.jpg"))


def photos_from(pictures, root: Path, count: int = PHOTOS, size=SIZE, seed: int = 0) -> list:
    """`count` 4000x3000 JPEGs made from real `pictures` (made once): a random crop of 60-100% of
    each side, mirrored every other time, enlarged, with per-pixel grain."""
    paths = sorted(root.glob("*.jpg")) if root.is_dir() else []
    if len(paths) == count:
        return paths
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    width, height = size
    sources_rgb = [image.load_rgb(p) for p in pictures]
    for i in range(count):
        rgb = sources_rgb[i % len(sources_rgb)]
        h, w = rgb.shape[:2]
        ch, cw = int(h * rng.uniform(0.6, 1.0)), int(w * rng.uniform(0.6, 1.0))
        top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        crop = rgb[top : top + ch, left : left + cw]
        crop = crop[:, ::-1] if i % 2 else crop
        large = cv2.resize(np.ascontiguousarray(crop), (width, height), interpolation=cv2.INTER_CUBIC)
        large = np.clip(large.astype(np.int16) + rng.integers(-8, 9, (height, width, 3), dtype=np.int16), 0, 255)
        bgr = large.astype(np.uint8)[:, :, ::-1]
        cv2.imwrite(str(root / f"photo_{i:02d}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return sorted(root.glob("*.jpg"))


def model(work: Path, images: Path) -> Path:
    """The 128x128 int8 edge model, trained and exported in a process of its own (TensorFlow)."""
    out = work / f"edge_{IMG_SIZE}" / "export" / "model_int8.tflite"
    if not out.is_file():
        code = (
            "import sys; from pathlib import Path; from benchmarks.models import model_dir, tflite; "
            f"tflite(model_dir(Path(sys.argv[1]), 'edge', Path(sys.argv[2]), {IMG_SIZE}), 'int8')"
        )
        subprocess.run([sys.executable, "-c", code, str(work), str(images)], check=True, cwd=ROOT)
    return out


def floor_pass(classifier, paths) -> tuple:
    """(ms per image, top-1 per image): imread every pixel, resize, invoke, one after the other."""
    start, top = time.perf_counter(), []
    for path in paths:
        rgb = image.load_rgb(path)  # every pixel
        top.append(int(np.argmax(classifier.scores(classifier.invoke(classifier.preprocess(rgb))))))
    return (time.perf_counter() - start) * 1000.0 / len(paths), top


def infer_pass(classifier, paths) -> tuple:
    """(ms per image, top-1 per image, decode ms p50) of the runner as `edgecell infer FOLDER` runs it."""
    results = []
    start = time.perf_counter()
    frames = sources.frames(sources.expand(paths), classifier.decode_fit)
    summary = runner.run(classifier, frames, warmup=0, on_result=results.append)
    elapsed = (time.perf_counter() - start) * 1000.0
    assert summary["images"]["done"] == len(paths), summary["failures"][:3]
    top = [classifier.labels.index(r.classes[0].label) for r in results]
    return elapsed / len(paths), top, summary["latency_ms"]["decode"]["p50"]


def stages_ms(classifier, path, fit) -> dict:
    """decode, preprocess, invoke of one photo here, one thread, median of 5."""
    times = {"decode": [], "preprocess": [], "invoke": []}
    for _ in range(5):
        start = time.perf_counter()
        rgb = image.load_rgb(path, fit)
        decoded = time.perf_counter()
        tensor = classifier.preprocess(rgb)
        prepared = time.perf_counter()
        classifier.invoke(tensor)
        done = time.perf_counter()
        times["decode"].append((decoded - start) * 1000)
        times["preprocess"].append((prepared - decoded) * 1000)
        times["invoke"].append((done - prepared) * 1000)
    return {stage: float(np.median(values)) for stage, values in times.items()}


def measure(tflite: Path, paths, rounds: int = 5) -> dict:
    classifier = Classifier(tflite)
    assert classifier.decode_fit is not None, f"{tflite}: {classifier.decode} ({classifier.decode_from})"
    paths = [str(p) for p in paths]
    floor_pass(classifier, paths[:2])  # file cache and delegate
    floors, infers, decodes, top_floor, top_infer = [], [], [], None, None
    for i in range(rounds):
        for name in ("floor", "infer") if i % 2 == 0 else ("infer", "floor"):
            if name == "floor":
                ms, top_floor = floor_pass(classifier, paths)
                floors.append(ms)
            else:
                ms, top_infer, decode = infer_pass(classifier, paths)
                infers.append(ms)
                decodes.append(decode)
    return {
        "floor": stats.latency(floors),
        "infer": stats.latency(infers),
        "differ": sum(a != b for a, b in zip(top_floor, top_infer)),
        "full": stages_ms(classifier, paths[0], None),
        "scaled": stages_ms(classifier, paths[0], classifier.decode_fit),
        "invoke_pi4_ms": macs.pi4_estimate_ms(macs.count(tflite).macs),
        "photos": len(paths),
        "decode": f"{classifier.decode} ({classifier.decode_from})",
    }


def pi4_share(stages: dict, invoke_pi4_ms: float) -> tuple:
    """(decode share, decode ms, photo ms) on a Pi 4: an ESTIMATE (see the module's docstring)."""
    decode = stages["decode"] * PI4_DECODE_SLOWDOWN
    rest = stages["preprocess"] * PI4_DECODE_SLOWDOWN + invoke_pi4_ms
    return decode / (decode + rest), decode, decode + rest


def ratios(work: Path = DEFAULT_WORK, suite_images: Path = None, rounds: int = 5) -> list:
    """The suite's rows for item 6 (the photos and the model are made once in `work`)."""
    from benchmarks.models import write_images

    work = Path(work)
    suite_images = Path(suite_images) if suite_images else write_images(work / "train_images")
    paths = write_photos(work / "photos")
    m = measure(model(work, suite_images), paths, rounds)
    floor, infer = m["floor"].p50, m["infer"].p50
    rows = [
        Ratio(
            6,
            "edgecell infer on phone photos / full-decode floor",
            infer / floor,
            TARGET,
            f"{infer:.1f} / {floor:.1f} ms per photo ({m['photos']} photos 4000x3000, medians of {rounds} rounds)",
        ),
        Ratio(6, "photos whose top-1 differs from the full decode's", float(m["differ"]), 1.0, f"of {m['photos']}"),
    ]
    return rows + pi4_rows(m)


def pi4_rows(m: dict) -> list:
    rows = []
    for name, label in (("full", "full decode"), ("scaled", "decode at the model's scale")):
        share, decode, total = pi4_share(m[name], m["invoke_pi4_ms"])
        rows.append(
            Ratio(
                6,
                f"Raspberry Pi 4 ESTIMATE: decode share of a photo, {label}",
                share,
                None,
                f"photo {total:.0f} ms: decode {decode:.0f} ms (here {m[name]['decode']:.1f} ms "
                f"x {PI4_DECODE_SLOWDOWN:g}, assumed), resize x {PI4_DECODE_SLOWDOWN:g}, "
                f"invoke {m['invoke_pi4_ms']:.1f} ms (by MACs)",
            )
        )
    return rows


def peer_ratios(tflite: Path, work: Path = DEFAULT_WORK, rounds: int = 5) -> list:
    """The same rows for a model from elsewhere, on photos made from the photographs beside it."""
    tflite = Path(tflite)
    pictures = sorted(p for p in tflite.parent.iterdir() if p.suffix.lower() in (".bmp", ".jpg", ".png"))
    if not pictures:
        raise SystemExit(f"No photographs (.bmp, .jpg, .png) beside {tflite} to make phone photos from.")
    paths = photos_from(pictures, Path(work) / f"photos_{tflite.stem}")
    m = measure(tflite, paths, rounds)
    floor, infer = m["floor"].p50, m["infer"].p50
    rows = [
        Ratio(
            2,
            f"edgecell infer on phone photos / full-decode floor, {tflite.name}",
            infer / floor,
            TARGET,
            f"{infer:.1f} / {floor:.1f} ms per photo ({m['photos']} photos 4000x3000, medians of {rounds} "
            f"rounds); decode: {m['decode']}",
        ),
        Ratio(2, "photos whose top-1 differs from the full decode's", float(m["differ"]), 1.0, f"of {m['photos']}"),
    ]
    return rows + pi4_rows(m)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help=f"Photos and model [{DEFAULT_WORK}].")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", type=Path, help="A .tflite from elsewhere, with photographs beside it.")
    args = parser.parse_args(argv)
    rows = peer_ratios(args.model, args.work, args.rounds) if args.model else ratios(args.work, rounds=args.rounds)
    for row in rows:
        verdict = "" if row.met is None else (" (met)" if row.met else " (NOT met)")
        target = f" target <= {row.target:g}" if row.target is not None else ""
        print(f"{row.what}: {row.value:.3f}{target}{verdict}; {row.detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

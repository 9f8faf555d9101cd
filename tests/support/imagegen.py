"""Tiny generated datasets for the tests: real files, written with OpenCV."""

from pathlib import Path

import cv2
import numpy as np

from edgecell.models import DEMO_IMAGES

# Classes that differ only by colour: a pipeline that swaps BGR and RGB anywhere gets them wrong.
COLOURS = {"blue": (30, 60, 220), "green": (40, 200, 60), "red": (220, 40, 40)}  # RGB


def colour_image(rgb, size=32, rng=None) -> np.ndarray:
    """A textured image of one colour: noise and a random bright/dark blob, so it is not trivial."""
    rng = rng or np.random.default_rng(0)
    base = np.array(rgb, dtype=np.float32)
    image = base * rng.uniform(0.7, 1.1) + rng.normal(0, 12, (size, size, 3))
    centre = tuple(int(v) for v in rng.integers(4, size - 4, 2))
    cv2.circle(image, centre, int(rng.integers(3, size // 3)), tuple(float(v) for v in base * 0.5), -1)
    return np.clip(image, 0, 255).astype(np.uint8)


def write_rgb(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[:, :, ::-1])):  # OpenCV writes BGR
        raise OSError(f"could not write {path}")
    return path


def colour_dataset(root: Path, per_class=20, size=32, seed=0, ext=".png", colours=COLOURS) -> Path:
    rng = np.random.default_rng(seed)
    for name, rgb in colours.items():
        for i in range(per_class):
            write_rgb(root / name / f"{name}_{i:03d}{ext}", colour_image(rgb, size, rng))
    return root


def photo_image(rgb, size=(1600, 1200), rng=None) -> np.ndarray:
    """A large picture of one colour, like a photo: `colour_image`'s texture and blob drawn small,
    enlarged smoothly, with fine grain on top (what a camera sensor adds)."""
    rng = rng or np.random.default_rng(0)
    width, height = size
    small = colour_image(rgb, 48, rng)[:36]
    large = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    grain = rng.integers(-6, 7, (height, width, 1), dtype=np.int16)
    return np.clip(large + grain, 0, 255).astype(np.uint8)


def photo_dataset(root: Path, per_class=8, size=(1600, 1200), seed=0, colours=COLOURS) -> Path:
    """`colour_dataset` as large JPEGs (quality 90), for decoding at the model's scale."""
    rng = np.random.default_rng(seed)
    for name, rgb in colours.items():
        for i in range(per_class):
            path = root / name / f"{name}_{i:03d}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            bgr = np.ascontiguousarray(photo_image(rgb, size, rng)[:, :, ::-1])
            if not cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 90]):
                raise OSError(f"could not write {path}")
    return root


def digits_video(path, pattern, repeat):
    """An MJPG video: each digit of `pattern` for `repeat` frames (the demo's own digit images)."""
    pictures = {p.name[0]: cv2.imread(str(p)) for p in DEMO_IMAGES.glob("*.png")}
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 64))
    for digit in pattern:
        frame = cv2.resize(pictures[digit], (64, 64), interpolation=cv2.INTER_NEAREST)
        for _ in range(repeat):
            writer.write(frame)
    writer.release()
    return path


CELL_COUNTS = {"disc": 180, "ring": 40, "square": 40, "dots": 40}  # 60% one class, as in the white-cell tutorial


def cell_image(kind: str, size=64, rng=None) -> np.ndarray:
    """A grey, noisy picture of one shape; classes differ by shape and texture, never by colour."""
    rng = rng or np.random.default_rng()
    image = rng.normal(120, 18, (size, size)).clip(0, 255).astype(np.uint8)
    tone = int(rng.integers(40, 80))
    r = int(size * rng.uniform(0.18, 0.28))
    cx, cy = (int(rng.integers(r + 2, size - r - 2)) for _ in range(2))
    if kind == "disc":
        cv2.circle(image, (cx, cy), r, tone, -1)
    elif kind == "ring":
        cv2.circle(image, (cx, cy), r, tone, max(2, r // 3))
    elif kind == "square":
        cv2.rectangle(image, (cx - r, cy - r), (cx + r, cy + r), tone, -1)
    else:
        for _ in range(9):
            x, y = (int(v) for v in rng.integers(-r, r + 1, 2))
            cv2.circle(image, (cx + x, cy + y), max(2, r // 5), tone, -1)
    return np.repeat(image[:, :, None], 3, axis=2)


def cells_dataset(root: Path, counts=None, size=64, seed=0) -> Path:
    """An unbalanced four-class dataset of shapes (CELL_COUNTS): a constant model scores 0.6 on it."""
    rng = np.random.default_rng(seed)
    for kind, n in (counts or CELL_COUNTS).items():
        (root / kind).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            write_rgb(root / kind / f"{i:03d}.png", cell_image(kind, size, rng))
    return root


def noise_dataset(root, counts=(30, 10), size=16):
    """Classes of pure noise: nothing to learn, so no model is clearly better than a constant."""
    rng = np.random.default_rng(1)
    for name, n in zip(("many", "few"), counts):
        for i in range(n):
            write_rgb(root / name / f"{i}.png", rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
    return root

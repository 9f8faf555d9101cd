"""The images and models the suite measures, made once and kept in a work folder.

Images: four classes of textured 320x240 JPEGs (the size of the tutorial's blood-cell pictures),
told apart by colour, so a model trained for one epoch is already better than chance.
Models: the default edge network and the tutorial's seed network, trained briefly with
`edgecell train`, then exported to float32 and full-integer int8 TFLite with `edgecell export`. Speed does not depend on
how well a network is trained, only on its graph, so a short training is enough to time it.
"""

import json
from pathlib import Path

import cv2
import numpy as np

CLASSES = {
    "EOSINOPHIL": (200, 80, 160),
    "LYMPHOCYTE": (90, 60, 200),
    "MONOCYTE": (150, 150, 210),
    "NEUTROPHIL": (210, 120, 120),
}  # RGB
VARIANTS = ("float32", "int8")
MADE = "models.json"
REFERENCE = "reference"  # the key of MobileNet v2 in models.json


def write_images(root: Path, per_class: int = 25, size=(240, 320), seed: int = 0) -> Path:
    """`per_class` JPEGs per class: a tinted background with noise and a few stained 'cells'."""
    root = Path(root)
    if root.is_dir() and sum(1 for _ in root.rglob("*.jpeg")) == per_class * len(CLASSES):
        return root
    rng = np.random.default_rng(seed)
    height, width = size
    for name, rgb in CLASSES.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            picture = np.full((height, width, 3), 235.0) + rng.normal(0, 10, (height, width, 3))
            for _ in range(int(rng.integers(2, 6))):
                centre = (int(rng.integers(20, width - 20)), int(rng.integers(20, height - 20)))
                tint = tuple(float(c) for c in np.array(rgb) * rng.uniform(0.8, 1.1))
                cv2.circle(picture, centre, int(rng.integers(12, 40)), tint, -1)
            picture = np.clip(picture, 0, 255).astype(np.uint8)
            cv2.imwrite(str(root / name / f"{name.lower()}_{i:03d}.jpeg"), picture[:, :, ::-1])
    return root


def model_dir(work: Path, arch: str, data: Path, img_size: int = 200, epochs: int = 1) -> Path:
    """The folder `edgecell train --arch ARCH` writes, trained once and reused."""
    out = Path(work) / f"{arch}_{img_size}"
    if (out / "model.keras").is_file() and (out / "split.json").is_file():
        return out
    from edgecell.train.config import TrainConfig
    from edgecell.train.training import train

    config = TrainConfig(
        data_dir=str(data), out_dir=str(out), arch=arch, img_size=img_size, epochs=epochs, batch_size=16, patience=1
    )
    train(config, verbose=0, log=lambda *_: None)
    return out


def tflite(folder: Path, variant: str) -> Path:
    """`folder`'s model as a .tflite of `variant` (float32 or int8), made by `edgecell export`
    (both variants at once, metadata included) once and reused."""
    from edgecell.converters.context import Settings
    from edgecell.converters.export_run import export, model_file

    out = Path(folder) / "export" / model_file(variant)
    if not out.is_file():
        export(folder, Settings(variants=VARIANTS), log=lambda *_: None)
    return out


def reference(work: Path, seed: int = 0) -> Path:
    """MobileNet v2 (1.0, 224x224, 1000 classes, random weights) as full-integer int8: the network
    of the published Raspberry Pi 4 reference point, to scale the Pi 4 estimates by measured time."""
    out = Path(work) / "mobilenet_v2_int8.tflite"
    if out.is_file():
        return out
    from edgecell.converters.convert import Variant, convert
    from edgecell.train.networks import mobilenetv2

    model = mobilenetv2(1000, 224, "none")  # Keras' MobileNetV2 with its usual head, taking 0..255 pixels
    rng = np.random.default_rng(seed)

    def representative():
        for _ in range(8):
            yield [rng.uniform(0, 255, (1, 224, 224, 3)).astype(np.float32)]

    out.write_bytes(convert(model, Variant.int8, representative))
    return out


def prepare(work: Path, img_size: int = 200, per_class: int = 25, archs=("edge", "tutorial")) -> dict:
    """{"images": folder, "reference": {"int8": MobileNet v2}, arch: {"dir": model folder,
    "float32": path, "int8": path} for each arch}; also written to work/models.json for `load`."""
    work = Path(work)
    images = write_images(work / "images", per_class)
    made = {"images": str(images), REFERENCE: {"int8": str(reference(work))}}
    for arch in archs:
        folder = model_dir(work, arch, images, img_size)
        made[arch] = {"dir": str(folder), **{variant: str(tflite(folder, variant)) for variant in VARIANTS}}
    (work / MADE).write_text(json.dumps(made, indent=2))
    return load(work)


def load(work: Path):
    """What `prepare` made in `work`, as Paths, or None when something is missing."""
    try:
        made = json.loads((Path(work) / MADE).read_text())
    except (OSError, ValueError):
        return None
    made = {
        key: Path(value) if isinstance(value, str) else {k: Path(v) for k, v in value.items()}
        for key, value in made.items()
    }
    files = [made["images"]] + [p for key, value in made.items() if key != "images" for p in value.values()]
    return made if REFERENCE in made and all(p.exists() for p in files) else None


if __name__ == "__main__":  # python -m benchmarks.models WORK IMG_SIZE: made in a process of its own
    import sys

    prepare(Path(sys.argv[1]), int(sys.argv[2]))

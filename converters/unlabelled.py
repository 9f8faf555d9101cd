"""Exporting a model folder that has no split: an ImageNet classifier from `edgecell pretrained`.

Such a folder has no training images to calibrate int8 on and no held-out images of its 1000
classes, and a user's own photographs are seldom labelled with ImageNet's names. So `--data DIR`
may then be any folder of images (class subfolders or not, their names unused): int8 is calibrated
on them, and every export is checked on them by its top-1 agreement with the Keras model, which
stands in for the labels (Keras scores 100% by construction; a variant's "accuracy" is the share
of images where it answers as Keras does, and --max-drop applies to that).
"""

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np

from edgecell.converters import check
from edgecell.converters.calibration import Calibration
from edgecell.core.errors import EdgecellError
from edgecell.core.modelfolder import CONFIG_FILE
from edgecell.core.split import SPLIT_FILE
from edgecell.device.input.image import is_image_name

SOURCE = "images of --data {data}, checked as top-1 agreement with Keras"


class Unlabelled(NamedTuple):
    images: check.HeldOut  # labels are filled with Keras' answers once they are known (relabelled)
    calibrated: Calibration
    source: str


def applies(model_dir) -> bool:
    """A folder `edgecell pretrained` wrote: no split, and a config naming no dataset (a trained
    folder that lost its split.json still gets the labelled check, with --data)."""
    model_dir = Path(model_dir)
    if (model_dir / SPLIT_FILE).exists():
        return False
    try:
        return json.loads((model_dir / CONFIG_FILE).read_text()).get("data_dir") == ""
    except (OSError, ValueError, AttributeError):
        return False


def gather(model_dir, data, input_size, calib_samples: int, decode) -> Unlabelled:
    """Every image under `data`, decoded as the board will, for the check and (up to `calib_samples`) int8."""
    if data is None:
        raise EdgecellError(
            f"{model_dir} has no {SPLIT_FILE} (an `edgecell pretrained` classifier has no dataset); give --data DIR, "
            "any folder of images, to calibrate int8 on and check each export's top-1 agreement with Keras."
        )
    paths = sorted(str(p) for p in Path(data).rglob("*") if p.is_file() and is_image_name(p))
    if not paths:
        raise EdgecellError(
            f"{data} holds no images (.jpg, .png, .bmp, ...); give a folder of photographs with --data."
        )
    images = check.load_held_out(paths, [0] * len(paths), input_size, decode)
    chosen = images.images[:calib_samples]
    warning = ""
    if len(chosen) < calib_samples:
        warning = (
            f"Only {len(chosen)} images of {data} are there for int8 calibration (--calib-samples {calib_samples}); "
            "calibrating on those, a few hundred like the images the board will see calibrate better."
        )
    calibrated = Calibration(chosen, images.paths[:calib_samples], {"unlabelled": len(chosen)}, warning)
    return Unlabelled(images, calibrated, SOURCE.format(data=data))


def relabelled(images: check.HeldOut, keras_scores: np.ndarray) -> check.HeldOut:
    """The images labelled with Keras' own top-1 answers, so accuracy against them is agreement with Keras."""
    return images._replace(labels=np.argmax(keras_scores, axis=1))

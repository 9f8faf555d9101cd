"""Decode scale: how much of a JPEG is decoded for a model that only needs a thumbnail of it.

libjpeg can decode a JPEG at 1/2, 1/4 or 1/8 of its size in the DCT domain (OpenCV's
`IMREAD_REDUCED_*` flags), skipping most of the work of a full decode. A 4000x3000 phone photo
for a 128x128 model decodes at 1/8 (500x375) and is then resized as any other image.

The rule has a name, recorded in a model's `config.json` and in its .tflite metadata, so that
training, export's accuracy check and calibration, and the board decode the same file to the same
pixels; a later change of rule gets a new name rather than silently splitting them.

A .tflite that records no rule (made elsewhere, or exported before rules existed) is decoded under
the same rule on the board (`ANY_MODEL`): the rule only ever reduces an image at least twice the
model's input in both sides and keeps both decoded sides at or above it, so what reaches the
resize holds more pixels than the model takes, and a reduced decode and a full one resize to
pixels a fraction of a level apart on average (benchmarks/phone_photos.py measures top-1 against
the full decode on Coral's MobileNet). `--full-decode` decodes every pixel.
"""

import json
import math
from pathlib import Path

from edgecell.core.errors import EdgecellError
from edgecell.core.modelfolder import CONFIG_FILE

FULL = "full"  # every pixel is decoded, whatever the model's input size
JPEG_REDUCED = "jpeg-reduced-v1"  # see `reduction`
RULES = (JPEG_REDUCED, FULL)
DEFAULT = JPEG_REDUCED  # what a model made from now on records
UNRECORDED = FULL  # what a model *folder* that records no rule was trained on (before the rule existed)
ANY_MODEL = JPEG_REDUCED  # what the board uses for a .tflite that records no rule (made elsewhere, or earlier)
FACTORS = (8, 4, 2)


def reduction(width: int, height: int, input_size) -> int:
    """The factor (1, 2, 4 or 8) a JPEG of `width` x `height` is decoded at for `input_size` (h, w).

    1 unless the image is at least twice the model's input in both sides; else the largest of
    8, 4, 2 that keeps both decoded sides at or above the input. libjpeg rounds a reduced side up
    (ceil(width / factor)), and so does this. Both sides are compared with the input's larger
    side, so a photo turned a quarter by its EXIF orientation still decodes at least input-sized.
    """
    need = max(int(side) for side in input_size)
    if need < 1 or width < 2 * need or height < 2 * need:
        return 1
    for factor in FACTORS:
        if math.ceil(width / factor) >= need and math.ceil(height / factor) >= need:
            return factor
    return 1


def check_rule(rule: str, where: str) -> str:
    """`rule` when edgecell knows it, else EdgecellError naming `where` it came from."""
    if rule not in RULES:
        raise EdgecellError(
            f"{where} asks for decode rule {str(rule)[:40]!r}, which this edgecell does not know "
            f"(it knows {', '.join(RULES)}); upgrade edgecell, or pass --full-decode."
        )
    return rule


def fit(rule: str, input_size):
    """What `image.load_rgb(path, fit)` is given under `rule`: the input size, or None for every pixel."""
    return None if rule == FULL else tuple(int(side) for side in input_size)


def of_model_folder(model_dir, full_decode: bool = False) -> str:
    """The rule the model in `model_dir` was trained under, as its `config.json` records it;
    FULL when it records none (trained before the rule existed, with every pixel decoded) or
    with `full_decode`. EdgecellError for a rule this edgecell does not know."""
    if full_decode:
        return FULL
    path = Path(model_dir) / CONFIG_FILE
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError):
        config = {}
    rule = config.get("decode", UNRECORDED) if isinstance(config, dict) else UNRECORDED
    return check_rule(rule, str(path))

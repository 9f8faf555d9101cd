"""Per-channel or per-tensor int8 weights, chosen on validation images.

Per-channel weights (one scale per output channel) keep depthwise convolutions with folded batch
norm accurate, but cost 24 bytes of scales and zero points per channel: on a small network that
is a quarter of the int8 file. Per-tensor weights (one scale per tensor) drop that, and on some
networks lose nothing; on others (MobileNet-style depthwise layers) they lose a great deal.

So both are converted and run on the validation images of `split.json` (the early-stopping
images, never the held-out ones the report is measured on), and the per-tensor model is kept
only when it classifies those at least as accurately as the per-channel one.
"""

import tempfile
from pathlib import Path
from typing import NamedTuple

from edgecell.converters import check, convert
from edgecell.converters.convert import Variant


class Choice(NamedTuple):
    content: bytes
    per_channel: bool
    validation_images: int
    per_channel_accuracy: float  # on the validation images; None without any
    per_tensor_accuracy: float

    def as_dict(self) -> dict:
        return {
            "weights": "per-channel" if self.per_channel else "per-tensor",
            "validation_images": self.validation_images,
            "per_channel_accuracy": self.per_channel_accuracy,
            "per_tensor_accuracy": self.per_tensor_accuracy,
        }


def int8(model, representative, validation: check.HeldOut, threads=None) -> Choice:
    """The int8 model to export: per-tensor when it is as accurate on `validation`, else per-channel."""
    per_channel = convert.convert(model, Variant.int8, representative, per_channel=True)
    if validation is None or not len(validation.labels):
        return Choice(per_channel, True, 0, None, None)
    per_tensor = convert.convert(model, Variant.int8, representative, per_channel=False)
    channel_accuracy = _accuracy(per_channel, validation, threads)
    tensor_accuracy = _accuracy(per_tensor, validation, threads)
    keep_tensor = tensor_accuracy >= channel_accuracy and len(per_tensor) < len(per_channel)
    return Choice(
        per_tensor if keep_tensor else per_channel,
        not keep_tensor,
        int(len(validation.labels)),
        channel_accuracy,
        tensor_accuracy,
    )


def _accuracy(content: bytes, validation: check.HeldOut, threads) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.tflite"
        path.write_bytes(content)
        scores, _, _ = check.tflite_probabilities(path, validation, threads)
    return check.accuracy(scores, validation.labels)

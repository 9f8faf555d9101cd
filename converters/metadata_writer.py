"""The metadata written into each exported .tflite, so a board needs nothing but the file.

edgecell's own: one JSON document under the flatbuffer metadata name `edgecell` (the format is
in `edgecell.device.model.edgecell_metadata`, which reads it back without TensorFlow). Beside it, TFLite's
standard metadata with the labels packed in the file (`standard_metadata_writer`), for MediaPipe
and the Task Library.
"""

import json

from edgecell.converters import standard_metadata_writer
from edgecell.core.version import __version__
from edgecell.device.input import decode_scale
from edgecell.device.model.edgecell_metadata import FORMAT, METADATA_NAME

# What the model does to the pixels itself: the first layer of each network edgecell builds.
NORMALIZATION = {"edge": "x / 255", "tutorial": "x / 255", "seed": "x / 255", "mobilenetv2": "x / 127.5 - 1"}


def describe(
    labels,
    variant: str,
    input_size,
    arch: str,
    keras_accuracy,
    test_images: int,
    model_dir: str,
    decode: str = decode_scale.DEFAULT,
) -> dict:
    height, width = input_size
    return {
        "format": FORMAT,
        "labels": list(labels),
        "variant": variant,
        "input": {
            "height": int(height),
            "width": int(width),
            "color": "RGB",
            "pixel_range": [0, 255],
            "mean": 0.0,  # what a runner applies before the model: nothing, raw pixels go in
            "std": 1.0,
            "normalization_in_model": NORMALIZATION.get(arch, "unknown"),
            "decode": decode,  # the decode rule training and the accuracy check used (device/input/decode_scale.py)
        },
        "source": {
            "arch": arch,
            "keras_accuracy": None if keras_accuracy is None else round(float(keras_accuracy), 6),
            "test_images": int(test_images),
            "model_dir": str(model_dir),
        },
        "edgecell_version": __version__,
    }


def embed(content: bytes, meta: dict, **standard_fields) -> bytes:
    """`content` (a .tflite) carrying `meta` as its edgecell metadata entry and the standard
    metadata made from it; `standard_fields` (name, version, author, license) override its defaults."""
    data = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    names = ", ".join(map(str, meta["labels"][:5])) + (", ..." if len(meta["labels"]) > 5 else "")
    unknown = meta.get("unknown") or {}
    fields = {
        "name": f"edgecell image classifier ({meta['source'].get('arch')}, {meta['variant']})",
        "description": f"Classifies an RGB image into {len(meta['labels'])} classes ({names}). "
        f"Exported by edgecell {meta.get('edgecell_version')}.",
        "mean": _channels(meta["input"].get("mean", 0.0)),
        "std": _channels(meta["input"].get("std", 1.0)),
        "score_threshold": unknown.get("threshold"),  # the unknown threshold (converters/unknown_threshold.py)
    }
    if unknown.get("threshold") is not None:
        fields["description"] += (
            f" Answers scoring under {unknown['threshold']:g} are unknown: the rest are right at least "
            f"{100 * unknown['target']:g}% of the time with {100 * unknown['confidence']:g}% confidence "
            f"({unknown['images']} held-out images; {unknown['method']})."
        )
    fields.update({key: value for key, value in standard_fields.items() if value})
    labels = [str(label) for label in meta["labels"]]
    return standard_metadata_writer.embed(content, labels, {METADATA_NAME: data}, **fields)


def _channels(value) -> list:
    return [float(v) for v in value] if isinstance(value, list) else [float(value)]

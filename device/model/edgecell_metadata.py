"""The edgecell metadata a .tflite file carries, read without TensorFlow.

`edgecell export` stores one JSON document in the model's flatbuffer `metadata` list under the
name `edgecell`: labels, input size, colour order, pixel range and normalisation, the decode rule
(`decode_scale`), the accuracy of the source model, the edgecell version, and `unknown`: the
top-1 score under which the answer is `unknown`, with its guarantee (converters/unknown_threshold.py),
and `reference`, what drift is judged against (converters/reference.py).
The board needs nothing but the .tflite file.

Reading uses `tflite_reader`'s bounds-checked walk of the flatbuffer, so it works with any runtime,
tflite-runtime 2.14 included.
"""

import json
import math

from edgecell.core.labels import MAX_LABEL_CHARS
from edgecell.device.model.tflite_reader import MetadataError, read_entries

METADATA_NAME = "edgecell"
FORMAT = "edgecell-classifier/1"


def read(model: bytes):
    """The edgecell metadata dict of a .tflite's bytes, or None when the model has none."""
    raw = read_entries(model).get(METADATA_NAME)
    if raw is None:
        return None
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise MetadataError(f"its edgecell metadata is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("labels"), list):
        raise MetadataError("its edgecell metadata has no list of labels")
    _check_fields(meta)
    return meta


def _check_fields(meta: dict) -> None:
    """The fields a runner uses have the types it needs (valid JSON can still say anything)."""
    if not all(isinstance(label, str) or _is_number(label) for label in meta["labels"]):
        raise MetadataError("its edgecell metadata has labels that are not text")
    longest = max((len(str(label)) for label in meta["labels"]), default=0)
    if longest > MAX_LABEL_CHARS:
        raise MetadataError(
            f"its edgecell metadata has a label of {longest} characters; "
            f"a class name may have at most {MAX_LABEL_CHARS}"
        )
    for part in ("input", "source", "unknown", "reference"):
        if not isinstance(meta.get(part, {}), dict):
            raise MetadataError(f"its edgecell metadata has an {part!r} that is not an object")
    threshold = (meta.get("unknown") or {}).get("threshold")
    if threshold is not None and not (_is_number(threshold) and 0.0 <= threshold <= 1.0):
        raise MetadataError(
            f"its edgecell metadata unknown threshold {json.dumps(threshold)[:40]} is not a score between 0 and 1"
        )
    _check_reference(meta.get("reference"))
    model_input = meta.get("input", {})
    for key in ("mean", "std"):
        value = model_input.get(key, 0.0 if key == "mean" else 1.0)
        values = value if isinstance(value, list) else [value]
        if len(values) not in (1, 3) or not all(_is_number(v) and math.isfinite(v) and abs(v) < 1e30 for v in values):
            raise MetadataError(
                f"its edgecell metadata input {key} {json.dumps(value)[:40]} is not one number or three (R,G,B)"
            )
        if key == "std" and any(abs(v) < 1e-30 for v in values):  # zero once in float32
            raise MetadataError(f"its edgecell metadata input std {json.dumps(value)[:40]} is zero or too close to it")
    if not isinstance(model_input.get("decode", ""), str):
        raise MetadataError(f"its edgecell metadata input decode {json.dumps(model_input['decode'])[:40]} is not text")
    for key in ("height", "width"):
        value = model_input.get(key, 1)
        if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            raise MetadataError(
                f"its edgecell metadata input {key} {json.dumps(value)[:40]} is not a positive whole number"
            )


def _check_reference(found) -> None:
    """The drift reference (converters/reference.py) is counts a runner can index, or absent."""
    if not found:
        return
    edges, scores, classes = found.get("score_edges"), found.get("score_counts"), found.get("class_counts")
    lists = all(isinstance(v, list) for v in (edges, scores, classes))
    if not (
        lists
        and all(_is_number(e) for e in edges)
        and all(isinstance(c, int) and c >= 0 for c in [*scores, *classes])
        and len(scores) == len(edges) + 1
        and len(edges) < 1000
        and 0 < len(classes) <= 100_000
        and isinstance(found.get("images"), int)
        and found["images"] > 0
    ):
        raise MetadataError("its edgecell metadata drift reference is not score edges and counts")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)

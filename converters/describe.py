"""`edgecell info`: what a .tflite takes and gives, what it carries, what it needs from a runtime.

Runs on a board: the interpreter of the installed runtime for the tensors, the device's own
flatbuffer reader for the metadata and the op list, no TensorFlow. Labels and normalisation are
shown as `edgecell infer` would use them, each with where it came from (`device/model/precedence.py`).
"""

import dataclasses
from pathlib import Path

import numpy as np

from edgecell.converters import compat, unknown_threshold
from edgecell.core.errors import EdgecellError
from edgecell.core.numbers import size
from edgecell.core.printable import printable
from edgecell.device.input import decode_scale
from edgecell.device.model import edgecell_metadata, runtime, standard_metadata
from edgecell.device.model.classifier import Classifier, read_model

SHOWN_LABELS = 10  # the first few; --json has them all


def describe(path, runtime_name: runtime.Runtime = runtime.Runtime.auto, locale: str = "en") -> dict:
    """Everything `edgecell info` shows. The model is loaded once: through the same Classifier
    `edgecell infer` builds when it is a classifier, on its own when it is not."""
    path = Path(path)
    content = read_model(path)
    try:
        meta = edgecell_metadata.read(content)
        standard = standard_metadata.read(content, locale)
        ops = compat.ops(content)
    except edgecell_metadata.MetadataError as error:
        raise EdgecellError(f"Model file {path} is not usable: {error}.") from None
    try:
        classifier = Classifier(path, runtime_name=runtime_name, locale=locale)
    except EdgecellError as error:  # not a classifier, or labels that do not fit: said after the rest
        interpreter, info = runtime.load(content, str(path), runtime_name)
        seen = {"labels": None, "normalisation": None, "not_usable": str(error)}
    else:
        interpreter, info = classifier.interpreter, classifier.runtime
        seen = _as_infer_sees_it(classifier)
    compatibility = compat.compatibility(content)
    return {
        "file": str(path),
        "size_bytes": len(content),
        "runtime": f"{info.name} {info.version}",
        "inputs": [_tensor(t) for t in interpreter.get_input_details()],
        "outputs": [_tensor(t) for t in interpreter.get_output_details()],
        "metadata": meta,
        "standard_metadata": None if standard is None else dataclasses.asdict(standard),
        **seen,
        "ops": [{"name": op.name, "version": op.version} for op in ops],
        compatibility.target: {"loads": compatibility.loads, "problems": compatibility.problems},
    }


def _as_infer_sees_it(classifier: Classifier) -> dict:
    """The labels and normalisation `edgecell infer` would use, with their sources."""
    norm = classifier.normalisation
    return {
        "labels": {"source": classifier.labels_source, "names": classifier.labels},
        "normalisation": {
            "source": norm.source,
            "pixels_as_they_are": bool(norm.raw),
            "mean": [float(v) for v in norm.mean],
            "std": [float(v) for v in norm.std],
        },
    }


def _tensor(details: dict) -> dict:
    scale, zero_point = details["quantization"]
    return {
        "name": details["name"],
        "shape": [int(d) for d in details["shape"]],
        "dtype": np.dtype(details["dtype"]).name,
        "quantization": {"scale": float(scale), "zero_point": int(zero_point)} if scale else None,
    }


def text(described: dict) -> str:
    lines = [f"{described['file']}: {size(described['size_bytes'])} (loaded with {described['runtime']})"]
    for kind in ("inputs", "outputs"):
        for t in described[kind]:
            quant = t["quantization"]
            q = f", scale {quant['scale']:.6g} zero point {quant['zero_point']}" if quant else ""
            lines.append(f"{kind[:-1]:6} {t['name']}: {t['dtype']} {t['shape']}{q}")
    lines.extend(_labels_and_normalisation(described))
    standard = described["standard_metadata"]
    if standard is not None:
        about = ", ".join(f"{key} {standard[key]}" for key in ("version", "author", "license") if standard[key])
        lines.append(f"standard metadata: {standard['name'] or '(no name)'}" + (f", {about}" if about else ""))
        if standard["description"]:
            lines.append(f"  {standard['description']}")
        if standard.get("score_threshold") is not None:
            lines.append(f"  score threshold {standard['score_threshold']:g} (ScoreThresholdingOptions of the output)")
    meta = described["metadata"]
    if meta is None:
        lines.append("edgecell metadata: none (not made by edgecell export)")
    else:
        source = meta.get("source", {})
        inp = meta.get("input", {})
        lines.append(
            f"edgecell metadata: {meta.get('format')}, variant {meta.get('variant')}, "
            f"edgecell {meta.get('edgecell_version')}"
        )
        lines.append(f"  labels ({len(meta['labels'])}): {', '.join(map(str, meta['labels']))}")
        lines.append(
            f"  input: {inp.get('width')}x{inp.get('height')} {inp.get('color')}, pixels {inp.get('pixel_range')}, "
            f"mean {inp.get('mean')} std {inp.get('std')}, in the model: {inp.get('normalization_in_model')}"
        )
        unrecorded = f"{decode_scale.ANY_MODEL} (not recorded: the rule for any model)"
        lines.append(f"  decode: {inp.get('decode') or unrecorded}")
        lines.append(
            f"  source: {source.get('arch')} from {source.get('model_dir')}, Keras accuracy "
            f"{source.get('keras_accuracy')} on {source.get('test_images')} images"
        )
        if meta.get("unknown"):
            lines.append(f"  {unknown_threshold.sentence(meta['unknown'])}")
    lines.append("ops: " + ", ".join(f"{op['name']} v{op['version']}" for op in described["ops"]))
    for target in compat.Target:
        verdict = described[target.value]
        lines.append(
            f"{target.value}: " + ("loads" if verdict["loads"] else "does not load: " + "; ".join(verdict["problems"]))
        )
    # Labels, names and descriptions come from the file: escape codes in them are shown, not run.
    return "\n".join(printable(line) for line in lines)


def _labels_and_normalisation(described: dict) -> list:
    labels, norm = described["labels"], described["normalisation"]
    if labels is None:
        return []
    names = labels["names"]
    if names is None:
        shown = "none"
    else:
        more = f", ... ({len(names)} in all)" if len(names) > SHOWN_LABELS else ""
        shown = f"{len(names)}: " + ", ".join(names[:SHOWN_LABELS]) + more
    if norm["pixels_as_they_are"] or (norm["mean"] == [0.0] and norm["std"] == [1.0]):
        how = "the 0..255 pixels as they are"
    else:
        how = f"(x - {_values(norm['mean'])}) / {_values(norm['std'])} of 0..255 pixels"
    return [f"labels {shown}", f"  from {labels['source']}", f"normalisation {how}", f"  from {norm['source']}"]


def _values(values) -> str:
    return f"{values[0]:g}" if len(values) == 1 else "(" + ", ".join(f"{v:g}" for v in values) + ")"

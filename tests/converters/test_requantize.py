"""The int8 export's uint8 input reaches int8 through float32 (DEQUANTIZE + QUANTIZE, which
XNNPACK runs) instead of a QUANTIZE between the 8-bit types, and the scores stay the same."""

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tf


def _first_ops(path: Path) -> list:
    from ai_edge_litert.interpreter import Interpreter

    ops = Interpreter(model_path=str(path), num_threads=1)._get_ops_details()
    return [(op["op_name"], _names(op["operand_types"]), _names(op["result_types"])) for op in ops]


def _names(types) -> list:
    return [t.__name__ for t in types]


def _models(trained_dir: Path, colour_data: Path, out: Path) -> dict:
    """{'split': the int8 export as convert() writes it, 'unsplit': the converter's own int8 model
    with the same settings and input scale, before the rewrite}."""
    pytest.importorskip("tensorflow")
    import tensorflow as tf

    from edgecell.converters import convert, flatbuffer
    from edgecell.core.modelfolder import load_keras
    from edgecell.device.input.image import load_resized

    model, _ = load_keras(trained_dir)
    samples = [load_resized(p, (32, 32)).astype(np.float32)[None] for p in sorted(colour_data.rglob("*.png"))[::4]]

    def representative():
        return iter([[s] for s in samples])

    paths = {"split": out / "split.tflite", "unsplit": out / "unsplit.tflite"}
    paths["split"].write_bytes(convert.convert(model, convert.Variant.int8, representative))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.uint8
    with convert._quiet():
        unsplit = converter.convert()
    paths["unsplit"].write_bytes(flatbuffer.set_input_quantization(unsplit, 1.0, 0))
    return paths


def test_the_uint8_input_reaches_int8_through_float_with_the_same_scores(trained_dir, colour_data, tmp_path):
    from edgecell.converters import requantize
    from edgecell.device.input.image import load_rgb
    from edgecell.device.model.classifier import Classifier

    paths = _models(trained_dir, colour_data, tmp_path)
    unsplit_ops = _first_ops(paths["unsplit"])
    assert unsplit_ops[0] == ("QUANTIZE", ["uint8"], ["int8"])  # what the converter writes

    ops = _first_ops(paths["split"])
    assert ops[:2] == [("DEQUANTIZE", ["uint8"], ["float32"]), ("QUANTIZE", ["float32"], ["int8"])]
    assert not [op for op in ops if op[0] == "QUANTIZE" and op[1] == ["uint8"] and op[2] == ["int8"]]
    # the rest of the graph is the converter's, op for op
    assert [op[0] for op in ops[2:]] == [op[0] for op in unsplit_ops[1:]]

    labels = trained_dir / "labels.txt"
    split = Classifier(paths["split"], labels=labels, threads=1)
    unsplit = Classifier(paths["unsplit"], labels=labels, threads=1)
    assert split.input_dtype == np.uint8 and split._input["quantization"] == (1.0, 0)  # the board's contract
    step = split._output["quantization"][0]
    for path in sorted(colour_data.rglob("*.png")):
        rgb = load_rgb(path)
        a, b = split.classify(rgb), unsplit.classify(rgb)
        assert np.abs(a - b).max() <= step + 1e-9, path
        assert a.argmax() == b.argmax() == split.labels.index(path.parent.name), path

    # a model without that QUANTIZE (float32, or the rewritten one) comes back as it was
    again = paths["split"].read_bytes()
    assert requantize.through_float(again) == again

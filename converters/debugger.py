"""Which layers does int8 hurt? Per-layer quantization error, and int8 models with chosen layers in float.

The model is calibrated once (TFLite's `QuantizationDebugger` runs the converter's calibration);
from that calibrated model any set of layers can be kept in float by re-quantizing it with
`denylisted_nodes`, in a fraction of a second, without calibrating again.

Ranking: the debugger runs each quantized layer beside its float twin on the ranking images
(training images) and hands us both outputs. TensorFlow's own figure, RMSE over the scale, is
blind to the failure that matters most: int8 activations have one scale per tensor, so a channel
with outliers sets the scale and every quiet channel of the same tensor is rounded to a few levels
or to nothing, while the error stays "one quantization step". So each layer is also scored by its
worst channel: the RMSE of that channel over the spread (standard deviation) of its float values.
Above 1 the channel's signal is lost in rounding.

A layer kept in float is of no use while the tensor it writes is quantized again for the next
layer with the same range: reverting a layer keeps its output tensor float end to end, so the
layer and the layers reading its output run in float (`LayerError.group`).
"""

import contextlib
import re
import warnings
from typing import NamedTuple

import numpy as np

from edgecell.converters import convert
from edgecell.converters.convert import Variant
from edgecell.core import requires
from edgecell.core.errors import EdgecellError

# A channel whose float values vary by less than this share of the tensor's range carries nothing.
_QUIET = 1e-6


class LayerError(NamedTuple):
    name: str  # the layer's output tensor in the converted model: its node name for the denylist
    op: str  # CONV_2D, FULLY_CONNECTED ...
    worst_channel: float  # RMSE over float spread in the worst channel of the layer's output
    rmse_over_scale: float  # TensorFlow's figure: ~0.29 is plain rounding
    group: tuple  # the node names to keep in float to keep this output float: the layer and its readers

    def as_dict(self) -> dict:
        return {
            "layer": self.name,
            "op": self.op,
            "worst_channel": round(self.worst_channel, 4),
            "rmse_over_scale": round(self.rmse_over_scale, 4),
            "float_group": list(self.group),
        }


def worst_channel(float_values, quantized_values, scale, zero_point) -> float:
    """RMSE over spread in the worst channel (last axis) of one layer's output on the ranking images."""
    floats = np.concatenate([np.asarray(f, np.float64).reshape(-1, np.shape(f)[-1]) for f in float_values])
    codes = np.concatenate([np.asarray(q).reshape(-1, np.shape(q)[-1]) for q in quantized_values])
    error = (codes.astype(np.float64) - zero_point) * scale - floats
    rmse = np.sqrt((error**2).mean(axis=0))
    spread = floats.std(axis=0)
    loud = spread > _QUIET * max(float(np.abs(floats).max()), 1e-12)
    return float((rmse[loud] / spread[loud]).max()) if np.any(loud) else 0.0


def rmse_over_scale(float_values, quantized_values, scale, zero_point) -> float:
    floats = np.concatenate([np.asarray(f, np.float64).ravel() for f in float_values])
    codes = np.concatenate([np.asarray(q).ravel() for q in quantized_values])
    error = (codes.astype(np.float64) - zero_point) * scale - floats
    return float(np.sqrt((error**2).mean()) / scale) if scale else 0.0


class Calibrated:
    """A Keras model converted and calibrated once for int8, quantizable with any layers in float."""

    def __init__(self, model, representative, ranking, per_channel: bool):
        tf = requires.tensorflow("`edgecell export --fallback`")
        self._tf = tf
        self.per_channel = per_channel
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter._experimental_disable_per_channel = not per_channel  # see convert.py
        options = tf.lite.experimental.QuantizationDebugOptions(
            layer_direct_compare_metrics={"worst_channel": worst_channel, "rmse_over_scale": rmse_over_scale}
        )
        with convert._quiet(), _no_warnings():
            try:
                self._debugger = tf.lite.experimental.QuantizationDebugger(
                    converter=converter, debug_dataset=ranking, debug_options=options
                )
            except Exception as error:  # the converter's own exceptions, each with its words
                raise EdgecellError(f"Calibrating for the int8 fallback search failed ({_first(error)}).") from None
        self.calibrated = self._debugger.calibrated_model
        self._ops = self._graph()

    def rank(self) -> list:
        """Every quantized layer with its errors, the worst first."""
        with convert._quiet(), _no_warnings():
            try:
                self._debugger.run()
            except Exception as error:  # e.g. XNNPACK refusing the instrumented model
                raise EdgecellError(
                    f"TFLite's quantization debugger could not run the model ({_first(error)})."
                ) from None
        layers = []
        for key, stats in self._debugger.layer_statistics.items():
            name = _tensor_name(key)
            if name not in self._ops:
                continue  # the model's output tensor: no layer of its own
            op, readers = self._ops[name]
            layers.append(
                LayerError(name, op, float(stats["worst_channel"]), float(stats["rmse_over_scale"]), (name, *readers))
            )
        return sorted(layers, key=lambda layer: -layer.worst_channel)

    def quantize(self, float_nodes=()) -> bytes:
        """The int8 model (uint8 input taking raw pixels, uint8 output) with `float_nodes` left in float."""
        from tensorflow.lite.python import convert as tflite_convert  # the converter's own re-quantizer

        from edgecell.converters import flatbuffer, requantize

        with convert._quiet(), _no_warnings():
            try:
                content = tflite_convert.mlir_quantize(
                    self.calibrated,
                    disable_per_channel=not self.per_channel,
                    input_data_type=self._tf.uint8,
                    output_data_type=self._tf.uint8,
                    denylisted_nodes=list(float_nodes) or None,
                )
            except Exception as error:
                raise EdgecellError(
                    f"Re-quantizing with {', '.join(float_nodes)} in float failed ({_first(error)})."
                ) from None
        return requantize.through_float(flatbuffer.set_input_quantization(content, 1.0, 0))

    def _graph(self) -> dict:
        """{output tensor name: (op name, node names of the ops reading it)} of the calibrated model."""
        with _no_warnings():
            interpreter = self._tf.lite.Interpreter(model_content=self.calibrated)
        names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
        ops = interpreter._get_ops_details()  # the debugger reads the graph this way too
        graph = {}
        for op in ops:
            for output in op["outputs"]:
                readers = tuple(names[o] for other in ops if output in list(other["inputs"]) for o in other["outputs"])
                graph[names[output]] = (op["op_name"], readers)
        return graph


def int16x8(model, representative) -> bytes:
    """16-bit activations with 8-bit weights: float input and output, 256 times finer activations."""
    tf = requires.tensorflow("`edgecell export --fallback`")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    with convert._quiet(), _no_warnings():
        try:
            return converter.convert()
        except Exception as error:
            raise EdgecellError(f"TFLite conversion to {Variant.int8.value} 16x8 failed ({_first(error)}).") from None


def _tensor_name(key: str) -> str:
    """`NumericVerify/{tensor}{digit}:{index}`, the debugger's statistics key, to the tensor's name
    (as the debugger's own `layer_statistics_dump` does)."""
    name = key.rsplit(":", 1)[0][len("NumericVerify/") :]
    return name[:-1] if re.match(r"\d", name[-1:]) else name


def _first(error) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:300]


@contextlib.contextmanager
def _no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated tf.lite.Interpreter; uncalibrated input statistics
        yield

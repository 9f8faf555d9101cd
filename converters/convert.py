"""Keras to TFLite, in the four variants `edgecell export --quantize` offers.

- float32: the Keras model as it is.
- float16: weights stored as float16, computed in float32 (half the size).
- dynamic: dynamic-range quantization, int8 weights and float activations.
- int8: full integer. Weights and activations int8, calibrated on training images; the input is
  uint8 taking the raw 0..255 pixels of the preprocessing contract (scale 1, zero point 0), the
  output uint8 with the scale and zero point to dequantize it. The input reaches int8 through
  float32, so the runtime's XNNPACK delegate runs that step (requantize.py). Its weights are
  quantized per output channel, or per tensor where that costs nothing (granularity.py).
"""

import contextlib
import io
import os
import sys
import tempfile
import warnings
from enum import Enum

from edgecell.core import requires
from edgecell.core.errors import EdgecellError


class Variant(str, Enum):
    int8 = "int8"
    float16 = "float16"
    dynamic = "dynamic"
    float32 = "float32"


# In the order `--all` exports and the report lists them: largest first.
ALL = (Variant.float32, Variant.float16, Variant.dynamic, Variant.int8)


def convert(model, variant: Variant, representative=None, per_channel: bool = True) -> bytes:
    """The .tflite bytes of Keras `model` as `variant`; int8 needs `representative`, a function
    returning an iterator of `[float32 batch of one image]`, as TFLiteConverter wants.

    `per_channel=False` gives int8 weights one scale per tensor instead of one per output channel
    (see granularity.py).
    """
    tf = requires.tensorflow("`edgecell export`")
    variant = Variant(variant)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if variant is not Variant.float32:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant is Variant.float16:
        converter.target_spec.supported_types = [tf.float16]
    if variant is Variant.int8:
        if representative is None:
            raise ValueError("int8 conversion needs a representative dataset")
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
        # The converter's only switch for this is a private attribute (TFLiteConverterBase, TF 2.21).
        converter._experimental_disable_per_channel = not per_channel
    with _quiet() as chatter, warnings.catch_warnings():
        # "Statistics for quantized inputs were expected": the uint8 input's range comes from calibration.
        warnings.simplefilter("ignore", UserWarning)
        try:
            content = converter.convert()
        except Exception as error:  # ConverterError, ValueError ... each with the converter's own words
            reason = str(error).strip().splitlines()[0] if str(error).strip() else chatter()[-300:]
            raise EdgecellError(f"TFLite conversion to {variant.value} failed ({reason[:300]}).") from None
    if variant is Variant.int8:
        from edgecell.converters import flatbuffer, requantize  # ai-edge-litert's schema: not on every board

        # Calibration gives the uint8 input the range the images happened to span (e.g. 3..250);
        # a scale of exactly 1 lets the board feed decoder pixels as they are. The QUANTIZE op
        # after the input requantizes into the calibrated int8 range either way.
        content = flatbuffer.set_input_quantization(content, 1.0, 0)
        # A QUANTIZE from uint8 to int8 would run outside XNNPACK (requantize.py).
        content = requantize.through_float(content)
    return content


@contextlib.contextmanager
def _quiet():
    """Keep the converter's prints (Keras' 'Saved artifact at ...', MLIR's C++ logging) off the
    terminal; yields a function returning what was said, for error messages."""
    with tempfile.TemporaryFile(mode="w+b") as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                os.dup2(sink.fileno(), 1)
                os.dup2(sink.fileno(), 2)
                yield lambda: _read(sink)
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _read(sink) -> str:
    sink.flush()
    sink.seek(0)
    return sink.read().decode("utf-8", errors="replace")

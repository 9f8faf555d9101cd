"""A classifier from elsewhere: no edgecell metadata, normalisation outside the model, float or
full-integer (int8) input and output. `--labels` and `--mean/--std` make it answer as the Keras
model it came from does."""

import json

import numpy as np
import pytest
from support.tflite_models import MEAN, STD
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.device.input.image import load_resized

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def keras_answers(trained_dir, colour_data):
    """{path: (label, scores)} of the Keras model on a few images of each class."""
    from edgecell.core.modelfolder import load_keras

    model, labels = load_keras(trained_dir)
    paths = [p for name in labels for p in sorted((colour_data / name).glob("*.png"))[:4]]
    size = tuple(model.inputs[0].shape[1:3])
    scores = model.predict(np.stack([load_resized(p, size) for p in paths]).astype(np.float32), verbose=0)
    return {str(p): (labels[int(s.argmax())], s) for p, s in zip(paths, scores)}


@pytest.mark.parametrize("variant, tolerance", [("float", 1e-4), ("int8", 0.08)])
def test_foreign_model_with_labels_mean_and_std(foreign_tflite, keras_answers, tmp_path, variant, tolerance):
    out = tmp_path / "r.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "infer",
            *keras_answers,
            "--model",
            str(foreign_tflite[variant]),
            "--labels",
            str(foreign_tflite["labels"]),
            "--mean",
            str(MEAN),
            "--std",
            str(STD),
            "--top-k",
            "3",
            "-o",
            str(out),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["source"] for r in rows] == list(keras_answers)
    labels = foreign_tflite["labels"].read_text().split()
    for row in rows:
        label, scores = keras_answers[row["source"]]
        ours = np.zeros(len(labels))
        for c in row["top_k"]:
            ours[labels.index(c["label"])] = c["score"]
        assert np.abs(ours - scores).max() <= tolerance, (row, scores)
        if variant == "float" or np.sort(scores)[-1] - np.sort(scores)[-2] > 2 * tolerance:
            assert row["label"] == label


def test_without_mean_and_std_the_foreign_model_sees_other_pixels(foreign_tflite, keras_answers, tmp_path):
    """The normalisation options really reach the model: leaving them out changes its scores."""
    outputs = []
    for normalise in (
        ["--mean", "0", "--std", "1"],
        ["--mean", "127.5", "--std", "127.5"],
        ["--mean", "127.5,127.5,127.5", "--std", "127.5"],
    ):
        out = tmp_path / f"r{len(outputs)}.jsonl"
        result = CliRunner().invoke(
            app,
            [
                "infer",
                *list(keras_answers)[:3],
                "--model",
                str(foreign_tflite["float"]),
                "--labels",
                str(foreign_tflite["labels"]),
                *normalise,
                "-o",
                str(out),
                "-q",
            ],
        )
        assert result.exit_code == 0, result.output
        outputs.append([json.loads(line)["score"] for line in out.read_text().splitlines()])
    assert outputs[1] == outputs[2]  # one value or one per channel, same thing
    assert outputs[0] != outputs[1]


@pytest.mark.parametrize("variant", ["float", "int8"])
def test_with_no_flags_the_convention_answers_as_keras(foreign_tflite, keras_answers, tmp_path, variant):
    """No metadata, no flags: an int8 input takes the 8-bit pixels as they are (its quantization is
    the normalisation), a float one (x - 127.5) / 127.5, said once on stderr with the flags to change it."""
    out = tmp_path / "r.jsonl"
    model = foreign_tflite[variant]
    result = CliRunner().invoke(
        app, ["infer", *keras_answers, "--model", str(model), "--labels", str(foreign_tflite["labels"]), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["label"] for row in rows] == [label for label, _ in keras_answers.values()]
    assert result.output.count("This float model has no metadata") == (1 if variant == "float" else 0)
    from edgecell.device.model.classifier import Classifier

    normalisation = Classifier(model).normalisation
    if variant == "float":
        assert normalisation.source == "convention for a float input without metadata: (x - 127.5) / 127.5"
        assert "--mean and --std" in normalisation.notice
    else:
        assert normalisation.raw and normalisation.notice is None


def test_foreign_model_without_labels_names_classes_by_index(foreign_tflite, keras_answers, tmp_path):
    out = tmp_path / "r.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "infer",
            list(keras_answers)[0],
            "--model",
            str(foreign_tflite["int8"]),
            "--mean",
            "127.5",
            "--std",
            "127.5",
            "-o",
            str(out),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["label"] in {"0", "1", "2"}


@pytest.mark.parametrize("value", ["abc", "1,2"])
def test_bad_mean_is_a_usage_error(foreign_tflite, keras_answers, value):
    result = CliRunner().invoke(
        app, ["infer", list(keras_answers)[0], "--model", str(foreign_tflite["float"]), "--mean", value]
    )
    assert result.exit_code == 2 and "--mean" in result.output


def test_a_model_that_is_not_a_classifier_is_a_usage_error(tmp_path, keras_answers):
    import tensorflow as tf

    segmenter = tf.keras.Sequential([tf.keras.Input((8, 8, 3)), tf.keras.layers.Conv2D(2, 3, padding="same")])
    (tmp_path / "segmenter.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(segmenter).convert())
    result = CliRunner().invoke(app, ["infer", list(keras_answers)[0], "--model", str(tmp_path / "segmenter.tflite")])
    assert result.exit_code == 2
    assert "is not an image classifier: it takes [1, 8, 8, 3] and gives [1, 8, 8, 2]" in result.output

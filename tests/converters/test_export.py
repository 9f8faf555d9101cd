"""`edgecell export`: every variant checked on held-out images, the budget, the report."""

import json
import shutil

import numpy as np
import pytest
from support.imagegen import write_rgb
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.converters.export_run import EXPORT_DIR
from edgecell.core.split import read_split
from edgecell.device.input.image import load_resized
from edgecell.device.model.classifier import Classifier

pytestmark = pytest.mark.tf

VARIANTS = ("float32", "float16", "dynamic", "int8")
runner = CliRunner()


def _report(model_dir):
    return json.loads((model_dir / EXPORT_DIR / "export_report.json").read_text())


def test_all_variants_are_written_checked_and_pass(exported_dir):
    report = _report(exported_dir)
    assert [v["variant"] for v in report["variants"]] == list(VARIANTS)
    assert report["failed"] == []
    assert report["keras"]["accuracy"] >= 0.9
    for row in report["variants"]:
        assert (exported_dir / EXPORT_DIR / f"model_{row['variant']}.tflite").stat().st_size == row["size_bytes"]
        assert row["drop_points"] <= 1.0 and row["agreement"] >= 0.9
        assert set(row["per_class_change"]) == {"blue", "green", "red"}
        assert row["latency_ms_p50"] > 0
    assert report["ship"] in VARIANTS
    assert (exported_dir / EXPORT_DIR / "labels.txt").read_text().split() == ["blue", "green", "red"]
    assert "| int8 |" in (exported_dir / EXPORT_DIR / "export_report.md").read_text()


def test_int8_takes_raw_pixels_and_gives_a_dequantizable_output(exported_dir):
    classifier = Classifier(exported_dir / EXPORT_DIR / "model_int8.tflite")
    details = classifier.interpreter.get_input_details()[0]
    assert details["dtype"] == np.uint8 and details["quantization"] == (1.0, 0)
    scale, _ = classifier.interpreter.get_output_details()[0]["quantization"]
    assert classifier.output_dtype == np.uint8 and scale > 0
    split = read_split(exported_dir)
    right = 0
    for sample in split.test:
        pixels = load_resized(f"{split.root}/{sample.path}", classifier.input_size)
        assert np.array_equal(classifier.preprocess(pixels)[0], pixels)  # decoder pixels go in as they are
        scores = classifier.classify(pixels)
        assert abs(float(scores.sum()) - 1.0) < 0.05  # a dequantized softmax
        right += int(scores.argmax()) == sample.label
    assert right >= 0.9 * len(split.test)


def test_float_variants_keep_float_input_and_shrink_as_promised(exported_dir):
    report = {row["variant"]: row for row in _report(exported_dir)["variants"]}
    for variant in ("float32", "float16", "dynamic"):
        classifier = Classifier(exported_dir / EXPORT_DIR / f"model_{variant}.tflite")
        assert classifier.input_dtype == np.float32 and classifier.output_dtype == np.float32
    assert report["float32"]["max_probability_diff"] < 1e-4 and report["float32"]["agreement"] == 1.0
    assert report["float16"]["size_bytes"] < 0.6 * report["float32"]["size_bytes"]
    assert report["int8"]["size_bytes"] < 0.5 * report["float32"]["size_bytes"]


def test_int8_calibrates_on_training_images_only(exported_dir):
    report = _report(exported_dir)
    split = read_split(exported_dir)
    calibration = report["calibration"]
    assert calibration["images"] == len(split.train) < calibration["requested"] == 300
    assert "Only" in calibration["warning"]  # fewer than asked for is a warning, not a failure
    assert set(calibration["per_class"]) == {"blue", "green", "red"}
    assert report["variants"][-1]["int8_weights"]["weights"] in ("per-channel", "per-tensor")


def test_default_is_int8_only_and_the_command_says_which_to_ship(model_copy):
    result = runner.invoke(app, ["export", str(model_copy)])
    assert result.exit_code == 0, result.output
    assert "int8:" in result.output and "Ship: int8." in result.output
    assert sorted(p.name for p in (model_copy / EXPORT_DIR).glob("*.tflite")) == ["model_int8.tflite"]


def test_a_broken_calibration_set_fails_int8_over_budget_with_exit_3(model_copy, colour_data, tmp_path):
    """Calibrating on black images gives int8 activation ranges no real image fits: the export
    still writes the model, marks it failed, says by how much, and exits 3."""
    data = shutil.copytree(colour_data, tmp_path / "data")
    split = json.loads((model_copy / "split.json").read_text())
    split["root"] = str(data)
    (model_copy / "split.json").write_text(json.dumps(split))
    for path, _ in split["train"] + split["val"]:
        write_rgb(data / path, np.zeros((32, 32, 3), np.uint8))

    result = runner.invoke(app, ["export", str(model_copy), "--quantize", "int8", "--quantize", "float32"])
    assert result.exit_code == 3, result.output
    assert "Failed: int8:" in result.output and "over the budget of 1: the whole interval is above it" in result.output
    report = _report(model_copy)
    assert report["failed"] == ["int8"] and report["ship"] == "float32"
    assert (model_copy / EXPORT_DIR / "model_int8.tflite").exists()
    assert next(r for r in report["variants"] if r["variant"] == "int8")["drop_points"] > 1.0

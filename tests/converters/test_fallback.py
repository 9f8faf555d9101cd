"""`edgecell export --fallback`: an int8 model over budget replaced by the cheapest one within it."""

import json
import shutil

import numpy as np
import pytest
from support import outlier_model
from support.venvs import run_in_214
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.converters.export_run import EXPORT_DIR
from edgecell.core.split import read_split
from edgecell.device.input.image import load_resized
from edgecell.device.model import edgecell_metadata
from edgecell.device.model.classifier import Classifier

pytestmark = pytest.mark.tf

runner = CliRunner()


@pytest.fixture(scope="module")
def outlier_dir(trained_dir, tmp_path_factory):
    """A model folder whose Keras model int8 ruins (tests/support/outlier_model.py), as `edgecell train` lays it out."""
    return outlier_model.model_folder(trained_dir, tmp_path_factory.mktemp("outlier") / "model")


@pytest.fixture(scope="module")
def searched(outlier_dir):
    """(output of plain `export -q float32 -q int8 --max-drop 0.5`, its exit code, report; the same with --fallback)."""
    command = ["export", str(outlier_dir), "--quantize", "float32", "--quantize", "int8", "--max-drop", "0.5"]
    plain = runner.invoke(app, command)
    plain_report = _report(outlier_dir)
    fixed = runner.invoke(app, command + ["--fallback"])
    return plain, plain_report, fixed, _report(outlier_dir)


def _report(model_dir):
    return json.loads((model_dir / EXPORT_DIR / "export_report.json").read_text())


def _rows(report):
    return {row["variant"]: row for row in report["variants"]}


def test_plain_int8_of_the_outlier_model_is_over_budget(searched):
    plain, report, _, _ = searched
    assert plain.exit_code == 3, plain.output
    assert report["keras"]["accuracy"] == 1.0
    assert _rows(report)["int8"]["drop_points"] > 30  # one class for everything
    assert "Failed: int8:" in plain.output and "Fallback" not in plain.output


def test_fallback_keeps_a_few_layers_in_float_and_comes_within_budget(searched, outlier_dir):
    _, plain_report, fixed, report = searched
    assert fixed.exit_code == 0, fixed.output
    for progress in (
        "Fallback: int8 is 66.67 points below Keras",
        "Fallback: ranked ",
        "Fallback: int8, 2 layers in float:",
        "Fallback: int16x8:",
        "Fallback: chose int8, 2 layers in float",
    ):
        assert progress in fixed.output
    rows = _rows(report)
    assert rows["int8"]["passed"] and rows["int8"]["drop_points"] <= 0.5
    assert rows["int8"]["size_bytes"] < 0.3 * rows["float32"]["size_bytes"]  # still well below float32
    search = report["fallback"]
    assert search["needed"] and search["chosen"] == rows["int8"]["fallback"] == "int8, 2 layers in float"
    assert search["layers"][0]["layer"].endswith("features_1/convolution1")  # the outlier layer ranks worst
    names = [c["name"] for c in search["candidates"]]
    assert names == ["int8", "int8, 2 layers in float", "int16x8"]
    for candidate in search["candidates"]:  # each one was loaded and run by the device runtime
        assert candidate["loads"] and candidate["latency_ms_p50"] > 0 and "accuracy" in candidate
        assert "loads" in candidate["tflite_runtime_2_14"]
    chosen = search["candidates"][1]
    assert 1 <= len(chosen["float_layers"]) <= 3
    assert chosen["size_bytes"] < search["candidates"][2]["size_bytes"]  # why int8 beats int16x8 here
    assert "Chosen: **int8, 2 layers in float**" in (outlier_dir / EXPORT_DIR / "export_report.md").read_text()

    path = outlier_dir / EXPORT_DIR / "model_int8.tflite"
    meta = edgecell_metadata.read(path.read_bytes())
    assert meta["quantization"]["float_layers"] == chosen["float_layers"]
    assert [c["name"] for c in meta["quantization"]["candidates"]] == names
    classifier = Classifier(path)
    assert classifier.input_dtype == np.uint8  # raw pixels go in as with plain int8
    split = read_split(outlier_dir)
    for sample in split.test:
        assert classifier.classify(load_resized(f"{split.root}/{sample.path}", (32, 32))).argmax() == sample.label


def test_the_chosen_model_runs_in_tflite_runtime_214(searched, outlier_dir, tflite_runtime_python):
    split = read_split(outlier_dir)
    path = outlier_dir / EXPORT_DIR / "model_int8.tflite"
    found = run_in_214(tflite_runtime_python, [path], [f"{split.root}/{s.path}" for s in split.test])
    assert found[str(path)]["loads"]
    assert list(np.array(found[str(path)]["scores"]).argmax(axis=1)) == [s.label for s in split.test]


def test_too_few_float_layers_allowed_leaves_int16x8(outlier_dir, tmp_path):
    outlier_dir = shutil.copytree(outlier_dir, tmp_path / "model")  # the module's export stays as it was
    result = runner.invoke(
        app, ["export", str(outlier_dir), "--max-drop", "0.5", "--fallback", "--fallback-layers", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "layer search stopped: the limit of 1 layers in float was reached" in result.output
    search = _report(outlier_dir)["fallback"]
    assert [c["name"] for c in search["candidates"]] == ["int8", "int16x8"] and search["chosen"] == "int16x8"
    # named by what it holds: the choice is model_int16x8.tflite and its row says int16x8; the plain
    # int8 model stays model_int8.tflite
    path = outlier_dir / EXPORT_DIR / "model_int16x8.tflite"
    assert edgecell_metadata.read(path.read_bytes())["variant"] == "int16x8"
    assert Classifier(path).input_dtype == np.float32
    assert [row["variant"] for row in _report(outlier_dir)["variants"]] == ["int16x8"]
    plain = outlier_dir / EXPORT_DIR / "model_int8.tflite"
    assert edgecell_metadata.read(plain.read_bytes())["variant"] == "int8"


def test_the_search_is_bounded_in_time(outlier_dir, tmp_path):
    outlier_dir = shutil.copytree(outlier_dir, tmp_path / "model")
    result = runner.invoke(
        app, ["export", str(outlier_dir), "--max-drop", "0.5", "--fallback", "--fallback-seconds", "0"]
    )
    assert result.exit_code == 3, result.output
    assert "the time bound of 0 s was reached" in result.output and "int16x8 not tried" in result.output
    search = _report(outlier_dir)["fallback"]
    assert search["chosen"] is None and [c["name"] for c in search["candidates"]] == ["int8"]


def test_fallback_on_an_ordinary_model_changes_nothing_and_says_so(model_copy):
    result = runner.invoke(app, ["export", str(model_copy), "--fallback"])
    assert result.exit_code == 0, result.output
    assert "--fallback changes nothing" in result.output and "ranked" not in result.output
    report = _report(model_copy)
    assert report["fallback"]["needed"] is False and report["fallback"]["chosen"] == "int8"
    assert "quantization" not in edgecell_metadata.read((model_copy / EXPORT_DIR / "model_int8.tflite").read_bytes())


def test_fallback_without_int8_is_refused(model_copy):
    result = runner.invoke(app, ["export", str(model_copy), "--quantize", "float32", "--fallback"])
    assert result.exit_code == 2
    assert "--fallback searches for an int8 model within budget; add --quantize int8." in result.output

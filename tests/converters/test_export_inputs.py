"""Bad input to `edgecell export`: one sentence, exit 2, nothing written."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.converters.export_run import EXPORT_DIR

runner = CliRunner()


def _export(*args):
    return runner.invoke(app, ["export", *map(str, args)])


def _refused(result, model_dir, *words):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output
    assert not (model_dir / EXPORT_DIR).exists()


def test_a_folder_that_is_not_a_trained_model(tmp_path):
    (tmp_path / "labels.txt").write_text("a\nb\n")
    _refused(_export(tmp_path), tmp_path, "not a trained model folder", "model.keras")


@pytest.mark.tf
def test_labels_that_do_not_match_the_outputs(model_copy):
    (model_copy / "labels.txt").write_text("blue\ngreen\nred\npurple\n")
    _refused(_export(model_copy), model_copy, "3 outputs", "4 labels")


@pytest.mark.tf
def test_an_empty_held_out_set(model_copy):
    split = json.loads((model_copy / "split.json").read_text())
    split["test"] = []
    (model_copy / "split.json").write_text(json.dumps(split))
    _refused(_export(model_copy, "--all"), model_copy, "no held-out images", "--data")


@pytest.mark.tf
def test_a_held_out_folder_with_other_classes(model_copy, tmp_path):
    from support.imagegen import colour_dataset

    other = colour_dataset(tmp_path / "other", per_class=2, colours={"cyan": (0, 200, 200), "grey": (90, 90, 90)})
    _refused(_export(model_copy, "--data", other), model_copy, "cyan", "not the model's classes")


@pytest.mark.tf
def test_an_unknown_quantize_value(model_copy):
    _refused(_export(model_copy, "--quantize", "int4"), model_copy, "int4", "float16")


@pytest.mark.tf
def test_a_negative_budget(model_copy):
    _refused(_export(model_copy, "--max-drop", "-1"), model_copy, "--max-drop -1")


@pytest.mark.parametrize("command", ["export", "info"])
def test_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


_BOARD_IMPORT = """
import sys
for name in ("tensorflow", "ai_edge_litert", "flatbuffers"):
    sys.modules[name] = None  # a 32-bit Pi with tflite-runtime has none of these
from edgecell.cli.main import app
try:
    app(["export", "--help"])
except SystemExit as stop:
    assert stop.code == 0, stop.code
"""


def test_the_command_line_loads_without_tensorflow_or_ai_edge_litert():
    done = subprocess.run([sys.executable, "-c", _BOARD_IMPORT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--calib-samples" in done.stdout

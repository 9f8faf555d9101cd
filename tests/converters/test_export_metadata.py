"""The metadata export writes, read back on the device side without TensorFlow; `edgecell info`."""

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.converters import metadata_writer as writer
from edgecell.converters.export_run import EXPORT_DIR
from edgecell.device.input.image import load_rgb
from edgecell.device.model import edgecell_metadata
from edgecell.device.model.classifier import Classifier
from edgecell.models import DEMO_IMAGES, DEMO_MODEL

# Runs in a fresh interpreter: reads every exported model the way a board does, then proves
# TensorFlow never got imported.
_READ = """
import json, sys
from edgecell.device.model.edgecell_metadata import read
from edgecell.device.model.classifier import Classifier
from edgecell.cli.main import app
result = {}
for path in sys.argv[1:]:
    classifier = Classifier(path)
    result[path] = {"meta": read(open(path, "rb").read()), "labels": classifier.labels,
                    "size": list(classifier.input_size)}
try:
    app(["info", sys.argv[-1]], standalone_mode=False)
except SystemExit:
    pass
result["tensorflow_imported"] = "tensorflow" in sys.modules
print(json.dumps(result))
"""


def test_metadata_round_trip_on_the_shipped_model(tmp_path):
    content = DEMO_MODEL.read_bytes()
    meta = writer.describe(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
        "int8",
        (32, 32),
        "edge",
        0.5,
        7,
        "somewhere/ünïcode",
    )
    changed = writer.embed(content, meta)
    assert edgecell_metadata.read(changed) == meta
    assert list(edgecell_metadata.read_entries(changed)).count("edgecell") == 1  # replaced, not added twice
    path = tmp_path / "relabelled.tflite"
    path.write_bytes(changed)
    before, after = Classifier(DEMO_MODEL), Classifier(path)
    assert after.labels[3] == "three"
    for image in sorted(DEMO_IMAGES.glob("*.png")):
        assert np.array_equal(before.classify(load_rgb(image)), after.classify(load_rgb(image)))


@pytest.mark.tf
def test_exported_metadata_is_read_without_tensorflow(exported_dir):
    models = [exported_dir / EXPORT_DIR / f"model_{v}.tflite" for v in ("float32", "float16", "dynamic", "int8")]
    done = subprocess.run([sys.executable, "-c", _READ, *map(str, models)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    found = json.loads(lines[-1])
    assert found.pop("tensorflow_imported") is False
    report = json.loads((exported_dir / EXPORT_DIR / "export_report.json").read_text())
    for path in models:
        meta = found[str(path)]["meta"]
        assert meta["format"] == "edgecell-classifier/1" and meta["variant"] == path.stem.split("_")[1]
        assert meta["labels"] == found[str(path)]["labels"] == ["blue", "green", "red"]
        assert meta["input"] == {
            "height": 32,
            "width": 32,
            "color": "RGB",
            "pixel_range": [0, 255],
            "mean": 0.0,
            "std": 1.0,
            "normalization_in_model": "x / 255",
            "decode": "jpeg-reduced-v1",
        }
        assert meta["source"]["arch"] == "edge" and meta["source"]["test_images"] == report["test_images"]
        # the model folder's name, not the training machine's absolute path
        assert meta["source"]["model_dir"] == exported_dir.resolve().name
        assert abs(meta["source"]["keras_accuracy"] - report["keras"]["accuracy"]) < 1e-6
        assert found[str(path)]["size"] == [32, 32]
    info = "\n".join(lines[:-1])
    assert "input  serving_default_pixels:0: uint8 [1, 32, 32, 3], scale 1 zero point 0" in info
    assert "labels (3): blue, green, red" in info and "QUANTIZE v" in info


def test_info_describes_the_shipped_model_as_json():
    result = CliRunner().invoke(app, ["info", str(DEMO_MODEL), "--json", "-"])
    assert result.exit_code == 0, result.output
    described = json.loads(result.output[result.output.index("{") :])
    assert described["inputs"][0]["dtype"] == "uint8" and described["inputs"][0]["shape"] == [1, 32, 32, 3]
    assert described["inputs"][0]["quantization"] == {"scale": 1.0, "zero_point": 0}
    assert described["outputs"][0]["shape"] == [1, 10] and described["outputs"][0]["quantization"]["scale"] > 0
    assert described["metadata"]["labels"] == [str(d) for d in range(10)]
    assert {"name": "CONV_2D", "version": 3} in described["ops"]
    assert described["tflite-runtime-2.14"]["loads"] is True
    assert described["size_bytes"] == DEMO_MODEL.stat().st_size


def test_info_on_a_file_that_is_not_a_model(tmp_path):
    path = tmp_path / "notes.tflite"
    path.write_text("not a model")
    result = CliRunner().invoke(app, ["info", str(path)])
    assert result.exit_code == 2 and "is not usable: it is not a TFLite flatbuffer" in result.output

"""Standard metadata written by a maintained writer that is not edgecell's, read back by edgecell:
tflite-support 0.4.4's `metadata_writers.image_classifier`, in a venv of its own (it pins
protobuf < 4 and numpy < 2, beside TensorFlow's newer ones; built once under
~/.cache/edgecell-tests/)."""

import json
import subprocess
from pathlib import Path

import pytest
from support.paths import PEER
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.device.model.classifier import Classifier

TFLITE_SUPPORT = ("tflite-support==0.4.4", "numpy<2")

pytestmark = pytest.mark.slow

_WRITE = """
import sys
from tflite_support.metadata_writers import image_classifier, writer_utils
model, labels, mean, std, out = sys.argv[1:]
writer = image_classifier.MetadataWriter.create_for_inference(
    writer_utils.load_file(model), [float(mean)], [float(std)], [labels])
writer_utils.save_file(writer.populate(), out)
"""


@pytest.fixture(scope="module")
def tflite_support_python():
    from support.venvs import base_python, runtime_venv

    python = base_python()
    if python is None:
        pytest.skip("tflite-support 0.4.4 has wheels for Python 3.8 to 3.11; none is installed here")
    return runtime_venv("tflite-support-0.4.4", TFLITE_SUPPORT, python)


def write_metadata(python, model, labels, mean, std, out: Path) -> Path:
    done = subprocess.run(
        [str(python), "-c", _WRITE, str(model), str(labels), str(mean), str(std), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.mark.skipif(not PEER.exists(), reason=f"the shared peer models are not at {PEER}")
def test_labels_written_by_tflite_support_name_the_classes(tflite_support_python, tmp_path):
    labels = tmp_path / "shouted.txt"  # other labels than the model's own, to see these were read
    labels.write_text((PEER / "imagenet_labels.txt").read_text().upper())
    model = write_metadata(
        tflite_support_python, PEER / "mobilenet_v1_0.25_128_quant.tflite", labels, 127.5, 127.5, tmp_path / "m.tflite"
    )
    result = CliRunner().invoke(app, ["infer", str(PEER / "bird.bmp"), "--model", str(model)])
    assert result.exit_code == 0, result.output
    assert "  CHICKADEE 0." in result.output
    assert Classifier(model).labels_source == "standard metadata: shouted.txt, the file without locale"


@pytest.mark.tf
def test_normalisation_written_by_tflite_support_is_used_for_a_float_input(
    tflite_support_python, foreign_tflite, colour_data, tmp_path
):
    """The foreign float model takes (x - 127.5) / 127.5; with tflite-support's NormalizationOptions
    saying so (and mean 0 / std 1 saying otherwise) edgecell follows the metadata, no flags."""
    images = [str(p) for name in ("blue", "green", "red") for p in sorted((colour_data / name).glob("*.png"))[:2]]
    labels = {}
    for mean, std in ((127.5, 127.5), (0.0, 1.0)):
        out = tmp_path / f"{mean}.tflite"
        model = write_metadata(tflite_support_python, foreign_tflite["float"], foreign_tflite["labels"], mean, std, out)
        classifier = Classifier(model)
        assert classifier.normalisation.source == "standard metadata (NormalizationOptions)"
        assert classifier.normalisation.notice is None
        out = tmp_path / f"{mean}.jsonl"
        result = CliRunner().invoke(app, ["infer", *images, "--model", str(model), "-o", str(out), "-q"])
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        labels[mean] = [(row["label"], row["score"]) for row in rows]
    assert [label for label, _ in labels[127.5]] == [Path(p).parent.name for p in images]
    # the metadata's values really reach the model: a solid colour may keep its label unnormalised,
    # but not its scores
    assert [score for _, score in labels[0.0]] != [score for _, score in labels[127.5]]

"""The decode rule for a model that records none: Coral's MobileNet (made elsewhere, no edgecell
metadata) decodes a large JPEG at its scale, the summary says why, and the answer is the full decode's."""

import json
import subprocess

import cv2
import pytest
from support.cli import edgecell_command
from support.paths import PEER

from edgecell.device.input import decode_scale, image
from edgecell.device.model.classifier import Classifier

MODEL = PEER / "mobilenet_v1_0.25_128_quant.tflite"

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"the shared peer models are not at {PEER}")


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """pets.jpg enlarged to 1600x1200, as a JPEG: at least twice the model's 128x128, so it may reduce."""
    rgb = cv2.resize(image.load_rgb(PEER / "pets.jpg"), (1600, 1200), interpolation=cv2.INTER_CUBIC)
    path = tmp_path_factory.mktemp("photo") / "pets_large.jpg"
    cv2.imwrite(str(path), rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


def test_a_model_that_records_no_rule_gets_the_rule_for_any_model():
    classifier = Classifier(MODEL)
    assert classifier.decode == decode_scale.ANY_MODEL == decode_scale.JPEG_REDUCED
    assert classifier.decode_from.startswith("not recorded in the model, so the rule for any model")
    assert classifier.decode_fit == (128, 128)
    full = Classifier(MODEL, full_decode=True)
    assert (full.decode, full.decode_from, full.decode_fit) == (decode_scale.FULL, "--full-decode", None)


def test_the_board_says_which_rule_ran_and_answers_as_the_full_decode_does(photo, tmp_path):
    runs = {}
    for name, extra in (("scaled", []), ("full", ["--full-decode"])):
        out = tmp_path / f"{name}.jsonl"
        done = subprocess.run(
            edgecell_command("infer", photo, "--model", MODEL, "--output", out, *extra),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        runs[name] = (done.stdout, json.loads(out.read_text().splitlines()[0]))
    scaled, full = runs["scaled"], runs["full"]
    assert "decode: jpeg-reduced-v1 (not recorded in the model, so the rule for any model" in scaled[0]
    assert "decode: full (--full-decode)" in full[0]
    assert scaled[1]["label"] == full[1]["label"] and "Saluki" in scaled[1]["label"]  # as the README there says

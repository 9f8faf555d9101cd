"""The proof that edgecell's exports carry standard metadata a real client reads: MediaPipe Tasks'
ImageClassifier (not edgecell's code) runs the int8 and float32 exports and names the same top-1
classes as `edgecell infer` on the held-out images.

MediaPipe runs in a venv of its own (tests/support/venvs.py): it brings opencv-contrib-python, whose `cv2`
would replace the opencv-python-headless that edgecell installs and tests against.
"""

import json
import platform
import subprocess

import pytest
from support.venvs import runtime_venv
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.converters.export_run import EXPORT_DIR
from edgecell.device.input.classfolder import held_out

pytestmark = [pytest.mark.tf, pytest.mark.slow]

MEDIAPIPE = ("mediapipe>=1.2,<1.3",)
CLASSIFY = """
import json, sys
import mediapipe as mp
from mediapipe.tasks.python import BaseOptions, vision

model, paths = sys.argv[1], sys.argv[2:]
options = vision.ImageClassifierOptions(base_options=BaseOptions(model_asset_path=model), max_results=1)
with vision.ImageClassifier.create_from_options(options) as classifier:
    found = {p: classifier.classify(mp.Image.create_from_file(p)).classifications[0].categories[0] for p in paths}
print(json.dumps({p: c.category_name for p, c in found.items()}))
"""


@pytest.fixture(scope="module")
def mediapipe_python():
    if platform.machine() not in ("x86_64", "aarch64"):
        pytest.skip(f"mediapipe has no wheel for {platform.machine()}")
    return runtime_venv("mediapipe-1.2", MEDIAPIPE)


@pytest.mark.parametrize("variant", ["int8", "float32"])
def test_mediapipe_names_the_same_top1_as_edgecell_infer(exported_dir, tmp_path, variant, mediapipe_python):
    model = exported_dir / EXPORT_DIR / f"model_{variant}.tflite"
    paths = [str(p) for p in held_out(exported_dir)[0]]
    out = tmp_path / "ours.jsonl"
    result = CliRunner().invoke(app, ["infer", *paths, "--model", str(model), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    ours = {row["source"]: row["label"] for row in map(json.loads, out.read_text().splitlines())}

    done = subprocess.run(
        [str(mediapipe_python), "-c", CLASSIFY, str(model), *paths], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(theirs.values())  # named, not None
    assert theirs == ours

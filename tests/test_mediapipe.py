"""The proof that edgecell's exports carry standard metadata a real client reads: MediaPipe Tasks'
ImageClassifier (not edgecell's code) runs the int8 and float32 exports and names the same top-1
classes as `edgecell infer` on the held-out images."""

import json

import pytest
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.converters.export import EXPORT_DIR
from edgecell.device.classfolder import held_out

mediapipe = pytest.importorskip(
    "mediapipe.tasks.python.vision", reason="mediapipe is not installed (the test extra has it on x86_64, aarch64)"
)
pytestmark = [pytest.mark.tf, pytest.mark.slow]


@pytest.mark.parametrize("variant", ["int8", "float32"])
def test_mediapipe_names_the_same_top1_as_edgecell_infer(exported_dir, tmp_path, variant):
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    model = exported_dir / EXPORT_DIR / f"model_{variant}.tflite"
    paths = held_out(exported_dir)[0]
    out = tmp_path / "ours.jsonl"
    result = CliRunner().invoke(app, ["infer", *map(str, paths), "--model", str(model), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    ours = {row["source"]: row["label"] for row in map(json.loads, out.read_text().splitlines())}

    options = vision.ImageClassifierOptions(base_options=BaseOptions(model_asset_path=str(model)), max_results=1)
    with vision.ImageClassifier.create_from_options(options) as classifier:
        theirs = {
            str(path): classifier.classify(mp.Image.create_from_file(str(path))).classifications[0].categories[0]
            for path in paths
        }
    assert all(category.category_name for category in theirs.values())  # named, not None
    assert {path: category.category_name for path, category in theirs.items()} == ours

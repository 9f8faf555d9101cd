"""The unknown threshold from export to the board: export on the real tiny colour data records it in
both metadata blocks, and the real CLI's `infer --unknown auto` answers `unknown` for a colour the
model never saw while answering the colours it knows."""

import json
import subprocess

import pytest
from support.cli import edgecell_command
from support.imagegen import colour_dataset

from edgecell.converters.context import Settings
from edgecell.converters.convert import Variant
from edgecell.converters.describe import describe, text
from edgecell.device.model import edgecell_metadata, standard_metadata

pytestmark = [pytest.mark.tf, pytest.mark.slow]  # an int8 export: about 10 s

# A colour none of the classes is (blue, green, red) that the tiny model, trained afresh each
# session, scores low every time: export is given some of its images as none of the classes, the
# board others of it (the guarantee's own setting). Colours it sometimes maps to red at 0.99
# (navy, purple, yellow) no score threshold could tell apart, and export would say so.
UNSEEN = {"cyan": (40, 200, 210)}


@pytest.fixture(scope="module")
def exported(trained_dir, tmp_path_factory):
    import shutil

    from edgecell.converters.export_run import export

    root = tmp_path_factory.mktemp("unknown")
    model_dir = shutil.copytree(trained_dir, root / "model")
    more = colour_dataset(root / "more", per_class=30, seed=11)  # images the model was not trained on
    others = colour_dataset(root / "others", per_class=60, seed=12, colours=UNSEEN)
    settings = Settings(variants=(Variant.int8,), check_data=more, check_unknown=others)
    report = export(model_dir, settings, log=lambda *_: None)
    return model_dir / "export" / "model_int8.tflite", report


def test_export_records_the_threshold_in_both_metadata_blocks(exported):
    model, report = exported
    content = model.read_bytes()
    recorded = edgecell_metadata.read(content)["unknown"]
    assert recorded["threshold"] is not None and 0.0 < recorded["threshold"] < 1.0, recorded
    assert recorded["images"] == 12 + 90 + 60 and recorded["unknown_images"] == 60
    assert (recorded["target"], recorded["confidence"]) == (0.95, 0.95)
    assert recorded["method"].startswith("Learn then Test") and recorded["accuracy_bound"] >= 0.95
    # the standard block: the output's ScoreThresholdingOptions, as MediaPipe's ImageClassifier reads it
    assert standard_metadata.read(content).score_threshold == recorded["threshold"]
    assert report["variants"][0]["unknown"] == recorded
    assert "Unknown (the top-1 score" in (model.parent / "export_report.md").read_text()
    drift_reference = edgecell_metadata.read(content)["reference"]  # what drift is judged against
    assert drift_reference["images"] == 102 and sum(drift_reference["score_counts"]) == 102
    assert len(drift_reference["class_counts"]) == 3 and sum(drift_reference["class_counts"]) == 102
    shown = text(describe(model))  # edgecell info
    assert f"unknown under a top-1 score of {recorded['threshold']:g}: " in shown
    assert f"score threshold {recorded['threshold']:g} (ScoreThresholdingOptions" in shown


def test_infer_unknown_auto_answers_unknown_for_a_class_it_never_saw(exported, tmp_path):
    model, _ = exported
    colour_dataset(tmp_path / "stream" / "known", per_class=10, seed=21)
    colour_dataset(tmp_path / "stream" / "never", per_class=30, seed=22, colours=UNSEEN)
    results = tmp_path / "results.jsonl"
    done = subprocess.run(
        edgecell_command(
            "infer", tmp_path / "stream", "-m", model, "--unknown", "auto", "--output", results, "--drift-window", 20
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    rows = [row for row in lines if row["status"] == "ok"]  # drift events are rows too
    threshold = edgecell_metadata.read(model.read_bytes())["unknown"]["threshold"]
    assert all(row["unknown_threshold"] == threshold for row in rows)
    never = [row for row in rows if "/never/" in row["source"]]
    seen = [row for row in rows if "/known/" in row["source"]]
    assert sum(row["label"] == "unknown" for row in never) >= 0.8 * len(never), [r["score"] for r in never]
    answered = [row for row in seen if row["label"] != "unknown"]
    assert len(answered) >= 0.5 * len(seen) and all(f"/{row['label']}/" in row["source"] for row in answered)
    unknowns = sum(row["label"] == "unknown" for row in rows)
    assert f"{unknowns} of {len(rows)} answered unknown" in done.stdout
    assert "from the model's edgecell metadata (chosen at export)" in done.stderr
    assert "drift: PSI " in done.stdout and "in the last 20 frames against 102 at export" in done.stdout


def test_infer_unknown_auto_without_a_recorded_threshold_is_one_sentence(exported_dir, tmp_path):
    model = exported_dir / "export" / "model_int8.tflite"  # checked on 12 images: too few to choose one
    image = colour_dataset(tmp_path / "one", per_class=1)
    done = subprocess.run(
        edgecell_command("infer", image, "--model", model, "--unknown", "auto"), capture_output=True, text=True
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "records no unknown threshold (12 held-out images cannot show 95% accuracy" in done.stderr
    assert "it takes 59" in done.stderr and "--unknown 0.7" in done.stderr

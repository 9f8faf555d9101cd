"""`edgecell infer` as a newcomer meets it, through the real command in its own process: the model
is always named (no silent demo model), a model file given as a SOURCE or a missing SOURCE is
one sentence and exit 2, and a class folder gets its accuracy, balanced accuracy, per-class
recall and confusion matrix, with every written file named."""

import json
import shutil
import subprocess

import cv2
import numpy as np
import pytest
from support.cli import edgecell_command

from edgecell.models import DEMO_IMAGES, DEMO_MODEL

pytestmark = pytest.mark.skipif(not DEMO_MODEL.exists(), reason="the demo model is not in models/demo")


def edgecell(*args, cwd=None):
    return subprocess.run(edgecell_command(*args), capture_output=True, text=True, timeout=120, cwd=cwd)


def one_sentence(run, *fragments):
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stdout == "" and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    for fragment in fragments:
        assert fragment in run.stderr, run.stderr


def test_a_model_file_given_as_source_asks_did_you_mean_model(tmp_path):
    model = shutil.copy(DEMO_MODEL, tmp_path / "model_int8.tflite")
    run = edgecell("infer", model, DEMO_IMAGES / "3_0045.png")
    one_sentence(run, f"SOURCE {model} is a model file", f"did you mean --model {model}?")
    keras = tmp_path / "model.keras"
    keras.write_bytes(b"PK")
    one_sentence(edgecell("infer", keras, "--model", "demo"), "did you mean --model")


def test_without_model_the_run_is_a_usage_error_naming_model():
    one_sentence(edgecell("infer", DEMO_IMAGES, "-q"), "No model given", "--model MODEL.tflite", "--model demo")
    one_sentence(edgecell("serve", "--serve", "127.0.0.1:0"), "No model given")


def test_the_model_is_named_at_the_start_and_in_the_summary(tmp_path):
    run = edgecell("infer", DEMO_IMAGES, "--model", "demo", "-q")
    assert run.returncode == 0, run.stderr
    named = f"model {DEMO_MODEL} (labels from edgecell metadata)"
    assert run.stderr.splitlines()[0] == named
    assert run.stdout.splitlines()[1] == named  # right under the count line


def test_a_missing_source_is_one_sentence_and_exit_2_as_an_empty_folder_is(tmp_path):
    one_sentence(edgecell("infer", tmp_path / "no-such-folder", "--model", "demo"), "no-such-folder does not exist")
    (tmp_path / "empty").mkdir()
    one_sentence(edgecell("infer", tmp_path / "empty", "--model", "demo"), "holds no image files")
    glob = edgecell("infer", tmp_path / "none*.png", "--model", "demo", "-q")  # a pattern stays a failed row
    assert glob.returncode == 1 and "1 failed" in glob.stdout


def labelled_folder(root):
    """Classes 3 and 7 of the demo digits: one right and one wrong in each (a 7 filed as 3, a 1 as 7)."""
    for folder, names in {"3": ["3_0045.png", "7_0118.png"], "7": ["7_0118.png", "1_0172.png"]}.items():
        (root / folder).mkdir(parents=True)
        for name in names:
            shutil.copy(DEMO_IMAGES / name, root / folder / name)
    shutil.copy(DEMO_IMAGES / "5_0035.png", root / "loose.png")  # no class: classified, not counted
    return root


def test_a_class_folder_reports_accuracy_balanced_accuracy_recall_and_confusion(tmp_path):
    folder = labelled_folder(tmp_path / "test")
    results, summary = tmp_path / "results.csv", tmp_path / "run.json"
    run = edgecell("infer", folder, "--model", "demo", "-q", "--output", results, "--json", summary)
    assert run.returncode == 0, run.stderr
    report = json.loads(summary.read_text())["labelled"]
    assert report["accuracy"]["images"] == 4 and report["accuracy"]["correct"] == 2
    assert 0.0 < report["accuracy"]["low"] < 0.5 < report["accuracy"]["high"] < 1.0
    assert report["majority_class_rate"] == 0.5 and report["balanced_accuracy"] == 0.5
    assert report["per_class_recall"] == {"3": 0.5, "7": 0.5}
    assert report["confusion_matrix"] == {
        "rows": ["3", "7"],
        "columns": ["3", "7", "other"],
        "counts": [[1, 1, 0], [0, 1, 1]],
    }
    assert report["unlabelled_images"] == 1
    text = run.stdout
    assert f"labelled folder {folder}: accuracy 50.00% (2/4; 95% interval" in text
    assert "majority-class rate 50.00%, balanced accuracy 50.00%" in text
    assert "recall  3 50.00%, 7 50.00%" in text
    assert "1 image(s) outside the class subfolders are not in the accuracy" in text
    rows = [line.split() for line in text.splitlines() if line.startswith("  3 ") or line.startswith("  7 ")]
    assert rows == [["3", "1", "1", "0"], ["7", "0", "1", "1"]]
    assert f"results written to {results}" in text and f"summary written to {summary}" in text


def test_a_folder_that_is_not_labelled_gets_no_accuracy(tmp_path):
    run = edgecell("infer", DEMO_IMAGES, "--model", "demo", "-q", "--json", tmp_path / "run.json")
    assert run.returncode == 0 and "labelled folder" not in run.stdout
    assert "labelled" not in json.loads((tmp_path / "run.json").read_text())


def test_confusion_draws_the_matrix_in_a_png_beside_the_results(tmp_path):
    folder, png = labelled_folder(tmp_path / "test"), tmp_path / "confusion.png"
    run = edgecell("infer", folder, "--model", "demo", "-q", "--output", tmp_path / "r.csv", "--confusion", png)
    assert run.returncode == 0, run.stderr
    assert f"confusion matrix drawn in {png}" in run.stdout
    image = cv2.imread(str(png))
    assert image is not None and image.shape[0] == 70 + 2 * 44 + 30  # a title, two class rows, a margin
    # every counted cell holds half its row ([[1, 1, 0], [0, 1, 1]]): four cells in the half shade, none fuller
    half = np.array([255, 255, 255]) - 0.5 * (np.array([255, 255, 255]) - np.array([180, 110, 40]))
    shaded = np.all(image == half.astype(np.uint8), axis=2).sum()
    assert 4 * 30 * 30 < shaded < 4 * 44 * 44
    assert not np.all(image == np.array([180, 110, 40], np.uint8), axis=2).any()


def test_confusion_needs_a_labelled_folder_and_a_png_name(tmp_path):
    unlabelled = edgecell("infer", DEMO_IMAGES, "--model", "demo", "-q", "--confusion", tmp_path / "c.png")
    one_sentence(unlabelled, "--confusion", "subfolders (two or more) are named as the model's labels")
    assert not (tmp_path / "c.png").exists()
    jpeg = edgecell("infer", labelled_folder(tmp_path / "t"), "--model", "demo", "--confusion", tmp_path / "c.jpg")
    one_sentence(jpeg, "give a file name ending in .png")
    nowhere = edgecell("infer", tmp_path / "t", "--model", "demo", "--confusion", tmp_path / "no" / "c.png")
    one_sentence(nowhere, "does not exist; create it first")

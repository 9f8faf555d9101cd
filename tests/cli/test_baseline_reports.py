"""`edgecell bench --data` and export's check beside a constant answer: the majority-class rate,
balanced accuracy, each class's recall and the warning sentence, and --strict, through the real CLI."""

import json
import subprocess

import pytest
from support.cli import edgecell_command
from support.imagegen import noise_dataset

from edgecell.device.measure import baseline
from edgecell.train import metrics

CLASSES = ["disc", "dots", "ring", "square"]
TRUTH = [0] * 12 + [1] * 3 + [2] * 3 + [3] * 2


def edgecell(*args, timeout=300):
    return subprocess.run(edgecell_command(*args), capture_output=True, text=True, timeout=timeout)


def test_a_constant_answer_is_named_with_its_rate_and_the_fix():
    found = baseline.against_constant(TRUTH, [0] * len(TRUTH), CLASSES)
    assert found["accuracy"] == pytest.approx(0.6) and found["majority_rate"] == pytest.approx(0.6)
    assert found["balanced_accuracy"] == pytest.approx(0.25)
    assert found["per_class_recall"] == {"disc": 1.0, "dots": 0.0, "ring": 0.0, "square": 0.0}
    assert "never answers 'dots', 'ring', 'square'" in found["verdict"] and "--epochs" in found["verdict"]
    assert "against 60.00% for always answering 'disc'" in baseline.line(found)


def test_a_class_without_images_has_no_recall_and_no_warning():
    truth, answers = [0, 0, 1, 1, 1], [0, 0, 1, 1, 1]
    found = baseline.against_constant(truth, answers, ["a", "b", "c"])
    assert found["verdict"] is None and found["per_class_recall"]["c"] is None
    assert "c n/a" in baseline.line(found)


def test_training_reports_the_same_figures_as_the_board():
    answers = list(TRUTH)
    answers[0] = 1
    trained, board = metrics.summary(TRUTH, answers, CLASSES), baseline.against_constant(TRUTH, answers, CLASSES)
    for key in ("accuracy", "majority_class", "majority_rate", "balanced_accuracy", "never_predicted", "verdict"):
        assert trained[key] == board[key]


@pytest.mark.tf
@pytest.mark.slow
def test_bench_data_puts_a_model_that_learned_beside_a_constant(exported_dir, colour_data, tmp_path):
    out = tmp_path / "bench.json"
    model = exported_dir / "export" / "model_int8.tflite"
    done = edgecell("bench", model, "--data", colour_data, "--runs", 3, "--warmup", 1, "--json", out, "--strict")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "against 33.33% for always answering 'blue'" in done.stdout and "recall: blue 100.00%" in done.stdout
    assert "Warning" not in done.stdout and "majority rate" in done.stdout  # the comparison table's column
    run = json.loads(out.read_text())["runs"][0]
    assert run["baseline"]["majority_rate"] == pytest.approx(1 / 3) and run["baseline"]["verdict"] is None
    assert run["baseline"]["balanced_accuracy"] == pytest.approx(run["accuracy"])  # classes of equal size


@pytest.mark.tf
def test_export_report_puts_keras_and_every_variant_beside_a_constant(exported_dir):
    export = exported_dir / "export"
    report = json.loads((export / "export_report.json").read_text())
    assert report["keras"]["baseline"]["majority_rate"] == pytest.approx(1 / 3)
    assert report["weak"] == []
    for variant in report["variants"]:
        assert variant["baseline"]["verdict"] is None and set(variant["baseline"]["per_class_recall"]) == {
            "blue",
            "green",
            "red",
        }
    markdown = (export / "export_report.md").read_text()
    assert "Beside a constant answer: always answering 'blue' scores 33.33%" in markdown
    assert "| int8 |" in markdown and "recall red" in markdown


@pytest.mark.tf
@pytest.mark.slow
def test_export_and_bench_say_so_when_a_model_is_no_better_than_a_constant(tmp_path):
    data, model = noise_dataset(tmp_path / "noise"), tmp_path / "m"
    trained = edgecell("train", data, "--out", model, "--img-size", 16, "--epochs", 2, "--augment", "none")
    assert trained.returncode == 0, trained.stdout + trained.stderr

    exported = edgecell("export", model, "--quantize", "float32", "--data", data, "--strict")
    assert exported.returncode == 1, exported.stdout + exported.stderr
    assert "Traceback" not in exported.stdout + exported.stderr
    assert "Keras model: accuracy" in exported.stdout and "for always answering 'many'" in exported.stdout
    assert "Warning: " in exported.stdout and "--epochs" in exported.stdout
    assert "Failing (--strict): float32" in exported.stderr
    report = json.loads((model / "export" / "export_report.json").read_text())
    assert report["weak"] == ["float32"] and report["variants"][0]["baseline"]["majority_rate"] == pytest.approx(0.75)
    assert "- float32: Warning: " in (model / "export" / "export_report.md").read_text()

    tflite = model / "export" / "model_float32.tflite"
    loose = edgecell("bench", tflite, "--data", data, "--runs", 2, "--warmup", 0)
    assert loose.returncode == 0 and "model_float32.tflite: Warning: " in loose.stdout, loose.stdout + loose.stderr
    strict = edgecell("bench", tflite, "--data", data, "--runs", 2, "--warmup", 0, "--strict")
    assert strict.returncode == 1 and "Failing (--strict)" in strict.stderr
    assert "Traceback" not in strict.stdout + strict.stderr

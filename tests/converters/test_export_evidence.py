"""`edgecell export` decides on evidence: the paired drop with its 95% interval, a verdict that a
single flipped image on a small set cannot fail, and more images when asked (--check-val,
--check-data)."""

import json
import os

import pytest
from support import outlier_model
from support.imagegen import COLOURS, colour_dataset, colour_image, write_rgb
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.converters.export_run import EXPORT_DIR
from edgecell.core.split import read_split
from edgecell.device.measure.accuracy import Paired, drop_interval
from edgecell.device.model import edgecell_metadata

pytestmark = pytest.mark.tf

runner = CliRunner()


def _report(model_dir):
    return json.loads((model_dir / EXPORT_DIR / "export_report.json").read_text())


@pytest.fixture(scope="module")
def one_flip(trained_dir, tmp_path_factory):
    """(outlier model folder, an 18-image class folder on which its int8 export flips exactly one image).

    The outlier model's int8 export answers blue for everything (tests/support/outlier_model.py: every
    score rounds to the same value and ties go to the first class). So: 16 blue images (both
    right), one green image (Keras right, int8 wrong: the one flip), and under red one more blue
    image (both wrong), because every class folder must hold an image."""
    folder = outlier_model.model_folder(trained_dir, tmp_path_factory.mktemp("flip") / "model")
    data = tmp_path_factory.mktemp("flip-data")
    for i in range(16):
        write_rgb(data / "blue" / f"b{i}.png", colour_image(COLOURS["blue"]))
    write_rgb(data / "green" / "g.png", colour_image(COLOURS["green"]))
    write_rgb(data / "red" / "mislabelled.png", colour_image(COLOURS["blue"]))
    return folder, data


@pytest.mark.slow  # two exports / an export on 30 images: about 13 s
def test_one_flipped_image_on_a_small_set_is_not_failed_and_the_output_says_why(one_flip):
    folder, data = one_flip
    result = runner.invoke(app, ["export", str(folder), "--quantize", "int8", "--data", str(data)])
    assert result.exit_code == 0, result.output
    row = _report(folder)["variants"][0]
    check = row["check"]
    assert (check["images"], check["both"], check["keras_only"], check["tflite_only"], check["neither"]) == (
        18,
        16,
        1,
        0,
        1,
    )
    assert row["drop_points"] == pytest.approx(100 / 18, abs=1e-3)  # 5.56 points over a budget of 1
    assert row["verdict"] == "inconclusive" and row["passed"]
    low, high = drop_interval(Paired(16, 1, 0, 1))
    assert check["interval_points"] == [round(100 * low, 4), round(100 * high, 4)]
    lines = result.output.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("int8:"))
    line = lines[first] + " " + lines[first + 1]  # the figures, then the evidence and the verdict
    assert lines[first - 1].startswith("Converting int8, calibrating on ")
    assert lines[first + 1].strip().startswith("on 18 images") and "passed: " in lines[first + 1]
    assert "a note: 18 held-out images" in line
    assert "on 18 images 16 both right, 1 Keras only, 0 TFLite only, 1 neither" in line
    assert lines[first + 2] == "  flipped, by true class: green 1 lost, 0 gained of 1"  # the one green image
    assert row["flips_by_class"]["blue"] == {"images": 16, "keras_only": 0, "tflite_only": 0}
    assert "18 held-out images are too few to judge a 1-point budget" in line
    assert f"about {check['images_needed']:,} would settle it" in line
    assert "| inconclusive | yes |" in (folder / EXPORT_DIR / "export_report.md").read_text()

    strict = runner.invoke(
        app, ["export", str(folder), "--quantize", "int8", "--data", str(data), "--inconclusive", "fail"]
    )
    assert strict.exit_code == 3, strict.output
    assert "counted as failed (--inconclusive fail)" in strict.output


def test_a_collapsed_int8_still_fails_beyond_doubt_and_fallback_brings_it_back(one_flip):
    folder, _ = one_flip  # on its own 12 held-out images: int8 answers blue for all, 8 flips
    result = runner.invoke(app, ["export", str(folder), "--quantize", "int8", "--fallback", "--fallback-seconds", "0"])
    assert result.exit_code == 3, result.output
    assert "over the budget of 1: the whole interval is above it" in result.output
    row = _report(folder)["variants"][0]
    assert row["verdict"] == "failed" and row["check"]["keras_only"] == 8 and row["check"]["interval_points"][0] > 1
    flips = row["flips_by_class"]  # all blue: every green and red image Keras got right is lost, no blue one
    assert flips["blue"]["keras_only"] == 0 and sum(f["keras_only"] for f in flips.values()) == 8
    assert all(f["tflite_only"] == 0 for f in flips.values())


def test_every_variant_carries_its_evidence_in_report_and_metadata(exported_dir):
    report = _report(exported_dir)
    assert report["held_out"] == f"{report['test_images']} images: test split of split.json ({report['test_images']})"
    for row in report["variants"]:
        check = row["check"]
        counts = Paired(check["both"], check["keras_only"], check["tflite_only"], check["neither"])
        assert counts.n == check["images"] == report["test_images"]
        assert check["drop_points"] == pytest.approx(row["drop_points"], abs=1e-3)
        assert check["interval_points"] == [round(100 * end, 4) for end in drop_interval(counts)]
        assert check["method"].startswith("Newcombe 1998") and check["confidence"] == 0.95
        model = exported_dir / EXPORT_DIR / f"model_{row['variant']}.tflite"
        assert edgecell_metadata.read(model.read_bytes())["check"] == check  # the model says how it was checked
    markdown = (exported_dir / EXPORT_DIR / "export_report.md").read_text()
    assert "| 95% interval | images | both right / Keras only / TFLite only / neither |" in markdown
    assert "Flips by true class, Keras right and TFLite wrong / Keras wrong and TFLite right" in markdown
    for row in report["variants"]:
        assert sum(f["images"] for f in row["flips_by_class"].values()) == row["check"]["images"]
        assert sum(f["keras_only"] for f in row["flips_by_class"].values()) == row["check"]["keras_only"]


@pytest.mark.slow  # two exports / an export on 30 images: about 13 s
def test_more_images_from_the_validation_split_and_another_folder(model_copy, tmp_path):
    split = read_split(model_copy)
    more = colour_dataset(tmp_path / "more", per_class=4, seed=7)
    training = f"{split.root}/{split.train[0].path}"
    os.symlink(training, more / "blue" / "already_trained.png")  # a training image is never used
    result = runner.invoke(
        app, ["export", str(model_copy), "--quantize", "float32", "--check-val", "--check-data", str(more)]
    )
    assert result.exit_code == 0, result.output
    report = _report(model_copy)
    test, val = len(split.test), len(split.val)
    assert [s["images"] for s in report["check_images"]["sources"]] == [test, val, 12]
    assert report["held_out"] == (
        f"{test + val + 12} images: test split of split.json ({test}) + validation split of split.json ({val}) "
        f"+ --check-data {more} (12)"
    )
    assert report["variants"][0]["check"]["images"] == report["test_images"] == test + val + 12
    assert any(path.endswith("(a training image)") for path in report["skipped"])
    assert len(report["check_images"]["paths"]) == test + val + 12
    assert f"on {test + val + 12} images:" in result.output

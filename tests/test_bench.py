"""`edgecell bench` on real float32 and int8 models, and the benchmark suite on a tiny model.

Numbers are checked for presence and sanity (positive, ordered percentiles, accuracy of a model
that learned its classes), never for speed: speed claims live in benchmarks/.
"""

import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.device import bench, bench_table
from edgecell.device.stats import latency

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the benchmarks/ package

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny(trained_dir, tmp_path_factory):
    """The trained colour model's folder (a copy) with float32 and int8 exports beside it."""
    from benchmarks import models

    folder = shutil.copytree(trained_dir, tmp_path_factory.mktemp("bench") / "model")
    return {"dir": folder, **{variant: models.tflite(folder, variant) for variant in models.VARIANTS}}


def _sane(lat: dict, count: int):
    assert lat["count"] == count
    assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    assert lat["min"] <= lat["mean"] <= lat["max"] and lat["std"] >= 0


@pytest.mark.tf
def test_bench_float32_and_int8_with_random_inputs(tiny, tmp_path):
    out = tmp_path / "bench.json"
    result = runner.invoke(app, ["bench", str(tiny["float32"]), str(tiny["int8"]), "--runs", "7", "--warmup", "2",
                                 "--threads", "1,2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    table = [line for line in result.output.splitlines() if line.startswith("| bench_")]
    assert len(table) == 4 and "| 1.00x" in table[0]
    report = json.loads(out.read_text())
    assert report["context"]["runtime"] and report["context"]["cpu"]
    assert report["settings"]["threads"] == [1, 2]
    runs = report["runs"]
    assert [(r["name"], r["threads"]) for r in runs] == [
        ("bench_float32.tflite", 1), ("bench_float32.tflite", 2), ("bench_int8.tflite", 1), ("bench_int8.tflite", 2)]
    for run in runs:
        _sane(run["invoke"], 7)
        assert run["init_ms"] > 0 and run["first_ms"] > 0 and run["per_second"] > 0
        assert run["peak_memory_mb"] > 10
        assert run["accuracy"] is None and run["end_to_end"] is None
    assert runs[0]["size_bytes"] == tiny["float32"].stat().st_size
    assert runs[2]["size_bytes"] < runs[0]["size_bytes"]  # int8 weights take a quarter of the bytes


@pytest.mark.tf
@pytest.mark.parametrize("variant", ["float32", "int8"])
def test_bench_with_the_held_out_split_reports_accuracy_and_end_to_end(tiny, variant):
    run = bench.bench([tiny[variant]], runs=5, warmup=1, data=tiny["dir"])[0]
    assert run.images == 12 and run.end_to_end.count == 12  # the recorded test split: 4 per class
    assert run.accuracy >= 0.9  # the colour classes are learned; int8 keeps them
    assert run.end_to_end.p50 > 0 and run.invoke.count == 5


@pytest.mark.tf
def test_bench_on_a_class_folder_and_the_keras_baseline(tiny, colour_data, tmp_path):
    out = tmp_path / "b.json"
    result = runner.invoke(app, ["bench", str(tiny["int8"]), "--data", str(colour_data), "--keras", str(tiny["dir"]),
                                 "--runs", "3", "--warmup", "1", "--json", str(out)])
    assert result.exit_code == 0, result.output
    runs = json.loads(out.read_text())["runs"]
    assert [r["name"] for r in runs] == ["keras predict", "keras call", "bench_int8.tflite"]
    for run in runs:
        assert run["images"] == 60 and run["end_to_end"]["count"] == 60
        assert run["accuracy"] >= 0.9
        _sane(run["invoke"], 3)
    assert runs[0]["runtime"].startswith("tensorflow") and runs[2]["runtime"].startswith("ai-edge-litert")
    assert "accuracy 1.0000" in result.output or "accuracy 0.9" in result.output


@pytest.mark.tf
def test_bench_refuses_images_of_other_classes(tiny, tmp_path):
    from imagegen import colour_dataset

    other = colour_dataset(tmp_path / "other", per_class=2, colours={"cyan": (0, 200, 200), "grey": (90, 90, 90)})
    result = runner.invoke(app, ["bench", str(tiny["int8"]), "--data", str(other), "--runs", "2"])
    assert result.exit_code == 2
    assert "outputs but the --data images have 2 classes" in result.output


def test_bad_thread_list_is_one_sentence(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(b"not a model")
    result = runner.invoke(app, ["bench", str(model), "--threads", "two"])
    assert result.exit_code == 2 and "--threads 'two' is not a list of thread counts" in result.output
    result = runner.invoke(app, ["bench", str(model)])
    assert result.exit_code == 2 and "Error:" in result.output and "Traceback" not in result.output


def test_thread_lists_and_random_inputs():
    assert bench.parse_threads("1,2,4") == [1, 2, 4] and bench.parse_threads(None) == [None]
    for dtype, low, high in ((np.uint8, 0, 255), (np.int8, -128, 127), (np.float32, 0, 255)):
        inputs = bench.random_inputs((1, 8, 8, 3), dtype, count=3)
        assert len(inputs) == 3 and all(x.dtype == dtype and x.shape == (1, 8, 8, 3) for x in inputs)
        assert all(low <= x.min() and x.max() <= high for x in inputs)


def test_comparison_table_speed_up_is_against_the_first_row():
    def run(name, p50):
        return bench.Run(name, "int8", "ai-edge-litert 2.3.0", 1, 2048, 1.0, 1.0, latency([p50, p50, 2 * p50]),
                         100.0, 50.0)

    lines = bench_table.comparison([run("a.tflite", 4.0), run("b.tflite", 1.0)])
    assert lines[0].startswith("| model") and len(lines) == 4
    assert lines[2].split("|")[-2].strip() == "1.00x" and lines[3].split("|")[-2].strip() == "4.00x"
    assert "2 kB" in lines[2] and not math.isnan(latency([1.0]).mean)

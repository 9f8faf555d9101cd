"""`edgecell bench` on real float32 and int8 models, and the benchmark suite on a tiny model.

Numbers are checked for presence and sanity (positive, ordered percentiles, accuracy of a model
that learned its classes), never for speed: speed claims live in benchmarks/.
"""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from support.paths import REPO
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.cli.options import thread_counts
from edgecell.device import bench_table, benchmark
from edgecell.device.measure.accuracy import wilson
from edgecell.device.measure.stats import latency

sys.path.insert(0, str(REPO))  # the benchmarks/ package

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny(exported_dir):
    """The trained colour model's folder with its float32 and int8 exports (`edgecell export`)."""
    export = exported_dir / "export"
    return {"dir": exported_dir, "float32": export / "model_float32.tflite", "int8": export / "model_int8.tflite"}


def _sane(lat: dict, count: int):
    assert lat["count"] == count
    assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    assert lat["min"] <= lat["mean"] <= lat["max"] and lat["std"] >= 0


@pytest.mark.tf
def test_bench_float32_and_int8_with_random_inputs(tiny, tmp_path):
    out = tmp_path / "benchmark.json"
    result = runner.invoke(
        app,
        [
            "bench",
            str(tiny["float32"]),
            str(tiny["int8"]),
            "--runs",
            "7",
            "--warmup",
            "2",
            "--threads",
            "1,2",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    f32, int8 = tiny["float32"].name, tiny["int8"].name
    table = [line for line in result.output.splitlines() if line.startswith(("| " + f32, "| " + int8))]
    assert len(table) == 4 and table[0].split("|")[-2].strip() == "1.00x"
    report = json.loads(out.read_text())
    assert report["context"]["runtime"] and report["context"]["cpu"]
    assert report["settings"]["threads"] == [1, 2]
    runs = report["runs"]
    assert [(r["name"], r["threads"]) for r in runs] == [(f32, 1), (f32, 2), (int8, 1), (int8, 2)]
    for run in runs:
        _sane(run["invoke"], 7)
        assert run["init_ms"] > 0 and run["first_ms"] > 0 and run["per_second"] > 0
        assert run["peak_memory_mb"] > 10
        assert run["accuracy"] is None and run["end_to_end"] is None
    assert runs[0]["size_bytes"] == tiny["float32"].stat().st_size
    assert runs[2]["size_bytes"] < runs[0]["size_bytes"]  # int8 weights take a quarter of the bytes


@pytest.mark.tf
@pytest.mark.parametrize("variant, where, images", [("float32", "split", 12), ("int8", "folder", 60)])
def test_bench_with_data_reports_accuracy_and_end_to_end(tiny, colour_data, variant, where, images):
    """--data as the model folder (its held-out split: 4 per class) or as a class folder (all 60)."""
    data = tiny["dir"] if where == "split" else colour_data
    run = benchmark.bench([tiny[variant]], runs=5, warmup=1, data=data)[0]
    assert run.images == images and run.end_to_end.count == images
    assert run.accuracy >= 0.9  # the colour classes are learned; int8 keeps them
    assert run.end_to_end.p50 > 0 and run.invoke.count == 5
    low, high = run.accuracy_interval  # Wilson's, on the images classified
    assert (low, high) == wilson(round(run.accuracy * images), images) and low < run.accuracy <= high
    shown = f"accuracy {100 * run.accuracy:.2f}% (95% {100 * low:.2f}%-{100 * high:.2f}%)"
    assert shown in "\n".join(bench_table.details(run))
    assert run.as_dict()["accuracy_interval"] == [low, high]


@pytest.mark.tf
def test_bench_with_the_keras_baseline_first(tiny, tmp_path):
    out = tmp_path / "b.json"
    result = runner.invoke(
        app,
        [
            "bench",
            str(tiny["int8"]),
            "--data",
            str(tiny["dir"]),
            "--keras",
            str(tiny["dir"]),
            "--runs",
            "3",
            "--warmup",
            "1",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    runs = json.loads(out.read_text())["runs"]
    assert [r["name"] for r in runs] == ["keras predict", "keras call", tiny["int8"].name]
    for run in runs:
        assert run["images"] == 12 and run["end_to_end"]["count"] == 12
        assert run["accuracy"] >= 0.9
        _sane(run["invoke"], 3)
    assert runs[0]["runtime"].startswith("tensorflow") and runs[2]["runtime"].startswith("ai-edge-litert")
    assert runs[0]["init_ms"] > 0 and runs[0]["size_bytes"] == (tiny["dir"] / "model.keras").stat().st_size


@pytest.mark.tf
def test_bench_refuses_images_of_other_classes(tiny, tmp_path):
    from support.imagegen import colour_dataset

    other = colour_dataset(tmp_path / "other", per_class=2, colours={"cyan": (0, 200, 200), "grey": (90, 90, 90)})
    result = runner.invoke(app, ["bench", str(tiny["int8"]), "--data", str(other), "--runs", "2"])
    assert result.exit_code == 2
    assert "--data images" in result.output and "(cyan, grey)" in result.output or "2 classes" in result.output


@pytest.mark.tf
def test_bench_without_keras_never_imports_tensorflow(tiny):
    """The device path stays light: a whole `edgecell bench --data` run in a fresh process."""
    code = (
        "import sys; from typer.testing import CliRunner; from edgecell.cli.main import app; "
        f"r = CliRunner().invoke(app, ['bench', {str(tiny['int8'])!r}, '--runs', '2', "
        f"'--data', {str(tiny['dir'])!r}]); "
        "assert r.exit_code == 0, r.output; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "False"]


def test_bad_thread_list_is_one_sentence(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(b"not a model")
    result = runner.invoke(app, ["bench", str(model), "--threads", "two"])
    assert result.exit_code == 2 and "--threads 'two' is not N or N,M,..." in result.output
    result = runner.invoke(app, ["bench", str(model)])
    assert result.exit_code == 2 and "Error:" in result.output and "Traceback" not in result.output


def test_thread_lists_and_random_inputs():
    assert thread_counts("1,2,4") == [1, 2, 4] and thread_counts(None) == [None]
    for dtype, low, high in ((np.uint8, 0, 255), (np.int8, -128, 127), (np.float32, 0, 255)):
        inputs = benchmark.random_inputs((1, 8, 8, 3), dtype, count=3)
        assert len(inputs) == 3 and all(x.dtype == dtype and x.shape == (1, 8, 8, 3) for x in inputs)
        assert all(low <= x.min() and x.max() <= high for x in inputs)


def test_comparison_table_speed_up_is_against_the_first_row():
    def run(name, p50):
        return benchmark.Run(
            name, "int8", "ai-edge-litert 2.3.0", 1, 2048, 1.0, 1.0, latency([p50, p50, 2 * p50]), 100.0, 50.0
        )

    lines = bench_table.comparison([run("a.tflite", 4.0), run("b.tflite", 1.0)])
    assert lines[0].startswith("| model") and len(lines) == 4
    assert lines[2].split("|")[-2].strip() == "1.00x" and lines[3].split("|")[-2].strip() == "4.00x"
    assert "2.0 KiB" in lines[2] and not math.isnan(latency([1.0]).mean)


@pytest.mark.tf
@pytest.mark.slow
def test_the_suite_runs_on_a_tiny_model(tiny, colour_data):
    """Every item of benchmarks/run.py on the 32x32 model, a few runs each: present and sane."""
    from benchmarks import run

    rows = run.suite({"images": colour_data, "edge": tiny}, runs=3, repeats=1, img_size=32, log=lambda _: None)
    by_item = {item: [r for r in rows if r.item == item] for item in range(1, 6)}
    assert all(by_item.values()), by_item
    for row in by_item[2] + by_item[3] + by_item[5]:
        assert 0 < row.value < 100 and row.detail, row
    assert by_item[3][1].met is not None and " MB" in by_item[3][1].detail
    opencv_float, opencv_int8 = by_item[4]
    assert opencv_float.value > 0 or "cannot" in opencv_float.detail
    assert "cannot" in opencv_int8.detail or "runs it" in opencv_int8.detail
    assert "ESTIMATE" in by_item[5][0].detail and "not measured" in by_item[5][0].detail
    lines = run.table(rows)
    assert len(lines) == 2 + len(rows) and "verdict" in lines[0]


def test_the_startup_benchmark_prints_both_ratios():
    run = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "startup.py"), "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    lines = {line.split(":")[0]: line for line in run.stdout.splitlines()}
    for what in ("edgecell infer / minimal Typer app", "edgecell infer / plain script"):
        value = float(lines[what].split(":")[1].split()[0])
        assert 0.5 < value < 20, lines[what]  # sane, not fast: speed is the benchmark's to show

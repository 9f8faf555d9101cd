"""`edgecell infer` on files and folders: statuses, exit codes, results files, summary, usage errors.

Real runtime, real files: every image is written to disk and decoded by OpenCV.
"""

import csv
import io
import json
import os

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.imagegen import COLOURS, colour_image, write_rgb
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.device.input import sources
from edgecell.device.measure import stats

runner = CliRunner()


def infer(*args):
    return runner.invoke(app, ["infer", *[str(a) for a in args]])


def good_images(folder, count=3):
    rng = np.random.default_rng(1)
    return [write_rgb(folder / f"good_{i}.png", colour_image(COLOURS["red"], 32, rng)) for i in range(count)]


@pytest.fixture
def mixed_folder(tmp_path):
    """Good images beside every kind of bad one, in a tree; name -> expected status."""
    root = tmp_path / "mixed"
    good_images(root)
    write_rgb(root / "sub" / "deep.jpg", colour_image(COLOURS["blue"], 48))
    jpeg = cv2.imencode(".jpg", colour_image(COLOURS["green"], 64))[1].tobytes()
    (root / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    (root / "empty.png").write_bytes(b"")
    (root / "notes.jpeg").write_text("this is text, not a picture\n")
    os.symlink(root / "nowhere.png", root / "broken_link.png")
    (root / "album.jpg").mkdir()
    (root / "readme.txt").write_text("not named like an image: ignored\n")
    expected = {
        "good_0.png": "ok",
        "good_1.png": "ok",
        "good_2.png": "ok",
        "deep.jpg": "ok",
        "truncated.jpg": "failed",
        "corrupt.png": "failed",
        "empty.png": "failed",
        "notes.jpeg": "failed",
        "broken_link.png": "failed",
        "album.jpg": "failed",
    }
    return root, expected


def test_folder_with_good_and_bad_images(device_model, mixed_folder, tmp_path):
    model, extra = device_model
    root, expected = mixed_folder
    out, summary_file = tmp_path / "results.csv", tmp_path / "summary.json"
    result = infer(root, "--model", model, *extra, "--output", out, "--json", summary_file, "--top-k", 2)
    assert result.exit_code == 1, result.output
    rows = list(csv.DictReader(out.open()))
    statuses = {os.path.basename(r["source"]): r["status"] for r in rows}
    assert statuses == expected
    reasons = {os.path.basename(r["source"]): r["error"] for r in rows}
    assert "truncated" in reasons["truncated.jpg"]
    assert "0 bytes" in reasons["empty.png"]
    assert "broken link" in reasons["broken_link.png"]
    assert "folder" in reasons["album.jpg"]
    assert "not a decodable image" in reasons["notes.jpeg"]
    for row in rows:
        if row["status"] == "ok":
            assert row["label"] and 0.0 <= float(row["score"]) <= 1.0 and len(row["top_k"].split(";")) == 2
            stages = [float(row[k]) for k in ("decode_ms", "preprocess_ms", "invoke_ms", "postprocess_ms")]
            assert float(row["total_ms"]) == pytest.approx(sum(stages), abs=1e-3)
        else:
            assert row["label"] == "" and row["invoke_ms"] == ""
    summary = json.loads(summary_file.read_text())
    assert summary["images"] == {"done": 4, "failed": 6}
    assert {f["source"] for f in summary["failures"]} == {r["source"] for r in rows if r["status"] == "failed"}
    assert "FAILED" in result.output and "6 failed" in result.output


def test_order_is_stable_and_sorted(tmp_path):
    for name in ["b/2.png", "a/10.png", "a/9.png", "c.PNG", "a/x/1.jpg", "z.txt"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    names = [os.path.relpath(i.path, tmp_path) for i in sources.expand([tmp_path])]
    assert names == ["a/10.png", "a/9.png", "a/x/1.jpg", "b/2.png", "c.PNG"]
    globbed = [os.path.relpath(i.path, tmp_path) for i in sources.expand([str(tmp_path / "a" / "*.png")])]
    assert globbed == ["a/10.png", "a/9.png"]
    missing = sources.expand([str(tmp_path / "nothing*.png"), str(tmp_path / "gone.png")])
    assert [i.kind for i in missing] == ["error", "error"]


def test_all_good_jsonl_summary_and_context(device_model, tmp_path):
    model, extra = device_model
    images = good_images(tmp_path / "imgs", 5)
    out, summary_file = tmp_path / "r.jsonl", tmp_path / "s.json"
    result = infer(*images, "--model", model, *extra, "-o", out, "--json", summary_file, "--warmup", 3, "--quiet")
    assert result.exit_code == 0, result.output
    assert "ok  " not in result.output  # --quiet: no line per image, the summary only
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["source"] for r in rows] == [str(p) for p in images]
    assert all(r["status"] == "ok" and r["top_k"][0]["label"] == r["label"] for r in rows)
    summary = json.loads(summary_file.read_text())
    assert summary["images"] == {"done": 5, "failed": 0}
    assert summary["warmup"]["runs"] == 3 and summary["warmup"]["first_invoke_ms"] > 0
    for stage in ("invoke", "total"):
        latency = summary["latency_ms"][stage]
        assert latency["count"] == 5
        assert latency["min"] <= latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert summary["images_per_second"] > 0
    assert summary["runtime"] == "ai-edge-litert"
    assert {"cpu", "board", "cpu_temperature_c", "throttled", "runtime_version"} <= set(summary["context"])


def test_huge_and_tiny_images_classify(device_model, tmp_path):
    model, extra = device_model
    huge = np.zeros((4000, 6000, 3), dtype=np.uint8)
    huge[:, :, 0] = 220
    write_rgb(tmp_path / "huge.jpg", huge)
    write_rgb(tmp_path / "tiny.png", np.full((1, 1, 3), 200, dtype=np.uint8))
    result = infer(tmp_path / "huge.jpg", tmp_path / "tiny.png", "--model", model, *extra, "-o", tmp_path / "r.csv")
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in csv.DictReader((tmp_path / "r.csv").open())] == ["ok", "ok"]


def test_limit_top_k_and_threshold(device_model, tmp_path):
    model, extra = device_model
    images = good_images(tmp_path / "imgs", 4)
    out = tmp_path / "r.jsonl"
    result = infer(tmp_path / "imgs", "--model", model, *extra, "--limit", 2, "--top-k", 3, "-o", out)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["source"] for r in rows] == [str(p) for p in images[:2]]
    assert all(len(r["top_k"]) == 3 for r in rows)
    assert "stopped by limit" in result.output
    result = infer(images[0], "--model", model, *extra, "--top-k", 3, "--threshold", 1.01, "-o", out)
    assert result.exit_code == 0 and json.loads(out.read_text())["top_k"] == []


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "Nothing to classify"),
        (["--model", "{tmp}/missing.tflite", "{img}"], "does not exist"),
        (["--model", "{tmp}/junk.tflite", "{img}"], "not a TFLite flatbuffer"),
        (["{tmp}/empty_dir"], "holds no image files"),
        (["{img}", "-o", "{tmp}/results.txt"], "must end in .csv or .jsonl"),
        (["{img}", "--camera", "0"], "not both"),
        (["{img}", "--max-fps", "5"], "--max-fps applies to a camera"),
        (["--camera", "{tmp}/no_such_camera.avi"], "cannot be opened"),
    ],
)
def test_usage_errors_exit_2(device_model, tmp_path, args, message):
    model, extra = device_model
    img = good_images(tmp_path / "imgs", 1)[0]
    (tmp_path / "junk.tflite").write_bytes(os.urandom(300))
    (tmp_path / "empty_dir").mkdir()
    args = [a.format(tmp=tmp_path, img=img) for a in args]
    if "--model" not in args:
        args += ["--model", str(model), *extra]
    result = infer(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_labels_that_do_not_match_are_a_usage_error(device_model, tmp_path):
    model, _ = device_model
    (tmp_path / "labels.txt").write_text("only\ntwo\n")
    img = good_images(tmp_path / "imgs", 1)[0]
    result = infer(img, "--model", model, "--labels", tmp_path / "labels.txt")
    assert result.exit_code == 2
    assert "lists 2 labels" in result.output


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=50))
def test_percentiles_match_numpy(values):
    assert np.allclose(stats.percentiles(values, (0, 50, 90, 99, 100)), np.percentile(values, (0, 50, 90, 99, 100)))


def test_progress_bar_and_lines():
    from edgecell.device.loop.result import Result, Timing
    from edgecell.device.model.scores import Class
    from edgecell.device.sinks.terminal import Progress, line

    good = Result("a.png", [Class(2, "cat", 0.9125), Class(0, "dog", 0.05)], Timing(3.1, 0.4, 2.2, 0.01, 5.71))
    bad = Result("b.png", [], Timing(decode=0.2), "empty file (0 bytes)")
    assert line(good) == "ok  a.png  cat 0.912, dog 0.050  [decode 3.1 + pre 0.4 + invoke 2.2 + post 0.0 = 5.7 ms]"
    assert line(bad) == "FAILED  b.png: empty file (0 bytes)"
    stream = io.StringIO()
    bar = Progress(4, stream)
    for result in (good, bad, good, good):
        bar.update(result)
    bar.close()
    assert stream.getvalue().split("\r")[-1].startswith(f"[{'#' * 30}] 4/4  failed 1")


def test_read_ahead_keeps_order_and_every_result(device_model, mixed_folder, tmp_path, monkeypatch):
    """Forced to read ahead after 2 images, the runner gives the same rows, in the same order: a
    folder's files decoded by the pool, one thread per core, and the same with the live page's tap,
    which takes its frames decoded and reads them ahead in one thread."""
    from edgecell.device.http.live_state import Live
    from edgecell.device.infer_run import Source, run
    from edgecell.device.loop import runner
    from edgecell.device.model.classifier import Classifier

    model, extra = device_model
    root, _ = mixed_folder
    rows = {}
    for name, worth_it in (("serial", 2.0), ("ahead", 0.0)):
        monkeypatch.setattr(runner, "PROBE", 2)
        monkeypatch.setattr(runner, "WORTH_IT", worth_it)
        out = tmp_path / f"{name}.jsonl"
        result = infer(root, "--model", model, *extra, "-o", out, "--json", tmp_path / f"{name}.json", "-q")
        assert result.exit_code == 1, result.output
        summary = json.loads((tmp_path / f"{name}.json").read_text())
        assert summary["read_ahead"] == (name == "ahead")
        assert summary["decode_workers"] == (runner.decode_workers() if name == "ahead" else 0)
        rows[name] = [
            (r["source"], r["status"], r["label"], r["score"]) for r in map(json.loads, out.read_text().splitlines())
        ]
    assert rows["ahead"] == rows["serial"] and len(rows["ahead"]) == 10
    assert runner.decode_workers() == runner.cores()  # the model's default single thread leaves every core

    class Shown(Live):
        seen = []

        def show(self, result, rgb=None):
            self.seen.append((result.name, result.ok, rgb is not None))
            super().show(result, rgb)

    flags = dict(zip(extra[::2], extra[1::2]))  # --labels, --mean, --std of a model without metadata
    mean, std = (float(flags[f]) if f in flags else None for f in ("--mean", "--std"))
    classifier = Classifier(model, flags.get("--labels"), mean, std)
    summary = run(classifier, Source((str(root),)), sinks=[Shown()], log=str)
    assert summary["decode_workers"] == 1  # one thread ahead: the pool would hand on frames without pixels
    assert [name for name, _, _ in Shown.seen] == [r[0] for r in rows["serial"]]
    assert all(pixels for _, ok, pixels in Shown.seen if ok)  # the page has every good frame's pixels


def test_overlap_gain():
    from edgecell.device.loop.result import Result, Timing
    from edgecell.device.loop.runner import overlap_gain

    def timed(decode, pre, invoke, post):
        return Result("x", [], Timing(decode, pre, invoke, post, decode + pre + invoke + post))

    assert overlap_gain([timed(1.0, 0.0, 1.0, 0.0)] * 3) == 0.5  # halves the time per image
    assert overlap_gain([timed(9.0, 0.5, 0.4, 0.1)]) == pytest.approx(0.05)
    assert overlap_gain([]) == 0.0


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_a_link_planted_as_the_results_file_is_refused_and_its_target_kept(device_model, tmp_path):
    """A full disk is tests/faults/test_faults_disk.py (a real full tmpfs); a link to /dev/full, or to a
    file someone else owns, is refused before anything is written through it."""
    model, extra = device_model
    os.symlink("/dev/full", tmp_path / "full.csv")
    result = infer(good_images(tmp_path / "imgs", 2)[0], "--model", model, *extra, "-o", tmp_path / "full.csv")
    assert result.exit_code == 2
    assert f"--output {tmp_path / 'full.csv'} is a symbolic link" in result.output


def test_read_ahead_thread_order_errors_and_stop():
    import threading

    from edgecell.device.loop.readahead import ahead

    assert list(ahead(iter(range(50)), 3, threading.Event())) == list(range(50))

    def broken():
        yield 1
        raise RuntimeError("decoder bug")

    items = ahead(broken(), 2, threading.Event())
    assert next(items) == 1
    with pytest.raises(RuntimeError, match="decoder bug"):
        next(items)

    produced = []

    def endless():
        while True:
            produced.append(len(produced))
            yield produced[-1]

    stop = threading.Event()
    items = ahead(endless(), 2, stop)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()  # the consumer is done: the producer stops within its 0.1 s poll
    threading.Event().wait(0.3)
    count = len(produced)
    threading.Event().wait(0.3)
    assert len(produced) == count <= 3 + 2 + 2  # taken, queued, one in each thread's hands

"""Inputs that could take a board down: decompression bombs, FIFOs, links to /dev/zero, a model
whose input would take gigabytes, symlink loops and overlapping globs. Each is made for real and
refused in one sentence (or one failed row), fast, with memory bounded."""

import os
import subprocess
import threading

import numpy as np
import pytest
from support.bombs import jpeg_bomb, png16_bomb
from support.cli import edgecell_command
from support.imagegen import colour_dataset, colour_image, write_rgb
from support.peak_memory import run_cli as measured
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.core.errors import EdgecellError
from edgecell.core.labels import read_labels
from edgecell.device.input import classfolder, image, sources
from edgecell.device.model.classifier import Classifier, read_model
from edgecell.models import DEMO_IMAGES, DEMO_MODEL

cli = CliRunner()
DEMO_IMAGE = sorted(DEMO_IMAGES.glob("*.png"))[0]


def fifo(path):
    os.mkfifo(path)
    return path


def zero_link(path):
    path.symlink_to("/dev/zero")
    return path


def finishes(call, seconds=20):
    """call() in a thread; if it hangs on a FIFO, a writer is opened on it to release it and the test fails."""
    outcome = {}

    def target():
        try:
            outcome["value"] = call()
        except Exception as error:  # noqa: BLE001 - the test looks at what was raised
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the call hung"
    return outcome


# --- images -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, declares", [(jpeg_bomb, r"30000x30000 pixels \(900 megapixels\)"), (png16_bomb, "18000x18000 pixels")]
)
def test_a_decompression_bomb_is_refused_from_its_header_unread(tmp_path, make, declares):
    path = make(tmp_path / ("bomb.jpg" if make is jpeg_bomb else "bomb.png"))
    with pytest.raises(image.ImageError, match=f"declares {declares}.*over the 50-megapixel cap"):
        image.load_rgb(path)


def test_the_pixel_cap_can_be_set(tmp_path):
    path = write_rgb(tmp_path / "photo.png", colour_image((200, 30, 30), size=100))
    assert image.load_rgb(path).shape == (100, 100, 3)
    with pytest.raises(image.ImageError, match="declares 100x100 pixels.*over the 0.005-megapixel cap"):
        image.load_rgb(path, max_pixels=5000)
    frame = sources.decode(str(path), max_pixels=5000)
    assert frame.rgb is None and "--max-pixels" in frame.error


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: fifo(p), "is a FIFO (named pipe), not an image file"),
        (lambda p: zero_link(p), "is a character device, not an image file"),
        (lambda p: p.touch() or os.truncate(p, 300 << 20), "is 300 MB, over the 256 MB"),  # sparse: no disk used
    ],
    ids=["fifo", "dev-zero", "huge"],
)
def test_a_special_or_huge_file_named_like_an_image_is_refused_without_reading(tmp_path, make, reason):
    path = tmp_path / "x.png"
    make(path)
    outcome = finishes(lambda: image.load_rgb(path))
    assert isinstance(outcome.get("error"), image.ImageError) and reason in str(outcome["error"])


def test_a_fifo_named_like_a_video_is_a_failed_frame(tmp_path):
    path = fifo(tmp_path / "clip.mp4")
    outcome = finishes(lambda: list(sources.video_frames(str(path))))
    [frame] = outcome["value"]
    assert frame.rgb is None and frame.error == "is a FIFO (named pipe), not a video file"


def test_a_bomb_in_a_class_folder_is_a_skipped_file_when_training(tmp_path):
    root = colour_dataset(tmp_path / "data", per_class=3)
    jpeg_bomb(root / "red" / "bomb.jpg")
    png16_bomb(root / "blue" / "bomb.png")
    fifo(root / "green" / "pipe.png")
    dataset = finishes(lambda: classfolder.scan(root))["value"]
    reasons = {s["path"]: s["reason"] for s in dataset.skipped}
    assert "megapixel cap" in reasons["red/bomb.jpg"] and "megapixel cap" in reasons["blue/bomb.png"]
    assert "FIFO" in reasons["green/pipe.png"]
    assert dataset.counts() == {"blue": 3, "green": 3, "red": 3}


# --- models and labels --------------------------------------------------------------------------


@pytest.mark.parametrize("make", [fifo, zero_link], ids=["fifo", "dev-zero"])
def test_a_special_file_as_model_or_labels_is_one_sentence(tmp_path, make):
    path = make(tmp_path / "model.tflite")
    outcome = finishes(lambda: read_model(path))
    assert isinstance(outcome["error"], EdgecellError)
    assert str(outcome["error"]).startswith(f"Model file {path} is a ") and "not a regular file" in str(
        outcome["error"]
    )
    labels = make(tmp_path / "labels.txt")
    outcome = finishes(lambda: read_labels(labels))
    assert isinstance(outcome["error"], EdgecellError) and "not a regular file" in str(outcome["error"])


@pytest.mark.slow
def test_special_files_for_infer_info_and_bench_end_in_one_sentence(tmp_path):
    """The real CLI, each command in a process of its own, all at once: exit 2, one sentence."""
    pipe, zero = fifo(tmp_path / "pipe.tflite"), zero_link(tmp_path / "zero.tflite")
    labels = fifo(tmp_path / "labels.txt")
    runs = {
        "infer pipe": ["infer", DEMO_IMAGE, "--model", pipe],
        "infer zero": ["infer", DEMO_IMAGE, "--model", zero],
        "infer labels": ["infer", DEMO_IMAGE, "--model", DEMO_MODEL, "--labels", labels],
        "info pipe": ["info", pipe],
        "info zero": ["info", zero],
        "bench pipe": ["bench", pipe, "--runs", "2"],
        "bench zero": ["bench", zero, "--runs", "2"],
    }
    procs = {
        name: subprocess.Popen(edgecell_command(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for name, args in runs.items()
    }
    for name, proc in procs.items():
        output = proc.communicate(timeout=60)[0].decode()
        assert proc.returncode == 2, (name, output)
        assert "Traceback" not in output and "not a regular file" in output, (name, output)


def huge_input_model(path):
    from edgecell.converters import flatbuffer

    model = flatbuffer.unpack(DEMO_MODEL.read_bytes())
    graph = model.subgraphs[0]
    tensor = graph.tensors[graph.inputs[0]]
    tensor.shape = np.array([1, 20000, 20000, 3], dtype=np.int32)
    tensor.shapeSignature = np.array([-1, 20000, 20000, 3], dtype=np.int32)
    path.write_bytes(flatbuffer.pack(model))
    return path


@pytest.mark.parametrize("command", ["infer", "info"])
def test_a_model_whose_input_would_take_gigabytes_is_refused_before_allocating(tmp_path, command):
    path = huge_input_model(tmp_path / "huge.tflite")
    args = ["infer", str(DEMO_IMAGE), "--model", str(path)] if command == "infer" else ["info", str(path)]
    result = cli.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "takes an input of [1, 20000, 20000, 3], over the 4096x4096x3 edgecell runs" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(EdgecellError, match="it was not loaded"):
        Classifier(path)


def test_a_long_label_and_a_fifty_megabyte_labels_file_are_refused(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("cat\n" + "x" * 5000 + "\n")
    with pytest.raises(EdgecellError, match=r"class name of 5000 characters \(label 2\).*at most 1000"):
        read_labels(path)
    path.write_text("cat\n" + "x" * (50 << 20) + "\n")
    with pytest.raises(EdgecellError, match="is 50 MB, over the 16 MB"):
        read_labels(path)


# --- walking folders and globs ------------------------------------------------------------------


def test_symlink_loops_in_a_dataset_end_and_each_image_is_one_sample(tmp_path):
    root = colour_dataset(tmp_path / "data", per_class=2)
    for name in ("blue", "red"):
        (root / name / "again").symlink_to(root / name)  # a loop
        (root / name / "up").symlink_to(root)  # a loop through every class
    (root / "green" / "more").mkdir()
    (root / "green" / "more" / "link.png").symlink_to(root / "green" / "green_000.png")
    dataset = finishes(lambda: classfolder.scan(root))["value"]
    assert dataset.counts() == {"blue": 2, "green": 2, "red": 2}
    assert len({os.path.realpath(dataset.abspath(s)) for s in dataset.samples}) == 6


def test_a_recursive_glob_classifies_each_file_once(tmp_path):
    many = tmp_path / "many"
    for i in range(6):
        write_rgb(many / f"sub{i % 2}" / f"{i}.png", colour_image((10, 200, 10), size=16))
    pattern = str(many / "**")
    names = [item.path for item in sources.expand([pattern, str(many), str(many / "sub0" / "0.png")])]
    assert len(names) == 6 and sorted(names) == sorted(str(p) for p in many.rglob("*.png"))


# --- the folder from the issue: everything at once, through the real CLI -------------------------


@pytest.mark.slow
def test_a_hostile_folder_ends_by_itself_with_one_row_per_input_and_bounded_memory(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    # 65000x65000: even at the 1/8 the demo model's decode rule allows, 66 megapixels, over the cap
    # (a 30000x30000 one decodes at 1/8, 3750x3750, within it: a grey image, bounded like any other)
    jpeg_bomb(folder / "bomb.jpg", 65000, 65000)
    png16_bomb(folder / "bomb16.png")
    fifo(folder / "x.png")
    zero_link(folder / "zero.png")
    demo = sorted(DEMO_IMAGES.glob("*.png"))[:3]
    good = [
        write_rgb(folder / f"{d}.png", image.load_rgb(p)) for d, p in enumerate(sorted(DEMO_IMAGES.glob("*.png"))[:3])
    ]
    odd = os.path.join(os.fsencode(folder), b"bad\xff\xfe.png")
    with open(odd, "wb") as f:
        f.write(good[0].read_bytes())
    results = tmp_path / "results.csv"
    log = (tmp_path / "out.txt").open("w+")
    code, peak_mb = measured(["infer", folder, "--model", "demo", "--output", results], stdout=log, seconds=60)
    log.seek(0)
    output = log.read()
    assert code == 1, output
    assert "Traceback" not in output
    assert peak_mb < 400, f"peak {peak_mb:.0f} MB"
    rows = results.read_bytes().decode("utf-8").splitlines()[1:]
    assert len(rows) == 8, rows
    by_name = {row.split(",")[0].rsplit("/", 1)[-1]: row for row in rows}
    assert "megapixel cap" in by_name["bomb.jpg"] and "megapixel cap" in by_name["bomb16.png"]
    assert "FIFO" in by_name["x.png"] and "character device" in by_name["zero.png"]
    expected = {p.name: p.name.split("_")[0] for p in demo}
    for d, name in enumerate(expected):
        assert f",ok,{expected[name]}," in by_name[f"{d}.png"]
    assert ",ok," in by_name["bad\\udcff\\udcfe.png"]
    print(f"hostile folder: peak {peak_mb:.0f} MB")

"""Training under tf.distribute, resumed after a kill, and cached: real processes on this machine.

Two replicas need the CPU split into two logical devices before TensorFlow initialises, and two
workers need two processes, so those runs are subprocesses; every one is bounded in time and
ended by the test that started it.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from support.imagegen import colour_dataset

from edgecell.core.errors import EdgecellError
from edgecell.train.distribute import is_chief, read_tf_config

ARTIFACTS = [
    "model.keras",
    "labels.txt",
    "split.json",
    "config.json",
    "train_report.json",
    "curves.png",
    "confusion.png",
]
# Small images and batches, as the session's `trained_dir` (one replica) uses.
SMALL = ["--img-size", "32", "--batch-size", "8"]


def _env(**extra):
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **extra)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _report(out):
    return json.loads((out / "train_report.json").read_text())


@pytest.mark.tf
@pytest.mark.slow
def test_two_replicas_on_the_cpu_learn_like_one(trained_dir, colour_data, tmp_path):
    out = tmp_path / "mirrored"
    script = f"""
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from edgecell.train.config import TrainConfig
from edgecell.train.training import train
train(TrainConfig({str(colour_data)!r}, {str(out)!r}, img_size=32, epochs=12, batch_size=8,
                  distribute="mirrored"), verbose=0)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240, env=_env())
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "Training on 2 replica(s) in sync (mirrored)" in done.stdout
    report, single = _report(out), _report(trained_dir)
    assert report["distribute"] == {"strategy": "mirrored", "replicas": 2, "workers": 1, "worker": 0, "chief": True}
    assert report["test"]["accuracy"] >= 0.9 and abs(report["test"]["accuracy"] - single["test"]["accuracy"]) <= 0.1
    assert all((out / name).stat().st_size > 0 for name in ARTIFACTS)


@pytest.mark.tf
@pytest.mark.slow
def test_two_workers_on_loopback_and_the_chief_writes(colour_data, tmp_path):
    out = tmp_path / "model"
    cluster = {"worker": [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]}
    workers = []
    try:
        for index in range(2):
            tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "edgecell",
                        "train",
                        str(colour_data),
                        "--out",
                        str(out),
                        *SMALL,
                        "--epochs",
                        "2",
                        "--distribute",
                        "multiworker",
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    env=_env(TF_CONFIG=tf_config),
                )
            )
        deadline = time.monotonic() + 240
        outputs = [worker.communicate(timeout=max(1, deadline - time.monotonic()))[0] for worker in workers]
    finally:
        for worker in workers:  # a worker left waiting for its peer is ended here, never left behind
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert [w.returncode for w in workers] == [0, 0], "\n".join(o[-3000:] for o in outputs)
    assert "worker 0 of 2, the chief" in outputs[0] and "Wrote" in outputs[0]
    # An epoch takes every whole batch of both shards: 42 training images, 21 a worker, 2 batches
    # of 8 each, every batch shared between the two replicas: 4 steps of 8 images.
    assert "4/4" in outputs[0] and "Your input ran out of data" not in outputs[0]
    assert "Worker 1 done; the chief writes" in outputs[1] and "Test loss" not in outputs[1]
    report = _report(out)
    assert report["distribute"] == {"strategy": "multiworker", "replicas": 2, "workers": 2, "worker": 0, "chief": True}
    assert report["epochs_run"] == 2 and report["test"]["images"] == 12
    assert sorted(p.name for p in out.iterdir()) == sorted(ARTIFACTS)  # no backup, no file from worker 1


@pytest.mark.tf
@pytest.mark.slow
def test_killed_after_an_epoch_resumes_with_the_remaining_epochs(colour_data, tmp_path):
    out, epochs = tmp_path / "model", 10
    command = [
        sys.executable,
        "-m",
        "edgecell",
        "train",
        str(colour_data),
        "--out",
        str(out),
        *SMALL,
        "--epochs",
        str(epochs),
        "--patience",
        str(epochs),
    ]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    state = out / "backup" / "state.json"
    try:
        deadline = time.monotonic() + 120
        while not state.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)  # no chance to clean up, as on a preempted machine
    finally:
        first.kill()
        first.wait()
    assert state.exists(), "the first run never finished an epoch"
    done = json.loads(state.read_text())["epoch"]
    assert 1 <= done < epochs and not (out / "train_report.json").exists()

    resumed = subprocess.run(command + ["--resume"], capture_output=True, text=True, timeout=240, env=_env())
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr[-3000:]
    assert f"Resuming after epoch {done} of {epochs}" in resumed.stdout
    report = _report(out)
    assert report["resumed_after_epoch"] == done
    assert report["epochs_this_run"] == epochs - done  # only the remaining epochs were trained
    assert report["epochs_run"] == len(report["history"]["loss"]) == len(report["history"]["val_loss"]) == epochs
    assert report["test"]["accuracy"] >= 0.9
    assert not (out / "backup").exists()


@pytest.mark.tf
def test_resume_with_another_image_size_is_refused(colour_data, tmp_path):
    from edgecell.train import resume
    from edgecell.train.config import TrainConfig
    from edgecell.train.training import train

    made = TrainConfig(str(colour_data), str(tmp_path / "model"), img_size=64)
    backup = resume.folder(made.out_dir)
    backup.mkdir(parents=True)
    (backup / resume.STATE_FILE).write_text(json.dumps({"epoch": 1, "settings": resume.settings(made)}))
    again = TrainConfig(str(colour_data), made.out_dir, img_size=32, resume=True)
    with pytest.raises(EdgecellError, match="was made with img_size=64, not 32; rerun with the same settings"):
        train(again, verbose=0, log=lambda *_: None)


@pytest.mark.tf
def test_cache_is_read_back_after_the_first_pass(tmp_path):
    """The second pass reads the cache file: it still yields every image after the files are deleted."""
    from edgecell.train.pipeline import Reading, cache_prefix, image_batches

    root = colour_dataset(tmp_path / "data", per_class=5, size=16)
    paths = sorted(root.rglob("*.png"))
    labels = [0] * len(paths)
    prefix = cache_prefix(tmp_path / "cache", "train", paths, labels, 16)
    stale = tmp_path / f"{os.path.basename(prefix)}_0.lockfile"
    stale.write_text("left by a run killed during its first pass")
    assert cache_prefix(tmp_path / "cache", "train", paths, labels, 16) == prefix and not stale.exists()
    batches = image_batches(paths, labels, 16, 4, Reading(shuffle=True, cache=prefix))
    first = sorted(float(x.numpy().sum()) for images, _ in batches for x in images)
    for path in paths:
        path.unlink()
    second = sorted(float(x.numpy().sum()) for images, _ in batches for x in images)
    assert len(first) == 15 and first == second
    assert cache_prefix(tmp_path / "cache", "train", paths, labels, 24) != prefix  # another size, another file


@pytest.mark.tf
def test_train_cache_option_writes_one_cache_per_part(tmp_path):
    from typer.testing import CliRunner

    from edgecell.cli.main import app

    data = colour_dataset(tmp_path / "data", per_class=6, size=16)
    cache = tmp_path / "cache"
    cache.mkdir()
    result = CliRunner().invoke(
        app,
        ["train", str(data), "--out", str(tmp_path / "m"), "--img-size", "16", "--epochs", "2", "--cache", str(cache)],
    )
    assert result.exit_code == 0, result.output
    written = sorted(p.name.split("-")[0] for p in cache.glob("*.index"))
    assert written == ["edgecell.train", "edgecell.val"] and not list(cache.glob("*lockfile"))


@pytest.mark.parametrize(
    "text, message",
    [
        (None, "TF_CONFIG environment variable, which is not set"),
        ("{cluster", "TF_CONFIG is not valid JSON"),
        ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', 'no "cluster" with a "worker" list'),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}', "must name a task type"),
        ('{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}}', "use 0 to 1"),
    ],
)
def test_tf_config_mistakes_are_one_sentence(text, message):
    with pytest.raises(EdgecellError, match=message.replace("(", r"\(")):
        read_tf_config(text)


def test_the_chief_is_worker_zero_unless_a_chief_is_named():
    two = {"worker": ["a:1", "b:1"]}
    assert is_chief({"cluster": two, "task": {"type": "worker", "index": 0}})
    assert not is_chief({"cluster": two, "task": {"type": "worker", "index": 1}})
    named = {"chief": ["c:1"], "worker": ["a:1"]}
    assert is_chief({"cluster": named, "task": {"type": "chief", "index": 0}})
    assert not is_chief({"cluster": named, "task": {"type": "worker", "index": 0}})


@pytest.mark.tf
def test_multiworker_without_tf_config_exits_2(colour_data, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from edgecell.cli.main import app

    monkeypatch.delenv("TF_CONFIG", raising=False)
    result = CliRunner().invoke(
        app, ["train", str(colour_data), "--out", str(tmp_path / "m"), "--distribute", "multiworker"]
    )
    assert result.exit_code == 2 and "TF_CONFIG environment variable, which is not set" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "m").exists()

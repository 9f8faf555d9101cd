"""Two writers of one target, and the mode a written file gets: atomic writes stay whole and
readable by the service user; two exports of one model folder take turns and both finish."""

import json
import os
import shutil
import stat
import subprocess
import sys
import threading

import pytest

from edgecell.core import atomic, folder_lock


def test_concurrent_writers_of_one_target_all_succeed_and_leave_a_whole_file(tmp_path):
    target = tmp_path / "model.tflite"
    blocks = {n: bytes([n]) * (2 << 20) for n in range(8)}
    errors = []

    def writer(n):
        for _ in range(6):
            try:
                atomic.write_bytes(target, blocks[n])
            except OSError as error:  # the sweep used to delete another writer's temporary file
                errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert target.read_bytes() in blocks.values()
    assert [p.name for p in tmp_path.iterdir()] == ["model.tflite"]


def test_a_killed_writers_leftover_is_swept_by_the_next_write_and_a_live_ones_kept(tmp_path):
    target = tmp_path / "report.json"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = tmp_path / f".report.json.partial-{gone.stdout.strip()}-abc123"  # a writer killed part-way
    older = tmp_path / ".report.json.partial-xyz"  # before process ids were in the name
    live = tmp_path / f".report.json.partial-{os.getppid()}-def456"  # a writer still at work
    for path in (left, older, live):
        path.write_text("{half")
    atomic.write_json(target, {"whole": True})
    assert not left.exists() and not older.exists() and live.exists()
    assert json.loads(target.read_text()) == {"whole": True}


def test_a_written_file_follows_the_umask_or_keeps_the_mode_it_replaces(tmp_path):
    old = os.umask(0o022)
    try:
        new = atomic.write_text(tmp_path / "labels.txt", "cat\n")
        assert stat.S_IMODE(new.stat().st_mode) == 0o644  # readable by the service user, not mkstemp's 0600
        os.umask(0o077)
        assert stat.S_IMODE(atomic.write_text(tmp_path / "private.txt", "x").stat().st_mode) == 0o600
        os.chmod(new, 0o640)
        atomic.write_text(new, "dog\n")
        assert stat.S_IMODE(new.stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_a_folder_lock_makes_the_second_run_wait_and_say_so(tmp_path):
    said, order = [], []
    with folder_lock.locked(tmp_path, "export"):

        def run_second():
            with folder_lock.locked(tmp_path, "export", said.append):
                order.append("second")

        second = threading.Thread(target=run_second)
        second.start()
        second.join(0.5)
        order.append("first")
    second.join(10)
    assert order == ["first", "second"]
    assert said == [f"Waiting for another export of {tmp_path} to finish ..."]


@pytest.mark.tf
@pytest.mark.slow
def test_two_exports_of_one_model_folder_both_finish_with_whole_files(trained_dir, tmp_path):
    from edgecell.device.model.classifier import Classifier

    model_dir = shutil.copytree(trained_dir, tmp_path / "model")
    command = [
        sys.executable,
        "-m",
        "edgecell",
        "export",
        str(model_dir),
        "--quantize",
        "float32",
        "--quantize",
        "float16",
    ]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum("Waiting for another export" in output for output in outputs) == 1, outputs
    export = model_dir / "export"
    report = json.loads((export / "export_report.json").read_text())
    assert [row["variant"] for row in report["variants"]] == ["float32", "float16"]
    for name in ("model_float32.tflite", "model_float16.tflite"):
        assert Classifier(export / name).labels == ["blue", "green", "red"]
    assert not any(".partial-" in p.name for p in export.iterdir())

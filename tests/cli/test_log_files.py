"""What export and demo write when their output is a file: no progress bar, one line per epoch,
none of TensorFlow's start-up lines (`train`'s own log is tested in test_train_baseline.py)."""

import os
import shutil
import subprocess

import pytest
from support.cli import edgecell_command

# What TensorFlow prints at start when its C++ log level is left alone (TF_CPP_MIN_LOG_LEVEL=0).
START_UP = ("absl::InitializeLog", "cpu_feature_guard", "oneDNN", "I0000 ", "W0000 ", "rebuild TensorFlow")


def logged(tmp_path, *args, env=None, timeout=600):
    """(exit code, text) of `edgecell ARGS` with standard output and error going to one file."""
    log = tmp_path / "run.log"
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    with log.open("w") as file:
        done = subprocess.run(
            edgecell_command(*args),
            stdout=file,
            stderr=subprocess.STDOUT,
            env={**environment, **(env or {})},
            timeout=timeout,
        )
    return done.returncode, log.read_text()


def quiet(text: str) -> bool:
    return "\b" not in text and "\r" not in text and not any(line in text for line in START_UP)


@pytest.mark.tf
@pytest.mark.slow
def test_an_export_log_holds_its_own_lines_only(trained_dir, tmp_path):
    model = shutil.copytree(trained_dir, tmp_path / "model")
    code, text = logged(tmp_path, "export", model, "--quantize", "float32")
    assert code == 0, text
    assert quiet(text), text
    assert text.splitlines()[0].startswith("Keras model: accuracy") and "Ship: float32." in text
    # the start-up lines are TensorFlow's to show when asked for
    code, text = logged(tmp_path, "export", model, "--quantize", "float32", env={"TF_CPP_MIN_LOG_LEVEL": "0"})
    assert code == 0 and not quiet(text), text


@pytest.mark.tf
@pytest.mark.slow
def test_a_demo_log_has_one_line_per_epoch(tmp_path):
    code, text = logged(tmp_path, "demo", "--out", tmp_path / "demo", "--epochs", 2)
    assert code in (0, 3), text  # 3: two epochs may leave int8 over its budget; the log is what is tested
    assert quiet(text), text
    lines = text.splitlines()
    assert sum(" - loss: " in line and " - val_loss: " in line for line in lines) == 2
    assert any(line.startswith("Demo done:") for line in lines)

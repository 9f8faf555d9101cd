"""Test virtual environments with another TFLite runtime, built once and reused.

Many boards still run tflite-runtime 2.14 (with numpy < 2). The tests that prove a model loads
there run it in a venv of its own under ~/.cache/edgecell-tests/, with this repository installed
without dependencies, so `edgecell.device` runs exactly as on such a board.
"""

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from support.paths import REPO

CACHE = Path(os.environ.get("EDGECELL_TEST_CACHE", Path.home() / ".cache" / "edgecell-tests"))

TFLITE_RUNTIME_214 = (
    "tflite-runtime==2.14.0",
    "numpy<2",
    "opencv-python-headless<4.11",
    "flatbuffers>=23.5.26",  # a base dependency of edgecell (standard metadata)
)


@contextlib.contextmanager
def _locked(path: Path):
    """One builder at a time: other pytest runs (helpers, CI) wait rather than build beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(command, what: str):
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"{what} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def base_python(newest=(3, 11)):
    """A Python that tflite-runtime 2.14 has wheels for (3.8 to 3.11): this one, or python3.11."""
    if (3, 8) <= sys.version_info[:2] <= newest:
        return sys.executable
    return shutil.which(f"python{newest[0]}.{newest[1]}")


def runtime_venv(name: str, requirements, python_for_venv=None) -> Path:
    """The python of venv `name` with `requirements` and this repo (editable, no deps) installed.

    Built once under CACHE and reused; a venv whose editable install points at another clone of
    the repository is pointed at this one again.
    """
    venv = CACHE / name
    python = venv / "bin" / "python"
    ready = venv / ".edgecell-ready"
    with _locked(CACHE / f".{name}.lock"):
        if not ready.exists():
            if venv.exists():
                _run(
                    [sys.executable, "-c", f"import shutil; shutil.rmtree({str(venv)!r})"], "removing a half-built venv"
                )
            _run([python_for_venv or sys.executable, "-m", "venv", venv], f"creating the venv {venv}")
            _run([python, "-m", "pip", "install", "-q", *requirements], f"pip install {' '.join(requirements)}")
            ready.write_text("\n".join(requirements) + "\n")
        elif ready.read_text() != "\n".join(requirements) + "\n":  # a venv built before a requirement was added
            _run([python, "-m", "pip", "install", "-q", *requirements], f"pip install {' '.join(requirements)}")
            ready.write_text("\n".join(requirements) + "\n")
        if _edgecell_repo(python) != REPO:
            _run([python, "-m", "pip", "install", "-q", "--no-deps", "-e", REPO], f"pip install --no-deps -e {REPO}")
    return python


def _edgecell_repo(python: Path):
    """The repository the venv's edgecell comes from, or None when it has none."""
    code = "import edgecell, pathlib; print(pathlib.Path(edgecell.__file__).resolve().parents[2])"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return Path(done.stdout.strip()) if done.returncode == 0 else None


# tflite-runtime's last release beside numpy 2, as `pip install tflite-runtime` on a new board gives.
TFLITE_RUNTIME_NUMPY_2 = (
    "tflite-runtime==2.14.0",
    "numpy>=2",
)


# Runs in the tflite-runtime 2.14 venv: each model through the device classifier, or its error.
CLASSIFY_IN_214 = """
import json, sys
from edgecell.device.input.image import load_rgb
from edgecell.device.model.classifier import Classifier
from edgecell.core.errors import EdgecellError
images = json.loads(sys.argv[1])
result = {}
for path in sys.argv[2:]:
    try:
        classifier = Classifier(path, runtime_name="tflite-runtime")
    except EdgecellError as error:
        result[path] = {"loads": False, "error": str(error)}
        continue
    scores = [classifier.classify(load_rgb(image)) for image in images]
    result[path] = {"loads": True, "runtime": classifier.runtime.name + " " + classifier.runtime.version,
                    "scores": [s.tolist() for s in scores]}
print(json.dumps(result))
"""


def run_in_214(python, models, images):
    """{model path: its scores on `images`, or why it did not load} from tflite-runtime 2.14's `python`."""
    done = subprocess.run(
        [str(python), "-c", CLASSIFY_IN_214, json.dumps(images), *map(str, models)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])

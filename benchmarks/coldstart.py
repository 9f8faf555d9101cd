"""Item 3: the whole process, start to answer, for one image: the device path against the
TensorFlow path a tutorial user runs.

Each side is a fresh Python process; its wall time is measured from spawn to exit, and its peak
memory is the kernel's accounting of that one child (ru_maxrss from wait4, taken by the small
launcher spawn.py), not anything Python reports about itself. The two commands take turns; the
ratio is of the medians. File caches are
warm after the first round, as they are on a board that has run the command before.
"""

import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from benchmarks.timing import Ratio

HERE = Path(__file__).resolve().parent
TARGET_TIME = 0.15
TARGET_MEMORY = 0.25


class Process(NamedTuple):
    seconds: float
    peak_mb: float
    exit_code: int
    stderr: str


def measure(argv) -> Process:
    """Run `argv` to completion through spawn.py: its wall time and the kernel's peak memory of it."""
    with tempfile.TemporaryFile() as err:
        launcher = subprocess.run(
            [sys.executable, str(HERE / "spawn.py"), *argv], stdout=subprocess.PIPE, stderr=err, text=True, check=True
        )
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    counted = json.loads(launcher.stdout.strip().splitlines()[-1])
    return Process(counted["seconds"], counted["peak_mb"], counted["exit_code"], stderr)


# Where `edgecell infer` is not installed: the same Classifier, called directly.
CLASSIFY_ONE = (
    "import sys; from edgecell.device.model.classifier import Classifier; "
    "from edgecell.device.input.image import load_rgb; "
    "print(Classifier(sys.argv[1]).classify(load_rgb(sys.argv[2])).argmax())"
)


def device_command(tflite, image) -> list:
    if importlib.util.find_spec("edgecell.cli.infer") is None:
        return [sys.executable, "-c", CLASSIFY_ONE, str(tflite), str(image)]
    return [sys.executable, "-m", "edgecell", "infer", "--model", str(tflite), str(image), "--quiet"]


def tutorial_command(model_dir, image, img_size: int) -> list:
    return [
        sys.executable,
        str(HERE / "tutorial_predict.py"),
        str(Path(model_dir) / "model.keras"),
        str(image),
        str(img_size),
    ]


def cold_start(tflite, model_dir, image, img_size: int, repeats: int = 3) -> list:
    commands = {"device": device_command(tflite, image), "tensorflow": tutorial_command(model_dir, image, img_size)}
    runs = {name: [] for name in commands}
    for i in range(repeats):
        for name in list(commands) if i % 2 == 0 else reversed(list(commands)):
            process = measure(commands[name])
            if process.exit_code != 0:
                last = (process.stderr.strip().splitlines() or ["no output"])[-1]
                raise RuntimeError(f"{' '.join(commands[name])} exited with {process.exit_code}: {last}")
            runs[name].append(process)
    time_of = {name: statistics.median(p.seconds for p in ps) for name, ps in runs.items()}
    memory_of = {name: statistics.median(p.peak_mb for p in ps) for name, ps in runs.items()}
    return [
        Ratio(
            3,
            "cold start for one image: edgecell infer (int8) / Keras load_model + predict",
            time_of["device"] / time_of["tensorflow"],
            TARGET_TIME,
            f"{time_of['device']:.2f} / {time_of['tensorflow']:.2f} s (medians of {repeats} processes)",
        ),
        Ratio(
            3,
            "peak memory of that process: edgecell infer / Keras",
            memory_of["device"] / memory_of["tensorflow"],
            TARGET_MEMORY,
            f"{memory_of['device']:.0f} / {memory_of['tensorflow']:.0f} MB (kernel's ru_maxrss of the child)",
        ),
    ]

"""How fast a one-image `edgecell infer` answers, against the least a Python program can do.

    python benchmarks/startup.py [--rounds 15] [--model M.tflite] [--image I.png]

Three fresh processes do the same work (load the model, decode the image, invoke, print one
line), taking turns so a busy machine slows all three alike:
- `plain`: a script with no CLI library (the floor);
- `typer`: a minimal Typer app around the same lines, under the Typer installed here;
- `edgecell`: `edgecell infer IMAGE --model M -q`.
Targets: edgecell / typer <= 1.15 (edgecell adds little to its CLI library) and edgecell / plain
<= 2.2. Ratios of medians of wall time, spawn to exit.

The children may write bytecode (PYTHONDONTWRITEBYTECODE is dropped for them), as an installed
package does: pip compiles a wheel's modules when it installs them, and an untimed first round
writes the caches of an editable checkout. Without it every run would compile edgecell's modules
from source (about 50 ms here), which no board pays.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_TYPER = 1.15
TARGET_PLAIN = 2.2

WORK = """
import sys
import cv2
import numpy as np
try:
    from ai_edge_litert.interpreter import Interpreter
except ImportError:
    from tflite_runtime.interpreter import Interpreter


def classify(model, image):
    interpreter = Interpreter(model_path=model)
    interpreter.allocate_tensors()
    given, taken = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    height, width = given["shape"][1:3]
    rgb = cv2.cvtColor(cv2.imread(image), cv2.COLOR_BGR2RGB)
    pixels = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    interpreter.set_tensor(given["index"], pixels[None].astype(given["dtype"]))
    interpreter.invoke()
    scores = interpreter.get_tensor(taken["index"])[0]
    return int(np.argmax(scores))
"""
PLAIN = WORK + "\nprint(image := sys.argv[2], classify(sys.argv[1], image))\n"
TYPER = (
    WORK
    + """
import typer


def main(image: str, model: str = typer.Option(...)):
    print(image, classify(model, image))


typer.run(main)
"""
)


def commands(model: Path, image: Path, folder: Path) -> dict:
    (folder / "plain.py").write_text(PLAIN)
    (folder / "typer_app.py").write_text(TYPER)
    return {
        "plain": [sys.executable, str(folder / "plain.py"), str(model), str(image)],
        "typer": [sys.executable, str(folder / "typer_app.py"), str(image), "--model", str(model)],
        "edgecell": [sys.executable, "-m", "edgecell", "infer", str(image), "--model", str(model), "-q"],
    }


def measure(model: Path, image: Path, rounds: int = 15) -> dict:
    """{name: [seconds, ...]} of each command, in turns (order reversed every round), after one
    untimed round that warms the file caches."""
    with tempfile.TemporaryDirectory() as folder:
        argv = commands(model, image, Path(folder))
        seconds = {name: [] for name in argv}
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        for i in range(rounds + 1):
            for name in argv if i % 2 == 0 else reversed(list(argv)):
                start = time.perf_counter()
                done = subprocess.run(argv[name], capture_output=True, text=True, env=env)
                if done.returncode not in (0, 1):
                    raise RuntimeError(f"{name} exited with {done.returncode}: {done.stderr.strip()[-300:]}")
                if i:
                    seconds[name].append(time.perf_counter() - start)
    return seconds


def ratios(seconds: dict) -> list:
    median = {name: statistics.median(values) for name, values in seconds.items()}
    return [
        ("edgecell infer / minimal Typer app", median["edgecell"] / median["typer"], TARGET_TYPER, median),
        ("edgecell infer / plain script", median["edgecell"] / median["plain"], TARGET_PLAIN, median),
    ]


def main(argv=None) -> int:
    from edgecell.models import DEMO_IMAGES, DEMO_MODEL

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--model", type=Path, default=DEMO_MODEL)
    parser.add_argument("--image", type=Path, default=sorted(DEMO_IMAGES.glob("*.png"))[0])
    args = parser.parse_args(argv)
    import typer

    seconds = measure(args.model, args.image, args.rounds)
    print(f"Typer {typer.__version__}, Python {sys.version.split()[0]}, {args.rounds} rounds, medians of wall time")
    rows = ratios(seconds)
    for what, value, target, _ in rows:
        verdict = "met" if value <= target else "MISSED"
        print(f"{what}: {value:.3f} (target <= {target}) {verdict}")
    print("  " + ", ".join(f"{name} {1000 * m:.0f} ms" for name, m in rows[0][3].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

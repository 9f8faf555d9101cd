"""Ctrl-C during `edgecell train`, many times in a row: seconds to exit, exit code, the resume line.

    python benchmarks/train_interrupt.py                 # 20 runs, SIGINT at the first epoch line
    python benchmarks/train_interrupt.py --runs 5 --at "Epoch 2/"

Each run trains a small generated unbalanced dataset (tests/imagegen.cells_dataset, 32x32) in a
real subprocess and sends SIGINT `--delay` seconds after the line starting with `--at` appears.
A run passes when it exits 130 within 5 s of the signal, with no traceback and a last line that
says it was interrupted and how to go on (`--resume` once an epoch was saved). Prints one line
per run and the count of passes.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.imagegen import cells_dataset  # noqa: E402


def one_run(data: Path, out: Path, at: str, delay: float) -> tuple:
    args = ["train", str(data), "--out", str(out), "--img-size", "32", "--epochs", "20", "--batch-size", "4"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "edgecell", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith(at):
            break
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    rest, _ = process.communicate(timeout=60)
    seconds = time.monotonic() - sent
    output = "".join(seen) + rest
    last = output.rstrip().splitlines()[-1] if output.strip() else ""
    ok = process.returncode == 130 and seconds < 5 and "Traceback" not in output and last.startswith("Interrupted")
    return ok, process.returncode, seconds, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--at", default="Epoch 1/", help="send SIGINT after the line starting with this")
    parser.add_argument("--delay", type=float, default=0.2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        data = cells_dataset(Path(work) / "cells", counts={"disc": 30, "ring": 10, "square": 10, "dots": 10}, size=32)
        passed = 0
        for i in range(options.runs):
            ok, code, seconds, last = one_run(data, Path(work) / f"m{i}", options.at, options.delay)
            passed += ok
            print(f"run {i + 1}: {'ok' if ok else 'FAIL'} exit {code} after {seconds:.2f} s: {last}", flush=True)
    print(f"{passed} of {options.runs} runs passed")


if __name__ == "__main__":
    main()

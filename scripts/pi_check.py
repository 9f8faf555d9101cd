"""Classify the shipped demo images here and say what came out, or compare two such reports.

    python pi_check.py classify REPORT.json   # run with the python of an edgecell install
    python pi_check.py compare HOST.json BOARD.json [--expected models/demo/expected.json]

`classify` goes the way a user does, through `edgecell infer` on the demo images with
`--output FILE.jsonl`, and also hashes the raw output tensor of every image (the interpreter's
bytes, before dequantizing), so "the same predictions" means the same bytes, not just the same
top label. It imports numpy, OpenCV and a TFLite runtime only, like the board. `compare` exits 1
when a label, a score or a raw output differs, and prints which. Used by scripts/emulate_pi.sh.
"""

import argparse
import hashlib
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def classify(report_path: Path) -> dict:
    import cv2
    import numpy as np

    from edgecell.device.input.image import load_rgb
    from edgecell.device.model.classifier import Classifier
    from edgecell.models import DEMO_IMAGES, DEMO_MODEL

    images = sorted(p for p in DEMO_IMAGES.glob("*.png"))
    if not DEMO_MODEL.exists() or not images:
        sys.exit(
            f"pi_check: the demo model or images are missing under {DEMO_MODEL.parent}; "
            "was the wheel built after models/demo/ was made?"
        )
    edgecell = Path(sys.executable).with_name("edgecell")
    with tempfile.TemporaryDirectory() as tmp:
        results, summary = Path(tmp) / "results.jsonl", Path(tmp) / "summary.json"
        started = time.monotonic()
        subprocess.run(
            [
                str(edgecell),
                "infer",
                *map(str, images),
                "--model",
                "demo",
                "--output",
                str(results),
                "--summary",
                str(summary),
                "--quiet",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cli_seconds = time.monotonic() - started
        rows = [json.loads(line) for line in results.read_text().splitlines()]
        done = json.loads(summary.read_text())
        timing = {
            "first_invoke_ms": done["warmup"]["first_invoke_ms"],
            "invoke_p50_ms": done["latency_ms"]["invoke"]["p50"],
            "total_p50_ms": done["latency_ms"]["total"]["p50"],
        }

    classifier = Classifier(DEMO_MODEL)
    raw = {}
    for path in images:
        output = classifier.invoke(classifier.preprocess(load_rgb(path)))
        raw[path.name] = hashlib.sha256(np.ascontiguousarray(output).tobytes()).hexdigest()

    report = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "runtime": list(classifier.runtime),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "cli_seconds": round(cli_seconds, 2),
        "timing": timing,
        "predictions": {
            Path(r["source"]).name: {"label": r["label"], "score": r["score"], "status": r["status"]} for r in rows
        },
        "raw_sha256": raw,
    }
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def differences(host: dict, board: dict) -> list:
    """Sentences naming every image whose label, score or raw output differs."""
    found = []
    if set(host["predictions"]) != set(board["predictions"]):
        found.append(f"different images: {sorted(host['predictions'])} vs {sorted(board['predictions'])}")
    for name, expected in host["predictions"].items():
        got = board["predictions"].get(name)
        if got is not None and got != expected:
            found.append(f"{name}: {expected} here, {got} on {board['machine']}")
        if host["raw_sha256"].get(name) != board["raw_sha256"].get(name):
            found.append(f"{name}: raw output bytes differ")
    return found


def against_expected(board: dict, expected_path: Path) -> list:
    """Compare labels (and scores to 1e-6) with models/demo/expected.json, whatever its layout:
    {name: {label, score}} or {"images": {...}} or [{"image"/"source"/"name", label, score}]."""
    data = json.loads(expected_path.read_text())
    if isinstance(data, dict) and isinstance(data.get("images"), (dict, list)):
        data = data["images"]
    if isinstance(data, list):
        data = {Path(str(e.get("image") or e.get("source") or e.get("name") or e.get("file"))).name: e for e in data}
    found = []
    for name, entry in data.items():
        got = board["predictions"].get(Path(name).name)
        if not isinstance(entry, dict) or got is None:
            continue
        if entry.get("label") != got["label"] or abs(float(entry.get("score", got["score"])) - got["score"]) > 1e-6:
            found.append(
                f"{name}: expected.json says {entry.get('label')} {entry.get('score')}, "
                f"{board['machine']} gave {got['label']} {got['score']}"
            )
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("classify", help="classify the demo images with this python's edgecell")
    run.add_argument("report", type=Path)
    check = commands.add_parser("compare", help="compare a board report with this machine's")
    check.add_argument("host", type=Path)
    check.add_argument("board", type=Path)
    check.add_argument("--expected", type=Path, help="models/demo/expected.json, checked too when given")
    args = parser.parse_args()

    if args.command == "classify":
        report = classify(args.report)
        print(
            f"{report['machine']}: {len(report['predictions'])} images with {' '.join(report['runtime'])}, "
            f"numpy {report['numpy']}, OpenCV {report['opencv']}; first invoke "
            f"{report['timing']['first_invoke_ms']} ms, invoke p50 {report['timing']['invoke_p50_ms']} ms, "
            f"edgecell infer took {report['cli_seconds']} s"
        )
        return
    host, board = (json.loads(p.read_text()) for p in (args.host, args.board))
    found = differences(host, board)
    if args.expected is not None and args.expected.exists():
        found += against_expected(board, args.expected)
    for sentence in found:
        print(f"  MISMATCH {sentence}")
    verdict = "differ" if found else "identical (labels, scores and raw output bytes)"
    print(f"{board['machine']} vs {host['machine']}: {len(board['predictions'])} predictions {verdict}")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()

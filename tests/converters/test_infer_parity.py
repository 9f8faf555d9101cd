"""Parity with `edgecell export`'s evaluation: `edgecell infer` on the held-out files gives, file
for file, the prediction export's accuracy check computed, and so the accuracy it reported."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edgecell.cli.main import app

pytestmark = pytest.mark.tf


@pytest.mark.parametrize("variant", ["float32", "int8"])
def test_infer_matches_export_evaluation(exported_dir, tmp_path, variant):
    from edgecell.converters import check
    from edgecell.core.split import read_split
    from edgecell.device.model.classifier import Classifier

    report = json.loads((exported_dir / "export" / "export_report.json").read_text())
    row = next(r for r in report["variants"] if r["variant"] == variant)
    split = read_split(exported_dir)
    paths = [str(Path(split.root) / s.path) for s in split.test]
    truth = {p: split.classes[s.label] for p, s in zip(paths, split.test)}

    out = tmp_path / "r.jsonl"
    result = CliRunner().invoke(
        app, ["infer", *paths, "--model", row["file"], "--top-k", str(len(split.classes)), "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["source"] for r in rows] == paths

    # export's own evaluation functions on the same files
    held_out = check.load_held_out(paths, [s.label for s in split.test], Classifier(row["file"]).input_size)
    scores, _, _ = check.tflite_probabilities(Path(row["file"]), held_out)
    for r, expected in zip(rows, scores):
        ours = np.zeros(len(split.classes))
        for c in r["top_k"]:
            ours[split.classes.index(c["label"])] = c["score"]
        assert r["label"] == split.classes[int(expected.argmax())]
        assert ours == pytest.approx(expected, abs=1e-6)
    accuracy = np.mean([r["label"] == truth[r["source"]] for r in rows])
    assert accuracy == pytest.approx(row["accuracy"], abs=1e-12)

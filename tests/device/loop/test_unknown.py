"""`--unknown` on the shipped digits model: real frames through the runner, real results files,
the real CLI for the sentences a user sees."""

import json
import subprocess

import numpy as np
import pytest
from support.cli import edgecell_command

from edgecell.core.errors import EdgecellError
from edgecell.device.input import sources
from edgecell.device.loop import events, runner, unknown
from edgecell.device.loop.result import row
from edgecell.device.model.classifier import Classifier
from edgecell.device.sinks.results_file import ResultWriter
from edgecell.models import DEMO_IMAGES, DEMO_MODEL


@pytest.fixture(scope="module")
def digits():
    frames = [sources.decode(str(path)) for path in sorted(DEMO_IMAGES.glob("*.png"))]
    return Classifier(DEMO_MODEL), frames


def test_a_frame_under_the_threshold_is_answered_unknown_and_keeps_the_guess(digits):
    classifier, frames = digits
    plain = runner.classify_frame(classifier, frames[0])
    top = plain.classes[0]
    under = runner.classify_frame(classifier, frames[0], unknown=top.score + 1e-6)
    at = runner.classify_frame(classifier, frames[0], unknown=top.score)
    assert under.unknown and under.answer == "unknown" and under.classes[0] == top
    assert not at.unknown and at.answer == top.label  # at the threshold is answered, as export counts it
    found = row(under)
    assert found["label"] == "unknown" and found["top_k"][0]["label"] == top.label
    assert found["unknown_threshold"] == top.score + 1e-6
    assert "unknown_threshold" not in row(plain)


def test_the_summary_counts_unknowns_and_the_file_says_them(digits, tmp_path):
    classifier, digit_frames = digits
    rng = np.random.default_rng(0)
    noise = [
        f._replace(name=f"noise{i}", rgb=rng.integers(0, 256, f.rgb.shape, np.uint8))
        for i, f in enumerate(digit_frames)
    ]
    frames = digit_frames + noise  # the digits at 0.996, noise lower
    tops = [float(np.max(runner.classify_frame(classifier, f).scores)) for f in frames]
    threshold = 0.9
    output = tmp_path / "results.jsonl"
    with ResultWriter(output) as writer:
        summary = runner.run(
            classifier, iter(frames), ranking=runner.Ranking(unknown=threshold), warmup=0, on_result=writer.write
        )
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    expected = sum(top < threshold for top in tops)
    assert summary["images"]["unknown"] == expected == sum(r["label"] == "unknown" for r in rows) > 0
    assert "unknown" not in runner.run(classifier, iter(frames[:2]), warmup=0)["images"]


def test_a_run_of_unsure_frames_settles_as_an_unknown_event(digits):
    classifier, frames = digits
    detector = events.Detector(classifier.labels, hold=2)
    sure = [runner.classify_frame(classifier, frames[0], unknown=0.0) for _ in range(3)]
    unsure = [runner.classify_frame(classifier, frames[0], unknown=1.01) for _ in range(3)]
    found = [e for r in sure + unsure if (e := detector.update(r)) is not None]
    assert [(e.previous, e.label) for e in found] == [(None, sure[0].classes[0].label), (found[0].label, "unknown")]
    assert found[1].as_dict()["unknown_threshold"] == 1.01 and found[0].as_dict()["unknown_threshold"] == 0.0


def test_the_flag_is_auto_or_a_score(digits):
    classifier, _ = digits
    assert unknown.rule("0.7", classifier) == unknown.Rule(0.7, "--unknown 0.7")
    assert unknown.rule(None, classifier) is None
    for bad in ("1.5", "-0.1", "nan", "sure"):
        with pytest.raises(EdgecellError, match=rf"--unknown '{bad}' is neither auto nor a score between 0 and 1"):
            unknown.parse(bad)


def test_auto_on_a_model_without_a_threshold_is_one_sentence_and_exit_2():
    image = next(DEMO_IMAGES.glob("*.png"))
    done = subprocess.run(
        edgecell_command("infer", image, "--model", "demo", "--unknown", "auto"), capture_output=True, text=True
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "records no unknown threshold; export it again" in done.stderr and "--unknown 0.7" in done.stderr
    bad = subprocess.run(
        edgecell_command("infer", image, "--model", "demo", "--unknown", "2"), capture_output=True, text=True
    )
    assert bad.returncode == 2 and "--unknown '2' is neither auto nor a score between 0 and 1" in bad.stderr

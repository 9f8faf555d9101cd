"""Drift on streams of known scores: the reference made as export makes it, real results through
the tracker; a steady stream raises nothing, a shift raises `drift` within the window and `steady`
once it is over, and the window's memory is fixed."""

import json

import numpy as np
import pytest
from support.drift_streams import results, scores

from edgecell.converters.reference import reference
from edgecell.device.loop import drift
from edgecell.device.sinks.results_file import ResultWriter


@pytest.fixture
def tracker():
    rng = np.random.default_rng(0)
    return drift.Drift(reference(scores(rng, 400)), window=300), rng


def test_a_steady_stream_raises_no_event(tracker):
    found, rng = tracker
    events = [e for r in results(scores(rng, 20_000)) if (e := found.update(r)) is not None]
    assert events == [] and found.report()["judged"] and not found.drifting
    assert len(found._recent) == 300 and sum(found._scores) == sum(found._classes) == 300  # fixed memory


@pytest.mark.parametrize(
    "shifted",
    [
        {"sureness": 2.0},  # darker frames: the model is less sure
        {"shares": (0.2, 0.2, 0.6)},  # a new kind of cell, answered as the third class
    ],
)
def test_a_shift_raises_drift_within_the_window_and_steady_after_it(tracker, shifted):
    found, rng = tracker
    stream = [*scores(rng, 1000), *scores(rng, 1000, **shifted), *scores(rng, 1500)]
    events = [e for r in results(stream) if (e := found.update(r)) is not None]
    assert [e.state for e in events] == ["drift", "steady"], events
    assert 1000 < events[0].frame <= 1000 + 300  # within the window of the shift
    assert 2000 < events[1].frame <= 2000 + 2 * 300
    raised = events[0].as_dict()
    assert (
        raised["type"] == "drift"
        and max(raised["score_psi"] / raised["score_threshold"], raised["class_psi"] / raised["class_threshold"]) > 1
    )


def test_drift_events_are_rows_of_the_results_file(tracker, tmp_path):
    found, rng = tracker
    stream = [*scores(rng, 400), *scores(rng, 400, sureness=1.5)]
    events = [e for r in results(stream) if (e := found.update(r)) is not None]
    with ResultWriter(tmp_path / "r.jsonl") as jsonl, ResultWriter(tmp_path / "r.csv") as table:
        for sink in (jsonl, table):
            sink.event(events[0])
    row = json.loads((tmp_path / "r.jsonl").read_text())
    assert row["status"] == "drift" and row["state"] == "drift" and row["window"] == 300
    assert (tmp_path / "r.csv").read_text().splitlines()[1].startswith("frame")  # source, status drift, ...
    assert ",drift,drift," in (tmp_path / "r.csv").read_text()


def test_a_model_without_a_reference_has_no_tracker():
    assert drift.from_model({"labels": ["a"]}) is None and drift.from_model(None) is None
    assert drift.from_model({"reference": reference(scores(np.random.default_rng(1), 50))}, window=0) is None

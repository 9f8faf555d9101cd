"""converters/check.py: the paired totals by true class, on known counts."""

import numpy as np

from edgecell.converters import check
from edgecell.converters.export_report import _flip_table
from edgecell.converters.export_run import _line

CLASSES = ["basophil", "monocyte", "neutrophil"]


def _scores(answers):
    """One-hot scores answering `answers` (class indices)."""
    return np.eye(len(CLASSES), dtype=np.float32)[answers]


def test_flips_fall_on_the_classes_they_came_from_and_add_up_to_the_totals():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 200)
    keras = np.where(rng.random(200) < 0.9, labels, (labels + 1) % 3)
    tflite = keras.copy()
    lost = np.flatnonzero((labels == 1) & (keras == labels))[:3]  # three monocytes int8 gets wrong
    gained = np.flatnonzero((labels == 2) & (keras != labels))[:1]  # one neutrophil it gets right
    tflite[lost], tflite[gained] = 2, 2
    result = check.compare(_scores(keras), _scores(tflite), labels, CLASSES, [0.1], "LiteRT")

    for i, name in enumerate(CLASSES):  # the direct count, class by class
        mine = labels == i
        assert result.flips_by_class[name] == {
            "images": int(mine.sum()),
            "keras_only": int((mine & (keras == labels) & (tflite != labels)).sum()),
            "tflite_only": int((mine & (keras != labels) & (tflite == labels)).sum()),
        }
    assert result.flips_by_class["monocyte"]["keras_only"] == 3
    assert result.flips_by_class["neutrophil"]["tflite_only"] == 1
    assert sum(f["keras_only"] for f in result.flips_by_class.values()) == result.counts.keras_only == 3
    assert sum(f["tflite_only"] for f in result.flips_by_class.values()) == result.counts.tflite_only == 1


def test_the_report_and_the_terminal_say_which_classes_flipped():
    labels = np.array([0, 0, 1, 1, 1, 2])
    keras, tflite = np.array([0, 0, 1, 1, 1, 0]), np.array([0, 0, 1, 2, 2, 2])
    flips = check.compare(_scores(keras), _scores(tflite), labels, CLASSES, [0.1], "LiteRT").flips_by_class
    row = {
        "variant": "int8",
        "size_bytes": 2048,
        "accuracy": 4 / 6,
        "drop_points": 0.0,
        "agreement": 0.5,
        "latency_ms_p50": 0.1,
        "check": {"images": 6, "both": 3, "keras_only": 2, "tflite_only": 1, "neither": 0},
        "passed": True,
        "judgement": "within budget",
        "flips_by_class": flips,
    }
    line = _line(row)
    assert line.endswith("flipped, by true class: monocyte 2 lost, 0 gained of 3; neutrophil 0 lost, 1 gained of 1")
    assert "basophil" not in line  # nothing flipped there

    table = markdown_table(row)
    assert "| basophil | 2 | 0 / 0 |" in table
    assert "| monocyte | 3 | 2 / 0 |" in table
    assert "| neutrophil | 1 | 0 / 1 |" in table


def markdown_table(row):
    """The flip table of an export report holding `row` alone."""
    return "\n".join(_flip_table({"variants": [row], "classes": CLASSES}))


def test_a_report_written_before_flip_counts_has_no_flip_table():
    assert _flip_table({"variants": [{"variant": "int8"}], "classes": CLASSES}) == []

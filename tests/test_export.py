"""`edgecell export`: every variant checked on held-out images, the budget, the report."""

import json

import numpy as np
import pytest

from edgecell.converters.export import EXPORT_DIR
from edgecell.device.model import Classifier
from edgecell.device.image import load_resized
from edgecell.dataset import read_split

pytestmark = pytest.mark.tf

VARIANTS = ("float32", "float16", "dynamic", "int8")


def _report(model_dir):
    return json.loads((model_dir / EXPORT_DIR / "export_report.json").read_text())


def test_all_variants_are_written_checked_and_pass(exported_dir):
    report = _report(exported_dir)
    assert [v["variant"] for v in report["variants"]] == list(VARIANTS)
    assert report["failed"] == []
    assert report["keras"]["accuracy"] >= 0.9
    for row in report["variants"]:
        assert (exported_dir / EXPORT_DIR / f"model_{row['variant']}.tflite").stat().st_size == row["size_bytes"]
        assert row["drop_points"] <= 1.0 and row["agreement"] >= 0.9
        assert set(row["per_class_change"]) == {"blue", "green", "red"}
        assert row["latency_ms_p50"] > 0
    assert report["ship"] in VARIANTS
    assert (exported_dir / EXPORT_DIR / "labels.txt").read_text().split() == ["blue", "green", "red"]
    assert "| int8 |" in (exported_dir / EXPORT_DIR / "export_report.md").read_text()

"""The results file of a long run: appended across restarts, capped by rotation, lines whole."""

import csv
import json

import pytest

from edgecell.core.errors import EdgecellError
from edgecell.device.loop.result import Result, Timing
from edgecell.device.model.scores import Class
from edgecell.device.sinks.results_file import ResultWriter


def result(i):
    return Result(f"frame#{i}", [Class(3, "three", 0.875)], Timing(1.0, 0.5, 2.0, 0.1, 3.6))


def test_cap_rotates_to_dot_one_with_whole_lines(tmp_path):
    path = tmp_path / "results.jsonl"
    with ResultWriter(path, max_bytes=4096) as writer:
        for i in range(200):
            writer.write(result(i))
    older = tmp_path / "results.jsonl.1"
    assert writer.rotations >= 2
    assert path.stat().st_size <= 4096 and older.stat().st_size <= 4096
    rows = [json.loads(line) for f in (older, path) for line in f.read_text().splitlines()]
    sources = [row["source"] for row in rows]
    assert sources == [f"frame#{i}" for i in range(200 - len(rows), 200)]  # the newest rows, in order


def test_append_keeps_earlier_rows_and_one_csv_header(tmp_path):
    path = tmp_path / "results.csv"
    with ResultWriter(path) as writer:
        writer.write(result(0))
    with ResultWriter(path, append=True) as writer:
        writer.write(result(1))
    rows = list(csv.DictReader(path.open()))
    assert [row["source"] for row in rows] == ["frame#0", "frame#1"]
    with ResultWriter(path) as writer:  # without --append a run starts the file afresh
        writer.write(result(2))
    assert [row["source"] for row in csv.DictReader(path.open())] == ["frame#2"]


def test_csv_rotation_starts_each_file_with_its_header(tmp_path):
    path = tmp_path / "results.csv"
    with ResultWriter(path, max_bytes=4096) as writer:
        for i in range(100):
            writer.write(result(i))
    for f in (path, tmp_path / "results.csv.1"):
        assert f.read_text().startswith("source,status,label")


def test_a_cap_too_small_is_refused(tmp_path):
    with pytest.raises(EdgecellError, match="too small"):
        ResultWriter(tmp_path / "r.jsonl", max_bytes=100)


def test_appending_to_a_full_file_rotates_before_the_first_row(tmp_path):
    path = tmp_path / "results.jsonl"
    with ResultWriter(path, max_bytes=4096) as writer:
        while path.stat().st_size < 4096 - 300:
            writer.write(result(writer.rows))
    with ResultWriter(path, append=True, max_bytes=4096) as writer:
        for i in range(3):
            writer.write(result(1000 + i))
    assert path.stat().st_size <= 4096 and (tmp_path / "results.jsonl.1").stat().st_size <= 4096

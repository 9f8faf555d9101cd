"""What a results file and the terminal do with names and labels from outside: a name that is not
UTF-8, a planted link, a torn last line, spreadsheet formulas, escape codes, labels with `;`."""

import csv
import json
import os
import re
from datetime import datetime, timedelta, timezone

import pytest
from support.imagegen import write_rgb
from typer.testing import CliRunner

from edgecell.core.errors import EdgecellError
from edgecell.device.input.image import load_rgb
from edgecell.device.loop.result import Result, Timing
from edgecell.device.model.scores import Class
from edgecell.device.sinks.results_file import FIELDS, ResultWriter
from edgecell.device.sinks.terminal import line
from edgecell.models import DEMO_IMAGES

ODD_NAME = os.fsdecode(b"/data/bad\xff\xfe.png")  # what os.listdir gives for a name that is not UTF-8


def result(name="frame", label="three", error=None):
    classes = [] if error else [Class(3, label, 0.875), Class(1, "one", 0.1)]
    return Result(name, classes, Timing(1.0, 0.5, 2.0, 0.1, 3.6), error)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_name_that_is_not_utf8_is_written_escaped_and_the_run_goes_on(tmp_path, suffix):
    path = tmp_path / f"results{suffix}"
    with ResultWriter(path) as writer:
        writer.write(result(ODD_NAME))
        writer.write(result("next.png"))
    text = path.read_bytes().decode("utf-8")  # the file stays valid UTF-8
    if suffix == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        assert rows[0]["source"] == "/data/bad\\udcff\\udcfe.png" and rows[1]["source"] == "next.png"
    else:
        rows = [json.loads(row) for row in text.splitlines()]
        assert os.fsencode(rows[0]["source"]) == b"/data/bad\xff\xfe.png"  # the exact bytes come back
        assert rows[1]["source"] == "next.png"


def test_a_planted_link_or_a_file_of_something_else_is_refused_and_kept(tmp_path):
    precious = tmp_path / "thesis.csv"
    precious.write_text("chapter,words\n1,5000\n")
    (tmp_path / "results.csv").symlink_to(precious)
    with pytest.raises(EdgecellError, match="is a symbolic link"):
        ResultWriter(tmp_path / "results.csv")
    with pytest.raises(EdgecellError, match="exists and is not an edgecell results file"):
        ResultWriter(precious)
    with pytest.raises(EdgecellError, match="exists and is not an edgecell results file"):
        ResultWriter(precious, append=True)
    assert precious.read_text() == "chapter,words\n1,5000\n"
    os.mkfifo(tmp_path / "pipe.jsonl")
    with pytest.raises(EdgecellError, match="is not a regular file"):
        ResultWriter(tmp_path / "pipe.jsonl")
    with ResultWriter(tmp_path / "mine.csv") as writer:  # a results file is overwritten without a word
        writer.write(result("a"))
    with ResultWriter(tmp_path / "mine.csv") as writer:
        writer.write(result("b"))
    assert [row["source"] for row in csv.DictReader((tmp_path / "mine.csv").open())] == ["b"]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_append_after_a_torn_line_starts_on_a_new_line_and_rows_carry_utc_time(tmp_path, suffix):
    path = tmp_path / f"results{suffix}"
    with ResultWriter(path) as writer:
        writer.write(result("before"))
    whole = path.read_bytes()
    with path.open("ab") as f:  # the power went mid-row
        f.write(b'{"source": "torn' if suffix == ".jsonl" else b"torn,o")
    with ResultWriter(path, append=True) as writer:
        writer.write(result("after"))
    lines = path.read_bytes().decode().splitlines()
    assert path.read_bytes().startswith(whole) and lines[-2].startswith(("torn", '{"source": "torn'))
    last = json.loads(lines[-1]) if suffix == ".jsonl" else dict(zip(FIELDS, next(csv.reader([lines[-1]]))))
    assert last["source"] == "after"
    stamp = datetime.fromisoformat(last["time_utc"].replace("Z", "+00:00"))
    assert stamp.tzinfo is not None and abs(datetime.now(timezone.utc) - stamp) < timedelta(minutes=1)


def test_csv_cells_are_text_to_a_spreadsheet_and_top_k_is_unambiguous(tmp_path):
    path = tmp_path / "results.csv"
    with ResultWriter(path) as writer:
        writer.write(result('=HYPERLINK("http://x","y")', label="a:b;c"))
        writer.write(result("+cmd", error="@SUM(1)"))
        writer.write(result("-2"))
    rows = list(csv.DictReader(path.open()))
    assert rows[0]["source"].startswith("'=") and rows[1]["source"] == "'+cmd" and rows[2]["source"] == "'-2"
    assert rows[1]["error"] == "'@SUM(1)"
    assert rows[0]["label"] == "a:b;c"
    entries = re.split(r"(?<!\\);", rows[0]["top_k"])
    assert entries == ["a\\:b\\;c:0.875000", "one:0.100000"]


def test_a_row_over_the_cap_is_shortened_not_written_past_it(tmp_path):
    path = tmp_path / "results.jsonl"
    big = result("x" * 3000, label="y" * 1000)._replace(classes=[Class(i, "y" * 1000, 0.1) for i in range(20)])
    with ResultWriter(path, max_bytes=4096) as writer:
        for _ in range(3):
            writer.write(big)
    for name in (path, tmp_path / "results.jsonl.1"):
        assert name.stat().st_size <= 4096
    row = json.loads(path.read_text().splitlines()[-1])
    assert len(row["top_k"]) == 1 and row["source"].endswith("...")


def test_escape_codes_in_names_and_labels_do_not_reach_the_terminal(tmp_path):
    shown = line(result("evil\x1b]0;owned\x07\x1b[2J.png", label="cat\x1b[31m\u202e"))
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert "evil\\x1b]0;owned\\x07\\x1b[2J.png" in shown and "cat\\x1b[31m\\u202e" in shown
    assert "bad\\udcff\\udcfe.png" in line(result(ODD_NAME, error="not a decodable image"))


def test_infer_prints_an_odd_name_escaped(tmp_path):
    from edgecell.cli.main import app

    folder = tmp_path / "in"
    folder.mkdir()
    source = sorted(DEMO_IMAGES.glob("*.png"))[0]
    write_rgb(folder / "x.png", load_rgb(source))
    os.rename(folder / "x.png", os.path.join(os.fsencode(folder), b"\x1b[2Jbad\xff.png"))
    output = CliRunner().invoke(app, ["infer", str(folder), "--model", "demo"]).output
    assert "\x1b" not in output and "\\x1b[2Jbad\\udcff.png" in output


def test_info_shows_escape_codes_in_metadata_labels_escaped(tmp_path):
    from edgecell.cli.main import app
    from edgecell.converters import flatbuffer
    from edgecell.device.model import edgecell_metadata
    from edgecell.models import DEMO_MODEL

    content = DEMO_MODEL.read_bytes()
    meta = edgecell_metadata.read(content)
    meta["labels"] = ["zero\x1b]0;owned\x07", "one\x1b[2J", *meta["labels"][2:]]
    path = tmp_path / "evil.tflite"
    path.write_bytes(flatbuffer.set_metadata(content, edgecell_metadata.METADATA_NAME, json.dumps(meta).encode()))
    result = CliRunner().invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "zero\\x1b]0;owned\\x07" in result.output and "one\\x1b[2J" in result.output


def test_max_pixels_on_the_command_line(tmp_path):
    from edgecell.cli.main import app

    folder = tmp_path / "in"
    write_rgb(folder / "small.png", load_rgb(sorted(DEMO_IMAGES.glob("*.png"))[0]))
    result = CliRunner().invoke(app, ["infer", str(folder), "--model", "demo", "--max-pixels", "10"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "declares 8x8 pixels (0 megapixels), over the 1e-05-megapixel cap (--max-pixels)" in result.output
    assert CliRunner().invoke(app, ["infer", str(folder), "--model", "demo"]).exit_code == 0

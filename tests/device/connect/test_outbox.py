"""The on-disk queue behind `--mqtt`: order, the cap, what a restarted run finds, one user at a time."""

import pytest

from edgecell.core.errors import EdgecellError
from edgecell.device.connect import outbox
from edgecell.device.connect.outbox import Outbox


def records(n, start=0):
    return [f'{{"seq": {i}, "pad": "{"x" * 100}"}}'.encode() for i in range(start, start + n)]


def drain(box) -> list:
    out = []
    while (record := box.peek()) is not None:
        out.append(record)
        box.pop()
    return out


def test_first_in_first_out_across_segments(tmp_path, monkeypatch):
    monkeypatch.setattr(outbox, "SEGMENT_BYTES", 1000)
    box = Outbox(tmp_path / "q", max_bytes=1 << 20)
    items = records(100)
    for record in items[:60]:
        assert box.append(record)
    taken = [box.pop() for _ in range(30)]
    for record in items[60:]:  # appended while the head segment is being read
        box.append(record)
    assert len(box) == 70
    assert taken + drain(box) == items
    assert box.bytes == 0 and not list((tmp_path / "q").glob("*.q"))  # read segments are deleted
    box.close()


def test_the_cap_refuses_new_records_and_counts_them(tmp_path):
    box = Outbox(tmp_path / "q", max_bytes=10 * 1024)
    items = records(200)
    kept = [r for r in items if box.append(r)]
    assert 0 < len(kept) < 200 and box.dropped == 200 - len(kept)
    assert kept == items[: len(kept)]  # the oldest are kept, in order
    assert box.bytes <= 10 * 1024
    assert drain(box) == kept
    box.close()


def test_a_restarted_run_gets_what_was_left_in_order(tmp_path):
    items = records(50)
    box = Outbox(tmp_path / "q", max_bytes=1 << 20)
    for record in items:
        box.append(record)
    first = [box.pop() for _ in range(10)]
    box.close(front=first[-2:])  # the last two were taken but never acknowledged
    again = Outbox(tmp_path / "q", max_bytes=1 << 20)
    assert len(again) == 42
    assert drain(again) == items[8:]
    again.close()


def test_one_run_at_a_time(tmp_path):
    box = Outbox(tmp_path / "q", max_bytes=1 << 20)
    with pytest.raises(EdgecellError, match="Another edgecell run is using the outbox"):
        Outbox(tmp_path / "q", max_bytes=1 << 20)
    box.close()
    Outbox(tmp_path / "q", max_bytes=1 << 20).close()


def test_a_record_cut_short_by_a_crash_is_cut_off(tmp_path):
    """What a power cut mid-write leaves: a segment ending in part of a record, or in zeros."""
    items = records(10)
    box = Outbox(tmp_path / "q", max_bytes=1 << 20)
    for record in items:
        box.append(record)
    box.close()
    (segment,) = (tmp_path / "q").glob("*.q")
    whole = segment.read_bytes()
    segment.write_bytes(whole[:-40])
    again = Outbox(tmp_path / "q", max_bytes=1 << 20)
    assert again.torn == 1 and len(again) == 9 and segment.read_bytes() == whole[: whole.rfind(b"\n", 0, -1) + 1]
    again.append(items[9])  # a new record starts on a line of its own
    assert drain(again) == items
    again.close()
    segment = tmp_path / "q" / "000000000001.q"
    segment.write_bytes(items[0] + b"\n" + b"\x00" * 4096)
    zeros = Outbox(tmp_path / "q", max_bytes=1 << 20)
    assert zeros.torn == 1 and drain(zeros) == items[:1]
    zeros.close()

"""What watch takes from one message, and the reason it gives for one it refuses."""

import json

import pytest

from edgecell.device.connect.watch_message import MAX_BYTES, MAX_LABEL, BadMessage, fields


def test_what_a_board_sends_is_taken():
    stats = {"images_per_second": 5, "latency_ms": {"p50": 12.5, "p90": None}, "last_label": "bird", "extra": [1]}
    assert fields("stats", json.dumps(stats).encode()) == {
        "images_per_second": 5.0,
        "latency_p50_ms": 12.5,
        "cpu_temperature_c": None,
        "last_label": "bird",
    }
    assert "last_label" not in fields("stats", b'{"last_label": null, "latency_ms": null}')  # keeps the event's
    assert fields("event", '{"label": "café"}'.encode()) == {"last_label": "café"}
    assert fields("status", b"offline") == {"online": False}
    assert len(fields("event", json.dumps({"label": "x" * 10_000}).encode())["last_label"]) == MAX_LABEL


@pytest.mark.parametrize(
    "kind, payload, reason",
    [
        ("stats", b'{"images_per_second": "fast"}', "images_per_second is 'fast', not a number"),
        ("stats", b'{"latency_ms": [1, 2]}', "latency_ms is [1, 2], not an object with p50"),
        ("stats", b'{"latency_ms": {"p50": "1"}}', "latency_ms.p50 is '1', not a number"),
        ("stats", b'{"cpu_temperature_c": true}', "cpu_temperature_c is True, not a number"),
        ("stats", b'{"images_per_second": NaN}', "images_per_second is a huge or NaN number, not a number"),
        ("stats", b'{"images_per_second": 1e999}', "images_per_second is a huge or NaN number"),
        ("stats", b'{"images_per_second": ' + b"9" * 400 + b"}", "images_per_second is a huge or NaN number"),
        ("stats", b'{"images_per_second": ' + b"9" * 5000 + b"}", "not JSON"),
        ("stats", b'{"images_per_second": 1', "not JSON"),
        ("stats", b"[1, 2]", "JSON list, not an object"),
        ("stats", b'{"last_label": "caf\xe9"}', "not UTF-8 (byte 19)"),
        ("event", b'{"label": ["a"]}', "label is ['a'], not a string"),
        ("status", b"\xff", "not UTF-8"),
        ("status", b"maybe", "status 'maybe', not online or offline"),
        ("stats", b" " * (MAX_BYTES + 1), f"{MAX_BYTES + 1} bytes, over the 64 KiB"),
    ],
)
def test_what_is_refused_says_why(kind, payload, reason):
    with pytest.raises(BadMessage) as refused:
        fields(kind, payload)
    assert reason in str(refused.value)
    assert len(str(refused.value)) < 200  # a log line, whatever the payload

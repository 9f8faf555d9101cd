"""`edgecell watch`: the fleet table from a real Mosquitto, two boards publishing at once."""

import json
import signal
import subprocess

import pytest
from support.cli import edgecell_command
from support.imagegen import digits_video

from edgecell.device.connect.watch_table import Fleet


@pytest.mark.slow
def test_two_boards_publishing_at_once(mosquitto, tmp_path):
    """Two real `edgecell infer --mqtt` processes (a video of one digit each, replayed as a camera)
    and `edgecell watch` in a third: the table has both boards, online, with their labels."""

    def edgecell(*args):
        command = edgecell_command(*args)
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    boards = [
        edgecell(
            *("infer", "--model", "demo", "--camera", digits_video(tmp_path / f"{name}.avi", digit, 10)),
            *("--max-fps", "30", "-q"),
            *("--mqtt", mosquitto.url, "--device-id", name, "--stats-every", "0.3", "--mqtt-outbox", tmp_path / name),
        )
        for name, digit in (("pi-a", "3"), ("pi-b", "7"))
    ]
    watcher = edgecell("watch", mosquitto.url, "--json", "-", "--every", "0.5", "--duration", "5")
    try:
        out, err = watcher.communicate(timeout=30)
    finally:
        for board in boards:
            board.send_signal(signal.SIGTERM)  # as systemd stops the service
        for board in boards:
            board.communicate(timeout=30)
    assert watcher.returncode == 0, err
    snapshots = [json.loads(line) for line in out.splitlines()]
    assert len(snapshots) >= 5
    seen = {row["device"]: row for row in snapshots[-1]["devices"]}
    assert set(seen) == {"pi-a", "pi-b"}, (snapshots[-1], [b.stderr for b in boards])
    assert seen["pi-a"]["online"] is True and seen["pi-a"]["last_label"] == "3"
    assert seen["pi-b"]["online"] is True and seen["pi-b"]["last_label"] == "7"
    assert seen["pi-a"]["images_per_second"] > 0 and seen["pi-b"]["latency_p50_ms"] > 0
    assert all(board.returncode == 0 for board in boards)


def test_the_table_and_what_it_ignores():
    fleet = Fleet("home/edgecell")
    fleet.on_message("home/edgecell/feeder/status", b"online", now=100.0)
    stats = {"images_per_second": 2.5, "latency_ms": {"p50": 12.25}, "last_label": "bird", "cpu_temperature_c": 51.0}
    fleet.on_message("home/edgecell/feeder/stats", json.dumps(stats).encode(), now=101.0)
    fleet.on_message("home/edgecell/door/status", b"offline", now=90.0)
    fleet.on_message("home/edgecell/door/stats", b"{not json", now=95.0)  # garbled: ignored
    fleet.on_message("home/other/x/stats", b"{}", now=95.0)  # another prefix
    lines = fleet.table(now=111.0).splitlines()
    assert lines[0].split()[:2] == ["device", "online"]
    assert lines[1].split() == ["door", "NO", "-", "-", "-", "-", "21", "s", "ago"]
    assert lines[2].split() == ["feeder", "yes", "2.5", "12.25", "bird", "51.0", "10", "s", "ago"]
    assert [row["device"] for row in fleet.snapshot()["devices"]] == ["door", "feeder"]

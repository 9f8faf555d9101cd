"""`edgecell watch`: the fleet table from a real Mosquitto, two boards publishing at once."""

import json
import subprocess
import sys
import threading
import time

import pytest

from edgecell.device import broker, runner, sources
from edgecell.device.fleet import Fleet
from edgecell.device.model import Classifier
from edgecell.device.mqtt import Publisher
from edgecell.models import DEMO_IMAGES, DEMO_MODEL


@pytest.mark.slow
def test_two_boards_publishing_at_once(mosquitto, tmp_path):
    watcher = subprocess.Popen(
        [sys.executable, "-m", "edgecell", "watch", mosquitto.url, "--json", "-", "--every", "0.5", "--duration", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    images = [sources.decode(str(p)) for p in sorted(DEMO_IMAGES.glob("*.png"))]
    stop = runner.Stop()

    def board(name, digit):
        sink = Publisher(broker.parse_url(mosquitto.url), name, tmp_path / name, stats_every=0.3, log=lambda m: None)
        frames = (time.sleep(0.01) or images[digit] for _ in range(100000))  # a 100 fps camera on one digit
        try:
            runner.run(Classifier(DEMO_MODEL), frames, on_result=sink.write, prefetch=0, stop=stop)
        finally:
            sink.close()

    boards = [threading.Thread(target=board, args=(name, digit)) for name, digit in (("pi-a", 3), ("pi-b", 7))]
    for thread in boards:
        thread.start()
    try:
        out, err = watcher.communicate(timeout=30)
    finally:
        stop.set("test")
        for thread in boards:
            thread.join(30)
    assert watcher.returncode == 0, err
    snapshots = [json.loads(line) for line in out.splitlines()]
    assert len(snapshots) >= 3
    seen = {row["device"]: row for row in snapshots[-1]["devices"]}
    assert set(seen) == {"pi-a", "pi-b"}
    assert seen["pi-a"]["online"] is True and seen["pi-a"]["last_label"] == "3"
    assert seen["pi-b"]["online"] is True and seen["pi-b"]["last_label"] == "7"
    assert seen["pi-a"]["images_per_second"] > 0 and seen["pi-b"]["latency_p50_ms"] > 0


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

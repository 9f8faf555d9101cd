"""Drift on a real Mosquitto: the stats message carries the run's tracker as it judges a stream that
shifts, and a drift event goes to its own topic."""

import json

from support.drift_streams import shifted_tracker
from support.mosquitto import Recorder

from edgecell.device.connect import broker
from edgecell.device.connect.mqtt import Publisher, Publishing


def test_mqtt_stats_say_the_drift(mosquitto, tmp_path):
    recorder = Recorder(mosquitto.port, ["edgecell/#"])
    publishing = Publishing(reconnect=(0.1, 0.5), stats_every=0.2, model="digits")
    sink = Publisher(broker.parse_url(mosquitto.url), "pi-1", tmp_path / "outbox", publishing, log=lambda m: None)
    try:
        tracker, began = shifted_tracker()
        sink.follow(tracker)
        sink.event(began)
        assert recorder.wait_for(lambda r: len(r.on("/stats")) >= 1 and len(r.on("/drift")) == 1, 10)
    finally:
        sink.close()
    stats = json.loads(recorder.on("/stats")[-1])
    assert stats["drift"]["drifting"] and stats["drift"]["events"] == 1
    published = json.loads(recorder.on("/drift")[0])
    assert published["type"] == "drift" and published["state"] == "drift" and published["device"] == "pi-1"
    assert recorder.on("/event") == []  # Home Assistant's class sensor follows the event topic: not drift

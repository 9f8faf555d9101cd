"""Drift in MQTT's stats message, on a real Mosquitto: the run's tracker as it judges a stream that shifts."""

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
        sink.follow(shifted_tracker())
        assert recorder.wait_for(lambda r: len(r.on("/stats")) >= 1, 10)
    finally:
        sink.close()
    stats = json.loads(recorder.on("/stats")[-1])
    assert stats["drift"]["drifting"] and stats["drift"]["events"] == 1

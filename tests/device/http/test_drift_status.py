"""Drift where people look: /status.json and /metrics of a real server on loopback read the run's
tracker as it judges a stream that shifts."""

import json
import urllib.request

from prometheus_client.parser import text_string_to_metric_families
from support.drift_streams import shifted_tracker

from edgecell.device.http import server
from edgecell.device.http.live_state import Live
from edgecell.device.model.classifier import Classifier
from edgecell.models import DEMO_MODEL


def test_status_json_and_metrics_say_the_drift(tmp_path):
    tracker, began = shifted_tracker()
    classifier = Classifier(DEMO_MODEL)
    live = Live(str(DEMO_MODEL), classifier.runtime.name)
    live.follow(tracker)
    live.event(began)  # as the run hands it to every sink
    started = server.Server(server.Address("127.0.0.1", 0), live, server.Classify(classifier)).start()
    try:
        base = f"http://127.0.0.1:{started.server_address[1]}"
        status = json.loads(urllib.request.urlopen(base + "/status.json", timeout=10).read())
        metrics = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
    finally:
        started.close()
    assert status["drift"]["drifting"] and status["drift"]["window"] == 100
    shown = status["events"][-1]  # the live page lists it as it lists class changes
    assert shown["label"] == "drift" and shown["score"] == began.score_psi
    assert status["drift"]["score_psi"] > status["drift"]["thresholds"]["enter"][0]
    families = {f.name: f for f in text_string_to_metric_families(metrics)}
    scores_psi = {s.labels["of"]: s.value for s in families["edgecell_drift_psi"].samples}
    assert scores_psi["scores"] == status["drift"]["score_psi"]
    assert families["edgecell_drifting"].samples[0].value == 1.0

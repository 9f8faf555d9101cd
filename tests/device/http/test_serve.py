"""The board's HTTP server on loopback with the real demo model: /classify, its refusals, the token,
/status.json, /metrics and a bounded load. Every server is started and stopped by its test."""

import http.client
import json
import threading
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.bombs import jpeg_bomb
from support.serving import start_serving, stop
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.core.errors import EdgecellError
from edgecell.device.http import server
from edgecell.device.http.live_state import Live
from edgecell.device.input import sources
from edgecell.device.loop import runner
from edgecell.device.measure import thermal
from edgecell.device.model.classifier import Classifier
from edgecell.models import DEMO_MODEL

pytestmark = pytest.mark.skipif(not DEMO_MODEL.exists(), reason="the demo model is not built here")
IMAGES = DEMO_MODEL.parent / "images"
EXPECTED = json.loads((DEMO_MODEL.parent / "expected.json").read_text())
TOKEN = "s3cret-token-of-22-ch"


@pytest.fixture(scope="module")
def classifier():
    return Classifier(DEMO_MODEL)


@pytest.fixture
def running(classifier):
    live = Live(str(DEMO_MODEL), classifier.runtime.name)
    started = server.Server(server.Address("127.0.0.1", 0), live, server.Classify(classifier), max_body_mb=0.05).start()
    yield started
    started.close()


@pytest.fixture
def guarded(classifier):
    live = Live(str(DEMO_MODEL), classifier.runtime.name)
    started = server.Server(server.Address("127.0.0.1", 0), live, server.Classify(classifier), token=TOKEN).start()
    yield started
    started.close()


def request(running, method, path, body=None, headers=None):
    """(status, headers, body bytes) of one request on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", running.server_address[1], timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def png(name="3_0045.png") -> bytes:
    return (IMAGES / name).read_bytes()


def test_classify_gives_the_label_the_classifier_gives(running, classifier):
    for name in ("3_0045.png", "7_0118.png"):
        status, headers, body = request(running, "POST", "/classify", png(name), {"Content-Type": "image/png"})
        assert status == 200 and headers["Content-Type"] == "application/json"
        answer = json.loads(body)
        assert answer["label"] == EXPECTED[name]["label"]
        assert answer["score"] == pytest.approx(EXPECTED[name]["score"], abs=1e-6)
        assert answer["total_ms"] > 0 and answer["status"] == "ok"


def test_each_bad_body_is_its_own_4xx_and_the_server_stays_up(running, tmp_path):
    ok, encoded = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))
    jpeg = encoded.tobytes()
    cases = {
        "empty": (b"", 400, "empty"),
        "huge": (b"\x89PNG" + bytes(100_000), 413, "cap"),
        "truncated": (jpeg[: len(jpeg) // 2], 422, "truncated"),
        "not an image": (b"hello, this is text and not a picture", 415, "not an image"),
        "a bomb": (jpeg_bomb(tmp_path / "bomb.jpg").read_bytes(), 413, "pixel"),
        # what `curl -F file=@img` sends: named for what it is, with the command that works
        "a form": (
            b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\n' + png() + b"\r\n--xyz--",
            415,
            "multipart form; POST the image file itself as the body: curl --data-binary @photo.jpg",
        ),
    }
    for what, (body, status, reason) in cases.items():
        got, headers, answer = request(running, "POST", "/classify", body)
        assert got == status, what
        assert reason in json.loads(answer)["error"], what
    status, _, body = request(running, "POST", "/classify", png())
    assert status == 200 and json.loads(body)["label"] == "3"


def test_wrong_or_missing_token_is_401_and_the_right_one_passes(guarded):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        status, answer_headers, body = request(guarded, "POST", "/classify", png(), headers)
        assert status == 401 and "token" in json.loads(body)["error"]
        assert answer_headers["WWW-Authenticate"].startswith("Bearer")
    assert request(guarded, "GET", "/status.json")[0] == 401
    status, _, body = request(guarded, "POST", "/classify", png(), {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and json.loads(body)["label"] == "3"
    assert request(guarded, "GET", "/")[0] == 200  # the page itself: the same bytes for all, no data
    assert request(guarded, "GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200


def test_addresses_and_exposure():
    assert server.parse_address("8080") == ("127.0.0.1", 8080)
    assert server.parse_address("0.0.0.0:9000") == ("0.0.0.0", 9000)
    assert server.parse_address("[::1]:80").loopback
    for bad in ("http", "70000", "host:"):
        with pytest.raises(EdgecellError, match="HOST:]PORT"):
            server.parse_address(bad)
    with pytest.raises(EdgecellError, match="give --token"):
        server.check_exposure(server.parse_address("0.0.0.0:8080"), None)
    server.check_exposure(server.parse_address("0.0.0.0:8080"), TOKEN)  # allowed: nothing is bound here
    with pytest.raises(EdgecellError, match="--token is 1 characters, too short .* at least 16"):
        server.check_exposure(server.parse_address("0.0.0.0:8080"), "x")
    server.check_exposure(server.parse_address("127.0.0.1:8080"), "x")  # loopback: the token is the user's choice
    server.check_exposure(server.parse_address("localhost:8080"), None)


def test_a_port_in_use_is_one_sentence(running, classifier):
    with pytest.raises(EdgecellError, match="choose another port"):
        server.Server(server.Address("127.0.0.1", running.server_address[1]), Live(), server.Classify(classifier))


def test_routes_and_methods(running):
    assert request(running, "GET", "/nope")[0] == 404
    status, headers, _ = request(running, "GET", "/classify")
    assert status == 405 and headers["Allow"] == "POST"
    assert request(running, "POST", "/status.json", b"x")[0] == 405
    status, headers, page = request(running, "GET", "/")
    assert status == 200 and b"status.json" in page and headers["Content-Type"].startswith("text/html")
    assert request(running, "GET", "/frame.jpg")[0] == 404  # nothing classified by a loop yet


def test_the_loop_feeds_status_metrics_and_the_frame(classifier):
    """The infer loop (reading ahead) hands results to Live; the frame shown is the last result's."""
    live = Live(str(DEMO_MODEL), classifier.runtime.name)
    names = sorted(p.name for p in IMAGES.glob("*.png")) * 3
    frames = live.tap(sources.frames([sources.Input(str(IMAGES / n), "image") for n in names]))
    runner.run(classifier, frames, prefetch=4, on_result=live.write)
    srv = server.Server(server.Address("127.0.0.1", 0), live, server.Classify(classifier)).start()
    try:
        status = json.loads(request(srv, "GET", "/status.json")[2])
        assert status["images"] == {"done": len(names), "failed": 0}
        assert status["latest"]["label"] == EXPECTED[names[-1]]["label"]
        assert status["latency_ms"]["p50"] > 0 and status["images_per_second"] > 0
        assert status["thermal"]["cpu_celsius"] == thermal.cpu_celsius()  # None where there is no zone
        code, headers, jpeg = request(srv, "GET", "/frame.jpg")
        assert code == 200 and headers["Content-Type"] == "image/jpeg"
        assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape[1] >= 320
        text = request(srv, "GET", "/metrics")[2].decode()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        images = {s.labels["status"]: s.value for s in families["edgecell_images"].samples}
        assert images == {"ok": len(names), "failed": 0}
        count = [s.value for s in families["edgecell_latency_seconds"].samples if s.name.endswith("_count")]
        assert count == [len(names)]
    finally:
        srv.close()
    assert len(live._pending) == 0  # every tapped frame matched its result


def test_bounded_load_of_four_clients_has_no_error(running):
    """4 keep-alive clients for 3 s on loopback: every answer is 200 with the right label."""
    body, errors, counts = png(), [], []

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", running.server_address[1], timeout=10)
        done, deadline = 0, time.monotonic() + 3.0
        try:
            while time.monotonic() < deadline and done < 5000:
                connection.request("POST", "/classify", body=body)
                response = connection.getresponse()
                answer = response.read()
                if response.status != 200 or json.loads(answer)["label"] != "3":
                    errors.append((response.status, answer[:200]))
                done += 1
        except Exception as error:  # noqa: BLE001 - any failure is what this test counts
            errors.append(repr(error))
        finally:
            connection.close()
            counts.append(done)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == [] and len(counts) == 4 and min(counts) > 10


def test_thermal_readings(tmp_path: Path):
    for index, (kind, millidegrees) in enumerate([("acpitz", "40000"), ("cpu-thermal", "61234")]):
        zone = tmp_path / f"thermal_zone{index}"
        zone.mkdir()
        (zone / "type").write_text(kind + "\n")
        (zone / "temp").write_text(millidegrees + "\n")
    assert thermal.cpu_celsius(tmp_path) == 61.2  # the CPU's zone, not the first
    assert thermal.cpu_celsius(tmp_path / "none") is None
    assert thermal.parse_throttled("throttled=0x50005\n") == 0x50005
    assert thermal.parse_throttled("error") is None
    assert thermal.flags(0x50005) == ("under-voltage", "throttled", "under-voltage occurred", "throttling occurred")
    reading = thermal.Sensor(tmp_path, vcgencmd=str(tmp_path / "no-vcgencmd")).read()
    assert reading.as_dict() == {"cpu_celsius": 61.2, "throttled": None, "throttle_flags": []}


def test_edgecell_serve_classifies_until_stopped_and_shows_what_it_was_sent(tmp_path):
    process, url = start_serving(["serve", "--model", "demo", "--top-k", "2"], tmp_path)
    try:
        posted = urllib.request.Request(url + "classify", data=png("7_0118.png"), method="POST")
        with urllib.request.urlopen(posted, timeout=10) as response:
            answer = json.loads(response.read())
        with urllib.request.urlopen(url + "status.json", timeout=10) as response:
            status = json.loads(response.read())
        with urllib.request.urlopen(url + "frame.jpg", timeout=10) as response:
            assert response.headers["Content-Type"] == "image/jpeg"
    finally:
        stop(process)
    assert answer["label"] == "7" and len(answer["top_k"]) == 2
    assert status["latest"]["label"] == "7" and status["images"]["done"] == 1
    assert process.returncode == 0  # SIGTERM: a service stopped, not a failure
    assert "Classified 1 images (0 failed)" in (tmp_path / "stdout.txt").read_text()


@pytest.mark.parametrize("command", [["infer", str(IMAGES), "--model", "demo"], ["serve", "--model", "demo"]])
def test_serving_beyond_loopback_without_a_token_is_one_sentence(command):
    result = CliRunner().invoke(app, [*command, "--serve", "0.0.0.0:8080"], env={"EDGECELL_TOKEN": None})
    assert result.exit_code == 2
    assert "would answer anyone on the network; give --token" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [["infer", str(IMAGES), "--model", "demo"], ["serve", "--model", "demo"]])
def test_a_short_token_beyond_loopback_is_one_sentence(command):
    result = CliRunner().invoke(app, [*command, "--serve", "0.0.0.0:8080", "--token", "x"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--token is 1 characters, too short" in result.output and "at least 16" in result.output


def answers_names(process, url) -> dict:
    """{Host name: status} of /status.json asked under each name; the process is stopped."""
    from support import rawhttp

    port = int(url.rsplit(":", 1)[1].strip("/"))
    try:
        return {
            name: rawhttp.status(rawhttp.exchange(port, rawhttp.get("/status.json", host=f"{name}:{port}")))
            for name in ("feeder.local", "PI.lan.", "evil.example")
        }
    finally:
        stop(process)


def test_allow_host_names_the_board_on_serve_and_infer(tmp_path, monkeypatch):
    expected = {"feeder.local": 200, "PI.lan.": 200, "evil.example": 421}
    flags = ["--allow-host", "feeder.local", "--allow-host", "pi.lan"]
    assert answers_names(*start_serving(["infer", str(IMAGES), "--model", "demo", "-q", *flags], tmp_path)) == expected
    monkeypatch.setenv("EDGECELL_ALLOW_HOST", "feeder.local pi.lan")  # as the unit's environment file sets it
    assert answers_names(*start_serving(["serve", "--model", "demo"], tmp_path)) == expected

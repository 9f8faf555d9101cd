"""Credentials in URLs stay out of what others read. A camera stream behind HTTP Basic auth (a
real server on loopback serving a video, which OpenCV's FFmpeg reads as a network camera, as it
reads rtsp://), a webhook with user:pass@, an MQTT URL in a usage error: the password is sent
where it belongs and shown nowhere else (stderr, results rows, /status.json, MQTT, summaries).
"""

import base64
import functools
import http.server
import json
import threading
import urllib.request

import cv2
import numpy as np
import pytest
from support.mosquitto import Recorder
from support.serving import start_serving, stop
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.core.credentials import masked
from edgecell.device.connect.webhook import Webhook
from edgecell.device.loop.events import Event
from edgecell.models import DEMO_IMAGES

PASSWORD = "s3cret-pw"


class Guarded(http.server.SimpleHTTPRequestHandler):
    """Files of a folder, to a client with the right Basic credentials only; keeps what it saw."""

    def authorised(self) -> bool:
        self.server.seen.append((self.command, self.path, self.headers.get("Authorization")))
        wanted = "Basic " + base64.b64encode(f"cam:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") == wanted:
            return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="camera"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_GET(self):
        if self.authorised():
            super().do_GET()

    def do_POST(self):
        if self.authorised():
            self.server.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def guarded(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Guarded, directory=str(tmp_path)))
    server.seen, server.bodies = [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_masked_keeps_the_user_and_hides_the_password():
    assert masked("rtsp://admin:p:w@d@192.168.1.20:554/s") == "rtsp://admin:***@192.168.1.20:554/s"
    assert masked("camera rtsp://u:p@h/x, then http://a:b@c/") == "camera rtsp://u:***@h/x, then http://a:***@c/"
    assert masked("http://h/x?a=b@c") == "http://h/x?a=b@c" and masked("/dev/video0") == "/dev/video0"
    assert masked("http://cam/snap.cgi?user=admin&password=pw&x=1") == "http://cam/snap.cgi?user=admin&password=***&x=1"


def test_a_camera_urls_password_reaches_the_camera_only(guarded, mosquitto, tmp_path):
    writer = cv2.VideoWriter(str(tmp_path / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 48))
    for i in range(400):
        writer.write(np.full((48, 64, 3), i % 256, np.uint8))
    writer.release()
    camera = f"http://cam:{PASSWORD}@127.0.0.1:{guarded.server_address[1]}/clip.avi"
    recorder = Recorder(mosquitto.port, ["edgecell/#"])
    results = tmp_path / "results.jsonl"
    args = ["infer", "--model", "demo", "--camera", camera, "--max-fps", "20", "--output", results]
    args += ["--mqtt", mosquitto.url, "--device-id", "cam", "--mqtt-outbox", tmp_path / "outbox"]
    process, url = start_serving(args, tmp_path)
    try:
        assert recorder.wait_for(lambda r: len(r.results()) >= 3, 30), (tmp_path / "stderr.txt").read_text()
        status = urllib.request.urlopen(url + "status.json", timeout=10).read().decode()
    finally:
        stop(process)
        recorder.close()
    assert any(auth for _, _, auth in guarded.seen)  # the camera was given the password
    shown = "camera http://cam:***@127.0.0.1:"
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert rows and all(row["source"].startswith(shown) for row in rows)
    assert shown in status and recorder.results()[0]["source"].startswith(shown)
    published = "".join(payload for _, payload, _ in recorder.messages)
    for text in (results.read_text(), status, published, (tmp_path / "stderr.txt").read_text()):
        assert PASSWORD not in text


def test_a_webhooks_user_and_password_go_as_basic_auth_and_are_shown_masked(guarded):
    port = guarded.server_address[1]
    said = []
    hook = Webhook(f"http://cam:{PASSWORD}@127.0.0.1:{port}/hook", "feeder", log=said.append)
    hook.event(Event("2026-01-01T00:00:00.000+00:00", "frame#1", 1, "bird", 0.9, None))
    hook.close()
    assert guarded.bodies and guarded.bodies[0]["label"] == "bird" and guarded.seen[0][1] == "/hook"
    refused = Webhook(f"http://cam:wrong@127.0.0.1:{port}/hook", "feeder", log=said.append, attempts=1)
    refused.event(Event("2026-01-01T00:00:00.000+00:00", "frame#2", 2, "cat", 0.9, None))
    refused.close()
    lines = said + refused.lines(refused.report()) + hook.lines(hook.report())
    assert any("refused an event (HTTP 401)" in line for line in lines), lines
    assert all(PASSWORD not in line and "wrong" not in line for line in lines), lines
    assert f"webhook http://cam:***@127.0.0.1:{port}/hook: 1 delivered" in "\n".join(lines)


@pytest.mark.parametrize(
    "args",
    [
        ["--mqtt", f"mqtt://board:{PASSWORD}@broker.lan"],  # no topic prefix
        ["--mqtt", f"mqtt://board:{PASSWORD}@broker.lan:99999/edgecell"],
        ["--mqtt", f"http://board:{PASSWORD}@broker.lan/edgecell"],
        ["--webhook", f"ftp://board:{PASSWORD}@nodered.lan/edgecell"],
    ],
)
def test_a_usage_error_about_a_url_does_not_echo_its_password(args):
    result = CliRunner().invoke(app, ["infer", str(DEMO_IMAGES), "--model", "demo", *args])
    assert result.exit_code == 2 and "board:***@" in result.output, result.output
    assert PASSWORD not in result.output and "Traceback" not in result.output

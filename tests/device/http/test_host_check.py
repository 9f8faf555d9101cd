"""DNS rebinding and cross-origin POSTs, on raw sockets and from real Chromium pages: a Host the
server does not answer to gets 421, a POST from another origin 403, and nothing is classified."""

import base64
import json
import socket
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support import rawhttp
from support.chromium import REBOUND

from edgecell.device.http.host_check import Hosts
from edgecell.models import DEMO_MODEL

PNG = (DEMO_MODEL.parent / "images" / "3_0045.png").read_bytes() if DEMO_MODEL.exists() else b""


def post(port, host, origin=None):
    extra = f"Origin: {origin}\r\n" if origin else ""
    head = f"POST /classify HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Length: {len(PNG)}\r\nConnection: close\r\n\r\n"
    return rawhttp.exchange(port, head.encode() + PNG)


def done(port) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status.json", timeout=10) as answer:
        return json.loads(answer.read())["images"]["done"]


def test_the_names_it_answers_to():
    hosts = Hosts("127.0.0.1", ["feeder.local"])
    for fine in ("127.0.0.1:8080", "192.168.1.20:8080", "[::1]:8080", "localhost:8080", "LOCALHOST", "feeder.local."):
        assert hosts.refusal(fine) is None, fine
    assert "--allow-host evil.example" in hosts.refusal("evil.example:8080")
    assert "--allow-host feeder.local" in Hosts("0.0.0.0").refusal("feeder.local:8080")
    assert Hosts("feeder.local").refusal("feeder.local:8080") is None  # the name it was told to bind
    own = socket.gethostname().split(".")[0]
    assert Hosts("0.0.0.0").refusal(f"{own}.local:8080") is None and Hosts("0.0.0.0").refusal(own) is None
    assert Hosts.cross_origin(None, "127.0.0.1:8080") is None  # curl, Home Assistant, Node-RED
    assert Hosts.cross_origin("http://127.0.0.1:8080", "127.0.0.1:8080") is None
    assert "http://evil.example" in Hosts.cross_origin("http://evil.example", "127.0.0.1:8080")
    assert Hosts.cross_origin("null", "127.0.0.1:8080") is not None


def test_a_rebound_host_is_421_and_an_allowed_one_is_served(serve):
    port = serve(allow_hosts=("feeder.local",)).server_address[1]
    answer = rawhttp.exchange(port, rawhttp.get("/status.json", host=f"{REBOUND}:{port}"))
    assert rawhttp.status(answer) == 421 and f"--allow-host {REBOUND}".encode() in answer
    assert rawhttp.status(rawhttp.exchange(port, rawhttp.get("/status.json", host=f"feeder.local:{port}"))) == 200
    assert rawhttp.status(rawhttp.exchange(port, rawhttp.get("/frame.jpg", host=f"{REBOUND}:{port}"))) == 421


def test_a_post_from_another_origin_is_403_and_not_classified(serve):
    port = serve(feed_live=True).server_address[1]
    answer = post(port, f"127.0.0.1:{port}", origin="http://evil.example")
    assert rawhttp.status(answer) == 403 and b"may not POST here" in answer
    assert done(port) == 0
    assert rawhttp.status(post(port, f"127.0.0.1:{port}", origin=f"http://127.0.0.1:{port}")) == 200
    assert rawhttp.status(post(port, f"127.0.0.1:{port}")) == 200
    assert done(port) == 2


SEND = """const bytes = Uint8Array.from(atob("PNG_BASE64"), (c) => c.charCodeAt(0));
fetch("TARGET", {method: "POST", mode: "no-cors", body: bytes})
  .then(() => { document.title = "sent"; }, (error) => { document.title = "sent: " + error; });"""


def send(target: str) -> str:
    """A script POSTing the PNG to `target` as a page can without CORS (the answer unread)."""
    return SEND.replace("PNG_BASE64", base64.b64encode(PNG).decode()).replace("TARGET", target)


@pytest.fixture
def other_origin():
    """A web server on another port of loopback (another origin), serving `page[0]`."""
    page = [b""]

    class Attacker(BaseHTTPRequestHandler):
        timeout = 0.3  # a connection Chromium opened ahead is dropped soon after: the next request goes to the board

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page[0])))
            self.end_headers()
            self.wfile.write(page[0])

        def log_message(self, *args):
            pass

    attacker = ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    CLOSERS[attacker.server_address[1]] = attacker
    try:
        yield attacker.server_address[1], page
    finally:
        other_origin_server_closes(attacker.server_address[1])


CLOSERS = {}


def other_origin_server_closes(port: int) -> None:
    attacker = CLOSERS.pop(port, None)
    if attacker is not None:
        attacker.shutdown()
        attacker.server_close()


def wait_title(browser, prefix, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not browser.title.startswith(prefix):
        time.sleep(0.05)
    return browser.title


@pytest.mark.slow
def test_a_cross_origin_page_in_chromium_cannot_have_an_image_classified(serve, browser, other_origin):
    port = serve(feed_live=True).server_address[1]
    attacker_port, page = other_origin
    target = f"http://127.0.0.1:{port}/classify"
    page[0] = f"<!doctype html><title>cats</title><script>{send(target)}</script>".encode()
    browser.get(f"http://localhost:{attacker_port}/")
    assert wait_title(browser, "sent").startswith("sent")
    time.sleep(0.3)  # a no-cors answer is opaque: give the server the moment it takes to classify
    assert done(port) == 0
    # the same POST from the server's own page (same origin) is classified: the refusal is the Origin's
    browser.get(f"http://127.0.0.1:{port}/")
    browser.execute_script(send("/classify"))
    assert wait_title(browser, "sent") == "sent"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and done(port) == 0:
        time.sleep(0.05)
    assert done(port) == 1


READ = """window.read = () => fetch("/status.json").then((r) => r.text().then((t) => [r.status, t]),
                                                (error) => [0, String(error)]);"""


@pytest.mark.slow
def test_a_rebinding_page_in_chromium_reads_nothing(serve, browser, other_origin):
    """The page comes from `rebind.test:PORT` (the attacker's server); then the name points at the
    board's server on that port, as after a DNS rebinding, and the page reads /status.json."""
    port, page = other_origin
    page[0] = f"<!doctype html><title>cats</title><script>{READ}</script>".encode()
    browser.get(f"http://{REBOUND}:{port}/")
    assert wait_title(browser, "cats") == "cats"
    other_origin_server_closes(port)
    time.sleep(0.6)
    board = serve(port=port)  # the board's server now answers that name's requests
    status, text = browser.execute_async_script("read().then(arguments[0]);")
    assert status == 421 and '"images"' not in text and f"--allow-host {REBOUND}" in text
    board.close()  # and the connection with it: a 421 closes it
    serve(port=port, allow_hosts=(REBOUND,))  # the name allowed, as every name was before: the attack is real
    status, text = browser.execute_async_script("read().then(arguments[0]);")
    assert status == 200 and '"images"' in text

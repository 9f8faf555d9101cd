"""`--webhook`: events POSTed to a real HTTP server on loopback, retried, bounded, never blocking."""

import http.server
import json
import threading
import time

import pytest

from edgecell.core.errors import EdgecellError
from edgecell.device.connect.webhook import Webhook
from edgecell.device.loop.events import Event


class Receiver(http.server.ThreadingHTTPServer):
    """Answers the first `fail` POSTs with 503, then 204; keeps every body it accepted."""

    def __init__(self, fail=0, delay=0.0):
        self.fail, self.delay, self.bodies, self.attempts = fail, delay, [], 0
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.attempts += 1
        time.sleep(self.server.delay)
        if self.server.attempts <= self.server.fail:
            self.send_response(503)
        else:
            self.server.bodies.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(request):
    server = Receiver(*getattr(request, "param", ()))
    yield server
    server.shutdown()
    server.server_close()


def event(i, label="bird"):
    return Event("2026-01-01T00:00:00.000+00:00", f"frame#{i}", i, label, 0.9, None)


def test_events_arrive_in_order_with_the_device(receiver):
    hook = Webhook(receiver.url, "feeder", log=lambda m: None)
    for i in range(5):
        hook.event(event(i))
    hook.close()
    assert [b["frame"] for b in receiver.bodies] == [0, 1, 2, 3, 4]
    assert receiver.bodies[0]["device"] == "feeder" and receiver.bodies[0]["type"] == "event"
    assert hook.report()["delivered"] == 5


@pytest.mark.parametrize("receiver", [(2,)], indirect=True)
def test_a_failing_receiver_is_retried_with_back_off(receiver):
    lines = []
    hook = Webhook(receiver.url, "feeder", backoff=0.05, log=lines.append)
    hook.event(event(1))
    hook.close()
    assert [b["frame"] for b in receiver.bodies] == [1] and receiver.attempts == 3
    assert hook.report()["retries"] == 2 and sum("trying again" in line for line in lines) == 2


@pytest.mark.parametrize("receiver", [(0, 0.3)], indirect=True)
def test_a_slow_receiver_never_blocks_and_the_queue_is_bounded(receiver, monkeypatch):
    from edgecell.device.connect import webhook

    monkeypatch.setattr(webhook, "QUEUE", 3)
    hook = Webhook(receiver.url, "feeder", linger=0.5, log=lambda m: None)
    start = time.perf_counter()
    for i in range(10):
        hook.event(event(i))
    assert time.perf_counter() - start < 0.2  # ten events queued, not posted, by the caller
    hook.close()
    report = hook.report()
    assert report["delivered"] + report["dropped"] == 10 and report["dropped"] >= 7  # at most 3 waited
    assert [b["frame"] for b in receiver.bodies] == list(range(report["delivered"]))  # the oldest, in order


def test_an_unreachable_receiver_drops_after_the_attempts():
    lines = []
    hook = Webhook("http://127.0.0.1:9/hook", "feeder", attempts=2, backoff=0.01, log=lines.append)
    hook.event(event(1))
    hook.close()
    assert hook.report()["dropped"] == 1 and "dropped" in lines[-1]


def test_a_bad_url_is_one_sentence():
    with pytest.raises(EdgecellError, match="is not an http:// or https:// URL"):
        Webhook("ftp://example/hook", "feeder")

"""`infer --webhook URL`: each class-change event POSTed as JSON, never every frame.

The inference loop only puts the event on a bounded queue (past `QUEUE` events waiting, the new
one is dropped and counted); a thread POSTs them in order with urllib (the standard library:
one POST needs no HTTP client dependency), each with a timeout. A failed POST (no answer, a
refused connection, a 5xx or a 429) is tried again after 0.5 s, 1 s, 2 s, ... up to `attempts`
times, then dropped and counted; a 4xx other than 429 is not retried (the receiver will refuse
it again). At the end, `close` gives what is still waiting `linger` seconds.

A `user:pass@` in the URL is sent as an `Authorization: Basic` header (RFC 7617) on a URL without
it, and every message, the summary included, shows the URL with the password masked
(core/credentials.py), as Frigate cleans camera URLs before logging them.
"""

import base64
import collections
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from edgecell.core.credentials import masked
from edgecell.core.errors import EdgecellError
from edgecell.device.sinks.base import Sink

QUEUE = 1000
_CLOSE = object()


def check_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EdgecellError(
            f"--webhook {masked(url)!r} is not an http:// or https:// URL; give e.g. http://host:1880/edgecell."
        )
    return url


def without_credentials(url: str) -> tuple:
    """(the URL without its user:pass@, the Authorization header's value or None)."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    user = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password or "")
    netloc = parts.netloc.rpartition("@")[2]
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc)), f"Basic {token}"


class Webhook(Sink):
    key = "webhook"

    def __init__(self, url: str, device: str, *, timeout=5.0, attempts=5, backoff=0.5, linger=5.0, log=None):
        self.device = device
        self.post_url, self._authorization = without_credentials(check_url(url))
        self.url = masked(url)  # what is shown and reported
        self.timeout, self.attempts, self.backoff, self.linger = timeout, attempts, backoff, linger
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self.delivered = self.dropped = self.retries = 0
        self._queue = collections.deque()
        self._wake = threading.Condition()
        self._deadline = None  # set by close: give up waiting after it
        self._thread = threading.Thread(target=self._run, name="webhook", daemon=True)
        self._thread.start()

    def write(self, result) -> None:
        """Results are not posted, only events."""

    def event(self, event) -> None:
        with self._wake:
            if len(self._queue) >= QUEUE:
                self.dropped += 1
                return
            self._queue.append(json.dumps({**event.as_dict(), "device": self.device}).encode())
            self._wake.notify()

    def close(self) -> None:
        if self._thread is None:
            return
        with self._wake:
            self._deadline = time.monotonic() + self.linger
            self._queue.append(_CLOSE)
            self._wake.notify()
        self._thread.join()
        self._thread = None

    def report(self) -> dict:
        waiting = sum(1 for item in self._queue if item is not _CLOSE)
        dropped = self.dropped + waiting
        return {"url": self.url, "delivered": self.delivered, "dropped": dropped, "retries": self.retries}

    def lines(self, report: dict) -> list:
        return [
            f"webhook {report['url']}: {report['delivered']} delivered, {report['dropped']} dropped, "
            f"{report['retries']} retries"
        ]

    def _run(self):
        while True:
            with self._wake:
                while not self._queue:
                    self._wake.wait()
                body = self._queue[0]
            if body is _CLOSE or self._out_of_time(0):  # what still waits is counted as dropped
                return
            if self._post(body):
                self.delivered += 1
            else:
                self.dropped += 1
            with self._wake:
                self._queue.popleft()

    def _post(self, body: bytes) -> bool:
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            headers = {"Content-Type": "application/json"}
            if self._authorization is not None:
                headers["Authorization"] = self._authorization
            request = urllib.request.Request(self.post_url, data=body, method="POST", headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    answer.read(65536)
                return True
            except urllib.error.HTTPError as error:
                reason = f"HTTP {error.code}"
                if 400 <= error.code < 500 and error.code != 429:
                    self.log(f"webhook: {self.url} refused an event ({reason}); not retrying it.")
                    return False
            except (OSError, ValueError) as error:  # refused, unreachable, timed out
                reason = getattr(error, "reason", None) or error
            if attempt == self.attempts or self._out_of_time(delay):
                self.log(f"webhook: {self.url} failed {attempt} time(s) ({reason}); this event is dropped.")
                return False
            self.retries += 1
            self.log(f"webhook: {self.url} failed ({reason}); trying again in {delay:g} s.")
            time.sleep(delay)
            delay *= 2
        return False

    def _out_of_time(self, delay) -> bool:
        return self._deadline is not None and time.monotonic() + delay > self._deadline

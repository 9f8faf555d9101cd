"""The board's HTTP server: a live page, /status.json, /metrics and POST /classify.

Python's own `http.server` (a `ThreadingHTTPServer`) serves it: five routes need no framework,
and a Pi gains nothing from one but install size and start-up time. It runs on daemon threads
beside the infer loop and never blocks it: the loop only updates `Live`, the server only reads
it. /classify has its own `Classifier` (a TFLite interpreter is not safe to share between
threads), and its requests take turns on it.

Bounded whatever arrives: at most `MAX_CLIENTS` connections at once (more get 503), a socket
timeout for slow senders, a body cap read before the body (see `upload.py`). A bad request is a
4xx with its reason as JSON and the server carries on. It binds 127.0.0.1 unless told otherwise;
any other address needs a token, sent as `Authorization: Bearer TOKEN` (or `?token=` for the
page and what it loads).
"""

import hmac
import ipaddress
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import NamedTuple, Optional
from urllib.parse import parse_qs, urlsplit

from edgecell.core.errors import EdgecellError
from edgecell.device import metrics, results, runner, upload
from edgecell.device.sources import Frame

DEFAULT_HOST = "127.0.0.1"
MAX_BODY_MB = 10.0
MAX_CLIENTS = 16
SOCKET_TIMEOUT_S = 10.0


class Address(NamedTuple):
    host: str
    port: int

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_address(text: str) -> Address:
    """'8080', ':8080', '0.0.0.0:8080' or '[::1]:8080' as an Address (host 127.0.0.1 by default)."""
    host, sep, port = str(text).rpartition(":")
    host = host.strip("[]") if sep else ""
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise EdgecellError(f"--serve {text!r} is not [HOST:]PORT; give e.g. 8080 or 0.0.0.0:8080.")
    return Address(host or DEFAULT_HOST, number)


def check_exposure(address: Address, token: Optional[str]) -> None:
    if not address.loopback and not token:
        raise EdgecellError(
            f"--serve {address.host}:{address.port} would answer anyone on the network; give --token SECRET "
            "(clients send 'Authorization: Bearer SECRET'), or serve on 127.0.0.1."
        )


class Classify:
    """/classify's classifier: one image at a time, timed like the infer loop's."""

    def __init__(self, classifier, top_k: int = 1, threshold: float = 0.0):
        self.classifier, self.top_k, self.threshold = classifier, top_k, threshold
        self._lock = threading.Lock()

    def __call__(self, rgb, name: str = "request", decode_ms: float = 0.0):
        with self._lock:
            return runner.classify(self.classifier, Frame(name, rgb, decode_ms=decode_ms), self.top_k, self.threshold)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: Address,
        live,
        classify: Optional[Classify] = None,
        token: Optional[str] = None,
        max_body_mb: float = MAX_BODY_MB,
        feed_live: bool = False,
    ):
        check_exposure(address, token)
        self.live, self.classify, self.token = live, classify, token
        self.max_body = int(max_body_mb * 1024 * 1024)
        self.feed_live = feed_live  # `edgecell serve`: what /classify sees is what the page shows
        self.metrics = metrics.registry(live)
        self.page = resources.files("edgecell.device").joinpath("live.html").read_bytes()
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)
        self._thread = None
        if ":" in address.host:
            self.address_family = socket.AF_INET6
        try:
            super().__init__(tuple(address), Handler)
        except OSError as error:
            raise EdgecellError(
                f"Cannot serve on {address.host}:{address.port}: {error.strerror or error}; choose another port."
            ) from None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"

    def start(self) -> "Server":
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True, name="edgecell-serve"
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
        self.server_close()

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):
            _refuse_busy(request)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_S
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for the
    # client's delayed ACK, 40 ms on Linux, on every keep-alive request.
    disable_nagle_algorithm = True
    server: Server

    def do_GET(self):
        path, query = self._split()
        if not self._authorised(query):
            return
        if path == "/":
            self._send(200, self.server.page, "text/html; charset=utf-8")
        elif path == "/status.json":
            self._json(200, self.server.live.status())
        elif path == "/metrics":
            self._send(200, metrics.render(self.server.metrics), metrics.CONTENT_TYPE)
        elif path == "/frame.jpg":
            jpeg = self.server.live.jpeg()
            if jpeg is None:
                self._error(404, "no frame yet")
            else:
                self._send(200, jpeg, "image/jpeg")
        elif path == "/classify":
            self._error(405, "POST the image to /classify", Allow="POST")
        else:
            self._error(404, f"no page {path}; try /, /status.json, /metrics or POST /classify")

    def do_POST(self):
        path, _ = self._split()
        if path != "/classify":
            self._error(
                405 if path in ("/", "/status.json", "/metrics", "/frame.jpg") else 404,
                f"POST goes to /classify, not {path}",
            )
            return
        if not self._authorised({}):
            return
        refusal = upload.check_length(self.headers.get("Content-Length"), self.server.max_body)
        if refusal is not None:
            self._error(*refusal)
            return
        length = int(self.headers["Content-Length"])
        try:
            data = self.rfile.read(length)
        except (TimeoutError, OSError):
            self._error(408, f"the body did not arrive within {SOCKET_TIMEOUT_S:.0f} s")
            return
        if len(data) < length:
            self._error(400, f"the body ended after {len(data)} of the {length} bytes announced")
            return
        if self.server.classify is None:
            self._error(503, "this server has no classifier")
            return
        start = time.perf_counter()
        rgb, refusal = upload.decode(data, self.server.classify.classifier.decode_fit)
        if refusal is not None:
            self._error(*refusal)
            return
        result = self.server.classify(rgb, "request", (time.perf_counter() - start) * 1000.0)
        if self.server.feed_live:
            self.server.live.show(result, rgb)
        self._json(200, {"model": self.server.live.model, **results.row(result)})

    # --- helpers --------------------------------------------------------------------------------
    def _split(self):
        parts = urlsplit(self.path)
        return parts.path, parse_qs(parts.query)

    def _authorised(self, query) -> bool:
        token = self.server.token
        if not token:
            return True
        header = self.headers.get("Authorization", "")
        given = header[7:].strip() if header[:7].lower() == "bearer " else (query.get("token") or [""])[0]
        if given and hmac.compare_digest(given.encode(), token.encode()):
            return True
        self._error(
            401,
            "wrong or missing token: send 'Authorization: Bearer TOKEN' (or ?token= for the page)",
            **{"WWW-Authenticate": 'Bearer realm="edgecell"'},
        )
        return False

    def _json(self, status: int, body: dict):
        self._send(status, json.dumps(body).encode(), "application/json")

    def _error(self, status: int, reason: str, **headers):
        self._send(status, json.dumps({"error": reason, "status": status}).encode(), "application/json", headers)

    def _send(self, status: int, body: bytes, content_type: str, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.command == "POST" and status >= 400:
            self.close_connection = True  # a body may be left unread: never parse it as the next request
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # no line per request on the board's journal


def run(
    classifier,
    address: Address,
    token: Optional[str] = None,
    max_body_mb: float = MAX_BODY_MB,
    top_k: int = 1,
    threshold: float = 0.0,
    stop: Optional[runner.Stop] = None,
    on_signals: bool = False,
    ready=None,
) -> dict:
    """`edgecell serve`: /classify with `classifier` until `stop` (or SIGINT/SIGTERM with `on_signals`);
    the page shows what /classify was last sent. `ready(server)` is called once it listens."""
    from contextlib import nullcontext

    from edgecell.device.live import Live

    stop = stop or runner.Stop()
    live = Live(str(classifier.path), classifier.runtime.name)
    server = Server(address, live, Classify(classifier, top_k, threshold), token, max_body_mb, feed_live=True)
    try:
        server.start()
        if ready is not None:
            ready(server)
        with runner.stopping_on_signals(stop) if on_signals else nullcontext():
            while not stop.wait(0.5):
                pass
    finally:
        server.close()
    return live.status()


def _refuse_busy(request):
    body = json.dumps({"error": f"busy: {MAX_CLIENTS} connections already open", "status": 503}).encode()
    head = f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    try:
        request.settimeout(1.0)
        request.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)
    except OSError:
        pass

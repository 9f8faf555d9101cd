"""The board's HTTP server: a live page, /status.json, /metrics and POST /classify (the routes: `routes.py`).

Python's own `http.server` (a `ThreadingHTTPServer`) serves it: five routes need no framework,
and a Pi gains nothing from one but install size and start-up time. It runs on daemon threads
beside the infer loop and never blocks it: the loop only updates `Live`, the server only reads
it. /classify has its own `Classifier` (a TFLite interpreter is not safe to share between
threads), and its requests take turns on its interpreter.

Bounded whatever arrives: connections in all and per client address (`connections.py`, more get
503 with Retry-After), one deadline for a request's headers and one for its body (`deadline.py`),
a body cap read before the body (`body_check.py`), one memory budget for the bodies and decodes of
all requests (`budget.py`). A bad request is a 4xx with its reason as JSON and the server carries
on. It binds 127.0.0.1 unless told otherwise; any other address needs a token of at least
`MIN_TOKEN` characters, sent as `Authorization: Bearer TOKEN`.
"""

import contextlib
import ipaddress
import os
import socket
import sys
import threading
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from importlib import resources
from typing import NamedTuple, Optional

from edgecell.core.errors import EdgecellError
from edgecell.device.http import answer_headers, budget, prometheus
from edgecell.device.http.connections import Connections, Refuser
from edgecell.device.http.host_check import Hosts
from edgecell.device.http.routes import Handler
from edgecell.device.input.frame import Frame
from edgecell.device.loop import runner

DEFAULT_HOST = "127.0.0.1"
MAX_BODY_MB = 10.0
MIN_TOKEN = 16  # characters of a token for a server beyond loopback (`openssl rand -hex 16` gives 32)
NICE = 10  # the request threads' niceness: below the loop's


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
    if not address.loopback and len(token) < MIN_TOKEN:
        raise EdgecellError(
            f"--token is {len(token)} characters, too short to guard {address.host}:{address.port} on the network; "
            f"give one of at least {MIN_TOKEN} (e.g. $(openssl rand -hex 16)), or serve on 127.0.0.1."
        )


class Classify:
    """/classify's classifier: one image at a time, timed like the infer loop's."""

    def __init__(self, classifier, top_k: int = 1, threshold: float = 0.0):
        self.classifier, self.top_k, self.threshold = classifier, top_k, threshold
        self._lock = threading.Lock()
        runner.warm_up(classifier, 1)  # the first invoke sets the runtime up: paid here, not by the first client

    def __call__(self, rgb, name: str = "request", decode_ms: float = 0.0):
        # Resizing is pure and may run beside another request's: a 40-megapixel photo's resize
        # (in a nice 10 thread, slow on a busy board) does not hold up a small image's turn.
        frame = runner.prepare(self.classifier, Frame(name, rgb, decode_ms=decode_ms))
        with self._lock:
            return runner.classify_frame(self.classifier, frame, self.top_k, self.threshold)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Connections the kernel completes before they are accepted; past it a client's SYN is dropped
    # and retried a second later (socketserver's default is 5; nginx's backlog is 511).
    request_queue_size = 128

    def __init__(
        self,
        address: Address,
        live,
        classify: Optional[Classify] = None,
        token: Optional[str] = None,
        max_body_mb: float = MAX_BODY_MB,
        feed_live: bool = False,
        allow_hosts: tuple = (),
    ):
        check_exposure(address, token)
        self.live, self.classify, self.token = live, classify, token
        self.max_body = int(max_body_mb * 1024 * 1024)
        self.feed_live = feed_live  # `edgecell serve`: what /classify sees is what the page shows
        self.metrics = prometheus.registry(live)
        self.page = resources.files("edgecell.device.http").joinpath("live.html").read_bytes()
        self.csp = answer_headers.page_policy(self.page)
        self.hosts = Hosts(address.host, allow_hosts)
        self.bodies = budget.Budget(budget.BODIES * self.max_body)
        self.decodes = budget.Decodes()
        self.connections = Connections()
        self._thread = self._refuser = None
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
        self._refuser = Refuser()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True, name="edgecell-serve"
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
        if self._refuser is not None:
            self._refuser.close()
        self.server_close()

    def handle_error(self, request, client_address):
        """A client that went away mid-answer (a closed tab) is normal; anything else is one line
        on stderr, never socketserver's traceback, and the server carries on."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            print(f"edgecell serve: a request from {client_address[0]} failed: {error!r}", file=sys.stderr)

    def process_request(self, request, client_address):
        refusal = self.connections.enter(client_address[0])
        if refusal is not None:
            self._refuser.refuse(request, refusal)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        _yield_to_the_loop()
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.leave(client_address[0])


def _yield_to_the_loop():
    """Lower this thread's scheduling priority (Linux schedules threads, so `nice` applies to one):
    on a board short of CPU, drawing and encoding a frame for a viewer waits for the infer loop
    rather than slowing it. Where that is not possible, nothing changes."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
    except (AttributeError, OSError):
        pass


def start(
    address: str,
    live,
    classify: Optional[Classify],
    token: Optional[str] = None,
    max_body_mb: float = MAX_BODY_MB,
    feed_live: bool = False,
    log=print,
    allow_hosts: tuple = (),
) -> Server:
    """`--serve [HOST:]PORT`: parse, refuse an exposed address without a token, bind, start, and
    say where (port 0 is a free port: the URL printed is the one bound)."""
    server = Server(parse_address(address), live, classify, token, max_body_mb, feed_live, allow_hosts).start()
    log(f"Serving the live page on {server.url} (status.json, metrics, POST classify)")
    return server


@dataclass(frozen=True)
class Serving:
    """Where and how the server answers: `[HOST:]PORT`, the token, the body cap, /classify's answer,
    the host names it answers to besides loopback and IP addresses (`--allow-host`)."""

    address: str
    token: Optional[str] = None
    max_body_mb: float = MAX_BODY_MB
    top_k: int = 1
    threshold: float = 0.0
    allow_hosts: tuple = ()


@contextlib.contextmanager
def beside(serving: Serving, load, classifier, log=print):
    """`infer --serve`: the server runs while the block does, and the block gets the sinks to add
    to the run (the page's `Live` state). /classify classifies with `load()`, a second copy of
    the model, so it never shares an interpreter with the loop."""
    from edgecell.device.http.live_state import Live

    check_exposure(parse_address(serving.address), serving.token)  # before loading anything
    live = Live(str(classifier.path), classifier.runtime.name)
    classify = Classify(load(), serving.top_k, serving.threshold)
    server = start(
        serving.address, live, classify, serving.token, serving.max_body_mb, log=log, allow_hosts=serving.allow_hosts
    )
    try:
        yield [live]
    finally:
        server.close()


def linger(seconds: Optional[float], log=print) -> Optional[str]:
    """`infer --serve` after a finite source ended: the page stays up until SIGINT/SIGTERM, or for
    `seconds` (0: not at all). Returns the signal's name, or None when the time ran out."""
    if seconds == 0:
        return None
    until = "Ctrl-C" if seconds is None else f"Ctrl-C or {seconds:g} s (--serve-for)"
    log(f"The source has ended; the page stays up until {until}.")
    stop = runner.Stop()
    with runner.stopping_on_signals(stop):
        stop.wait(seconds)
    return stop.reason


def run(
    classifier,
    serving: Serving,
    stop: Optional[runner.Stop] = None,
    on_signals: bool = False,
    log=print,
    ready=None,
) -> dict:
    """`edgecell serve`: /classify with `classifier` until `stop` (or SIGINT/SIGTERM with
    `on_signals`); the page shows the image /classify was last sent. `ready(server)` is called once
    it listens. Returns the closing status (counts, latency)."""
    from edgecell.device.http.live_state import Live

    stop = stop or runner.Stop()
    live = Live(str(classifier.path), classifier.runtime.name)
    classify = Classify(classifier, serving.top_k, serving.threshold)
    server = start(
        serving.address,
        live,
        classify,
        serving.token,
        serving.max_body_mb,
        feed_live=True,
        log=log,
        allow_hosts=serving.allow_hosts,
    )
    try:
        if ready is not None:
            ready(server)
        with runner.stopping_on_signals(stop) if on_signals else contextlib.nullcontext():
            while not stop.wait(0.5):
                pass
    finally:
        server.close()
    return live.status()

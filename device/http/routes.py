"""The routes of the board's HTTP server (`server.py`): what each request gets.

GET `/` (the live page), `/status.json`, `/metrics`, `/frame.jpg`; POST `/classify`. A refusal is
a JSON `{"error", "status"}` with a 4xx or 503; a request refused before its body was read closes
the connection, so the unread body is never parsed as the next request.

As soon as the headers are in (within `deadline.HEADER_S`), and before any body is read: the Host
(`host_check.py`), the framing (`body_check.framing`, RFC 9112), the token and a POST's Origin.
With a token, every route but the page itself (the same bytes for everyone, no data) needs it, in
`Authorization: Bearer TOKEN` only: a token in the address ends up in proxy logs and history.
"""

import hmac
import io
import json
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from edgecell.device.http import answer_headers, body_check, deadline, prometheus
from edgecell.device.http.connections import RETRY_AFTER_S
from edgecell.device.http.live_state import for_display
from edgecell.device.loop.result import row

SEND_S = 10.0  # an answer the client does not take within this, per write, ends the connection
PAGES = ("/", "/status.json", "/metrics", "/frame.jpg")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "edgecell"  # no Python version: it only tells an attacker which bugs to try
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for the
    # client's delayed ACK, 40 ms on Linux, on every keep-alive request.
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.rfile.close()  # the socket's own file: replaced by one with a whole-request deadline
        self.reader = deadline.Reader(self.connection)
        self.rfile = io.BufferedReader(self.reader)

    def handle_one_request(self):
        self.command, self.request_version, self.requestline = None, "HTTP/1.1", ""
        self.reader.start(deadline.HEADER_S, deadline.HEADER_BYTES)
        try:
            super().handle_one_request()
        except deadline.Late as late:
            self.close_connection = True
            if late.started:  # an idle keep-alive connection is closed without a word
                self._error(408, f"{late}; send the whole request at once")
        except deadline.TooLarge as error:
            self.close_connection = True
            self._error(431, f"{error}; send fewer or shorter headers")

    def parse_request(self) -> bool:
        """The request line and headers, then what is checked before any body is read."""
        if not super().parse_request():
            return False
        return self._admit()

    def _admit(self) -> bool:
        if self.reader.ended:  # http.server takes the end of the stream for the end of the headers
            self.close_connection = True  # a request cut short (RFC 9112 section 8) is not answered
            return False
        refusal = self.server.hosts.refusal(self.headers.get("Host"))
        if refusal is not None:  # closed, as every refusal here is: RFC 9110 has 421 retried on a new connection
            self._refuse(421, refusal)
            return False
        framing = body_check.framing(self.headers)
        if framing is not None:
            self._refuse(*framing)
            return False
        if self.command != "POST" and (
            self.headers.get("Transfer-Encoding") is not None or body_check.body_length(self.headers)
        ):
            self.close_connection = True  # a body nobody reads must not be parsed as the next request
        path, query = self._split()
        if "token" in query:
            self._refuse(
                400,
                "the token goes in the 'Authorization: Bearer TOKEN' header, not in the address (an address "
                "ends up in logs and history); open the page as /#token=TOKEN",
            )
            return False
        if not (self.command == "GET" and path == "/") and not self._authorised():
            return False
        if self.command == "POST":
            refusal = self.server.hosts.cross_origin(self.headers.get("Origin"), self.headers.get("Host"))
            if refusal is not None:
                self._refuse(403, refusal)
                return False
        return True

    def do_GET(self):
        path, query = self._split()
        if path == "/":
            self._send(200, self.server.page, "text/html; charset=utf-8", {"Content-Security-Policy": self.server.csp})
        elif path == "/status.json":
            self._json(200, self.server.live.status())
        elif path == "/metrics":
            self._send(200, prometheus.render(self.server.metrics), prometheus.CONTENT_TYPE)
        elif path == "/frame.jpg":
            asked = (query.get("seq") or [""])[0]
            jpeg = self.server.live.jpeg(int(asked) if asked.isdigit() and len(asked) < 19 else None)
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
                405 if path in PAGES else 404,
                f"POST goes to /classify, not {path}",
            )
            return
        refusal = body_check.check_length(self.headers, self.server.max_body)
        if refusal is not None:
            self._error(*refusal)
            return
        if self.server.classify is None:
            self._error(503, "this server has no classifier")
            return
        length = body_check.body_length(self.headers)
        with self.server.bodies.hold(length) as held:
            if not held:
                self._busy("busy: too many image bodies are arriving at once")
                return
            self.reader.start(deadline.body_seconds(length))
            try:
                data = self.rfile.read(length)
            except deadline.Late as late:
                self._error(408, f"the body of {length} bytes did not arrive within {late.seconds:.0f} s")
                return
            if len(data) < length:
                self._error(400, f"the body ended after {len(data)} of the {length} bytes announced")
                return
            answer = self._classify(data)
        if answer is not None:
            self._json(200, answer)

    def _classify(self, data: bytes):
        """The answer's dict, or None once a refusal was sent; decoded within the decode budget."""
        with self.server.decodes.hold(body_check.pixels(data)) as held:
            if not held:
                self._busy("busy: the images being decoded fill the decode budget")
                return None
            start = time.perf_counter()
            rgb, refusal = body_check.decode(data, self.server.classify.classifier.decode_fit)
            if refusal is not None:
                self._error(*refusal)
                return None
            result = self.server.classify(rgb, "request", (time.perf_counter() - start) * 1000.0)
            if self.server.feed_live:
                self.server.live.show(result, for_display(rgb))
            del rgb  # before the budget is given back
        return {"model": self.server.live.model, **row(result)}

    # --- helpers --------------------------------------------------------------------------------
    def _split(self):
        parts = urlsplit(self.path)
        return parts.path, parse_qs(parts.query)

    def _authorised(self) -> bool:
        token = self.server.token
        if not token:
            return True
        header = self.headers.get("Authorization", "")
        given = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if given and hmac.compare_digest(given.encode(), token.encode()):
            return True
        self._error(
            401,
            "wrong or missing token: send 'Authorization: Bearer TOKEN' (the page: open /#token=TOKEN)",
            **{"WWW-Authenticate": 'Bearer realm="edgecell"'},
        )
        return False

    def _json(self, status: int, body: dict):
        self._send(status, json.dumps(body).encode(), "application/json")

    def _error(self, status: int, reason: str, **headers):
        self._send(status, json.dumps({"error": reason, "status": status}).encode(), "application/json", headers)

    def _refuse(self, status: int, reason: str, **headers):
        """A refusal before the body was read: the connection is closed, so it is never parsed as a request."""
        self.close_connection = True
        self._error(status, reason, **headers)

    def _busy(self, reason: str):
        self._error(503, f"{reason}; retry after {RETRY_AFTER_S} s", **{"Retry-After": str(RETRY_AFTER_S)})

    def send_error(self, code, message=None, explain=None):
        """http.server's own refusals (a bad request line, too many headers) as JSON too."""
        self.close_connection = True
        self.request_version = "HTTP/1.1"  # a line it cannot parse is taken for HTTP/0.9, which has no headers
        self._error(code, message or self.responses.get(code, ("error",))[0])

    def version_string(self) -> str:
        return self.server_version

    def _send(self, status: int, body: bytes, content_type: str, headers=None):
        self.connection.settimeout(SEND_S)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        headers = {"Content-Security-Policy": answer_headers.API_POLICY, **answer_headers.COMMON, **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        if self.command == "POST" and status >= 400:
            self.close_connection = True  # a body may be left unread: never parse it as the next request
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # no line per request on the board's journal

"""The routes of the board's HTTP server (`serve.py`): what each request gets.

GET `/` (the live page), `/status.json`, `/metrics`, `/frame.jpg`; POST `/classify`. A refusal is
a JSON `{"error", "status"}` with a 4xx; a POST refused before its body was read closes the
connection, so the unread body is never parsed as the next request. With a token, every route
needs it: `Authorization: Bearer TOKEN`, or `?token=` on the GET routes (the page, and what the
page loads, cannot send a header from a typed address).
"""

import hmac
import json
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from edgecell.device.http import body_check, prometheus
from edgecell.device.loop.result import row

SOCKET_TIMEOUT_S = 10.0  # a client that sends nothing for this long is dropped
PAGES = ("/", "/status.json", "/metrics", "/frame.jpg")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_S
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for the
    # client's delayed ACK, 40 ms on Linux, on every keep-alive request.
    disable_nagle_algorithm = True

    def do_GET(self):
        path, query = self._split()
        if not self._authorised(query):
            return
        if path == "/":
            self._send(200, self.server.page, "text/html; charset=utf-8")
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
        if not self._authorised({}):  # a token in the URL is for the page, not for API calls
            return
        refusal = body_check.check_length(self.headers.get("Content-Length"), self.server.max_body)
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
        rgb, refusal = body_check.decode(data, self.server.classify.classifier.decode_fit)
        if refusal is not None:
            self._error(*refusal)
            return
        result = self.server.classify(rgb, "request", (time.perf_counter() - start) * 1000.0)
        if self.server.feed_live:
            self.server.live.show(result, rgb)
        self._json(200, {"model": self.server.live.model, **row(result)})

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

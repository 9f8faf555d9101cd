"""The review page's server: Python's own `http.server` on 127.0.0.1 only, every path under a
random token (`/<token>/...`), so another local user or a web page open in the browser cannot
label or read frames. A request naming another Host is refused (DNS rebinding); a POST from
another origin is refused, and must be JSON (a cross-site form cannot send that without the
browser asking first) of at most `MAX_BODY` bytes; a bad request is a 4xx with its reason as
JSON. The page may not be framed, and sends no Referer (its address holds the token)."""

import json
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from edgecell.core.errors import EdgecellError
from edgecell.review import review_page
from edgecell.review.session import Session

HOST = "127.0.0.1"
MAX_BODY = 4096
TIMEOUT_S = 10


class Handler(BaseHTTPRequestHandler):
    server_version = "edgecell-review"
    session: Session
    token: str

    def setup(self):
        self.request.settimeout(TIMEOUT_S)
        super().setup()

    def log_message(self, format, *args):  # the terminal shows the URL and the summary, not every request
        pass

    def _route(self):
        """The path under the token, or None (answered 404) for anything else."""
        port = self.server.server_address[1]
        if self.headers.get("Host") not in (f"{HOST}:{port}", f"localhost:{port}"):
            self._json(421, {"error": "this page answers only to 127.0.0.1"})
            return None
        parts = urlsplit(self.path)
        prefix = f"/{self.token}/"
        if not parts.path.startswith(prefix):
            self._json(404, {"error": "not found"})
            return None
        return parts.path[len(prefix) :], parse_qs(parts.query)

    def do_GET(self):
        routed = self._route()
        if routed is None:
            return
        path, query = routed
        if path == "":
            self._send(200, "text/html; charset=utf-8", review_page.page())
        elif path == "state.json":
            self._json(200, self.session.state())
        elif path == "frame.jpg":
            try:
                frame = self.session.find((query.get("key") or [""])[0])
                self._send(200, "image/jpeg", frame.jpeg.read_bytes())
            except (EdgecellError, OSError) as error:
                self._json(404, {"error": str(error)})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self):
        routed = self._route()
        if routed is None:
            return
        path, _ = routed
        port = self.server.server_address[1]
        origin = self.headers.get("Origin")
        if origin is not None and origin not in (f"http://{HOST}:{port}", f"http://localhost:{port}"):
            return self._json(403, {"error": "a POST from another origin is refused"})
        try:
            body = self._body()
            if path == "label":
                choice = body.get("choice")
                self.session.label(str(body.get("key")), None if choice is None else str(choice))
            elif path == "skip":
                self.session.skip(str(body.get("key")))
            elif path == "undo":
                self.session.undo()
            else:
                return self._json(404, {"error": "not found"})
        except EdgecellError as error:
            return self._json(409, {"error": str(error)})
        except OSError as error:
            return self._json(500, {"error": f"the move failed: {error.strerror or error}"})
        self._json(200, self.session.state())

    def _body(self) -> dict:
        if self.headers.get_content_type() != "application/json":
            raise EdgecellError("send JSON (Content-Type: application/json)")
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            raise EdgecellError(f"a request body is at most {MAX_BODY} bytes")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            raise EdgecellError("the body is not JSON") from None
        if not isinstance(body, dict):
            raise EdgecellError("the body is not a JSON object")
        return body

    def _json(self, code: int, obj) -> None:
        self._send(code, "application/json", json.dumps(obj).encode("utf-8"))

    def _send(self, code: int, kind: str, data: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        )
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")  # the token is in the address
        self.end_headers()
        self.wfile.write(data)


def server(session: Session, port: int = 0):
    """(the server, the page's URL), bound to 127.0.0.1:`port` (0: any free one)."""
    token = secrets.token_urlsafe(16)
    handler = type("ReviewHandler", (Handler,), {"session": session, "token": token})
    try:
        httpd = ThreadingHTTPServer((HOST, port), handler)
    except OSError as error:
        raise EdgecellError(
            f"Cannot serve the review page on {HOST}:{port} ({error.strerror}); try another --port."
        ) from None
    httpd.daemon_threads = True
    return httpd, f"http://{HOST}:{httpd.server_address[1]}/{token}/"

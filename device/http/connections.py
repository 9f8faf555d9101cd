"""Who gets a connection: at most `MAX_CONNECTIONS` at once and `MAX_PER_CLIENT` from one address
(nginx's `limit_conn`), and the 503 the others get.

A refused connection is answered `503` with `Retry-After`, its write side shut, and what the
client still sends is read and thrown away for up to `LINGER_S` before the socket is closed, as
nginx's `lingering_close` does: closing a socket with unread bytes makes the kernel send a reset,
and the client then sees "connection reset" instead of the answer. One thread does that for every
refused socket (at most `MAX_LINGERING` at a time), so a flood of connections costs no thread each.
"""

import json
import selectors
import socket
import threading
import time
from collections import Counter

MAX_CONNECTIONS = 128  # connections being served at once; each is a thread, mostly waiting (nginx: 512)
MAX_PER_CLIENT = 8  # from one IP address (a page and its images need 2 to 6)
RETRY_AFTER_S = 2
LINGER_S = 5.0  # nginx: lingering_timeout 5s
MAX_LINGERING = 256


def busy_answer(reason: str) -> bytes:
    body = json.dumps({"error": reason, "status": 503}).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nRetry-After: {RETRY_AFTER_S}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class Connections:
    """The count of open connections, in all and per client address."""

    def __init__(self, total: int = MAX_CONNECTIONS, per_client: int = MAX_PER_CLIENT):
        self.total, self.per_client = total, per_client
        self._open: Counter = Counter()
        self._lock = threading.Lock()

    def enter(self, client: str):
        """None when `client` may open one more (counted until `leave`), else why not."""
        with self._lock:
            if self._open[client] >= self.per_client:
                return f"busy: {self.per_client} connections from {client} already open; retry after {RETRY_AFTER_S} s"
            if sum(self._open.values()) >= self.total:
                return f"busy: {self.total} connections already open; retry after {RETRY_AFTER_S} s"
            self._open[client] += 1
            return None

    def leave(self, client: str) -> None:
        with self._lock:
            self._open[client] -= 1
            if self._open[client] <= 0:
                del self._open[client]


class Refuser:
    """Answers refused sockets and closes them without a reset (see the module's docstring)."""

    def __init__(self):
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="edgecell-refuse")
        self._thread.start()

    def refuse(self, sock: socket.socket, reason: str) -> None:
        try:
            sock.setblocking(False)
            sock.send(busy_answer(reason))  # a few hundred bytes: the socket's send buffer takes them
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            sock.close()
            return
        with self._lock:
            if self._closed or len(self._selector.get_map()) >= MAX_LINGERING:
                sock.close()
                return
            self._selector.register(sock, selectors.EVENT_READ, time.monotonic() + LINGER_S)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    break
            for key, _ in self._selector.select(timeout=0.2):
                try:
                    done = not key.fileobj.recv(65536)  # the client closed its side: nothing more comes
                except OSError:
                    done = True
                if done:
                    self._drop(key.fileobj)
            now = time.monotonic()
            with self._lock:
                expired = [key.fileobj for key in self._selector.get_map().values() if key.data <= now]
            for sock in expired:
                self._drop(sock)
        with self._lock:
            for key in list(self._selector.get_map().values()):
                key.fileobj.close()
            self._selector.close()

    def _drop(self, sock) -> None:
        with self._lock:
            self._selector.unregister(sock)
        sock.close()

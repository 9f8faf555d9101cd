"""HTTP as an attacker writes it: raw bytes on a loopback socket, from any 127.x.y.z address (Linux
routes all of 127.0.0.0/8 to loopback, so each address is a client of its own to the server)."""

import socket
import time


def connect(port: int, source: str = "127.0.0.1", timeout: float = 10.0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or the socket's timeout)."""
    chunks = []
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except TimeoutError:
        pass
    return b"".join(chunks)


def exchange(port: int, data: bytes, source: str = "127.0.0.1", timeout: float = 10.0) -> bytes:
    """Send `data` on a new connection, then read until the server closes it."""
    with connect(port, source, timeout) as sock:
        sock.sendall(data)
        return read_all(sock)


def status(answer: bytes) -> int:
    """The status code of the first answer in `answer` (0 for no answer at all)."""
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/") else 0


def header(answer: bytes, name: str):
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def get(path: str, host: str = "127.0.0.1", headers: str = "", close: bool = True) -> bytes:
    connection = "Connection: close\r\n" if close else ""
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}{connection}\r\n".encode()


class Trickler:
    """A slowloris client: a request line, then one header line every `every` seconds, forever;
    `alive()` says whether the server still has the connection open."""

    def __init__(self, port: int, source: str, every: float):
        self.sock = connect(port, source)
        self.sock.sendall(b"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self.every, self.last, self.closed = every, time.monotonic(), False
        self.answer = b""

    def tick(self) -> None:
        if self.closed or time.monotonic() - self.last < self.every:
            return
        self.last = time.monotonic()
        try:
            self.sock.sendall(b"X-Slow: 1\r\n")
        except OSError:
            self.closed = True
        self.sock.setblocking(False)
        try:
            chunk = self.sock.recv(65536)
            self.answer += chunk
            self.closed = self.closed or not chunk
        except BlockingIOError:
            pass
        except OSError:
            self.closed = True
        self.sock.setblocking(True)

    def close(self) -> None:
        self.sock.close()

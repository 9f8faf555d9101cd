"""A request's socket reader with one deadline for the whole request, not one per read.

A socket timeout bounds each read, so a client sending one header line every 5 s (under a 10 s
timeout) holds its connection for as long as it likes. nginx's `client_header_timeout` and
Apache's mod_reqtimeout (`header=10-20`, `body=...,MinRate=`) bound the whole header, and the
body by a start plus a minimum rate; this does the same: before every read the socket's timeout
is set to what is left of the request's time, and the headers also have a byte cap (nginx's
`large_client_header_buffers`), so memory per connection stays bounded too.
"""

import io
import time
from typing import Optional

HEADER_S = 10.0  # the request line and every header within this (nginx: client_header_timeout)
HEADER_BYTES = 32 * 1024  # the request line and headers at most (nginx: 4 x 8k buffers)
BODY_S = 10.0  # a body gets this plus its size at BODY_MIN_RATE (mod_reqtimeout's body=,MinRate=)
BODY_MIN_RATE = 64 * 1024  # bytes a second


class Late(Exception):
    """The request did not arrive within its deadline."""

    def __init__(self, seconds: float, started: bool):
        super().__init__(f"the request did not arrive within {seconds:.0f} s")
        self.seconds, self.started = seconds, started


class TooLarge(Exception):
    """The headers passed their byte cap."""


def body_seconds(length: int) -> float:
    return BODY_S + length / BODY_MIN_RATE


class Reader(io.RawIOBase):
    """The socket's bytes, for an `io.BufferedReader`; `start()` opens a new deadline."""

    def __init__(self, sock):
        self.sock = sock
        self.seconds, self.until, self.cap = HEADER_S, time.monotonic() + HEADER_S, None
        self.received, self.ended = 0, False

    def readable(self) -> bool:
        return True

    def start(self, seconds: float, cap: Optional[int] = None) -> None:
        """`seconds` from now for what is read next, at most `cap` bytes of it (None: no cap)."""
        self.seconds, self.until, self.cap, self.received = seconds, time.monotonic() + seconds, cap, 0
        self.ended = False  # the client closed its side before what was read next was all in

    def readinto(self, buffer) -> int:
        if self.cap is not None and self.received >= self.cap:
            raise TooLarge(f"the request's headers are over {self.cap} bytes")
        left = self.until - time.monotonic()
        if left <= 0:
            raise Late(self.seconds, self.received > 0)
        self.sock.settimeout(left)
        try:
            count = self.sock.recv_into(buffer)
        except TimeoutError:
            raise Late(self.seconds, self.received > 0) from None
        self.received += count
        self.ended = self.ended or count == 0
        return count

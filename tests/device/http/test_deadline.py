"""Slow clients on raw loopback sockets: a header or body that trickles in is cut at its deadline
(408), the header bytes are capped (431), and 16 trickling sockets no longer lock anyone out."""

import json
import socket
import time

import pytest
from support import rawhttp
from support.serving import TOKEN

from edgecell.device.http import deadline
from edgecell.models import DEMO_MODEL

BEARER = f"Authorization: Bearer {TOKEN}\r\n"


@pytest.fixture
def quick(monkeypatch):
    """Deadlines of a second or so: the same code, a test that does not wait 10 s."""
    monkeypatch.setattr(deadline, "HEADER_S", 1.0)
    monkeypatch.setattr(deadline, "BODY_S", 1.0)


def test_a_header_sent_a_line_at_a_time_is_cut_at_the_deadline(serve, quick):
    port = serve().server_address[1]
    slow = rawhttp.Trickler(port, "127.0.0.2", every=0.2)  # each line well within any per-read timeout
    started = time.monotonic()
    try:
        while not slow.closed and time.monotonic() - started < 6:
            slow.tick()
            time.sleep(0.05)
    finally:
        slow.close()
    assert slow.closed, "the server kept a trickling request open for 6 s"
    assert rawhttp.status(slow.answer) == 408
    assert "did not arrive within 1 s" in json.loads(slow.answer.split(b"\r\n\r\n", 1)[1])["error"]


def test_a_body_sent_a_byte_at_a_time_is_cut_at_its_deadline(serve, quick):
    port = serve(token=TOKEN).server_address[1]
    with rawhttp.connect(port) as sock:
        sock.sendall(f"POST /classify HTTP/1.1\r\nHost: 127.0.0.1\r\n{BEARER}Content-Length: 5000\r\n\r\n".encode())
        started, answer = time.monotonic(), b""
        sock.settimeout(0.1)
        while not answer and time.monotonic() - started < 6:
            try:
                sock.sendall(b"\x89")
                answer = sock.recv(65536)
            except TimeoutError:
                pass
            except OSError:
                break
        sock.settimeout(2)
        answer += rawhttp.read_all(sock)
    assert rawhttp.status(answer) == 408 and b"did not arrive within" in answer


def test_an_idle_keep_alive_connection_is_closed_without_an_answer(serve, quick):
    port = serve().server_address[1]
    with rawhttp.connect(port) as sock:
        sock.sendall(rawhttp.get("/status.json", close=False))
        first = sock.recv(65536)
        assert rawhttp.status(first) == 200
        rest = rawhttp.read_all(sock)  # nothing more is sent: the server closes after HEADER_S
    assert rest[: len(b"HTTP/")] != b"HTTP/"


def test_headers_over_the_cap_are_431(serve):
    port = serve().server_address[1]
    lines = "".join(f"X-Pad-{i}: {'a' * 1000}\r\n" for i in range(40))  # 40 kB, each line under http.server's own cap
    answer = rawhttp.exchange(port, rawhttp.get("/status.json", headers=lines))
    assert rawhttp.status(answer) == 431


@pytest.mark.skipif(not DEMO_MODEL.exists(), reason="the demo model is not built here")
def test_sixteen_trickling_sockets_lock_no_one_out(serve):
    """The attack as it was found: 16 sockets sending a header line every 5 s. With the token or
    without, every other client is answered at once (200, or 401 without the token), never 503."""
    port = serve(token=TOKEN).server_address[1]
    one_address = [rawhttp.Trickler(port, "127.0.0.2", every=5) for _ in range(8)]
    many_addresses = [rawhttp.Trickler(port, f"127.0.1.{i}", every=5) for i in range(1, 9)]
    over_the_limit = rawhttp.exchange(port, rawhttp.get("/status.json"), source="127.0.0.2")
    try:
        for _ in range(5):
            ok = rawhttp.exchange(port, rawhttp.get("/status.json", headers=BEARER))
            refused = rawhttp.exchange(port, rawhttp.get("/status.json"), source="127.0.0.9")
            assert rawhttp.status(ok) == 200 and json.loads(ok.split(b"\r\n\r\n", 1)[1])["images"]
            assert rawhttp.status(refused) == 401
    finally:
        for slow in one_address + many_addresses:
            slow.close()
    # the ninth socket from one address: refused at once, with an answer rather than a reset
    assert rawhttp.status(over_the_limit) == 503
    assert rawhttp.header(over_the_limit, "Retry-After") == "2"
    assert b"8 connections from 127.0.0.2 already open" in over_the_limit


def test_a_request_cut_short_is_not_answered(serve):
    """Headers without their closing empty line, then the client's side closed: not a request."""
    port = serve().server_address[1]
    with rawhttp.connect(port) as sock:
        sock.sendall(b"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: 1\r\n")
        sock.shutdown(socket.SHUT_WR)
        assert rawhttp.read_all(sock) == b""
    with rawhttp.connect(port) as sock:  # the same, whole, then the side closed: answered
        sock.sendall(b"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        assert rawhttp.status(rawhttp.read_all(sock)) == 200

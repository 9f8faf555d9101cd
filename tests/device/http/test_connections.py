"""A full server on raw loopback sockets: a connection over the limits is answered 503 with
Retry-After, and the client reads that answer instead of a connection reset, even when it sent a
request body the server never read."""

from support import rawhttp

from edgecell.device.http.connections import Connections


def test_a_busy_server_answers_503_with_retry_after_not_a_reset(serve):
    running = serve()
    running.connections = Connections(total=4, per_client=8)
    port = running.server_address[1]
    holders = [rawhttp.connect(port, f"127.0.2.{i}") for i in range(1, 5)]  # open, sending nothing
    post = b"POST /classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 20000\r\n\r\n" + bytes(20000)
    try:
        for attempt in range(20):
            answer = rawhttp.exchange(port, post, source="127.0.3.1")  # raises ConnectionResetError on a reset
            assert rawhttp.status(answer) == 503, attempt
            assert rawhttp.header(answer, "Retry-After") == "2"
            assert b"4 connections already open" in answer
    finally:
        for sock in holders:
            sock.close()


def test_connections_are_counted_per_client_and_in_all():
    counts = Connections(total=3, per_client=2)
    assert counts.enter("a") is None and counts.enter("a") is None
    assert "2 connections from a" in counts.enter("a")
    assert counts.enter("b") is None
    assert "3 connections already open" in counts.enter("c")
    counts.leave("a")
    assert counts.enter("c") is None

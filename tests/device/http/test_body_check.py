"""Request framing per RFC 9112 section 6.3 on raw loopback sockets: a body length that two parsers
could read differently (the way requests are smuggled past a proxy) is 400 and the connection
closed, so nothing after it is read as a request of its own."""

import pytest
from support import rawhttp

from edgecell.device.http import body_check
from edgecell.models import DEMO_MODEL

PNG = (DEMO_MODEL.parent / "images" / "3_0045.png").read_bytes() if DEMO_MODEL.exists() else b""
SMUGGLED = b"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def post(headers: str, body: bytes) -> bytes:
    return f"POST /classify HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode() + body


@pytest.mark.parametrize(
    "headers, reason",
    [
        ("Content-Length: {n}\r\nTransfer-Encoding: chunked\r\n", b"both Transfer-Encoding and Content-Length"),
        ("Content-Length: {n}\r\nContent-Length: 5\r\n", b"Content-Lengths"),
        ("Content-Length: {n}, 5\r\n", b"Content-Lengths"),
        ("Content-Length: +{n}\r\n", b"is not a number of bytes; send digits only"),
        ("Content-Length: 5_0\r\n", b"'5_0' is not a number of bytes"),
        ("Content-Length: \r\n", b"is not a number of bytes"),
    ],
)
def test_an_ambiguous_length_is_400_and_the_connection_closed(serve, headers, reason):
    port = serve().server_address[1]
    answer = rawhttp.exchange(port, post(headers.format(n=len(PNG)), PNG + SMUGGLED))
    assert rawhttp.status(answer) == 400 and reason in answer
    assert rawhttp.header(answer, "Connection") == "close"
    assert answer.count(b"HTTP/1.1 ") == 1  # the bytes after it were not answered as a request


def test_a_get_with_a_body_is_answered_and_its_body_never_read_as_a_request(serve):
    port = serve().server_address[1]
    sneaky = f"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(SMUGGLED)}\r\n\r\n"
    answer = rawhttp.exchange(port, sneaky.encode() + SMUGGLED)
    assert rawhttp.status(answer) == 200 and answer.count(b"HTTP/1.1 ") == 1


def test_identical_lengths_and_plain_digits_pass(serve):
    port = serve().server_address[1]
    for headers in (f"Content-Length: {len(PNG)}\r\n", f"Content-Length: {len(PNG)}, {len(PNG)}\r\n"):
        assert rawhttp.status(rawhttp.exchange(port, post(headers + "Connection: close\r\n", PNG))) == 200


def test_chunked_alone_is_411():
    class Headers(dict):
        def get_all(self, name, default=None):
            return [self[name]] if name in self else default

    refusal = body_check.check_length(Headers({"Transfer-Encoding": "chunked"}), 1000)
    assert refusal.status == 411 and "Content-Length" in refusal.reason
    assert (
        body_check.check_length(Headers({"Content-Length": "٥"}), 1000).status == 400
    )  # a digit to int(), not to HTTP


def test_an_ambiguous_get_is_400_and_the_connection_closed(serve):
    port = serve().server_address[1]
    sneaky = "GET /status.json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = rawhttp.exchange(port, sneaky.encode() + b"0\r\n\r\n" + SMUGGLED)
    assert rawhttp.status(answer) == 400 and rawhttp.header(answer, "Connection") == "close"
    assert answer.count(b"HTTP/1.1 ") == 1

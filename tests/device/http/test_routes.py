"""What every answer says about the server, on raw loopback sockets: the token only in a header,
no Python version, no absolute path, the security headers."""

import json

from support import rawhttp
from support.serving import TOKEN

from edgecell.models import DEMO_MODEL


def body(answer: bytes) -> dict:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])


def test_a_token_in_the_address_is_refused_with_where_it_goes(serve):
    port = serve(token=TOKEN).server_address[1]
    for path in (f"/?token={TOKEN}", f"/status.json?token={TOKEN}", f"/frame.jpg?seq=1&token={TOKEN}"):
        answer = rawhttp.exchange(port, rawhttp.get(path))
        assert rawhttp.status(answer) == 400, path
        assert "'Authorization: Bearer TOKEN' header, not in the address" in body(answer)["error"]
        assert "/#token=TOKEN" in body(answer)["error"]
    ok = rawhttp.exchange(port, rawhttp.get("/status.json", headers=f"Authorization: Bearer {TOKEN}\r\n"))
    assert rawhttp.status(ok) == 200


def test_no_python_version_and_no_absolute_path(serve):
    port = serve().server_address[1]
    answer = rawhttp.exchange(port, rawhttp.get("/status.json"))
    assert rawhttp.header(answer, "Server") == "edgecell"
    assert body(answer)["model"] == DEMO_MODEL.name and str(DEMO_MODEL.parent) not in answer.decode()
    broken = rawhttp.exchange(port, b"NONSENSE\r\n\r\n")  # http.server's own refusal: the same JSON and headers
    assert rawhttp.status(broken) == 400 and rawhttp.header(broken, "Server") == "edgecell"
    assert "error" in body(broken)


def test_every_answer_carries_the_security_headers(serve):
    port = serve().server_address[1]
    for path in ("/", "/status.json", "/metrics", "/nope"):
        answer = rawhttp.exchange(port, rawhttp.get(path))
        assert rawhttp.header(answer, "X-Content-Type-Options") == "nosniff", path
        policy = rawhttp.header(answer, "Content-Security-Policy")
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy, path
    page = rawhttp.exchange(port, rawhttp.get("/"))
    policy = rawhttp.header(page, "Content-Security-Policy")
    assert "script-src 'sha256-" in policy and "unsafe-inline" not in policy and "http" not in policy

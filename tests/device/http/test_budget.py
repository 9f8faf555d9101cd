"""One decode budget for all requests: 16 concurrent POSTs of a 136 kB PNG declaring 6320x6320
(each under the 40-megapixel cap) to the real `edgecell serve` leave its peak memory bounded;
each is classified or answered 503 with Retry-After."""

import http.client
import threading
import time
from pathlib import Path

import pytest
from support.bombs import png_bomb
from support.serving import start_serving, stop

from edgecell.device.http import budget


def peak_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), as the kernel counted it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_a_budget_is_shared_and_a_request_waits_then_gives_up():
    shared = budget.Budget(10)
    with shared.hold(8) as first:
        started = time.monotonic()
        with shared.hold(5, wait_s=0.2) as second:
            assert first and not second and time.monotonic() - started >= 0.2
        with shared.hold(2, wait_s=0) as third:
            assert third and shared.free == 0
    assert shared.free == 10
    with shared.hold(50, wait_s=0) as whole:  # more than the whole: the whole, alone
        assert whole and shared.free == 0


def test_a_waiting_request_gets_its_share_when_one_ends():
    shared, got = budget.Budget(1), []
    with shared.hold(1):
        waiter = threading.Thread(target=lambda: got.append(shared.hold(1, wait_s=5).__enter__()))
        waiter.start()
        time.sleep(0.1)
    waiter.join(timeout=5)
    assert got == [True]


@pytest.mark.slow
def test_sixteen_concurrent_decompression_pngs_stay_within_the_budget(tmp_path):
    body = png_bomb(tmp_path / "6320.png", 6320).read_bytes()
    assert len(body) < 140_000
    process, url = start_serving(["serve", "--model", "demo"], tmp_path)
    port, answers = int(url.rsplit(":", 1)[1].strip("/")), []
    try:
        before = peak_mb(process.pid)

        def post():
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                connection.request("POST", "/classify", body=body)
                response = connection.getresponse()
                answers.append((response.status, response.getheader("Retry-After"), response.read()))
            finally:
                connection.close()

        threads = [threading.Thread(target=post) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        peak = peak_mb(process.pid)
    finally:
        stop(process)
    statuses = sorted(status for status, _, _ in answers)
    assert len(answers) == 16 and set(statuses) <= {200, 503} and 200 in statuses, statuses
    assert all(retry == "2" for status, retry, _ in answers if status == 503)
    # one 40-megapixel decode at a time, 3 bytes a pixel, beside the server's own memory; 2.3 GB before
    bound = before + budget.PIXELS * 6 / 2**20
    assert peak < bound, f"peak {peak:.0f} MB, over {bound:.0f} MB (started at {before:.0f} MB)"
    print(f"peak {peak:.0f} MB from {before:.0f} MB; answers {statuses}")

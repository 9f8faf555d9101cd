"""The HTTP server for the tests: `edgecell ... --serve 127.0.0.1:0` in a subprocess (started,
found, stopped), and the `serve` fixture: a `Server` with the demo model in the test's process."""

import re
import signal
import subprocess
import time

import pytest

from support.cli import edgecell_command


def start_serving(args, tmp_path):
    """`edgecell ARGS --serve 127.0.0.1:0` and the URL it says it serves on (from its stderr);
    its output goes to tmp_path/stdout.txt and stderr.txt."""
    return started([*args, "--serve", "127.0.0.1:0"], tmp_path, r"http://127\.0\.0\.1:\d+/")


def started(args, tmp_path, url_pattern: str, name: str = ""):
    """(process, URL): `edgecell ARGS` in a subprocess, once its stderr names a URL matching
    `url_pattern`; its output in tmp_path/{name}stdout.txt and {name}stderr.txt."""
    log = tmp_path / f"{name}stderr.txt"
    with (tmp_path / f"{name}stdout.txt").open("w") as out, log.open("w") as err:
        process = subprocess.Popen(edgecell_command(*args), stdout=out, stderr=err)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(url_pattern, log.read_text())
        if found:
            return process, found.group(0)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"edgecell {args[0]} did not start serving: {log.read_text()[-2000:]}")


def stop(process):
    """SIGTERM, as systemd stops a service; killed if it has not ended 15 s later."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


TOKEN = "s3cret-token-of-22-ch"


@pytest.fixture(scope="module")
def classifier():
    from edgecell.device.model.classifier import Classifier
    from edgecell.models import DEMO_MODEL

    if not DEMO_MODEL.exists():
        pytest.skip("the demo model is not built here")
    return Classifier(DEMO_MODEL)


@pytest.fixture
def serve(classifier):
    """`serve(port=0, **Server's options)`: a started server on 127.0.0.1 (port 0: a free one),
    closed after the test (or by it)."""
    from edgecell.device.http import server
    from edgecell.device.http.live_state import Live

    started = []

    def start(port=0, **options):
        live = Live(str(classifier.path), classifier.runtime.name)
        one = server.Server(server.Address("127.0.0.1", port), live, server.Classify(classifier), **options).start()
        started.append(one)
        return one

    yield start
    for one in started:
        if one.socket.fileno() != -1:
            one.close()

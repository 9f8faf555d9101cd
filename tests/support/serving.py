"""`edgecell ... --serve 127.0.0.1:0` in a subprocess for the tests: started, found, stopped."""

import re
import signal
import subprocess
import time

import pytest

from support.cli import edgecell_command


def start_serving(args, tmp_path):
    """`edgecell ARGS --serve 127.0.0.1:0` and the URL it says it serves on (from its stderr);
    its output goes to tmp_path/stdout.txt and stderr.txt."""
    log = tmp_path / "stderr.txt"
    with (tmp_path / "stdout.txt").open("w") as out, log.open("w") as err:
        process = subprocess.Popen(edgecell_command(*args, "--serve", "127.0.0.1:0"), stdout=out, stderr=err)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"http://127\.0\.0\.1:\d+/", log.read_text())
        if found:
            return process, found.group(0)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"edgecell did not start serving: {log.read_text()[-2000:]}")


def stop(process):
    """SIGTERM, as systemd stops a service; killed if it has not ended 15 s later."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

"""`edgecell review INBOX --data DATA` in a subprocess for the tests: started, its URL found, stopped."""

import re
import subprocess
import time

import pytest

from support.cli import edgecell_command
from support.serving import stop

__all__ = ["start_review", "stop"]


def start_review(inbox, data, tmp_path):
    """The running command and the page's URL (from its stderr)."""
    log = tmp_path / "review-stderr.txt"
    with (tmp_path / "review-stdout.txt").open("w") as out, log.open("w") as err:
        process = subprocess.Popen(edgecell_command("review", inbox, "--data", data), stdout=out, stderr=err)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"http://127\.0\.0\.1:\d+/[A-Za-z0-9_-]+/", log.read_text())
        if found:
            return process, found.group(0)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"edgecell review did not start: {log.read_text()[-2000:]}")

"""`edgecell infer FOLDER --serve`: the page stays up after a finite source ends, until Ctrl-C (or
SIGTERM) or `--serve-for SECONDS`, saying so in one line; through the real command."""

import json
import subprocess
import time
import urllib.request

from support.cli import edgecell_command
from support.serving import start_serving, stop

from edgecell.models import DEMO_IMAGES, DEMO_MODEL


def said(tmp_path, text, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in (tmp_path / "stderr.txt").read_text():
            return True
        time.sleep(0.1)
    return False


def status(url):
    with urllib.request.urlopen(url + "status.json", timeout=10) as answer:
        return json.loads(answer.read())


def test_the_page_stays_up_after_a_folder_until_sigterm(tmp_path):
    process, url = start_serving(["infer", str(DEMO_IMAGES), "--model", str(DEMO_MODEL), "-q"], tmp_path)
    try:
        assert said(tmp_path, "The source has ended; the page stays up until Ctrl-C."), tmp_path / "stderr.txt"
        time.sleep(1.0)
        answer = status(url)  # still answering after the source ended
        images = len(list(DEMO_IMAGES.iterdir()))
        assert answer["images"]["done"] == images and answer["frame"]["seq"] == answer["frame_seq"]
        assert process.poll() is None
        assert "classified, 0 failed" in (tmp_path / "stdout.txt").read_text()  # the summary is already out
    finally:
        stop(process)
    assert process.returncode == 0  # the run was whole; the stop came after it


def test_serve_for_ends_the_page_after_its_seconds(tmp_path):
    started = time.monotonic()
    process, url = start_serving(
        ["infer", str(DEMO_IMAGES), "--model", str(DEMO_MODEL), "-q", "--serve-for", "2"], tmp_path
    )
    try:
        assert said(tmp_path, "until Ctrl-C or 2 s (--serve-for)")
        assert status(url)["images"]["done"] > 0
        assert process.wait(timeout=30) == 0
    finally:
        stop(process)
    assert time.monotonic() - started >= 2


def test_serve_for_without_serve_is_one_sentence(tmp_path):
    command = edgecell_command("infer", DEMO_IMAGES, "--model", DEMO_MODEL, "--serve-for", "5")
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "give --serve [HOST:]PORT too" in done.stderr, done.stderr

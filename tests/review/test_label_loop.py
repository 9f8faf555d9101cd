"""The loop end to end: a board (this machine behind a real OpenSSH server, tests/support/sshd.py)
runs `edgecell infer --collect` over SSH on digits and blends of two digits; `edgecell collect`
brings the kept frames home and removes them from the board; the review page in headless Chromium
labels three; `edgecell train DATA` trains on them: its split.json lists each under its class."""

import itertools
import json
import shlex
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
from support import sshd
from support.chromium import keep
from support.cli import edgecell_command
from support.reviewing import start_review, stop

from edgecell.device.input import classfolder
from edgecell.models import DEMO_IMAGES
from edgecell.train.dataset import split

pytestmark = [
    pytest.mark.slow,
    pytest.mark.tf,  # the loop ends in edgecell train
    pytest.mark.skipif(bool(sshd.unavailable()), reason=sshd.unavailable() or "sshd runs here"),
]


def stream(folder):
    """The demo digits, and every pair of them blended half and half: some leave the model torn."""
    folder.mkdir(parents=True)
    digits = {p.name[0]: cv2.imread(str(p)) for p in sorted(DEMO_IMAGES.glob("*.png"))}
    for name, picture in digits.items():
        cv2.imwrite(str(folder / f"digit_{name}.png"), picture)
    for a, b in itertools.combinations(sorted(digits), 2):
        blend = ((digits[a].astype(np.uint16) + digits[b]) // 2).astype(np.uint8)
        cv2.imwrite(str(folder / f"blend_{a}{b}.png"), blend)
    return folder


def on_board(server, *words):
    """`words` run on the board through ssh, as an operator would."""
    command = " ".join(shlex.quote(str(w)) for w in words)
    ssh = ["ssh", "-F", str(server.config), "-p", str(server.port), f"{server.user}@127.0.0.1", command]
    return subprocess.run(ssh, capture_output=True, text=True, timeout=300)


def test_collected_on_the_board_fetched_labelled_and_seen_by_train(server, tmp_path, browser):
    from selenium.webdriver.common.by import By

    board = tmp_path / "board"
    kept = board / "collected"
    run = on_board(
        server,
        *(sys.executable, "-m", "edgecell", "infer", stream(board / "camera"), "--model", "demo"),
        *("--collect", kept, "--collect-share", "0.2", "--json", board / "summary.json", "-q"),
    )
    assert run.returncode == 0, run.stderr
    report = json.loads((board / "summary.json").read_text())["collect"]
    assert report["by_reason"]["margin"] >= 1 and report["collected"] >= 3, report  # the torn blends, and a share

    inbox, data = tmp_path / "inbox", tmp_path / "data"
    fetched = subprocess.run(
        edgecell_command(
            "collect", server.host(), "--into", inbox, "--from", kept, "--remove", "--ssh-config", server.config
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert fetched.returncode == 0 and f"fetched {report['collected']} new frames" in fetched.stdout, fetched.stdout
    assert not list(kept.glob("*.jpg"))  # verified here, so removed there

    for picture in DEMO_IMAGES.glob("*.png"):  # the dataset so far: one picture a digit
        (data / picture.name[0]).mkdir(parents=True, exist_ok=True)
        (data / picture.name[0] / picture.name).write_bytes(picture.read_bytes())
    before = classfolder.scan(data)
    process, url = start_review(inbox, data, tmp_path)
    labelled = []
    try:
        browser.get(url)
        body = browser.find_element(By.TAG_NAME, "body")
        for _ in range(3):  # three frames, each labelled by the key of the model's guess
            deadline = time.monotonic() + 10
            while not (key := browser.find_element(By.ID, "frame").get_attribute("data-key")) or key in [
                k for k, _ in labelled
            ]:
                assert time.monotonic() < deadline, "the page did not show the next frame"
                time.sleep(0.05)
            guess = browser.find_element(By.ID, "guess").text.removeprefix("guess: ")
            labelled.append((key, guess))
            body.send_keys(guess)
        deadline = time.monotonic() + 10
        while browser.find_element(By.ID, "labelled").text != "3":
            assert time.monotonic() < deadline, "the page did not count three labels"
            time.sleep(0.05)
        shot = tmp_path / "review-loop.png"
        browser.save_screenshot(str(shot))
        keep(shot)
    finally:
        stop(process)

    after = classfolder.scan(data)
    assert len(after.samples) == len(before.samples) + 3
    listed = {(s.path, after.classes[s.label]) for s in after.samples}
    for key, guess in labelled:
        assert (f"{guess}/{key.split('/', 1)[1]}", guess) in listed  # DATA/<class>/NAME.jpg, under its class
    held = split(after)
    assert sum(len(part) for part in (held.train, held.val, held.test)) == len(after.samples)
    model = tmp_path / "trained"
    trained = subprocess.run(
        edgecell_command("train", data, "--out", model, "--epochs", "1", "--img-size", "16"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    used = json.loads((model / "split.json").read_text())
    listed = {(path, used["classes"][label]) for part in ("train", "val", "test") for path, label in used[part]}
    for key, guess in labelled:
        assert (f"{guess}/{key.split('/', 1)[1]}", guess) in listed  # the next model saw the labelled frames

"""`edgecell review` in headless Chromium (selenium): frames a real `edgecell infer --collect` kept
are labelled by button and by key, one is none of these, a move is undone, a name taken in DATA
gets a new one; the page loads nothing from elsewhere and the server answers only its token."""

import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from support.chromium import keep
from support.cli import edgecell_command
from support.reviewing import start_review, stop

from edgecell.models import DEMO_IMAGES

pytestmark = pytest.mark.slow


def collected(inbox):
    board = inbox / "board-a"
    done = subprocess.run(
        edgecell_command("infer", DEMO_IMAGES, "--model", "demo", "--collect", board, "--collect-share", "1", "-q"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return board


def wait_for(browser, key, deadline_s=10):
    """Until the page shows frame `key` (or none, for None)."""
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        frame = browser.find_element(By.ID, "frame")
        shown = None if frame.get_attribute("hidden") else frame.get_attribute("data-key")
        if shown == key:
            return
        time.sleep(0.05)
    pytest.fail(f"the page did not move to {key}")


def test_frames_are_labelled_by_button_and_key_with_none_and_undo(tmp_path, browser):
    from selenium.webdriver.common.by import By

    inbox, data = tmp_path / "inbox", tmp_path / "data"
    board = collected(inbox)
    for label in "0123456789":
        (data / label).mkdir(parents=True)
    names = sorted(p.name for p in board.glob("*.jpg"))
    (data / "1" / names[1]).write_bytes(b"an earlier picture of the same name")  # a clash: a new name, never over it
    hostile = board / names[3].replace(".jpg", ".json")  # a board's sidecar is text, never HTML on the page
    hostile.write_text(json.dumps({**json.loads(hostile.read_text()), "guess": "<img src=x onerror=alert(1)>"}))
    process, url = start_review(inbox, data, tmp_path)
    try:
        browser.get(url)
        wait_for(browser, f"board-a/{names[0]}")
        assert browser.find_element(By.ID, "guess").text == "guess: 0"  # the model's guess, from the sidecar
        assert "sample" in browser.find_element(By.ID, "why").text
        buttons = browser.find_elements(By.CSS_SELECTOR, "#classes button")
        assert [b.find_element(By.TAG_NAME, "span").text for b in buttons] == list("0123456789")
        assert [b.find_element(By.TAG_NAME, "kbd").text for b in buttons] == list("0123456789")  # their own keys
        buttons[0].click()  # the first frame: button 0
        wait_for(browser, f"board-a/{names[1]}")
        body = browser.find_element(By.TAG_NAME, "body")
        body.send_keys("1")  # the second frame, by key
        wait_for(browser, f"board-a/{names[2]}")
        body.send_keys("n")  # none of these
        wait_for(browser, f"board-a/{names[3]}")
        assert (inbox / "_none" / names[2]).exists()
        body.send_keys("u")  # undo the last move: the third frame is back, first in line
        wait_for(browser, f"board-a/{names[2]}")
        body.send_keys("s")  # skip it: the next one comes, the skipped one goes last
        wait_for(browser, f"board-a/{names[3]}")
        assert browser.find_element(By.ID, "remaining").text == str(len(names) - 2)
        assert browser.find_element(By.ID, "guess").text == "guess: <img src=x onerror=alert(1)>"
        assert not browser.find_elements(By.CSS_SELECTOR, "#right img")
        shot = tmp_path / "review-page.png"
        browser.save_screenshot(str(shot))
        keep(shot)
        source = browser.page_source
        assert "<script src" not in source and "<link" not in source and "http" not in source.split("<body", 1)[1]
    finally:
        stop(process)
    assert (data / "0" / names[0]).exists() and not (board / names[0]).exists()
    assert (data / "1" / names[1]).read_bytes() == b"an earlier picture of the same name"
    assert (data / "1" / (names[1][:-4] + "-1.jpg")).exists()  # the labelled frame under a new name
    assert (board / names[2]).exists() and not (inbox / "_none" / names[2]).exists()  # undone
    assert (board / ".labelled" / names[0].replace(".jpg", ".json")).exists()  # what the board said, kept


def test_the_server_answers_only_its_token_and_loopback_names(tmp_path):
    inbox, data = tmp_path / "inbox", tmp_path / "data"
    collected(inbox)
    process, url = start_review(inbox, data, tmp_path)
    try:
        base = url.rsplit("/", 2)[0]
        for path, code in ((base + "/state.json", 404), (base + "/wrong-token/state.json", 404)):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(path, timeout=10)
            assert refused.value.code == code
        rebound = urllib.request.Request(url + "state.json", headers={"Host": "evil.example:80"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(rebound, timeout=10)
        assert refused.value.code == 421
        form = urllib.request.Request(url + "undo", data=b"a=1", method="POST")  # what a cross-site form sends
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(form, timeout=10)
        assert refused.value.code == 409 and "send JSON" in json.loads(refused.value.read())["error"]
        elsewhere = urllib.request.Request(
            url + "undo",
            data=b"{}",
            headers={"Content-Type": "application/json", "Origin": "http://evil.example"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(elsewhere, timeout=10)
        assert refused.value.code == 403
        with urllib.request.urlopen(url + "state.json", timeout=10) as answer:
            state = json.loads(answer.read())
            assert answer.headers["X-Frame-Options"] == "DENY" and answer.headers["Referrer-Policy"] == "no-referrer"
        assert state["classes"] == list("0123456789") and state["remaining"] == len(list(DEMO_IMAGES.glob("*.png")))
        outside = urllib.request.Request(
            url + "label",
            data=json.dumps({"key": "../../etc/passwd", "choice": "3"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(outside, timeout=10)
        assert (
            refused.value.code == 409
            and "No frame '../../etc/passwd' is left" in json.loads(refused.value.read())["error"]
        )
    finally:
        stop(process)


def test_review_with_nothing_to_label_with_is_one_sentence(tmp_path):
    (tmp_path / "inbox").mkdir()
    done = subprocess.run(
        edgecell_command("review", tmp_path / "inbox", "--data", tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "No classes to label with" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run(
        edgecell_command("review", tmp_path / "nowhere", "--data", tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "is not a folder" in done.stderr

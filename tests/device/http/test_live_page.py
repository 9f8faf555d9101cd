"""The live page in a real browser: headless Chromium (Debian's chromium and chromium-driver, driven
by selenium) opens it while `edgecell infer --serve` classifies a video whose frames change class,
and sees the label change; /classify answers as `edgecell infer` does. Loopback only; the browser
and the run are stopped by the test that started them. The screenshot is kept in tmp_path, and in
$EDGECELL_ARTIFACTS when that is set."""

import json
import subprocess
import time
import urllib.request
from pathlib import Path

import cv2
import pytest
from support.chromium import keep
from support.cli import edgecell_command
from support.serving import start_serving, stop

from edgecell.models import DEMO_MODEL

IMAGES = DEMO_MODEL.parent / "images"
BLOCKS = ["3", "7", "3", "7", "3"]  # the class of each second of the video

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DEMO_MODEL.exists(), reason="the demo model is not built here"),
]


def class_video(path: Path, fps: int = 10) -> Path:
    """A video of BLOCKS: one second of each class's demo image, enlarged 8x (nearest)."""
    pictures = {p.name.split("_")[0]: cv2.imread(str(p)) for p in IMAGES.glob("*.png")}
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 64))
    try:
        for label in BLOCKS:
            big = cv2.resize(pictures[label], (64, 64), interpolation=cv2.INTER_NEAREST)
            for _ in range(fps):
                writer.write(big)
    finally:
        writer.release()
    return path


def test_the_live_page_follows_the_frames_and_classify_agrees_with_infer(browser, tmp_path):
    from selenium.webdriver.common.by import By

    video = class_video(tmp_path / "classes.avi")
    process, url = start_serving(["infer", "--model", "demo", "--camera", str(video), "--quiet"], tmp_path)
    try:
        browser.get(url)
        seen, deadline = [], time.monotonic() + 20
        while time.monotonic() < deadline and len(set(seen)) < 2:
            label = browser.find_element(By.ID, "label").text
            if label in BLOCKS and (not seen or seen[-1] != label):
                seen.append(label)
            time.sleep(0.2)
        assert len(set(seen)) == 2, f"the page showed {seen}"
        events = browser.find_element(By.ID, "events").text
        assert "3 \u2192 7" in events or "7 \u2192 3" in events, events  # the class changes, newest first
        assert float(browser.find_element(By.ID, "rate").text) > 0
        assert browser.find_element(By.ID, "temp").text  # a temperature or "unknown"
        widths, deadline = set(), time.monotonic() + 5  # the frame is swapped twice a second: catch it loaded
        while time.monotonic() < deadline and "320" not in widths:
            widths.add(browser.find_element(By.ID, "frame").get_attribute("naturalWidth"))
            time.sleep(0.1)
        assert "320" in widths  # the 64-pixel frame enlarged to a readable width
        shot = tmp_path / "live-page.png"
        browser.save_screenshot(str(shot))
        keep(shot)
        assert shot.stat().st_size > 5000

        picture = IMAGES / "7_0118.png"
        request = urllib.request.Request(url + "classify", data=picture.read_bytes(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            served = json.loads(answer.read())
    finally:
        stop(process)
    rows = tmp_path / "infer.jsonl"
    subprocess.run(
        edgecell_command("infer", str(picture), "--model", "demo", "--output", str(rows), "--quiet"),
        check=True,
        capture_output=True,
        timeout=60,
    )
    row = next(r for r in map(json.loads, rows.read_text().splitlines()) if r["status"] == "ok")
    assert served["label"] == row["label"] == "7" and served["score"] == row["score"]

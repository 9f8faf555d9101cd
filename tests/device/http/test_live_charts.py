"""The live page's charts: the top-score and answer distributions of the last window against the
ones export recorded, and the last hour's unknown share and drift, minute by minute; drawn in
headless Chromium from a real `edgecell infer --serve` on an exported model, a screenshot kept."""

import json
import time
import urllib.request

import pytest
from support.chromium import keep
from support.imagegen import colour_dataset
from support.serving import start_serving, stop

from edgecell.device.http.live_state import HOUR, Hour
from edgecell.device.loop.result import Result, Timing


def test_the_hour_is_kept_minute_by_minute_and_bounded():
    now = [1_800_000_000.0]  # seconds since the epoch, moved by the test
    hour = Hour(clock=lambda: now[0])
    scores = [0.9, 0.1]
    sure, unsure = Result("a", [], Timing(), None, scores, 0.5), Result("b", [], Timing(), None, [0.4, 0.3], 0.5)
    hour.add(sure, (0.01, 0.02))
    hour.add(unsure, (0.05, 0.02))
    now[0] += 60
    hour.add(sure)
    rows = hour.rows()
    assert [(r["frames"], r["unknown"], r["score_psi"]) for r in rows] == [(2, 1, 0.05), (1, 0, None)]
    assert rows[0]["minute"] == "2027-01-15T08:00+00:00"
    for _ in range(3 * HOUR):  # a run of hours keeps the last one
        now[0] += 60
        hour.add(sure)
    assert len(hour.rows()) == HOUR


@pytest.mark.tf
@pytest.mark.slow
def test_the_page_draws_what_the_board_sees_against_what_export_saw(exported_dir, browser, tmp_path):
    from selenium.webdriver.common.by import By

    model = exported_dir / "export" / "model_int8.tflite"
    folder = colour_dataset(tmp_path / "frames", per_class=12, seed=3)
    args = ["infer", folder, "--model", model, "--drift-window", "20", "--unknown", "0.9", "--serve-for", "60", "-q"]
    process, url = start_serving(args, tmp_path)
    try:
        deadline, drawn = time.monotonic() + 30, {}
        browser.get(url)
        while time.monotonic() < deadline:
            drawn = {
                c.get_attribute("id"): c.get_attribute("data-drawn")
                for c in browser.find_elements(By.TAG_NAME, "canvas")
            }
            if drawn == {"scores": "bars", "classes": "bars", "unknown": "minutes", "drift": "minutes"}:
                break
            time.sleep(0.2)
        assert drawn == {"scores": "bars", "classes": "bars", "unknown": "minutes", "drift": "minutes"}, drawn
        note = browser.find_element(By.ID, "unknown-note").text
        browser.execute_script("document.getElementById('charts').scrollIntoView()")
        time.sleep(0.6)  # a poll after the scroll, so the canvases are drawn at their place
        shot = tmp_path / "live-charts.png"
        browser.save_screenshot(str(shot))
        keep(shot)
        with urllib.request.urlopen(url + "status.json", timeout=10) as answer:
            status = json.loads(answer.read())
    finally:
        stop(process)
    drift, hour = status["drift"], status["hour"]
    assert sum(drift["score_counts"]["window"]) == sum(drift["class_counts"]["window"]) == 20  # the window, full
    assert sum(drift["score_counts"]["reference"]) == drift["reference_images"]
    assert drift["labels"] == ["blue", "green", "red"]
    assert sum(m["frames"] for m in hour) == status["images"]["done"] == 36
    assert f"this minute {hour[-1]['unknown']} of {hour[-1]['frames']}" in note
    assert shot.stat().st_size > 5000

"""The live page under its own Content-Security-Policy in headless Chromium, with a token: opened
as /#token=..., it shows the classified frame and the label, and the token leaves the address bar."""

import json
import time
import urllib.request

import pytest
from support.serving import TOKEN

from edgecell.device.http import answer_headers
from edgecell.models import DEMO_MODEL


def test_the_policy_names_the_page_s_own_script_and_style_by_hash():
    page = b"<style>a{}</style><script>go()</script>"
    policy = answer_headers.page_policy(page)
    assert "script-src 'sha256-" in policy and "style-src 'sha256-" in policy
    assert answer_headers.page_policy(page.replace(b"go()", b"evil()")) != policy


@pytest.mark.slow
def test_the_page_works_under_its_policy_with_the_token_in_a_header(serve, browser):
    from selenium.webdriver.common.by import By

    running = serve(token=TOKEN, feed_live=True)
    url = f"http://127.0.0.1:{running.server_address[1]}/"
    picture = (DEMO_MODEL.parent / "images" / "7_0118.png").read_bytes()
    posted = urllib.request.Request(
        url + "classify", data=picture, method="POST", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(posted, timeout=10) as answer:
        assert json.loads(answer.read())["label"] == "7"
    browser.get(url + "#token=" + TOKEN)
    deadline, label, width = time.monotonic() + 10, "", "0"
    while time.monotonic() < deadline and not (label == "7" and int(width or 0) >= 320):
        label = browser.find_element(By.ID, "label").text
        width = browser.find_element(By.ID, "frame").get_attribute("naturalWidth")
        time.sleep(0.1)
    assert label == "7" and int(width) >= 320, (label, width, browser.find_element(By.ID, "state").text)
    assert browser.find_element(By.ID, "frame").get_attribute("src").startswith("blob:")
    assert TOKEN not in browser.current_url  # out of the address bar and this tab's history entry
    browser.get(url)  # the same tab, the address typed again without the token: still authorised
    time.sleep(1.0)
    assert browser.find_element(By.ID, "state").text == "live"


@pytest.mark.slow
def test_the_page_without_the_token_says_how_to_give_it(serve, browser):
    from selenium.webdriver.common.by import By

    running = serve(token=TOKEN)
    browser.get(f"http://127.0.0.1:{running.server_address[1]}/")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "token" not in browser.find_element(By.ID, "state").text:
        time.sleep(0.1)
    assert "open /#token=TOKEN" in browser.find_element(By.ID, "state").text

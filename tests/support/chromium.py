"""Headless Chromium for the tests (Debian's chromium and chromium-driver, driven by selenium):
the `browser` fixture, skipped where they are not installed. It resolves `REBOUND` to 127.0.0.1,
as a DNS-rebinding attack makes a name do."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
REBOUND = "rebind.test"


@pytest.fixture
def browser(tmp_path, monkeypatch):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed (.ci/run installs them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1100,800",
        f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1",
    ):
        options.add_argument(flag)
    # The driver's and the browser's paths are given, so Selenium Manager has nothing to look for;
    # SE_OFFLINE keeps it from the network should it run anyway.
    monkeypatch.setenv("SE_OFFLINE", "true")
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def keep(path: Path) -> None:
    """A screenshot kept in $EDGECELL_ARTIFACTS too, when that is set."""
    folder = os.environ.get("EDGECELL_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(folder) / path.name)

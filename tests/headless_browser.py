"""Headless Chromium for the tests that drive ``paretohqd serve``'s page (tests/test_serve.py,
tests/test_paper_configs.py): Debian's chromium and chromium-driver, installed with apt-get as
root when missing (tests/debian_packages.py). A test module imports the ``browser`` fixture
into its namespace to use it."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Iterator

import pytest

from debian_packages import Unavailable, ensure_programs, skip_unless_ci

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver


def chromium_missing() -> list[str]:
    """The programs of Chromium's two packages that are not on PATH."""
    return [p for p in ("chromium", "chromedriver") if not shutil.which(p)]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """A headless Chromium driven by selenium, until the module ends."""
    try:
        ensure_programs(("chromium", "chromium-driver"), chromium_missing)
    except Unavailable as reason:
        skip_unless_ci(str(reason))
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    # no sandbox as root; no background networking on a machine without internet
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=900,1100",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()

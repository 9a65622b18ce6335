"""Shared pytest setup: bounded hypothesis profiles so the whole suite fits in a few minutes.

HYPOTHESIS_PROFILE=ci (the default) keeps examples few and deadlines off, since 2-core CI
machines time unevenly; HYPOTHESIS_PROFILE=thorough runs many more examples locally.
"""
import os
import shutil
import tempfile

try:  # plots render off-screen in tests
    import matplotlib

    matplotlib.use("Agg")
except ImportError:  # the viz extra is not installed
    pass

import pytest
from hypothesis import HealthCheck, settings

try:  # one BLAS thread: small matrices on a shared 2-core machine run 4-5x faster this way
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:
    pass

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# -- a real browser, for the pages viz writes (animations, explorers) --------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through selenium, as users open the pages (one per test module)."""
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI: .ci/install-browser.sh installs it")
        pytest.skip("chromium is not installed (bash .ci/install-browser.sh installs it)")
    assert CHROMEDRIVER, "chromium without chromedriver: apt-get install chromium-driver"
    from selenium import webdriver  # the dev extra
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="tgl-chromium-")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1400,1000"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)

"""The console in a real browser: headless Chromium driven by Selenium through chromedriver
(Debian's `chromium` and `chromium-driver`), against a real daemon fed over SMTP.

Each page is photographed at desktop (1280x900) and phone (390x844) widths into
$BOUNCER_SCREENSHOTS, else the test's tmp folder. Skips, saying why, without the browser.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http.conftest import ADMIN, Api
from tests.messages import postfix_dsn

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the test extra)")
SIZES = {"desktop": (1280, 900, False), "phone": (390, 844, True)}
HOSTILE = "550 5.1.1 <script>alert('owned')</script> User unknown"


@pytest.fixture(scope="module")
def chrome() -> Iterator:
    """One headless Chromium for the module's tests."""
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--window-size=1280,900")
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: $BOUNCER_SCREENSHOTS, else the test's tmp folder."""
    folder = Path(os.environ.get("BOUNCER_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _photograph(driver, folder: Path, name: str) -> None:  # noqa: ANN001
    """Save the current page at desktop and phone widths (then back to desktop)."""
    for size, (width, height, mobile) in SIZES.items():
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )
        driver.refresh()
        driver.save_screenshot(str(folder / f"{name}-{size}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _go(driver, element, url_part: str) -> None:  # noqa: ANN001
    """Click a link or button and wait until the page that follows is at a URL holding
    url_part (a click returns before a form's answer has loaded)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    before = driver.find_element("tag name", "html")
    element.click()
    WebDriverWait(driver, 20).until(expected_conditions.staleness_of(before))
    WebDriverWait(driver, 20).until(expected_conditions.url_contains(url_part))


def _sign_in(driver, api: Api) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(api.daemon.http_base + "/")
    assert driver.current_url.endswith("/console/login")
    driver.find_element(By.NAME, "token").send_keys(ADMIN)
    _go(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"), "/console/")
    assert driver.current_url.endswith("/console/"), driver.page_source[-1500:]


def _feed(api: Api) -> None:
    api.send(
        postfix_dsn(
            "customer@example.com",
            "5.1.1",
            "550 5.1.1 <customer@example.com>: Recipient address rejected: User unknown",
            message_id="<order-1234@shop.example>",
        ),
        postfix_dsn("ann@example.net", "5.2.2", "552 5.2.2 Mailbox full", message_id="<o2@shop>"),
        postfix_dsn("bob@example.com", "4.4.1", "421 4.4.1 Connection timed out", action="delayed"),
        postfix_dsn("eve@evil.example", "5.1.1", HOSTILE, message_id="<o4@shop>"),
    )


def test_sign_in_find_a_bounce_and_read_why(chrome, api: Api, shots: Path) -> None:  # noqa: ANN001
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _feed(api)
    chrome.delete_all_cookies()
    chrome.get(api.daemon.http_base + "/console/login")
    _photograph(chrome, shots, "login")
    _sign_in(chrome, api)
    _photograph(chrome, shots, "log")
    chrome.find_element(By.NAME, "recipient").send_keys("example.com")
    Select(chrome.find_element(By.NAME, "kind")).select_by_value("bounce")
    _go(chrome, chrome.find_element(By.CSS_SELECTOR, "form.filters button"), "kind=bounce")
    assert "recipient=example.com" in chrome.current_url and "kind=bounce" in chrome.current_url
    rows = chrome.find_elements(By.CSS_SELECTOR, "table.log tbody tr")
    assert [r.find_element(By.CSS_SELECTOR, "td.addr").text for r in rows] == [
        "customer@example.com"
    ]
    assert rows[0].find_element(By.CSS_SELECTOR, ".badge").text == "failed"
    _photograph(chrome, shots, "log-filtered")  # reloads the page
    _go(chrome, chrome.find_element(By.CSS_SELECTOR, "table.log td.addr a"), "/messages/")
    body = chrome.find_element(By.TAG_NAME, "main").text
    assert "userunknown" in body and "Recipient address rejected: User unknown" in body
    assert "<order-1234@shop.example>" in body
    _photograph(chrome, shots, "message")

    chrome.get(api.daemon.http_base + "/console/?recipient=eve@evil.example")
    diagnostic = chrome.find_element(By.CSS_SELECTOR, "td.diag").text
    assert "<script>alert('owned')</script>" in diagnostic
    with pytest.raises(NoAlertPresentException):
        chrome.switch_to.alert.text  # noqa: B018 - raises when no script ran
    _go(chrome, chrome.find_element(By.CSS_SELECTOR, "td.addr a"), "/messages/")
    assert "<script>alert('owned')</script>" in chrome.find_element(By.CSS_SELECTOR, "pre").text
    _photograph(chrome, shots, "message-hostile")


def test_remove_a_suppression_and_a_post_without_csrf_is_refused(  # noqa: ANN001
    chrome, api: Api, shots: Path
) -> None:
    from selenium.webdriver.common.by import By

    _feed(api)
    _sign_in(chrome, api)
    chrome.get(api.daemon.http_base + "/console/suppressions")
    _photograph(chrome, shots, "suppressions")
    chrome.get(api.daemon.http_base + "/console/suppressions?q=eve@evil.example")
    form = chrome.find_element(By.CSS_SELECTOR, "form.remove")
    chrome.execute_script("arguments[0].querySelector('[name=csrf]').value = ''", form)
    form.find_element(By.NAME, "reason").send_keys("forged")
    _go(chrome, form.find_element(By.CSS_SELECTOR, "button"), "/suppressions/remove")
    assert "403" in chrome.find_element(By.TAG_NAME, "h1").text
    assert api.get("/v1/suppressions/eve@evil.example").status == 200

    chrome.get(api.daemon.http_base + "/console/suppressions?q=customer@example.com")
    _photograph(chrome, shots, "suppression-entry")
    form = chrome.find_element(By.CSS_SELECTOR, "form.remove")
    form.find_element(By.NAME, "reason").send_keys("customer fixed the address")
    _go(chrome, form.find_element(By.CSS_SELECTOR, "button"), "done=removed")
    assert "Removed from the list." in chrome.find_element(By.CSS_SELECTOR, ".done").text
    assert api.get("/v1/suppressions/customer@example.com").status == 404
    listed = chrome.get(api.daemon.http_base + "/console/suppressions")
    assert listed is None and "customer@example.com" not in chrome.page_source

    chrome.get(api.daemon.http_base + "/console/overview")
    assert chrome.find_elements(By.CSS_SELECTOR, "svg rect.bar")
    _photograph(chrome, shots, "overview")

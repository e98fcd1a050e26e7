"""A real browser for the panel's tests: Debian's Chromium driven by Selenium through Debian's
chromedriver (nothing downloads a browser), with screenshots kept in ``.local/screenshots/``
and an axe-core accessibility check injected into the page."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from tests.apps import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = ROOT / ".local" / "screenshots"
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
#: axe impacts that fail a page.
BLOCKING_IMPACTS = {"serious", "critical"}


def chromium(language: str = "en-US") -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1440,1000",
        f"--lang={language}",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


@dataclass
class Visit:
    """One person at the browser: where they go, what they see, what they click."""

    driver: webdriver.Chrome
    base: str
    story: str
    shots: list[Path] = field(default_factory=list)

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "main") -> str:
        return self.find(css).text

    def click(self, element: WebElement) -> None:
        """Click ``element``; when that loads another page (a link, a submit button), wait
        until it has replaced this one."""
        if element.tag_name in {"summary", "input", "option", "select"}:
            element.click()
            return
        page = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        wait = WebDriverWait(self.driver, 60)
        wait.until(lambda _driver: _replaced(page))
        # The old page is gone as soon as the new one commits: wait until it is whole, so
        # that what is found next belongs to the page that stays.
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def click_text(self, text: str, scope: str = "main") -> None:
        """Click the link or button (or summary) that reads ``text``."""
        for element in self.find(scope).find_elements(By.CSS_SELECTOR, "a, button, summary"):
            if element.text.strip() == text and element.is_displayed():
                self.click(element)
                return
        raise AssertionError(f"nothing to click reading {text!r} on {self.driver.current_url}")

    def fill(self, name: str, value: str, scope: str = "main") -> None:
        for attempt in range(3):
            try:
                field_ = self.find(f"{scope} [name='{name}']")
                field_.clear()
                field_.send_keys(value)
                return
            except WebDriverException:  # found in a page that was being replaced: find again
                if attempt == 2:
                    raise
                time.sleep(0.5)

    def choose(self, name: str, value: str, scope: str = "main") -> None:
        self.find(f"{scope} [name='{name}'][value='{value}']").click()

    def select(self, name: str, value: str, scope: str = "main") -> None:
        self.find(f"{scope} select[name='{name}'] option[value='{value}']").click()

    def shot(self, name: str) -> Path:
        """A screenshot of the whole page, kept after the run."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1440, max(1000, min(int(height) + 40, 4000)))
        path = SCREENSHOTS / f"{self.story}-{len(self.shots) + 1:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1440, 1000)
        self.shots.append(path)
        return path

    def accessible(self) -> None:
        """Fail on serious or critical axe-core violations of the page now shown."""
        self.driver.execute_script(AXE.read_text())
        result: dict[str, Any] = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => done(r.violations), e => done([{id: 'axe-error', impact: 'critical',"
            " help: String(e), nodes: []}]));"
        )
        blocking = [v for v in result if v.get("impact") in BLOCKING_IMPACTS]
        assert not blocking, (
            "\n".join(
                f"{v['id']} ({v['impact']}): {v['help']} at "
                + ", ".join(str(n.get("target")) for n in v.get("nodes", [])[:3])
                for v in blocking
            )
            + f"\non {self.driver.current_url}"
        )

    def look(self, name: str) -> None:
        """Screenshot the page and check its accessibility: every page a story visits."""
        self.shot(name)
        self.accessible()

    def until(self, check: Callable[[], bool], timeout: float = 90, reload: bool = True) -> None:
        """Wait until ``check`` holds, reloading the page meanwhile (effects come by Kafka)."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"not shown within {timeout}s on {self.driver.current_url}")
            time.sleep(1)
            if reload:
                self.driver.refresh()

    def shows(self, text: str, css: str = "main") -> bool:
        return text in self.text(css)


def _replaced(page: WebElement) -> bool:
    """Whether the page whose root is ``page`` has gone: its root is stale, or (caught in the
    middle of the navigation) Chromium says it no longer belongs to the document."""
    try:
        page.is_enabled()
    except WebDriverException:  # StaleElementReferenceException, or the inspector's error
        return True
    return False


def squeeze(text: str) -> str:
    """Text with runs of white space (including non-breaking) as one space."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()

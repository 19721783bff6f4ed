"""The generate page in headless Chromium: inline validation as you type, a run, the live view."""

from __future__ import annotations

import os

import pytest

from .helpers import ARGS, CHROMIUM

pytestmark = pytest.mark.browser


def test_generate_page_validates_inline_and_runs(live_server, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = os.environ.get("THERALAB_SCREENSHOTS", str(tmp_path))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{live_server}/generate")
        page.fill("input[name=username]", "res")
        page.fill("input[name=password]", "password-res")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/generate")
        page.wait_for_selector("#generate-status:not(:empty)")  # selectors, not functions: the CSP forbids eval
        page.fill("#f-mw_high", "100")
        page.wait_for_selector("#f-mw_high-error:not(:empty)")
        assert "above the lower bound" in page.inner_text("#f-mw_high-error")
        assert page.is_disabled("#generate-start")
        page.screenshot(path=f"{shots}/generate_form_error.png", full_page=True)
        page.fill("#f-mw_high", "450")
        page.fill("#f-budget", "40")
        page.wait_for_selector("#generate-start:not([disabled])")
        assert "budget = 40" in page.inner_text("#generate-toml")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366, width  # no horizontal overflow
        page.click("#generate-start")
        page.wait_for_url("**/generate/jobs/*")
        page.wait_for_selector("#generate-top svg", timeout=90_000)
        page.wait_for_selector("#generate-result:not([hidden])", timeout=90_000)
        page.screenshot(path=f"{shots}/generate_job.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        browser.close()
    assert not errors, errors

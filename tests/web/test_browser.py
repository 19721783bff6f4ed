"""A real headless Chromium (Debian's package, driven by Playwright) logs in and profiles molecules."""

from __future__ import annotations

import re

import pytest

from .helpers import ARGS, CHROMIUM

pytestmark = pytest.mark.browser


def test_login_and_profile_two_molecules(live_server, tmp_path):
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        page.goto(f"{live_server}/chem")
        assert "/login" in page.url
        page.fill("input[name=username]", "res")
        page.fill("input[name=password]", "password-res")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/chem")
        page.fill("#smiles-input", "CC(=O)Oc1ccccc1C(=O)O aspirin\nCn1cnc2c1c(=O)n(C)c(=O)n2C caffeine")
        page.click("#profile-button")
        page.wait_for_selector("#profile tbody tr")
        rows = page.locator("#profile tbody tr")
        assert rows.count() == 2
        assert page.locator("#profile svg").count() == 2
        text = page.inner_text("#profile")
        assert "aspirin" in text and "caffeine" in text
        assert "180.16" in text and "194.19" in text  # molecular weights
        assert "lipinski ✓" in text
        page.screenshot(path=str(tmp_path / "chem.png"))
        browser.close()


def test_pk_simulator_and_dissolution_pages_plot(live_server, tmp_path):
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        page.goto(f"{live_server}/login?next=/development")
        page.fill("input[name=username]", "res")
        page.fill("input[name=password]", "password-res")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/development")
        # locator waits, not wait_for_function: the app's CSP forbids eval, which string predicates need
        sync_api.expect(page.locator("#pk-summary")).to_contain_text("Cmax", timeout=30_000)
        summary = page.inner_text("#pk-summary")
        assert "steady state" in summary and "Accumulation ratio" in summary and "mg/L" in summary
        sync_api.expect(page.locator('[data-chart="pk-chart"] .main-svg').first).to_be_visible(timeout=30_000)
        assert "Plasma concentration (mg/L)" in page.inner_text('[data-chart="pk-chart"]')  # axis title with unit
        assert page.locator("text=Download data (CSV)").count() >= 2  # PK and dissolution data
        page.click("#compare")
        sync_api.expect(page.locator("#diss-summary")).to_contain_text("f2", timeout=30_000)
        assert "f1" in page.inner_text("#diss-summary") and "90% CI" in page.inner_text("#diss-summary")
        page.fill("input[name=pk_cl]", "-1")
        page.click("#simulate")
        sync_api.expect(page.locator("#pk-error")).to_have_text(re.compile(r".+"), timeout=30_000)
        page.screenshot(path=str(tmp_path / "development.png"), full_page=True)
        browser.close()

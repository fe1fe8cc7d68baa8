"""A sealed field in the real browser (headless chromium, as tests/console/test_browser.py runs it): the
record's page shows 已加密 / sealed where the party's number would be, never the number or the ciphertext."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from gateway.storage.sqlite import SqliteStore
from tests.console.browsing import log_in, shot
from tests.console.conftest import Scenario
from tests.console.test_browser import LiveConsole
from tests.console.test_sealed import PARTY_ID, SEALED_TEXT, build_sealed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sealed_scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, str]:
    """`build_sealed`'s log, built on this thread before the browser starts (see conftest's scenario)."""
    path = tmp_path_factory.mktemp("sealed") / "jgx.db"

    async def build() -> tuple[Scenario, str]:
        store = SqliteStore(path)
        await store.open()
        try:
            exchange, ciphertext = await build_sealed(store)
        finally:
            await store.close()
        return Scenario(path, exchange), ciphertext

    return asyncio.run(build())


def test_the_record_page_shows_a_sealed_field_as_sealed(
    sealed_scenario: tuple[Scenario, str], browser: Browser, tmp_path: Path
) -> None:
    scenario, ciphertext = sealed_scenario
    with LiveConsole(scenario, tmp_path / "jgx.db") as live:
        context = browser.new_context(base_url=live.url, locale="zh-CN")
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            log_in(page, "ops")
            page.goto(f"/messages/{scenario.exchange.index['good']}")
            payload = page.locator("#payload")
            expect(payload).to_contain_text(f'"partyIdCode": "{SEALED_TEXT}"')
            expect(payload).not_to_contain_text(PARTY_ID)
            expect(payload).not_to_contain_text(ciphertext[:24])
            shot(page, "sealed-field")
        finally:
            context.close()

"""The console in a real browser: Debian's headless chromium driven by Playwright.

The console runs on an ephemeral port in a thread of its own, over the scenario's SQLite file (real
envelopes through a real hub). Screenshots of each step go to ``test-artifacts/console/``.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect

from gateway.cli import main
from gateway.console import make_console_app
from gateway.storage.sqlite import SqliteStore
from tests.console.browsing import log_in, shot
from tests.console.conftest import TASK, Exchange, build_exchange

pytestmark = pytest.mark.browser


class LiveConsole:
    """The console over a fresh scenario database, served from a background thread's event loop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = ""
        self.exchange: Exchange | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="console-under-test", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # the test thread re-raises it
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        store = SqliteStore(self.path)
        await store.open()
        self.exchange = await build_exchange(store)
        app = make_console_app(store, self.exchange.fed.trust, node_id="sc.hub", clock=self.exchange.clock)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()
        await store.close()

    def __enter__(self) -> LiveConsole:
        self._thread.start()
        self._ready.wait(timeout=60)
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveConsole]:
    """A running console over the scenario."""
    with LiveConsole(tmp_path / "jgx.db") as console:
        yield console


@pytest.fixture
def page(browser: Browser, live: LiveConsole) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the live console."""
    context = browser.new_context(base_url=live.url, locale="zh-CN")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def jgx_in_thread(args: list[str], stdin: str) -> int:
    """Run ``jgx`` on a thread of its own (Playwright's loop occupies this one); its exit code."""
    codes: list[int] = []
    worker = threading.Thread(
        target=lambda: codes.append(CliRunner().invoke(main, args, input=stdin).exit_code)
    )
    worker.start()
    worker.join(timeout=60)
    return codes[0] if codes else -1


def test_new_user_finds_the_national_task_proves_it_and_replays_its_dead_letter(
    page: Page, live: LiveConsole
) -> None:
    """A freshly added operator logs in, finds national's task, follows it, proves it, replays it."""
    args = ["users", "add", "wang.fang", "--role", "operator", "--password-stdin", "--db", str(live.path)]
    assert 0 == jgx_in_thread(args, "a brand new passphrase\n")
    log_in(page, "wang.fang", "a brand new passphrase")
    expect(page.locator("#whoami")).to_contain_text("wang.fang")
    shot(page, "01-dashboard")
    page.click("a[href='/messages']")
    page.fill("#f-sender", "cn.national")
    page.fill("#f-standard", "SC-14")
    page.click("#search-submit")
    expect(page.locator("tr.result")).to_have_count(2)
    shot(page, "02-search")
    page.click("tr.result:has-text('national-task-0001') a")
    expect(page.locator("#h-message_id")).to_have_text("national-task-0001")
    expect(page.locator("#payload")).not_to_contain_text("13812345678")
    shot(page, "03-detail")
    page.click("#lifecycle-link")
    expect(page.locator("#timeline li.event")).to_have_count(4)
    expect(page.locator("#lifecycle-state")).to_contain_text("已反馈")
    shot(page, "04-lifecycle")
    page.click("#timeline li.event >> nth=0 >> a")
    page.click("#verify-proof")
    expect(page.locator("#proof-status")).to_contain_text("验证通过")
    expect(page.locator("#proof-size")).to_have_text("7")
    shot(page, "05-proof")
    page.click("a[href='/dead-letters']")
    assert live.exchange is not None
    page.click(f"#replay-{live.exchange.dead_letter}")
    expect(page.locator("#replayed")).to_be_visible()
    expect(page.locator("#no-dead-letters")).to_be_visible()
    shot(page, "06-replayed")
    page.click("a[href='/audit']")
    expect(page.locator("tr.audit-entry").first).to_contain_text("outbox.replay")


def test_wrong_password_shows_an_error(page: Page) -> None:
    """A wrong password keeps the user on the login page with a message."""
    log_in(page, "ops", "not the password")
    expect(page.locator("#login-error")).to_be_visible()
    shot(page, "07-login-failed")


def test_department_user_is_confined_to_its_node(page: Page, live: LiveConsole) -> None:
    """The spot-check user sees only its node's rows, gets 'not found' for others and no replay button."""
    assert live.exchange is not None
    log_in(page, "sjs")
    page.goto("/messages")
    expect(page.locator("tr.result")).to_have_count(2)
    page.goto(f"/messages/{live.exchange.index['task']}")
    expect(page.locator("#error")).to_have_text("未找到")
    shot(page, "08-department-not-found")
    log_in(page, "amr")
    page.goto("/dead-letters")
    expect(page.locator("tr.dead-letter")).to_have_count(1)
    expect(page.locator("button.replay")).to_have_count(0)


def test_hostile_fields_render_as_text_and_english_switch(page: Page, live: LiveConsole) -> None:
    """Script in a record is shown as text (no dialog fires); the English switch relabels the page."""
    assert live.exchange is not None
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, "audit")
    page.goto(f"/messages/{live.exchange.index['hostile']}")
    expect(page.locator("#payload")).to_contain_text("<script>alert('x')</script>")
    expect(page.locator("#h-correlation_id")).to_contain_text("<script>")
    page.click("#lang-switch")
    expect(page.locator("h1")).to_contain_text("Message detail")
    shot(page, "09-hostile-escaped-en")
    page.goto(f"/lifecycle?correlation_id={TASK}")
    expect(page.locator("#lifecycle-state")).to_contain_text(re.compile("fed back"))
    assert [] == dialogs

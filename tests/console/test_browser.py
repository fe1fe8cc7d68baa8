"""The console in a real browser: Debian's headless chromium driven by Playwright.

The console runs on an ephemeral port in a thread of its own, over the scenario's SQLite file (real
envelopes through a real hub). Screenshots of each step go to ``test-artifacts/console/``.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect

from gateway.cli import main
from gateway.cli.console import console_tls
from gateway.console import make_console_app
from gateway.console.app import ConsoleRunner
from gateway.console_settings import ConsoleSettings
from gateway.pki import create_ca, issue_node_certificate
from gateway.storage.sqlite import SqliteStore
from tests.console.browsing import log_in, shot
from tests.console.conftest import OLD_TASK, TASK, Exchange, Scenario
from tests.gateway.nodes import write_node

pytestmark = pytest.mark.browser


class LiveConsole:
    """The console over a fresh scenario database, served from a background thread's event loop."""

    def __init__(self, scenario: Scenario, path: Path, settings: ConsoleSettings | None = None) -> None:
        self.scenario = scenario
        self.path = path
        self.settings = settings
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
        assert self.exchange is not None
        store = SqliteStore(self.path)
        await store.open()
        app = make_console_app(store, self.exchange.fed.trust, node_id="sc.hub", clock=self.exchange.clock,
                               settings=self.settings)  # fmt: skip
        runner = ConsoleRunner(app, access_log=None)
        await runner.setup()
        tls = console_tls(self.settings) if self.settings is not None else None
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
        await site.start()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{runner.addresses[0][1]}"
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()
        await store.close()

    def __enter__(self) -> LiveConsole:
        self.exchange = self.scenario.copy_to(self.path)
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
def live(scenario: Scenario, tmp_path: Path) -> Iterator[LiveConsole]:
    """A running console over a copy of the scenario."""
    with LiveConsole(scenario, tmp_path / "jgx.db") as console:
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
    return jgx_output(args, stdin)[0]


def jgx_output(args: list[str], stdin: str = "") -> tuple[int, str]:
    """Run ``jgx`` on a thread of its own; its exit code and standard output."""
    results: list[tuple[int, str]] = []

    def run() -> None:
        result = CliRunner().invoke(main, args, input=stdin)
        results.append((result.exit_code, result.stdout))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    return results[0] if results else (-1, "")


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
    expect(page.locator("tr.audit-entry").first).to_contain_text("重新投递死信")  # outbox.replay, translated


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


def test_delivery_receipts_show_valid_with_the_recipients_signature(page: Page, live: LiveConsole) -> None:
    """The claim's delivery row and the delivery entry show national's receipt as signed and valid."""
    assert live.exchange is not None
    log_in(page, "audit")
    page.goto(f"/messages/{live.exchange.index['claim']}")
    cell = page.locator("tr.delivery .delivery-receipt")
    expect(cell).to_contain_text("cn.national")
    expect(cell.locator(".ok")).to_have_text("是")
    shot(page, "10-delivery-receipt")
    cell.locator("a").click()
    expect(page.locator("#receipt")).to_contain_text("cn.national")
    expect(page.locator("#receipt .ok")).to_have_text("是")
    expect(page.locator("#receipt")).not_to_contain_text("not signed")


def test_times_are_shown_and_read_in_china_time(page: Page) -> None:
    """Rows show Asia/Shanghai times, labelled; a filter typed in that zone finds the rows from then on."""
    log_in(page, "audit")
    page.goto("/messages?correlation_id=" + TASK)
    expect(page.locator("#time-zone")).to_contain_text("Asia/Shanghai (UTC+08:00)")
    expect(page.locator("#results th").nth(1)).to_contain_text("Asia/Shanghai")
    dispatch = page.locator("tr.result", has_text="分发")
    expect(dispatch.locator("td.time")).to_have_text("2026-11-20 08:00:00")  # 00:00 UTC
    page.goto("/messages")
    page.fill("#f-since", "2026-11-20T08:00")
    page.click("#search-submit")
    times = page.locator("tr.result td.time").all_inner_texts()
    shot(page, "11-china-time")
    assert (6, "2026-11-20 08:00:00") == (len(times), min(times))


def test_language_switch_keeps_filters_and_translates_tables_charts_and_errors(page: Page) -> None:
    """English keeps the search, names every column and audit action; charts have legends and labels."""
    log_in(page, "audit")
    page.goto("/messages?sender=cn.national&outcome=accepted")
    expect(page.locator("tr.result")).to_have_count(2)
    page.click("#lang-switch")
    expect(page.locator("#f-sender")).to_have_value("cn.national")
    expect(page.locator("tr.result")).to_have_count(2)
    expect(page.locator("#results th").first).to_have_text("Log index")
    shot(page, "12-search-en")
    page.goto("/audit")
    expect(page.locator("td.audit-action").first).to_have_text("logged in")
    page.goto("/")
    for chart in ("#chart-throughput", "#chart-sender", "#chart-standard"):
        expect(page.locator(f"{chart} g.legend")).to_contain_text("accepted")
        expect(page.locator(f"{chart} g.legend")).to_contain_text("rejected")
    columns = page.locator("#chart-throughput text.bar-label").all_inner_texts()
    rows = page.locator("#chart-sender text.bar-label").all_inner_texts()
    shot(page, "13-dashboard-en")
    assert (3, 4) == (len(columns), len(rows))  # three busy hours (UTC 00, 01, 02); four senders
    page.goto("/no/such/page")
    expect(page.locator("#error")).to_have_text("Not found")
    shot(page, "14-not-found-en")
    page.click("#back")
    expect(page.locator("h1")).to_have_text("Dashboard")


def test_repeated_failures_are_throttled_on_the_login_page(page: Page) -> None:
    """After the free failures the login page asks to wait, and the right password is not even tried."""
    for _ in range(3):
        log_in(page, "ops", "not the password")
    log_in(page, "ops")
    expect(page.locator("#login-throttled")).to_be_visible()
    expect(page.locator("#retry-after")).to_have_text("2")
    shot(page, "15-login-throttled")


def test_over_its_own_tls_the_console_sets_secure_cookies(
    browser: Browser, scenario: Scenario, tmp_path: Path
) -> None:
    """Served with [console] tls_cert/tls_key, the console's session cookie is Secure in chromium's jar."""
    ca_cert, ca_key = create_ca("console test CA", datetime.now(UTC))
    cert, key = issue_node_certificate(ca_cert, ca_key, "sc.hub", now=datetime.now(UTC))
    (tmp_path / "c.crt").write_bytes(cert)
    (tmp_path / "c.key").write_bytes(key)
    settings = ConsoleSettings(tls_cert=tmp_path / "c.crt", tls_key=tmp_path / "c.key")
    with LiveConsole(scenario, tmp_path / "jgx.db", settings) as live:
        context = browser.new_context(base_url=live.url, locale="zh-CN", ignore_https_errors=True)
        try:
            page = context.new_page()
            page.goto("/login")
            before = context.cookies()
            log_in(page, "ops")
            expect(page.locator("#whoami")).to_contain_text("ops")
            page.goto("/?lang=en")
            cookies = [*before, *context.cookies()]
        finally:
            context.close()
    names = {c["name"] for c in cookies}
    assert ({"jgx_login_csrf", "jgx_session", "jgx_lang"}, True) == (names, all(c["secure"] for c in cookies))
    assert live.url.startswith("https://")


def test_the_dashboards_overdue_list_is_what_the_cli_prints(page: Page, live: LiveConsole) -> None:
    """The dashboard's overdue count and rows are what ``jgx lifecycle overdue --dir`` prints at its clock."""
    assert live.exchange is not None
    write_node(live.path.parent, live.exchange.fed)
    at = "2026-11-20T03:00:00Z"  # the console's clock in the scenario
    code, out = jgx_output(["lifecycle", "overdue", "--dir", str(live.path.parent), "--at", at])
    listed = [line.split("\t")[0] for line in out.splitlines()]
    log_in(page, "ops")
    expect(page.locator("#overdue-count")).to_have_text(str(len(listed)))
    shown = page.locator("#overdue tr td:first-child").all_inner_texts()
    assert (1, [OLD_TASK], listed) == (code, listed, shown)

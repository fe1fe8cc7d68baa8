"""After ``jgx demo --keep-running``: a new operator works through the hub's console in a real browser.

The demo runs as a child process (the whole federation over mTLS on loopback, with the console on a
free port). A new account is added with ``jgx users add``; the operator logs in, finds the task the
national bridge dispatched (read from the national front database), follows its lifecycle, verifies its
inclusion proof against the hub's signed checkpoint, sees market regulation's claim delivered with the
bridge's valid receipt, and replays a
dead letter. The demo delivers everything, so the test gives up one delivery
of that task first, through `Store.dead_letter` (what the delivery worker does when it gives up).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from adapters.demo.scenario import TASK
from gateway.storage.sqlite import SqliteStore
from tests.console.browsing import log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo operator passphrase"


class DemoProcess:
    """``jgx demo --keep-running`` in a child process; its output is drained on a thread."""

    def __init__(self, directory: Path) -> None:
        self.lines: list[str] = []
        self.console = ""
        self._up = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from gateway.cli import main; main()", "demo", "--dir", str(directory),
             "--keep-running"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if line.strip().startswith("http://127.0.0.1:") and not self.console:
                self.console = line.strip()
            if "press Ctrl-C" in line:
                self._up.set()
        self._up.set()

    def wait_until_up(self, timeout: float = 240) -> None:
        """Block until the demo passed its scenario and keeps running with the console up."""
        self._up.wait(timeout)
        assert self.console, "".join(self.lines[-40:])

    def stop(self) -> int:
        """Ctrl-C, and the exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=30)


def jgx(*args: str, stdin: str = "") -> int:
    """Run the CLI in a child process; its exit code."""
    done = subprocess.run(
        [sys.executable, "-c", "from gateway.cli import main; main()", *args],
        cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return done.returncode


def give_up_delivery_of_task(database: Path) -> int:
    """Dead-letter the hub's delivery of the national task to market regulation; its outbox id."""

    async def work() -> int:
        store = SqliteStore(database)
        await store.open()
        try:
            [dispatch] = [
                m
                for m in await store.find_messages(correlation_id=TASK)
                if m.sender == "sc.national-bridge" and m.kind == "submission" and m.action == "dispatch"
            ]
            [item] = await store.outbox_of(dispatch.log_index)
            await store.dead_letter(
                item.id, error="UNAVAILABLE: 适配器无应答 / adapter not answering", now=item.next_attempt_at
            )
            return item.id
        finally:
            await store.close()  # fmt: skip

    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(asyncio.run(work())))  # Playwright owns this loop
    worker.start()
    worker.join(timeout=60)
    return result[0]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[DemoProcess, Path]]:
    """The running demo and its directory."""
    running = DemoProcess(tmp_path)
    try:
        running.wait_until_up()
        yield running, tmp_path
    finally:
        code = running.stop()
        assert 0 == code, "".join(running.lines[-40:])


def test_new_operator_after_the_demo(browser: Browser, demo: tuple[DemoProcess, Path]) -> None:
    """A new operator finds the national task, follows it, proves it and replays its dead letter."""
    process, directory = demo
    hub = directory / "sc.hub"
    assert 0 == jgx("users", "add", "zhao.min", "--role", "operator", "--password-stdin", "--dir", str(hub),
                    stdin=PASSWORD + "\n")  # fmt: skip
    dead = give_up_delivery_of_task(hub / "jgx.db")
    context = browser.new_context(base_url=process.console.rstrip("/"), locale="zh-CN")
    context.set_default_timeout(15_000)
    page: Page = context.new_page()
    try:
        log_in(page, "zhao.min", PASSWORD)
        expect(page.locator("#whoami")).to_contain_text("zhao.min")
        shot(page, "demo-01-dashboard")
        page.goto("/messages")
        page.fill("#f-sender", "sc.national-bridge")
        page.fill("#f-correlation_id", TASK)
        page.click("#search-submit")
        expect(page.locator("tr.result").first).to_be_visible()
        shot(page, "demo-02-search")
        page.locator("tr.result", has_text="分发").first.locator("a").click()
        expect(page.locator("#h-sender")).to_have_text("sc.national-bridge")
        page.click("#lifecycle-link")
        expect(page.locator("#timeline")).to_contain_text("认领")
        expect(page.locator("#timeline")).to_contain_text("sc.amr")
        shot(page, "demo-03-lifecycle")
        page.locator("#timeline li.event").first.locator("a").click()
        page.click("#verify-proof")
        expect(page.locator("#proof-status")).to_contain_text("验证通过")
        shot(page, "demo-04-proof")
        page.goto(f"/messages?correlation_id={TASK}&sender=sc.amr")
        page.locator("tr.result", has_text="认领").filter(has_not_text="投递回执").first.locator("a").click()
        receipt = page.locator("tr.delivery .delivery-receipt")
        expect(receipt).to_contain_text("sc.national-bridge")  # the national bridge signed it
        expect(receipt.locator(".ok")).to_have_text("是")
        shot(page, "demo-045-claim-delivered")
        receipt.locator("a").click()  # the delivery entry keeps the same receipt
        expect(page.locator("#receipt")).to_contain_text("sc.national-bridge")
        expect(page.locator("#receipt .ok")).to_have_text("是")
        page.goto("/dead-letters")
        page.click(f"#replay-{dead}")
        expect(page.locator("#replayed")).to_be_visible()
        shot(page, "demo-05-replayed")
    finally:
        context.close()

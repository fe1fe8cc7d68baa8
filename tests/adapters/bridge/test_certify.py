"""A bridge-backed department is certified exactly like a coded adapter: the whole live suite over mTLS."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from adapters.bridge.inbound import FrontDesk, InboundTable
from adapters.sdk import AdapterIdentity, AdapterServicer, AdapterStore
from conformance.runner import run_live
from gateway.validation import standards_validator
from tests.adapters.bridge.front import Front, inspection, load
from tests.conformance.conftest import NOW, Certification, cert_fed, serving

__all__ = ["cert_fed"]  # the session fixture, imported so pytest finds it here


async def test_a_front_database_department_passes_every_check(
    cert_fed: Certification, tmp_path: Path
) -> None:
    """sc.amr served by the bridge (Export = the rows its SC-05 mapping would send; deliveries into the
    inbound table) passes every check of the conformance suite."""
    front = Front(f"sqlite:///{tmp_path / 'front.db'}", None, tmp_path / "state.sqlite")
    db = front.db()
    start = datetime(2026, 11, 20, 9, 0)
    db.insert([inspection(n, start + timedelta(minutes=n)) for n in range(1, 8)])
    mapping = load(front, inbound_table="jgx_inbound", inbound_standards=(("SC-14", "1.0.0"),))
    inbound = InboundTable(db.engine, "jgx_inbound")
    desk = FrontDesk([mapping], inbound, today=NOW.date())
    servicer = AdapterServicer(
        identity=AdapterIdentity("sc.amr", cert_fed.fed.keys["sc.amr"], "jgx-bridge", "0.1.0", "0f" * 32),
        trust=cert_fed.fed.trust, department=desk, store=AdapterStore(tmp_path / "adapter.sqlite"),
        validate=standards_validator, clock=lambda: NOW,
    )  # fmt: skip
    counts = {c.standard: len(list(desk.export(c.standard))) for c in desk.claims()}
    async with serving(servicer, cert_fed) as port:
        run = await run_live(cert_fed.options(port, expected_counts=counts), cert_fed.fed.signed_trust)
    delivered = {(r["standard"], r["action"]) for r in inbound.rows()}
    db.close()
    assert [] == [(r.check, r.subject, r.status, r.details[:2]) for r in run.results if r.status != "pass"]
    assert ({"SC-05": 7, "SC-14": 0}, True) == (counts, ("SC-14", "dispatch") in delivered)

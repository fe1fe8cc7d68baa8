"""Publishing records: one cd_batch per run, inserts then updates, unchanged records not sent again."""

from __future__ import annotations

from dataclasses import replace

from adapters.sdk import AdapterServicer, Record
from gateway.envelope import open_message
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.testing import Federation
from tests.adapters.conftest import NOW

RECORDS = [
    Record("SC-06", "1.0.0", f"CF-{n}", {"punishDocumentCode": f"川市监罚〔2026〕{n}号"}) for n in (1, 2)
]


def sent(servicer: AdapterServicer, fed: Federation) -> list[tuple[str, int, str]]:
    messages = [
        open_message(exchange_pb2.Envelope.FromString(p.envelope), fed.trust, now=NOW).message
        for p in servicer.store.outbox()
    ]
    return [(m.business_key, m.operation, m.batch_id) for m in messages]


def test_runs_send_inserts_then_only_changes(servicer: AdapterServicer, fed: Federation) -> None:
    """The first run inserts every record in batch …00001; the next sends only the changed one, updated."""
    first = servicer.publish(RECORDS)
    changed = [RECORDS[0], replace(RECORDS[1], payload={"punishDocumentCode": "川市监罚〔2026〕2号（更正）"})]
    second = servicer.publish(changed)
    third = servicer.publish(changed)
    assert [
        ("CF-1", exchange_pb2.OPERATION_INSERT, "2026112700001"),
        ("CF-2", exchange_pb2.OPERATION_INSERT, "2026112700001"),
        ("CF-2", exchange_pb2.OPERATION_UPDATE, "2026112700002"),
    ] == sent(servicer, fed)
    assert [(2, 0, 0), (0, 1, 1), (0, 0, 2)] == [
        (r.inserted, r.updated, r.unchanged) for r in (first, second, third)
    ]

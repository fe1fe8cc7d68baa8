"""The ``logleaf.json`` vectors: exchange-log leaves of each kind, version 2 and version 1, byte for byte.

Each case gives the leaf's fields (protobuf JSON names), the deterministic serialization that is hashed
(``leaf_hex``) and its RFC 6962 leaf hash ``SHA-256(0x00 ‖ leaf)``. Version-2 cases also give the rows
stored beside the leaf (``rows``) whose digests the leaf carries, so that another implementation can
check its own binding (docs/wire.md §9, docs/exchange-log.md).

Run ``python tests/vectors/generate_logleaf.py`` to rewrite the file; a test fails when it is stale.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from gateway.logbook import bind_side_rows, build_leaf
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.storage import Entry, Seen

OUT = Path(__file__).resolve().parent / "logleaf.json"
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
_HEADER = exchange_pb2.Message(
    sender="sc.amr", recipient="cn.national", message_id="amr-20261128-000001", standard="SC-14",
    standard_version="1.0.0", correlation_id="TASK-2026-0001", action="claim",
)  # fmt: skip


def _case(name: str, entry: Entry, receipt: bytes | None, *, bind: bool = True) -> dict[str, Any]:
    sealed = bind_side_rows(entry, receipt=receipt) if bind else entry
    leaf = exchange_pb2.LogLeaf.FromString(sealed.leaf)
    rows = {
        "payload_hex": None if entry.payload is None else entry.payload.hex(),
        "receipt_hex": None if receipt is None else receipt.hex(),
    }
    return {
        "name": name,
        "fields": json_format.MessageToDict(leaf, preserving_proto_field_name=True),
        "rows": rows if bind else None,
        "leaf_hex": sealed.leaf.hex(),
        "leaf_hash_hex": hashlib.sha256(b"\x00" + sealed.leaf).hexdigest(),
    }


def _entry(kind: str, outcome: int, digest: bytes, **fields: Any) -> Entry:
    leaf = build_leaf(
        time=NOW, kind=kind, envelope_sha256=digest, outcome=outcome,
        reason_codes=fields.get("reason_codes", ()), message=_HEADER,
        payload_type="application/vnd.jgx.message.v1+protobuf",
    )  # fmt: skip
    return Entry(
        leaf=leaf, kind=kind, time=NOW, envelope_sha256=digest, outcome=outcome, sender=_HEADER.sender,
        recipient=_HEADER.recipient, message_id=_HEADER.message_id, action=_HEADER.action, **fields,
    )  # fmt: skip


def logleaf_vectors() -> dict[str, Any]:
    """Leaves of an accepted and a rejected submission, a duplicate, a delivery, and a version-1 leaf."""
    envelope = b"envelope bytes as received"
    digest = hashlib.sha256(envelope).digest()
    payload = b'{"taskId":"TASK-2026-0001"}'
    seen = Seen(_HEADER.sender, _HEADER.message_id, NOW + timedelta(hours=1, minutes=5))
    accepted = _entry(
        "submission", exchange_pb2.OUTCOME_ACCEPTED, digest, envelope=envelope, payload=payload,
        outbox=("cn.national",), seen=seen,
    )  # fmt: skip
    rejected = _entry(
        "submission", exchange_pb2.OUTCOME_REJECTED, digest, envelope=envelope, payload=payload, seen=seen,
        reason_codes=("SCHEMA_INVALID", "RULE_VIOLATION"),
    )  # fmt: skip
    original_receipt = b"the original receipt envelope"
    duplicate = _entry("submission", exchange_pb2.OUTCOME_DUPLICATE, digest, duplicate_of=41)
    recipient_receipt = b"the recipient's receipt envelope"
    delivery = _entry("delivery", exchange_pb2.OUTCOME_ACCEPTED, digest, delivers=7)
    return {
        "description": "LogLeaf bytes as hashed (deterministic protobuf) and their RFC 6962 leaf hashes",
        "cases": [
            _case("accepted_submission", accepted, None),
            _case("rejected_submission", rejected, None),
            _case("duplicate", duplicate, original_receipt),
            _case("delivery", delivery, recipient_receipt),
            _case("version_1", accepted, None, bind=False),
        ],
    }


def render() -> str:
    """The JSON text of ``logleaf.json``."""
    return json.dumps(logleaf_vectors(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")

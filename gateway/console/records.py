"""What the console shows, as plain JSON-able values: one function per page, shared by HTML and API.

Every function takes the store and the logged-in `Principal` and applies the role's limits here, once,
so the HTML pages and the JSON API cannot disagree about who sees what. A row a department may not see
is reported as absent (None), exactly like a row that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from google.protobuf.message import DecodeError

from gateway import merkle, sealing
from gateway._time import format_time
from gateway.checkpoint import NoteVerifier, verify_checkpoint
from gateway.console.auth import Principal
from gateway.console.timezone import read_local
from gateway.errors import JgxError
from gateway.logbook import log_origin, log_verifier
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import receipt_issuer, verify_receipt
from gateway.storage import (
    Cursor,
    MessageQuery,
    MessageRecord,
    MessageSummary,
    OutboxItem,
    OutboxState,
    Store,
)
from gateway.trust import TrustConfig

__all__ = [
    "OUTCOMES",
    "LogKeys",
    "QueryError",
    "dead_letters",
    "message_detail",
    "parse_query",
    "prove_inclusion",
    "receipt_json",
    "summary",
    "summary_of",
]

OUTCOMES: Mapping[str, int] = {"accepted": 1, "rejected": 2, "duplicate": 3}
OUTCOME_NAMES: Mapping[int, str] = {v: k for k, v in OUTCOMES.items()}
CHINA = ZoneInfo("Asia/Shanghai")
MAX_PAGE = 500
_FILTERS = ("message_id", "correlation_id", "sender", "recipient", "standard", "reason")


class QueryError(ValueError):
    """A search parameter is malformed; ``field`` names it (answered with HTTP 400)."""

    def __init__(self, field: str, zh: str, en: str) -> None:
        self.field = field
        self.message_zh = zh
        self.message_en = en
        super().__init__(f"{field}: {en}")


def _time(value: str, field: str, zone: ZoneInfo) -> datetime:
    """RFC 3339 with an offset, or a browser's local ``YYYY-MM-DDTHH:MM`` read in the console's zone."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(field, f"时间格式无效: {value}", f"not a time: {value}") from None
    return read_local(moment, zone)


def encode_cursor(cursor: Cursor) -> str:
    """The opaque ``after`` parameter of the next page."""
    return f"{int(cursor.time.timestamp() * 1_000_000)}.{cursor.log_index}"


def _cursor(value: str) -> Cursor:
    micros, _, index = value.partition(".")
    if not (micros.lstrip("-").isdigit() and index.isdigit()):
        raise QueryError("after", "翻页位置无效", "bad page cursor")
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros))
    return Cursor(moment, int(index))


def parse_query(
    params: Mapping[str, str], principal: Principal, *, default_limit: int = 50, zone: ZoneInfo = CHINA
) -> MessageQuery:
    """The store query for search parameters, confined to the principal's node; QueryError if malformed.

    Times without an offset are read in ``zone`` (the console's time zone, Asia/Shanghai by default).
    """
    values = {name: params.get(name, "").strip()[:128] for name in _FILTERS}
    outcome_text = params.get("outcome", "").strip()
    if outcome_text and outcome_text not in OUTCOMES:
        raise QueryError(
            "outcome", "结果应为 accepted、rejected 或 duplicate", "outcome is accepted|rejected|duplicate"
        )
    limit_text = params.get("limit", "").strip() or str(default_limit)
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE:
        raise QueryError("limit", f"每页条数应为 1–{MAX_PAGE}", f"limit is 1–{MAX_PAGE}")
    since, until, after = (params.get(k, "").strip() for k in ("since", "until", "after"))
    return MessageQuery(
        **values,
        outcome=OUTCOMES[outcome_text] if outcome_text else None,
        since=_time(since, "since", zone) if since else None,
        until=_time(until, "until", zone) if until else None,
        party=principal.party,
        after=_cursor(after) if after else None,
        limit=int(limit_text),
    )


def summary_of(record: MessageRecord) -> MessageSummary:
    """The search row of a full message record."""
    return MessageSummary(
        record.log_index, record.kind, record.time, record.sender, record.recipient, record.message_id,
        record.standard, record.standard_version, record.correlation_id, record.action, record.outcome,
        record.reason_codes, record.envelope_sha256, record.duplicate_of,
    )  # fmt: skip


def summary(row: MessageSummary) -> dict[str, Any]:
    """A search row as JSON."""
    return {
        "log_index": row.log_index,
        "kind": row.kind,
        "time": format_time(row.time),
        "sender": row.sender,
        "recipient": row.recipient,
        "message_id": row.message_id,
        "standard": row.standard,
        "standard_version": row.standard_version,
        "correlation_id": row.correlation_id,
        "action": row.action,
        "outcome": OUTCOME_NAMES.get(row.outcome, str(row.outcome)),
        "reason_codes": list(row.reason_codes),
        "envelope_sha256": row.envelope_sha256.hex(),
        "duplicate_of": row.duplicate_of,
    }


def outbox_json(item: OutboxItem) -> dict[str, Any]:
    """An outbox row (one recipient's delivery) as JSON."""
    return {
        "id": item.id,
        "log_index": item.log_index,
        "recipient": item.recipient,
        "state": item.state,
        "attempts": item.attempts,
        "next_attempt_at": format_time(item.next_attempt_at),
        "last_error": item.last_error,
        "delivery_index": item.delivery_index,
    }


@dataclass(frozen=True)
class LogKeys:
    """The trust this console verifies with: the node's log origin and its checkpoint verifier keys."""

    node_id: str
    trust: TrustConfig

    @property
    def origin(self) -> str:
        """The checkpoint origin line of this node's log."""
        return log_origin(self.node_id)

    def verifiers(self) -> list[NoteVerifier]:
        """Checkpoint verifiers for each Ed25519 key of the node in the trust configuration."""
        found = []
        for record in self.trust.node(self.node_id).keys:
            try:
                found.append(log_verifier(self.node_id, record.public_key))
            except JgxError:
                continue  # not an Ed25519 key: it cannot sign checkpoints
        return found


def receipt_json(record: MessageRecord, keys: LogKeys, now: datetime) -> dict[str, Any] | None:
    """The receipt kept with a log entry, verified with its issuer's key and bound to the entry's envelope.

    The issuer is decided by the trust configuration and the entry (`gateway.receipts.receipt_issuer`:
    this node for a submission, the receiving node for a delivery), never by what the receipt claims.
    """
    if record.receipt is None:
        return None
    issuer = receipt_issuer(keys.trust, keys.node_id, kind=record.kind, recipient=record.recipient)
    envelope = exchange_pb2.Envelope()
    try:
        envelope.ParseFromString(record.receipt)
        receipt = verify_receipt(
            envelope, keys.trust, issuer=issuer, now=now, envelope_sha256=record.envelope_sha256
        )
        verified, problem = True, ""
    except (DecodeError, JgxError) as exc:
        receipt, verified, problem = exchange_pb2.Receipt(), False, str(exc)[:300]
        with contextlib.suppress(DecodeError):
            receipt.ParseFromString(envelope.body)
    return {
        "issuer": receipt.issuer or issuer,
        "expected_issuer": issuer,
        "outcome": OUTCOME_NAMES.get(receipt.outcome, str(receipt.outcome)),
        "reason_codes": list(receipt.reason_codes),
        "log_index": receipt.log_index,
        "issued_at": format_time(receipt.issued_at.ToDatetime(UTC)) if receipt.HasField("issued_at") else "",
        "signature_valid": verified,
        "problem": problem,
        "findings": [
            {"rule_id": f.rule_id, "clause": f.clause, "severity": f.severity, "pointer": f.pointer,
             "message_zh": f.message_zh, "message_en": f.message_en}
            for f in receipt.findings
        ],
    }  # fmt: skip


#: What the console shows in place of a sealed value (wire.md §12): never its ciphertext, never opened.
SEALED_TEXT: Final = "已加密 / sealed"


def _payload(data: bytes | None, unmasked: bool) -> tuple[str, bool, list[str]]:
    """The payload as pretty JSON text, masked per SC-20 unless the viewer may see it all, and the
    pointers of its sealed values.

    The masking is SC-20's ``partner`` profile without any standard's exceptions: identity numbers
    前6后4, phones 前3后4, other persons' names 留姓, home addresses to the district, bank accounts
    dropped; the record keeps its shape, so an operator can still diagnose it. A sealed value (any
    object with a ``jgx:sealed`` member, well-formed or not) is shown as `SEALED_TEXT` to every viewer:
    the hub holds no key to open it and does not try.
    """
    if data is None:
        return "", False, []
    try:
        record = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return ("" if not unmasked else data.decode("utf-8", "replace")), not unmasked, []
    sealed = sealing.sealed_pointers(record)
    if unmasked:
        return json.dumps(_show_sealed(record, sealed), ensure_ascii=False, indent=2), False, sealed
    import standards

    masker = getattr(standards, "mask", None)
    if masker is None or not isinstance(record, dict):
        return "", True, sealed  # no masking profile available: show nothing rather than too much
    try:
        masked = masker(record, "partner")
    except Exception:  # noqa: BLE001 - an unknown profile must hide the payload, not fail the page
        return "", True, sealed
    return json.dumps(_show_sealed(masked, sealed), ensure_ascii=False, indent=2), True, sealed


def _show_sealed(record: Any, pointers: list[str]) -> Any:
    """`record` with `SEALED_TEXT` at each sealed pointer (put back where masking dropped the object)."""
    for pointer in pointers:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]
        node = record
        for token in tokens[:-1]:
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                node = None
                break
        last = tokens[-1]
        if isinstance(node, dict):
            node[last] = SEALED_TEXT
        elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
            node[int(last)] = SEALED_TEXT
    return record


async def message_detail(
    store: Store, index: int, principal: Principal, keys: LogKeys, now: datetime
) -> dict[str, Any] | None:
    """Header, receipt with findings, deliveries and payload of one entry; None if absent or not visible."""
    record = await store.message(index)
    if record is None or not principal.may_see(record.sender, record.recipient):
        return None
    row = summary_of(record)
    payload, masked, sealed = _payload(record.payload, principal.sees_personal_data(
        record.sender, record.recipient))  # fmt: skip
    deliveries = []
    for item in await store.outbox_of(index):
        delivery = outbox_json(item)
        settled = await store.message(item.delivery_index) if item.delivery_index is not None else None
        delivery["receipt"] = receipt_json(settled, keys, now) if settled is not None else None
        deliveries.append(delivery)
    return {
        "message": summary(row),
        "receipt": receipt_json(record, keys, now),
        "deliveries": deliveries,
        "payload": payload,
        "payload_masked": masked,
        "payload_sealed": sealed,
        "envelope_size": len(record.envelope or b""),
    }


async def prove_inclusion(
    store: Store, index: int, principal: Principal, keys: LogKeys
) -> dict[str, Any] | None:
    """Verify leaf ``index`` against the latest signed checkpoint; the numbers and the verdict."""
    record = await store.message(index)
    if record is None or not principal.may_see(record.sender, record.recipient):
        return None
    result: dict[str, Any] = {"log_index": index, "verified": False, "problem": ""}
    leaves = await store.leaves(index, index + 1)
    stored = await store.latest_checkpoint()
    if not leaves or stored is None:
        result["problem"] = "尚无签名检查点 / no signed checkpoint yet"
        return result
    leaf_hash = merkle.leaf_hash(leaves[0].leaf)  # recomputed, never the stored hash
    result.update(leaf_hash=leaf_hash.hex(), checkpoint_time=format_time(stored.time), note=stored.note)
    try:
        # (1) the checkpoint's signature, with the log key from the trust configuration
        checkpoint = verify_checkpoint(stored.note, keys.origin, keys.verifiers())
        result.update(tree_size=checkpoint.size, root_hash=checkpoint.root_hash.hex())
        if index >= checkpoint.size:
            result["problem"] = (
                f"该条目晚于最新检查点（大小 {checkpoint.size}），请稍后再验证"
                f" / the entry is newer than the latest checkpoint (size {checkpoint.size});"
                " try again shortly"
            )
            return result
        # (2) the audit path from the leaf to the signed root
        proof = await store.inclusion_proof(index, checkpoint.size)
        result["proof"] = [node.hex() for node in proof]
        merkle.verify_inclusion(leaf_hash, index, checkpoint.size, proof, checkpoint.root_hash)
    except JgxError as exc:
        result["problem"] = str(exc)[:500]
        return result
    result["verified"] = True
    return result


async def dead_letters(store: Store, principal: Principal, *, limit: int = 200) -> list[dict[str, Any]]:
    """Dead outbox rows the principal may see, with the header of the message each carries."""
    rows = []
    for item in await store.outbox(state=OutboxState.DEAD, limit=limit):
        record = await store.message(item.log_index)
        if record is None or not principal.may_see(record.sender, record.recipient):
            continue
        row = outbox_json(item)
        row.update(message_id=record.message_id, sender=record.sender, standard=record.standard,
                   correlation_id=record.correlation_id)  # fmt: skip
        rows.append(row)
    return rows

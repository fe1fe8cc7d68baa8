"""From a department's `Record` to a signed envelope: header fields, ids, batch numbers.

Pure: the time is passed in.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from adapters.sdk.department import Record
from gateway.envelope import seal_message
from gateway.keys import PrivateKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.sealed_records import seal_payload
from gateway.trust import TrustConfig

__all__ = ["DEFAULT_LIFETIME", "OPERATIONS", "batch_id", "new_message_id", "record_message", "seal_record"]

#: Long enough for a queued message to survive a peer's outage of a day or two, short enough that
#: replay state stays bounded (the trust configuration's replay TTL is a week).
DEFAULT_LIFETIME: Final = timedelta(days=3)
OPERATIONS: Final[dict[str, exchange_pb2.Operation.ValueType]] = {
    "insert": exchange_pb2.OPERATION_INSERT,
    "update": exchange_pb2.OPERATION_UPDATE,
    "delete": exchange_pb2.OPERATION_DELETE,
}


def new_message_id() -> str:
    """A fresh message id: 32 lowercase hex characters, unique per sender with overwhelming probability."""
    return uuid.uuid4().hex


def batch_id(day: datetime, run: int) -> str:
    """The national cd_batch number: ``YYYYMMDD`` + the 5-digit run of that day (``2019041100002``)."""
    if not 1 <= run <= 99999:
        raise ValueError(f"batch run {run} is outside 1..99999")
    return f"{day:%Y%m%d}{run:05d}"


def record_message(
    record: Record,
    *,
    sender: str,
    default_recipient: str,
    now: datetime,
    lifetime: timedelta = DEFAULT_LIFETIME,
    message_id: Callable[[], str] = new_message_id,
    trust: TrustConfig | None = None,
) -> exchange_pb2.Message:
    """The `Message` carrying `record`, issued by `sender` at `now`.

    The fields `record.seal` names are sealed for the recipient's SM2 key in `trust` (wire.md §12,
    `gateway.sealed_records.seal_payload`); a record that seals fields needs `trust`.
    """
    message = exchange_pb2.Message(
        message_id=message_id(),
        sender=sender,
        recipient=record.recipient or default_recipient,
        standard=record.standard,
        standard_version=record.version,
        operation=OPERATIONS[record.operation],
        business_key=record.business_key,
        batch_id=record.batch_id,
        correlation_id=record.correlation_id,
        payload=json.dumps(record.payload, ensure_ascii=False, sort_keys=True).encode("utf-8"),
        action=record.action,
        in_reply_to=record.in_reply_to,
    )
    message.issued_at.FromDatetime(now)
    message.expires_at.FromDatetime(now + lifetime)
    if record.seal:
        if trust is None:
            raise ValueError("a record that seals fields needs the trust configuration")
        message.payload = seal_payload(message, record.seal, trust)
    return message


def seal_record(
    record: Record,
    *,
    sender: str,
    key: PrivateKey,
    default_recipient: str,
    now: datetime,
    lifetime: timedelta = DEFAULT_LIFETIME,
    trust: TrustConfig | None = None,
) -> tuple[exchange_pb2.Message, bytes]:
    """The message for `record` and its signed envelope bytes (the exact bytes to send and to keep)."""
    message = record_message(
        record, sender=sender, default_recipient=default_recipient, now=now, lifetime=lifetime, trust=trust
    )
    return message, seal_message(message, key).SerializeToString()

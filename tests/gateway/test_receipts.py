"""Receipts (回执) verify offline with the issuer's key from the trust configuration."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.dsse import RECEIPT_TYPE
from gateway.envelope import seal
from gateway.errors import ReasonCode, VerificationError
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import issue_receipt, verify_receipt
from gateway.testing import Federation

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
FED = Federation.create(NOW)
DIGEST = bytes(range(32))


def receipt(issuer: str = "sc.hub", key: str = "sc.hub") -> exchange_pb2.Envelope:
    return issue_receipt(
        issuer=issuer,
        key=FED.keys[key],
        envelope_sha256=DIGEST,
        message_id="m-1",
        sender="sc.amr",
        recipient="sc.hub",
        outcome=exchange_pb2.OUTCOME_REJECTED,
        reason_codes=["ACL_DENIED"],
        findings=[],
        log_index=42,
        now=NOW,
    )


def test_a_receipt_round_trips() -> None:
    """A receipt issued by the hub verifies and carries what was decided."""
    got = verify_receipt(receipt(), FED.trust, issuer="sc.hub", now=NOW, envelope_sha256=DIGEST)
    assert ("m-1", ["ACL_DENIED"], 42, exchange_pb2.OUTCOME_REJECTED) == (
        got.message_id,
        list(got.reason_codes),
        got.log_index,
        got.outcome,
    )


@pytest.mark.parametrize(
    ("envelope", "issuer", "digest"),
    [
        (lambda: receipt(key="sc.amr"), "sc.hub", DIGEST),  # forged: signed by another node
        (lambda: receipt(issuer="sc.amr", key="sc.hub"), "sc.hub", DIGEST),  # issuer field lies
        (receipt, "sc.hub", b"\x00" * 32),  # for another envelope
        (
            lambda: seal(b"\x08\x01", "application/vnd.jgx.message.v1+protobuf", [FED.keys["sc.hub"]]),
            "sc.hub",
            None,
        ),
        (lambda: seal(b"\xff\xff", RECEIPT_TYPE, [FED.keys["sc.hub"]]), "sc.hub", None),  # not a Receipt
    ],
    ids=["forged", "issuer-mismatch", "other-envelope", "wrong-type", "garbage-body"],
)
def test_bad_receipts_are_refused(envelope: object, issuer: str, digest: bytes | None) -> None:
    """Forged, misattributed, misbound or malformed receipts raise RECEIPT_INVALID."""
    with pytest.raises(VerificationError) as caught:
        verify_receipt(envelope(), FED.trust, issuer=issuer, now=NOW, envelope_sha256=digest)  # type: ignore[operator]
    assert ReasonCode.RECEIPT_INVALID == caught.value.reason

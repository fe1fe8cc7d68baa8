"""Receipts (回执) verify offline with the issuer's key from the trust configuration."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.dsse import RECEIPT_TYPE
from gateway.envelope import seal
from gateway.errors import ReasonCode, VerificationError
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import (
    MAX_FINDINGS,
    MAX_FINDINGS_BYTES,
    OMITTED_RULE,
    bounded_findings,
    issue_receipt,
    verify_receipt,
)
from gateway.testing import Federation
from standards.findings import Finding

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


def _finding(n: int, *, pointer: str = "", message: str = "多余") -> Finding:
    return Finding("SC-06.S005", "SC-06 4.5", "error", pointer or f"/extra{n}", message, "extra")


# name -> (findings, whether some must be left out)
BOUNDS = {
    "within the bounds": ([_finding(n) for n in range(MAX_FINDINGS)], False),
    "one over the count": ([_finding(n) for n in range(MAX_FINDINGS + 1)], True),
    "over the bytes": ([_finding(n, message="长" * 1000) for n in range(MAX_FINDINGS)], True),
}


@pytest.mark.parametrize("case", list(BOUNDS))
def test_findings_are_bounded_in_count_and_bytes(case: str) -> None:
    """A receipt's findings stay within the count and byte bounds; the last entry counts those left out."""
    findings, omitted = BOUNDS[case]
    bounded = bounded_findings(findings)
    assert len(bounded) <= MAX_FINDINGS
    assert sum(f.ByteSize() + 4 for f in bounded) <= MAX_FINDINGS_BYTES
    assert bounded == bounded_findings(bounded)  # bounding a bounded list changes nothing
    if not omitted:
        assert [f.pointer for f in findings] == [f.pointer for f in bounded]
        return
    listed, last = bounded[:-1], bounded[-1]
    assert [f.pointer for f in findings[: len(listed)]] == [f.pointer for f in listed]
    assert (OMITTED_RULE, "error") == (last.rule_id, last.severity)
    assert last.message_en.startswith(f"{len(findings) - len(listed)} more findings omitted")


def test_a_finding_s_text_is_encodable_and_cut() -> None:
    """A lone surrogate is written as its escape, and a 100 000-character pointer is cut with an ellipsis."""
    long_pointer = "/" + "k" * 100_000
    [escaped, cut] = bounded_findings([_finding(0, pointer="/\udfff"), _finding(1, pointer=long_pointer)])
    assert ("/\\udfff", 512) == (escaped.pointer, len(cut.pointer))
    assert cut.pointer.endswith("…")

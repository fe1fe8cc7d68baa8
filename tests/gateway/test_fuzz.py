"""Random and mutated bytes never escape as raw exceptions from a parser or verifier of the core."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.dsse import json_envelope_parts
from gateway.envelope import parse_envelope
from gateway.errors import JgxError, ReasonCode, TrustError, VerificationError
from gateway.freshness import MemorySeenIds
from gateway.keys import Algorithm, generate_key, load_private_key, load_public_key
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pipeline import judge
from gateway.receipts import issue_receipt, verify_receipt
from gateway.testing import Federation
from gateway.trust_update import load_trust

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
FED = Federation.create(NOW)
GOOD = FED.envelope(FED.message("sc.amr", "sc.hub"))
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """`original` with a few bytes flipped, inserted, deleted, or cut."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[i]
        else:
            del data[i:]
    return bytes(data)


def _judge(data: bytes) -> None:
    verdict = judge(data, trust=FED.trust, local_node="sc.hub", now=NOW, seen=MemorySeenIds())
    assert verdict.accepted or verdict.reasons
    assert all(isinstance(r, ReasonCode) for r in verdict.reasons)


@SETTINGS
@given(st.binary(max_size=2048))
def test_random_bytes_get_a_verdict(data: bytes) -> None:
    """Random bytes are judged with reason codes, never an exception."""
    _judge(data)


@SETTINGS
@given(mutated(GOOD))
def test_mutated_envelopes_get_a_verdict(data: bytes) -> None:
    """A mutated valid envelope is judged (almost always refused), never an exception."""
    _judge(data)


@SETTINGS
@given(st.binary(max_size=512))
def test_parse_envelope_raises_only_verification_errors(data: bytes) -> None:
    """parse_envelope either parses or raises VerificationError."""
    with contextlib.suppress(VerificationError):
        parse_envelope(data)


@SETTINGS
@given(mutated(FED.signed_trust))
def test_mutated_trust_documents_raise_only_trust_errors(data: bytes) -> None:
    """A mutated signed trust document is refused with a TrustError, never a raw exception."""
    with contextlib.suppress(TrustError):
        load_trust(data, now=NOW)


def _receipt() -> bytes:
    return issue_receipt(
        issuer="sc.hub",
        key=FED.keys["sc.hub"],
        envelope_sha256=b"\x01" * 32,
        message_id="m1",
        sender="sc.amr",
        recipient="sc.hub",
        outcome=exchange_pb2.OUTCOME_ACCEPTED,
        reason_codes=[],
        findings=[],
        log_index=7,
        now=NOW,
    ).SerializeToString()


RECEIPT = _receipt()


@SETTINGS
@given(mutated(RECEIPT))
def test_mutated_receipts_raise_only_typed_errors(data: bytes) -> None:
    """Verifying a mutated receipt yields RECEIPT_INVALID or MALFORMED, never a raw exception."""
    reason = None
    try:
        verify_receipt(parse_envelope(data), FED.trust, issuer="sc.hub", now=NOW)
    except JgxError as exc:
        reason = exc.reason
    assert reason in {None, ReasonCode.RECEIPT_INVALID, ReasonCode.MALFORMED}


SM2_KEY = generate_key(Algorithm.SM2_SM3)
KEY_FILES = (
    FED.keys["sc.amr"].public_key.to_pem(),
    SM2_KEY.public_key.to_pem(),
    SM2_KEY.public_key.spki_der,
    SM2_KEY.to_pem(),
)


@SETTINGS
@given(st.one_of(st.binary(max_size=300), st.sampled_from(KEY_FILES).flatmap(mutated)))
def test_key_loaders_raise_only_typed_errors(data: bytes) -> None:
    """Random or mutated key files are refused with a JgxError, never a raw exception."""
    for loader in (load_public_key, load_private_key):
        with contextlib.suppress(JgxError):
            loader(data)


@SETTINGS
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: st.lists(c) | st.dictionaries(st.text(max_size=8), c),
        max_leaves=20,
    )
)
def test_dsse_json_parts_raise_only_verification_errors(doc: object) -> None:
    """Any JSON value given as a DSSE envelope either splits or raises VerificationError."""
    with contextlib.suppress(VerificationError):
        json_envelope_parts(doc)


@SETTINGS
@given(st.one_of(st.binary(max_size=120), mutated(SM2_KEY.sign(b"signed bytes"))))
def test_mutated_sm2_signatures_are_refused_without_raising(signature: bytes) -> None:
    """Any bytes other than a valid signature verify False under an SM2 key; nothing raises."""
    valid = SM2_KEY.public_key.verify(signature, b"signed bytes")
    assert (not valid) or SM2_KEY.public_key.fits(signature)

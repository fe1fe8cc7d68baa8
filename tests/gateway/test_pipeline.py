"""The pure pipeline (DESIGN §2 steps 1–8): every kind of bad envelope gets its own reason code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.dsse import RECEIPT_TYPE
from gateway.envelope import seal
from gateway.errors import ReasonCode, VerificationError
from gateway.freshness import MemorySeenIds
from gateway.keys import Algorithm, generate_key
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pipeline import PAYLOAD_DECODING_RULES, judge
from gateway.policy import LocalLimits, Policy
from gateway.testing import Federation
from gateway.trust import key_record

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fed() -> Federation:
    return Federation.create(NOW)


@dataclass(frozen=True)
class FakeFinding:
    rule_id: str
    severity: str
    clause: str = "SC-06 §5"
    pointer: str = "/x"
    message_zh: str = "错"
    message_en: str = "wrong"


def run(fed: Federation, data: bytes, **kwargs: object) -> tuple[ReasonCode, ...]:
    options: dict[str, object] = {
        "trust": fed.trust,
        "local_node": "sc.hub",
        "now": NOW,
        "seen": MemorySeenIds(),
    }
    options.update(kwargs)
    return judge(data, **options).reasons  # type: ignore[arg-type]


def test_a_good_envelope_is_accepted(fed: Federation) -> None:
    """A signed, fresh, addressed, permitted message is accepted with no reasons."""
    verdict = judge(
        fed.envelope(fed.message("sc.amr", "sc.hub")),
        trust=fed.trust,
        local_node="sc.hub",
        now=NOW,
        seen=MemorySeenIds(),
    )
    assert verdict.accepted
    assert () == verdict.reasons
    assert verdict.message is not None
    assert "sc.amr" == verdict.message.sender


def test_a_message_for_a_department_behind_the_hub_is_ours(fed: Federation) -> None:
    """The hub accepts envelopes addressed to the departments it receives for."""
    data = fed.envelope(fed.message("cn.national", "sc.amr", standard="SC-14"))
    assert () == run(fed, data)


def test_the_hub_relays_its_departments_envelopes_to_any_node(fed: Federation) -> None:
    """A department's envelope to the partner passes the hub unchanged (the hub is the sender's gateway)."""
    assert () == run(fed, fed.envelope(fed.message("sc.amr", "cq.hub", standard="SC-13")))
    assert (ReasonCode.NOT_ADDRESSED_TO_US,) == run(fed, fed.envelope(fed.message("sc.amr", "nobody.here")))


def _mutate(fed: Federation) -> dict[str, Callable[[], bytes]]:
    def with_message(**fields: object) -> bytes:
        return fed.envelope(fed.message("sc.amr", "sc.hub", **fields))

    def tampered() -> bytes:
        env = exchange_pb2.Envelope.FromString(with_message())
        env.body = env.body[:-1] + bytes([env.body[-1] ^ 1])
        return env.SerializeToString()

    def unsigned() -> bytes:
        env = exchange_pb2.Envelope.FromString(with_message())
        del env.signatures[:]
        return env.SerializeToString()

    def unknown_key() -> bytes:
        return fed.envelope(fed.message("sc.amr", "sc.hub"), key=generate_key())

    def other_nodes_key() -> bytes:
        return fed.envelope(fed.message("sc.amr", "sc.hub"), key=fed.keys["sc.sjs"])

    def wrong_type() -> bytes:
        env = exchange_pb2.Envelope.FromString(with_message())
        return seal(env.body, RECEIPT_TYPE, [fed.keys["sc.amr"]]).SerializeToString()

    def wrong_algorithm() -> bytes:
        env = exchange_pb2.Envelope.FromString(with_message())
        env.signatures[
            0
        ].sig = b"\x30\x06\x02\x01\x01\x02\x01\x01"  # a DER ECDSA signature for an Ed25519 key
        return env.SerializeToString()

    return {
        "tampered": tampered,
        "unsigned": unsigned,
        "unknown_key": unknown_key,
        "other_nodes_key": other_nodes_key,
        "wrong_type": wrong_type,
        "wrong_algorithm": wrong_algorithm,
        "expired": lambda: with_message(issued_at=NOW - timedelta(hours=2)),
        "future": lambda: with_message(issued_at=NOW + timedelta(hours=1)),
        "misaddressed": lambda: fed.envelope(fed.message("cn.national", "cq.hub", standard="SC-14")),
        "acl": lambda: fed.envelope(fed.message("sc.sjs", "sc.hub", standard="SC-06")),
        "truncated": lambda: with_message()[:20],
        "garbage": lambda: b"\xff\x00garbage\x01",
        "bad_header": lambda: with_message(batch_id="2026"),
    }


CASES = [
    ("tampered", ReasonCode.SIGNATURE_INVALID),
    ("unsigned", ReasonCode.SIGNATURE_MISSING),
    ("unknown_key", ReasonCode.KEY_UNKNOWN),
    ("other_nodes_key", ReasonCode.SENDER_KEY_MISMATCH),
    ("wrong_type", ReasonCode.PAYLOAD_TYPE_UNKNOWN),
    ("wrong_algorithm", ReasonCode.ALGORITHM_MISMATCH),
    ("expired", ReasonCode.EXPIRED),
    ("future", ReasonCode.NOT_YET_VALID),
    ("misaddressed", ReasonCode.NOT_ADDRESSED_TO_US),
    ("acl", ReasonCode.ACL_DENIED),
    ("truncated", ReasonCode.MALFORMED),
    ("garbage", ReasonCode.MALFORMED),
    ("bad_header", ReasonCode.MALFORMED),
]


@pytest.mark.parametrize(("case", "reason"), CASES, ids=[c for c, _ in CASES])
def test_each_bad_envelope_has_its_own_reason(fed: Federation, case: str, reason: ReasonCode) -> None:
    """Each kind of bad envelope is refused with its own reason code, not an exception."""
    assert (reason,) == run(fed, _mutate(fed)[case]())


def test_a_revoked_key_is_refused(fed: Federation) -> None:
    """A signature by a revoked key yields KEY_REVOKED."""
    trust = fed.trust.with_key_revoked(fed.keys["sc.amr"].key_id)
    assert (ReasonCode.KEY_REVOKED,) == run(fed, fed.envelope(fed.message("sc.amr", "sc.hub")), trust=trust)


def test_a_key_outside_its_validity_is_refused(fed: Federation) -> None:
    """A signature by a key whose validity ended yields KEY_NOT_VALID."""
    key = generate_key(Algorithm.ECDSA_P256_SHA256)
    trust = fed.trust.with_node_key("sc.amr", key_record(key.public_key, valid_to=NOW - timedelta(days=1)))
    data = fed.envelope(fed.message("sc.amr", "sc.hub"), key=key)
    assert (ReasonCode.KEY_NOT_VALID,) == run(fed, data, trust=trust)


def test_a_replayed_id_is_refused(fed: Federation) -> None:
    """A (sender, message_id) already seen yields REPLAYED."""
    seen = MemorySeenIds()
    message = fed.message("sc.amr", "sc.hub")
    seen.remember("sc.amr", message.message_id, NOW + timedelta(hours=2), now=NOW)
    assert (ReasonCode.REPLAYED,) == run(fed, fed.envelope(message), seen=seen)


def test_an_oversized_envelope_is_refused_before_parsing(fed: Federation) -> None:
    """Bytes over the size limit yield TOO_LARGE."""
    data = fed.envelope(fed.message("sc.amr", "sc.hub", payload=b'{"x":"' + b"a" * 5000 + b'"}'))
    policy = Policy.of(fed.trust, LocalLimits(max_envelope_bytes=4096))
    assert (ReasonCode.TOO_LARGE,) == run(fed, data, policy=policy)


def test_the_payload_decoding_rules_are_the_standards_error_rules() -> None:
    """PAYLOAD_DECODING_RULES is exactly SC-17's decoding rules of severity error (standards.payload)."""
    from standards.payload import parse_rule_messages

    errors = {rule for rule, (_, severity, _, _) in parse_rule_messages().items() if severity == "error"}
    assert errors == PAYLOAD_DECODING_RULES


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        (b'{"a": 1, "a": 2}', "SC-17.R003"),
        (b'{"a": NaN}', "SC-17.R004"),
        (b'{"a": Infinity}', "SC-17.R004"),
        (b"\xff\xfe{}", "SC-17.R001"),
        (b"null", "SC-17.R013"),
        (b'{"a": "\\ud800"}', "SC-17.R014"),
    ],
)
def test_a_payload_that_is_not_usable_json_is_malformed_with_its_finding(
    fed: Federation, payload: bytes, rule: str
) -> None:
    """Duplicate keys, NaN/Infinity, bad UTF-8, a non-object and a lone surrogate are MALFORMED (docs/wire.md
    §4), found at step 8."""
    from gateway.validation import standards_validator

    verdict = judge(
        fed.envelope(fed.message("sc.amr", "sc.hub", payload=payload)),
        trust=fed.trust, local_node="sc.hub", now=NOW, seen=MemorySeenIds(), validate=standards_validator,
    )  # fmt: skip
    assert ((ReasonCode.MALFORMED,), 8) == (verdict.reasons, verdict.step)
    assert rule in {f.rule_id for f in verdict.findings}


def test_the_tls_identity_must_be_the_sender_or_its_gateway(fed: Federation) -> None:
    """A TLS client that is neither the sender nor its gateway yields IDENTITY_MISMATCH."""
    data = fed.envelope(fed.message("sc.amr", "sc.hub"))
    assert (ReasonCode.IDENTITY_MISMATCH,) == run(fed, data, transport_node="sc.sjs")
    assert (ReasonCode.IDENTITY_MISMATCH,) == run(fed, data, transport_node="nobody")
    assert () == run(fed, data, transport_node="sc.amr")
    national = fed.envelope(fed.message("sc.amr", "cn.national"))
    assert () == run(fed, national, local_node="cn.national", transport_node="sc.hub")


def test_validation_findings_decide_schema_or_rule_reasons(fed: Federation) -> None:
    """Error findings reject (schema vs rule); warnings alone do not; validator errors pass through."""
    data = fed.envelope(fed.message("sc.amr", "sc.hub"))

    def finding(rule: str, severity: str) -> Callable[[bytes, str, str, date], list[FakeFinding]]:
        return lambda *_: [FakeFinding(rule, severity)]

    assert (ReasonCode.SCHEMA_INVALID,) == run(fed, data, validate=finding("SC-06.S001", "error"))
    assert (ReasonCode.RULE_VIOLATION,) == run(fed, data, validate=finding("SC-06.R003", "error"))
    verdict = judge(
        data,
        trust=fed.trust,
        local_node="sc.hub",
        now=NOW,
        seen=MemorySeenIds(),
        validate=finding("SC-06.R003", "warning"),
    )
    assert verdict.accepted
    assert 1 == len(verdict.findings)

    def unknown(*_: object) -> list[FakeFinding]:
        raise VerificationError(ReasonCode.VERSION_NOT_IN_FORCE, "9.9.9")

    assert (ReasonCode.VERSION_NOT_IN_FORCE,) == run(fed, data, validate=unknown)

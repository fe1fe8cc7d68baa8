"""The audit of a leaf's digests against the log's hash profile (docs/exchange-log.md "Hash profile")."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from gateway.logaudit import LogAuditor
from gateway.logaudit_rows import SideRowAudit
from gateway.logbook import bind_side_rows, build_leaf, log_origin, parse_leaf
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.storage import Entry, MessageRecord
from gateway.treehash import SHA256, SM3, TreeHash

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
ENVELOPE, PAYLOAD = b"envelope bytes", b'{"a": 1}'


def _leaf(hasher: TreeHash, *, envelope_sm3: bytes | None) -> bytes:
    leaf = build_leaf(time=NOW, kind="delivery", envelope_sha256=hashlib.sha256(ENVELOPE).digest(),
                      envelope_sm3=envelope_sm3, outcome=exchange_pb2.OUTCOME_ACCEPTED)  # fmt: skip
    entry = Entry(leaf=leaf, kind="delivery", time=NOW, envelope_sha256=hashlib.sha256(ENVELOPE).digest(),
                  outcome=1, envelope=ENVELOPE, payload=PAYLOAD)  # fmt: skip
    return bind_side_rows(entry, hasher=hasher).leaf


def _problems(leaf: bytes, audited_as: TreeHash) -> list[str]:
    parsed = parse_leaf(leaf)
    record = MessageRecord(0, parsed.kind, NOW, "", "", "", "", "", "", parsed.action, parsed.outcome, (),
                           parsed.envelope_sha256, ENVELOPE, PAYLOAD, None, None)  # fmt: skip
    found: list[str] = []
    audit = SideRowAudit("sc.hub", None, lambda zh, en: found.append(en), audited_as)
    audit.check(0, leaf, record, [], [], [])
    return found


def test_each_profile_binds_its_own_digests() -> None:
    """Under sm3 the leaf holds envelope_sm3 and payload_sm3 (no payload_sha256); under sha256 neither."""
    sm3 = parse_leaf(_leaf(SM3, envelope_sm3=SM3.digest(ENVELOPE)))
    assert (SM3.digest(PAYLOAD), False) == (sm3.payload_sm3, sm3.HasField("payload_sha256"))
    plain = parse_leaf(_leaf(SHA256, envelope_sm3=None))
    assert (hashlib.sha256(PAYLOAD).digest(), False) == (plain.payload_sha256, plain.HasField("payload_sm3"))
    assert [] == _problems(_leaf(SM3, envelope_sm3=SM3.digest(ENVELOPE)), SM3)
    assert [] == _problems(_leaf(SHA256, envelope_sm3=None), SHA256)


@pytest.mark.parametrize(
    ("leaf_profile", "envelope_sm3", "audited_as", "clue"),
    [
        (SHA256, None, SM3, "LogLeaf.payload_sha256 is not of the sm3 hash profile"),
        (SHA256, None, SM3, "LogLeaf.envelope_sm3 is missing"),
        (SM3, SM3.digest(ENVELOPE), SHA256, "LogLeaf.payload_sm3 is not of the sha256 hash profile"),
        (SM3, SM3.digest(b"other bytes"), SM3, "messages.envelope does not hash to the leaf's SM3"),
    ],
)
def test_a_leaf_of_the_wrong_profile_or_a_wrong_sm3_digest_is_a_problem(
    leaf_profile: TreeHash, envelope_sm3: bytes | None, audited_as: TreeHash, clue: str
) -> None:
    """The audit names a digest of the other profile, a missing envelope_sm3, an SM3 of other bytes."""
    problems = _problems(_leaf(leaf_profile, envelope_sm3=envelope_sm3), audited_as)
    assert any(clue in p for p in problems), problems


def test_the_auditor_takes_the_hash_from_the_origin() -> None:
    """LogAuditor rebuilds an SM3 tree for an sm3 origin and a SHA-256 tree otherwise."""
    for hasher in (SHA256, SM3):
        auditor = LogAuditor(log_origin("sc.hub", hasher), [], [])
        auditor.add(0, b"leaf", hasher.leaf(b"leaf"))
        report = auditor.finish()
        assert (report.ok, report.hash_profile, report.root_hash) == (True, hasher.name, hasher.leaf(b"leaf"))

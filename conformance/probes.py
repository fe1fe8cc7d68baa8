"""The deliveries of a live run: the valid ones, every refusal wire.md §7 demands, probes at the edges.

Each probe is named; `conformance.judging` maps the names to checks. Forgeries come from
`conformance.forgery`; the ones that need another transport identity (another node's certificate, a
certificate from a CA outside the federation) open their own channel here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

from conformance.foreign import foreign_identity
from conformance.forgery import Forge, SignedAs
from conformance.samples import fixture_record
from conformance.session import Recorder, Session, utc_now
from conformance.transport import TlsMaterial, open_channel
from gateway.errors import JgxError
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig

if TYPE_CHECKING:
    from conformance.runner import LiveOptions, Progress

__all__ = ["DELIVERY_PROBES", "REPLAY_GAP", "acl_plan", "deliveries", "skip", "transport_probes"]

#: Valid messages delivered between an accepted message and its replay: a replay cache that remembers
#: fewer ids than this lets the replay through.
REPLAY_GAP: Final = 3
_Make = Callable[[], tuple[bytes, exchange_pb2.Message] | None]
#: Every probe a run makes once a sample exists (those skipped, with a reason, when it does not).
DELIVERY_PROBES: Final = (
    "valid", "tampered", "unsigned", "unknown-key", "revoked-key", "retired-key", "wrong-algorithm",
    "payload-type", "sender-key-mismatch", "expired", "not-yet-valid", "misaddressed", "unknown-standard",
    "unknown-version", "schema-invalid", "rule-violation", "oversized", "acl-denied", "replayed",
    "identity-mismatch", "foreign-ca",
)  # fmt: skip
_ALL_STANDARDS: Final = tuple(f"SC-{n:02d}" for n in range(1, 21))


def skip(rec: Recorder, probe: str, zh: str, en: str, subject: str = "") -> None:
    """Record that `probe` could not be made, and why."""
    rec.add(probe, "Skip", {}, {"zh": zh, "en": en}, started=utc_now(), duration_ms=0, subject=subject)


def _forgeries(forge: Forge, opts: LiveOptions) -> list[tuple[str, _Make, str]]:
    skew = int(forge.trust.clock_skew.total_seconds())
    return [
        ("tampered", forge.tampered, "one bit of the signature flipped"),
        ("unsigned", forge.unsigned, "no signature at all"),
        ("unknown-key", forge.unknown_key, "signed with a freshly generated key"),
        (
            "revoked-key",
            lambda: forge.revoked(opts.revoked),
            "signed with a revoked key" if opts.revoked else "revoked key id, signature-shaped bytes",
        ),
        ("retired-key", lambda: forge.retired(opts.retired), _lapsed(forge.trust, opts.retired, forge)),
        ("wrong-algorithm", forge.wrong_algorithm, "other algorithm under the hub's key id"),
        ("payload-type", forge.wrong_payload_type, "a signed message declared as a receipt"),
        ("sender-key-mismatch", forge.sender_key_mismatch, "signed by the hub, naming another sender"),
        ("expired", forge.expired, f"expired {skew + 60} s ago (skew {skew} s + 60 s)"),
        ("not-yet-valid", forge.future, f"issued {skew + 60} s ahead (skew {skew} s + 60 s)"),
        ("misaddressed", forge.misaddressed, "addressed to another node"),
        ("unknown-standard", forge.unknown_standard, "standard SC-99"),
        ("unknown-version", forge.unknown_version, "version 99.0.0"),
        ("schema-invalid", forge.schema_invalid, "payload without the standard's fields"),
        ("rule-violation", forge.rule_violation, "a USCC with a wrong check character"),
        ("oversized", forge.oversized, "4 KiB over the size limit"),
    ]


def _lapsed(trust: TrustConfig, key: SignedAs | None, forge: Forge) -> str:
    """How the lapsed-key probe is made, with how long before the run the key's validity ended."""
    if key is None:
        return "key id whose validity ended, signature-shaped bytes"
    try:
        _, record = trust.key(key.key.key_id)
    except JgxError:
        return "signed with a key the trust configuration does not hold"
    if record.valid_to is None:
        return "signed with a key whose validity has not ended"
    ago = int((forge.now - record.valid_to).total_seconds())
    return f"signed with a key whose validity ended {ago} s before the run"


def acl_plan(
    trust: TrustConfig, department: str, standard: str, peers: Sequence[SignedAs]
) -> list[tuple[str, SignedAs]]:
    """(shape, signer) of the ACL probes the certifier's peer keys allow, one per shape.

    ``sender``: a node the ACL lets send nothing to the department; ``standard``: a node that may send
    the department other standards but not `standard`; ``recipient``: a node that may send `standard`
    to others but not to the department.
    """
    denied = [p for p in sorted(peers, key=lambda p: p.node_id) if p.node_id != department]
    denied = [p for p in denied if not trust.allows(p.node_id, standard, department)]
    others = [n for n in trust.nodes if n != department]
    shapes: dict[str, Callable[[str], bool]] = {
        "sender": lambda n: not any(trust.allows(n, s, department) for s in _ALL_STANDARDS),
        "standard": lambda n: any(trust.allows(n, s, department) for s in _ALL_STANDARDS),
        "recipient": lambda n: any(trust.allows(n, standard, r) for r in others),
    }
    plan = []
    for shape, fits in shapes.items():
        chosen = next((p for p in denied if fits(p.node_id)), None)
        if chosen is not None:
            plan.append((shape, chosen))
    return plan


async def deliveries(
    session: Session,
    forge: Forge,
    opts: LiveOptions,
    claims: Sequence[tuple[str, str]],
    progress: Progress,
) -> None:
    """Every delivery of the run over the hub's own channel."""
    progress(f"Deliver {forge.standard}@{forge.version}: 有效报文 / valid")
    data, message = forge.valid()
    await session.deliver("valid", data, message)
    for probe, make, how in _forgeries(forge, opts):
        progress(f"Deliver: {probe}")
        made = make()
        if made is None:
            skip(
                session.rec, probe, "信任配置或样例不足以构造此检查",
                "the trust configuration or the sample offers nothing to make this probe from",
            )  # fmt: skip
            continue
        await session.deliver(probe, made[0], made[1], forgery=how)
    plan = acl_plan(forge.trust, opts.department, forge.standard, opts.peers)
    if not plan:
        skip(session.rec, "acl-denied", "未提供可构造拒绝访问报文的节点密钥（--peer-key）",
             "no peer key (--peer-key) from which an ACL-denied message can be made")  # fmt: skip
    for shape, signer in plan:
        progress(f"Deliver: acl-denied ({shape}, {signer.node_id})")
        data, message = forge.signed_by(signer)
        await session.deliver(
            "acl-denied", data, message, forgery=f"ACL denies {signer.node_id} → {opts.department} "
            f"{forge.standard} ({shape})",
        )  # fmt: skip
    await _replay(session, forge, progress)
    progress("Deliver: 幂等 / idempotency")
    data, message = forge.valid()
    await session.deliver("idempotent", data, message)
    await session.deliver("idempotent", data, message, forgery="the same bytes again")
    await _claimed(session, forge, opts, claims, progress)
    progress(f"Deliver: {opts.concurrency} 个并发调用 / concurrent calls")
    burst = [forge.valid() for _ in range(opts.concurrency)]
    await asyncio.gather(
        *(session.deliver("concurrent", d, m, concurrency=opts.concurrency) for d, m in burst)
    )


async def _replay(session: Session, forge: Forge, progress: Progress) -> None:
    """An accepted message, REPLAY_GAP other messages, then other bytes under the first message's id."""
    progress(f"Deliver: replay after {REPLAY_GAP} other messages")
    data, original = forge.valid()
    await session.deliver("replay-original", data, original)
    for _ in range(REPLAY_GAP):
        gap, message = forge.valid()
        await session.deliver("replay-gap", gap, message)
    replay, replayed = forge.replay_of(original)
    await session.deliver(
        "replayed", replay, replayed,
        forgery=f"other bytes under an id accepted {REPLAY_GAP} messages earlier",
    )  # fmt: skip


async def _claimed(
    session: Session,
    forge: Forge,
    opts: LiveOptions,
    claims: Sequence[tuple[str, str]],
    progress: Progress,
) -> None:
    """One valid delivery of every other standard the department claims and the hub may send it."""
    for standard, version in claims:
        if standard == forge.standard or not forge.trust.allows(opts.hub.node_id, standard, opts.department):
            continue
        progress(f"Deliver {standard}@{version}: 所声明的标准 / claimed standard")
        sample = fixture_record(standard, version)
        if sample is None:
            skip(session.rec, "claimed", "该标准没有样例记录", "the standard has no sample record",
                 subject=f"{standard}@{version}")  # fmt: skip
            continue
        data, message = forge.claimed(standard, version, sample)
        await session.deliver("claimed", data, message)


async def transport_probes(opts: LiveOptions, trust: TrustConfig, rec: Recorder, forge: Forge) -> None:
    """A valid delivery over another node's mTLS identity, and over a certificate from a foreign CA."""
    if opts.tls is None:
        for probe in ("identity-mismatch", "foreign-ca"):
            skip(rec, probe, "未使用 TLS（--insecure）", "no TLS (--insecure)")
        return
    if opts.other_tls is None:
        skip(rec, "identity-mismatch", "未提供联盟 CA 私钥（--tls-ca-key），无法签发其他节点的证书",
             "no federation CA key (--tls-ca-key) to issue another node's certificate")  # fmt: skip
    else:
        await _deliver_over(opts, trust, rec, forge, "identity-mismatch", opts.other_tls,
                            "a valid envelope over another node's mTLS certificate")  # fmt: skip
    foreign = opts.foreign or foreign_identity(opts.hub.node_id, opts.tls.ca_cert, now=opts.now)
    how = f"client certificate naming {opts.hub.node_id} from a CA outside the federation"
    await _deliver_over(opts, trust, rec, forge, "foreign-ca", foreign, how)


async def _deliver_over(
    opts: LiveOptions, trust: TrustConfig, rec: Recorder, forge: Forge, probe: str, tls: TlsMaterial, how: str
) -> None:
    data, message = forge.valid()
    async with open_channel(opts.target, tls) as channel:
        await Session(opts, trust, rec, channel).deliver(probe, data, message, forgery=how)

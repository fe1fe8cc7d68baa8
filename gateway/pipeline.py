"""The verdict on one received envelope: DESIGN §2 steps 1–8 as one pure function.

    1 transport identity    2 size limit, parse Envelope    3 key by key_id from the trust configuration
    4 signature over PAE    5 parse Message (only now)      6 expiry, audience, replay
    7 ACL                   8 validate the payload against standard@version

`judge` never raises for bad input: every refusal becomes a `Verdict` with reason codes, so the I/O
shell can log it and answer with a signed receipt (steps 9–12 live in the shell). A validator that
fails (a fault of this node, not of the envelope) is a refusal too, with INTERNAL at step 8: a verified
envelope is answered whatever the validator does. The validator is
injected, which keeps this module free of the standards catalogue and easy to test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final, TypeAlias

from gateway.envelope import check_sender, envelope_digest, parse_envelope, read_message
from gateway.errors import ReasonCode, TransportError, VerificationError
from gateway.freshness import SeenIds, check_fresh, check_replay
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.policy import Policy
from gateway.receipts import FindingLike
from gateway.trust import TrustConfig
from gateway.validation import PAYLOAD_DECODING_RULES, held_keys, judge_payload

__all__ = ["PAYLOAD_DECODING_RULES", "Validate", "Verdict", "audience", "judge", "relays_for"]

#: validate(payload, standard, version, on, destination) -> findings; raises VerificationError with
#: STANDARD_UNKNOWN or VERSION_NOT_IN_FORCE. `destination` is the SC-20 class of the recipient
#: (internal, national, partner), so masking is enforced for what leaves the province.
#: `gateway.validation.standards_validator` is the real one.
Validate: TypeAlias = Callable[[bytes, str, str, date, str], Sequence[FindingLike]]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a node decided about one envelope, and what it learned on the way."""

    outcome: exchange_pb2.Outcome.ValueType
    envelope_sha256: bytes
    reasons: tuple[ReasonCode, ...] = ()
    findings: tuple[FindingLike, ...] = ()
    envelope: exchange_pb2.Envelope | None = None
    message: exchange_pb2.Message | None = None
    signer_key_id: str = ""
    step: int = 8
    detail: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        """True when every step passed."""
        return self.outcome == exchange_pb2.OUTCOME_ACCEPTED

    @property
    def consumes_id(self) -> bool:
        """True when the verdict uses up (sender, message_id): the sender signed and sent it (step 6 on).

        A body refused at step 5 names a sender that did not sign it (or arrived over another node's
        TLS connection): recording its id would let one node burn another's message ids.
        """
        return self.message is not None and self.step >= 6 and ReasonCode.REPLAYED not in self.reasons


def relays_for(trust: TrustConfig, sender: str) -> frozenset[str]:
    """Transport identities allowed to carry `sender`'s envelopes: the sender and its own gateway."""
    node = trust.nodes.get(sender)
    return frozenset({sender, node.gateway}) if node is not None and node.gateway else frozenset({sender})


def audience(trust: TrustConfig, local_node: str, sender: str) -> frozenset[str]:
    """Recipients `local_node` accepts from `sender`.

    A gateway accepts envelopes for itself and for the nodes it receives on behalf of; as the
    sender's own gateway it also relays to any node of the trust configuration (as an X-Road
    security server relays its members' messages). The envelope travels unchanged, end to end.
    """
    sender_node = trust.nodes.get(sender)
    if sender_node is not None and sender_node.gateway == local_node:
        return frozenset(trust.nodes)
    return trust.audience_of(local_node)


_STEP_3: Final = frozenset(
    {
        ReasonCode.PAYLOAD_TYPE_UNKNOWN,
        ReasonCode.SIGNATURE_MISSING,
        ReasonCode.KEY_UNKNOWN,
        ReasonCode.KEY_REVOKED,
        ReasonCode.KEY_NOT_VALID,
    }
)


def judge(
    data: bytes,
    *,
    trust: TrustConfig,
    local_node: str,
    now: datetime,
    seen: SeenIds,
    transport_node: str | None = None,
    policy: Policy | None = None,
    validate: Validate | None = None,
) -> Verdict:
    """Judge the envelope bytes `data` as received by `local_node` at `now` (DESIGN §2 steps 1–8).

    `transport_node` is the node id of the authenticated TLS client (None on an insecure dev server);
    `policy` the limits in force (default: the trust configuration's policies, `gateway.policy`).
    """
    policy = policy or Policy.of(trust)
    digest = envelope_digest(data)
    rejected = exchange_pb2.OUTCOME_REJECTED
    # (1) The transport identity must be a node of the trust configuration.
    if transport_node is not None and transport_node not in trust.nodes:
        return Verdict(rejected, digest, (ReasonCode.IDENTITY_MISMATCH,), step=1, detail=transport_node)
    # (2) Size limit, then parse the Envelope frame (not yet its body).
    try:
        envelope = parse_envelope(data, max_size=policy.max_envelope_bytes)
    except VerificationError as exc:
        return Verdict(rejected, digest, (exc.reason,), step=2, detail=exc.detail)
    # (3)(4)(5) Key by key id, signature over PAE with the registered algorithm, then parse Message.
    try:
        read = read_message(envelope, trust, now=now)
    except VerificationError as exc:
        step = 5 if exc.reason == ReasonCode.MALFORMED else 3 if exc.reason in _STEP_3 else 4
        return Verdict(rejected, digest, (exc.reason,), envelope=envelope, step=step, detail=exc.detail)
    message = read.message  # from here on every receipt names the body's message_id, sender, recipient

    def refuse(reason: ReasonCode, step: int, detail: str = "", key_id: str = "") -> Verdict:
        return Verdict(rejected, digest, (reason,), (), envelope, message, key_id, step, detail)

    try:
        opened = check_sender(read, trust)
    except VerificationError as exc:
        return refuse(exc.reason, 5, exc.detail)
    if transport_node is not None and transport_node not in relays_for(trust, message.sender):
        error = TransportError(
            ReasonCode.IDENTITY_MISMATCH, f"TLS client {transport_node}, sender {message.sender}"
        )
        return refuse(error.reason, 5, error.detail, opened.key_id)
    # (6) Expiry, audience, replay.
    try:
        check_fresh(
            message,
            now=now,
            audience=audience(trust, local_node, message.sender),
            skew=policy.clock_skew,
            max_lifetime=policy.replay_ttl,
        )
        check_replay(message, seen, now=now)
    except VerificationError as exc:
        return refuse(exc.reason, 6, exc.detail, opened.key_id)
    # (7) ACL, deny by default.
    if not trust.allows(message.sender, message.standard, message.recipient):
        detail = f"{message.sender} -> {message.recipient} {message.standard}"
        return refuse(ReasonCode.ACL_DENIED, 7, detail, opened.key_id)
    # (8) The payload against standard@version, as in force on the day it was issued, and masked
    #     as the recipient's destination class requires (SC-20); a sealed value must be sealed for a
    #     key the recipient holds, or nobody could ever open it.
    findings: tuple[FindingLike, ...] = ()
    if validate is not None:
        held = held_keys(trust, message.recipient)
        try:
            step8 = judge_payload(
                message.payload, message.standard, message.standard_version,
                on=message.issued_at.ToDatetime().date(), destination=trust.destination_of(message.recipient),
                recipient=message.recipient, held=held, validate=validate,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - a validator fault must not leave a verified envelope unanswered
            detail = f"validator failed: {type(exc).__name__}: {exc}"[:300]
            return refuse(ReasonCode.INTERNAL, 8, detail, opened.key_id)
        findings = step8.findings
        if step8.reason is not None:
            return Verdict(
                rejected, digest, (step8.reason,), findings, envelope, message, opened.key_id, 8, step8.detail
            )
    return Verdict(exchange_pb2.OUTCOME_ACCEPTED, digest, (), findings, envelope, message, opened.key_id, 8)

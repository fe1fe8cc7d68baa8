"""A deliberately faulty adapter: the market-regulation reference adapter with a switchboard of faults.

With no fault switched on it is a clean SDK adapter (the reference department ``sc.amr``, standards
validation on, exports masked per SC-20 destination, plus one SC-13 clue transfer so that masking for
the Chongqing partner is exercised). Each fault breaks exactly one kind of behaviour the suite checks;
`EXPECTED` says which check ids must fail for each (as the OIDF suite's expected-failures files do).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import grpc
from google.protobuf.message import DecodeError

import standards
from adapters.departments import MarketRegulation
from adapters.sdk import AdapterIdentity, AdapterServicer, AdapterStore, Record
from adapters.sdk.department import Handling
from adapters.sdk.servicer import peer_node
from conformance.assess import destination_of
from gateway.envelope import seal_message
from gateway.errors import JgxError
from gateway.keys import generate_key
from gateway.pb.jgx.adapter.v1 import adapter_pb2
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import issue_receipt
from gateway.trust import TrustConfig
from gateway.validation import standards_validator

#: fault -> the check ids that must fail when it is on (and nothing else).
EXPECTED: Final[dict[str, frozenset[str]]] = {
    "accepts-tampered": frozenset({"CF-DELIVER-NEG-TAMPERED"}),
    "accepts-unknown-key": frozenset({"CF-DELIVER-NEG-UNKNOWN-KEY"}),
    "accepts-revoked": frozenset({"CF-DELIVER-NEG-REVOKED-KEY"}),
    "accepts-wrong-algorithm": frozenset({"CF-DELIVER-NEG-WRONG-ALGORITHM"}),
    "accepts-expired": frozenset({"CF-DELIVER-NEG-EXPIRED"}),
    "accepts-replay": frozenset({"CF-DELIVER-NEG-REPLAYED"}),
    "accepts-misaddressed": frozenset({"CF-DELIVER-NEG-MISADDRESSED"}),
    "accepts-unknown-standard": frozenset({"CF-DELIVER-NEG-UNKNOWN-STANDARD"}),
    "accepts-unknown-version": frozenset({"CF-DELIVER-NEG-UNKNOWN-VERSION"}),
    "accepts-schema-invalid": frozenset({"CF-DELIVER-NEG-SCHEMA-INVALID"}),
    "accepts-oversized": frozenset({"CF-DELIVER-NEG-OVERSIZED"}),
    # Refusing every valid delivery also spoils the replay's original and the concurrent burst.
    "rejects-valid": frozenset(
        {"CF-DELIVER-ACCEPTED", "CF-DELIVER-CLAIMED", "CF-DELIVER-NEG-REPLAYED", "CF-LATENCY-CONCURRENT"}
    ),
    "receipt-not-bound-to-digest": frozenset({"CF-DELIVER-RECEIPT-BINDING"}),
    "unsigned-receipt": frozenset({"CF-DELIVER-RECEIPT-SIGNATURE"}),
    "non-idempotent": frozenset({"CF-DELIVER-IDEMPOTENT"}),
    "slow": frozenset({"CF-LATENCY-SINGLE"}),
    "slow-under-load": frozenset({"CF-LATENCY-CONCURRENT"}),
    "manifest-incomplete": frozenset({"CF-DESCRIBE-MANIFEST"}),
    # The records are then signed with a key the manifest does not list.
    "manifest-wrong-key": frozenset({"CF-DESCRIBE-TRUST", "CF-EXPORT-SIGNATURE"}),
    "export-bad-signature": frozenset({"CF-EXPORT-SIGNATURE"}),
    "export-wrong-header": frozenset({"CF-EXPORT-HEADER"}),
    "export-invalid-record": frozenset({"CF-EXPORT-RECORDS"}),
    "export-unmasked-personal-data": frozenset({"CF-EXPORT-MASKING"}),
    # Serving faults: how the adapter is put on the network (see `serve_faulty`).
    # Without asking for client certificates the adapter cannot tell the hub, so it refuses valid deliveries
    # (IDENTITY_MISMATCH) as well.
    "tls-no-client-auth": frozenset(
        {
            "CF-TLS-REQUIRED",
            "CF-DELIVER-ACCEPTED",
            "CF-DELIVER-CLAIMED",
            "CF-DELIVER-NEG-REPLAYED",
            "CF-LATENCY-CONCURRENT",
        }
    ),
    "tls-wrong-node-cert": frozenset({"CF-TLS-NODE-CERT"}),
    # Issue 13: every refusal of wire.md §7, probes at the edges, expected counts.
    "accepts-unsigned": frozenset({"CF-DELIVER-NEG-UNSIGNED"}),
    "accepts-sender-key-mismatch": frozenset({"CF-DELIVER-NEG-SENDER-KEY"}),
    "accepts-payload-type": frozenset({"CF-DELIVER-NEG-PAYLOAD-TYPE"}),
    "accepts-rule-violation": frozenset({"CF-DELIVER-NEG-RULE-VIOLATION"}),
    "ignores-acl": frozenset({"CF-DELIVER-NEG-ACL-DENIED"}),
    "ignores-transport-identity": frozenset({"CF-DELIVER-NEG-IDENTITY"}),
    "expiry-grace-30min": frozenset({"CF-DELIVER-NEG-EXPIRED"}),
    "future-grace-30min": frozenset({"CF-DELIVER-NEG-NOT-YET-VALID"}),
    "key-validity-grace-30min": frozenset({"CF-DELIVER-NEG-RETIRED-KEY"}),
    "replay-cache-of-one": frozenset({"CF-DELIVER-NEG-REPLAYED"}),
    "export-drops-one": frozenset({"CF-EXPORT-COUNT"}),
    "export-refuses-partner": frozenset({"CF-EXPORT-STREAM"}),
    "cannot-handle-SC-06": frozenset({"CF-DELIVER-CLAIMED"}),
    "tls-trusts-foreign-ca": frozenset({"CF-TLS-FOREIGN-CA"}),
}
#: fault -> what the faulty adapter then does (docs/conformance.md lists it beside the checks it fails).
WHAT: Final[dict[str, str]] = {
    "accepts-tampered": "accepts an envelope whose signature does not verify",
    "accepts-unknown-key": "accepts a signature by a key the trust configuration does not know",
    "accepts-revoked": "accepts a signature by a revoked key",
    "accepts-wrong-algorithm": "accepts a signature made with another algorithm than the key's",
    "accepts-expired": "accepts expired messages",
    "accepts-replay": "accepts other bytes under a message id it already accepted",
    "accepts-misaddressed": "accepts messages addressed to another node",
    "accepts-unknown-standard": "accepts a standard that does not exist",
    "accepts-unknown-version": "accepts a version that does not exist",
    "accepts-schema-invalid": "accepts payloads that break the schema",
    "accepts-oversized": "accepts envelopes over the size limit",
    "rejects-valid": "refuses valid deliveries (RULE_VIOLATION)",
    "receipt-not-bound-to-digest": "receipts carry the digest of other bytes",
    "unsigned-receipt": "receipts carry no signature",
    "non-idempotent": "a redelivery gets a different receipt",
    "slow": "every Describe takes 3 s",
    "slow-under-load": "slows down to 3 s per call when more than 5 calls are in flight",
    "manifest-incomplete": "the manifest has no build digest",
    "manifest-wrong-key": "the manifest lists (and records are signed with) an unregistered key",
    "export-bad-signature": "exported signatures are corrupted",
    "export-wrong-header": "exported messages name a recipient the ACL does not allow",
    "export-invalid-record": "exported records carry a field the standard does not define",
    "export-unmasked-personal-data": "exports personal data unmasked to every destination class",
    "tls-no-client-auth": "serves TLS without asking for a client certificate",
    "tls-wrong-node-cert": "presents another node's TLS certificate",
    "accepts-unsigned": "accepts an envelope without any signature",
    "accepts-sender-key-mismatch": "accepts a sender signed for with another node's key",
    "accepts-payload-type": "accepts any payload type that is validly signed",
    "accepts-rule-violation": "checks the schema, not the semantic rules: a wrong USCC check digit passes",
    "ignores-acl": "does not check the ACL",
    "ignores-transport-identity": "does not compare the TLS client with the sender",
    "expiry-grace-30min": "accepts messages up to 30 minutes after their expiry",
    "future-grace-30min": "accepts messages issued up to 30 minutes in the future",
    "key-validity-grace-30min": "accepts keys whose validity has ended",
    "replay-cache-of-one": "remembers only the last message id",
    "export-drops-one": "drops the first record of every export",
    "export-refuses-partner": "refuses to export for the Chongqing partner",
    "cannot-handle-SC-06": "claims SC-06 but cannot handle a delivered SC-06 record",
    "tls-trusts-foreign-ca": "also trusts a CA outside the federation for client certificates",
}
FAULTS: Final = frozenset(EXPECTED)
SERVING_FAULTS: Final = frozenset({"tls-no-client-auth", "tls-wrong-node-cert", "tls-trusts-foreign-ca"})
GRACE: Final = timedelta(minutes=30)
BUILD_DIGEST: Final = hashlib.sha256(b"jgx faulty adapter, test build").hexdigest()
#: For each negative probe's refusal reason, the fault that turns the refusal into an acceptance.
_ACCEPTS: Final[dict[str, str]] = {
    "SIGNATURE_INVALID": "accepts-tampered",
    "MALFORMED": "accepts-tampered",
    "KEY_UNKNOWN": "accepts-unknown-key",
    "KEY_REVOKED": "accepts-revoked",
    "ALGORITHM_MISMATCH": "accepts-wrong-algorithm",
    "EXPIRED": "accepts-expired",
    "REPLAYED": "accepts-replay",
    "NOT_ADDRESSED_TO_US": "accepts-misaddressed",
    "STANDARD_UNKNOWN": "accepts-unknown-standard",
    "VERSION_NOT_IN_FORCE": "accepts-unknown-version",
    "SCHEMA_INVALID": "accepts-schema-invalid",
    "TOO_LARGE": "accepts-oversized",
    "SIGNATURE_MISSING": "accepts-unsigned",
    "SENDER_KEY_MISMATCH": "accepts-sender-key-mismatch",
    "PAYLOAD_TYPE_UNKNOWN": "accepts-payload-type",
    "RULE_VIOLATION": "accepts-rule-violation",
    "ACL_DENIED": "ignores-acl",
    "KEY_NOT_VALID": "key-validity-grace-30min",
}


class ClueDesk(MarketRegulation):
    """The market-regulation reference department plus one SC-13 clue transfer to export."""

    refuses: frozenset[str] = frozenset()  # standards whose deliveries the mapping cannot handle

    def handle_delivered(self, message: exchange_pb2.Message, *, now: datetime) -> Handling:
        """The reference handling, except for the standards this desk claims but cannot handle."""
        if message.standard in self.refuses:
            raise LookupError(f"no mapping for delivered {message.standard}")
        return super().handle_delivered(message, now=now)

    def export(self, standard: str) -> Iterable[Record]:
        """The reference records, and for SC-13 the standard's good clue-transfer fixture."""
        if standard != "SC-13":
            return super().export(standard)
        clue = json.loads((_fixture_dir("SC-13") / "dispatch.json").read_text("utf-8"))
        return [Record("SC-13", "1.0.0", clue["clueNo"], clue)]


def _fixture_dir(standard: str) -> Path:
    from standards.catalogue import DATA_DIR

    return Path(DATA_DIR) / standard / "1.0.0" / "fixtures" / "good"


class FaultyAdapter(AdapterServicer):
    """An SDK adapter whose behaviour is broken by the faults switched on."""

    def __init__(
        self,
        *,
        faults: Iterable[str],
        trust: TrustConfig,
        key: Any,
        store: AdapterStore,
        clock: Any,
        slow_seconds: float = 3.0,
    ) -> None:
        unknown = set(faults) - FAULTS - SERVING_FAULTS
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}")
        desk = ClueDesk()
        desk.refuses = frozenset({"SC-06"} if "cannot-handle-SC-06" in faults else ())
        super().__init__(
            identity=AdapterIdentity("sc.amr", key, "faulty-amr-adapter", "0.0.1", BUILD_DIGEST, "测试组"),
            trust=trust,
            department=desk,
            store=store,
            validate=standards_validator,
            clock=clock,
            peer_identity=(lambda _c, _t: None) if "ignores-transport-identity" in faults else peer_node,
        )
        self.faults = frozenset(faults)
        self._previous_id = ""
        self.slow_seconds = slow_seconds
        self._in_flight = 0
        self._seen: set[bytes] = set()

    # -- Describe ----------------------------------------------------------------------------------

    async def Describe(
        self, request: adapter_pb2.DescribeRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> adapter_pb2.Manifest:
        """Describe, slowed down by the ``slow`` fault."""
        if "slow" in self.faults:
            await asyncio.sleep(self.slow_seconds)
        return await super().Describe(request, context)

    def manifest(self) -> adapter_pb2.Manifest:
        """The manifest, broken by the manifest faults."""
        manifest = super().manifest()
        if "manifest-incomplete" in self.faults:
            manifest.build_digest = ""
        if "manifest-wrong-key" in self.faults:
            del manifest.key_ids[:]
            manifest.key_ids.append(generate_key().key_id)
        return manifest

    # -- Deliver -----------------------------------------------------------------------------------

    async def Deliver(
        self, request: bytes, context: grpc.aio.ServicerContext[object, object]
    ) -> adapter_pb2.DeliverResponse:
        """Deliver, slowed down by the latency faults."""
        self._in_flight += 1
        try:
            if "slow-under-load" in self.faults:
                await asyncio.sleep(0.05)  # let concurrent calls pile up, then slow down when they have
                if self._in_flight > 5:
                    await asyncio.sleep(self.slow_seconds)
            return await super().Deliver(request, context)
        finally:
            self._in_flight -= 1

    def deliver(self, data: bytes, *, transport_node: str | None = None) -> bytes:
        """The SDK's receipt, then rewritten by the receipt faults."""
        again = hashlib.sha256(data).digest() in self._seen
        self._seen.add(hashlib.sha256(data).digest())
        previous, self._previous_id = self._previous_id, _message_of(data).message_id
        original = super().deliver(data, transport_node=transport_node)
        envelope = exchange_pb2.Envelope.FromString(original)
        receipt = exchange_pb2.Receipt.FromString(envelope.body)
        accepted = receipt.outcome == exchange_pb2.OUTCOME_ACCEPTED
        changes: dict[str, Any] = {}
        if not accepted and (
            self._accepts(data, receipt.reason_codes)
            or self._edge_accepts(data, receipt.reason_codes, previous)
        ):
            changes = {"outcome": exchange_pb2.OUTCOME_ACCEPTED, "reason_codes": []}
        if accepted and "rejects-valid" in self.faults:
            changes = {"outcome": exchange_pb2.OUTCOME_REJECTED, "reason_codes": ["RULE_VIOLATION"]}
        if again and "non-idempotent" in self.faults:
            changes["log_index"] = receipt.log_index + 1000
        if "receipt-not-bound-to-digest" in self.faults:
            changes["envelope_sha256"] = hashlib.sha256(b"another envelope" + data).digest()
        result = self._reissue(receipt, changes) if changes else envelope
        if "unsigned-receipt" in self.faults:
            del result.signatures[:]
        return result.SerializeToString()

    def _accepts(self, data: bytes, reasons: Sequence[str]) -> bool:
        """Whether a fault makes this adapter accept what it refused for `reasons`."""
        if "STANDARD_UNKNOWN" in reasons or "VERSION_NOT_IN_FORCE" in reasons:
            # An unknown version of a known standard is the unknown-version fault's business.
            try:
                standard = exchange_pb2.Message.FromString(
                    exchange_pb2.Envelope.FromString(data).body
                ).standard
                standards.catalogue().get(standard)
            except (ValueError, JgxError):
                return "accepts-unknown-standard" in self.faults
            return "accepts-unknown-version" in self.faults
        return any(_ACCEPTS.get(code) in self.faults for code in reasons)

    def _edge_accepts(self, data: bytes, reasons: Sequence[str], previous: str) -> bool:
        """The edge faults: a 30-minute grace on expiry or issue time, a replay cache of one id."""
        message = _message_of(data)
        now = self.clock()
        if "EXPIRED" in reasons and "expiry-grace-30min" in self.faults:
            return now <= message.expires_at.ToDatetime(tzinfo=UTC) + GRACE
        if "NOT_YET_VALID" in reasons and "future-grace-30min" in self.faults:
            return message.issued_at.ToDatetime(tzinfo=UTC) - GRACE <= now
        if "REPLAYED" in reasons and "replay-cache-of-one" in self.faults:
            return message.message_id != previous
        return False

    def _reissue(self, receipt: exchange_pb2.Receipt, changes: Mapping[str, Any]) -> exchange_pb2.Envelope:
        fields = {
            "outcome": receipt.outcome,
            "reason_codes": list(receipt.reason_codes),
            "log_index": receipt.log_index,
            "envelope_sha256": receipt.envelope_sha256,
            **changes,
        }
        return issue_receipt(
            issuer=receipt.issuer,
            key=self.identity.key,
            message_id=receipt.message_id,
            sender=receipt.sender,
            recipient=receipt.recipient,
            findings=(),
            now=self.clock(),
            **fields,
        )

    # -- Export ------------------------------------------------------------------------------------

    async def Export(
        self, request: adapter_pb2.ExportRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> AsyncIterator[exchange_pb2.Envelope]:
        """The SDK's export masked for the recipient's destination class, broken by the export faults."""
        destination = destination_of(self.trust, request.recipient or self.hub)
        if destination == "partner" and "export-refuses-partner" in self.faults:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "no partner export")
        dropped = "export-drops-one" in self.faults
        async for envelope in super().Export(request, context):
            if dropped:  # the first record of every export never leaves
                dropped = False
                continue
            message = exchange_pb2.Message.FromString(envelope.body)
            record = json.loads(message.payload)
            if "export-unmasked-personal-data" not in self.faults:
                record = standards.mask(record, destination, standard=request.standard)
            if "export-invalid-record" in self.faults:
                record["undefinedFieldForConformance"] = "x"
            if "export-wrong-header" in self.faults:
                message.recipient = "sc.sjs"  # not the recipient asked for, and not one the ACL allows
            message.payload = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")
            sealed = seal_message(message, self.identity.key)
            if "export-bad-signature" in self.faults:
                sealed.signatures[0].sig = bytes(b ^ 0xFF for b in sealed.signatures[0].sig)
            yield sealed


def _message_of(data: bytes) -> exchange_pb2.Message:
    """The message inside envelope bytes, or an empty one when they are not an envelope."""
    try:
        return exchange_pb2.Message.FromString(exchange_pb2.Envelope.FromString(data).body)
    except DecodeError:
        return exchange_pb2.Message()


def serving_credentials(
    faults: Iterable[str],
    ca_cert: bytes,
    ca_key: bytes,
    amr_tls: tuple[bytes, bytes],
    *,
    now: Any,
    foreign_ca: bytes = b"",
) -> grpc.ServerCredentials:
    """The adapter's server credentials, broken by the serving faults (`foreign_ca`: a CA it also trusts)."""
    from gateway.pki import issue_node_certificate

    cert, key = amr_tls
    if "tls-wrong-node-cert" in faults:
        cert, key = issue_node_certificate(ca_cert, ca_key, "sc.12315", now=now)
    roots = ca_cert + foreign_ca if "tls-trusts-foreign-ca" in faults else ca_cert
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=roots, require_client_auth="tls-no-client-auth" not in faults
    )

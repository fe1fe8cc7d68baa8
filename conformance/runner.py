"""The live run: the suite plays the hub (and a rogue peer) against an adapter over gRPC, recording all.

The runner only *probes*: it calls Describe, Export and Deliver, tries the transport's doors, and
records every exchange (masked and redacted, `conformance.evidence`). Verdicts come afterwards from
`conformance.judging.judge_run` over the recorded exchanges, exactly as ``recheck`` derives them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict

from conformance.assess import assess_envelope, destination_of, header_json
from conformance.evidence import Bundle, Exchange, as_written, b64, mask_payload
from conformance.forgery import LIFECYCLE_STANDARDS, Forge, SignedAs
from conformance.judging import judge_run
from conformance.judging_export import claims_of
from conformance.results import Override, Result, RunInfo
from conformance.transport import (
    TlsMaterial,
    no_client_cert_credentials,
    open_channel,
    probe_connect,
    read_server_certificate,
)
from gateway.error_details import error_info
from gateway.errors import ReasonCode, TransportError
from gateway.pb.jgx.adapter.v1 import adapter_pb2
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import TrustConfig
from gateway.trust_update import load_trust

__all__ = ["LiveOptions", "Progress", "Recorder", "Run", "rpc_failure", "run_live"]

Progress = Callable[[str], None]
_PAYLOAD_KEPT = 64 << 10  # request payloads above this size are described, not kept


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """What a live run is asked to do."""

    target: str
    department: str
    hub: SignedAs
    now: datetime
    revoked: SignedAs | None = None
    tls: TlsMaterial | None = None
    budget_ms: float = 2000.0
    concurrency: int = 50
    timeout: float = 10.0
    export_limit: int = 50
    overrides: tuple[Override, ...] = ()
    evidence_profile: str | None = "partner"  # None: the destination class of each exchange's recipient
    deliver_standard: str | None = None
    sample: Mapping[str, Any] | None = None
    attestations: tuple[Mapping[str, str], ...] = ()


@dataclass
class Run:
    """A finished run: what was asked, the evidence and the results."""

    info: RunInfo
    bundle: Bundle
    results: list[Result]
    manifest: Mapping[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def rpc_failure(error: grpc.aio.AioRpcError) -> dict[str, Any]:
    """A failed call as evidence: the gRPC status, the jgx ErrorInfo reason (if any) and the detail."""
    info = error_info(error)
    reason = info.reason if info is not None else ""
    return {"status": error.code().name, "reason": reason, "detail": (error.details() or "")[:300]}


class Recorder:
    """Collects exchanges in the order they finish, masking what it keeps."""

    def __init__(self, trust: TrustConfig, profile: str | None) -> None:
        self.trust = trust
        self.profile = profile
        self.exchanges: list[Exchange] = []

    def destination(self, recipient: str) -> str:
        """The SC-20 destination class evidence about a message to `recipient` is masked for."""
        return self.profile or destination_of(self.trust, recipient)

    def add(
        self,
        probe: str,
        rpc: str,
        request: Mapping[str, Any],
        response: Mapping[str, Any],
        *,
        started: datetime,
        duration_ms: float,
        concurrency: int = 1,
        subject: str = "",
    ) -> Exchange:
        """Record one exchange."""
        exchange = Exchange(
            len(self.exchanges) + 1,
            probe,
            rpc,
            dict(request),
            dict(response),
            started.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            round(duration_ms, 2),
            concurrency,
            subject,
        )
        self.exchanges.append(exchange)
        return exchange

    def delivery(self, data: bytes, message: exchange_pb2.Message, forgery: str) -> dict[str, Any]:
        """What evidence keeps of a delivered envelope: digest, size, header and the masked payload."""
        import hashlib

        request: dict[str, Any] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "header": header_json(message),
            "forgery": forgery,
        }
        if len(message.payload) <= _PAYLOAD_KEPT:
            masked, pointers = mask_payload(
                message.payload, self.destination(message.recipient), message.standard
            )
            request["payload"], request["maskedPointers"] = masked, pointers
        else:
            request["payload"], request["maskedPointers"] = None, [f"omitted: {len(message.payload)} bytes"]
        return request


def _utc() -> datetime:
    return datetime.now(UTC)


class _Session:
    """One live run's calls over one channel."""

    def __init__(
        self, opts: LiveOptions, trust: TrustConfig, recorder: Recorder, channel: grpc.aio.Channel
    ) -> None:
        self.opts, self.trust, self.rec = opts, trust, recorder
        self._describe = channel.unary_unary(
            "/jgx.adapter.v1.Adapter/Describe",
            request_serializer=adapter_pb2.DescribeRequest.SerializeToString,
            response_deserializer=adapter_pb2.Manifest.FromString,
        )
        self._deliver = channel.unary_unary(
            "/jgx.adapter.v1.Adapter/Deliver",
            request_serializer=bytes,
            response_deserializer=adapter_pb2.DeliverResponse.FromString,
        )
        self._export = channel.unary_stream(
            "/jgx.adapter.v1.Adapter/Export",
            request_serializer=adapter_pb2.ExportRequest.SerializeToString,
            response_deserializer=bytes,
        )

    async def describe(self) -> Mapping[str, Any] | None:
        started, t0 = _utc(), time.perf_counter()
        try:
            manifest = await self._describe(adapter_pb2.DescribeRequest(), timeout=self.opts.timeout)
            response: dict[str, Any] = {
                "status": "OK",
                "manifest": MessageToDict(
                    manifest, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
                ),
            }
        except grpc.aio.AioRpcError as exc:
            response = rpc_failure(exc)
        self.rec.add("describe", "Describe", {}, response, started=started, duration_ms=_ms(t0))
        if response["status"] == "UNAVAILABLE":
            raise TransportError(ReasonCode.UNAVAILABLE, f"{self.opts.target}: {response['detail']}")
        return response.get("manifest")

    async def export(self, standard: str, version: str, recipient: str) -> list[bytes]:
        destination = destination_of(self.trust, recipient)
        request = adapter_pb2.ExportRequest(
            standard=standard, standard_version=version, recipient=recipient, limit=self.opts.export_limit
        )
        started, t0 = _utc(), time.perf_counter()
        envelopes: list[bytes] = []
        try:
            async for data in self._export(request, timeout=self.opts.timeout * 3):
                envelopes.append(data)
            response: dict[str, Any] = {"status": "OK"}
        except grpc.aio.AioRpcError as exc:
            response = rpc_failure(exc)
        duration = _ms(t0)
        response["envelopes"] = [self._kept(data, destination, recipient) for data in envelopes]
        self.rec.add(
            "export",
            "Export",
            {"standard": standard, "version": version, "recipient": recipient, "destination": destination},
            response,
            started=started,
            duration_ms=duration,
            subject=f"{standard}@{version}",
        )
        return envelopes

    def _kept(self, data: bytes, destination: str, recipient: str) -> dict[str, Any]:
        facts, message = assess_envelope(data, self.trust, now=self.opts.now, destination=destination)
        if message is None:
            return {"envelopeB64": b64(data)}
        masked, pointers = mask_payload(message.payload, self.rec.destination(recipient), message.standard)
        if not pointers:
            return {"envelopeB64": b64(data)}
        return {"redacted": True, "payload": masked, "maskedPointers": pointers, "atRun": facts.to_json()}

    async def deliver(
        self,
        probe: str,
        data: bytes,
        message: exchange_pb2.Message,
        *,
        forgery: str = "",
        concurrency: int = 1,
    ) -> Exchange:
        """Deliver `data` and record what came back."""
        request = self.rec.delivery(data, message, forgery)
        started, t0 = _utc(), time.perf_counter()
        try:
            reply = await self._deliver(data, timeout=self.opts.timeout)
            response: dict[str, Any] = {"status": "OK", "receiptB64": b64(reply.receipt.SerializeToString())}
        except grpc.aio.AioRpcError as exc:
            response = rpc_failure(exc)
        return self.rec.add(
            probe,
            "Deliver",
            request,
            response,
            started=started,
            duration_ms=_ms(t0),
            concurrency=concurrency,
            subject=f"{message.standard}@{message.standard_version}",
        )


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def _recipients(trust: TrustConfig, department: str, standard: str) -> list[str]:
    """One allowed recipient per destination class, the department's own gateway first."""
    node = trust.nodes.get(department)
    gateway = node.gateway if node is not None and node.gateway else ""
    allowed = sorted(
        (r for r in trust.nodes if r != department and trust.allows(department, standard, r)),
        key=lambda r: (r != gateway, r),
    )
    chosen: dict[str, str] = {}
    for recipient in allowed:
        chosen.setdefault(destination_of(trust, recipient), recipient)
    return list(chosen.values()) or [gateway or "sc.hub"]


def _deliver_claim(
    opts: LiveOptions, trust: TrustConfig, claims: Sequence[tuple[str, str]]
) -> tuple[str, str] | None:
    allowed = [c for c in claims if trust.allows(opts.hub.node_id, c[0], opts.department)]
    if opts.deliver_standard:
        allowed = [c for c in allowed if c[0] == opts.deliver_standard]
    allowed.sort(
        key=lambda c: (
            c[0] not in LIFECYCLE_STANDARDS,
            LIFECYCLE_STANDARDS.index(c[0]) if c[0] in LIFECYCLE_STANDARDS else 0,
            c[0],
        )
    )
    return allowed[0] if allowed else None


def _sample(
    opts: LiveOptions, claim: tuple[str, str], exported: Mapping[str, list[bytes]]
) -> Mapping[str, Any] | None:
    if opts.sample is not None:
        return opts.sample
    from conformance.samples import exported_record, fixture_record

    return fixture_record(*claim) or exported_record(exported.get(claim[0], []))


async def run_live(opts: LiveOptions, trust_signed: bytes, progress: Progress = lambda _: None) -> Run:
    """Certify the adapter at `opts.target`: probe, record, judge; TransportError if it is unreachable."""
    trust = load_trust(trust_signed, now=opts.now)
    rec = Recorder(trust, opts.evidence_profile)
    info = RunInfo(
        "live",
        opts.department,
        opts.now,
        opts.budget_ms,
        opts.concurrency,
        opts.overrides,
        opts.tls is not None,
        opts.target,
        opts.hub.node_id,
        opts.evidence_profile or "per-recipient",
        opts.attestations,
    )
    host, _, port = opts.target.rpartition(":")
    if opts.tls is not None:
        progress("TLS: 明文、无客户端证书、握手 / plaintext, no client certificate, handshake")
        for probe, credentials in (
            ("plaintext", None),
            ("no-client-cert", no_client_cert_credentials(opts.tls.ca_cert)),
        ):
            started, t0 = _utc(), time.perf_counter()
            outcome = await probe_connect(opts.target, credentials, timeout=min(opts.timeout, 3.0))
            rec.add(probe, "Connect", {"kind": probe}, outcome, started=started, duration_ms=_ms(t0))
        started, t0 = _utc(), time.perf_counter()
        outcome = await read_server_certificate(host.strip("[]"), int(port), opts.tls, timeout=opts.timeout)
        rec.add("handshake", "Connect", {"kind": "handshake"}, outcome, started=started, duration_ms=_ms(t0))
    async with open_channel(opts.target, opts.tls) as channel:
        session = _Session(opts, trust, rec, channel)
        progress("Describe")
        manifest = await session.describe()
        claims = claims_of(manifest)
        exported: dict[str, list[bytes]] = {}
        for standard, version in claims:
            for recipient in _recipients(trust, opts.department, standard):
                progress(f"Export {standard}@{version} → {recipient}")
                exported.setdefault(standard, []).extend(await session.export(standard, version, recipient))
        claim = _deliver_claim(opts, trust, claims)
        sample = _sample(opts, claim, exported) if claim else None
        if claim is None or sample is None:
            why = (
                "没有可投递的标准或样例记录",
                "no claimed standard the hub may deliver, or no sample record for it",
            )
            for probe in (
                "valid",
                "tampered",
                "unknown-key",
                "revoked-key",
                "wrong-algorithm",
                "expired",
                "replayed",
                "misaddressed",
                "unknown-standard",
                "unknown-version",
                "schema-invalid",
                "oversized",
            ):
                rec.add(probe, "Skip", {}, {"zh": why[0], "en": why[1]}, started=_utc(), duration_ms=0)
        else:
            await _deliveries(
                session, Forge(trust, opts.hub, opts.department, *claim, sample, opts.now), opts, progress
            )
    bundle = Bundle(
        info.to_json(),
        trust_signed,
        as_written(rec.exchanges),
        ca_cert=opts.tls.ca_cert if opts.tls else None,
    )
    progress("判定 / judging")
    results = judge_run(info, trust, bundle.exchanges, ca_cert=bundle.ca_cert)
    bundle.results = [r.to_json() for r in results]
    return Run(info, bundle, results, manifest)


async def _deliveries(session: _Session, forge: Forge, opts: LiveOptions, progress: Progress) -> None:
    progress(f"Deliver {forge.standard}@{forge.version}: 有效报文 / valid")
    data, message = forge.valid()
    await session.deliver("valid", data, message)
    probes: list[tuple[str, Callable[[], tuple[bytes, exchange_pb2.Message] | None], str]] = [
        ("tampered", forge.tampered, "one bit of the signature flipped"),
        ("unknown-key", forge.unknown_key, "signed with a freshly generated key"),
        (
            "revoked-key",
            lambda: forge.revoked(opts.revoked),
            "signed with a revoked key" if opts.revoked else "revoked key id, signature-shaped bytes",
        ),
        ("wrong-algorithm", forge.wrong_algorithm, "other algorithm under the hub's key id"),
        ("expired", forge.expired, "expired an hour ago"),
        ("misaddressed", forge.misaddressed, "addressed to another node"),
        ("unknown-standard", forge.unknown_standard, "standard SC-99"),
        ("unknown-version", forge.unknown_version, "version 99.0.0"),
        ("schema-invalid", forge.schema_invalid, "payload without the standard's fields"),
        ("oversized", forge.oversized, "4 KiB over the size limit"),
    ]
    for probe, make, how in probes:
        progress(f"Deliver: {probe}")
        made = make()
        if made is None:
            rec_skip = (
                "信任配置中没有可用于此检查的节点或密钥",
                "the trust configuration offers no node or key for this check",
            )
            session.rec.add(
                probe, "Skip", {}, {"zh": rec_skip[0], "en": rec_skip[1]}, started=_utc(), duration_ms=0
            )
            continue
        await session.deliver(probe, made[0], made[1], forgery=how)
    progress("Deliver: replay")
    data, original = forge.valid()
    await session.deliver("replay-original", data, original)
    replay, replayed = forge.replay_of(original)
    await session.deliver("replayed", replay, replayed, forgery="other bytes under an accepted message id")
    progress("Deliver: 幂等 / idempotency")
    data, message = forge.valid()
    await session.deliver("idempotent", data, message)
    await session.deliver("idempotent", data, message, forgery="the same bytes again")
    progress(f"Deliver: {opts.concurrency} 个并发调用 / concurrent calls")
    burst = [forge.valid() for _ in range(opts.concurrency)]
    await asyncio.gather(
        *(session.deliver("concurrent", d, m, concurrency=opts.concurrency) for d, m in burst)
    )

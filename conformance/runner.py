"""The live run: the suite plays the hub (and a rogue peer) against an adapter over gRPC, recording all.

The runner only *probes*: it calls Describe, Export and Deliver, tries the transport's doors, and
records every exchange (masked and redacted, `conformance.evidence`). Verdicts come afterwards from
`conformance.judging.judge_run` over the recorded exchanges, exactly as ``recheck`` derives them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conformance.assess import destination_of
from conformance.evidence import Bundle, as_written
from conformance.forgery import LIFECYCLE_STANDARDS, Forge, SignedAs
from conformance.judging import judge_run
from conformance.judging_export import claims_of
from conformance.probes import DELIVERY_PROBES, deliveries, skip, transport_probes
from conformance.results import Override, Result, RunInfo
from conformance.session import Recorder, Session, ms_since, utc_now
from conformance.transport import (
    TlsMaterial,
    no_client_cert_credentials,
    open_channel,
    probe_connect,
    read_server_certificate,
)
from gateway.trust import TrustConfig
from gateway.trust_update import load_trust

__all__ = ["LiveOptions", "Progress", "Recorder", "Run", "run_live"]

Progress = Callable[[str], None]


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
    #: A key of the trust configuration whose validity ended a moment before the run.
    retired: SignedAs | None = None
    #: Keys of other nodes the certifier holds, for the ACL-denied probes.
    peers: tuple[SignedAs, ...] = ()
    #: Another node's mTLS identity (issued by the federation CA), for the identity-mismatch probe.
    other_tls: TlsMaterial | None = None
    #: The foreign-CA identity to present (default: made on the spot).
    foreign: TlsMaterial | None = None
    #: The department's declared record count per standard of its test export (absent: 0); None when
    #: it declared nothing, which leaves CF-EXPORT-COUNT skipped and the run without a certificate.
    expected_counts: Mapping[str, int] | None = None


@dataclass
class Run:
    """A finished run: what was asked, the evidence and the results."""

    info: RunInfo
    bundle: Bundle
    results: list[Result]
    manifest: Mapping[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


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
    if opts.tls is not None:
        await _doors(opts, opts.tls, rec, progress)
    forge: Forge | None = None
    async with open_channel(opts.target, opts.tls) as channel:
        session = Session(opts, trust, rec, channel)
        progress("Describe")
        manifest = await session.describe()
        claims = claims_of(manifest)
        declared = (
            {s: int(opts.expected_counts.get(s, 0)) for s, _ in claims}
            if opts.expected_counts is not None
            else None
        )
        exported: dict[str, list[bytes]] = {}
        for standard, version in claims:
            for recipient in _recipients(trust, opts.department, standard):
                progress(f"Export {standard}@{version} → {recipient}")
                exported.setdefault(standard, []).extend(await session.export(standard, version, recipient))
            if declared is not None:
                progress(f"Export {standard}@{version}: 全部记录 / every record")
                await session.export(standard, version, _recipients(trust, opts.department, standard)[0],
                                     limit=0, probe="export-count")  # fmt: skip
        claim = _deliver_claim(opts, trust, claims)
        sample = _sample(opts, claim, exported) if claim else None
        if claim is None or sample is None:
            for probe in DELIVERY_PROBES:
                skip(rec, probe, "没有可投递的标准或样例记录",
                     "no claimed standard the hub may deliver, or no sample record for it")  # fmt: skip
        else:
            forge = Forge(trust, opts.hub, opts.department, *claim, sample, opts.now)
            await deliveries(session, forge, opts, claims, progress)
    if forge is not None:
        progress("Deliver: 其他传输身份 / other transport identities")
        await transport_probes(opts, trust, rec, forge)
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
        extra={"expectedCounts": declared} if declared is not None else {},
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


async def _doors(opts: LiveOptions, tls: TlsMaterial, rec: Recorder, progress: Progress) -> None:
    """The transport's doors: plaintext and TLS without a client certificate, then a full handshake."""
    host, _, port = opts.target.rpartition(":")
    progress("TLS: 明文、无客户端证书、握手 / plaintext, no client certificate, handshake")
    for probe, credentials in (
        ("plaintext", None),
        ("no-client-cert", no_client_cert_credentials(tls.ca_cert)),
    ):
        started, t0 = utc_now(), time.perf_counter()
        outcome = await probe_connect(opts.target, credentials, timeout=min(opts.timeout, 3.0))
        rec.add(probe, "Connect", {"kind": probe}, outcome, started=started, duration_ms=ms_since(t0))
    started, t0 = utc_now(), time.perf_counter()
    outcome = await read_server_certificate(host.strip("[]"), int(port), tls, timeout=opts.timeout)
    rec.add("handshake", "Connect", {"kind": "handshake"}, outcome, started=started, duration_ms=ms_since(t0))

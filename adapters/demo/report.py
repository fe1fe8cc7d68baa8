"""The demo's closing report: a trace across every hop, the per-node summary, log audits, the checkpoint.

    node         sent  accepted  rejected (by reason)      delivered  queued  overdue
    sc.hub          -        23  KEY_UNKNOWN 1, …                  17       0        -

For a gateway, ``accepted`` / ``rejected`` are the judgements in its log and ``delivered`` the envelopes
its delivery worker handed on with the recipient's verified receipt; for a department adapter they are
the deliveries it receipted, and ``sent`` the envelopes its outbox handed to the hub. Everything is
read back from the nodes' own stores, after the fact.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from adapters.demo.network import LoopbackNetwork
from gateway.hops import Trace, local_hops, trace_hops
from gateway.logaudit import audit_store
from gateway.logbook import log_origin, log_verifier
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.storage import OutboxState

__all__ = ["NodeSummary", "audit_logs", "hub_checkpoint", "print_summary", "summarise", "trace_across"]

_ACCEPTED, _REJECTED = exchange_pb2.OUTCOME_ACCEPTED, exchange_pb2.OUTCOME_REJECTED


@dataclass
class NodeSummary:
    """One row of the summary table."""

    node: str
    sent: int | None = None
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    delivered: int | None = None
    queued: int | None = None
    overdue: int | None = None


async def summarise(
    network: LoopbackNetwork, *, sent: dict[str, int], overdue: dict[str, int]
) -> list[NodeSummary]:
    """Count, per node, from its own store (gateways: the log and outbox; adapters: receipts and outbox)."""
    rows: list[NodeSummary] = []
    for node, gateway in network.gateways.items():
        assert gateway.store is not None
        row = NodeSummary(node, sent=sent.get(node), delivered=0, overdue=overdue.get(node))
        for record in await gateway.store.messages(0, await gateway.store.size()):
            if record.kind == "delivery":
                row.delivered = (row.delivered or 0) + 1
            elif record.outcome == _ACCEPTED:
                row.accepted += 1
            elif record.outcome == _REJECTED:
                row.rejected.update(record.reason_codes or ("-",))
            else:
                row.duplicates += 1
        row.queued = len(await gateway.store.outbox(state=OutboxState.PENDING))
        rows.append(row)
    for node, department in network.departments.items():
        store = department.store
        outbox = store.outbox()
        sent_out = sent[node] if node in sent else sum(1 for p in outbox if p.sent_at is not None)
        row = NodeSummary(node, sent=sent_out, overdue=overdue.get(node, 0))
        row.queued = sum(1 for p in outbox if p.sent_at is None)
        for seq in range(1, store.next_seq()):
            received = store.by_seq(seq)
            if received is None:
                continue
            if received.outcome == _ACCEPTED:
                row.accepted += 1
            else:
                row.rejected.update(["REJECTED"])
        rows.append(row)
    return rows


def _cell(value: int | None) -> str:
    return "-" if value is None else str(value)


def print_summary(rows: list[NodeSummary], out: TextIO) -> None:
    """The summary table, one line per node."""
    header = (
        f"  {'节点 node':<13}{'发出 sent':>10}{'接收 accepted':>15}{'重复 dup':>10}"
        f"{'送达 delivered':>16}{'排队 queued':>13}{'超期 overdue':>14}   拒绝原因 rejected by reason"
    )
    print(header, file=out)
    print("  " + "─" * (len(header) + 8), file=out)
    for row in rows:
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(row.rejected.items())) or "-"
        print(
            f"  {row.node:<13}{_cell(row.sent):>10}{row.accepted:>15}{row.duplicates:>10}"
            f"{_cell(row.delivered):>16}{_cell(row.queued):>13}{_cell(row.overdue):>14}   {reasons}",
            file=out,
            flush=True,
        )


async def audit_logs(network: LoopbackNetwork, out: TextIO) -> bool:
    """`jgx log verify` of every gateway's log (leaves, nodes, side rows, checkpoints); True if sound."""
    sound = True
    for node, gateway in network.gateways.items():
        assert gateway.store is not None
        assert gateway.hub is not None
        await gateway.hub.checkpointer.checkpoint_now()
        hasher = gateway.store.hasher
        verifier = log_verifier(node, network.trust.node(node).keys[0].public_key, hasher)
        report = await audit_store(gateway.store, log_origin(node, hasher), [verifier])
        status = "日志完好 / log OK" if report.ok else f"日志校验失败 / FAILED: {report.problems[:3]}"
        print(
            f"  {node:<12} {status}: {report.size} leaves ({report.hash_profile}), "
            f"{report.checkpoints} checkpoints, "
            f"root {report.root_hash.hex()[:16]}…",
            file=out,
            flush=True,
        )
        sound = sound and report.ok
    return sound


async def hub_checkpoint(network: LoopbackNetwork) -> str:
    """The hub's latest signed checkpoint (C2SP signed note), signed over the whole log."""
    hub = network.gateways["sc.hub"].hub
    assert hub is not None
    stored = await hub.checkpointer.checkpoint_now()
    return stored.note if stored is not None else ""


async def trace_across(network: LoopbackNetwork, correlation_id: str) -> Trace:
    """One task across every hop, as ``jgx trace --across`` shows it from the hub: the hub's rows with
    their verified receipts, and the other gateways' answers to the Trace RPC (mTLS)."""
    hub = network.gateways["sc.hub"]
    assert hub.store is not None
    rows = await hub.store.find_messages(correlation_id=correlation_id)
    local = local_hops("sc.hub", rows, network.trust, now=datetime.now(UTC))
    others = {node: gateway.address for node, gateway in network.gateways.items() if node != "sc.hub"}
    request = exchange_pb2.TraceRequest(correlation_id=correlation_id)
    return await trace_hops(local, request, others, credentials=network.tls["sc.hub"].channel())


def print_trace(trace: Trace, out: TextIO) -> None:
    """One line per hop: time, node, log index, kind, sender → recipient, outcome, digest, receipt."""
    for hop in trace.hops:
        print(f"  {hop.line()}", file=out)
    for node, why in trace.unreachable.items():
        print(f"  未能询问 {node} / could not ask {node}: {why}", file=out)

"""``jgx demo``: show the whole flow on this machine, printing what it does at each step."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click

from gateway.envelope import envelope_digest
from gateway.freshness import MemorySeenIds
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pipeline import judge
from gateway.testing import Federation
from gateway.trust_update import load_trust

SAMPLE_PENALTY = {
    "punishActionName": "未按规定公示年度报告",
    "punishDocumentCode": "川市监罚〔2026〕1号",
    "illegalFact": "当事人未按规定期限公示2025年度报告。",
}


def _step(text: str) -> None:
    click.secho(f"\n▶ {text}", bold=True)


def run_foundation_demo(directory: Path, now: datetime) -> int:
    """Keys, a signed trust configuration, a signed record verified, a tampered one refused."""
    _step("1. 生成节点密钥与信任配置 / keys and a signed trust configuration")
    fed = Federation.create(now)
    (directory / "trust.signed.json").write_bytes(fed.signed_trust)
    trust = load_trust(fed.signed_trust, now=now)
    for node in trust.nodes.values():
        click.echo(f"  {node.node_id:<12} {node.role:<10} key {node.keys[0].key_id[:16]}…  {node.name_zh}")
    click.echo(f"  trust configuration v{trust.version} → {directory / 'trust.signed.json'}")

    _step("2. 市场监管局签名一条行政处罚记录 / sc.amr signs a penalty record (SC-06) for the hub")
    message = fed.message(
        "sc.amr", "sc.hub", standard="SC-06", payload=SAMPLE_PENALTY, business_key="CF-2026-0001"
    )
    data = fed.envelope(message)
    (directory / "penalty.env").write_bytes(data)
    click.echo(f"  envelope {len(data)} bytes, sha256 {envelope_digest(data).hex()[:32]}…")

    _step("3. 枢纽验证 / the hub verifies it (steps 1–7 of the pipeline)")
    seen = MemorySeenIds()
    verdict = judge(data, trust=trust, local_node="sc.hub", now=now, seen=seen)
    click.echo(f"  outcome: {exchange_pb2.Outcome.Name(verdict.outcome)}")
    seen.remember(message.sender, message.message_id, now.replace(year=now.year + 1), now=now)

    _step("4. 篡改一个字节、重放、错投 / one byte tampered, a replay, a misaddressed copy")
    tampered = bytearray(data)
    tampered[len(tampered) // 3] ^= 0x01
    cases = {
        "tampered": bytes(tampered),
        "replayed": data,
        "misaddressed": fed.envelope(fed.message("cn.national", "cq.hub", standard="SC-14")),
    }
    refused = 0
    for name, case in cases.items():
        v = judge(case, trust=trust, local_node="sc.hub", now=now, seen=seen)
        reasons = ", ".join(r.value for r in v.reasons) or "accepted"
        refused += not v.accepted
        click.echo(f"  {name:<13} → {reasons}")
    ok = verdict.accepted and refused == len(cases)
    click.secho(
        f"\n{'✔ demo passed' if ok else '✘ demo failed'}: files in {directory}", fg="green" if ok else "red"
    )
    return 0 if ok else 1


@click.command()
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False), help="Keep the files here (default: a temp dir)."
)
def demo(directory: str | None) -> None:
    """Run the demonstration: keys, trust configuration, a signed record, refusals with reason codes.

    \b
    Example:
      jgx demo
      jgx demo --dir demo-run
    """
    now = datetime.now(UTC)
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        raise SystemExit(run_foundation_demo(Path(directory), now))
    with tempfile.TemporaryDirectory(prefix="jgx-demo-") as tmp:
        raise SystemExit(run_foundation_demo(Path(tmp), now))

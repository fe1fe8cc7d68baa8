"""A replica that dies holding claimed outbox rows gives them up after the configured lease (seconds)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import ConfigError, parse_config
from gateway.delivery import DeliveryPolicy
from gateway.storage.postgres import PostgresStore
from tests.gateway.storage.conftest import NOW, entry
from tests.gateway.storage.pgschema import fresh_schema


def _policy(tmp_path: Path, table: str) -> DeliveryPolicy:
    text = f'node_id = "sc.hub"\n[delivery]\n{table}'
    return DeliveryPolicy.from_config(parse_config(text, directory=tmp_path).delivery)


def test_the_lease_and_the_call_timeout_come_from_jgx_toml(tmp_path: Path) -> None:
    """[delivery] lease_seconds and call_timeout_seconds set the claim lease; the default lease is 15 s."""
    configured = _policy(tmp_path, "call_timeout_seconds = 2\nlease_seconds = 3\n")
    assert ((2.0, 3.0), 15.0) == ((configured.timeout, configured.lease), _policy(tmp_path, "").lease)


def test_a_lease_not_longer_than_a_call_is_refused(tmp_path: Path) -> None:
    """A lease that a live delivery call could outlast is a configuration error, named by its key."""
    with pytest.raises(ConfigError, match=r"delivery\.lease_seconds"):
        _policy(tmp_path, "call_timeout_seconds = 10\nlease_seconds = 10\n")


@pytest.mark.postgres
async def test_a_dead_replicas_rows_are_taken_over_when_its_lease_ends(tmp_path: Path) -> None:
    """Rows claimed by a replica that then dies are claimable by another replica at claim time + lease."""
    lease = _policy(tmp_path, "call_timeout_seconds = 1\nlease_seconds = 2\n").lease
    async with fresh_schema() as url:
        dying, survivor = PostgresStore(url), PostgresStore(url)
        await asyncio.gather(dying.open(), survivor.open())
        try:
            await dying.append([entry(n, sender=f"dept-{n}", outbox=("cn.national",)) for n in range(3)])
            claimed_at = NOW + timedelta(minutes=1)  # every row is due
            held = await dying.claim_due(now=claimed_at, limit=10, lease_seconds=lease, worker="replica-a")
            await dying.close()  # the replica dies holding its claims
            ends = claimed_at + timedelta(seconds=lease)
            early = await survivor.claim_due(
                now=ends - timedelta(milliseconds=1), limit=10, lease_seconds=lease, worker="replica-b"
            )
            taken = await survivor.claim_due(now=ends, limit=10, lease_seconds=lease, worker="replica-b")
        finally:
            await survivor.close()
    assert ([], 3) == (early, len(held))
    assert sorted(item.id for item in held) == sorted(item.id for item in taken)
    assert {2} == {item.attempts for item in taken}

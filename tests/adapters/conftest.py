"""Shared fixtures: a federation with real keys, an adapter on a real socket, a stand-in hub."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from adapters.sdk import (
    AdapterIdentity,
    AdapterServicer,
    AdapterStore,
    Department,
    Handling,
    Record,
    StandardClaim,
    WorkItem,
    serve_adapter,
)
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.testing import Federation

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


class TaskDesk:
    """A minimal department: two SC-06 records to export; claims every delivered SC-14 task."""

    def __init__(self, *, fail: bool = False, claim: bool = True) -> None:
        self.fail = fail
        self.claim = claim
        self.delivered: list[exchange_pb2.Message] = []

    def claims(self) -> Sequence[StandardClaim]:
        return [StandardClaim("SC-06", "1.0.0"), StandardClaim("SC-14", "1.0.0")]

    def export(self, standard: str) -> Iterable[Record]:
        if standard != "SC-06":
            return []
        return [
            Record("SC-06", "1.0.0", f"CF-{n}", {"punishDocumentCode": f"川市监罚〔2026〕{n}号"})
            for n in (1, 2)
        ]

    def handle_delivered(self, message: exchange_pb2.Message, *, now: datetime) -> Handling:
        if self.fail:
            raise RuntimeError("mapping bug")
        self.delivered.append(message)
        task = json.loads(message.payload)
        item = WorkItem(message.correlation_id, message.standard, message.sender, message.message_id, now)
        claim = Record(
            message.standard, message.standard_version, message.correlation_id,
            {"taskNo": task.get("taskNo", ""), "status": "认领"}, recipient=message.sender,
            correlation_id=message.correlation_id, action="claim", in_reply_to=message.message_id,
        )  # fmt: skip
        return Handling((item,), (claim,) if self.claim else ())


@pytest.fixture(scope="session")
def fed() -> Federation:
    return Federation.create(NOW)


def make_servicer(fed: Federation, path: Path, department: Department | None = None) -> AdapterServicer:
    return AdapterServicer(
        identity=AdapterIdentity("sc.amr", fed.keys["sc.amr"], "amr-adapter", "1.2.3", "ab" * 32),
        trust=fed.trust,
        department=department or TaskDesk(),
        store=AdapterStore(path),
        clock=lambda: NOW,
    )


@pytest.fixture
def servicer(fed: Federation, tmp_path: Path) -> AdapterServicer:
    return make_servicer(fed, tmp_path / "adapter.sqlite")


@pytest.fixture
async def adapter_channel(servicer: AdapterServicer) -> AsyncIterator[grpc.aio.Channel]:
    async with (
        serve_adapter(servicer) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
    ):
        yield channel

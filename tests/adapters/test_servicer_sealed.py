"""Deliver with sealed values (wire.md §12.7) over real gRPC and SM2 keys: the adapter opens what is sealed
for its key before its department sees it, refuses one that does not open, leaves another key's sealed."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from adapters.sdk import serve_adapter
from gateway.keys import Algorithm
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.sealed_records import seal_payload
from gateway.testing import Federation
from tests.adapters.conftest import NOW, TaskDesk, make_servicer
from tests.adapters.test_servicer import deliver, receipt_of

PARTY_ID = "510104199001011230"


@pytest.fixture(scope="module")
def sm2() -> Federation:
    return Federation.create(NOW, algorithm=Algorithm.SM2_SM3)


@pytest.fixture
async def served(sm2: Federation, tmp_path: Path) -> AsyncIterator[tuple[grpc.aio.Channel, TaskDesk]]:
    desk = TaskDesk()
    servicer = make_servicer(sm2, tmp_path / "adapter.sqlite", desk)
    async with (
        serve_adapter(servicer) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
    ):
        yield channel, desk


def _task(fed: Federation, *, for_node: str = "sc.amr", spoil: bool = False) -> bytes:
    """cn.national's SC-14 dispatch to sc.amr, the party's number sealed for `for_node`'s key."""
    payload: dict[str, Any] = {"taskNo": "lhjg1", "partyIdType": "111", "partyIdCode": PARTY_ID}
    message = fed.message(
        "cn.national", for_node, standard="SC-14", payload=payload, correlation_id="lhjg1", action="dispatch"
    )
    message.payload = seal_payload(message, ["/partyIdCode"], fed.trust)
    message.recipient = "sc.amr"
    if spoil:  # one bit of the ciphertext flipped: the hub cannot tell, the recipient can
        record = json.loads(message.payload)
        ct = bytearray(base64.b64decode(record["partyIdCode"]["ct"]))
        ct[0] ^= 1
        record["partyIdCode"]["ct"] = base64.b64encode(bytes(ct)).decode()
        message.payload = json.dumps(record).encode()
    return fed.envelope(message)


async def test_the_department_sees_the_value_sealed_for_its_adapter_opened(
    served: tuple[grpc.aio.Channel, TaskDesk], sm2: Federation
) -> None:
    channel, desk = served
    data = _task(sm2)
    receipt = receipt_of(sm2, await deliver(channel, data), data)
    assert exchange_pb2.OUTCOME_ACCEPTED == receipt.outcome
    assert PARTY_ID == json.loads(desk.delivered[0].payload)["partyIdCode"]


async def test_a_sealed_value_that_does_not_open_is_refused_malformed(
    served: tuple[grpc.aio.Channel, TaskDesk], sm2: Federation
) -> None:
    channel, desk = served
    data = _task(sm2, spoil=True)
    receipt = receipt_of(sm2, await deliver(channel, data), data)
    assert (exchange_pb2.OUTCOME_REJECTED, ["MALFORMED"], []) == (
        receipt.outcome, list(receipt.reason_codes), desk.delivered
    )


async def test_a_value_sealed_for_another_key_stays_sealed(
    served: tuple[grpc.aio.Channel, TaskDesk], sm2: Federation
) -> None:
    """Without a validator (no step 8 key check) the adapter still never mistakes another key's value."""
    channel, desk = served
    data = _task(sm2, for_node="sc.hub")
    receipt = receipt_of(sm2, await deliver(channel, data), data)
    assert exchange_pb2.OUTCOME_ACCEPTED == receipt.outcome
    assert "jgx:sealed" in json.loads(desk.delivered[0].payload)["partyIdCode"]

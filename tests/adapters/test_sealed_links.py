"""Sealed fields (wire.md §12) beyond the hub's step 8, over real sockets with real SM2 keys: the SDK client
judges a sealed record as the hub does, an adapter opens what Deliver brings it, and the 川渝 link sends the
party's identity number sealed for the partner end to end."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import standards
from adapters.demo import demo_departments, samples
from adapters.demo.network import LoopbackNetwork, default_validator
from adapters.links.chuanyu import ChongqingPlatform, transfer
from adapters.links.inbox import Inbox
from adapters.sdk import HubClient, LocallyRefused, Record, seal_record
from gateway import sealing
from gateway.errors import ReasonCode
from gateway.keys import Algorithm
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.sealed_records import message_aad
from tests.adapters.test_links import until

CLUE = "CY-XS-SEAL-0001"
PARTY_ID = "510106197811204521"  # samples.clue's party
DISPATCH = Path(standards.__file__).parent / "data/SC-13/1.0.0/fixtures/good/dispatch.json"
DISPATCH_ID = "500103198808080314"


@pytest.fixture
async def network(tmp_path: Path) -> AsyncIterator[LoopbackNetwork]:
    """The federation on loopback with SM2 keys throughout (sealing needs the recipient's SM2 key)."""
    net = LoopbackNetwork.create(
        tmp_path, demo_departments(), now=datetime.now(UTC), validate=default_validator(),
        algorithm=Algorithm.SM2_SM3,
    )  # fmt: skip
    await net.start()
    yield net
    await net.stop()


@pytest.fixture
async def chongqing(network: LoopbackNetwork) -> AsyncIterator[ChongqingPlatform]:
    gateway = network.gateways["cq.hub"]
    platform = ChongqingPlatform(
        node_id="cq.hub", key=network.key("cq.hub"), hub=network.client("cq.hub"),
        inbox=Inbox("cq.hub", lambda: gateway.store),
    )  # fmt: skip
    yield platform
    await platform.hub.close()


def _clue_for_partner() -> dict[str, Any]:
    return dict(standards.mask(json.loads(DISPATCH.read_bytes()), "partner", standard="SC-13"))


def _sealed_envelope(network: LoopbackNetwork, seal: tuple[str, ...], *, for_node: str = "cq.hub") -> bytes:
    """An SC-13 clue from sc.amr to cq.hub, `seal` sealed for `for_node`'s SM2 key, signed by sc.amr."""
    payload, trust = _clue_for_partner(), network.trust
    if for_node != "cq.hub":  # sealed for the wrong node: seal for it, then readdress the message to cq.hub
        other = Record("SC-13", "1.0.0", "CY-1", payload, recipient=for_node, action="dispatch", seal=seal)
        message, _ = seal_record(
            other, sender="sc.amr", key=network.key("sc.amr"), default_recipient=for_node,
            now=datetime.now(UTC), trust=trust,
        )  # fmt: skip
        payload = json.loads(message.payload)
        seal = ()
    record_ = Record("SC-13", "1.0.0", "CY-1", payload, recipient="cq.hub", action="dispatch", seal=seal)
    _, envelope = seal_record(
        record_, sender="sc.amr", key=network.key("sc.amr"), default_recipient="cq.hub",
        now=datetime.now(UTC), trust=trust,
    )  # fmt: skip
    return envelope


async def test_the_client_judges_a_sealed_record_as_the_hub_does(network: LoopbackNetwork) -> None:
    """Sealed party number: accepted locally and by the hub. Sealed non-personal field, or a value sealed
    for a key the recipient does not hold: refused locally with the reason code the hub's receipt carries."""
    plain = network.client("sc.amr")
    checking = HubClient(
        network.gateways["sc.hub"].address, trust=network.trust, credentials=network.tls["sc.amr"].channel(),
        check_locally=True,
    )  # fmt: skip
    try:
        good = _sealed_envelope(network, ("/partyIdCode",))
        assert plain.check(good).accepted
        assert (await checking.submit(good)).accepted
        for bad in (
            _sealed_envelope(network, ("/illegalFact",)),
            _sealed_envelope(network, ("/partyIdCode",), for_node="sc.hub"),
        ):
            local = plain.check(bad)
            with pytest.raises(LocallyRefused) as refused:
                await checking.submit(bad)
            hub = await plain.submit(bad)
            assert (ReasonCode.MALFORMED, ("MALFORMED",)) == (local.reason, hub.reason_codes)
            assert refused.value.reason == ReasonCode.MALFORMED
    finally:
        await checking.close()
        await plain.close()


async def test_an_adapter_opens_what_deliver_brings_it_with_its_own_key(network: LoopbackNetwork) -> None:
    """cq.hub sends sc.amr a clue with the party's number sealed for sc.amr; the hub delivers it over gRPC,
    the adapter opens it with its SM2 key and its department reads the number; the adapter keeps only the
    ciphertext in its own store."""
    client = network.client("cq.hub")
    record = json.loads(DISPATCH.read_bytes())
    try:
        clue = Record(
            "SC-13", "1.0.0", "CY-XS-IN-0001", record, recipient="sc.amr", correlation_id="CY-XS-IN-0001",
            action="dispatch", seal=("/partyIdCode",),
        )  # fmt: skip
        message, envelope = seal_record(
            clue, sender="cq.hub", key=network.key("cq.hub"), default_recipient="sc.amr",
            now=datetime.now(UTC), trust=network.trust,
        )  # fmt: skip
        assert DISPATCH_ID.encode() not in envelope
        assert (await client.submit(envelope)).accepted
    finally:
        await client.close()
    desk: Any = network.departments["sc.amr"].department

    async def handled() -> bool:
        return "CY-XS-IN-0001" in desk.tasks

    assert await until(handled)
    assert DISPATCH_ID == json.loads(desk.tasks["CY-XS-IN-0001"].payload)["partyIdCode"]
    kept = network.departments["sc.amr"].store.dispatches()
    assert kept
    assert all(DISPATCH_ID.encode() not in m for m in kept)
    aad = message_aad(message)
    assert DISPATCH_ID == sealing.open_fields(
        json.loads(message.payload), network.key("sc.amr"), aad=aad
    )["partyIdCode"]


async def test_the_chuanyu_link_seals_the_party_number_for_the_partner_end_to_end(
    network: LoopbackNetwork, chongqing: ChongqingPlatform
) -> None:
    """Transfer with /partyIdCode sealed: the hub accepts it having validated the clear fields, its log holds
    only the ciphertext, and the Chongqing platform opens the number with its own key."""
    amr = network.departments["sc.amr"]
    transfer(amr.servicer, samples.clue(amr.servicer.clock(), CLUE), seal=("/partyIdCode",))
    arrival = await chongqing.wait_for_clue(CLUE, timeout=60.0)
    assert PARTY_ID.encode() not in arrival.message.payload
    assert ["/partyIdCode"] == sealing.sealed_pointers(json.loads(arrival.message.payload))
    opened = chongqing.record(arrival)
    assert (PARTY_ID, "138****5678") == (opened["partyIdCode"], opened["contactPhone"])
    assert chongqing.masked_as_required(arrival)
    assert PARTY_ID == chongqing.partner_view(arrival)["dsrzjhm"]
    hub = network.gateways["sc.hub"].store
    assert hub is not None
    logged = []
    for index in range(64):
        entry = await hub.message(index)
        if entry is None:
            break
        logged.append(entry)
    clue = [e for e in logged if e.sender == "sc.amr" and CLUE.encode() in (e.envelope or b"")]
    assert [exchange_pb2.OUTCOME_ACCEPTED] == [e.outcome for e in clue]
    assert all(PARTY_ID.encode() not in (e.envelope or b"") for e in logged)


async def test_a_transfer_the_hub_would_refuse_is_refused_before_signing(network: LoopbackNetwork) -> None:
    """Sealing a field SC-20 does not class as personal is refused by the link itself, nothing queued."""
    amr = network.departments["sc.amr"]
    with pytest.raises(LocallyRefused) as refused:
        transfer(amr.servicer, samples.clue(amr.servicer.clock(), CLUE), seal=("/illegalFact",))
    assert (ReasonCode.MALFORMED, []) == (refused.value.reason, amr.store.pending())

"""The Exchange service over real gRPC sockets on 127.0.0.1 with a real SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway import merkle
from gateway.checkpoint import verify_checkpoint
from gateway.dsse import RECEIPT_TYPE
from gateway.envelope import seal
from gateway.hub import Hub
from gateway.keys import generate_key
from gateway.logbook import log_origin, log_verifier
from gateway.pb.jgx.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from gateway.policy import LocalLimits
from gateway.receipts import verify_receipt
from gateway.server import Server
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from gateway.treehash import SHA256

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
SUBMIT_STREAM = "/jgx.exchange.v1.Exchange/SubmitStream"


@dataclass
class Node:
    """A running hub and a client channel to it."""

    fed: Federation
    server: Server
    channel: grpc.aio.Channel
    stub: exchange_pb2_grpc.ExchangeStub
    port: int

    async def submit(self, data: bytes) -> exchange_pb2.Receipt:
        """Submit the exact bytes ``data``; return the receipt, verified offline with the trust config."""
        call = self.channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
        response = await call(data)
        return verify_receipt(response.receipt, self.fed.trust, issuer="sc.hub", now=NOW)


async def start_node(
    fed: Federation, path: Path, limits: LocalLimits | None = None, **server_options: int
) -> Node:
    """A hub on the SQLite file ``path`` served on an ephemeral loopback port."""
    store = SqliteStore(path)
    await store.open()
    hub = Hub(
        node_id="sc.hub",
        key=fed.keys["sc.hub"],
        trust=fed.trust,
        store=store,
        clock=lambda: NOW,
        limits=limits,
    )
    await hub.start()
    server = Server(hub, **server_options)
    port = server.add_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    return Node(fed, server, channel, exchange_pb2_grpc.ExchangeStub(channel), port)


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    """A running node with a fresh federation; stopped gracefully after the test."""
    running = await start_node(Federation.create(NOW), tmp_path / "hub.db")
    yield running
    await running.channel.close()
    await running.server.stop(grace=1)
    await running.server.hub.store.close()


def _bad(fed: Federation) -> dict[str, Callable[[], bytes]]:
    def with_message(**fields: object) -> bytes:
        return fed.envelope(fed.message("sc.amr", "sc.hub", **fields))

    def tampered() -> bytes:
        env = exchange_pb2.Envelope.FromString(with_message())
        env.body = env.body[:-1] + bytes([env.body[-1] ^ 1])
        return env.SerializeToString()

    def unsigned() -> bytes:
        env = exchange_pb2.Envelope.FromString(with_message())
        del env.signatures[:]
        return env.SerializeToString()

    def wrong_type() -> bytes:
        env = exchange_pb2.Envelope.FromString(with_message())
        return seal(env.body, RECEIPT_TYPE, [fed.keys["sc.amr"]]).SerializeToString()

    return {
        "tampered": tampered,
        "unsigned": unsigned,
        "wrong_type": wrong_type,
        "unknown_key": lambda: fed.envelope(fed.message("sc.amr", "sc.hub"), key=generate_key()),
        "other_nodes_key": lambda: fed.envelope(fed.message("sc.amr", "sc.hub"), key=fed.keys["sc.sjs"]),
        "expired": lambda: with_message(issued_at=NOW - timedelta(hours=2)),
        "future": lambda: with_message(issued_at=NOW + timedelta(hours=1)),
        "misaddressed": lambda: fed.envelope(fed.message("sc.amr", "nobody.here")),
        "acl": lambda: fed.envelope(fed.message("sc.sjs", "sc.hub", standard="SC-06")),
        "bad_header": lambda: with_message(batch_id="2026"),
    }


RECEIPTED_REJECTIONS = [
    ("tampered", "SIGNATURE_INVALID"),
    ("unsigned", "SIGNATURE_MISSING"),
    ("wrong_type", "PAYLOAD_TYPE_UNKNOWN"),
    ("unknown_key", "KEY_UNKNOWN"),
    ("other_nodes_key", "SENDER_KEY_MISMATCH"),
    ("expired", "EXPIRED"),
    ("future", "NOT_YET_VALID"),
    ("misaddressed", "NOT_ADDRESSED_TO_US"),
    ("acl", "ACL_DENIED"),
    ("bad_header", "MALFORMED"),
]


async def test_a_signed_record_gets_a_receipt_that_verifies_offline(node: Node) -> None:
    """A department's signed record is accepted; the receipt verifies with the hub key of the trust config."""
    data = node.fed.envelope(node.fed.message("sc.amr", "sc.hub", message_id="rec-1"))
    receipt = await node.submit(data)
    assert (exchange_pb2.OUTCOME_ACCEPTED, "rec-1", 0) == (
        receipt.outcome,
        receipt.message_id,
        receipt.log_index,
    )


@pytest.mark.parametrize(("case", "reason"), RECEIPTED_REJECTIONS)
async def test_bad_envelopes_are_receipted_with_their_reason(node: Node, case: str, reason: str) -> None:
    """Each kind of bad envelope over the wire is logged and receipted as rejected with its reason code."""
    receipt = await node.submit(_bad(node.fed)[case]())
    assert (exchange_pb2.OUTCOME_REJECTED, [reason]) == (receipt.outcome, list(receipt.reason_codes))
    assert 1 == await node.server.hub.store.size()


@pytest.mark.parametrize("data", [b"\xff\x00garbage\x01", b"\x0a\x05abc"])
async def test_unparseable_envelopes_get_a_status_with_error_info(node: Node, data: bytes) -> None:
    """Bytes that are no Envelope get INVALID_ARGUMENT carrying ErrorInfo(reason=MALFORMED), and no leaf."""
    call = node.channel.unary_unary(SUBMIT)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call(data)
    info = _error_info(raised.value)
    assert (grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED") == (raised.value.code(), info.reason)
    assert 0 == await node.server.hub.store.size()


def _error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    from google.rpc import status_pb2  # type: ignore[import-untyped]

    raw = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")
    assert isinstance(raw, bytes)
    status = status_pb2.Status.FromString(raw)
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    return info


async def test_a_duplicate_over_the_wire_returns_the_original_receipt(node: Node) -> None:
    """Sending the same envelope twice answers twice with the same receipt (same log index)."""
    data = node.fed.envelope(node.fed.message("sc.amr", "sc.hub"))
    first, second = await node.submit(data), await node.submit(data)
    assert first == second


async def test_a_resend_gets_the_original_receipt_with_the_original_outcome(node: Node) -> None:
    """An exact resend of a refused (ACL) envelope gets the same receipt bytes: REJECTED, not DUPLICATE."""
    call = node.channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
    data = node.fed.envelope(node.fed.message("sc.sjs", "sc.hub", standard="SC-06"))
    first, second = await call(data), await call(data)
    receipt = verify_receipt(second.receipt, node.fed.trust, issuer="sc.hub", now=NOW)
    leaves = await node.server.hub.store.messages(0, 2)
    assert first.receipt.SerializeToString() == second.receipt.SerializeToString()
    assert (exchange_pb2.OUTCOME_REJECTED, ["ACL_DENIED"]) == (receipt.outcome, list(receipt.reason_codes))
    assert [exchange_pb2.OUTCOME_REJECTED, exchange_pb2.OUTCOME_DUPLICATE] == [r.outcome for r in leaves]


async def test_a_resend_of_bytes_refused_before_step_6_is_judged_again(node: Node) -> None:
    """Bytes refused at step 5 consumed no id: a resend gets a receipt of its own, for its own leaf."""
    data = node.fed.envelope(node.fed.message("sc.amr", "sc.hub"), key=node.fed.keys["sc.sjs"])
    first, second = await node.submit(data), await node.submit(data)
    assert ["SENDER_KEY_MISMATCH"] == list(first.reason_codes) == list(second.reason_codes)
    assert (0, 1) == (first.log_index, second.log_index)


async def test_a_stream_answers_in_order(node: Node) -> None:
    """SubmitStream returns one receipt per envelope, in the order sent, including rejections."""
    fed = node.fed
    envelopes = [fed.envelope(fed.message("sc.amr", "sc.hub", message_id=f"s-{n}")) for n in range(40)]
    envelopes[7] = fed.envelope(fed.message("sc.amr", "sc.hub", message_id="s-7"), key=fed.keys["sc.sjs"])
    call = node.channel.stream_stream(
        SUBMIT_STREAM, response_deserializer=exchange_pb2.SubmitResponse.FromString
    )
    receipts = [
        verify_receipt(r.receipt, fed.trust, issuer="sc.hub", now=NOW) async for r in call(iter(envelopes))
    ]
    assert [f"s-{n}" for n in range(40)] == [r.message_id for r in receipts]
    assert ["SENDER_KEY_MISMATCH"] == list(receipts[7].reason_codes)


async def test_a_slow_reader_does_not_make_the_node_buffer_without_bound(tmp_path: Path) -> None:
    """A client that stops reading receipts stalls only its own stream; the node keeps serving others."""
    fed = Federation.create(NOW)
    node = await start_node(fed, tmp_path / "hub.db", max_in_flight=4)
    total = 1500
    envelopes = [fed.envelope(fed.message("sc.amr", "sc.hub", message_id=f"f-{n}")) for n in range(total)]
    # No BDP probing: the HTTP/2 windows stay at their defaults instead of growing to swallow the stream.
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{node.port}", options=[("grpc.http2.bdp_probe", 0)])
    try:
        call = channel.stream_stream(SUBMIT_STREAM)
        stream = call(iter(envelopes))
        store = node.server.hub.store
        sizes = [-1]
        while True:  # wait until the log stops growing while nobody reads the receipts
            await asyncio.sleep(0.2)
            sizes.append(await store.size())
            if sizes[-1] == sizes[-2] == sizes[-3]:
                break
        stalled = sizes[-1]
        # Another client is served while the stalled stream waits.
        other = await node.submit(fed.envelope(fed.message("sc.amr", "sc.hub", message_id="other")))
        answered = [r async for r in stream]
    finally:
        await channel.close()
        await node.channel.close()
        await node.server.stop(grace=1)
        await node.server.hub.store.close()
    assert stalled < total
    assert exchange_pb2.OUTCOME_ACCEPTED == other.outcome
    assert total == len(answered)


async def test_proofs_from_the_server_verify_against_its_checkpoint(node: Node) -> None:
    """An inclusion proof by message id and a consistency proof verify against signed checkpoints."""
    fed = node.fed
    verifier = log_verifier("sc.hub", fed.trust.nodes["sc.hub"].keys[0].public_key)
    for n in range(5):
        await node.submit(fed.envelope(fed.message("sc.amr", "sc.hub", message_id=f"p-{n}")))
    first = verify_checkpoint((await node.stub.GetCheckpoint(exchange_pb2.GetCheckpointRequest())).note,
                              log_origin("sc.hub"), [verifier])  # fmt: skip
    for n in range(5, 12):
        await node.submit(fed.envelope(fed.message("sc.amr", "sc.hub", message_id=f"p-{n}")))
    proof = await node.stub.GetInclusionProof(
        exchange_pb2.GetInclusionProofRequest(message_id="p-9", sender="sc.amr")
    )
    second = verify_checkpoint(proof.checkpoint.note, log_origin("sc.hub"), [verifier])
    merkle.verify_inclusion(
        proof.leaf_hash, proof.log_index, second.size, list(proof.hashes), second.root_hash
    )
    consistency = await node.stub.GetConsistencyProof(
        exchange_pb2.GetConsistencyProofRequest(first_size=first.size, second_size=second.size)
    )
    merkle.verify_consistency(
        first.size, second.size, list(consistency.hashes), first.root_hash, second.root_hash
    )
    assert (5, 12, 9) == (first.size, second.size, proof.log_index)
    assert merkle.leaf_hash(proof.leaf) == proof.leaf_hash


async def test_trace_follows_a_correlation_id(node: Node) -> None:
    """Trace by correlation id lists every logged message of the lifecycle, in log order."""
    fed = node.fed
    for n, action in enumerate(("dispatch", "claim")):
        message = fed.message("sc.amr", "sc.hub", message_id=f"t-{n}", correlation_id="TASK-1", action=action)
        await node.submit(fed.envelope(message))
    response = await node.stub.Trace(exchange_pb2.TraceRequest(correlation_id="TASK-1"))
    assert [("t-0", "dispatch"), ("t-1", "claim")] == [(e.message_id, e.action) for e in response.events]


async def test_health_and_reflection_are_served(node: Node) -> None:
    """Health reports SERVING for the Exchange service, and reflection lists the services."""
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    health = health_pb2_grpc.HealthStub(node.channel)
    response = await health.Check(health_pb2.HealthCheckRequest(service="jgx.exchange.v1.Exchange"))
    reflection = reflection_pb2_grpc.ServerReflectionStub(node.channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    [listed] = [r async for r in reflection.ServerReflectionInfo(iter([request]))]
    services = {s.name for s in listed.list_services_response.service}
    assert health_pb2.HealthCheckResponse.SERVING == response.status
    assert {"jgx.exchange.v1.Exchange", "grpc.health.v1.Health"} <= services


async def test_over_mtls_the_certificate_must_match_the_sender(tmp_path: Path) -> None:
    """With mTLS, sc.amr's certificate may carry sc.amr's envelopes but not sc.sjs's (IDENTITY_MISMATCH)."""
    from gateway import tls
    from gateway.pki import create_ca, issue_node_certificate

    fed = Federation.create(NOW)
    wall = datetime.now(UTC)  # TLS checks certificates against the real clock
    ca_cert, ca_key = create_ca("jgx test CA", wall)
    hub_cert, hub_key = issue_node_certificate(ca_cert, ca_key, "sc.hub", now=wall)
    amr_cert, amr_key = issue_node_certificate(ca_cert, ca_key, "sc.amr", now=wall)
    store = SqliteStore(tmp_path / "hub.db")
    await store.open()
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, clock=lambda: NOW)
    await hub.start()
    server = Server(hub, peer_node=tls.peer_node_id)
    port = server.add_port("127.0.0.1:0", tls.server_credentials(hub_cert, hub_key, ca_cert))
    await server.start()
    credentials = tls.channel_credentials(amr_cert, amr_key, ca_cert)
    try:
        async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
            call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
            own = await call(fed.envelope(fed.message("sc.amr", "sc.hub")))
            other = await call(fed.envelope(fed.message("sc.sjs", "sc.hub", standard="SC-09")))
    finally:
        await server.stop(grace=1)
        await store.close()
    own_receipt = verify_receipt(own.receipt, fed.trust, issuer="sc.hub", now=NOW)
    other_receipt = verify_receipt(other.receipt, fed.trust, issuer="sc.hub", now=NOW)
    assert exchange_pb2.OUTCOME_ACCEPTED == own_receipt.outcome
    assert ["IDENTITY_MISMATCH"] == list(other_receipt.reason_codes)


async def test_mangled_envelopes_never_crash_the_node(node: Node) -> None:
    """Bit-flipped and truncated envelopes get a receipt or a typed status, never an internal error."""
    import random

    good = node.fed.envelope(node.fed.message("sc.amr", "sc.hub"))
    rng = random.Random(7)
    call = node.channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
    outcomes = set()
    for _ in range(60):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        mangled = bytes(data[: rng.randint(1, len(data))]) if rng.random() < 0.3 else bytes(data)
        try:
            response = await call(mangled)
            receipt = verify_receipt(response.receipt, node.fed.trust, issuer="sc.hub", now=NOW)
            outcomes.add(exchange_pb2.Outcome.Name(receipt.outcome))
        except grpc.aio.AioRpcError as error:
            outcomes.add(_error_info(error).reason)
    assert outcomes <= {"OUTCOME_ACCEPTED", "OUTCOME_REJECTED", "OUTCOME_DUPLICATE", "MALFORMED", "TOO_LARGE"}
    assert (
        exchange_pb2.OUTCOME_ACCEPTED
        == (await node.submit(node.fed.envelope(node.fed.message("sc.amr", "sc.hub")))).outcome
    )


class GatedStore(SqliteStore):
    """A SQLite store whose appends wait for a gate: calls stay in flight until the test opens it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def append(self, entries):  # type: ignore[no-untyped-def]
        self.waiting.set()
        await self.gate.wait()
        return await super().append(entries)


async def test_graceful_shutdown_drains_in_flight_calls(tmp_path: Path) -> None:
    """Calls in flight when the node is told to stop still get their receipts, logged and checkpointed."""
    fed = Federation.create(NOW)
    store = GatedStore(tmp_path / "hub.db")
    await store.open()
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, clock=lambda: NOW)
    await hub.start()
    server = Server(hub)
    port = server.add_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
    envelopes = [fed.envelope(fed.message("sc.amr", "cn.national", message_id=f"g-{n}")) for n in range(20)]
    calls = [asyncio.ensure_future(call(data)) for data in envelopes]
    await store.waiting.wait()  # at least one call is inside the node, held before its leaf is written
    stopping = asyncio.ensure_future(server.stop(grace=10))
    await asyncio.sleep(0.1)
    store.gate.set()
    await stopping
    results = await asyncio.gather(*calls, return_exceptions=True)
    receipted = [
        verify_receipt(r.receipt, fed.trust, issuer="sc.hub", now=NOW)
        for r in results
        if isinstance(r, exchange_pb2.SubmitResponse)
    ]
    refused = [r.code() for r in results if isinstance(r, grpc.aio.AioRpcError)]
    logged = {(await store.message(r.log_index)).message_id for r in receipted}  # type: ignore[union-attr]
    latest, size = await store.latest_checkpoint(), await store.size()
    await channel.close()
    await store.close()
    assert receipted
    assert {r.message_id for r in receipted} == logged
    # Calls that reached the node before it stopped are answered; later ones are refused by gRPC.
    assert set(refused) <= {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}
    assert 20 == len(receipted) + len(refused)
    assert len(receipted) == size  # every call the node took is answered: none was cut off mid-way
    assert latest is not None
    assert size == latest.size  # the last checkpoint covers everything logged


async def test_an_empty_log_serves_a_signed_checkpoint_of_size_zero(node: Node) -> None:
    """Before its first leaf a node answers GetCheckpoint with size 0 and the empty root, signed."""
    fed = node.fed
    verifier = log_verifier("sc.hub", fed.trust.nodes["sc.hub"].keys[0].public_key)
    answer = await node.stub.GetCheckpoint(exchange_pb2.GetCheckpointRequest())
    checkpoint = verify_checkpoint(answer.note, log_origin("sc.hub"), [verifier])
    await node.submit(fed.envelope(fed.message("sc.amr", "sc.hub")))
    grown = await node.stub.GetCheckpoint(exchange_pb2.GetCheckpointRequest())
    assert (0, merkle.EMPTY_ROOT, 0, merkle.EMPTY_ROOT) == (
        checkpoint.size, checkpoint.root_hash, answer.size, answer.root_hash
    )
    assert 1 == verify_checkpoint(grown.note, log_origin("sc.hub"), [verifier]).size


def test_the_checkpoint_vectors_use_the_origin_the_node_signs() -> None:
    """tests/vectors/checkpoint's origin is the node's log origin, and a node signs the vector's notes."""
    import json

    from cryptography.hazmat.primitives.asymmetric import ed25519

    from gateway.keys import Ed25519PrivateKey
    from gateway.logbook import LogSigner

    vectors = Path(__file__).resolve().parents[1] / "vectors" / "checkpoint" / "signed.json"
    signed = json.loads(vectors.read_text(encoding="utf-8"))
    seed = bytes.fromhex(signed["ed25519_seed"])
    key = Ed25519PrivateKey(ed25519.Ed25519PrivateKey.from_private_bytes(seed))
    signer = LogSigner.for_key("sc.hub", key, SHA256)
    empty = signed["empty_log"]
    assert (log_origin("sc.hub"), log_origin("sc.hub")) == (signed["origin"], signer.origin)
    assert signed["note"] == signer.sign(signed["size"], bytes.fromhex(signed["root_hash"]))
    assert empty["note"] == signer.sign(0, merkle.EMPTY_ROOT)


@pytest.mark.parametrize("algorithm", ["ecdsa-p256-sha256", "sm2-sm3"])
async def test_a_hub_of_any_algorithm_signs_checkpoints_its_trust_key_verifies(
    tmp_path: Path, algorithm: str
) -> None:
    """A P-256 or SM2 hub keeps a log: its checkpoints verify with the key the trust configuration holds."""
    from gateway.keys import Algorithm

    fed = Federation.create(NOW, algorithm=Algorithm(algorithm))
    store = SqliteStore(tmp_path / "hub.db")
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, clock=lambda: NOW)
    note = hub.signer.sign(0, merkle.EMPTY_ROOT)
    verifier = log_verifier("sc.hub", fed.trust.node("sc.hub").keys[0].public_key)
    assert 0 == verify_checkpoint(note, log_origin("sc.hub"), [verifier]).size

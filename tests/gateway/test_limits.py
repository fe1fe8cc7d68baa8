"""Resource limits of the gRPC listener (``[connections]`` of jgx.toml) and typed answers to garbage:
every Exchange RPC answers INVALID_ARGUMENT / MALFORMED to what it cannot read, never UNKNOWN."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status

from gateway.config import ConfigError, Connections, default_config, parse_config, render_config
from gateway.hub import Hub
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.server import Server
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation

EXCHANGE = "/jgx.exchange.v1.Exchange/"
ex = exchange_pb2
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS, SETTINGS_ACK = bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]), bytes([0, 0, 0, 4, 1, 0, 0, 0, 0])
GOAWAY = 7


@dataclass
class Node:
    fed: Federation
    server: Server
    port: int


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[object]:
    """A factory of hubs served on loopback with the given ``[connections]``; all stopped afterwards."""
    running: list[tuple[Server, SqliteStore]] = []

    async def make(connections: Connections) -> Node:
        fed = Federation.create(datetime.now(UTC))
        store = SqliteStore(tmp_path / f"hub{len(running)}.db")
        await store.open()
        hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store)
        await hub.start()
        server = Server(hub, connections=connections)
        port = server.add_port("127.0.0.1:0")
        await server.start()
        running.append((server, store))
        return Node(fed, server, port)

    yield make
    for server, store in running:
        await server.stop(grace=0)
        await store.close()


def _reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    info = error_details_pb2.ErrorInfo()
    assert status is not None
    assert status.details[0].Unpack(info)
    return str(info.reason)


GARBAGE = [
    ("Trace", b"\xff\xff\xff\xff"),
    ("Trace", ex.TraceRequest().SerializeToString()),
    ("Trace", ex.TraceRequest(message_id="a\x00b").SerializeToString()),
    ("Trace", ex.TraceRequest(correlation_id="x" * 10_000).SerializeToString()),
    ("GetCheckpoint", b"\x0a\xff"),
    ("GetInclusionProof", b"\x08"),
    ("GetInclusionProof", ex.GetInclusionProofRequest(log_index=2**64 - 1).SerializeToString()),
    ("GetInclusionProof", ex.GetInclusionProofRequest(log_index=0, tree_size=2**63).SerializeToString()),
    ("GetInclusionProof", ex.GetInclusionProofRequest().SerializeToString()),
    ("GetConsistencyProof", b"\x10\x80"),
    ("GetConsistencyProof", ex.GetConsistencyProofRequest(first_size=5, second_size=2).SerializeToString()),
    ("GetConsistencyProof", ex.GetConsistencyProofRequest(first_size=1, second_size=2**64 - 1)
     .SerializeToString()),
    ("Submit", b"\x0a\x05garbage"),
]


async def test_every_rpc_answers_invalid_argument_to_garbage(start) -> None:  # type: ignore[no-untyped-def]
    """Unparseable or impossible requests get INVALID_ARGUMENT with ErrorInfo MALFORMED, every RPC."""
    node = await start(Connections())
    async with grpc.aio.insecure_channel(f"127.0.0.1:{node.port}") as channel:
        call = channel.unary_unary(EXCHANGE + "Submit")
        await call(node.fed.envelope(node.fed.message("sc.amr", "sc.hub")))  # a log of one leaf
        answers = []
        for method, data in GARBAGE:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await channel.unary_unary(EXCHANGE + method)(data, timeout=30)
            answers.append((method, refused.value.code(), _reason(refused.value)))
    assert [(m, grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED") for m, _ in GARBAGE] == answers


async def test_a_peer_holds_at_most_max_calls_per_peer(start) -> None:  # type: ignore[no-untyped-def]
    """Idle streams beyond the per-peer limit are refused RESOURCE_EXHAUSTED / RATE_LIMITED; a slot
    freed by a closed stream can be taken again."""
    node = await start(Connections(max_calls_per_peer=3))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{node.port}") as channel:
        open_streams = [channel.stream_stream(EXCHANGE + "SubmitStream")() for _ in range(3)]
        for stream in open_streams:
            await stream.wait_for_connection()
        await asyncio.sleep(0.2)  # the server has admitted all three
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await channel.unary_unary(EXCHANGE + "GetCheckpoint")(b"", timeout=30)
        open_streams[0].cancel()
        await asyncio.sleep(0.2)
        after = await channel.unary_unary(EXCHANGE + "GetCheckpoint")(b"", timeout=30)  # admitted
        for stream in open_streams[1:]:
            stream.cancel()
    limited = (grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    assert limited == (refused.value.code(), _reason(refused.value))
    assert isinstance(after, bytes)


async def test_a_silent_stream_is_ended(start) -> None:  # type: ignore[no-untyped-def]
    """A SubmitStream that sends no envelope for stream_idle_seconds ends with UNAVAILABLE."""
    node = await start(Connections(stream_idle_seconds=0.3))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{node.port}") as channel:
        stream = channel.stream_stream(EXCHANGE + "SubmitStream")()
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            async with asyncio.timeout(60):
                await stream.read()
    assert (grpc.StatusCode.UNAVAILABLE, "UNAVAILABLE") == (ended.value.code(), _reason(ended.value))


async def _frames_until_closed(port: int) -> list[int]:
    """Open an HTTP/2 connection, acknowledge the server's settings once, then never answer again."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(PREFACE + SETTINGS + SETTINGS_ACK)
    await writer.drain()
    frames = []
    try:
        async with asyncio.timeout(60):
            while True:
                head = await reader.readexactly(9)
                await reader.readexactly(int.from_bytes(head[:3], "big"))
                frames.append(head[3])
    except asyncio.IncompleteReadError:
        pass  # the server closed the connection
    finally:
        writer.close()
    return frames


@pytest.mark.parametrize(
    "connections",
    [
        pytest.param(Connections(connection_idle_seconds=0.5), id="idle"),
        pytest.param(Connections(keepalive_seconds=0.3, keepalive_timeout_seconds=0.3), id="keepalive"),
    ],
)
async def test_a_silent_connection_is_closed(start, connections: Connections) -> None:  # type: ignore[no-untyped-def]
    """A connection without calls is closed after connection_idle_seconds; one that stops answering
    pings after keepalive_seconds + keepalive_timeout_seconds; both with a GOAWAY."""
    node = await start(connections)
    frames = await _frames_until_closed(node.port)
    assert GOAWAY == frames[-1]


def test_connections_round_trip_through_jgx_toml(tmp_path: Path) -> None:
    """[connections] is written by jgx init with its defaults and read back; a bad value is refused."""
    config = default_config(tmp_path, "sc.hub")
    text = render_config(config)
    assert Connections() == parse_config(text, directory=tmp_path).connections
    changed = text.replace("max_calls_per_peer = 200", "max_calls_per_peer = 7")
    assert 7 == parse_config(changed, directory=tmp_path).connections.max_calls_per_peer
    with pytest.raises(ConfigError, match=r"connections\.keepalive_seconds"):
        parse_config(text.replace("keepalive_seconds = 60.0", "keepalive_seconds = -1"), directory=tmp_path)

"""Trust configuration freshness on the node (DESIGN §4): no rollback, no unchained version, no
serving past the expiry of the document in force."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from structlog.testing import capture_logs

from gateway.health import HealthWatch
from gateway.hub import Hub
from gateway.keys import Algorithm, generate_key
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.server import Server
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from gateway.trust_update import sign_trust
from tests.gateway.nodes import ServeProcess, jgx, write_node

SUBMIT = "/jgx.exchange.v1.Exchange/Submit"


def _versions(fed: Federation, now: datetime) -> tuple[bytes, bytes, bytes]:
    """Version 1, its successor version 2 (admins rotated, handed over by v1's admin), and a forged
    version 2 whose admins never received a hand-over from version 1."""
    successor_admin = generate_key(Algorithm.ED25519)
    v2 = fed.trust.bump(issued_at=now, expires_at=now + timedelta(days=30))
    v2 = v2.with_admins([successor_admin.public_key], 1)
    stranger = generate_key(Algorithm.ED25519)
    forged = fed.trust.bump(issued_at=now, expires_at=now + timedelta(days=30))
    forged = forged.with_admins([stranger.public_key], 1)
    return fed.signed_trust, sign_trust(v2, [fed.admin, successor_admin]), sign_trust(forged, [stranger])


def test_trust_verify_previous_names_a_rollback_as_such(tmp_path: Path) -> None:
    """jgx trust verify OLD --previous NEW says TRUST_ROLLBACK, even when NEW's admins did not sign OLD."""
    now = datetime.now(UTC)
    v1, v2, _ = _versions(Federation.create(now), now)
    (tmp_path / "v1.json").write_bytes(v1)
    (tmp_path / "v2.json").write_bytes(v2)
    forward = jgx("trust", "verify", str(tmp_path / "v2.json"), "--previous", str(tmp_path / "v1.json"))
    back = jgx("trust", "verify", str(tmp_path / "v1.json"), "--previous", str(tmp_path / "v2.json"))
    assert 0 == forward.returncode, forward.stderr
    assert 1 == back.returncode
    assert "TRUST_ROLLBACK" in back.stdout + back.stderr


@pytest.mark.slow
def test_serve_refuses_a_rolled_back_or_unchained_trust_file(tmp_path: Path) -> None:
    """After running with version 2, jgx serve refuses version 1 (TRUST_ROLLBACK) and a version 2 that
    version 1's admins never signed (TRUST_THRESHOLD_NOT_MET), exit 2; version 2 itself still serves."""
    now = datetime.now(UTC)
    fed = Federation.create(now)
    node = write_node(tmp_path / "node", fed)
    v1, v2, forged = _versions(fed, now)
    serve_args = ("--listen", "127.0.0.1:0", "--console", "off")

    def serves() -> int:
        return ServeProcess(node, *serve_args).terminate()

    assert 0 == serves()  # runs with version 1 and remembers it
    (node / "trust.json").write_bytes(forged)
    unchained = jgx("serve", "--dir", str(node), *serve_args)
    (node / "trust.json").write_bytes(v2)
    assert 0 == serves()  # the successor is taken, and remembered
    (node / "trust.json").write_bytes(v1)
    rolled_back = jgx("serve", "--dir", str(node), *serve_args)
    (node / "trust.json").write_bytes(v2)
    assert 0 == serves()

    assert (2, True) == (unchained.returncode, "TRUST_THRESHOLD_NOT_MET" in unchained.stderr)
    assert (2, True) == (rolled_back.returncode, "TRUST_ROLLBACK" in rolled_back.stderr)


async def test_a_node_whose_trust_expires_while_running_stops_accepting(tmp_path: Path) -> None:
    """Past the trust configuration's expiry: Submit is refused with TRUST_EXPIRED, health goes
    NOT_SERVING, and the event trust.expired is logged; before it, the same node accepts."""
    now = datetime.now(UTC)
    fed = Federation.create(now, lifetime=timedelta(hours=1))
    clock = [now]
    store = SqliteStore(tmp_path / "hub.db")
    await store.open()
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store, clock=lambda: clock[0])
    await hub.start()
    server = Server(hub)
    port = server.add_port("127.0.0.1:0")
    await server.start()
    watch = HealthWatch(store, fed.trust, server.set_serving, clock=lambda: clock[0], interval=0.05)
    watch.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
            health = health_pb2_grpc.HealthStub(channel)
            before = await call(fed.envelope(fed.message("sc.amr", "sc.hub")))
            status_before = (await health.Check(health_pb2.HealthCheckRequest())).status
            clock[0] = fed.trust.expires_at + timedelta(seconds=1)
            with capture_logs() as events:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await call(fed.envelope(fed.message("sc.amr", "sc.hub", issued_at=clock[0])))
                for _ in range(200):
                    status_after = (await health.Check(health_pb2.HealthCheckRequest())).status
                    if status_after == health_pb2.HealthCheckResponse.NOT_SERVING:
                        break
                    await asyncio.sleep(0.05)
    finally:
        await watch.close()
        await server.stop(grace=1)
        await store.close()
    status = rpc_status.from_call(refused.value)  # type: ignore[arg-type]
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    assert before.receipt.body
    assert health_pb2.HealthCheckResponse.SERVING == status_before
    assert (grpc.StatusCode.FAILED_PRECONDITION, "TRUST_EXPIRED") == (refused.value.code(), info.reason)
    assert health_pb2.HealthCheckResponse.NOT_SERVING == status_after
    assert ["trust.expired"] == [e["event"] for e in events if e["event"] == "trust.expired"]

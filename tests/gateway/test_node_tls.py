"""A serving node re-reads its TLS files: rotation without downtime, revocation without restart.

Everything runs over real mutual TLS on 127.0.0.1 against the Exchange service with a SQLite store.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status
from structlog.testing import capture_logs

from gateway import tls
from gateway.crl import revoke
from gateway.delivery import DeliveryWorker
from gateway.hub import Hub
from gateway.node_tls import NodeTls, TlsFilesError
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pki import create_ca, issue_node_certificate, load_certificate
from gateway.receipts import verify_receipt
from gateway.server import Server
from gateway.storage import OutboxState
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation

NOW = datetime.now(UTC)  # TLS checks certificates against the real clock
SUBMIT = "/jgx.exchange.v1.Exchange/Submit"


@dataclass
class Node:
    """A hub serving over mTLS from files in ``directory``, with the CA that issues its clients."""

    fed: Federation
    directory: Path
    ca: tuple[bytes, bytes]
    files: NodeTls
    server: Server
    port: int

    def client(self, node_id: str) -> tuple[bytes, bytes]:
        """A fresh certificate and key for ``node_id`` from the federation CA."""
        return issue_node_certificate(*self.ca, node_id, now=NOW)

    def write(self, name: str, data: bytes) -> None:
        """Replace one of the node's TLS files, as an operator would."""
        (self.directory / name).write_bytes(data)

    async def submit(self, channel: grpc.aio.Channel, sender: str, standard: str = "SC-06") -> int:
        """Submit a valid envelope from ``sender``; the receipt's outcome."""
        call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
        response = await call(
            self.fed.envelope(self.fed.message(sender, "sc.hub", standard=standard)), timeout=10
        )
        return int(verify_receipt(response.receipt, self.fed.trust, issuer="sc.hub", now=NOW).outcome)

    def channel(self, credentials: tuple[bytes, bytes]) -> grpc.aio.Channel:
        """A new client channel presenting ``credentials``."""
        return grpc.aio.secure_channel(
            f"127.0.0.1:{self.port}", tls.channel_credentials(*credentials, self.ca[0])
        )


def served_serial(port: int, ca: bytes, client: tuple[bytes, bytes], directory: Path) -> int:
    """The serial of the certificate the server presents in a new TLS handshake (Python's ssl)."""
    for name, data in (("c.crt", client[0]), ("c.key", client[1]), ("ca.crt", ca)):
        (directory / name).write_bytes(data)
    context = ssl.create_default_context(cafile=str(directory / "ca.crt"))
    context.load_cert_chain(directory / "c.crt", directory / "c.key")
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def _serial(pem: bytes) -> int:
    return load_certificate(pem).serial_number


async def start(tmp_path: Path, *, crl_stale: str = "keep") -> Node:
    """A hub whose TLS files (and an empty CRL) in ``tmp_path/tls`` are looked at on every handshake."""
    fed = Federation.create(NOW)
    ca = create_ca("jgx federation CA", NOW)
    directory = tmp_path / "tls"
    directory.mkdir()
    cert, key = issue_node_certificate(*ca, "sc.hub", now=NOW)
    crl = revoke(*ca, None, [], now=NOW)
    for name, data in (("node.crt", cert), ("node.key", key), ("ca.crt", ca[0]), ("ca.crl", crl)):
        (directory / name).write_bytes(data)
    files = NodeTls(
        "sc.hub", directory / "node.crt", directory / "node.key", directory / "ca.crt",
        directory / "ca.crl", crl_stale=crl_stale, reload_seconds=0,
    )  # fmt: skip
    store = SqliteStore(tmp_path / "hub.db")
    await store.open()
    hub = Hub(node_id="sc.hub", key=fed.keys["sc.hub"], trust=fed.trust, store=store)
    await hub.start()
    server = Server(hub, peer_node=files.peer_node)
    port = server.add_port("127.0.0.1:0", files.server_credentials())
    await server.start()
    return Node(fed, directory, ca, files, server, port)


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    """A running hub with an empty CRL."""
    running = await start(tmp_path)
    yield running
    await running.server.stop(grace=1)
    await running.server.hub.store.close()


def _error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    return info


ACCEPTED = exchange_pb2.OUTCOME_ACCEPTED


class TestRotation:
    async def test_a_running_server_serves_a_new_certificate_and_old_clients_keep_working(
        self, node: Node, tmp_path: Path
    ) -> None:
        """New handshakes get the rotated certificate; a channel opened before keeps submitting."""
        amr = node.client("sc.amr")
        old = _serial((node.directory / "node.crt").read_bytes())
        async with node.channel(amr) as before:
            assert ACCEPTED == await node.submit(before, "sc.amr")
            first = await asyncio.to_thread(served_serial, node.port, node.ca[0], amr, tmp_path)
            new_cert, new_key = issue_node_certificate(*node.ca, "sc.hub", now=NOW)
            node.write("node.key", new_key)
            node.write("node.crt", new_cert)
            second = await asyncio.to_thread(served_serial, node.port, node.ca[0], amr, tmp_path)
            assert ACCEPTED == await node.submit(before, "sc.amr")  # the old connection still works
            async with node.channel(amr) as after:
                assert ACCEPTED == await node.submit(after, "sc.amr")
        assert (old, _serial(new_cert)) == (first, second)

    async def test_a_half_written_rotation_keeps_the_old_pair_until_both_files_are_in_place(
        self, node: Node, tmp_path: Path
    ) -> None:
        """A new certificate beside the old key is not served (mismatch); once the key follows, it is."""
        amr = node.client("sc.amr")
        old = _serial((node.directory / "node.crt").read_bytes())
        new_cert, new_key = issue_node_certificate(*node.ca, "sc.hub", now=NOW)
        with capture_logs() as logs:
            node.write("node.crt", new_cert)
            halfway = await asyncio.to_thread(served_serial, node.port, node.ca[0], amr, tmp_path)
            node.write("node.key", new_key)
            done = await asyncio.to_thread(served_serial, node.port, node.ca[0], amr, tmp_path)
        assert (old, _serial(new_cert)) == (halfway, done)
        events = [e["event"] for e in logs if e["event"].startswith("tls.")]
        assert ["tls.reload_refused", "tls.reloaded"] == events

    async def test_a_certificate_of_another_node_is_not_taken(self, node: Node, tmp_path: Path) -> None:
        """Dropping sc.amr's certificate and key into the hub's files changes nothing it serves."""
        amr = node.client("sc.amr")
        old = _serial((node.directory / "node.crt").read_bytes())
        wrong_cert, wrong_key = issue_node_certificate(*node.ca, "sc.amr", now=NOW)
        node.write("node.key", wrong_key)
        node.write("node.crt", wrong_cert)
        assert old == await asyncio.to_thread(served_serial, node.port, node.ca[0], amr, tmp_path)


class TestRevocation:
    async def test_a_revoked_client_is_refused_at_step_1_without_a_restart(self, tmp_path: Path) -> None:
        """Once sc.amr's certificate is revoked, its next call (same channel) is refused; sc.sjs goes on."""
        node = await start(tmp_path)
        ca = node.ca
        try:
            amr, sjs = node.client("sc.amr"), node.client("sc.sjs")
            async with node.channel(amr) as amr_channel, node.channel(sjs) as sjs_channel:
                assert ACCEPTED == await node.submit(amr_channel, "sc.amr")
                node.write("ca.crl", revoke(*ca, None, [_serial(amr[0])], reason="key-compromise", now=NOW))
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await node.submit(amr_channel, "sc.amr")
                assert ACCEPTED == await node.submit(sjs_channel, "sc.sjs", standard="SC-09")
        finally:
            await node.server.stop(grace=1)
            await node.server.hub.store.close()
        info = _error_info(caught.value)
        assert (grpc.StatusCode.PERMISSION_DENIED, "IDENTITY_MISMATCH") == (caught.value.code(), info.reason)
        assert f"revoked: serial {_serial(amr[0]):x}" in info.metadata["detail"]
        assert "已被吊销" in info.metadata["detail"]

    @pytest.mark.parametrize(("policy", "sjs_passes"), [("keep", True), ("refuse", False)])
    async def test_a_stale_crl_is_handled_as_configured(
        self, tmp_path: Path, policy: str, sjs_passes: bool
    ) -> None:
        """Past nextUpdate: `keep` refuses only what is revoked; `refuse` refuses every client."""
        node = await start(tmp_path, crl_stale=policy)
        ca = node.ca
        try:
            amr, sjs = node.client("sc.amr"), node.client("sc.sjs")
            long_ago = NOW - timedelta(days=30)
            node.write("ca.crl", revoke(*ca, None, [_serial(amr[0])], now=long_ago, days=7))
            details: list[str] = []
            with capture_logs() as logs:
                async with node.channel(amr) as amr_channel, node.channel(sjs) as sjs_channel:
                    with pytest.raises(grpc.aio.AioRpcError):
                        await node.submit(amr_channel, "sc.amr")
                    try:
                        assert ACCEPTED == await node.submit(sjs_channel, "sc.sjs", standard="SC-09")
                    except grpc.aio.AioRpcError as exc:
                        details.append(_error_info(exc).metadata["detail"])
        finally:
            await node.server.stop(grace=1)
            await node.server.hub.store.close()
        assert sjs_passes == (not details)
        assert all("stale" in d for d in details)
        assert 1 == [e["event"] for e in logs].count("tls.crl_stale")  # once per CRL, not per call

    async def test_a_crl_of_another_ca_is_not_taken(self, node: Node) -> None:
        """A CRL the node's CA did not sign neither revokes nor starts a node."""
        other = create_ca("other CA", NOW)
        amr = node.client("sc.amr")
        node.write("ca.crl", revoke(*other, None, [_serial(amr[0])], now=NOW))
        with capture_logs() as logs:
            async with node.channel(amr) as channel:
                assert ACCEPTED == await node.submit(channel, "sc.amr")
        assert "tls.crl_refused" in [e["event"] for e in logs]
        with pytest.raises(TlsFilesError):
            NodeTls("sc.hub", *(node.directory / n for n in ("node.crt", "node.key", "ca.crt", "ca.crl")))


class TestStrangers:
    async def test_a_certificate_of_another_ca_naming_a_trusted_node_is_refused(self, node: Node) -> None:
        """sc.amr is a trusted node, but its certificate from another CA gets no call through."""
        other = create_ca("jgx federation CA", NOW)  # even under the same CA name
        forged = issue_node_certificate(*other, "sc.amr", now=NOW)
        async with node.channel(forged) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await node.submit(channel, "sc.amr")
        assert grpc.StatusCode.UNAVAILABLE == caught.value.code()
        assert 0 == (await node.server.hub.store.size())


class TestStartup:
    @pytest.mark.parametrize(
        "case", ["key-of-another-certificate", "certificate-of-another-node", "another-ca"]
    )
    def test_files_that_cannot_serve_stop_the_node_from_starting(self, tmp_path: Path, case: str) -> None:
        """Mismatched key, another node's certificate, or a certificate the CA file did not issue: refused."""
        ca = create_ca("jgx federation CA", NOW)
        cert, key = issue_node_certificate(*ca, "sc.hub", now=NOW)
        if case == "key-of-another-certificate":
            key = issue_node_certificate(*ca, "sc.hub", now=NOW)[1]
        elif case == "certificate-of-another-node":
            cert, key = issue_node_certificate(*ca, "sc.amr", now=NOW)
        else:
            cert, key = issue_node_certificate(*create_ca("other", NOW), "sc.hub", now=NOW)
        for name, data in (("node.crt", cert), ("node.key", key), ("ca.crt", ca[0])):
            (tmp_path / name).write_bytes(data)
        with pytest.raises(TlsFilesError):
            NodeTls("sc.hub", tmp_path / "node.crt", tmp_path / "node.key", tmp_path / "ca.crt")


class TestDeliveryRotation:
    async def test_the_delivery_worker_presents_the_rotated_certificate(
        self, node: Node, tmp_path: Path
    ) -> None:
        """After the hub's certificate is rotated, its next delivery to a peer presents the new one."""
        seen: list[int] = []

        def recording_peer(context: grpc.aio.ServicerContext[bytes, bytes]) -> str:
            pem = next(iter(context.auth_context()["x509_pem_cert"]))
            seen.append(_serial(pem))
            return tls.peer_node_id(context)

        store = SqliteStore(tmp_path / "national.db")
        await store.open()
        national = Hub(
            node_id="cn.national", key=node.fed.keys["cn.national"], trust=node.fed.trust, store=store
        )
        await national.start()
        peer = Server(national, peer_node=recording_peer)
        cert, key = issue_node_certificate(*node.ca, "cn.national", now=NOW)
        port = peer.add_port("127.0.0.1:0", tls.server_credentials(cert, key, node.ca[0]))
        await peer.start()
        worker = DeliveryWorker(
            store=node.server.hub.store, trust=node.fed.trust, node_id="sc.hub",
            peers={"cn.national": f"127.0.0.1:{port}"}, credentials=node.files.channel_credentials,
        )  # fmt: skip
        hub = node.server.hub
        old = _serial((node.directory / "node.crt").read_bytes())
        try:
            first = await hub.submit(
                node.fed.envelope(node.fed.message("sc.amr", "cn.national", standard="SC-03"))
            )
            assert 1 == await worker.run_once()
            new_cert, new_key = issue_node_certificate(*node.ca, "sc.hub", now=NOW)
            node.write("node.key", new_key)
            node.write("node.crt", new_cert)
            second = await hub.submit(
                node.fed.envelope(node.fed.message("sc.amr", "cn.national", standard="SC-03"))
            )
            assert 1 == await worker.run_once()
        finally:
            await worker.close()
            await peer.stop(grace=1)
            await store.close()
        assert (ACCEPTED, ACCEPTED) == (first.outcome, second.outcome)
        assert [old, _serial(new_cert)] == seen
        assert {OutboxState.DELIVERED} == {row.state for row in await hub.store.outbox()}

"""The Adapter service over a real socket: a test acting as the hub calls Describe, Deliver and Export."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped]

from adapters.sdk import AdapterServicer
from gateway.envelope import envelope_digest, open_message
from gateway.errors import ERROR_DOMAIN, ReasonCode
from gateway.keys import generate_key
from gateway.pb.jgx.adapter.v1 import adapter_pb2
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import verify_receipt
from gateway.testing import Federation
from tests.adapters.conftest import NOW, TaskDesk, make_servicer


def task(fed: Federation, **fields: object) -> bytes:
    """A national SC-14 dispatch to sc.amr as envelope bytes; `fields` override header fields."""
    fields.setdefault("correlation_id", "lhjg111")
    fields.setdefault("action", "dispatch")
    payload = fields.pop("payload", {"taskNo": "lhjg111", "taskName": "联合检查"})
    recipient = str(fields.pop("recipient", "sc.amr"))
    message = fed.message("cn.national", recipient, standard="SC-14", payload=payload, **fields)
    return fed.envelope(message)


async def deliver(channel: grpc.aio.Channel, data: bytes) -> exchange_pb2.Envelope:
    call = channel.unary_unary(
        "/jgx.adapter.v1.Adapter/Deliver",
        request_serializer=lambda b: b,
        response_deserializer=adapter_pb2.DeliverResponse.FromString,
    )
    response = await call(data)
    return response.receipt


def receipt_of(fed: Federation, envelope: exchange_pb2.Envelope, data: bytes) -> exchange_pb2.Receipt:
    return verify_receipt(
        envelope, fed.trust, issuer="sc.amr", now=NOW, envelope_sha256=envelope_digest(data)
    )


async def test_describe_returns_the_manifest(adapter_channel: grpc.aio.Channel, fed: Federation) -> None:
    """Describe names the node, its claimed standards, the software and the signing key id."""
    call = adapter_channel.unary_unary(
        "/jgx.adapter.v1.Adapter/Describe",
        request_serializer=adapter_pb2.DescribeRequest.SerializeToString,
        response_deserializer=adapter_pb2.Manifest.FromString,
    )
    manifest = await call(adapter_pb2.DescribeRequest())
    expected = adapter_pb2.Manifest(
        node_id="sc.amr",
        standards=[
            adapter_pb2.StandardClaim(standard="SC-06", standard_version="1.0.0"),
            adapter_pb2.StandardClaim(standard="SC-14", standard_version="1.0.0"),
        ],
        software_name="amr-adapter",
        software_version="1.2.3",
        build_digest="ab" * 32,
        key_ids=[fed.keys["sc.amr"].key_id],
    )
    assert expected == manifest


async def test_a_valid_delivery_gets_a_signed_accepted_receipt(
    adapter_channel: grpc.aio.Channel, fed: Federation
) -> None:
    """A valid envelope is answered with an accepted receipt signed by the adapter and bound to its digest."""
    data = task(fed)
    receipt = receipt_of(fed, await deliver(adapter_channel, data), data)
    assert (exchange_pb2.OUTCOME_ACCEPTED, [], "sc.amr") == (
        receipt.outcome,
        list(receipt.reason_codes),
        receipt.issuer,
    )


def forged(fed: Federation) -> bytes:
    envelope = exchange_pb2.Envelope.FromString(task(fed))
    envelope.body = envelope.body.replace(b"lhjg111", b"lhjg666")
    return envelope.SerializeToString()


CASES = {
    "forged body": (forged, ReasonCode.SIGNATURE_INVALID),
    "signed by a stranger": (
        lambda fed: fed.envelope(fed.message("cn.national", "sc.amr", standard="SC-14"), key=generate_key()),
        ReasonCode.KEY_UNKNOWN,
    ),
    "expired": (
        lambda fed: task(fed, issued_at=NOW - timedelta(hours=3), lifetime=timedelta(hours=1)),
        ReasonCode.EXPIRED,
    ),
    "misaddressed": (lambda fed: task(fed, recipient="sc.12315"), ReasonCode.NOT_ADDRESSED_TO_US),
    "not permitted": (
        lambda fed: fed.envelope(fed.message("cq.hub", "sc.amr", standard="SC-06")),
        ReasonCode.ACL_DENIED,
    ),
    "garbage": (lambda fed: b"\xff\x00not an envelope", ReasonCode.MALFORMED),
}


@pytest.mark.parametrize("case", CASES)
async def test_bad_deliveries_get_their_reason_code(
    adapter_channel: grpc.aio.Channel, fed: Federation, case: str
) -> None:
    """Forged, unknown-key, expired, misaddressed, unpermitted and garbage envelopes get the right code."""
    make, reason = CASES[case]
    data = make(fed)
    receipt = receipt_of(fed, await deliver(adapter_channel, data), data)
    assert (exchange_pb2.OUTCOME_REJECTED, [reason.value]) == (receipt.outcome, list(receipt.reason_codes))


async def test_a_duplicate_gets_the_original_receipt(
    adapter_channel: grpc.aio.Channel, fed: Federation
) -> None:
    """The same envelope delivered twice is answered with byte-identical receipts."""
    data = task(fed)
    first = await deliver(adapter_channel, data)
    second = await deliver(adapter_channel, data)
    assert first.SerializeToString() == second.SerializeToString()


async def test_a_reused_message_id_is_a_replay(adapter_channel: grpc.aio.Channel, fed: Federation) -> None:
    """A second envelope with the same sender and message id but other bytes is refused as REPLAYED."""
    await deliver(adapter_channel, task(fed, message_id="m-1"))
    data = task(fed, message_id="m-1", payload={"taskNo": "lhjg111", "taskName": "改过的"})
    receipt = receipt_of(fed, await deliver(adapter_channel, data), data)
    assert [ReasonCode.REPLAYED.value] == list(receipt.reason_codes)


def test_dedupe_state_survives_a_restart(fed: Federation, tmp_path: Path) -> None:
    """After a restart on the same file, a duplicate gets the original receipt and a replay is refused."""
    path = tmp_path / "adapter.sqlite"
    data = task(fed, message_id="m-2")
    first = make_servicer(fed, path).deliver(data)
    restarted = make_servicer(fed, path)
    replay = task(fed, message_id="m-2", payload={"taskNo": "other"})
    replayed = exchange_pb2.Receipt.FromString(
        exchange_pb2.Envelope.FromString(restarted.deliver(replay)).body
    )
    assert (first, [ReasonCode.REPLAYED.value]) == (restarted.deliver(data), list(replayed.reason_codes))


def test_a_relay_other_than_the_hub_is_refused(servicer: AdapterServicer, fed: Federation) -> None:
    """An envelope brought by a TLS client that is neither the sender nor the hub is IDENTITY_MISMATCH."""
    receipt = exchange_pb2.Receipt.FromString(
        exchange_pb2.Envelope.FromString(servicer.deliver(task(fed), transport_node="sc.12315")).body
    )
    assert [ReasonCode.IDENTITY_MISMATCH.value] == list(receipt.reason_codes)


def test_a_body_signed_by_another_node_does_not_use_up_the_senders_id(
    servicer: AdapterServicer, fed: Federation
) -> None:
    """sc.sjs signing a task claiming cn.national's id is refused; the national system's own gets in."""
    body = fed.message("cn.national", "sc.amr", standard="SC-14", message_id="t-1",
                       payload={"taskNo": "lhjg111", "taskName": "联合检查"}, correlation_id="lhjg111",
                       action="dispatch")  # fmt: skip
    forged = servicer.deliver(fed.envelope(body, key=fed.keys["sc.sjs"]))
    own = servicer.deliver(task(fed, message_id="t-1"))
    codes = [
        list(exchange_pb2.Receipt.FromString(exchange_pb2.Envelope.FromString(r).body).reason_codes)
        for r in (forged, own)
    ]
    assert [[ReasonCode.SENDER_KEY_MISMATCH.value], []] == codes


def test_the_hub_as_relay_is_accepted(servicer: AdapterServicer, fed: Federation) -> None:
    """The hub relaying a national task over mTLS is the expected path and is accepted."""
    receipt = exchange_pb2.Receipt.FromString(
        exchange_pb2.Envelope.FromString(servicer.deliver(task(fed), transport_node="sc.hub")).body
    )
    assert exchange_pb2.OUTCOME_ACCEPTED == receipt.outcome


def test_an_accepted_task_queues_a_signed_claim(servicer: AdapterServicer, fed: Federation) -> None:
    """The claim for a delivered task is signed and queued for the hub, replying to the dispatch."""
    data = task(fed, message_id="dispatch-1")
    servicer.deliver(data)
    (pending,) = servicer.store.pending()
    claim = open_message(exchange_pb2.Envelope.FromString(pending.envelope), fed.trust, now=NOW).message
    assert ("claim", "lhjg111", "dispatch-1", "cn.national", "sc.amr") == (
        claim.action,
        claim.correlation_id,
        claim.in_reply_to,
        claim.recipient,
        claim.sender,
    )


def test_a_failing_mapping_is_not_recorded(fed: Federation, tmp_path: Path) -> None:
    """When the department's mapping fails, the receipt says INTERNAL and a redelivery is judged afresh."""
    path = tmp_path / "adapter.sqlite"
    data = task(fed)
    failing = make_servicer(fed, path, TaskDesk(fail=True))
    first = exchange_pb2.Receipt.FromString(exchange_pb2.Envelope.FromString(failing.deliver(data)).body)
    healed = make_servicer(fed, path)
    second = exchange_pb2.Receipt.FromString(exchange_pb2.Envelope.FromString(healed.deliver(data)).body)
    assert ([ReasonCode.INTERNAL.value], exchange_pb2.OUTCOME_ACCEPTED) == (
        list(first.reason_codes),
        second.outcome,
    )


async def export(
    channel: grpc.aio.Channel, request: adapter_pb2.ExportRequest
) -> list[exchange_pb2.Envelope]:
    call = channel.unary_stream(
        "/jgx.adapter.v1.Adapter/Export",
        request_serializer=adapter_pb2.ExportRequest.SerializeToString,
        response_deserializer=exchange_pb2.Envelope.FromString,
    )
    return [envelope async for envelope in call(request)]


async def test_export_streams_signed_records(adapter_channel: grpc.aio.Channel, fed: Federation) -> None:
    """Export streams the department's records as envelopes that verify, addressed to the hub."""
    envelopes = await export(adapter_channel, adapter_pb2.ExportRequest(standard="SC-06"))
    opened = [open_message(e, fed.trust, now=NOW).message for e in envelopes]
    assert [("sc.amr", "sc.hub", "SC-06", "CF-1"), ("sc.amr", "sc.hub", "SC-06", "CF-2")] == [
        (m.sender, m.recipient, m.standard, m.business_key) for m in opened
    ]
    assert "川市监罚〔2026〕1号" == json.loads(opened[0].payload)["punishDocumentCode"]


async def test_export_honours_the_limit(adapter_channel: grpc.aio.Channel) -> None:
    """Export with a limit streams at most that many records."""
    envelopes = await export(adapter_channel, adapter_pb2.ExportRequest(standard="SC-06", limit=1))
    assert 1 == len(envelopes)


async def test_export_of_an_unclaimed_standard_is_refused(adapter_channel: grpc.aio.Channel) -> None:
    """Export of a standard the adapter does not claim fails with STANDARD_UNKNOWN in jgx's ErrorInfo."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await export(adapter_channel, adapter_pb2.ExportRequest(standard="SC-11"))
    details = dict(caught.value.trailing_metadata())["grpc-status-details-bin"]
    info = error_details_pb2.ErrorInfo()
    status_pb2.Status.FromString(details).details[0].Unpack(info)
    assert (grpc.StatusCode.INVALID_ARGUMENT, "STANDARD_UNKNOWN", ERROR_DOMAIN) == (
        caught.value.code(), info.reason, info.domain
    )

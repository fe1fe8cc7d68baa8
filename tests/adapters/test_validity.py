"""What the adapters produce validates against the standards: mapped records, replies, national tasks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import grpc
import pytest

import standards
from adapters.departments import SAMPLES, Complaints12315, MarketRegulation, SpotCheck
from adapters.national import clues_from_national, task_from_national
from adapters.sdk import AdapterIdentity, AdapterServicer, AdapterStore, serve_adapter
from gateway.envelope import open_message
from gateway.pb.jgx.adapter.v1 import adapter_pb2
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.testing import Federation
from tests.adapters.conftest import NOW

ON = date(2026, 11, 27)
TASK_XML = (Path(__file__).parent / "assets" / "national_task_lhjg.xml").read_bytes()


def errors(payload: Mapping[str, Any], standard: str) -> list[str]:
    findings = standards.validate(json.dumps(payload, ensure_ascii=False).encode(), standard, "1.0.0", on=ON)
    return [f"{f.rule_id} {f.pointer}" for f in findings if f.severity == "error"]


@pytest.mark.parametrize("make", [MarketRegulation, Complaints12315, SpotCheck])
def test_every_mapped_record_validates(make: type[MarketRegulation]) -> None:
    """Every record a reference department maps from its native export has no error findings."""
    records = make(SAMPLES).imported().records
    assert {} == {
        r.business_key: errors(r.payload, r.standard) for r in records if errors(r.payload, r.standard)
    }


def good(standard: str, name: str) -> dict[str, Any]:
    path = files("standards").joinpath("data", standard, "1.0.0", "fixtures", "good", f"{name}.json")
    record: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return record


KEYS = {"SC-12": "fxyjId", "SC-13": "clueNo", "SC-14": "taskNo"}


@pytest.mark.parametrize("standard", ["SC-12", "SC-13", "SC-14"])
def test_claims_validate(standard: str) -> None:
    """The claim a department sends for a delivered task or clue is a valid record of its standard."""
    payload = good(standard, "dispatch")
    message = exchange_pb2.Message(
        message_id="d-1",
        sender="cn.national",
        recipient="sc.amr",
        standard=standard,
        standard_version="1.0.0",
        correlation_id=payload[KEYS[standard]],
        action="dispatch",
        payload=json.dumps(payload).encode(),
    )
    claim = MarketRegulation(SAMPLES).handle_delivered(message, now=NOW).replies[0]
    assert [] == errors(claim.payload, standard)


def test_task_feedback_validates() -> None:
    """The market regulation department's feedback to a national task is a valid SC-14 feedback."""
    desk = MarketRegulation(SAMPLES)
    dispatch = task_from_national(TASK_XML)
    message = exchange_pb2.Message(
        message_id="d-1",
        sender="cn.national",
        recipient="sc.amr",
        standard="SC-14",
        standard_version="1.0.0",
        correlation_id=dispatch["taskNo"],
        action="dispatch",
        payload=json.dumps(dispatch).encode(),
    )
    desk.handle_delivered(message, now=NOW)
    feedback = desk.task_feedback(dispatch["taskNo"], datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    assert [] == errors(feedback.payload, "SC-14")


def test_a_national_task_maps_to_a_valid_dispatch() -> None:
    """The SC-14 dispatch and SC-12 clue mapped from the national XML task validate."""
    (clue,) = clues_from_national(
        TASK_XML, recipient_no="11510000MB0A1B2C62", recipient_name="四川省市场监督管理局"
    )
    assert ([], []) == (errors(task_from_national(TASK_XML), "SC-14"), errors(clue, "SC-12"))


async def test_export_streams_envelopes_whose_payloads_validate(fed: Federation, tmp_path: Path) -> None:
    """Export of each claimed record standard streams verifying envelopes with valid payloads."""
    desk = MarketRegulation(SAMPLES)
    servicer = AdapterServicer(
        identity=AdapterIdentity("sc.amr", fed.keys["sc.amr"]),
        trust=fed.trust,
        department=desk,
        store=AdapterStore(tmp_path / "a.sqlite"),
        clock=lambda: NOW,
    )
    found: dict[str, list[str]] = {}
    async with (
        serve_adapter(servicer) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
    ):
        call = channel.unary_stream(
            "/jgx.adapter.v1.Adapter/Export",
            request_serializer=adapter_pb2.ExportRequest.SerializeToString,
            response_deserializer=exchange_pb2.Envelope.FromString,
        )
        for standard in ("SC-05", "SC-06", "SC-07", "SC-10", "SC-15"):
            async for envelope in call(adapter_pb2.ExportRequest(standard=standard)):
                message = open_message(envelope, fed.trust, now=NOW).message
                found.setdefault(standard, []).extend(errors(json.loads(message.payload), standard))
    assert {"SC-05": [], "SC-06": [], "SC-07": [], "SC-10": [], "SC-15": []} == found


def test_deliver_validates_payloads_against_the_standard(fed: Federation, tmp_path: Path) -> None:
    """With the standards validator, a delivered task missing its task info is refused with findings."""
    from gateway.validation import standards_validator

    servicer = AdapterServicer(
        identity=AdapterIdentity("sc.amr", fed.keys["sc.amr"]),
        trust=fed.trust,
        department=MarketRegulation(SAMPLES),
        store=AdapterStore(tmp_path / "a.sqlite"),
        clock=lambda: NOW,
        validate=standards_validator,
    )
    payload = task_from_national(TASK_XML)
    del payload["taskInfo"]
    message = fed.message(
        "cn.national",
        "sc.amr",
        standard="SC-14",
        payload=payload,
        correlation_id=payload["taskNo"],
        action="dispatch",
        issued_at=NOW,
    )
    receipt = exchange_pb2.Receipt.FromString(
        exchange_pb2.Envelope.FromString(servicer.deliver(fed.envelope(message))).body
    )
    assert (["SCHEMA_INVALID"], ["/taskInfo"]) == (
        list(receipt.reason_codes),
        [f.pointer for f in receipt.findings if f.severity == "error"],
    )

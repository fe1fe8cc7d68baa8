"""Downward and back: a task delivered to a database-only department lands in its inbound table exactly
once; its claim and feedback rows in its outbound table go up as SC-14 replies of the same lifecycle."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from adapters.bridge import parse_mapping
from adapters.bridge.inbound import FrontDesk, InboundTable
from adapters.sdk import AdapterIdentity, AdapterServicer, AdapterStore
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import verify_receipt
from tests.adapters.bridge.front import Front, FrontDb, RunningHub, inspection, load, make_bridge

T0 = datetime(2026, 11, 27, 9, 0, 0)
UNIT = ("11510100MB1F2E3X4Q", "成都市市场监督管理局")

REPLIES = """
[bridge]
node = "sc.amr"
recipient = "cn.national"
standard = "SC-14"
state = "{state}"
[database]
url = "{url}"
{schema}
[source]
table = "t_rwfk"
correlation_id = "rwbh"
action = "dzlx"
in_reply_to = "xxid"
[fields]
action = "dzlx"
taskNo = "rwbh"
actionTime = "czsj"
operatorUnitNo = "dwdm"
operatorUnitName = "dwmc"
status = {{ column = "dzlx", codes = {{ "claim" = "2", "feedback" = "3" }} }}
"taskDetails.unionUnitType" = {{ value = "region" }}
"taskDetails.unionUnitNo" = "dwdm"
"taskDetails.unionUnitName" = "dwmc"
"taskDetails.claimTime" = "rlsj"
"taskDetails.feedbackTime" = "fksj"
"taskDetails.feedbackSuggestion" = "fkyj"
feedbackUnitInfo = "fkxw"
[result]
table = "jgx_result_rwfk"
[inbound]
table = "jgx_inbound"
standards = ["SC-14@1.0.0", "SC-12"]
"""


REPLY_COLUMNS = ("rwbh", "dzlx", "czsj", "dwdm", "dwmc", "rlsj", "fksj", "fkyj", "xxid")


def outbound_table(metadata: sa.MetaData) -> sa.Table:
    """The department's outbound table of task replies (任务反馈表) with the cd_* columns."""
    return sa.Table(
        "t_rwfk", metadata,
        *(sa.Column(c, sa.String(64)) for c in ("cd_id", "cd_operation", "cd_batch", "cd_source")),
        sa.Column("cd_time", sa.DateTime),
        *(sa.Column(c, sa.String(200)) for c in REPLY_COLUMNS),
        sa.Column("fkxw", sa.Text),
    )  # fmt: skip


def dispatch(hub: RunningHub, message_id: str = "nat-task-1") -> bytes:
    """The national system's SC-14 dispatch of task LHJG-1 to sc.amr, as the hub relays it."""
    fed = hub.fed
    message = fed.message(
        "cn.national", "sc.amr", standard="SC-14", message_id=message_id, correlation_id="LHJG-1",
        action="dispatch", issued_at=datetime.now(UTC),
        payload=json.loads(_sample("dispatch")) | {"taskNo": "LHJG-1"},
    )  # fmt: skip
    return fed.envelope(message)


def _sample(name: str) -> bytes:
    root = (
        Path(__file__).resolve().parents[3] / "standards" / "data" / "SC-14" / "1.0.0" / "fixtures" / "good"
    )
    return (root / f"{name}.json").read_bytes()


def servicer(hub: RunningHub, desk: FrontDesk, store: Path) -> AdapterServicer:
    return AdapterServicer(
        identity=AdapterIdentity("sc.amr", hub.fed.keys["sc.amr"]), trust=hub.fed.trust, department=desk,
        store=AdapterStore(store),
    )  # fmt: skip


def reply(n: int, action: str, at: datetime, **values: Any) -> dict[str, Any]:
    row = {
        "cd_id": f"FK{n}", "cd_operation": "I", "cd_time": at, "cd_source": "sc.amr.qzk", "rwbh": "LHJG-1",
        "dzlx": action, "czsj": at.strftime("%Y-%m-%d %H:%M:%S"), "dwdm": UNIT[0], "dwmc": UNIT[1],
        "rlsj": "2026-11-27 10:00:00", "xxid": "nat-task-1", "fksj": None, "fkyj": None, "fkxw": None,
    }  # fmt: skip
    row.update(values)
    return row


async def test_a_delivered_task_lands_in_the_inbound_table_exactly_once_and_the_replies_go_up(
    front: Front, db: FrontDb, hub: RunningHub, tmp_path: Path
) -> None:
    """分发 → 认领 → 反馈: the dispatch is written once although delivered three times (the same bytes
    twice, then again to an adapter that lost its store, as after a crash before receipting); the claim
    and feedback rows the department writes are sent with the task's correlation id and in_reply_to."""
    schema = f'schema = "{front.schema}"' if front.schema else ""
    mapping = parse_mapping(REPLIES.format(state=tmp_path / "replies.sqlite", url=front.url, schema=schema))
    inbound = InboundTable(db.engine, mapping.inbound_table, front.schema)
    desk = FrontDesk([mapping], inbound)
    data = dispatch(hub)
    first = servicer(hub, desk, tmp_path / "adapter.sqlite")
    receipts = [
        first.deliver(data),
        first.deliver(data),
        servicer(hub, desk, tmp_path / "lost.sqlite").deliver(data),
    ]
    outcomes = [
        verify_receipt(
            exchange_pb2.Envelope.FromString(r), hub.fed.trust, issuer="sc.amr", now=datetime.now(UTC)
        ).outcome
        for r in receipts
    ]
    assert [exchange_pb2.OUTCOME_ACCEPTED] * 3 == outcomes
    (row,) = inbound.rows()
    assert ("nat-task-1", "LHJG-1", "dispatch", "cn.national", "I") == (
        row["message_id"],
        row["correlation_id"],
        row["action"],
        row["cd_source"],
        row["cd_operation"],
    )
    assert "LHJG-1" == json.loads(row["payload"])["taskNo"]

    table = outbound_table(sa.MetaData(schema=front.schema))
    table.create(db.engine)
    feedback_info = json.loads(_sample("feedback"))["feedbackUnitInfo"]
    with db.engine.begin() as connection:
        connection.execute(sa.insert(table), [
            reply(1, "claim", T0),
            reply(2, "feedback", T0 + timedelta(days=3), fksj="2026-11-30 16:00:00", fkyj="已完成检查",
                  fkxw=json.dumps(feedback_info, ensure_ascii=False)),
        ])  # fmt: skip
    bridge = make_bridge(mapping, hub)
    report = await bridge.run_once()
    await bridge.close()
    results = sa.Table("jgx_result_rwfk", sa.MetaData(schema=front.schema), autoload_with=db.engine)
    with db.engine.connect() as connection:
        written = [dict(r) for r in connection.execute(sa.select(results)).mappings()]
    assert (2, 2) == (report.total("sent"), report.total("accepted")), [w["messages_zh"] for w in written]
    sent = [await hub.message(i) for i in (0, 1)]
    assert [
        ("claim", "LHJG-1", "nat-task-1", "cn.national"),
        ("feedback", "LHJG-1", "nat-task-1", "cn.national"),
    ] == [(m.action, m.correlation_id, m.in_reply_to, m.recipient) for m in sent]


def test_the_front_desk_claims_what_it_sends_and_accepts(front: Front, tmp_path: Path) -> None:
    """Describe's claims: the mapping's standard and the standards its inbound table accepts."""
    mapping = parse_mapping(REPLIES.format(state=tmp_path / "s", url=front.url, schema=""))
    desk = FrontDesk(
        [mapping], InboundTable(sa.create_engine(f"sqlite:///{tmp_path / 'in.db'}"), "jgx_inbound")
    )
    assert [("SC-14", "1.0.0"), ("SC-12", "1.0.0")] == [(c.standard, c.version) for c in desk.claims()]


def test_export_is_what_the_bridge_would_send(front: Front, db: FrontDb, tmp_path: Path) -> None:
    """Export yields a record for each source row that maps and validates, and none for a refused row."""
    db.insert([inspection(1, T0), inspection(2, T0, jcxs="飞行检查"), inspection(3, T0, cd_operation="D")])
    mapping = load(front)
    desk = FrontDesk(
        [mapping], InboundTable(db.engine, "jgx_inbound", front.schema), today=date(2026, 11, 27)
    )
    records = list(desk.export("SC-05"))
    assert [("JC000001", "insert"), ("JC000003", "delete")] == [
        (r.business_key, r.operation) for r in records
    ]
    assert [] == list(desk.export("SC-06"))

"""The 12315 complaints platform (全国12315平台四川分平台, node ``sc.12315``): complaints and tip-offs.

The platform exports JSON (``samples/12315_export.json``): an envelope object with the export time and
a ``records`` list whose keys are the pinyin abbreviations the platform's database uses (``sqbh`` 诉求编号,
``sqlb`` 诉求类别 …); older exports use the Chinese labels, which are accepted as aliases. Each record
becomes an SC-11 投诉举报 record. Statutory clocks (7 working days to decide on a complaint's
acceptance, 15 for a tip-off) are checked by SC-11 and tracked by `adapters.lifecycle`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from adapters.departments._desk import SAMPLES, Desk, Source, Unit
from adapters.native import Column, boolean, code, day, listed, moment, number, text
from adapters.sdk.department import StandardClaim

__all__ = ["CLAIMS", "COLUMNS", "UNIT", "Complaints12315", "sources"]

UNIT: Final = Unit("11510000MB0A1B2C62", "四川省市场监督管理局（12315）", "510000")
CLAIMS: Final = (
    StandardClaim("SC-11", "1.0.0"),
    StandardClaim("SC-12", "1.0.0"),
    StandardClaim("SC-14", "1.0.0"),
)

# SC-11's project-defined codes (channel, decisions, mediation outcome).
_CHANNEL: Final = {"12315热线": "1", "全国12315平台": "2", "来信": "3", "来访": "4", "其他": "9"}
_DECISION: Final = {"受理": "1", "不予受理": "2", "立案": "3", "不予立案": "4"}
_MEDIATION: Final = {"调解成功": "1", "调解不成功": "2"}

COLUMNS: Final = (
    Column("requestNo", ("sqbh", "诉求编号"), text(64), required=True),
    Column("requestKind", ("sqlb", "诉求类别"), listed("complaint_kind"), required=True),
    Column("channel", ("lyqd", "来源渠道"), code(_CHANNEL, name_zh="来源渠道", name_en="channel")),
    Column("receivedTime", ("djsj", "登记时间"), moment, required=True),
    Column("anonymous", ("sfnm", "是否匿名"), boolean, required=True),
    Column("complainantName", ("tsrxm", "投诉人姓名"), text(50)),
    Column("complainantPhone", ("tsrdh", "联系电话"), text(20)),
    Column("complainantIdNumber", ("tsrsfzh", "身份证号"), text(18)),
    Column("complainantAddress", ("tsrdz", "投诉人住址"), text(200)),
    Column("objectName", ("btsdx", "被投诉对象"), text(200), required=True),
    Column("objectCertCode", ("btsdxxydm", "被投诉对象统一社会信用代码"), text(18)),
    Column("objectRegionCode", ("ssqh", "属地区划"), text(6), required=True),
    Column("serviceType", ("splb", "商品或服务类别"), text(100)),
    Column("serviceName", ("spmc", "商品或服务名称"), text(200)),
    Column("disputeDate", ("zyfsrq", "争议发生日期"), day),
    Column("amount", ("sjje", "涉及金额"), number),
    Column("detail", ("sqnr", "诉求内容"), text(4000), required=True),
    Column("handlingDepartment", ("cbdw", "承办单位"), text(100), required=True),
    Column("acceptDecision", ("sljd", "受理决定"), code(_DECISION, name_zh="受理决定", name_en="decision")),
    Column("acceptDecisionTime", ("sljdsj", "受理决定时间"), moment),
    Column(
        "mediationResult", ("tjjg", "调解结果"), code(_MEDIATION, name_zh="调解结果", name_en="mediation")
    ),
    Column("mediationEndTime", ("tjjssj", "调解结束时间"), moment),
    Column("closeTime", ("bjsj", "办结时间"), moment),
    Column("reportTime", ("bssj", "报送时间"), moment),
)


def sources(folder: Path = SAMPLES) -> tuple[Source, ...]:
    """The platform's JSON export in `folder`."""
    return (Source(folder / "12315_export.json", "SC-11", COLUMNS, "requestNo", fmt="json", items="records"),)


class Complaints12315(Desk):
    """The 12315 platform's adapter mapping."""

    def __init__(self, folder: Path = SAMPLES, *, auto_claim: bool = True) -> None:
        super().__init__(unit=UNIT, claims=CLAIMS, sources=sources(folder), auto_claim=auto_claim)

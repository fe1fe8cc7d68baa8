"""SC-20 rule kind: a record bound for a destination class is masked per that class's profile."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standards.findings import Finding
from standards.masking import MaskingPolicy
from standards.rules.base import Check, Context, Emit, kind

_ACTION_TEXT = {
    "drop": ("须删除", "must be removed"),
    "mask_id": ("须按“前6后4”脱敏", "must be masked keeping the first 6 and last 4 characters"),
    "mask_phone": ("须按“前3后4”脱敏", "must be masked keeping the first 3 and last 4 digits"),
    "mask_name": ("须仅保留姓氏", "must keep only the family name"),
    "district": ("须仅保留到区县", "must keep only the district or county"),
}

# Chinese names of destinations and classes, so that the Chinese message is wholly Chinese.
_DESTINATION_ZH = {
    "internal": "省内部门",
    "national": "国家系统",
    "partner": "川渝协作方",
    "public": "社会公示",
}
_CLASS_ZH = {
    "idNumber": "身份证件号码",
    "phone": "电话号码",
    "otherPersonName": "其他自然人姓名",
    "homeAddress": "住址",
    "bankAccount": "银行账号",
}


@kind("masked")
def _masked(params: Mapping[str, Any], emit: Emit) -> Check:
    """Fields whose profile action is one of ``actions`` must already be masked (or absent)."""
    policy: MaskingPolicy = params["policy"]
    actions = frozenset(params["actions"])
    standard = params.get("standard")

    def check(record: Mapping[str, Any], ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        if ctx.destination is None:
            return out
        for v in policy.violations(record, ctx.destination, standard):
            if v.action in actions:
                zh, en = _ACTION_TEXT[v.action]
                out.append(
                    emit(
                        v.pointer,
                        f"发往{_DESTINATION_ZH.get(ctx.destination, ctx.destination)}："
                        f"{v.field}（{_CLASS_ZH.get(v.cls, v.cls)}）{zh}",
                        f"bound for {ctx.destination}: {v.field} ({v.cls}) {en}",
                    )
                )
        return out

    return check

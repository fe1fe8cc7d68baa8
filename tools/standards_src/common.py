"""Helpers to declare a standard compactly: field rows, rules with their clauses and bad fixtures, blocks
of fields shared by the 监管行为 standards, and valid identifiers for fixtures."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from standards.identifiers import citizen_id_check_char, org_code_check_char, uscc_check_char

NATIONAL = "national-layout"
PROJECT = "project-defined"
STATUTE = "statute"
VERSION = "1.0.0"
VALID_FROM = "2024-01-01"
FIXTURE_DAY = "2025-06-30"
PERSONAL_CERTS = [
    "111",
    "112",
    "113",
    "114",
    "115",
    "117",
    "118",
    "119",
    "335",
    "411",
    "412",
    "413",
    "414",
    "415",
    "416",
    "417",
    "418",
    "420",
    "421",
    "511",
    "513",
    "516",
    "517",
    "553",
    "990",
]
CITIZEN_ID_CERTS = ["111", "112"]


def uscc(region: str = "510104", body: str = "MA6CX0T1", kind: str = "91") -> str:
    """A valid unified social credit code (embedded org-code check included)."""
    first17 = kind + region + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


def citizen_id(region: str = "510104", birth: str = "19900101", seq: str = "123") -> str:
    """A valid 18-digit citizen ID number."""
    first17 = region + birth + seq
    return first17 + citizen_id_check_char(first17)


def f(
    name: str,
    zh: str,
    en: str,
    typ: str = "string",
    req: bool | list[str] = False,
    mx: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One field-table row; extra keys are passed through in their JSON spelling (codeList, identifier…)."""
    row: dict[str, Any] = {"name": name, "labelZh": zh, "labelEn": en, "type": typ, "required": req}
    if mx is not None:
        row["maxLength"] = mx
    for key, value in extra.items():
        if key == "desc":
            row["descriptionZh"], row["descriptionEn"] = value
        else:
            row[key] = value
    return row


@dataclass
class Bad:
    """A bad fixture: a patch of a good fixture (``set`` pointers, ``drop`` pointers) or raw bytes."""

    name: str
    base: str = "default"
    set: dict[str, Any] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)
    raw: bytes | None = None
    suffix: str = ".json"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Std:
    """A standard being declared."""

    id: str
    title: tuple[str, str]
    scope: tuple[str, str]
    kind: str = "record"
    origin: str = NATIONAL
    version: str = VERSION
    valid_from: str = VALID_FROM
    valid_to: str | None = None
    status: str = "active"
    fields: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    clauses: list[dict[str, Any]] = field(default_factory=list)
    good: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad: dict[str, list[Bad]] = field(default_factory=dict)  # rule id -> fixtures
    extra: dict[str, Any] = field(default_factory=dict)
    variant_field: str | None = None
    variants: list[str] = field(default_factory=list)
    _next_clause: int = 1

    def clause(
        self, cid: str, title: tuple[str, str], text: tuple[str, str], origin: str | None = None, **extra: Any
    ) -> str:
        """Declare a clause; returns its id."""
        doc: dict[str, Any] = {
            "id": cid,
            "titleZh": title[0],
            "titleEn": title[1],
            "textZh": text[0],
            "textEn": text[1],
            "origin": origin or self.origin,
        }
        doc.update(extra)
        self.clauses.append(doc)
        return cid

    def rule(
        self,
        kind: str,
        params: dict[str, Any],
        msg: tuple[str, str],
        *,
        bad: list[Bad] | Bad,
        severity: str = "error",
        clause: str | None = None,
        text: tuple[str, str] | None = None,
        title: tuple[str, str] | None = None,
        origin: str | None = None,
        rid: str | None = None,
        **extra: Any,
    ) -> str:
        """Declare a rule (and, unless ``clause`` names an existing one, its own clause 5.n)."""
        rid = rid or f"{self.id}.R{len([r for r in self.rules if '.R' in r['id']]) + 1:03d}"
        if clause is None:
            clause = f"5.{self._next_clause}"
            self._next_clause += 1
            self.clause(clause, title or msg, text or msg, origin)
        doc = {
            "id": rid,
            "clause": clause,
            "severity": severity,
            "kind": kind,
            "params": params,
            "messageZh": msg[0],
            "messageEn": msg[1],
            **extra,
        }
        self.rules.append(doc)
        self.bad[rid] = bad if isinstance(bad, list) else [bad]
        return rid


def patch(record: dict[str, Any], bad: Bad) -> dict[str, Any]:
    """Apply a bad fixture's patch to a deep copy of a good record (pointers like ``/a/0/b``)."""
    out = copy.deepcopy(record)
    for pointer in bad.drop:
        container, key = _walk(out, pointer)
        del container[key]
    for pointer, value in bad.set.items():
        container, key = _walk(out, pointer)
        if isinstance(container, list):
            container[key] = value
        else:
            container[key] = value
    return out


def _walk(record: Any, pointer: str) -> tuple[Any, Any]:
    parts = pointer.lstrip("/").split("/")
    node = record
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last: Any = int(parts[-1]) if isinstance(node, list) else parts[-1]
    return node, last


# --- fields shared by the 监管行为 standards (national layouts §2.2–2.5) -----------------------------


def matter_code(req: bool = True) -> dict[str, Any]:
    """监管事项目录编码."""
    return f(
        "supervisionMatterCode",
        "监管事项目录编码",
        "regulatory item code",
        req=req,
        mx=14,
        desc=("14 位数字的监管事项目录编码", "the 14-digit code of the regulatory item catalogue (SC-01)"),
    )


def institution_block() -> list[dict[str, Any]]:
    """实施机构 and 受委托部门, with their codes (USCC)."""
    return [
        f("implementInstitution", "实施机构", "implementing institution", mx=100),
        f(
            "implementInstitutionCode",
            "实施机构编码",
            "implementing institution code",
            mx=20,
            identifier="uscc",
            desc=("实施机构的统一社会信用代码", "the implementing institution's unified social credit code"),
        ),
        f("entrustedDepartment", "受委托部门", "entrusted department", mx=100, aliases=["委托部门"]),
        f(
            "entrustedDepartmentCode",
            "受委托部门编码",
            "entrusted department code",
            mx=20,
            identifier="uscc",
            aliases=["委托部门编码"],
        ),
    ]


def object_block(name_required: bool = True) -> list[dict[str, Any]]:
    """监管对象类型 and 监管对象."""
    return [
        f(
            "superviseObjectType",
            "监管行为监管对象类型",
            "type of regulated object",
            codeList="object_type",
            aliases=["监管对象类型"],
        ),
        f("superviseObjectName", "监管对象", "regulated object", req=name_required, mx=200),
    ]


def party_block() -> list[dict[str, Any]]:
    """行政相对人: name, nature, certificate type and number (USCC or citizen ID by type), addresses, region."""
    return [
        f("counterpartName", "行政相对人（单位/个人）", "administrative counterpart", req=True, mx=200),
        f(
            "counterpartCategory",
            "行政相对人性质",
            "counterpart category",
            req=True,
            codeList="party_category",
        ),
        f(
            "counterpartIdType",
            "行政相对人证件类型",
            "counterpart certificate type",
            req=True,
            mx=10,
            codeList="certificate_type",
        ),
        f(
            "counterpartIdCode",
            "行政相对人（单位/个人）编码",
            "counterpart identifier",
            req=True,
            mx=20,
            certificateTypeField="counterpartIdType",
            desc=(
                "证件类型为 001 时为统一社会信用代码，为 111/112 时为公民身份号码",
                "a USCC when the certificate type is 001, a citizen ID number when it is 111/112",
            ),
        ),
        f("registeredAddress", "注册地址", "registered address", mx=400),
        f("businessAddress", "经营地址", "business address", mx=400),
        f("regionCode", "行政区划代码", "administrative division code", req=True, mx=6, codeList="region"),
    ]


def report_block() -> list[dict[str, Any]]:
    """报送时间 and 报送人员."""
    return [
        f("reportTime", "报送时间", "time of reporting", "datetime"),
        f("reportPerson", "报送人员", "reported by", mx=50),
    ]


def party_rules(s: Std, fixture_base: str = "default") -> None:
    """The union-field rules shared by the 监管行为 standards: a natural person carries a personal
    certificate, an organisation or 个体工商户 carries a USCC."""
    s.rule(
        "allowed_if",
        {
            "field": "counterpartIdType",
            "when": {"field": "counterpartCategory", "in": ["2"]},
            "values": PERSONAL_CERTS,
        },
        (
            "行政相对人为自然人时，证件类型应为个人证件",
            "a natural-person counterpart carries a personal certificate type",
        ),
        text=(
            "行政相对人性质为自然人（2）时，行政相对人证件类型不得为统一社会信用代码（001）。",
            "When the counterpart is a natural person (2), its certificate type shall not be the USCC (001).",
        ),
        bad=Bad("person-with-uscc", fixture_base, set={"/counterpartCategory": "2"}),
    )
    s.rule(
        "allowed_if",
        {
            "field": "counterpartIdType",
            "when": {"field": "counterpartCategory", "in": ["1", "3"]},
            "values": ["001"],
        },
        (
            "行政相对人为组织或个体工商户时，证件类型应为统一社会信用代码",
            "an organisation or individual-business counterpart carries a USCC",
        ),
        text=(
            "行政相对人性质为法人及非法人组织（1）或个体工商户（3）时，证件类型应为统一社会信用代码（001），编码为其统一社会信用代码。",
            "When the counterpart is an organisation (1) or an individual business (3), the certificate type shall "
            "be 001 and the identifier its unified social credit code.",
        ),
        bad=Bad(
            "organisation-with-id-card",
            fixture_base,
            set={"/counterpartIdType": "111", "/counterpartIdCode": citizen_id()},
        ),
    )

"""Turn declared standards into the files under standards/data: standard.json, schema.json, fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from standards.schemagen import schema_for
from standards.structure import STRUCTURE_RULES
from standards_src.common import FIXTURE_DAY, Bad, Std, patch

_STRUCTURE_CLAUSES = {
    "S001": (
        "必填数据项",
        "required fields",
        "标注为必填的数据项应当出现且不为空值（空字符串或仅含空白字符均视为空值）。",
        "Fields marked required shall be present and not blank (an empty string or white space alone is blank).",
    ),
    "S002": (
        "数据类型",
        "data types",
        "数据项应当符合字段表规定的数据类型；日期写作 YYYY-MM-DD，日期时间写作 YYYY-MM-DD hh:mm:ss。",
        "Fields shall have the type of the field table; dates are YYYY-MM-DD, date-times YYYY-MM-DD hh:mm:ss.",
    ),
    "S003": (
        "长度",
        "lengths",
        "字符串长度（按字符计）与数组项数不得超过字段表规定的上限。",
        "Strings (counted in characters) and arrays shall not exceed the field table's limits.",
    ),
    "S004": (
        "格式",
        "formats",
        "日期、日期时间及规定了格式的数据项应当符合格式，且为真实存在的日期。",
        "Dates, date-times and patterned fields shall have the required format and name real days.",
    ),
    "S005": (
        "未定义数据项",
        "undefined fields",
        "记录不得包含字段表未定义的数据项。",
        "A record shall not carry fields the field table does not define.",
    ),
    "S006": (
        "枚举值",
        "enumerated values",
        "规定了可选值的数据项只能取其中之一。",
        "Fields with enumerated values shall take one of them.",
    ),
    "S007": (
        "数值范围",
        "numeric ranges",
        "数值应当在字段表规定的范围内。",
        "Numbers shall lie within the field table's range.",
    ),
}


def _top_rows(s: Std, variant: str | None) -> list[dict[str, Any]]:
    return [
        r
        for r in s.fields
        if "." not in r["name"]
        and "[]" not in r["name"]
        and (variant is None or not r.get("variants") or variant in r["variants"])
    ]


def _structure_bad(s: Std, suffix: str, base: str, good: dict[str, Any]) -> Bad | None:
    variant = good.get(s.variant_field) if s.variant_field else None
    rows = [r for r in _top_rows(s, variant) if r["name"] in good and r["name"] != s.variant_field]

    def first(pred: Any) -> dict[str, Any] | None:
        return next((r for r in rows if pred(r)), None)

    if suffix == "S001":
        row = first(
            lambda r: (
                r.get("required") is True
                or (isinstance(r.get("required"), list) and variant in r["required"])
            )
        )
        return Bad(f"missing-{row['name']}", base, drop=[f"/{row['name']}"]) if row else None
    if suffix == "S002":
        row = first(lambda r: r["type"] == "string")
        return Bad(f"number-for-{row['name']}", base, set={f"/{row['name']}": 12345}) if row else None
    if suffix == "S003":
        row = first(lambda r: r["type"] == "string" and "maxLength" in r)
        return (
            Bad(f"too-long-{row['name']}", base, set={f"/{row['name']}": "字" * (row["maxLength"] + 1)})
            if row
            else None
        )
    if suffix == "S004":
        row = first(lambda r: r["type"] in {"date", "datetime"})
        if row:
            value = "2025/06/01" if row["type"] == "date" else "2025-06-01T10:00:00"
            return Bad(f"format-{row['name']}", base, set={f"/{row['name']}": value})
        return None
    if suffix == "S005":
        return Bad("undefined-field", base, set={"/undefinedField": "x"})
    if suffix == "S006":
        row = first(lambda r: r.get("enum"))
        return Bad(f"enum-{row['name']}", base, set={f"/{row['name']}": "ZZ"}) if row else None
    if suffix == "S007":
        row = first(lambda r: "maximum" in r or "minimum" in r)
        if row is None:
            return None
        value = row["maximum"] + 1 if "maximum" in row else row["minimum"] - 1
        return Bad(f"range-{row['name']}", base, set={f"/{row['name']}": value})
    return None


def _blank_bad(s: Std, base: str, good: dict[str, Any]) -> list[Bad]:
    """A required free-text field given as white space alone (clause 4.1: not blank), when there is one."""
    variant = good.get(s.variant_field) if s.variant_field else None
    for r in _top_rows(s, variant):
        needed = r.get("required") is True or (isinstance(r.get("required"), list) and variant in r["required"])
        if needed and r["type"] == "string" and not r.get("enum") and "pattern" not in r and r["name"] in good:
            return [Bad(f"blank-{r['name']}", base, set={f"/{r['name']}": " \u3000 "})]
    return []


def add_structure(s: Std) -> None:
    """Prepend clauses 4.1–4.7 and the structural rules S001–S007 that the field table calls for."""
    rows = s.fields
    present = {"S001", "S002", "S005"}
    if any("maxLength" in r or "maxItems" in r for r in rows):
        present.add("S003")
    if any(r["type"] in {"date", "datetime"} or "pattern" in r for r in rows):
        present.add("S004")
    if any(r.get("enum") for r in rows) or s.variant_field:
        present.add("S006")
    if any("minimum" in r or "maximum" in r for r in rows):
        present.add("S007")
    clauses, rules = [], []
    for index, suffix in enumerate(sorted(present), start=1):
        t_zh, t_en, x_zh, x_en = _STRUCTURE_CLAUSES[suffix]
        cid = f"4.{index}"
        clauses.append(
            {"id": cid, "titleZh": t_zh, "titleEn": t_en, "textZh": x_zh, "textEn": x_en, "origin": s.origin}
        )
        zh, en = STRUCTURE_RULES[suffix]
        rid = f"{s.id}.{suffix}"
        rules.append(
            {
                "id": rid,
                "clause": cid,
                "severity": "error",
                "kind": "schema",
                "params": {},
                "messageZh": zh,
                "messageEn": en,
            }
        )
        base = next(iter(s.good))
        bad = _structure_bad(s, suffix, base, s.good[base])
        if bad is None and s.variant_field and suffix == "S006":
            bad = Bad(f"enum-{s.variant_field}", base, set={f"/{s.variant_field}": "ZZ"})
        if bad is None:
            raise ValueError(f"{rid}: no field to build a bad fixture from")
        s.bad[rid] = [bad]
        if suffix == "S001":
            s.bad[rid] += _blank_bad(s, base, s.good[base])
    s.clauses[:0] = clauses
    s.rules[:0] = rules


def joined_rule_ids(s: Std, joined: Std) -> list[str]:
    """The rules of SC-16/SC-18/SC-20 that the validator joins to record standard ``s`` (mirrors standards.validator)."""
    ids = []
    names = {r["name"] for r in s.fields}
    for rule in joined.rules:
        kind, params = rule["kind"], rule["params"]
        hit = False
        if kind == "identifier":
            hit = any(r.get("identifier") == params["type"] for r in s.fields)
        elif kind == "certificate":
            hit = any(r.get("certificateTypeField") for r in s.fields)
        elif kind in {"region", "industry"}:
            hit = any(r.get("codeList") == kind for r in s.fields)
        elif kind == "code_list":
            hit = any(r.get("codeList") not in {None, "region", "industry"} for r in s.fields)
        elif kind == "timeliness":
            hit = bool(s.extra.get("actDateField") and s.extra.get("reportField"))
        elif kind == "not_after_validation_day":
            hit = bool(s.extra.get("reportField"))
        elif kind == "masked":
            leaves = {n.rsplit(".", 1)[-1] for n in names}
            hit = bool(leaves & set(joined.extra["fieldClasses"]))
        if hit and (not rule.get("appliesTo") or s.id in rule["appliesTo"]):
            ids.append(rule["id"])
    return ids


def add_joined_clauses(s: Std, sc16: Std, sc18: Std, sc20: Std) -> None:
    """Clauses 6–8 of a record standard: codes (SC-16), timeliness (SC-18), personal information (SC-20)."""
    codes = joined_rule_ids(s, sc16)
    if codes:
        s.clause(
            "6",
            ("代码与标识", "codes and identifiers"),
            (
                "引用代码表的数据项取值应在代码表中；统一社会信用代码、公民身份号码等标识应符合 SC-16 的校验规则；行政区划代码应在业务发生日有效。",
                "Coded fields take values from their code lists; identifiers pass the SC-16 checks; region codes are "
                "in force on the day of the act.",
            ),
            coveredBy=codes,
        )
    quality = joined_rule_ids(s, sc18)
    if quality:
        s.clause(
            "7",
            ("报送时效", "timeliness of reporting"),
            (
                "记录应在业务发生后规定的工作日内报送，报送时间不得晚于接收方校验之日（见 SC-18）。",
                "Records are reported within the working days SC-18 sets after the act, and not dated after the day "
                "they are received.",
            ),
            coveredBy=quality,
        )
    privacy = joined_rule_ids(s, sc20)
    if privacy:
        s.clause(
            "8",
            ("个人信息", "personal information"),
            (
                "向不同类别的接收方提供记录时，个人信息应按 SC-20 的脱敏规则处理。",
                "Personal information is masked per SC-20 for the class of the destination.",
            ),
            coveredBy=privacy,
        )


def _clause_key(cid: str) -> tuple[int, ...]:
    return tuple(int(p) for p in cid.split("."))


def document(s: Std) -> dict[str, Any]:
    """The ``standard.json`` of a declared standard."""
    doc: dict[str, Any] = {
        "id": s.id,
        "version": s.version,
        "validFrom": s.valid_from,
        "validTo": s.valid_to,
        "status": s.status,
        "kind": s.kind,
        "titleZh": s.title[0],
        "titleEn": s.title[1],
        "scopeZh": s.scope[0],
        "scopeEn": s.scope[1],
    }
    if s.variant_field:
        doc["variantField"], doc["variants"] = s.variant_field, s.variants
    doc.update(s.extra)
    doc["clauses"] = sorted(s.clauses, key=lambda c: _clause_key(c["id"]))
    if s.fields:
        doc["fields"] = s.fields
    doc["rules"] = s.rules
    return doc


def _dump(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def outputs(standards: list[Std], root: Path) -> dict[Path, bytes]:
    """Every file to write under ``root`` (standards/data)."""
    by_id = {s.id: s for s in standards}
    files: dict[Path, bytes] = {}
    options: dict[str, dict[str, Any]] = {}
    for s in standards:
        base = root / s.id / s.version
        doc = document(s)
        files[base / "standard.json"] = _dump(doc)
        if s.kind == "record":
            files[base / "schema.json"] = _dump(schema_for(doc))
            for name, record in s.good.items():
                files[base / "fixtures" / "good" / f"{name}.json"] = _dump(record)
            options.setdefault(f"{s.id}/{s.version}", {"default": {"on": FIXTURE_DAY}})
    for s in standards:
        for rid, bads in s.bad.items():
            for bad in bads:
                target = by_id[bad.options.get("standard", s.id)]
                base = root / target.id / target.version / "fixtures"
                rel = f"bad/{rid}-{bad.name}{bad.suffix}"
                if bad.raw is not None:
                    files[base / rel] = bad.raw
                else:
                    files[base / rel] = _dump(patch(target.good[bad.base], bad))
                extra = {k: v for k, v in bad.options.items() if k != "standard"}
                if extra:
                    options.setdefault(f"{target.id}/{target.version}", {"default": {"on": FIXTURE_DAY}})[
                        rel
                    ] = extra
    for key, table in options.items():
        files[root / key / "fixtures" / "options.json"] = _dump(table)
    return files

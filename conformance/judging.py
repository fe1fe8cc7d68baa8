"""From recorded exchanges to results: the one place where verdicts are decided. Pure.

The live run and ``jgx conformance recheck`` both call `judge_run` on the same recorded exchanges, so
a recheck re-derives every verdict (verifying recorded receipts, digests and reason codes again)
instead of reading stored ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf.message import DecodeError

from conformance.checks import CATALOGUE, by_id, checks_for
from conformance.evidence import Exchange, unb64
from conformance.grouping import failing_result
from conformance.judging_export import judge_describe, judge_export
from conformance.judging_probes import judge_claimed, judge_export_count
from conformance.results import Result, RunInfo
from gateway.dsse import RECEIPT_TYPE
from gateway.errors import VerificationError
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import verify_receipt
from gateway.trust import TrustConfig

__all__ = ["NEGATIVE_PROBES", "judge_run", "parse_receipt"]

#: probe name -> the negative check it serves.
NEGATIVE_PROBES: dict[str, str] = {
    "tampered": "CF-DELIVER-NEG-TAMPERED",
    "unsigned": "CF-DELIVER-NEG-UNSIGNED",
    "unknown-key": "CF-DELIVER-NEG-UNKNOWN-KEY",
    "revoked-key": "CF-DELIVER-NEG-REVOKED-KEY",
    "retired-key": "CF-DELIVER-NEG-RETIRED-KEY",
    "wrong-algorithm": "CF-DELIVER-NEG-WRONG-ALGORITHM",
    "payload-type": "CF-DELIVER-NEG-PAYLOAD-TYPE",
    "sender-key-mismatch": "CF-DELIVER-NEG-SENDER-KEY",
    "expired": "CF-DELIVER-NEG-EXPIRED",
    "not-yet-valid": "CF-DELIVER-NEG-NOT-YET-VALID",
    "replayed": "CF-DELIVER-NEG-REPLAYED",
    "misaddressed": "CF-DELIVER-NEG-MISADDRESSED",
    "unknown-standard": "CF-DELIVER-NEG-UNKNOWN-STANDARD",
    "unknown-version": "CF-DELIVER-NEG-UNKNOWN-VERSION",
    "schema-invalid": "CF-DELIVER-NEG-SCHEMA-INVALID",
    "rule-violation": "CF-DELIVER-NEG-RULE-VIOLATION",
    "acl-denied": "CF-DELIVER-NEG-ACL-DENIED",
    "identity-mismatch": "CF-DELIVER-NEG-IDENTITY",
    "oversized": "CF-DELIVER-NEG-OVERSIZED",
    "foreign-ca": "CF-TLS-FOREIGN-CA",
}
#: probes whose delivery a conforming adapter accepts (single calls).
ACCEPTING_PROBES = ("valid", "replay-original", "replay-gap", "idempotent")
#: probes delivered over a channel of their own (another transport identity).
_OWN_CHANNEL = ("identity-mismatch", "foreign-ca")
#: Chinese names of receipt outcomes, so that Chinese report lines stay Chinese.
_OUTCOME_ZH = {"ACCEPTED": "接收", "REJECTED": "拒收", "DUPLICATE": "重复", "UNSPECIFIED": "未说明"}


def parse_receipt(x: Exchange) -> tuple[exchange_pb2.Envelope, exchange_pb2.Receipt] | None:
    """The receipt envelope and its body as recorded, without trusting it (None when there is none)."""
    text = x.response.get("receiptB64")
    if not isinstance(text, str):
        return None
    envelope = exchange_pb2.Envelope()
    receipt = exchange_pb2.Receipt()
    try:
        envelope.ParseFromString(unb64(text))
        if envelope.payload_type == RECEIPT_TYPE:
            receipt.ParseFromString(envelope.body)
    except (DecodeError, VerificationError):
        return None
    return envelope, receipt


def _outcome(receipt: exchange_pb2.Receipt) -> str:
    return exchange_pb2.Outcome.Name(receipt.outcome).removeprefix("OUTCOME_")


def _said(x: Exchange) -> str:
    parsed = parse_receipt(x)
    if parsed is None:
        return f"gRPC {x.response.get('status')} {x.response.get('reason', '')}".strip()
    receipt = parsed[1]
    return f"receipt {_outcome(receipt)} {list(receipt.reason_codes)}"


def said_zh(x: Exchange) -> str:
    """What came back, in Chinese (codes and statuses stay as the identifiers they are)."""
    parsed = parse_receipt(x)
    if parsed is None:
        return f"gRPC 状态 {x.response.get('status')} {x.response.get('reason', '')}".strip()
    receipt = parsed[1]
    codes = "、".join(receipt.reason_codes) or "无原因码"
    return f"回执结果为{_OUTCOME_ZH.get(_outcome(receipt), _outcome(receipt))}（{codes}）"


def _deliveries(exchanges: Sequence[Exchange], *probes: str) -> list[Exchange]:
    return [x for x in exchanges if x.rpc == "Deliver" and x.probe in probes]


def _pass(check: str, seqs: Sequence[int]) -> Result:
    return Result(check, "pass", "", "通过", "passed", (), tuple(seqs))


def _fail(check: str, problems: list[tuple[str, str]], seqs: Sequence[int]) -> Result:
    return failing_result(check, problems, seqs)


def _verdict(check: str, problems: list[tuple[str, str]], seqs: Sequence[int]) -> Result:
    return _fail(check, problems, seqs) if problems else _pass(check, seqs)


def _skip(check: str, zh: str, en: str) -> Result:
    return Result(check, "skip", "", zh, en)


def judge_accepted(info: RunInfo, trust: TrustConfig, exchanges: Sequence[Exchange]) -> list[Result]:  # noqa: ARG001
    """CF-DELIVER-ACCEPTED: valid single deliveries get an accepted receipt."""
    calls = [x for x in _deliveries(exchanges, *ACCEPTING_PROBES) if x.concurrency == 1]
    if not calls:
        return [_skip("CF-DELIVER-ACCEPTED", "未投递有效报文", "no valid delivery was made")]
    problems = []
    for x in calls:
        parsed = parse_receipt(x)
        if parsed is None or parsed[1].outcome != exchange_pb2.OUTCOME_ACCEPTED:
            problems.append(
                (f"#{x.seq} {said_zh(x)}，应为接收", f"#{x.seq} {x.probe}: {_said(x)}, expected ACCEPTED")
            )
    return [_verdict("CF-DELIVER-ACCEPTED", problems, [x.seq for x in calls])]


def judge_receipts(info: RunInfo, trust: TrustConfig, exchanges: Sequence[Exchange]) -> list[Result]:
    """CF-DELIVER-RECEIPT-SIGNATURE and -BINDING over every receipt of the run."""
    calls = [x for x in exchanges if x.rpc == "Deliver" and "receiptB64" in x.response]
    if not calls:
        return [
            _skip(c, "无回执", "no receipt was received")
            for c in ("CF-DELIVER-RECEIPT-SIGNATURE", "CF-DELIVER-RECEIPT-BINDING")
        ]
    signature: list[tuple[str, str]] = []
    binding: list[tuple[str, str]] = []
    for x in calls:
        parsed = parse_receipt(x)
        if parsed is None:
            signature.append(
                (f"#{x.seq} 回执不是回执类型的信封", f"#{x.seq} the receipt is not a receipt envelope")
            )
            continue
        envelope, receipt = parsed
        try:
            verify_receipt(envelope, trust, issuer=info.department, now=info.now)
        except VerificationError as exc:
            signature.append((f"#{x.seq} 回执验证失败（{exc.reason.value}）", f"#{x.seq} {x.probe}: {exc}"))
        sent = str(x.request.get("sha256", ""))
        if receipt.envelope_sha256.hex() != sent:
            binding.append(
                (
                    f"#{x.seq} 回执摘要与所投递信封不符",
                    f"#{x.seq} {x.probe}: receipt digest {receipt.envelope_sha256.hex()[:16]}… "
                    f"≠ delivered {sent[:16]}…",
                )
            )
        header = x.request.get("header") or {}
        for name in ("message_id", "sender"):
            value = getattr(receipt, name)
            if value and header.get(name) and value != header.get(name) and x.probe not in NEGATIVE_PROBES:
                binding.append(
                    (
                        f"#{x.seq} 回执中的{_FIELD_ZH.get(name, name)}不符",
                        f"#{x.seq} receipt {name} {value!r} ≠ {header.get(name)!r}",
                    )
                )
    seqs = [x.seq for x in calls]
    return [
        _verdict("CF-DELIVER-RECEIPT-SIGNATURE", signature, seqs),
        _verdict("CF-DELIVER-RECEIPT-BINDING", binding, seqs),
    ]


_FIELD_ZH = {"message_id": "报文标识", "sender": "发送方", "recipient": "接收方", "standard": "标准",
             "standard_version": "标准版本"}  # fmt: skip


def _refused_with(x: Exchange, expects: Sequence[str], *, any_refusal: bool = False) -> bool:
    """Whether `x` was refused with one of `expects` (or, with `any_refusal`, refused at all)."""
    parsed = parse_receipt(x)
    if any_refusal:
        return x.response.get("status") != "OK" or (
            parsed is not None and parsed[1].outcome == exchange_pb2.OUTCOME_REJECTED
        )
    if parsed is not None:
        receipt = parsed[1]
        return receipt.outcome == exchange_pb2.OUTCOME_REJECTED and bool(
            set(receipt.reason_codes) & set(expects)
        )
    reason = x.response.get("reason")
    if reason in expects:
        return True
    # A bare RESOURCE_EXHAUSTED (no jgx ErrorInfo) is the gRPC library's size limit: TOO_LARGE
    # (docs/wire.md §1); with ErrorInfo it is what the reason says, e.g. RATE_LIMITED.
    return "TOO_LARGE" in expects and x.response.get("status") == "RESOURCE_EXHAUSTED" and not reason


def judge_negative(info: RunInfo, trust: TrustConfig, exchanges: Sequence[Exchange]) -> list[Result]:  # noqa: ARG001
    """One result per negative check: refused, with one of the expected reason codes."""
    results = []
    for probe, check_id in NEGATIVE_PROBES.items():
        check = by_id(check_id)
        calls = _deliveries(exchanges, probe)
        if not calls:
            skipped = next((x for x in exchanges if x.rpc == "Skip" and x.probe == probe), None)
            why = dict(skipped.response) if skipped is not None else {}
            results.append(_skip(check_id, why.get("zh", "未执行"), why.get("en", "not run")))
            continue
        if probe == "replayed":
            original = _deliveries(exchanges, "replay-original")
            first = parse_receipt(original[0]) if original else None
            if first is None or first[1].outcome != exchange_pb2.OUTCOME_ACCEPTED:
                results.append(
                    Result(
                        check_id,
                        "error",
                        "",
                        "原报文未被接收，无法检验重放",
                        "the original was not accepted, so a replay cannot be tested",
                        exchanges=tuple(x.seq for x in original + calls),
                    )
                )
                continue
        lenient = probe == "foreign-ca"  # a failed handshake or any refusal will do
        expected_zh = "握手失败或拒收" if lenient else f"以 {'/'.join(check.expects)} 拒收"
        codes = "/".join(check.expects)
        expected_en = "a failed handshake or a refusal" if lenient else f"refusal with {codes}"
        problems = [
            (
                f"#{x.seq} {said_zh(x)}，应{expected_zh}",
                f"#{x.seq} {x.probe}: {_said(x)}, expected {expected_en}"
                + (f" ({x.request['forgery']})" if x.request.get("forgery") else ""),
            )
            for x in calls
            if not _refused_with(x, check.expects, any_refusal=lenient)
        ]
        results.append(_verdict(check_id, problems, [x.seq for x in calls]))
    return results


def judge_idempotency(info: RunInfo, trust: TrustConfig, exchanges: Sequence[Exchange]) -> list[Result]:  # noqa: ARG001
    """CF-DELIVER-IDEMPOTENT: the second delivery of the same bytes gets the same receipt."""
    calls = _deliveries(exchanges, "idempotent")
    if len(calls) < 2:
        return [_skip("CF-DELIVER-IDEMPOTENT", "未重复投递", "no redelivery was made")]
    first, second = parse_receipt(calls[0]), parse_receipt(calls[1])
    seqs = [x.seq for x in calls]
    if first is None or second is None:
        return [_fail("CF-DELIVER-IDEMPOTENT", [("缺少回执", "a receipt is missing")], seqs)]
    problems = []
    if calls[0].request.get("sha256") != calls[1].request.get("sha256"):
        problems.append(("两次投递的字节不同", "the two deliveries were not the same bytes"))
    if first[0].body != second[0].body:
        a, b = first[1], second[1]
        problems.append(
            (
                f"第二次回执与第一次不同（{_outcome(a)}→{_outcome(b)}，"
                f"日志序号 {a.log_index}→{b.log_index}）",
                f"the second receipt differs from the first ({_outcome(a)}→{_outcome(b)}, log index "
                f"{a.log_index}→{b.log_index}, reasons {list(b.reason_codes)})",
            )
        )
    return [_verdict("CF-DELIVER-IDEMPOTENT", problems, seqs)]


def judge_latency(info: RunInfo, trust: TrustConfig, exchanges: Sequence[Exchange]) -> list[Result]:  # noqa: ARG001
    """CF-LATENCY-SINGLE and CF-LATENCY-CONCURRENT against the run's budget."""
    budget = info.budget_ms
    # The transport probes open a fresh TLS connection each: their time is the handshake's, not the adapter's.
    single = [
        x for x in exchanges
        if x.rpc in ("Describe", "Deliver") and x.concurrency == 1 and x.probe not in _OWN_CHANNEL
    ]  # fmt: skip
    results = [
        _verdict("CF-LATENCY-SINGLE", _over_budget(single, budget), [x.seq for x in single])
        if single
        else _skip("CF-LATENCY-SINGLE", "无调用", "no call was made")
    ]
    burst = _deliveries(exchanges, "concurrent")
    if not burst:
        results.append(_skip("CF-LATENCY-CONCURRENT", "未执行并发调用", "no concurrent calls were made"))
        return results
    problems = []
    if len(burst) < info.concurrency:
        problems.append(
            (f"仅 {len(burst)} 个并发调用", f"only {len(burst)} of {info.concurrency} concurrent calls")
        )
    accepted = []
    for x in burst:
        parsed = parse_receipt(x)
        if parsed is None or parsed[1].outcome != exchange_pb2.OUTCOME_ACCEPTED:
            problems.append((f"#{x.seq} 未被接收：{said_zh(x)}", f"#{x.seq} not accepted: {_said(x)}"))
        else:
            accepted.append(x)
    problems += _over_budget(accepted, budget)
    results.append(_verdict("CF-LATENCY-CONCURRENT", problems, [x.seq for x in burst]))
    return results


def _over_budget(calls: Sequence[Exchange], budget: float) -> list[tuple[str, str]]:
    """One line per call over the budget (alike, so they group) and one naming the slowest."""
    slow = [x for x in calls if x.duration_ms > budget]
    if not slow:
        return []
    lines = [
        (f"#{x.seq} 超出 {budget:.0f} 毫秒的时延预算", f"#{x.seq} {x.rpc}: over the {budget:.0f} ms budget")
        for x in slow
    ]
    worst = max(slow, key=lambda x: x.duration_ms)
    return [
        *lines,
        (f"最慢一次耗时 {worst.duration_ms:.0f} 毫秒", f"the slowest call took {worst.duration_ms:.0f} ms"),
    ]


def judge_tls(
    info: RunInfo,
    trust: TrustConfig,  # noqa: ARG001 - every judge takes the same arguments
    exchanges: Sequence[Exchange],
    ca_cert: bytes | None,
) -> list[Result]:
    """CF-TLS-REQUIRED and CF-TLS-NODE-CERT from the recorded connection attempts."""
    from conformance.transport import certificate_problems

    connects = {x.probe: x for x in exchanges if x.rpc == "Connect"}
    if not info.tls or not connects:
        why = (
            "未提供 TLS 凭据（--insecure），未检验传输安全",
            "no TLS credentials (--insecure): transport security not tested",
        )
        return [_skip("CF-TLS-REQUIRED", *why), _skip("CF-TLS-NODE-CERT", *why)]
    problems = []
    for probe in ("plaintext", "no-client-cert"):
        x = connects.get(probe)
        if x is None or x.response.get("status") == "OK":
            problems.append(
                (f"{probe}: 连接被接受", f"{probe}: the adapter answered ({x.seq if x else '-'})")
            )
    seqs = [x.seq for x in connects.values()]
    results = [_verdict("CF-TLS-REQUIRED", problems, seqs)]
    handshake = connects.get("handshake")
    if handshake is None or handshake.response.get("status") != "OK":
        detail = handshake.response.get("detail", "") if handshake else ""
        results.append(
            _fail("CF-TLS-NODE-CERT", [("TLS 握手失败", f"the TLS handshake failed: {detail}")], seqs)
        )
        return results
    cert = str(handshake.response.get("certificatePem", "")).encode("ascii")
    version = str(handshake.response.get("tlsVersion", ""))
    found = certificate_problems(cert, ca_cert, node_id=info.department, now=info.now)
    if version != "TLSv1.3":
        found.append((f"TLS 版本为 {version}", f"TLS version is {version!r}, not TLSv1.3"))
    results.append(_verdict("CF-TLS-NODE-CERT", found, [handshake.seq]))
    return results


_Judge = Callable[[RunInfo, TrustConfig, Sequence[Exchange]], list[Result]]
_LIVE_JUDGES: tuple[_Judge, ...] = (
    judge_describe,
    judge_export,
    judge_export_count,
    judge_accepted,
    judge_claimed,
    judge_receipts,
    judge_negative,
    judge_idempotency,
    judge_latency,
)


def judge_run(
    info: RunInfo, trust: TrustConfig, exchanges: Sequence[Exchange], *, ca_cert: bytes | None = None
) -> list[Result]:
    """Every result of a run, in catalogue order."""
    if info.mode == "export":
        results = judge_describe(info, trust, exchanges) + judge_export(info, trust, exchanges)
    else:
        results = [r for judge in _LIVE_JUDGES for r in judge(info, trust, exchanges)]
        results += judge_tls(info, trust, exchanges, ca_cert)
    wanted = {c.id for c in checks_for("live" if info.mode != "export" else "export")}
    order = {c.id: i for i, c in enumerate(CATALOGUE)}
    return sorted((r for r in results if r.check in wanted), key=lambda r: (order[r.check], r.subject))


def results_json(results: Sequence[Result]) -> list[dict[str, Any]]:
    """The results as JSON objects."""
    return [r.to_json() for r in results]

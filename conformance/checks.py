"""The check catalogue: every conformance check as data (id, clauses, severity, what it expects).

Like Inferno's requirement ids and the OIDF suite's conditions, each check has a stable id that never
changes meaning, names the clauses it verifies (``SC-17 §6.3``), a severity and a description in Chinese
and English. Negative checks also name the reason codes a conforming adapter answers with. The runner
produces evidence for checks; `conformance.judging` turns evidence into results; nothing else decides.

Severity: ``must`` — a failure blocks the certificate; ``should`` — reported, does not block
(`SEVERITY_POLICY`: the CLI's exit code, the docs and every certificate state the same rule).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Final, Literal

__all__ = [
    "CATALOGUE",
    "GROUPS",
    "SEVERITY_POLICY",
    "SUITE_NAME",
    "SUITE_VERSION",
    "Check",
    "Severity",
    "by_id",
    "catalogue_digest",
    "checks_for",
]

SUITE_NAME: Final = "jgx-conformance"
SUITE_VERSION: Final = "1.0.0"

Severity = Literal["must", "should"]

#: What a failed check of each severity does to the certificate and to the exit code of
#: ``jgx conformance run``; recorded verbatim on every certificate.
SEVERITY_POLICY: Final[dict[str, dict[str, str]]] = {
    "must": {
        "zh": "未通过、出错或跳过即不签发证书；未通过或出错时退出码为 1，"
        "仅有跳过时退出码为 0（结论“不完整”）。",
        "en": "a failure, error or skip withholds the certificate; exit code 1 on a failure or error, 0 when "
        "only skipped (verdict incomplete).",
    },
    "should": {
        "zh": "未通过不影响签发证书和退出码 0，但在报告中作为警告列出，并逐项记入证书的 failedShould。",
        "en": "a failure does not withhold the certificate and leaves exit code 0; it is listed as a warning "
        "in the report and recorded check by check in the certificate's failedShould.",
    },
}
Mode = Literal["live", "export"]

#: group -> (中文, English), in the order reports show them.
GROUPS: Final[dict[str, tuple[str, str]]] = {
    "describe": ("适配器清单", "manifest (Describe)"),
    "export": ("导出记录", "exported records (Export)"),
    "deliver": ("接收与回执", "delivery and receipts (Deliver)"),
    "negative": ("异常报文拒收", "refusal of bad envelopes"),
    "idempotency": ("幂等", "idempotency"),
    "latency": ("响应时间", "latency"),
    "tls": ("传输安全", "transport security"),
}


@dataclass(frozen=True, slots=True)
class Check:
    """One conformance check."""

    id: str
    group: str
    clauses: tuple[str, ...]
    severity: Severity
    modes: tuple[Mode, ...]
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    expects: tuple[str, ...] = ()  # negative checks: the reason codes a conforming adapter gives

    def to_json(self) -> dict[str, object]:
        """The check as a JSON object (reports, `jgx conformance checks --json`)."""
        doc = asdict(self)
        doc["clauses"] = list(self.clauses)
        doc["modes"] = list(self.modes)
        doc["expects"] = list(self.expects)
        return doc


_LIVE: Final[tuple[Mode, ...]] = ("live",)
_BOTH: Final[tuple[Mode, ...]] = ("live", "export")


def _neg(
    suffix: str, clauses: tuple[str, ...], expects: tuple[str, ...], zh: str, en: str, dzh: str, den: str
) -> Check:
    return Check(f"CF-DELIVER-NEG-{suffix}", "negative", clauses, "must", _LIVE, zh, en, dzh, den, expects)


CATALOGUE: Final[tuple[Check, ...]] = (
    Check(
        "CF-DESCRIBE-MANIFEST", "describe", ("SC-17 §6.1",), "must", _BOTH,
        "清单完整", "complete manifest",
        "Describe 返回的清单写明节点标识、所声明的标准及版本、软件名称与版本、"
        "64 位十六进制构建摘要和签名密钥标识。",
        "Describe returns a manifest naming the node, the claimed standards and versions, the software "
        "name and version, a 64-hex-digit build digest and the signing key ids.",
    ),
    Check(
        "CF-DESCRIBE-TRUST", "describe", ("SC-19 §4.2", "SC-17 §6.2", "SC-17 §6.4"), "must", _BOTH,
        "清单与信任配置一致", "manifest consistent with the trust configuration",
        "清单中的节点即受认证部门且角色为 department；每个密钥标识均登记给该节点、未吊销且在有效期内；"
        "所声明的每项标准及版本存在且现行有效，"
        "且访问控制允许该部门发送或接收。",
        "The manifest's node is the department under test with role department; every key id is "
        "registered to it, unrevoked and valid; every claimed standard@version exists, is in force, "
        "and the ACL lets the "
        "department send or receive it.",
    ),
    Check(
        "CF-EXPORT-STREAM", "export", ("SC-17 §6.1",), "must", _BOTH,
        "按标准导出", "export of each claimed standard",
        "对每项所声明的标准，Export 按所请求的接收方返回至少一条签名记录。",
        "For every claimed standard, Export streams at least one signed record for each recipient asked for.",
    ),
    Check(
        "CF-EXPORT-SIGNATURE", "export", ("SC-17 §6.1", "SC-19 §4.1", "SC-19 §4.2"), "must", _BOTH,
        "导出记录签名", "signatures of exported records",
        "每个导出信封都能用信任配置中登记给该部门的密钥验证，且签名者即报文的发送方。",
        "Every exported envelope verifies with a key the trust configuration registers to the department, "
        "and the signer is the message's sender.",
    ),
    Check(
        "CF-EXPORT-HEADER", "export", ("SC-17 §6.2", "SC-17 §6.3", "SC-17 §6.4", "SC-17 §6.8"), "must", _BOTH,
        "导出报文头", "headers of exported messages",
        "导出报文的发送方、接收方、标准与版本与请求一致，报文标识不重复，在有效期内，且访问控制允许。",
        "Exported messages name the department as sender, the requested recipient and the claimed "
        "standard@version, never repeat a message id, are fresh, and are allowed by the ACL.",
    ),
    Check(
        "CF-EXPORT-RECORDS", "export", ("SC-17 §6.5", "SC-18 §5.3"), "must", _BOTH,
        "导出记录符合标准", "exported records validate",
        "每条导出记录按其标准及版本校验，无错误级发现项（已登记的规则调整除外）。",
        "Every exported record validates against its standard@version with no error finding (after any "
        "declared rule overrides).",
    ),
    Check(
        "CF-EXPORT-MASKING", "export", ("SC-20 §4.1",), "must", _BOTH,
        "个人信息脱敏", "masking of personal information",
        "发往各类接收方（内部、国家、川渝协作方）的记录按 SC-20 对该类接收方的规定脱敏。",
        "Records for each destination class (internal, national, partner) are masked as SC-20 requires "
        "for that class.",
    ),
    Check(
        "CF-EXPORT-COUNT", "export", ("SC-17 §6.1", "SC-18 §5.3"), "must", _LIVE,
        "导出记录完整", "complete export",
        "部门为每项标准申报测试导出的记录条数；"
        "不设上限的 Export 返回的记录条数与申报一致（少一条即不通过）。",
        "The department declares, per standard, how many records its test export holds; an Export "
        "without a limit returns exactly that many (one record missing fails).",
    ),
    Check(
        "CF-DELIVER-ACCEPTED", "deliver", ("SC-17 §6.6",), "must", _LIVE,
        "有效报文被接收", "valid messages are accepted",
        "枢纽投递的有效报文得到结果为“接收”的回执。",
        "A valid envelope delivered by the hub gets a receipt with outcome accepted.",
    ),
    Check(
        "CF-DELIVER-RECEIPT-SIGNATURE", "deliver", ("SC-17 §6.6", "SC-19 §4.1"), "must", _LIVE,
        "回执签名", "receipts are signed",
        "每张回执都是回执类型的信封，由该部门登记的密钥签名，签发方即该部门。",
        "Every receipt is a receipt-type envelope signed with the department's registered key and names the "
        "department as issuer.",
    ),
    Check(
        "CF-DELIVER-RECEIPT-BINDING", "deliver", ("SC-17 §6.6",), "must", _LIVE,
        "回执绑定请求摘要", "receipts bind the request digest",
        "每张回执中的信封摘要等于所投递信封原始字节的 SHA-256，报文标识与发送方一致。",
        "Every receipt carries the SHA-256 of the exact envelope bytes delivered and their message id "
        "and sender.",
    ),
    Check(
        "CF-DELIVER-CLAIMED", "deliver", ("SC-17 §6.1", "SC-17 §6.6"), "must", _LIVE,
        "所声明标准均可接收", "every claimed standard is received",
        "对清单声明且访问控制允许枢纽发送给该部门的每项标准，投递一条该标准的有效报文，均得到“接收”回执。",
        "For every standard the manifest claims and the ACL lets the hub send to the department, a valid "
        "envelope of that standard is delivered and gets an accepted receipt.",
    ),
    _neg(
        "TAMPERED", ("SC-17 §6.1", "SC-19 §4.1"), ("SIGNATURE_INVALID",),
        "篡改签名", "tampered signature",
        "签名被改动一个比特的信封须以 SIGNATURE_INVALID 拒收。",
        "An envelope whose signature has one bit flipped is refused with SIGNATURE_INVALID.",
    ),
    _neg(
        "UNSIGNED", ("SC-17 §6.1", "SC-19 §4.1"), ("SIGNATURE_MISSING",),
        "无签名", "unsigned envelope",
        "不带任何签名的信封须以 SIGNATURE_MISSING 拒收。",
        "An envelope that carries no signature is refused with SIGNATURE_MISSING.",
    ),
    _neg(
        "UNKNOWN-KEY", ("SC-17 §6.1", "SC-19 §4.2"), ("KEY_UNKNOWN",),
        "未登记密钥", "unknown key",
        "由信任配置中不存在的密钥签名的信封须以 KEY_UNKNOWN 拒收。",
        "An envelope signed with a key the trust configuration does not know is refused with KEY_UNKNOWN.",
    ),
    _neg(
        "REVOKED-KEY", ("SC-19 §4.2",), ("KEY_REVOKED",),
        "已吊销密钥", "revoked key",
        "由已吊销密钥签名的信封须以 KEY_REVOKED 拒收。",
        "An envelope signed with a revoked key is refused with KEY_REVOKED.",
    ),
    _neg(
        "RETIRED-KEY", ("SC-19 §4.2",), ("KEY_NOT_VALID", "KEY_REVOKED"),
        "刚失效的密钥", "key that lapsed a moment before",
        "由有效期刚刚结束（运行前片刻）的密钥签名的信封须以 KEY_NOT_VALID 拒收。",
        "An envelope signed with a key whose validity ended a moment before the run is refused with "
        "KEY_NOT_VALID.",
    ),
    _neg(
        "WRONG-ALGORITHM", ("SC-19 §4.1",), ("ALGORITHM_MISMATCH",),
        "算法不符", "wrong algorithm",
        "以与登记算法不同的算法签名、却声称登记密钥标识的信封须以 ALGORITHM_MISMATCH 拒收。",
        "An envelope signed with another algorithm than the one registered for the key id it names is "
        "refused with ALGORITHM_MISMATCH.",
    ),
    _neg(
        "PAYLOAD-TYPE", ("SC-17 §6.1",), ("PAYLOAD_TYPE_UNKNOWN",),
        "载荷类型不可接受", "unacceptable payload type",
        "载荷类型不是报文类型（例如声明为回执）的信封，即使签名有效，也须以 PAYLOAD_TYPE_UNKNOWN 拒收。",
        "An envelope whose payload type is not the message type (e.g. declared as a receipt) is refused "
        "with PAYLOAD_TYPE_UNKNOWN, even when its signature verifies.",
    ),
    _neg(
        "SENDER-KEY", ("SC-19 §4.2", "SC-17 §6.2"), ("SENDER_KEY_MISMATCH",),
        "发送方与签名密钥不符", "sender named with another node's key",
        "由枢纽密钥签名、却声明其他节点为发送方的报文须以 SENDER_KEY_MISMATCH 拒收。",
        "A message signed with the hub's key that names another node as its sender is refused with "
        "SENDER_KEY_MISMATCH.",
    ),
    _neg(
        "EXPIRED", ("SC-17 §6.3",), ("EXPIRED",),
        "过期报文", "expired message",
        "过期时间刚超出允许时钟偏差 60 秒的报文须以 EXPIRED 拒收（带更长宽限的适配器不通过）。",
        "A message that expired 60 s beyond the allowed clock skew is refused with EXPIRED (an adapter "
        "with any longer grace fails).",
    ),
    _neg(
        "NOT-YET-VALID", ("SC-17 §6.3",), ("NOT_YET_VALID",),
        "签发时间在未来", "issued in the future",
        "签发时间比当前时间晚、刚超出允许时钟偏差 60 秒的报文须以 NOT_YET_VALID 拒收。",
        "A message issued 60 s beyond the allowed clock skew in the future is refused with NOT_YET_VALID.",
    ),
    _neg(
        "REPLAYED", ("SC-17 §6.3",), ("REPLAYED",),
        "重放报文标识", "replayed message id",
        "在其间已投递 3 条其他报文之后，重复使用已接收报文标识、内容不同的信封须以 REPLAYED 拒收"
        "（只记住最近一个标识的适配器不通过）。",
        "A different envelope reusing a message id accepted 3 messages earlier is refused with REPLAYED "
        "(a replay cache of one fails).",
    ),
    _neg(
        "MISADDRESSED", ("SC-17 §6.4",), ("NOT_ADDRESSED_TO_US",),
        "接收方错误", "misaddressed",
        "接收方为其他节点的报文须以 NOT_ADDRESSED_TO_US 拒收。",
        "A message addressed to another node is refused with NOT_ADDRESSED_TO_US.",
    ),
    _neg(
        "UNKNOWN-STANDARD", ("SC-17 §6.2",), ("STANDARD_UNKNOWN",),
        "未知标准", "unknown standard",
        "声明不存在的标准编号的报文须以 STANDARD_UNKNOWN 拒收。",
        "A message naming a standard that does not exist is refused with STANDARD_UNKNOWN.",
    ),
    _neg(
        "UNKNOWN-VERSION", ("SC-17 §6.2",), ("VERSION_NOT_IN_FORCE", "STANDARD_UNKNOWN"),
        "未知版本", "unknown version",
        "声明不存在或不在有效期内的标准版本的报文须以 VERSION_NOT_IN_FORCE（或 STANDARD_UNKNOWN）拒收。",
        "A message naming a version that does not exist or is not in force is refused with "
        "VERSION_NOT_IN_FORCE (or STANDARD_UNKNOWN).",
    ),
    _neg(
        "SCHEMA-INVALID", ("SC-17 §6.5",), ("SCHEMA_INVALID",),
        "结构无效", "schema-invalid payload",
        "载荷不符合标准结构定义的报文须以 SCHEMA_INVALID 拒收。",
        "A message whose payload does not match the standard's schema is refused with SCHEMA_INVALID.",
    ),
    _neg(
        "RULE-VIOLATION", ("SC-17 §6.5", "SC-16 §4.1"), ("RULE_VIOLATION",),
        "违反业务规则", "semantic rule violated",
        "结构有效但违反业务规则（例如统一社会信用代码校验位错误）的报文须以 RULE_VIOLATION 拒收。",
        "A message whose payload matches the schema but breaks a semantic rule (e.g. a USCC with a wrong "
        "check character) is refused with RULE_VIOLATION.",
    ),
    _neg(
        "ACL-DENIED", ("SC-17 §6.4", "SC-19 §4.2"), ("ACL_DENIED",),
        "访问控制拒绝", "denied by the ACL",
        "访问控制不允许的发送方、标准或接收方组合的报文（由其他节点的密钥正确签名）须以 ACL_DENIED 拒收；"
        "对所提供密钥可构造的每种情形各发一条。",
        "A correctly signed message from another node whose sender, standard or recipient the ACL does not "
        "allow is refused with ACL_DENIED; one is sent for each shape the given peer keys can make.",
    ),
    _neg(
        "IDENTITY", ("SC-19 §4.4", "SC-17 §6.2"), ("IDENTITY_MISMATCH",),
        "传输身份不符", "another node's transport identity",
        "通过其他节点的双向 TLS 证书投递的有效报文须以 IDENTITY_MISMATCH 拒收。",
        "A valid envelope delivered over another node's mutual-TLS certificate is refused with "
        "IDENTITY_MISMATCH.",
    ),
    _neg(
        "OVERSIZED", ("SC-17 §6.1", "SC-17 §4.4"), ("TOO_LARGE",),
        "超过大小限制", "oversized envelope",
        "超过信任配置所定大小上限的信封须以 TOO_LARGE 拒收（或在传输层以 RESOURCE_EXHAUSTED 拒绝）。",
        "An envelope above the trust configuration's size limit is refused with TOO_LARGE (or refused by "
        "the transport with RESOURCE_EXHAUSTED).",
    ),
    Check(
        "CF-DELIVER-IDEMPOTENT", "idempotency", ("SC-17 §6.3", "SC-17 §6.6"), "must", _LIVE,
        "重复投递幂等", "idempotent redelivery",
        "同一信封投递两次，第二次得到与第一次相同的回执。",
        "Delivering the same envelope twice gets the same receipt the second time.",
    ),
    Check(
        "CF-LATENCY-SINGLE", "latency", ("SC-17 §6.7",), "must", _LIVE,
        "单次调用时延", "latency of single calls",
        "每次单独的 Describe 与 Deliver 调用在时延预算（默认 2 秒）内完成。",
        "Every single Describe and Deliver call completes within the latency budget (2 s by default).",
    ),
    Check(
        "CF-LATENCY-CONCURRENT", "latency", ("SC-17 §6.7",), "should", _LIVE,
        "并发调用时延", "latency under concurrency",
        "50 个并发 Deliver 调用全部被接收，且每个都在时延预算内完成。",
        "50 concurrent Deliver calls are all accepted, each within the latency budget.",
    ),
    Check(
        "CF-TLS-REQUIRED", "tls", ("SC-19 §4.4",), "must", _LIVE,
        "必须使用双向 TLS", "mutual TLS required",
        "适配器拒绝明文连接，也拒绝未出示客户端证书的 TLS 连接。",
        "The adapter refuses plaintext connections and TLS connections without a client certificate.",
    ),
    Check(
        "CF-TLS-NODE-CERT", "tls", ("SC-19 §4.4",), "must", _LIVE,
        "证书与节点一致", "certificate names the node",
        "适配器出示的服务器证书由联盟 CA 签发，恰好指明受认证部门的节点标识，并使用 TLS 1.3。",
        "The adapter's server certificate is issued by the federation's CA, names exactly the department's "
        "node id, and the connection uses TLS 1.3.",
    ),
    Check(
        "CF-TLS-FOREIGN-CA", "tls", ("SC-19 §4.4",), "must", _LIVE,
        "拒绝联盟外 CA 的证书", "certificates from a foreign CA are refused",
        "客户端证书指明受信任节点、但由联盟之外的 CA（主题与联盟 CA 相同）签发时，握手失败或投递被拒收。",
        "A client certificate naming a trusted node but issued by a CA outside the federation (with the "
        "federation CA's subject) fails the handshake or has its delivery refused.",
        ("IDENTITY_MISMATCH",),
    ),
)  # fmt: skip

_BY_ID: Final[dict[str, Check]] = {c.id: c for c in CATALOGUE}


def by_id(check_id: str) -> Check:
    """The check with this id (KeyError when there is none)."""
    return _BY_ID[check_id]


def checks_for(mode: Mode) -> Iterator[Check]:
    """The checks that run in `mode` (``live`` or ``export``), in catalogue order."""
    return (c for c in CATALOGUE if mode in c.modes)


def catalogue_digest() -> str:
    """SHA-256 (hex) of the catalogue as canonical JSON: what a certificate's suite version stands for."""
    doc = json.dumps(
        [c.to_json() for c in CATALOGUE], ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(doc.encode("utf-8")).hexdigest()
